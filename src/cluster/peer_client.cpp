// The peer client (peer_client.hpp) over libcurl: easy handles for the blocking calls, each keeping its
// connections alive, and one multi handle on the client's own thread for the asynchronous ones.
#include "cluster/peer_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <unordered_set>
#include <utility>

#include "base/assert.hpp"
#include "base/curl_init.hpp"
#include "base/thread_name.hpp"

namespace ticketd::cluster {

namespace {

// One call: its request, and the answer it gathers. Stays put from configure() to finish(): curl holds
// pointers to its URL, headers, body and answer meanwhile.
struct Call {
  std::string url;
  std::string body;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{nullptr, curl_slist_free_all};
  std::chrono::milliseconds timeout{0};
  PeerAnswer answer;
  bool overflow = false;
  PeerClient::AnswerDone done;  // the asynchronous calls'
};

size_t append_bounded(char* data, size_t size, size_t n, void* user) {
  auto* call = static_cast<Call*>(user);
  const size_t bytes = size * n;
  if (call->answer.body.size() + bytes > PeerClient::kAnswerBytesMax) {
    call->overflow = true;
    return 0;  // curl stops the transfer
  }
  call->answer.body.append(data, bytes);
  return bytes;
}

void prepare(Call& call, const PeerConfig& config, std::string_view address, std::string_view path,
             std::optional<std::chrono::milliseconds> timeout) {
  call.url = std::string(config.tls ? "https://" : "http://") + std::string(address) + std::string(path);
  const std::string key_line = std::string(PeerClient::kKeyHeader) + ": " + config.key;
  for (const char* line : {"Content-Type: application/json", key_line.c_str(), "Expect:"})
    call.headers.reset(curl_slist_append(call.headers.release(), line));
  call.timeout = timeout ? std::min(*timeout, config.timeout) : config.timeout;
}

// REQUIRES: `c` reset (options only: the handle, or the multi handle it joins, keeps open connections).
void configure(CURL* c, Call& call, const PeerConfig& config) {
  curl_easy_setopt(c, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, call.headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_bounded);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &call);
}

void finish(CURL* c, CURLcode rc, Call& call) {
  if (rc == CURLE_OK) {
    call.answer.kind = PeerAnswer::Kind::answered;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &call.answer.status);
    return;
  }
  call.answer.kind = rc == CURLE_COULDNT_CONNECT ? PeerAnswer::Kind::refused : PeerAnswer::Kind::failed;
  call.answer.error = call.overflow ? "the answer was too large" : curl_easy_strerror(rc);
  call.answer.body.clear();
}

PeerAnswer busy_answer(const char* why) {
  PeerAnswer answer;
  answer.kind = PeerAnswer::Kind::busy;
  answer.error = why;
  return answer;
}

}  // namespace

// The asynchronous calls: submitted under `mu` from any thread, run and answered on `thread`.
struct PeerClient::Async {
  explicit Async(const PeerConfig& config) : config(config), multi(curl_multi_init()) {
    TICKETD_ASSERT(multi != nullptr);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(config.connections_max));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(config.connections_max));
    thread = std::thread([this] {
      name_this_thread("peer-client");
      run();
    });
  }
  ~Async() {
    stop();
    for (CURL* c : idle) curl_easy_cleanup(c);
    curl_multi_cleanup(multi);
  }

  // False, `call` left with the caller, when stopped or full.
  bool submit(std::unique_ptr<Call>& call) {
    {
      std::lock_guard lock(mu);
      if (stopping || in_flight >= kAsyncCallsMax) return false;
      ++in_flight;
      submitted.push_back(std::move(call));
    }
    curl_multi_wakeup(multi);
    return true;
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    curl_multi_wakeup(multi);
    if (thread.joinable()) thread.join();
  }

  void run() {
    std::vector<std::unique_ptr<Call>> batch;
    for (;;) {
      bool stop_now = false;
      {
        std::lock_guard lock(mu);
        batch.swap(submitted);
        stop_now = stopping;
      }
      if (stop_now) break;
      for (std::unique_ptr<Call>& call : batch) start(std::move(call));
      batch.clear();
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE) complete(m->easy_handle, m->data.result);
      }
      curl_multi_poll(multi, nullptr, 0, /*timeout_ms=*/1000, nullptr);
    }
    // Stopped: what was sent may or may not have run on the other side (`failed`); what was only
    // queued was not sent (still `failed`: the caller cannot tell it apart and need not).
    for (std::unique_ptr<Call>& call : batch) answer(std::move(call), "the peer client stopped");
    while (!running_handles.empty()) {
      CURL* c = *running_handles.begin();
      Call* call = release(c);
      answer(std::unique_ptr<Call>(call), "the peer client stopped");
    }
  }

  void start(std::unique_ptr<Call> call) {
    CURL* c = nullptr;
    if (!idle.empty()) {
      c = idle.back();
      idle.pop_back();
      curl_easy_reset(c);
    } else {
      c = curl_easy_init();
    }
    if (!c) return answer(std::move(call), "could not make a libcurl handle");
    configure(c, *call, config);
    curl_easy_setopt(c, CURLOPT_PRIVATE, call.get());
    if (curl_multi_add_handle(multi, c) != CURLM_OK) {
      idle.push_back(c);
      return answer(std::move(call), "could not start the call");
    }
    running_handles.insert(c);
    (void)call.release();  // owned through CURLOPT_PRIVATE until complete()
  }

  void complete(CURL* c, CURLcode rc) {
    finish(c, rc, *call_of(c));  // before release(), which may clean `c` up
    hand_over(std::unique_ptr<Call>(release(c)));
  }

  static Call* call_of(CURL* c) {
    char* private_data = nullptr;
    curl_easy_getinfo(c, CURLINFO_PRIVATE, &private_data);
    TICKETD_ASSERT(private_data != nullptr);
    return reinterpret_cast<Call*>(private_data);
  }

  // Takes `c` out of the multi handle and back to the idle ones (or cleans it up when enough are idle:
  // more calls than connections may be in flight); returns its call. `c` is not to be used after.
  Call* release(CURL* c) {
    Call* call = call_of(c);
    curl_multi_remove_handle(multi, c);
    running_handles.erase(c);
    if (idle.size() < config.connections_max)
      idle.push_back(c);
    else
      curl_easy_cleanup(c);
    return call;
  }

  void answer(std::unique_ptr<Call> call, const char* why) {
    call->answer = PeerAnswer{};
    call->answer.kind = PeerAnswer::Kind::failed;
    call->answer.error = why;
    hand_over(std::move(call));
  }

  void hand_over(std::unique_ptr<Call> call) {
    AnswerDone done = std::move(call->done);
    PeerAnswer answer = std::move(call->answer);
    call.reset();
    {
      std::lock_guard lock(mu);
      TICKETD_ASSERT(in_flight > 0);
      --in_flight;
    }
    try {
      done(std::move(answer));
    } catch (const std::exception& e) {
      // A callback must not throw; this thread carries every other call in flight, so it goes on.
      spdlog::error("peer client: a call's callback threw: {}", e.what());
    }
  }

  const PeerConfig& config;
  CURLM* const multi;
  std::mutex mu;  // guards submitted, in_flight, stopping
  std::vector<std::unique_ptr<Call>> submitted;
  size_t in_flight = 0;  // submitted and not yet answered
  bool stopping = false;
  // The thread's own:
  std::vector<CURL*> idle;
  std::unordered_set<CURL*> running_handles;
  std::thread thread;
};

PeerClient::PeerClient(PeerConfig config) : config_(std::move(config)) {
  TICKETD_ASSERT(config_.connections_max >= 1);
  TICKETD_ASSERT(!config_.key.empty());
  curl_init_once();
}

PeerClient::~PeerClient() {
  stop_async();
  async_.reset();
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
  void* handle = take();
  if (!handle) return busy_answer("no connection to another node came free in time");
  CURL* c = static_cast<CURL*>(handle);
  curl_easy_reset(c);  // options only: the handle keeps its open connections
  Call call;
  call.body = body;
  prepare(call, config_, address, path, timeout);
  configure(c, call, config_);
  finish(c, curl_easy_perform(c), call);
  give_back(handle);
  return std::move(call.answer);
}

void PeerClient::post_async(std::string_view address, std::string_view path, std::string body,
                            std::optional<std::chrono::milliseconds> timeout, AnswerDone done) {
  std::call_once(async_started_, [this] { async_ = std::make_unique<Async>(config_); });
  auto call = std::make_unique<Call>();
  call->body = std::move(body);
  prepare(*call, config_, address, path, timeout);
  call->done = std::move(done);
  if (async_ && async_->submit(call)) return;
  call->done(busy_answer("too many calls to other nodes in flight, or this node is stopping"));
}

void PeerClient::stop_async() {
  std::call_once(async_started_, [] {});  // a client stopped before its first call never starts its thread
  if (async_) async_->stop();
}

}  // namespace ticketd::cluster
