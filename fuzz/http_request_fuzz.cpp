// Target: raw bytes off a connection. They go through the transport's own parser and limits
// (http::parse_request, what a Session runs), and every request that parses goes through the real
// router and handlers on the embedded store (fuzz/support/api_fixture.hpp). Up to four pipelined
// requests per input, as a keep-alive connection would carry them.
//
// So that the fuzzer reaches past authentication, "Bearer admin" and "Bearer buyer" in an
// Authorization header stand for the fixture's live sessions.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fuzz/support/api_fixture.hpp"
#include "http/server.hpp"

namespace {

constexpr int kPipelinedRequestsMax = 4;

void substitute_sessions(ticketd::http::Request& request, const ticketd::fuzz::ApiFixture& f) {
  for (auto& h : request.headers) {
    if (h.name != "authorization") continue;
    if (h.value == "Bearer admin") h.value = "Bearer " + f.admin_token;
    else if (h.value == "Bearer buyer") h.value = "Bearer " + f.buyer_token;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ticketd::fuzz::ApiFixture& f = ticketd::fuzz::api_fixture();
  const ticketd::http::ServerConfig config;  // the limits ticketd serves with
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < kPipelinedRequestsMax && !rest.empty(); ++i) {
    ticketd::http::ParsedRequest parsed = ticketd::http::parse_request(rest, config);
    if (parsed.refusal) {
      const int s = parsed.refusal->status;
      if (s != 400 && s != 413 && s != 414 && s != 431) {
        std::fprintf(stderr, "fuzz: parser refusal with status %d\n", s);
        __builtin_trap();
      }
      return 0;
    }
    if (!parsed.request) return 0;  // incomplete: a live server would wait for more bytes
    if (parsed.bytes_consumed == 0 || parsed.bytes_consumed > rest.size()) __builtin_trap();
    substitute_sessions(*parsed.request, f);
    const ticketd::http::Response response = f.api->handle(*parsed.request);
    ticketd::fuzz::check_response(*parsed.request, response);
    if (!parsed.keep_alive) return 0;
    rest.remove_prefix(parsed.bytes_consumed);
  }
  return 0;
}
