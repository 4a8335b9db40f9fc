// Reads by key that go to the store together: a caller that asks while in_flight_max reads are on their
// way waits, and the next read fetches the keys of everyone waiting (up to keys_max) at once.
//
// Why: in a flash sale nearly every request is a buyer this node has not seen, and each needs its
// session read (app/session_cache.hpp). One statement per request made those reads most of what
// PostgreSQL ran (170,000 of 288,000 statements in a 150,000-buyer sale) and put a query and a pool
// connection behind every new buyer. One statement for many keys costs PostgreSQL little more than one
// for a single key. When reads are few, each leaves at once, alone: nothing waits for a timer.
//
// No thread of its own: the caller whose turn it is runs the fetch for its batch (and, while batches
// queue, for those behind it); the others sleep until their answer is in. Waiters are served in the
// order they came. The waiters are the calling threads, so their number bounds the queue.
//
// Thread safety: read() from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/assert.hpp"

namespace ticketd {

template <typename Value>
class ReadBatches {
 public:
  // Answers keys in their order (nullopt: no such key). May throw: every caller of that batch gets
  // the exception, as it would have from a read of its own.
  using Fetch = std::function<std::vector<std::optional<Value>>(const std::vector<std::string>& keys)>;

  ReadBatches(size_t in_flight_max, size_t keys_max, Fetch fetch)
      : in_flight_max_(in_flight_max), keys_max_(keys_max), fetch_(std::move(fetch)) {
    TICKETD_ASSERT(in_flight_max_ > 0 && keys_max_ > 0 && fetch_);
  }
  ReadBatches(const ReadBatches&) = delete;
  ReadBatches& operator=(const ReadBatches&) = delete;

  std::optional<Value> read(const std::string& key) {
    Waiter me{key};
    std::unique_lock lock(mu_);
    waiting_.push_back(&me);
    while (!me.done) {
      if (in_flight_ < in_flight_max_ && !waiting_.empty()) {
        lead(lock);
      } else {
        me.woken.wait(lock);
      }
    }
    if (me.error) std::rethrow_exception(me.error);
    return std::move(me.value);
  }

  // Callers waiting for a batch to take them (not those whose batch is on its way).
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return waiting_.size();
  }

 private:
  struct Waiter {
    std::string key;
    std::optional<Value> value;
    std::exception_ptr error;
    bool done = false;
    std::condition_variable woken;  // answered, or a batch may start
  };

  // REQUIRES: lock held, waiting_ not empty, in_flight_ < in_flight_max_.
  void lead(std::unique_lock<std::mutex>& lock) {
    std::vector<Waiter*> batch;
    std::vector<std::string> keys;
    while (!waiting_.empty() && batch.size() < keys_max_) {
      batch.push_back(waiting_.front());
      keys.push_back(batch.back()->key);
      waiting_.pop_front();
    }
    ++in_flight_;
    lock.unlock();
    std::vector<std::optional<Value>> values;
    std::exception_ptr error;
    try {
      values = fetch_(keys);
      TICKETD_ASSERT(values.size() == keys.size());
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --in_flight_;
    // Each waiter is on its own thread's stack: touched only under the lock, before it can return.
    for (size_t i = 0; i < batch.size(); ++i) {
      Waiter& w = *batch[i];
      if (error)
        w.error = error;
      else
        w.value = std::move(values[i]);
      w.done = true;
      w.woken.notify_one();
    }
    if (!waiting_.empty()) waiting_.front()->woken.notify_one();  // a slot is free: the first leads
  }

  const size_t in_flight_max_;
  const size_t keys_max_;
  const Fetch fetch_;
  mutable std::mutex mu_;        // guards waiting_, in_flight_ and every Waiter
  std::deque<Waiter*> waiting_;  // in the order they came
  size_t in_flight_ = 0;
};

}  // namespace ticketd
