// Forwarded holds and releases, batched per owner (forward_batches.hpp).
#include "cluster/forward_batches.hpp"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

namespace ticketd::cluster {

void ForwardBatches::send(const std::string& address, std::optional<std::chrono::milliseconds> timeout, Call call,
                          std::string args, Done done) {
  {
    std::lock_guard lock(mu_);
    Owner& owner = owners_[address];
    if (owner.waiting.size() < kWaitingMax) {
      owner.waiting.push_back(Waiting{call, std::move(args), timeout, std::move(done)});
      done = nullptr;
    }
  }
  if (done) {
    Answer busy;
    busy.batch.kind = PeerAnswer::Kind::busy;
    busy.batch.error = "too many calls waiting for the owner";
    return done(std::move(busy));
  }
  send_waiting(address);
}

void ForwardBatches::send_waiting(const std::string& address) {
  auto calls = std::make_shared<std::vector<Waiting>>();
  {
    std::lock_guard lock(mu_);
    auto it = owners_.find(address);
    if (it == owners_.end()) return;
    Owner& owner = it->second;
    if (owner.waiting.empty() && owner.in_flight == 0) {
      owners_.erase(it);
      return;
    }
    if (owner.waiting.empty() || owner.in_flight >= kBatchesInFlightMax) return;
    size_t bytes = 0;
    while (!owner.waiting.empty() && calls->size() < kBatchedCallsMax &&
           (calls->empty() || bytes + owner.waiting.front().args.size() <= kBatchBytesMax)) {
      bytes += owner.waiting.front().args.size();
      calls->push_back(std::move(owner.waiting.front()));
      owner.waiting.pop_front();
    }
    ++owner.in_flight;
  }
  std::vector<std::pair<Call, std::string_view>> encoded;
  encoded.reserve(calls->size());
  std::optional<std::chrono::milliseconds> timeout;
  for (const Waiting& w : *calls) {
    encoded.emplace_back(w.call, w.args);
    if (w.timeout) timeout = timeout ? std::min(*timeout, *w.timeout) : *w.timeout;
  }
  if (metrics_) metrics_->count("ledger_forwards", "batch");
  peers_.post_async(address, call_path(Call::batch), encode_batch(encoded), timeout,
                    [this, address, calls](PeerAnswer answer) { answered(address, *calls, std::move(answer)); });
}

void ForwardBatches::answered(const std::string& address, std::vector<Waiting>& calls, PeerAnswer answer) {
  {
    std::lock_guard lock(mu_);
    auto it = owners_.find(address);
    if (it != owners_.end() && it->second.in_flight > 0) --it->second.in_flight;
  }
  send_waiting(address);  // before handing these answers out: the owner starts on the next batch meanwhile
  hand_out(calls, answer);
}

void ForwardBatches::hand_out(std::vector<Waiting>& calls, const PeerAnswer& answer) {
  if (answer.kind != PeerAnswer::Kind::answered || answer.status != 200) {
    Answer each;
    if (answer.kind == PeerAnswer::Kind::answered && answer.status == 404) {
      each.kind = Answer::Kind::alone;  // an owner of a version without batches
    } else {
      each.kind = Answer::Kind::failed;
      each.batch = PeerAnswer{answer.kind, answer.status, "", answer.error};
    }
    for (Waiting& w : calls) w.done(each);
    return;
  }
  core::Result<BatchAnswers> answers = decode_batch_answer(answer.body, calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    Answer a;
    a.kind = Answer::Kind::decided;
    if (!answers)
      a.hold = core::Result<core::Hold>(answers.error());  // not understood: as a single call's
    else if ((*answers)[i])
      a.hold = std::move(*(*answers)[i]);
    else
      a.kind = Answer::Kind::alone;
    calls[i].done(std::move(a));
  }
}

}  // namespace ticketd::cluster
