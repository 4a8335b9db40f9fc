// The whole embedded ticketd stack (SQLite store in a temporary directory, every use case, the real
// Api) built once per fuzzer process, the way `ticketd serve` wires it, minus sockets and background
// threads. Fuzz targets send it Requests and check the answers.
//
// State: made once, on first use, and kept for the process, as a server keeps its state between
// requests. It holds an administrator and a buyer with live sessions, a venue, an on-sale event
// without a waiting room and one with a room whose draw has happened. Inputs may add to it (venues,
// holds, bookings); nothing an input does can remove what is listed here.
//
// Thread safety: single-threaded use only (libFuzzer calls one input at a time).
#pragma once

#include <cstdint>
#include <string>

#include "app/queue_tokens.hpp"
#include "core/types.hpp"
#include "http/api.hpp"

namespace ticketd::fuzz {

struct ApiFixture {
  http::Api* api = nullptr;
  const app::TokenKeys* queue_keys = nullptr;
  std::string admin_token;   // bearer session of the administrator
  std::string buyer_token;   // bearer session of an ordinary user
  core::UserId buyer_id = 0;
  core::VenueId venue_id = 0;
  core::EventId open_event = 0;    // on sale, no waiting room
  core::EventId queued_event = 0;  // on sale behind a waiting room
  std::string webhook_secret;      // the Stripe endpoint secret the webhook route verifies with
};

// REQUIRES: single-threaded caller. Aborts if the stack cannot be built (a broken fuzzer, not a finding).
const ApiFixture& api_fixture();

// Traps unless the answer is one a client may get for any input: a status of 200..499 or 503, and a
// JSON body that parses when the content type says JSON. A 500 means a handler failed on some input.
void check_response(const http::Request& request, const http::Response& response);

}  // namespace ticketd::fuzz
