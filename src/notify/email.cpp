#include "notify/email.hpp"

#include <curl/curl.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "base/curl_init.hpp"
#include "notify/templates.hpp"

namespace ticketd::notify {

using core::Code;
using core::make_error;

namespace {

constexpr std::string_view kStartTls = "smtp+starttls://";

std::string message_for(const core::Notification& n, const std::string& from) {
  MimeHeaders h{from, n.email, "<" + idempotency_key(n.outbox_id) + "@ticketd>", n.created_at};
  return build_mime(h, render_email(n), n.outbox_id);
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t room = size * n;
  const size_t left = up->data->size() - up->offset;
  const size_t take = std::min(room, left);
  std::memcpy(buffer, up->data->data() + up->offset, take);
  up->offset += take;
  return take;
}

}  // namespace

core::Status validate_smtp_config(const SmtpConfig& c) {
  const bool scheme_ok = c.url.starts_with("smtp://") || c.url.starts_with("smtps://") || c.url.starts_with(kStartTls);
  if (!scheme_ok)
    return make_error(Code::InvalidRequest, "--smtp-url must start with smtp://, smtp+starttls:// or smtps://");
  const std::string addr = bare_address(c.from);
  if (addr.find('@') == std::string::npos || addr.find_first_of("\r\n ") != std::string::npos)
    return make_error(Code::InvalidRequest, "--mail-from must contain an address (name <user@domain> or user@domain)");
  if (c.password.size() && c.user.empty()) return make_error(Code::InvalidRequest, "--smtp-password needs --smtp-user");
  return core::ok_status();
}

SmtpChannel::SmtpChannel(SmtpConfig config) : config_(std::move(config)) {
  TICKETD_ASSERT(validate_smtp_config(config_).ok());
  curl_init_once();
  if (config_.url.starts_with(kStartTls)) {
    curl_url_ = "smtp://" + config_.url.substr(kStartTls.size());
    require_tls_ = true;
  } else {
    curl_url_ = config_.url;
  }
}

core::Status SmtpChannel::deliver(const core::Notification& n) {
  if (n.email.empty()) return make_error(Code::InvalidRequest, "the user has no email address");
  const std::string message = message_for(n, config_.from);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Code::Unavailable, "curl_easy_init failed");
  CURL* c = curl.get();
  const std::string mail_from = "<" + bare_address(config_.from) + ">";
  const std::string rcpt = "<" + n.email + ">";
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpts(curl_slist_append(nullptr, rcpt.c_str()),
                                                                    curl_slist_free_all);
  Upload up{&message};
  curl_easy_setopt(c, CURLOPT_URL, curl_url_.c_str());
  if (require_tls_) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE, static_cast<long>(message.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return make_error(Code::Unavailable, std::string("smtp: ") + curl_easy_strerror(rc));
  return core::ok_status();
}

MailDirChannel::MailDirChannel(std::string dir, std::string from) : dir_(std::move(dir)), from_(std::move(from)) {}

core::Status MailDirChannel::deliver(const core::Notification& n) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return make_error(Code::Unavailable, "mail dir: " + ec.message());
  const auto final_path = std::filesystem::path(dir_) / ("notification-" + std::to_string(n.outbox_id) + ".eml");
  const auto tmp_path = std::filesystem::path(dir_) / (".notification-" + std::to_string(n.outbox_id) + ".tmp");
  {
    std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
    out << message_for(n, from_);
    out.flush();
    if (!out) return make_error(Code::Unavailable, "mail dir: cannot write " + tmp_path.string());
  }
  std::filesystem::rename(tmp_path, final_path, ec);
  if (ec) return make_error(Code::Unavailable, "mail dir: " + ec.message());
  return core::ok_status();
}

}  // namespace ticketd::notify
