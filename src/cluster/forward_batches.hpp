// Holds and releases forwarded to the same owner travel together (docs/architecture.md, "Routing").
// While kBatchesInFlightMax batches to an owner are on their way, the calls that come meanwhile wait
// and leave as one request (Call::batch, ledger_wire.hpp) when one of them returns. When calls are few,
// each leaves at once, alone in its batch. Under load a request carries many, so the owner parses one
// HTTP request and writes one answer for all of them, as its commit writer commits their decisions in
// one transaction: on a busy owner, its HTTP work per forwarded hold, not the seat decision, was most of
// what it spent. Nothing waits for a timer, so a call waits at most for one batch's round trip.
//
// Each call hears how it went, once: decided (the owner's answer), to be sent alone (the owner would
// have had to block for it, or it is of a version without batches and answered 404), or failed (the
// batch got no 200 answer: the caller judges that as it would a call of its own). Nothing here retries.
//
// Thread safety: send() from any thread. The answers come on the peer client's thread, or on the
// caller's when the client refuses a batch at once (stopped, or too many calls in flight).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/metrics.hpp"
#include "cluster/ledger_wire.hpp"
#include "cluster/peer_client.hpp"

namespace ticketd::cluster {

class ForwardBatches {
 public:
  // Two: one batch is decided and committed on the owner while the next one fills and travels.
  static constexpr size_t kBatchesInFlightMax = 2;      // per owner
  static constexpr size_t kWaitingMax = 4096;           // calls waiting per owner; beyond, `failed` (busy)
  static constexpr size_t kBatchBytesMax = 192 * 1024;  // under the owner's 256 KiB body limit
  static_assert(kBatchedCallsMax <= PeerClient::kAsyncCallsMax);

  struct Answer {
    enum class Kind { decided, alone, failed };
    Kind kind = Kind::failed;
    std::optional<core::Result<core::Hold>> hold;  // decided: the owner's answer
    PeerAnswer batch;                              // failed: how the batch went (its body is not kept)
  };
  using Done = std::function<void(Answer)>;

  // REQUIRES: `peers` outlives this, and its asynchronous calls are stopped (PeerClient::stop_async())
  // before this goes away: their callbacks call into it. `metrics` may be null.
  ForwardBatches(PeerClient& peers, Metrics* metrics) : peers_(peers), metrics_(metrics) {}
  ForwardBatches(const ForwardBatches&) = delete;
  ForwardBatches& operator=(const ForwardBatches&) = delete;

  // `call`: hold or release; `args`: its encode_args(). `timeout`: this call's, as PeerClient::post_async's
  // (a batch takes the shortest of its calls').
  void send(const std::string& address, std::optional<std::chrono::milliseconds> timeout, Call call, std::string args,
            Done done);

 private:
  struct Waiting {
    Call call = Call::hold;
    std::string args;
    std::optional<std::chrono::milliseconds> timeout;
    Done done;
  };
  struct Owner {
    std::deque<Waiting> waiting;
    size_t in_flight = 0;
  };
  // Sends one batch of what waits for `address`, unless kBatchesInFlightMax are out already.
  void send_waiting(const std::string& address);
  void answered(const std::string& address, std::vector<Waiting>& calls, PeerAnswer answer);
  static void hand_out(std::vector<Waiting>& calls, const PeerAnswer& answer);

  PeerClient& peers_;
  Metrics* const metrics_;
  std::mutex mu_;  // guards owners_
  // An entry per owner with calls waiting or in flight: as many as the deployment has nodes.
  std::unordered_map<std::string, Owner> owners_;
};

}  // namespace ticketd::cluster
