// BatchQueue: what one thread sends to a store in batches (the seat publisher's changes and the users'
// holds registry's calls, pipelined to Redis; the session reader's reads). Callers push from any
// thread; the thread takes what is queued, up to a batch at a time, and blocks while nothing is.
//
// Bounds: at most `queued_max` waiting; push() past it (or after stop()) refuses, and the caller
// decides what a refused item costs (a dropped change, an unknown answer).
// Thread safety: every method from any thread; take() and pause() from the one consuming thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace ticketd {

template <typename T>
class BatchQueue {
 public:
  BatchQueue(size_t queued_max, size_t batch_max) : queued_max_(queued_max), batch_max_(batch_max) {}

  // False, leaving `item` as it was, when full or stopped.
  bool push(T& item) {
    {
      std::lock_guard lock(mu_);
      if (stop_ || queue_.size() >= queued_max_) return false;
      queue_.push_back(std::move(item));
    }
    wake_.notify_one();
    return true;
  }

  // Moves up to batch_max items into `batch` (empty before), waiting for one. False once stopped and
  // drained: the consumer ends.
  bool take(std::vector<T>& batch) {
    std::unique_lock lock(mu_);
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_ && queue_.empty()) return false;
    while (!queue_.empty() && batch.size() < batch_max_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return true;
  }

  // Waits `d` unless stopped meanwhile: a consumer's pause before it tries a store that failed again.
  void pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, d, [&] { return stop_; });
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
  }

 private:
  const size_t queued_max_;
  const size_t batch_max_;
  std::mutex mu_;  // guards queue_ and stop_
  std::condition_variable wake_;
  std::deque<T> queue_;
  bool stop_ = false;
};

}  // namespace ticketd
