#include "store/redis/session_bus.hpp"

#include <charconv>

namespace ticketd::store::redis {

namespace {
constexpr size_t kTokenHashHexBytes = 64;  // SHA-256, hex (app/password.hpp)

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
}  // namespace

void RedisSessionBus::token_ended(const std::string& token_hash) {
  (void)redis_.command({"PUBLISH", redis_.session_channel(), "t " + token_hash});
}

void RedisSessionBus::user_changed(core::UserId user) {
  (void)redis_.command({"PUBLISH", redis_.session_channel(), "u " + std::to_string(user)});
}

bool apply_session_message(const std::string& text, core::SessionNews& news) {
  if (text.size() < 3 || text[1] != ' ') return false;
  const std::string_view rest = std::string_view(text).substr(2);
  if (text[0] == 't') {
    if (rest.size() != kTokenHashHexBytes || !is_lower_hex(rest)) return false;
    news.token_ended_elsewhere(std::string(rest));
    return true;
  }
  if (text[0] == 'u') {
    core::UserId user = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), user);
    if (ec != std::errc() || end != rest.data() + rest.size() || user <= 0) return false;
    news.user_changed_elsewhere(user);
    return true;
  }
  return false;
}

}  // namespace ticketd::store::redis
