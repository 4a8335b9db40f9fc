// Target: the tokens a client presents. Waiting-room tokens (app::TokenKeys: decode, verify_access)
// and session tokens (Accounts::authenticate behind "Authorization: Bearer", through the real API on
// the embedded store). Input layout: byte 0 picks the mode, the rest is the token or claims.
//   0: the bytes as a queue/access token: decode and verify; whatever decodes must be exactly what
//      sign() makes of its claims (no second spelling of a token).
//   1: claims from the bytes, signed with the fixture's key: decode gives them back, verify_access
//      answers as the rules say, and a token with any one character changed is refused.
//   2: the bytes as a bearer session token, an access token and a queue token, over HTTP.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "app/queue_tokens.hpp"
#include "fuzz/support/api_fixture.hpp"

namespace {

using ticketd::app::TokenClaims;
using ticketd::app::TokenKind;
using ticketd::app::TokenProblem;

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz: %s\n", what);
  __builtin_trap();
}

const ticketd::app::TokenKeys& keys() {
  // Two secrets: the first signs, both verify (a rotation in progress).
  static const ticketd::app::TokenKeys k({"fuzz-token-secret-0123456789abcdef", "fuzz-older-secret-0123456789abcdef"});
  return k;
}

void decode_bytes(std::string_view token) {
  TokenClaims claims;
  if (keys().decode(token, claims)) {
    require(claims.kind == TokenKind::Access || claims.kind == TokenKind::Queue, "decoded an unknown kind");
    // Only the first key signs, so only its tokens can be compared with a fresh signature.
    TokenClaims first;
    if (keys().decode(keys().sign(claims), first) && first.key_id == claims.key_id)
      require(keys().sign(claims) == token, "a token decoded that sign() would spell differently");
  }
  TokenProblem problem = TokenProblem::Missing;
  const ticketd::TimeMs now = ticketd::from_unix_ms(1'800'000'000'000);
  auto verified = keys().verify_access(token, 1, 1, now, problem);
  if (verified) require(verified->kind == TokenKind::Access && verified->expires_at > now, "verify_access let through");
}

void round_trip(FuzzedDataProvider& in) {
  TokenClaims claims;
  claims.kind = in.ConsumeBool() ? TokenKind::Access : TokenKind::Queue;
  claims.event = in.ConsumeIntegral<int64_t>();
  claims.user = in.ConsumeIntegral<int64_t>();
  claims.expires_at = ticketd::from_unix_ms(in.ConsumeIntegral<int64_t>());
  const ticketd::core::EventId event = in.ConsumeBool() ? claims.event : in.ConsumeIntegral<int64_t>();
  const ticketd::core::UserId user = in.ConsumeBool() ? claims.user : in.ConsumeIntegral<int64_t>();
  const ticketd::TimeMs now = ticketd::from_unix_ms(in.ConsumeIntegral<int64_t>());
  const std::string token = keys().sign(claims);
  require(token.size() <= ticketd::app::TokenKeys::kTokenBytesMax, "a signed token is longer than accepted");

  TokenClaims back;
  require(keys().decode(token, back), "a signed token does not decode");
  require(back.kind == claims.kind && back.event == claims.event && back.user == claims.user &&
              back.expires_at == claims.expires_at, "decode changed the claims");

  TokenProblem problem = TokenProblem::Missing;
  const bool ok = static_cast<bool>(keys().verify_access(token, event, user, now, problem));
  const bool expected = claims.kind == TokenKind::Access && claims.event == event && claims.user == user &&
                        claims.expires_at > now;
  require(ok == expected, "verify_access disagrees with the rules");

  std::string tampered = token;
  const size_t at = in.ConsumeIntegralInRange<size_t>(0, tampered.size() - 1);
  const char replacement = static_cast<char>(in.ConsumeIntegral<uint8_t>());
  if (replacement == tampered[at]) return;
  tampered[at] = replacement;
  TokenClaims forged;
  if (keys().decode(tampered, forged)) {
    std::fprintf(stderr, "fuzz: signed %s\nfuzz: changed %s (at %zu)\n", token.c_str(), tampered.c_str(), at);
    require(false, "a token with a changed character decoded");
  }
}

std::string percent_encoded(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void over_http(std::string_view bytes) {
  const ticketd::fuzz::ApiFixture& f = ticketd::fuzz::api_fixture();
  const std::string token(bytes);
  ticketd::http::Request me{"GET", "/v1/me", {{"authorization", "Bearer " + token}}, "", "127.0.0.1"};
  const ticketd::http::Response who = f.api->handle(me);
  ticketd::fuzz::check_response(me, who);
  if (token != f.admin_token && token != f.buyer_token) require(who.status == 401, "an unknown session was accepted");

  const std::string queued = std::to_string(f.queued_event);
  ticketd::http::Request status{"GET", "/v1/events/" + queued + "/queue/" + percent_encoded(bytes), {}, "", "127.0.0.1"};
  ticketd::fuzz::check_response(status, f.api->handle(status));

  ticketd::http::Request hold{"POST", "/v1/events/" + queued + "/holds",
                              {{"authorization", "Bearer " + f.buyer_token},
                               {"content-type", "application/json"},
                               {"x-access-token", token}},
                              R"({"quantity":1})", "127.0.0.1"};
  const ticketd::http::Response held = f.api->handle(hold);
  ticketd::fuzz::check_response(hold, held);
  require(held.status != 201, "a hold behind the waiting room without a signed access token");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: decode_bytes(rest); break;
    case 1: {
      FuzzedDataProvider in(data + 1, size - 1);
      round_trip(in);
      break;
    }
    default: over_http(rest); break;
  }
  return 0;
}
