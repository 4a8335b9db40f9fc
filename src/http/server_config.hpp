// ServerConfig's checks: the bounds a config must keep and the defaults derived from it, applied once
// when the Server is built.
// Thread safety: pure functions.
#pragma once

#include <cstddef>

#include "http/server.hpp"

namespace ticketd::http::detail {

// Config bounds.
constexpr int io_threads_max = 256;
constexpr int worker_threads_max = 1024;
constexpr size_t header_bytes_min = 256;  // a request line and a Host header must fit

// `config` with its derived defaults filled in (streams_max 0: half of connections_max;
// streams_per_ip_max lowered to streams_max). Throws std::runtime_error ("ticketd http: invalid
// config: ...") naming the first setting out of bounds.
ServerConfig validated(ServerConfig config);

}  // namespace ticketd::http::detail
