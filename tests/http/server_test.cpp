// Black-box tests of the HTTP transport: a real Server on an ephemeral port, spoken to over plain
// POSIX sockets with a deliberately small HTTP reader (so the test does not trust Beast to check
// Beast). No timing assertions: every wait is a generous bound that only keeps a broken build from
// hanging CI.
#include "http/server.hpp"
#include "running_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ticketd::http::EventStream;
using ticketd::http::Handler;
using ticketd::http::Ready;
using ticketd::http::Reply;
using ticketd::http::Request;
using ticketd::http::Response;
using ticketd::http::Server;
using ticketd::http::ServerConfig;
using ticketd::http::ServerStats;
using ticketd::test_support::run_return_timeout;
using ticketd::test_support::RunningServer;
using ticketd::test_support::test_config;

// Bounds that only exist so a hang becomes a failure; they are never what a test measures.
constexpr auto socket_timeout = 10s;
constexpr size_t response_bytes_max = 1 << 20;

// ---- A minimal blocking HTTP/1.1 client -----------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
};

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(socket_timeout).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect() failed");
    }
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  bool has_buffered_bytes() const { return !buffer_.empty(); }

  // False if the peer closed or reset before everything was sent.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. `head`: the request was HEAD, so Content-Length describes no bytes here.
  // nullopt on EOF, reset, timeout or a response this reader cannot frame.
  std::optional<HttpResponse> read_response(bool head = false) {
    size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (buffer_.size() > response_bytes_max || !fill()) return std::nullopt;
    }
    HttpResponse response;
    if (!parse_head(buffer_.substr(0, header_end), response)) return std::nullopt;
    buffer_.erase(0, header_end + 4);
    size_t body_bytes = 0;
    if (!head && response.has_header("content-length")) {
      body_bytes = std::stoul(response.header("content-length"));
    }
    if (body_bytes > response_bytes_max) return std::nullopt;
    while (buffer_.size() < body_bytes) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, body_bytes);
    buffer_.erase(0, body_bytes);
    return response;
  }

  // Reads until `needle` has arrived; returns everything up to and including it (and consumes it).
  // nullopt on EOF, reset or timeout first.
  std::optional<std::string> read_until(std::string_view needle) {
    size_t at = std::string::npos;
    while ((at = buffer_.find(needle)) == std::string::npos) {
      if (buffer_.size() > response_bytes_max || !fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, at + needle.size());
    buffer_.erase(0, at + needle.size());
    return out;
  }

  // True if the server closed the connection (orderly or by reset) with nothing more to read.
  bool reads_eof() {
    if (!buffer_.empty()) return false;
    char byte = 0;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    if (n == 0) return true;
    if (n < 0 && errno == ECONNRESET) return true;
    if (n > 0) buffer_.push_back(byte);
    return false;
  }

 private:
  bool fill() {
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static bool parse_head(const std::string& head, HttpResponse& response) {
    // "HTTP/1.1 200 OK"
    if (head.compare(0, 5, "HTTP/") != 0 || head.size() < 12) return false;
    response.status = std::stoi(head.substr(9, 3));
    size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      const size_t line_end = head.find("\r\n", line_start);
      const std::string line = head.substr(line_start, line_end - line_start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) return false;
      size_t value_start = colon + 1;
      while (value_start < line.size() && line[value_start] == ' ') ++value_start;
      response.headers[lower(line.substr(0, colon))] = line.substr(value_start);
      line_start = line_end;
    }
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body, std::string_view extra_headers = "") {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

// Answers with what it received: "METHOD TARGET|remote|names|x-test|body".
Response echo(const Request& request) {
  std::string names;
  for (const auto& header : request.headers) names += header.name + ",";
  Response response;
  response.content_type = "text/plain";
  response.body = request.method + " " + request.target + "|" + request.remote_address + "|" + names + "|" +
                  std::string(request.header("x-test")) + "|" + request.body;
  return response;
}



// Waits until one of the clients has something to read; returns its index or -1.
int first_readable(const std::vector<Client*>& clients) {
  std::vector<pollfd> fds;
  for (Client* client : clients) {
    if (client->has_buffered_bytes()) return static_cast<int>(fds.size());
    fds.push_back({client->fd(), POLLIN, 0});
  }
  const int timeout_ms = static_cast<int>(std::chrono::milliseconds(socket_timeout).count());
  if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return -1;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents != 0) return static_cast<int>(i);
  }
  return -1;
}

bool is_json_error(const HttpResponse& response, std::string_view code) {
  const std::string prefix = R"({"error":{"code":")" + std::string(code) + R"(","message":")";
  return response.header("content-type") == "application/json" && response.body.rfind(prefix, 0) == 0 &&
         response.body.size() > prefix.size() + 3 && response.body.compare(response.body.size() - 3, 3, "\"}}") == 0;
}

// ---- Round trips ----------------------------------------------------------------------------------

TEST(HttpServer, AnswersSimpleGet) {
  RunningServer server(test_config(), echo);
  ASSERT_NE(server.port(), 0);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/hello?x=1")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.rfind("GET /hello?x=1|", 0), 0u) << response->body;
  EXPECT_EQ(response->header("server"), "ticketd");
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_EQ(response->header("content-length"), std::to_string(response->body.size()));
  EXPECT_NE(lower(response->header("connection")), "close");
}

// An inline handler may answer later, from another thread (a commit writer); one that drops its Reply
// uncalled gets the client a 500 instead of a connection waiting forever. Requests waiting for a
// reply hold pending slots: one more than pending_requests_max is refused 503.
TEST(HttpServer, AnInlineAnswerMayComeLaterFromAnotherThread) {
  std::mutex mu;
  std::vector<Reply> waiting;
  ServerConfig config = test_config();
  config.pending_requests_max = 2;
  RunningServer server(config, echo, [&](Request& request, const Reply& reply) {
    if (request.target == "/dropped") return true;  // took it, and lost the reply
    std::lock_guard lock(mu);
    waiting.push_back(reply);
    return true;
  });
  Client first(server.port()), second(server.port()), third(server.port()), dropped(server.port());
  ASSERT_TRUE(first.send(get("/later")));
  ASSERT_TRUE(second.send(get("/later")));
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (waiting.size() == 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(third.send(get("/later")));
  auto refused = third.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << "two replies pending fill pending_requests_max";
  std::vector<Reply> replies;
  {
    std::lock_guard lock(mu);
    replies.swap(waiting);
  }
  ASSERT_EQ(replies.size(), 2u);
  std::thread writer([&replies] {
    for (const Reply& reply : replies) reply([] {
        Response response;
        response.status = 201;
        response.body = "durable";
        return response;
      });
  });
  writer.join();
  for (Client* client : {&first, &second}) {
    auto answer = client->read_response();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 201);
    EXPECT_EQ(answer->body, "durable");
  }
  ASSERT_TRUE(dropped.send(get("/dropped")));
  auto lost = dropped.read_response();
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->status, 500);
}

// What the inline handler answers never reaches a worker, and runs on an I/O thread; what it declines
// goes to the pool; one that throws is a 500, and the connection serves on.
TEST(HttpServer, AnswersInlineWhatTheInlineHandlerTakesAndSendsTheRestToTheWorkers) {
  std::mutex mu;
  std::set<std::thread::id> inline_threads, worker_threads;
  const auto record = [&mu](std::set<std::thread::id>& where) {
    std::lock_guard lock(mu);
    where.insert(std::this_thread::get_id());
  };
  RunningServer server(
      test_config(),
      [&](const Request& request) {
        record(worker_threads);
        return echo(request);
      },
      [&](Request& request, const Reply& reply) {
        if (request.target == "/throw") throw std::runtime_error("inline handler failed");
        if (request.target != "/fast") return false;
        record(inline_threads);
        reply([] {
          Response response;
          response.body = "fast";
          return response;
        });
        return true;
      });
  Client client(server.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(get("/fast")));
    auto fast = client.read_response();
    ASSERT_TRUE(fast);
    EXPECT_EQ(fast->body, "fast");
  }
  ASSERT_TRUE(client.send(get("/slow")));
  auto slow = client.read_response();
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->body.rfind("GET /slow|", 0), 0u) << slow->body;
  ASSERT_TRUE(client.send(get("/throw")));
  auto thrown = client.read_response();
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  ASSERT_TRUE(client.send(get("/fast")));
  ASSERT_TRUE(client.read_response());
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.requests_inline_total, 5u) << "the 500 of the one that threw was answered there too";
  EXPECT_EQ(stats.requests_total, 6u);
  EXPECT_EQ(stats.handler_exceptions_total, 1u);
  std::lock_guard lock(mu);
  ASSERT_EQ(worker_threads.size(), 1u);
  for (const std::thread::id& id : inline_threads) EXPECT_EQ(worker_threads.count(id), 0u) << "an inline answer ran on a worker";
}

// A request the inline handler passes goes to the Preparer; what it makes ready (from another thread,
// later) goes back to the inline handler, and no worker sees it. Ready(false), a dropped `ready` and a
// Preparer that takes nothing send the request to the workers; one that throws too, and is counted.
TEST(HttpServer, WhatThePreparerMakesReadyIsAnsweredInlineAndTheRestByTheWorkers) {
  std::mutex mu;
  std::set<std::string> prepared;  // targets the inline handler may answer now
  std::vector<std::string> worker_targets;
  std::vector<std::thread> preparers;  // "reads" answered from other threads, joined at the end
  RunningServer server(
      test_config(),
      [&](const Request& request) {
        std::lock_guard lock(mu);
        worker_targets.push_back(request.target);
        EXPECT_FALSE(request.prepared) << request.target;  // nothing was made ready for it
        return echo(request);
      },
      [&](Request& request, const Reply& reply) {
        std::lock_guard lock(mu);
        // Asked again once its preparer made it ready, and told so (Request::prepared).
        if (!prepared.contains(request.target) || !request.prepared) return false;
        reply([] {
          Response response;
          response.body = "inline";
          return response;
        });
        return true;
      },
      [&](const Request& request, Ready ready) {
        const std::string target = request.target;
        if (target == "/none") return false;
        if (target == "/throw") throw std::runtime_error("preparer failed");
        if (target == "/dropped") return true;  // took it, and lost `ready`
        std::lock_guard lock(mu);
        preparers.emplace_back([&mu, &prepared, target, ready] {
          std::this_thread::sleep_for(5ms);
          const bool made = target == "/ready";
          if (made) {
            std::lock_guard made_lock(mu);
            prepared.insert(target);
          }
          ready(made);
        });
        return true;
      });
  Client client(server.port());
  for (const char* target : {"/ready", "/not-ready", "/dropped", "/none", "/throw", "/ready"}) {
    ASSERT_TRUE(client.send(get(target)));
    auto response = client.read_response();
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 200) << target;
    if (std::string_view(target) == "/ready")
      EXPECT_EQ(response->body, "inline");
    else
      EXPECT_EQ(response->body.rfind(std::string("GET ") + target + "|", 0), 0u) << response->body;
  }
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.requests_inline_total, 2u) << "the first /ready after its preparation, the second at once";
  EXPECT_EQ(stats.handler_exceptions_total, 1u);
  for (std::thread& t : preparers) t.join();  // every request answered: none is left to start one
  std::lock_guard lock(mu);
  EXPECT_EQ(worker_targets, (std::vector<std::string>{"/not-ready", "/dropped", "/none", "/throw"}));
}

TEST(HttpServer, PassesBodyLowerCasedHeadersAndPeerAddressToHandler) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(post("/echo", "payload", "X-Test: Value\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /echo|127.0.0.1|host,content-length,x-test,|Value|payload");
}

TEST(HttpServer, AcceptsChunkedRequestBody) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(
      client.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.substr(response->body.rfind('|') + 1), "abcde");
}

TEST(HttpServer, AnswersKeepAliveRequestsInOrder) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  for (int i = 0; i < 5; ++i) {
    const std::string target = "/req/" + std::to_string(i);
    ASSERT_TRUE(client.send(get(target)));
    auto response = client.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.rfind("GET " + target + "|", 0), 0u) << response->body;
  }
}

TEST(HttpServer, AnswersPipelinedRequestsInOrder) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/a") + post("/b", "bee") + get("/c")));
  for (const char* expected : {"GET /a|", "POST /b|", "GET /c|"}) {
    auto response = client.read_response();
    ASSERT_TRUE(response) << expected;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.rfind(expected, 0), 0u) << response->body;
  }
}

TEST(HttpServer, ClosesAfterHttp10Request) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send("GET /old HTTP/1.0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, KeepsHttp10ConnectionWhenAskedTo) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(lower(response->header("connection")), "keep-alive");
  }
}

TEST(HttpServer, ClosesWhenClientAsksForClose) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/bye", "Connection: close\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(lower(response->header("connection")), "close");
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, SendsContinueBeforeReadingAnExpectedBody) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.substr(response->body.rfind('|') + 1), "hello");
}

TEST(HttpServer, AnswersHeadWithLengthButNoBody) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after-head")));
  auto head = client.read_response(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_GT(std::stoul(head->header("content-length")), 0u);
  // If the HEAD response had carried a body, this would read it instead of the GET's response.
  auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body.rfind("GET /after-head|", 0), 0u) << next->body;
}

TEST(HttpServer, Sends204WithoutBodyOrLength) {
  RunningServer server(test_config(), [](const Request& request) {
    Response response;
    response.status = request.target == "/none" ? 204 : 200;
    response.body = "ignored-for-204";
    return response;
  });
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/none") + get("/some")));
  auto none = client.read_response();
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 204);
  EXPECT_FALSE(none->has_header("content-length"));
  EXPECT_TRUE(none->body.empty());
  auto some = client.read_response();
  ASSERT_TRUE(some);
  EXPECT_EQ(some->status, 200);
  EXPECT_EQ(some->body, "ignored-for-204");
}

TEST(HttpServer, PassesHandlerHeadersButDropsOnesThatWouldSplitTheResponse) {
  RunningServer server(test_config(), [](const Request&) {
    Response response;
    response.headers = {{"Allow", "GET, POST"},
                        {"X-Evil", "a\r\nSet-Cookie: stolen=1"},
                        {"Content-Length", "999"},
                        {"Retry-After", "7"}};
    response.body = "{}";
    return response;
  });
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/h")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("allow"), "GET, POST");
  EXPECT_EQ(response->header("retry-after"), "7");
  EXPECT_FALSE(response->has_header("x-evil"));
  EXPECT_FALSE(response->has_header("set-cookie"));
  EXPECT_EQ(response->header("content-length"), "2");
  EXPECT_EQ(response->body, "{}");
}

// ---- Limits -----------------------------------------------------------------------------------------

TEST(HttpServer, AcceptsBodyAtLimit) {
  ServerConfig config = test_config();
  config.body_bytes_max = 1000;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(post("/b", std::string(1000, 'x'))));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, RefusesBodyOverLimitWith413AndCloses) {
  ServerConfig config = test_config();
  config.body_bytes_max = 1000;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(post("/b", std::string(1001, 'x'))));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(is_json_error(*response, "body_too_large")) << response->body;
  EXPECT_EQ(lower(response->header("connection")), "close");
  EXPECT_TRUE(client.reads_eof());
  EXPECT_EQ(server.server().stats().requests_body_too_large_total, 1u);
}

TEST(HttpServer, RefusesChunkedBodyOverLimitWith413) {
  ServerConfig config = test_config();
  config.body_bytes_max = 1000;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(
      client.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3e8\r\n" +
                  std::string(1000, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(is_json_error(*response, "body_too_large")) << response->body;
}

TEST(HttpServer, RefusesHugeHeadersWith431AndCloses) {
  ServerConfig config = test_config();
  config.header_bytes_max = 2048;
  RunningServer server(config, echo);
  {
    Client client(server.port());
    ASSERT_TRUE(client.send(get("/fits", "X-Big: " + std::string(1000, 'h') + "\r\n")));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/big", "X-Big: " + std::string(4000, 'h') + "\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(is_json_error(*response, "headers_too_large")) << response->body;
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, AcceptsTargetAtLimit) {
  ServerConfig config = test_config();
  config.target_bytes_max = 100;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/" + std::string(99, 't'))));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, RefusesLongTargetWith414AndCloses) {
  ServerConfig config = test_config();
  config.target_bytes_max = 100;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/" + std::string(100, 't'))));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_TRUE(is_json_error(*response, "uri_too_long")) << response->body;
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, RefusesTargetLongerThanHeaderLimitWith414) {
  ServerConfig config = test_config();
  config.header_bytes_max = 2048;
  config.target_bytes_max = 1024;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/" + std::string(5000, 't'))));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 414);
  EXPECT_TRUE(is_json_error(*response, "uri_too_long")) << response->body;
}

TEST(HttpServer, AnswersGarbageWith400AndCloses) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(std::string("\x01\x02\x03 garbage \xff\r\n\r\n")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(is_json_error(*response, "bad_request")) << response->body;
  EXPECT_EQ(lower(response->header("connection")), "close");
  EXPECT_TRUE(client.reads_eof());
  EXPECT_EQ(server.server().stats().requests_malformed_total, 1u);
}

TEST(HttpServer, AnswersUnsupportedHttpVersionWith400) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send("GET / HTTP/2.0\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(is_json_error(*response, "bad_request")) << response->body;
}

TEST(HttpServer, ClosesConnectionThatSendsRequestTooSlowly) {
  ServerConfig config = test_config();
  config.read_timeout = 200ms;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send("GET /slow HTTP/1.1\r\nHost: t\r\n"));  // never finishes the header
  EXPECT_TRUE(client.reads_eof());
  // The deadline closes the socket before the session counts the timeout; after run() returns,
  // every session has finished.
  ASSERT_TRUE(server.stop_and_wait_for_run_to_return());
  EXPECT_EQ(server.server().stats().read_timeouts_total, 1u);
}

TEST(HttpServer, ClosesKeepAliveConnectionAfterIdleTimeout) {
  ServerConfig config = test_config();
  config.idle_timeout = 200ms;
  RunningServer server(config, echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/once")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(client.reads_eof());
}

// ---- Handler failures and overload ------------------------------------------------------------------

TEST(HttpServer, AnswersHandlerExceptionWith500AndKeepsConnection) {
  RunningServer server(test_config(), [](const Request& request) -> Response {
    if (request.target.rfind("/throw", 0) == 0) throw std::runtime_error("secret detail");
    return echo(request);
  });
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/throw?token=abc")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, R"({"error":{"code":"internal","message":"internal error"}})");
  EXPECT_EQ(response->header("content-type"), "application/json");
  ASSERT_TRUE(client.send(get("/after")));
  auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(server.server().stats().handler_exceptions_total, 1u);
}

TEST(HttpServer, AnswersInvalidHandlerStatusWith500) {
  RunningServer server(test_config(), [](const Request&) {
    Response response;
    response.status = 42;
    return response;
  });
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/bad-status")));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_TRUE(is_json_error(*response, "internal")) << response->body;
}

TEST(HttpServer, BlockingHandlerDoesNotStallOtherConnections) {
  // One I/O thread: if handlers ran on it, /fast could not be answered while /block waits.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> block_started;
  ServerConfig config = test_config();
  config.io_threads = 1;
  config.worker_threads = 2;
  RunningServer server(config, [&](const Request& request) {
    if (request.target == "/block") {
      block_started.set_value();
      released.wait_for(socket_timeout);
    }
    return echo(request);
  });
  Client blocked(server.port());
  ASSERT_TRUE(blocked.send(get("/block")));
  ASSERT_EQ(block_started.get_future().wait_for(socket_timeout), std::future_status::ready);
  Client fast(server.port());
  ASSERT_TRUE(fast.send(get("/fast")));
  auto fast_response = fast.read_response();
  release.set_value();
  ASSERT_TRUE(fast_response);
  EXPECT_EQ(fast_response->status, 200);
  auto blocked_response = blocked.read_response();
  ASSERT_TRUE(blocked_response);
  EXPECT_EQ(blocked_response->status, 200);
}

TEST(HttpServer, AnswersOverloadedWhenTooManyRequestsWaitForAWorker) {
  std::promise<void> first_started;
  std::atomic<bool> first_seen{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ServerConfig config = test_config();
  config.worker_threads = 1;
  config.pending_requests_max = 1;
  RunningServer server(config, [&](const Request& request) {
    if (!first_seen.exchange(true)) first_started.set_value();
    released.wait();
    return echo(request);
  });
  // A occupies the only worker; of B and C, one waits for it (the limit) and one is refused.
  Client a(server.port());
  ASSERT_TRUE(a.send(get("/a")));
  ASSERT_EQ(first_started.get_future().wait_for(socket_timeout), std::future_status::ready);
  Client b(server.port());
  Client c(server.port());
  ASSERT_TRUE(b.send(get("/b")));
  ASSERT_TRUE(c.send(get("/c")));
  const int refused_index = first_readable({&b, &c});
  ASSERT_GE(refused_index, 0) << "neither B nor C was answered";
  Client& refused = refused_index == 0 ? b : c;
  Client& queued = refused_index == 0 ? c : b;
  auto overloaded = refused.read_response();
  ASSERT_TRUE(overloaded);
  EXPECT_EQ(overloaded->status, 503);
  EXPECT_TRUE(is_json_error(*overloaded, "overloaded")) << overloaded->body;
  EXPECT_EQ(overloaded->header("retry-after"), "1");
  release.set_value();
  for (Client* client : {&a, &queued}) {
    auto response = client->read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  // The refused connection stays usable once the server has room again.
  ASSERT_TRUE(refused.send(get("/retry")));
  auto retried = refused.read_response();
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 200);
  EXPECT_EQ(server.server().stats().requests_overloaded_total, 1u);
}

TEST(HttpServer, RefusesConnectionsOverLimitWith503) {
  ServerConfig config = test_config();
  config.connections_max = 1;
  RunningServer server(config, echo);
  auto first = std::make_unique<Client>(server.port());
  ASSERT_TRUE(first->send(get("/first")));
  ASSERT_TRUE(first->read_response());  // the first connection is now being served
  {
    Client second(server.port());
    auto response = second.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 503);
    EXPECT_TRUE(is_json_error(*response, "overloaded")) << response->body;
    EXPECT_EQ(response->header("retry-after"), "1");
    EXPECT_EQ(lower(response->header("connection")), "close");
    EXPECT_TRUE(second.reads_eof());
  }
  EXPECT_EQ(server.server().stats().connections_refused_total, 1u);
  // Once the first leaves, a new connection is served; the server notices the close asynchronously,
  // so retry a bounded number of times.
  first.reset();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    Client next(server.port());
    auto response = next.send(get("/next")) ? next.read_response() : std::nullopt;
    served = response && response->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served);
}

// ---- Streaming responses (Server-Sent Events) --------------------------------------------------------

// An event source the test feeds by hand. The first next() asks for a worker, as a snapshot would.
class TestStream final : public EventStream {
 public:
  Next next(std::string& out, bool may_block) override {
    std::lock_guard lock(mu_);
    if (first_ && !may_block) return Next::needs_worker;
    if (may_block) worker_calls_++;
    first_ = false;
    if (!queue_.empty()) {
      out += queue_.front();
      queue_.erase(queue_.begin());
      return Next::data;
    }
    return ended_ ? Next::end : Next::idle;
  }
  bool arm(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    if (!queue_.empty() || ended_) return false;
    wake_ = std::move(wake);
    return true;
  }
  void push(std::string bytes, bool end = false) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      if (!bytes.empty()) queue_.push_back(std::move(bytes));
      ended_ = ended_ || end;
      wake = std::exchange(wake_, nullptr);
    }
    if (wake) wake();  // outside the lock, from this (non-I/O) thread
  }
  int worker_calls() {
    std::lock_guard lock(mu_);
    return worker_calls_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> queue_{"data: first\n\n"};
  std::function<void()> wake_;
  bool first_ = true;
  bool ended_ = false;
  int worker_calls_ = 0;
};

Handler streaming(std::shared_ptr<TestStream> stream) {
  return [stream](const Request& request) {
    if (request.target != "/stream") return echo(request);
    Response response;
    response.content_type = "text/event-stream";
    response.headers = {{"cache-control", "no-store"}};
    response.stream = stream;
    return response;
  };
}

TEST(HttpServer, StreamsHeadThenEventsAsTheyArriveUntilTheSourceEnds) {
  auto stream = std::make_shared<TestStream>();
  RunningServer server(test_config(), streaming(stream));
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/stream")));
  auto head = client.read_until("\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->rfind("HTTP/1.1 200", 0), 0u) << *head;
  EXPECT_NE(head->find("Content-Type: text/event-stream"), std::string::npos) << *head;
  EXPECT_NE(head->find("cache-control: no-store"), std::string::npos) << *head;
  EXPECT_EQ(lower(*head).find("content-length"), std::string::npos) << "the body ends with the connection";
  EXPECT_NE(lower(*head).find("connection: close"), std::string::npos) << *head;
  EXPECT_EQ(client.read_until("\n\n"), "data: first\n\n");
  EXPECT_EQ(stream->worker_calls(), 1) << "work that may block runs on a worker";
  EXPECT_EQ(server.server().stats().streams_open, 1u);
  stream->push("data: second\n\n");
  EXPECT_EQ(client.read_until("\n\n"), "data: second\n\n");
  stream->push("data: last\n\n", true);
  EXPECT_EQ(client.read_until("\n\n"), "data: last\n\n");
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, IdleStreamGetsHeartbeatComments) {
  ServerConfig config = test_config();
  config.stream_heartbeat = 50ms;
  auto stream = std::make_shared<TestStream>();
  RunningServer server(config, streaming(stream));
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/stream")));
  ASSERT_TRUE(client.read_until("data: first\n\n"));
  EXPECT_EQ(client.read_until("\n\n"), ": hb\n\n");
  EXPECT_EQ(client.read_until("\n\n"), ": hb\n\n");
  stream->push("data: after\n\n");
  EXPECT_TRUE(client.read_until("data: after\n\n"));
}

TEST(HttpServer, StopEndsOpenStreams) {
  auto stream = std::make_shared<TestStream>();
  RunningServer server(test_config(), streaming(stream));
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/stream")));
  ASSERT_TRUE(client.read_until("data: first\n\n"));
  EXPECT_TRUE(server.stop_and_wait_for_run_to_return());
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, StreamsCountAgainstTheConnectionLimit) {
  ServerConfig config = test_config();
  config.connections_max = 1;
  auto stream = std::make_shared<TestStream>();
  RunningServer server(config, streaming(stream));
  Client subscriber(server.port());
  ASSERT_TRUE(subscriber.send(get("/stream")));
  ASSERT_TRUE(subscriber.read_until("data: first\n\n"));
  Client second(server.port());
  auto refused = second.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
}

TEST(HttpServer, HeadOfAStreamGetsTheHeadOnly) {
  auto stream = std::make_shared<TestStream>();
  RunningServer server(test_config(), streaming(stream));
  Client client(server.port());
  ASSERT_TRUE(client.send("HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n"));
  auto response = client.read_response(true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(stream->worker_calls(), 0);
}

// ---- Lifecycle --------------------------------------------------------------------------------------

TEST(HttpServer, StopLetsInFlightRequestFinishAndRunReturns) {
  std::promise<void> started;
  RunningServer server(test_config(), [&](const Request& request) {
    started.set_value();
    std::this_thread::sleep_for(300ms);
    return echo(request);
  });
  auto client = std::make_unique<Client>(server.port());
  ASSERT_TRUE(client->send(get("/slow")));
  ASSERT_EQ(started.get_future().wait_for(socket_timeout), std::future_status::ready);
  std::thread stopper([&] { EXPECT_TRUE(server.stop_and_wait_for_run_to_return()); });
  auto response = client->read_response();
  EXPECT_TRUE(client->reads_eof());
  client.reset();  // the server lingers until the client closes (or a short bound passes)
  stopper.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.rfind("GET /slow|", 0), 0u);
  EXPECT_EQ(lower(response->header("connection")), "close");
}

TEST(HttpServer, StopClosesIdleKeepAliveConnections) {
  RunningServer server(test_config(), echo);
  Client client(server.port());
  ASSERT_TRUE(client.send(get("/once")));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(server.stop_and_wait_for_run_to_return());
  EXPECT_TRUE(client.reads_eof());
}

TEST(HttpServer, StopIsIdempotentAndWorksBeforeRun) {
  Server server(test_config(), echo);
  server.stop();
  server.stop();
  auto done = std::async(std::launch::async, [&] { server.run(); });
  ASSERT_EQ(done.wait_for(run_return_timeout), std::future_status::ready);
  server.stop();
}

TEST(HttpServer, ThrowsClearErrorWhenPortIsTaken) {
  RunningServer first(test_config(), echo);
  ServerConfig config = test_config();
  config.port = first.port();
  try {
    Server second(config, echo);
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos) << e.what();
  }
}

TEST(HttpServer, RejectsInvalidConfig) {
  ServerConfig config = test_config();
  config.io_threads = 0;
  EXPECT_THROW(Server(config, echo), std::runtime_error);
  config = test_config();
  config.header_bytes_max = 10;
  EXPECT_THROW(Server(config, echo), std::runtime_error);
  config = test_config();
  config.read_timeout = 0ms;
  EXPECT_THROW(Server(config, echo), std::runtime_error);
}

}  // namespace

// ---- parse_request: the Session's parser over bytes in memory (what the fuzzer drives) --------------

namespace {

ticketd::http::ServerConfig small_limits() {
  ticketd::http::ServerConfig config;
  config.body_bytes_max = 16;
  config.target_bytes_max = 32;
  config.header_bytes_max = 1024;
  return config;
}

}  // namespace

TEST(ParseRequest, GivesTheRequestWithLowerCasedHeadersAndWhereThePipelinedNextStarts) {
  const std::string first = "POST /v1/x?a=1 HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: V\r\nContent-Length: 2\r\n\r\n{}";
  const auto parsed = ticketd::http::parse_request(first + "GET / HTTP/1.1\r\n\r\n", small_limits());
  ASSERT_TRUE(parsed.request);
  EXPECT_FALSE(parsed.refusal);
  EXPECT_EQ(parsed.request->method, "POST");
  EXPECT_EQ(parsed.request->target, "/v1/x?a=1");
  EXPECT_EQ(parsed.request->header("x-mixed-case"), "V");
  EXPECT_EQ(parsed.request->body, "{}");
  EXPECT_EQ(parsed.bytes_consumed, first.size());
  EXPECT_TRUE(parsed.keep_alive);
}

TEST(ParseRequest, DecodesAChunkedBody) {
  const auto parsed = ticketd::http::parse_request(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", small_limits());
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(parsed.request->body, "abcde");
}

TEST(ParseRequest, SaysNeitherWhenTheBytesEndBeforeTheRequest) {
  for (const char* partial : {"GET / HTT", "GET / HTTP/1.1\r\nHost: h\r\n", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"}) {
    const auto parsed = ticketd::http::parse_request(partial, small_limits());
    EXPECT_FALSE(parsed.request) << partial;
    EXPECT_FALSE(parsed.refusal) << partial;
  }
}

TEST(ParseRequest, RefusesAsTheServerDoes) {
  const auto status_of = [](const std::string& bytes) {
    const auto parsed = ticketd::http::parse_request(bytes, small_limits());
    return parsed.refusal ? parsed.refusal->status : 0;
  };
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 17\r\n\r\n"), 413);    // body limit + 1
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 16\r\n\r\n"), 0);      // at the limit: waits for it
  EXPECT_EQ(status_of("GET /" + std::string(32, 'a') + " HTTP/1.1\r\n\r\n"), 414);  // target limit + 1
  EXPECT_EQ(status_of("GET /" + std::string(31, 'a') + " HTTP/1.1\r\n\r\n"), 0);  // at the limit: complete
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX: " + std::string(1100, 'v') + "\r\n\r\n"), 431);
  EXPECT_EQ(status_of("NOT HTTP AT ALL\r\n\r\n"), 400);
}
