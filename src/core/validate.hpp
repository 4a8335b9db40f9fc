// Validation of user input that belongs to the domain's rules (not to a wire format).
#pragma once

#include <string>
#include <string_view>

#include "core/layout.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

Status validate_new_event(const Event& event, const Layout& layout);
Status validate_email(std::string_view email);
Status validate_password(std::string_view password);
Status validate_person_name(std::string_view name);
Status validate_idempotency_key(std::string_view key);
std::string lower_ascii(std::string_view s);
bool valid_utf8(std::string_view s);

}  // namespace ticketd::core
