// What the tests of calls between nodes share (peer_client_test.cpp, forward_batches_test.cpp): a peer
// client's config, a server that answers like another node, and a port nothing listens on.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "../http/running_server.hpp"
#include "cluster/peer_client.hpp"

namespace ticketd::cluster::test_peers {

inline constexpr const char* kKey = "peer-key-for-tests-0123456789";

inline PeerConfig config() {
  PeerConfig c;
  c.key = kKey;
  c.connections_max = 8;
  return c;
}

// Workers enough for calls that wait inside the server's handler.
inline http::ServerConfig server_config() {
  auto c = test_support::test_config();
  c.worker_threads = 16;
  return c;
}

inline std::string address_of(const test_support::RunningServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

// A loopback port nothing listens on (bound, then closed).
inline uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace ticketd::cluster::test_peers
