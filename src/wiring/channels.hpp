// The notification channels, chosen by configuration: SMTP or a mail directory for email (or none),
// the signed webhook for SMS when its URL is set. The wiring is the only place that knows which.
// node_name() is this process's name in outbox leases (and the webhook's X-Ticketd-Node header).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/ports/notifier.hpp"
#include "core/result.hpp"
#include "wiring/serve_config.hpp"

namespace ticketd::wiring {

struct ChannelWiring {
  std::vector<std::unique_ptr<core::NotificationChannel>> owned;
  std::vector<core::NotificationChannel*> channels;
};

core::Result<ChannelWiring> wire_channels(const ServeConfig& cfg, const std::string& node);

// This process's name in outbox leases: unique across nodes and restarts.
std::string node_name();

}  // namespace ticketd::wiring
