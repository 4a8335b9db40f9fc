// Where an answer from any thread meets the session coroutine that waits for it: a handler's Reply
// (message.hpp, Reply) and a Preparer's readiness (message.hpp, Preparer). The coroutine asks for the
// answer with async_wait(); the answer may come before (it is kept) or after (the waiting coroutine is
// resumed on its strand). A callback dropped uncalled answers `if_dropped` (for a Reply: 500), so a
// session never waits forever for a handler that lost its callback.
//
// Thread safety: put() from any thread, once (later calls are ignored); async_wait() from the session's
// strand, once. The gate (listener.hpp, ReplyGate) keeps a late put() from posting to a stopped server.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "http/listener.hpp"
#include "http/message.hpp"

namespace ticketd::http::detail {

template <class Answer>
class AnswerSlot : public std::enable_shared_from_this<AnswerSlot<Answer>> {
 public:
  using Waiter = boost::asio::any_completion_handler<void(Answer)>;

  AnswerSlot(std::shared_ptr<ReplyGate> gate, boost::asio::any_io_executor strand, Answer if_dropped)
      : gate_(std::move(gate)), strand_(std::move(strand)), if_dropped_(std::move(if_dropped)) {}

  // The callback for handlers: copies share one slot, and the last copy to go answers `if_dropped` if
  // none was called.
  std::function<void(Answer)> callback();

  void put(Answer answer);
  // The answer, if it came already (then async_wait is not needed).
  std::optional<Answer> take_if_ready();

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(Answer)>(
        [self = this->shared_from_this()](auto handler) { self->wait(Waiter(std::move(handler))); }, token);
  }

 private:
  void wait(Waiter waiter);
  void post(Waiter waiter, Answer answer);

  const std::shared_ptr<ReplyGate> gate_;
  const boost::asio::any_io_executor strand_;
  const Answer if_dropped_;
  std::mutex mu_;                 // guards the three below
  bool answered_ = false;         // put() was called (later calls are ignored)
  std::optional<Answer> ready_;   // the answer, while nobody waits
  std::optional<Waiter> waiter_;  // the session, while the answer has not come
};

// A handler's Reply: answered 500 if dropped.
class ReplySlot : public AnswerSlot<ResponseMaker> {
 public:
  ReplySlot(std::shared_ptr<ReplyGate> gate, boost::asio::any_io_executor strand);
  Reply reply() { return callback(); }
};

// A Preparer's readiness: not ready (the Handler answers) if dropped.
class ReadySlot : public AnswerSlot<bool> {
 public:
  ReadySlot(std::shared_ptr<ReplyGate> gate, boost::asio::any_io_executor strand)
      : AnswerSlot(std::move(gate), std::move(strand), false) {}
};

extern template class AnswerSlot<ResponseMaker>;
extern template class AnswerSlot<bool>;

}  // namespace ticketd::http::detail
