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

// Answers the slot's `if_dropped` if the handler dropped its callback without calling it. (Not in an
// anonymous namespace: the callbacks of the instantiations below hold it.)
template <class Answer>
class DropGuard {
 public:
  explicit DropGuard(std::shared_ptr<AnswerSlot<Answer>> slot, Answer if_dropped)
      : slot_(std::move(slot)), if_dropped_(std::move(if_dropped)) {}
  DropGuard(const DropGuard&) = delete;
  DropGuard& operator=(const DropGuard&) = delete;
  ~DropGuard() { slot_->put(std::move(if_dropped_)); }  // ignored after a real answer
  AnswerSlot<Answer>& slot() { return *slot_; }

 private:
  std::shared_ptr<AnswerSlot<Answer>> slot_;
  Answer if_dropped_;
};

template <class Answer>
std::function<void(Answer)> AnswerSlot<Answer>::callback() {
  auto guard = std::make_shared<DropGuard<Answer>>(this->shared_from_this(), if_dropped_);
  return [guard](Answer answer) { guard->slot().put(std::move(answer)); };
}

template <class Answer>
void AnswerSlot<Answer>::put(Answer answer) {
  std::unique_lock lock(mu_);
  if (answered_) return;
  answered_ = true;
  if (!waiter_) {
    ready_ = std::move(answer);
    return;
  }
  Waiter waiter = std::move(*waiter_);
  waiter_.reset();
  lock.unlock();
  post(std::move(waiter), std::move(answer));
}

template <class Answer>
std::optional<Answer> AnswerSlot<Answer>::take_if_ready() {
  std::lock_guard lock(mu_);
  std::optional<Answer> ready = std::move(ready_);
  ready_.reset();
  return ready;
}

template <class Answer>
void AnswerSlot<Answer>::wait(Waiter waiter) {
  std::unique_lock lock(mu_);
  if (ready_) {
    Answer answer = std::move(*ready_);
    ready_.reset();
    lock.unlock();
    post(std::move(waiter), std::move(answer));
    return;
  }
  waiter_ = std::move(waiter);
}

// The waiter resumes on the session's strand, never inside put()'s caller (the commit writer).
template <class Answer>
void AnswerSlot<Answer>::post(Waiter waiter, Answer answer) {
  std::shared_lock gate(gate_->mu);
  if (!gate_->open) {
    // The server stopped and its io_context is going: the waiting coroutine's frame must not be
    // destroyed here, on another thread, while that happens. Left to the process's exit.
    (void)new Waiter(std::move(waiter));
    return;
  }
  boost::asio::post(strand_, [waiter = std::move(waiter), answer = std::move(answer)]() mutable {
    std::move(waiter)(std::move(answer));
  });
}

ReplySlot::ReplySlot(std::shared_ptr<ReplyGate> gate, boost::asio::any_io_executor strand)
    : AnswerSlot(std::move(gate), std::move(strand), [] { return internal_error_response(); }) {}

template class AnswerSlot<ResponseMaker>;
template class AnswerSlot<bool>;

}  // namespace ticketd::http::detail
