// Session: one accepted connection, served by one coroutine on its own strand. It reads a request,
// has the Core run the Handler on the worker pool, writes the response, and loops (keep-alive) or
// closes; a streaming response (Server-Sent Events) ends the loop and holds the connection until the
// stream ends. The request loop is in session.cpp, the streaming in session_stream.cpp.
// Thread safety: everything in a Session (stream, buffer, parser, phase_) is used on its strand only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/connection.hpp"
#include "http/message.hpp"
#include "http/wire.hpp"

namespace ticketd::http::detail {

class Core;

// ---- Session: one connection ------------------------------------------------------------------

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Core& core, uint64_t id, tcp::socket socket, std::string remote_address, asio::ssl::context* tls);

  static asio::awaitable<void> run(std::shared_ptr<Session> self);
  asio::any_io_executor executor() { return stream_.get_executor(); }

  // On the session's strand. stop() calls it: a connection waiting for (or in the middle of
  // receiving) a request is closed; one whose request is being handled finishes first.
  void cancel_if_reading() {
    if (phase_ == Phase::reading) stream_.socket_stream().cancel();
    if (phase_ == Phase::streaming) {
      if (wake_timer_) wake_timer_->cancel();
      stream_.socket_stream().cancel();
    }
  }

  // After the drain deadline. REQUIRES: no thread runs the io_context, so nothing else touches the
  // session (a finishing handler only queues the session's continuation, which never runs).
  void abort() { stream_.socket_stream().close(); }

 private:
  enum class Phase { reading, busy, streaming, closing };
  enum class ReadStatus { complete, refused, closed };

  // session.cpp: the request loop.
  asio::awaitable<void> serve();
  asio::awaitable<bool> wait_for_request();
  asio::awaitable<ReadStatus> read_request();
  asio::awaitable<bool> send_continue_if_expected();
  asio::awaitable<Response> dispatch(Request& request);
  // The InlineHandler's answer (at once, or when its Reply comes), or nullopt when it passed.
  asio::awaitable<std::optional<Response>> answer_inline(Request& request);
  // Whether the Preparer made ready what answer_inline lacked (see message.hpp), waited for here.
  asio::awaitable<bool> prepared_inline(const Request& request);
  asio::awaitable<bool> write_response(Response response, Framing framing);
  ReadStatus read_failed(beast::error_code ec);
  std::optional<Response> refusal_for(beast::error_code ec);
  Request take_request();
  Framing framing_of_request() const;
  // session_stream.cpp: a streaming response.
  asio::awaitable<void> stream_events(Response response, Framing framing);
  asio::awaitable<bool> write_stream_bytes(const std::string& bytes);
  asio::awaitable<void> watch_peer(std::shared_ptr<Session> self);

  Core& core_;
  const uint64_t id_;
  const std::string remote_address_;
  Connection stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // fresh for every request
  std::optional<Response> refusal_;  // what read_request() answers a refused request with
  Phase phase_ = Phase::reading;
  asio::steady_timer* wake_timer_ = nullptr;  // while streaming: the idle wait a wake cuts short
  bool peer_gone_ = false;                     // while streaming: the client closed or reset
};

}  // namespace ticketd::http::detail
