// The peer client (peer_client.hpp) over libcurl easy handles, each keeping its connections alive.
#include "cluster/peer_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "base/assert.hpp"
#include "base/curl_init.hpp"

namespace ticketd::cluster {

namespace {

struct Sink {
  std::string* out;
  bool overflow = false;
};

size_t append_bounded(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t bytes = size * n;
  if (sink->out->size() + bytes > PeerClient::kAnswerBytesMax) {
    sink->overflow = true;
    return 0;  // curl stops the transfer
  }
  sink->out->append(data, bytes);
  return bytes;
}

}  // namespace

PeerClient::PeerClient(PeerConfig config) : config_(std::move(config)) {
  TICKETD_ASSERT(config_.connections_max >= 1);
  TICKETD_ASSERT(!config_.key.empty());
  curl_init_once();
}

PeerClient::~PeerClient() {
  std::lock_guard lock(mu_);
  TICKETD_ASSERT(idle_.size() == created_);  // no call in flight
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* PeerClient::take() {
  std::unique_lock lock(mu_);
  if (idle_.empty() && created_ < config_.connections_max) {
    ++created_;
    lock.unlock();
    CURL* c = curl_easy_init();
    if (!c) {
      lock.lock();
      --created_;
      freed_.notify_one();
    }
    return c;
  }
  if (!freed_.wait_for(lock, config_.wait_max, [&] { return !idle_.empty(); })) return nullptr;
  void* h = idle_.back();
  idle_.pop_back();
  return h;
}

void PeerClient::give_back(void* handle) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(handle);
  }
  freed_.notify_one();
}

PeerAnswer PeerClient::post(std::string_view address, std::string_view path, const std::string& body,
                            std::optional<std::chrono::milliseconds> timeout) {
  PeerAnswer answer;
  void* handle = take();
  if (!handle) {
    answer.kind = PeerAnswer::Kind::busy;
    answer.error = "no connection to another node came free in time";
    return answer;
  }
  CURL* c = static_cast<CURL*>(handle);
  curl_easy_reset(c);  // options only: the handle keeps its open connections
  const std::string url = std::string(config_.tls ? "https://" : "http://") + std::string(address) + std::string(path);
  const std::string key_line = std::string(kKeyHeader) + ": " + config_.key;
  struct curl_slist* headers = nullptr;
  for (const char* line : {"Content-Type: application/json", key_line.c_str(), "Expect:"})
    headers = curl_slist_append(headers, line);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, curl_slist_free_all);
  Sink sink{&answer.body};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  const std::chrono::milliseconds call_timeout = timeout ? std::min(*timeout, config_.timeout) : config_.timeout;
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(call_timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_bounded);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    answer.kind = PeerAnswer::Kind::answered;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.kind = rc == CURLE_COULDNT_CONNECT ? PeerAnswer::Kind::refused : PeerAnswer::Kind::failed;
    answer.error = sink.overflow ? "the answer was too large" : curl_easy_strerror(rc);
    answer.body.clear();
  }
  give_back(handle);
  return answer;
}

}  // namespace ticketd::cluster
