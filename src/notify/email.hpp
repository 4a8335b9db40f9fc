// Email channels: SMTP through libcurl, and a mail directory (one .eml file per notification) for
// the demo and for development machines without a mail server.
//
// SMTP URLs: smtp://host[:port] (plain; port 25), smtp+starttls://host[:port] (plain connection
// upgraded with STARTTLS, required; port 587), smtps://host[:port] (TLS from the first byte; port
// 465). TLS certificates are verified against the system's CA store. With a user, curl
// authenticates with the best mechanism the server offers (never over an unencrypted connection
// unless the URL says smtp://, which is for local relays and tests).
//
// Idempotency: every message has Message-ID <ticketd-notification-ID@ticketd> and header
// X-Ticketd-Delivery: ticketd-notification-ID, the same on every delivery of one notification.
//
// Thread safety: deliver() may be called from any thread (one curl handle per call).
#pragma once

#include <string>

#include "core/ports/notifier.hpp"

namespace ticketd::notify {

struct SmtpConfig {
  std::string url;
  std::string user;
  std::string password;
  std::string from = "ticketd <tickets@ticketd.local>";
  Millis timeout{15'000};
  std::string ca_file;  // PEM bundle to verify the server's certificate with, instead of the system's
};

// Checks the URL scheme and the sender; InvalidRequest naming the problem.
core::Status validate_smtp_config(const SmtpConfig& config);

class SmtpChannel final : public core::NotificationChannel {
 public:
  explicit SmtpChannel(SmtpConfig config);  // REQUIRES: validate_smtp_config(config) is ok
  const char* name() const override { return core::kChannelEmail; }
  core::Status deliver(const core::Notification& n) override;

 private:
  SmtpConfig config_;
  std::string curl_url_;  // smtp+starttls:// rewritten to smtp://
  bool require_tls_ = false;
};

// Writes each message to DIR/notification-<outbox id>.eml (a second delivery of the same
// notification rewrites the same file). Written to a temporary name and renamed, so a reader never
// sees half a message.
class MailDirChannel final : public core::NotificationChannel {
 public:
  MailDirChannel(std::string dir, std::string from);
  const char* name() const override { return core::kChannelEmail; }
  core::Status deliver(const core::Notification& n) override;

 private:
  std::string dir_;
  std::string from_;
};

}  // namespace ticketd::notify
