// TLS on the listener (ServerConfig::tls_cert_file / tls_key_file): a real Server with a self-signed
// certificate made for the test by the openssl command, spoken to by a blocking OpenSSL client (so the
// test does not trust Asio's TLS layer to check Asio's TLS layer). No timing assertions: every wait is a
// generous bound that only keeps a broken build from hanging CI.
#include "http/server.hpp"
#include "running_server.hpp"
#include "support/temp_dir.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;
using ticketd::http::Request;
using ticketd::http::Response;
using ticketd::http::Server;
using ticketd::http::ServerConfig;
using ticketd::test_support::RunningServer;
using ticketd::test_support::TempDir;
using ticketd::test_support::test_config;
namespace fs = std::filesystem;

constexpr auto socket_timeout = 10s;

// A self-signed certificate for 127.0.0.1 and its key, in a temporary directory removed at exit
// (the static instance below lives until then).
class TestCertificate {
 public:
  TestCertificate() {
    const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                                " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                                key().string() + " -out " + cert().string() + " 2>/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed: " + command);
  }
  fs::path cert() const { return dir_.path / "cert.pem"; }
  fs::path key() const { return dir_.path / "key.pem"; }
  fs::path dir() const { return dir_.path; }

 private:
  TempDir dir_{"ticketd-tls-test"};
};

const TestCertificate& certificate() {
  static const TestCertificate instance;
  return instance;
}

Response hello(const Request& request) {
  Response response;
  response.content_type = "text/plain";
  response.body = "hello " + request.target;
  return response;
}

ServerConfig tls_config() {
  ServerConfig config = test_config();
  config.tls_cert_file = certificate().cert().string();
  config.tls_key_file = certificate().key().string();
  return config;
}


int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{};
  tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(socket_timeout).count();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  return fd;
}

// A blocking TLS client that verifies the server's certificate against the test certificate.
class TlsClient {
 public:
  explicit TlsClient(uint16_t port, int max_version = 0) : fd_(connect_to(port)) {
    context_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(context_.get(), certificate().cert().c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load the test certificate");
    }
    if (max_version != 0) SSL_CTX_set_max_proto_version(context_.get(), max_version);
    ssl_.reset(SSL_new(context_.get()));
    SSL_set_fd(ssl_.get(), fd_);
  }
  ~TlsClient() { ::close(fd_); }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool handshake() { return SSL_connect(ssl_.get()) == 1; }
  std::string version() const { return SSL_get_version(ssl_.get()); }

  bool send(std::string_view bytes) {
    return SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size());
  }

  // Reads until `needle` has arrived; nullopt on close, error or timeout first.
  std::optional<std::string> read_until(std::string_view needle) {
    while (buffer_.find(needle) == std::string::npos) {
      char chunk[4096];
      const int n = SSL_read(ssl_.get(), chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    const size_t end = buffer_.find(needle) + needle.size();
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return out;
  }

  // True when the server ended the TLS session with close_notify (a clean end, not a truncation).
  bool reads_clean_close() {
    char byte = 0;
    const int n = SSL_read(ssl_.get(), &byte, 1);
    return n <= 0 && SSL_get_error(ssl_.get(), n) == SSL_ERROR_ZERO_RETURN;
  }

 private:
  struct FreeContext {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };
  struct FreeSsl {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  int fd_;
  std::unique_ptr<SSL_CTX, FreeContext> context_;
  std::unique_ptr<SSL, FreeSsl> ssl_;
  std::string buffer_;
};

std::string get(std::string_view target, std::string_view connection = "keep-alive") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + std::string(connection) +
         "\r\n\r\n";
}

// True when the peer closed the plain socket (EOF or reset) before `socket_timeout`.
bool plain_socket_closed(int fd) {
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

TEST(HttpServerTls, AnswersRequestsOverTlsOnAKeptAliveConnection) {
  RunningServer server(tls_config(), hello);
  TlsClient client(server.port());
  ASSERT_TRUE(client.handshake());
  for (const char* target : {"/first", "/second"}) {
    ASSERT_TRUE(client.send(get(target)));
    const std::optional<std::string> response = client.read_until(std::string("hello ") + target);
    ASSERT_TRUE(response.has_value()) << target;
    EXPECT_EQ(response->rfind("HTTP/1.1 200", 0), 0u) << *response;
  }
}

TEST(HttpServerTls, EndsAConnectionCloseResponseWithCloseNotify) {
  RunningServer server(tls_config(), hello);
  TlsClient client(server.port());
  ASSERT_TRUE(client.handshake());
  ASSERT_TRUE(client.send(get("/bye", "close")));
  ASSERT_TRUE(client.read_until("hello /bye").has_value());
  EXPECT_TRUE(client.reads_clean_close());
}

TEST(HttpServerTls, RefusesTlsOlderThan12) {
  RunningServer server(tls_config(), hello);
  TlsClient old_client(server.port(), TLS1_1_VERSION);
  EXPECT_FALSE(old_client.handshake());
  TlsClient client(server.port());
  ASSERT_TRUE(client.handshake());
  EXPECT_TRUE(client.version() == "TLSv1.2" || client.version() == "TLSv1.3") << client.version();
}

TEST(HttpServerTls, ClosesAPlainHttpClientAndCountsTheFailedHandshake) {
  RunningServer server(tls_config(), hello);
  const int fd = connect_to(server.port());
  const std::string request = get("/plain", "close");
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  EXPECT_TRUE(plain_socket_closed(fd));
  ::close(fd);
  // The session counts the failure as it ends, just after the socket closes.
  for (int i = 0; i < 1000 && server.server().stats().tls_handshake_failures_total == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.server().stats().tls_handshake_failures_total, 1u);
}

TEST(HttpServerTls, ClosesAClientThatNeverStartsTheHandshake) {
  ServerConfig config = tls_config();
  config.read_timeout = 200ms;  // the handshake runs under the read timeout (slowloris)
  RunningServer server(config, hello);
  const int fd = connect_to(server.port());
  EXPECT_TRUE(plain_socket_closed(fd));
  ::close(fd);
}

TEST(HttpServerTls, RejectsACertificateWithoutKeyAndFilesItCannotUse) {
  ServerConfig config = tls_config();
  config.tls_key_file.clear();
  EXPECT_THROW(Server(config, hello), std::runtime_error);

  config = tls_config();
  config.tls_cert_file = (certificate().dir() / "missing.pem").string();
  try {
    Server server(config, hello);
    FAIL() << "a missing certificate was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }

  // A key that belongs to another certificate.
  const fs::path other_key = certificate().dir() / "other-key.pem";
  const std::string command = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out " +
                              other_key.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  config = tls_config();
  config.tls_key_file = other_key.string();
  EXPECT_THROW(Server(config, hello), std::runtime_error);
}

}  // namespace
