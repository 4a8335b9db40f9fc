// HTTP/1.1 transport on Boost.Beast with C++20 coroutines, after Beast's
// example/http/server/awaitable and example/advanced/server. This file is its public face: Server
// forwards to a Core behind the pimpl.
//
// Shape: Core owns the io_context, the worker pool and the listening socket. Its accept loop runs on
// the control strand and only accepts; each connection becomes a Session (socket, buffer, parser) whose
// coroutine runs on its own strand and reads, dispatches and writes one request at a time. The Handler
// runs on the worker pool; the session coroutine awaits it and resumes on its strand.
//
// Parts, one concern a file (internal, in namespace detail):
//   listener.*          Core: acceptor, accept loop, admission and refusal, worker pool, stream slots,
//                       run/stop/drain, stats
//   session.*           Session: the request loop (read, dispatch, write)
//   session_stream.cpp  the Session's streaming responses (SSE)
//   connection.*        the byte stream (plain TCP or TLS), TLS context, lingering close, TCP keepalive
//   wire.*              Beast messages <-> message.hpp values, refusals, the transport's error bodies,
//                       and parse_request
//   server_config.*     ServerConfig's bounds and derived defaults
//   log_limiter.*       the rate-limited stderr log
//
// Threads and guards:
//   control strand  accept loop, acceptor, drain and back-off timers, signal_set, next_session_id_
//   session strand  everything in a Session (stream, buffer, parser, phase_)
//   sessions_mutex_ the registry stop() walks to close idle connections (no I/O under it)
//   atomics         counters, connections_, pending_, stopping_

// Asio fences its handler-memory recycling with std::atomic_thread_fence, which GCC 12 flags under
// -fsanitize=thread (-Wtsan: TSan cannot model fences) at inlining sites in the transport's files,
// outside the system-header exemption; -Werror would fail the TSan build on third-party code. Each of
// them that includes Asio carries this guard.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/server.hpp"

#include <utility>

#include "http/listener.hpp"

namespace ticketd::http {

// ---- Server: the public face ------------------------------------------------------------------

struct Server::Impl {
  Impl(ServerConfig config, Handler handler, InlineHandler answer_inline, Preparer prepare_inline)
      : core(std::move(config), std::move(handler), std::move(answer_inline), std::move(prepare_inline)) {}
  detail::Core core;
};

Server::Server(ServerConfig config, Handler handler, InlineHandler answer_inline, Preparer prepare_inline)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler), std::move(answer_inline),
                                   std::move(prepare_inline))) {}

Server::~Server() = default;

uint16_t Server::port() const {
  return impl_->core.port();
}

void Server::run() {
  impl_->core.run();
}

void Server::stop() {
  impl_->core.stop();
}

ServerStats Server::stats() const {
  return impl_->core.stats();
}

}  // namespace ticketd::http
