// BatchReader: reads from a store for callers that must not block (a request on an I/O thread), on a
// thread of its own, whatever is queued going in one store call of up to `batch_max` keys.
//
// Why: read on a worker, each such request wakes a worker, parks it on the read and wakes it again;
// most of that cost is the kernel switching threads (docs/bench/analysis.md). One thread reading in
// batches hands each caller its answer and the caller goes on from there. Used for sessions
// (app/session_reader.hpp) and checkouts' idempotency keys (app/sales.hpp).
//
// Bounds: at most `queued_max` reads wait; read() refuses past that (the caller reads on a worker).
// Destruction answers what is still queued (the store must still be there).
// Thread safety: read() from any thread; answers come on the reader's thread and must not block.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/batch_queue.hpp"
#include "base/thread_name.hpp"

namespace ticketd {

template <typename Key, typename Value>
class BatchReader {
 public:
  // The store's answer to each key, in order: nullopt for a key it has nothing for. Throws, or answers
  // another number of values, when it cannot answer.
  using ReadMany = std::function<std::vector<std::optional<Value>>(const std::vector<Key>&)>;
  // `read` false: the store could not answer (`found` is then nullopt).
  using Done = std::function<void(bool read, std::optional<Value> found)>;

  BatchReader(std::string thread_name, size_t queued_max, size_t batch_max, ReadMany read_many)
      : read_many_(std::move(read_many)), queue_(queued_max, batch_max), thread_([this, name = std::move(thread_name)] {
          name_this_thread(name.c_str());
          run();
        }) {}
  ~BatchReader() {
    queue_.stop();  // take() hands out what is queued before it ends
    thread_.join();
  }
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // False (and `done` unused) when the queue is full.
  bool read(Key key, Done done) {
    Read r{std::move(key), std::move(done)};
    return queue_.push(r);
  }

 private:
  struct Read {
    Key key;
    Done done;
  };

  void run() {
    std::vector<Read> batch;
    while (queue_.take(batch)) {
      answer(batch);
      batch.clear();
    }
  }

  void answer(std::vector<Read>& batch) {
    std::vector<Key> keys;
    keys.reserve(batch.size());
    for (const Read& r : batch) keys.push_back(r.key);
    std::vector<std::optional<Value>> found;
    bool failed = false;
    try {
      found = read_many_(keys);
      failed = found.size() != keys.size();
    } catch (const std::exception&) {  // the store is unreachable or failed: each caller is told so
      failed = true;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (failed) {
        batch[i].done(false, std::nullopt);
      } else {
        batch[i].done(true, std::move(found[i]));
      }
    }
  }

  const ReadMany read_many_;
  BatchQueue<Read> queue_;
  std::thread thread_;  // last: it starts reading the members above
};

}  // namespace ticketd
