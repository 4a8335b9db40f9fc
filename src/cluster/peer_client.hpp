// Calls from this node to another (the owner of an event): an HTTP POST of a JSON body to
// <scheme>://<address><path>, with the deployment's peer key, over keep-alive connections.
//
// Two ways to call, both bounded, both keeping connections open between calls (so a busy pair of nodes
// reuses connections rather than opening one per call):
//   - post() blocks its caller: at most connections_max calls at once, each on its own libcurl easy
//     handle; a caller waits at most wait_max for a handle, then gets `busy`.
//   - post_async() does not: the call joins the client's own thread, which runs every such call at
//     once over a libcurl multi handle (at most connections_max connections, kAsyncCallsMax calls in
//     flight) and hands each answer to its callback. One thread waiting on many sockets costs a
//     forwarded hold no worker and none of a worker's wake-ups (docs/architecture.md, "Routing").
// A call lasts at most timeout. Nothing here retries: what a failed call did on the other side is the
// caller's to judge.
//
// Thread safety: post() and post_async() from any thread; stop_async() from any thread but the
// client's own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::cluster {

struct PeerConfig {
  std::string key;              // sent as X-Ticketd-Peer-Key; the receiving node refuses any other
  bool tls = false;             // https (verified against the system's CAs) instead of http
  size_t connections_max = 64;  // calls in flight at once, over all peers
  std::chrono::milliseconds connect_timeout{500};
  // A forwarded call is memory and one group commit on the owner. Under a sale on a starved machine that
  // has taken over 3 s; giving up sooner than a client would wait for the owner itself turns a slow
  // success into a 503 whose decision was nevertheless made.
  std::chrono::milliseconds timeout{15'000};
  std::chrono::milliseconds wait_max{1'000};
};

struct PeerAnswer {
  // answered: `status` and `body` are the peer's. refused: nothing listens at the address (the
  // peer's process is gone; nothing was sent). failed: no answer (timeout, reset: the call may or may
  // not have run there). busy: no connection free within wait_max (nothing was sent).
  enum class Kind { answered, refused, failed, busy };
  Kind kind = Kind::failed;
  long status = 0;
  std::string body;
  std::string error;  // what went wrong, for logs and 503 messages
};

class PeerClient {
 public:
  static constexpr size_t kAnswerBytesMax = 16 * 1024 * 1024;  // a 200,000-seat map and then some
  static constexpr const char* kKeyHeader = "X-Ticketd-Peer-Key";
  static constexpr size_t kAsyncCallsMax = 4096;  // post_async() calls in flight; beyond it, `busy`

  explicit PeerClient(PeerConfig config);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // `timeout`: this call's, if shorter than the configured one.
  PeerAnswer post(std::string_view address, std::string_view path, const std::string& body,
                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // The same call without blocking. `done` gets the answer exactly once: on the client's thread (it must
  // be quick and must not call post(), which would hold up every other call in flight), or on the
  // caller's thread, before this returns, when the call is not sent (`busy`: kAsyncCallsMax calls in
  // flight, or the client stopped).
  using AnswerDone = std::function<void(PeerAnswer)>;
  void post_async(std::string_view address, std::string_view path, std::string body,
                  std::optional<std::chrono::milliseconds> timeout, AnswerDone done);
  // Ends the asynchronous calls in flight (their callbacks hear `failed`) and refuses new ones; returns
  // once no callback runs any more. Idempotent; the destructor calls it. A component whose callbacks
  // the client runs calls it before it goes away.
  void stop_async();

 private:
  struct Async;  // the client's thread and its multi handle, started by the first post_async()

  void* take();  // a CURL*; nullptr when none came free within wait_max
  void give_back(void* handle);

  const PeerConfig config_;
  std::mutex mu_;  // guards idle_ and created_
  std::condition_variable freed_;
  std::vector<void*> idle_;
  size_t created_ = 0;
  std::once_flag async_started_;
  std::unique_ptr<Async> async_;
};

}  // namespace ticketd::cluster
