// Port: a delivery channel for notifications (email over SMTP, a signed webhook, a mail directory).
// deliver() returns ok only once the receiver has accepted the message; any error means "try again
// later" (the worker schedules the retry). A channel may be asked to deliver the same outbox id more
// than once (at-least-once): every delivery carries the outbox id so receivers can drop duplicates.
//
// Thread safety: deliver() may be called from any thread; one worker thread calls it at a time.
#pragma once

#include "core/notification.hpp"
#include "core/result.hpp"

namespace ticketd::core {

class NotificationChannel {
 public:
  virtual ~NotificationChannel() = default;
  virtual const char* name() const = 0;  // kChannelEmail or kChannelWebhook: the rows it delivers
  virtual Status deliver(const Notification& n) = 0;
};

}  // namespace ticketd::core
