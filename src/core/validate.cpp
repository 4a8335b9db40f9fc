#include "core/validate.hpp"

#include <algorithm>

#include "core/limits.hpp"

namespace ticketd::core {

namespace {
Error invalid(const std::string& field, const std::string& why) {
  return make_error(Code::InvalidRequest, field + ": " + why);
}
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}
}  // namespace

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

Status validate_new_event(const Event& e, const Layout& layout) {
  if (e.name.empty() || e.name.size() > limits::name_bytes_max || !valid_utf8(e.name))
    return invalid("name", "1-200 bytes of UTF-8 required");
  if (e.currency.size() != 3 || !std::all_of(e.currency.begin(), e.currency.end(),
                                             [](char c) { return c >= 'A' && c <= 'Z'; }))
    return invalid("currency", "three capital letters (ISO 4217) required");
  if (e.on_sale_at >= e.starts_at) return invalid("on_sale_at", "must be before starts_at");
  if (e.max_tickets_per_user < 1 || e.max_tickets_per_user > limits::tickets_per_user_max)
    return invalid("max_tickets_per_user", "1-100 required");
  for (const auto& [tier, price] : e.prices)
    if (price < 0 || price > limits::price_minor_max) return invalid("prices." + tier, "0-100000000 required");
  for (const SectionSpec& s : layout.spec().sections)
    if (!e.prices.contains(s.price_tier)) return invalid("prices", "no price for tier '" + s.price_tier + "'");
  return ok_status();
}

Status validate_email(std::string_view email) {
  if (email.size() < 3 || email.size() > limits::email_bytes_max) return invalid("email", "3-254 bytes required");
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() || email.find('@', at + 1) != std::string_view::npos)
    return invalid("email", "one '@' between a local part and a domain required");
  for (unsigned char c : email)
    if (c <= ' ' || c == 0x7f) return invalid("email", "no spaces or control characters");
  if (!valid_utf8(email)) return invalid("email", "UTF-8 required");
  return ok_status();
}

Status validate_password(std::string_view password) {
  if (password.size() < limits::password_bytes_min || password.size() > limits::password_bytes_max)
    return invalid("password", "8-128 bytes required");
  return ok_status();
}

Status validate_person_name(std::string_view name) {
  if (name.empty() || name.size() > limits::name_bytes_max || !valid_utf8(name))
    return invalid("name", "1-200 bytes of UTF-8 required");
  return ok_status();
}

Status validate_idempotency_key(std::string_view key) {
  if (key.empty()) return make_error(Code::MissingIdempotencyKey, "the Idempotency-Key header is required");
  if (key.size() > limits::idempotency_key_bytes_max)
    return invalid("Idempotency-Key", "1-255 printable ASCII characters required");
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e) return invalid("Idempotency-Key", "1-255 printable ASCII characters required");
  return ok_status();
}

}  // namespace ticketd::core
