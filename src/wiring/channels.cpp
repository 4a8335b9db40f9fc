// Builds the notification channels (see channels.hpp). Refused here, before the server starts: both
// email channels at once, an SMTP configuration out of bounds, a short webhook secret, a webhook URL
// that is not http(s).
#include "wiring/channels.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <random>

#include <unistd.h>

#include "notify/email.hpp"
#include "notify/webhook.hpp"

namespace ticketd::wiring {

core::Result<ChannelWiring> wire_channels(const ServeConfig& cfg, const std::string& node) {
  ChannelWiring w;
  if (!cfg.smtp_url.empty() && !cfg.mail_dir.empty())
    return core::make_error(core::Code::InvalidRequest, "--smtp-url and --mail-dir are exclusive: choose one");
  if (!cfg.smtp_url.empty()) {
    notify::SmtpConfig smtp{cfg.smtp_url, cfg.smtp_user, cfg.smtp_password, cfg.mail_from, Millis(cfg.smtp_timeout_ms),
                            cfg.smtp_ca_file};
    if (auto s = notify::validate_smtp_config(smtp); !s) return s.error();
    w.owned.push_back(std::make_unique<notify::SmtpChannel>(smtp));
    // The URL may carry credentials; only its scheme and host part are worth a log line.
    spdlog::info("notify email=smtp url_scheme={} auth={}", cfg.smtp_url.substr(0, cfg.smtp_url.find("://")),
                 cfg.smtp_user.empty() ? "none" : "user");
  } else if (!cfg.mail_dir.empty()) {
    w.owned.push_back(std::make_unique<notify::MailDirChannel>(cfg.mail_dir, cfg.mail_from));
    spdlog::info("notify email=mail-dir dir={}", cfg.mail_dir);
  }
  if (!cfg.webhook_url.empty()) {
    if (cfg.webhook_secret.size() < notify::kWebhookSecretBytesMin)
      return core::make_error(core::Code::InvalidRequest, "--notify-webhook-secret: at least 16 bytes required");
    if (!cfg.webhook_url.starts_with("http://") && !cfg.webhook_url.starts_with("https://"))
      return core::make_error(core::Code::InvalidRequest, "--notify-webhook-url must be http:// or https://");
    w.owned.push_back(std::make_unique<notify::WebhookChannel>(
        notify::WebhookConfig{cfg.webhook_url, cfg.webhook_secret, Millis(cfg.webhook_timeout_ms), node}));
    spdlog::info("notify webhook=on");
  }
  for (auto& c : w.owned) w.channels.push_back(c.get());
  return w;
}

std::string node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%d-%08x", static_cast<int>(getpid()), rd());
  return std::string(host) + "-" + suffix;
}

}  // namespace ticketd::wiring
