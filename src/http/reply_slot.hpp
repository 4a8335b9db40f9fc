// Where a Reply from any thread meets the session coroutine that waits for it (message.hpp, Reply).
// The coroutine asks for the answer with async_wait(); the reply may come before (it is kept) or after
// (the waiting coroutine is resumed on its strand). A Reply dropped uncalled answers 500, so a session
// never waits forever for a handler that lost its reply.
//
// Thread safety: put() from any thread, once (later calls are ignored); async_wait() from the session's
// strand, once. The gate (listener.hpp, ReplyGate) keeps a late put() from posting to a stopped server.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <memory>
#include <mutex>
#include <optional>

#include "http/listener.hpp"
#include "http/message.hpp"

namespace ticketd::http::detail {

class ReplySlot : public std::enable_shared_from_this<ReplySlot> {
 public:
  using Waiter = boost::asio::any_completion_handler<void(ResponseMaker)>;

  ReplySlot(std::shared_ptr<ReplyGate> gate, boost::asio::any_io_executor strand)
      : gate_(std::move(gate)), strand_(std::move(strand)) {}

  // A Reply for handlers: copies share one slot, and the last copy to go answers 500 if none was called.
  Reply reply();

  void put(ResponseMaker make);
  // The answer, if it came already (then async_wait is not needed).
  std::optional<ResponseMaker> take_if_ready();

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(ResponseMaker)>(
        [self = shared_from_this()](auto handler) { self->wait(Waiter(std::move(handler))); }, token);
  }

 private:
  void wait(Waiter waiter);
  void post(Waiter waiter, ResponseMaker make);

  const std::shared_ptr<ReplyGate> gate_;
  const boost::asio::any_io_executor strand_;
  std::mutex mu_;                       // guards the three below
  bool replied_ = false;                // put() was called (later calls are ignored)
  std::optional<ResponseMaker> ready_;  // the answer, while nobody waits
  std::optional<Waiter> waiter_;        // the session, while the answer has not come
};

}  // namespace ticketd::http::detail
