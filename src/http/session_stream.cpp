// Session's streaming responses (Server-Sent Events; see session.hpp): the head, then the events
// until the source ends, the client leaves or stop() cancels, with a heartbeat while idle and a watch
// on the socket that notices a client leaving at once.

// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <utility>

#include "http/listener.hpp"
#include "http/log_limiter.hpp"

namespace ticketd::http::detail {

namespace {

// Runs EventStream::next where it may block (a snapshot reads the store).
asio::awaitable<EventStream::Next> next_on_worker(Core& core, std::shared_ptr<EventStream> source, std::string& out) {
  core.release_pending();
  try {
    co_return source->next(out, true);
  } catch (const std::exception& e) {
    core.log("event stream failed: " + one_line(e.what()));
  }
  co_return EventStream::Next::end;
}

}  // namespace

// One coroutine per stream, no thread: an idle subscriber costs this frame, a timer and its socket.
// The source wakes it through a post to the session's strand that cancels the idle wait.
asio::awaitable<void> Session::stream_events(Response response, Framing framing) {
  phase_ = Phase::streaming;
  const std::shared_ptr<EventStream> source = std::move(response.stream);
  bhttp::response<bhttp::empty_body> head;
  head.version(framing.version);
  head.result(bhttp::status::ok);
  head.set(bhttp::field::server, "ticketd");
  if (!response.content_type.empty()) head.set(bhttp::field::content_type, response.content_type);
  for (const Header& header : response.headers) {
    if (header_allowed(header)) head.insert(header.name, header.value);
  }
  head.keep_alive(false);  // no Content-Length: the body ends when the connection does
  bhttp::response_serializer<bhttp::empty_body> serializer(head);
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [head_ec, head_bytes] = co_await bhttp::async_write_header(stream_, serializer, as_result);
  if (head_ec) co_return;
  // Nothing more is read from this connection: give back the request buffer.
  buffer_.consume(buffer_.size());
  buffer_.shrink_to_fit();
  Counters& counters = core_.counters();
  counters.streams_open++;
  counters.streams_total++;
  asio::steady_timer timer(stream_.get_executor());
  wake_timer_ = &timer;
  tune_keepalive(stream_.socket_stream().socket());
  asio::co_spawn(executor(), watch_peer(shared_from_this()), asio::detached);
  const std::weak_ptr<Session> weak = weak_from_this();
  const auto wake = [weak] {
    std::shared_ptr<Session> self = weak.lock();
    if (!self) return;
    asio::post(self->executor(), [self] {
      if (self->wake_timer_) self->wake_timer_->cancel();
    });
  };
  std::string out;
  while (!core_.stopping()) {
    out.clear();
    EventStream::Next next = source->next(out, false);
    if (next == EventStream::Next::needs_worker) {
      if (!core_.try_reserve_pending()) {
        counters.requests_overloaded_total++;
        break;  // the client reconnects (with Last-Event-ID) when we are less busy
      }
      auto [error, result] = co_await asio::co_spawn(core_.workers(), next_on_worker(core_, source, out), as_result);
      next = error ? EventStream::Next::end : result;
    }
    if (next == EventStream::Next::end) break;
    if (next == EventStream::Next::data) {
      if (!co_await write_stream_bytes(out)) break;
      continue;
    }
    if (!source->arm(wake)) continue;
    if (peer_gone_) break;
    timer.expires_after(core_.config().stream_heartbeat);
    auto [wait_ec] = co_await timer.async_wait(as_result);
    if (core_.stopping() || peer_gone_) break;
    if (!wait_ec && !co_await write_stream_bytes(": hb\n\n")) break;  // idle: keep proxies from closing it
  }
  if (peer_gone_) counters.streams_peer_gone_total++;
  wake_timer_ = nullptr;
  // Ends the watcher's wait (it holds this session alive until it returns).
  beast::error_code ignored;
  stream_.socket_stream().socket().cancel(ignored);
  counters.streams_open--;
}

// While a stream is served nothing more is read, so a client that leaves would go unnoticed until a
// heartbeat write failed (up to stream_heartbeat, holding its slot). The socket turning readable
// (FIN, RST, or bytes an SSE client never sends) ends the stream at once. A reactor wait, not a read:
// it consumes nothing and runs beside the writes.
// `self` keeps the session (and its socket) alive until the wait returns.
asio::awaitable<void> Session::watch_peer(std::shared_ptr<Session> self) {
  auto [ec] = co_await self->stream_.socket_stream().socket().async_wait(tcp::socket::wait_read, as_result);
  if (ec == asio::error::operation_aborted) co_return;  // the stream ended first
  peer_gone_ = true;
  if (wake_timer_) wake_timer_->cancel();
}

asio::awaitable<bool> Session::write_stream_bytes(const std::string& bytes) {
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(bytes), as_result);
  if (ec == beast::error::timeout) core_.counters().write_timeouts_total++;
  co_return !ec;
}

}  // namespace ticketd::http::detail
