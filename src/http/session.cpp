// Session's request loop (see session.hpp): wait for a request, read it under the limits, dispatch it
// to the worker pool, write the response, and close or go round again.

// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <exception>
#include <utility>

#include "base/assert.hpp"
#include "http/listener.hpp"
#include "http/log_limiter.hpp"
#include "http/reply_slot.hpp"
#include "http/server_config.hpp"

namespace ticketd::http::detail {

namespace {

// Beast reads at most this much per step; a connection's buffer holds up to header_bytes_max plus
// one step, and the parser refuses an oversized header before the buffer overflows.
constexpr size_t beast_read_step_bytes = size_t{64} * 1024;
// The read that waits for a new request is small, and a buffer grown past idle_buffer_bytes_max by
// an earlier large request is released while idle: 10,000 idle connections must stay cheap.
constexpr size_t idle_read_bytes = size_t{2} * 1024;
constexpr size_t idle_buffer_bytes_max = size_t{16} * 1024;
static_assert(idle_read_bytes <= header_bytes_min + beast_read_step_bytes);
static_assert(idle_read_bytes <= idle_buffer_bytes_max);

// A request handed to the pool; it stops counting as pending once a worker picks it up.
asio::awaitable<Response> run_on_worker(Core& core, const Request& request) {
  core.release_pending();
  co_return core.invoke_handler(request);
}

}  // namespace

Session::Session(Core& core, uint64_t id, tcp::socket socket, std::string remote_address, asio::ssl::context* tls)
    : core_(core),
      id_(id),
      remote_address_(std::move(remote_address)),
      stream_(std::move(socket), tls),
      // Holds at most an over-limit header plus one read; the parser refuses before it fills.
      buffer_(core.config().header_bytes_max + beast_read_step_bytes) {}

asio::awaitable<void> Session::run(std::shared_ptr<Session> self) {
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    self->core_.log("session " + std::to_string(self->id_) + " failed: " + one_line(e.what()));
  } catch (...) {
    self->core_.log("session " + std::to_string(self->id_) + " failed: unknown exception");
  }
  self->phase_ = Phase::closing;
  beast::error_code ec;
  self->stream_.socket_stream().socket().shutdown(tcp::socket::shutdown_both, ec);
  self->stream_.socket_stream().close();
  self->core_.session_finished(self->id_);
}

// The request loop. A streaming response (Server-Sent Events) ends it: stream_events() writes the
// head and then the events until the source ends, the client leaves or stop() cancels, and the
// connection closes.
asio::awaitable<void> Session::serve() {
  if (!co_await stream_.start(core_.config().read_timeout)) {
    core_.counters().tls_handshake_failures_total++;
    co_return;
  }
  for (;;) {
    if (!co_await wait_for_request()) co_return;
    const ReadStatus status = co_await read_request();
    if (status == ReadStatus::closed) co_return;
    if (status == ReadStatus::refused) {
      // After a parse error the position in the byte stream is unknown: answer, then close.
      TICKETD_ASSERT(refusal_.has_value());
      if (co_await write_response(std::move(*refusal_), Framing{})) {
        phase_ = Phase::closing;
        co_await linger_close(stream_, linger_timeout, linger_bytes_max);
      }
      co_return;
    }
    Framing framing = framing_of_request();
    Request request = take_request();
    Response response = co_await dispatch(request);
    if (response.stream && response.status == 200 && !framing.head) {
      if (std::optional<Response> refused = core_.try_reserve_stream(remote_address_)) {
        framing.keep_alive = false;  // the stream's own slot was refused: so is the connection's
        if (co_await write_response(std::move(*refused), framing)) {
          phase_ = Phase::closing;
          co_await linger_close(stream_, linger_timeout, linger_bytes_max);
        }
        co_return;
      }
      co_await stream_events(std::move(response), framing);
      core_.release_stream(remote_address_);
      co_return;
    }
    response.stream.reset();
    framing.keep_alive = framing.keep_alive && !core_.stopping();
    if (!co_await write_response(std::move(response), framing)) co_return;
    if (!framing.keep_alive) {
      phase_ = Phase::closing;
      co_await linger_close(stream_, linger_timeout, linger_bytes_max);
      co_return;
    }
  }
}

// Waits for the first byte of the next request under idle_timeout. False: close without a word
// (the peer closed, it idled too long, or stop() cancelled the wait).
asio::awaitable<bool> Session::wait_for_request() {
  phase_ = Phase::reading;
  // stop() may have come while this connection was busy; cancel_if_reading() ran too early for it.
  if (core_.stopping()) co_return false;
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
  if (buffer_.capacity() > idle_buffer_bytes_max) buffer_.shrink_to_fit();
  stream_.socket_stream().expires_after(core_.config().idle_timeout);
  auto [ec, bytes] = co_await stream_.async_read_some(buffer_.prepare(idle_read_bytes), as_result);
  if (ec) co_return false;
  buffer_.commit(bytes);
  co_return true;
}

asio::awaitable<Session::ReadStatus> Session::read_request() {
  const ServerConfig& config = core_.config();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(config.header_bytes_max));
  parser_->body_limit(config.body_bytes_max);
  // One deadline for the whole request, so a client trickling bytes (slowloris) cannot hold the
  // connection longer than read_timeout.
  stream_.socket_stream().expires_after(config.read_timeout);
  auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, as_result);
  if (header_ec) co_return read_failed(header_ec);
  if (parser_->get().target().size() > config.target_bytes_max) {
    core_.counters().requests_uri_too_long_total++;
    refusal_ = transport_error(HttpError::uri_too_long,
                              "request target exceeds " + std::to_string(config.target_bytes_max) + " bytes");
    co_return ReadStatus::refused;
  }
  if (!co_await send_continue_if_expected()) co_return ReadStatus::closed;
  auto [body_ec, body_bytes] = co_await bhttp::async_read(stream_, buffer_, *parser_, as_result);
  if (body_ec) co_return read_failed(body_ec);
  TICKETD_ASSERT(parser_->is_done());
  co_return ReadStatus::complete;
}

// Clients that sent "Expect: 100-continue" (curl does for bodies over 1 KiB) wait for this before
// sending the body. Written under the request's read deadline, which it is part of.
asio::awaitable<bool> Session::send_continue_if_expected() {
  const auto& message = parser_->get();
  if (message.version() < 11 || parser_->is_done()) co_return true;
  if (!beast::iequals(message[bhttp::field::expect], "100-continue")) co_return true;
  bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
  auto [ec, bytes] = co_await bhttp::async_write(stream_, go_on, as_result);
  co_return !ec;
}

Session::ReadStatus Session::read_failed(beast::error_code ec) {
  TICKETD_ASSERT(ec);
  if (ec == beast::error::timeout) {
    core_.counters().read_timeouts_total++;
    return ReadStatus::closed;
  }
  std::optional<Response> refusal = refusal_for(ec);
  if (!refusal) return ReadStatus::closed;
  refusal_ = std::move(*refusal);
  return ReadStatus::refused;
}

// The answer to a request the parser refused, or nullopt when nobody is left to answer (the peer
// closed or reset, or stop() cancelled the read).
std::optional<Response> Session::refusal_for(beast::error_code ec) {
  const Refusal refusal = classify_refusal(ec, parser_->get().target().size(), core_.config());
  Counters& counters = core_.counters();
  switch (refusal) {
    case Refusal::none: return std::nullopt;
    case Refusal::body_too_large: counters.requests_body_too_large_total++; break;
    case Refusal::uri_too_long: counters.requests_uri_too_long_total++; break;
    case Refusal::headers_too_large: counters.requests_headers_too_large_total++; break;
    case Refusal::malformed: counters.requests_malformed_total++; break;
  }
  return refusal_response(refusal, core_.config());
}

Framing Session::framing_of_request() const {
  const auto& message = parser_->get();
  Framing framing;
  framing.version = message.version() >= 11 ? 11 : 10;
  framing.head = message.method() == bhttp::verb::head;
  framing.keep_alive = parser_->keep_alive();
  return framing;
}

Request Session::take_request() { return to_request(parser_->get(), remote_address_); }

// A request waiting for its Reply (a hold waiting for its commit) holds a pending slot like one
// waiting for a worker: pending_requests_max bounds both, and so the commit writer's queue.
asio::awaitable<Response> Session::dispatch(Request& request) {
  phase_ = Phase::busy;
  if (!core_.try_reserve_pending()) {
    core_.counters().requests_overloaded_total++;
    co_return overloaded_response();
  }
  core_.counters().requests_total++;
  // What needs nothing that blocks is answered on this strand: no hop to the pool and back.
  if (std::optional<Response> answer = co_await answer_inline(request)) {
    core_.release_pending();
    co_return std::move(*answer);
  }
  // What it lacked made ready without a worker (a session read), then asked again here. Still pending
  // meanwhile, as a request waiting for a worker is: pending_requests_max bounds these too.
  if (co_await prepared_inline(request)) {
    request.prepared = true;
    if (std::optional<Response> answer = co_await answer_inline(request)) {
      core_.release_pending();
      co_return std::move(*answer);
    }
  }
  // Runs the handler on the pool; the completion brings this coroutine back to its own strand.
  auto [error, response] = co_await asio::co_spawn(core_.workers(), run_on_worker(core_, request), as_result);
  if (error) co_return internal_error_response();  // run_on_worker itself failed (out of memory)
  co_return std::move(response);
}

asio::awaitable<bool> Session::prepared_inline(const Request& request) {
  if (!core_.prepares_inline()) co_return false;
  auto slot = std::make_shared<ReadySlot>(core_.reply_gate(), executor());
  if (!core_.prepare_inline(request, slot->callback())) co_return false;
  std::optional<bool> ready = slot->take_if_ready();
  if (!ready) ready = co_await slot->async_wait(asio::use_awaitable);
  co_return *ready;
}

asio::awaitable<std::optional<Response>> Session::answer_inline(Request& request) {
  auto slot = std::make_shared<ReplySlot>(core_.reply_gate(), executor());
  if (!core_.answer_inline(request, slot->reply())) co_return std::nullopt;
  core_.counters().requests_inline_total++;
  std::optional<ResponseMaker> make = slot->take_if_ready();
  if (!make) make = co_await slot->async_wait(asio::use_awaitable);
  try {
    co_return (*make)();
  } catch (const std::exception& e) {
    core_.handler_threw("inline answer", request, e.what());
  }
  co_return internal_error_response();
}

asio::awaitable<bool> Session::write_response(Response response, Framing framing) {
  phase_ = Phase::busy;
  if (response.status < 200 || response.status > 599) {
    core_.log("handler returned invalid status " + std::to_string(response.status) + "; sending 500");
    response = internal_error_response();
  }
  WireResponse message = to_wire(std::move(response), framing);
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [ec, bytes] = co_await bhttp::async_write(stream_, message, as_result);
  if (ec == beast::error::timeout) core_.counters().write_timeouts_total++;
  co_return !ec;
}

}  // namespace ticketd::http::detail
