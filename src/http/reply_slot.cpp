// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/reply_slot.hpp"

#include <boost/asio/post.hpp>
#include <shared_mutex>
#include <utility>

#include "http/wire.hpp"

namespace ticketd::http::detail {

namespace {
// Answers 500 if the handler dropped its Reply without calling it.
class ReplyGuard {
 public:
  explicit ReplyGuard(std::shared_ptr<ReplySlot> slot) : slot_(std::move(slot)) {}
  ReplyGuard(const ReplyGuard&) = delete;
  ReplyGuard& operator=(const ReplyGuard&) = delete;
  ~ReplyGuard() { slot_->put([] { return internal_error_response(); }); }  // ignored after a real answer
  ReplySlot& slot() { return *slot_; }

 private:
  std::shared_ptr<ReplySlot> slot_;
};
}  // namespace

Reply ReplySlot::reply() {
  auto guard = std::make_shared<ReplyGuard>(shared_from_this());
  return [guard](ResponseMaker make) { guard->slot().put(std::move(make)); };
}

void ReplySlot::put(ResponseMaker make) {
  std::unique_lock lock(mu_);
  if (replied_) return;
  replied_ = true;
  if (!waiter_) {
    ready_ = std::move(make);
    return;
  }
  Waiter waiter = std::move(*waiter_);
  waiter_.reset();
  lock.unlock();
  post(std::move(waiter), std::move(make));
}

std::optional<ResponseMaker> ReplySlot::take_if_ready() {
  std::lock_guard lock(mu_);
  std::optional<ResponseMaker> ready = std::move(ready_);
  ready_.reset();
  return ready;
}

void ReplySlot::wait(Waiter waiter) {
  std::unique_lock lock(mu_);
  if (ready_) {
    ResponseMaker make = std::move(*ready_);
    ready_.reset();
    lock.unlock();
    post(std::move(waiter), std::move(make));
    return;
  }
  waiter_ = std::move(waiter);
}

// The waiter resumes on the session's strand, never inside put()'s caller (the commit writer).
void ReplySlot::post(Waiter waiter, ResponseMaker make) {
  std::shared_lock gate(gate_->mu);
  if (!gate_->open) {
    // The server stopped and its io_context is going: the waiting coroutine's frame must not be
    // destroyed here, on another thread, while that happens. Left to the process's exit.
    (void)new Waiter(std::move(waiter));
    return;
  }
  boost::asio::post(strand_, [waiter = std::move(waiter), make = std::move(make)]() mutable {
    std::move(waiter)(std::move(make));
  });
}

}  // namespace ticketd::http::detail
