// Periodic: runs `work` every `interval` on its own thread until destroyed. Used for the hold sweeper
// (lapsed holds marked on disk; correctness never waits for it), the waiting-room releaser, the
// payment reconciler, the event refunder and the notifier (wiring/background.hpp). The destructor
// wakes the thread and joins it: a pass in progress finishes first.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "base/clock.hpp"
#include "base/thread_name.hpp"

namespace ticketd::wiring {

class Periodic {
 public:
  // `name`: the thread's, as `top -H` and profiles show it (base/thread_name.hpp).
  Periodic(const char* name, Millis interval, std::function<void()> work)
      : thread_([this, name, interval, work = std::move(work)] {
          name_this_thread(name);
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, interval, [&] { return stop_; })) {
            lock.unlock();
            work();
            lock.lock();
          }
        }) {}
  ~Periodic() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ticketd::wiring
