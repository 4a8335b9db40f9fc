#include "core/validate.hpp"

#include <algorithm>

#include "core/event_edit.hpp"
#include "core/limits.hpp"

namespace ticketd::core {

namespace {
Error invalid(const std::string& field, const std::string& why) {
  return make_error(Code::InvalidRequest, field + ": " + why);
}
}  // namespace

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
  return validate_event_text(e.description, e.image_url);
}

namespace {

// RFC 5322 atext, plus any non-ASCII byte (RFC 6531: UTF-8 in the local part; checked as UTF-8 above).
bool atext(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A dot-atom: atext runs separated by single dots, none at either end.
bool dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || atext(static_cast<unsigned char>(c)); });
}

// Two or more labels of letters, digits and hyphens (or UTF-8: internationalised names), 1-63 bytes,
// no hyphen at either end of a label.
bool domain_name(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  size_t start = 0;
  while (start <= d.size()) {
    const size_t dot = std::min(d.find('.', start), d.size());
    const std::string_view label = d.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label)
      if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
        return false;
    start = dot + 1;
  }
  return true;
}

}  // namespace

Status validate_email(std::string_view email) {
  if (email.size() < 3 || email.size() > limits::email_bytes_max) return invalid("email", "3-254 bytes required");
  if (!valid_utf8(email)) return invalid("email", "UTF-8 required");
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || email.find('@') != at)
    return invalid("email", "one address, like name@example.com, required");
  const std::string_view local = email.substr(0, at);
  if (local.empty() || local.size() > 64 || !dot_atom(local))
    return invalid("email", "the part before '@' may hold letters, digits and . ! # $ % & ' * + - / = ? ^ _ ` { | } ~");
  if (!domain_name(email.substr(at + 1))) return invalid("email", "the part after '@' must be a domain like example.com");
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
