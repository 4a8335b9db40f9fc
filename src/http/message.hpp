// HTTP messages as plain values, shared by the transport (server.cpp) and everything above it
// (router, handlers). Deliberately free of Boost so handlers never compile Asio or Beast.
//
// Ownership: every field is owned by value; a Request is built by the transport, lent to the Handler
// for the duration of one call, and discarded afterwards. Thread safety: plain values, no sharing.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::http {

struct Header {
  std::string name;  // lower-cased by the server on requests
  std::string value;
};

struct Request {
  std::string method;           // "GET", "POST", ... exactly as received
  std::string target;           // path + optional "?query", as received (not decoded)
  std::vector<Header> headers;  // in arrival order; names lower-case; bounded by header_bytes_max
  std::string body;             // bounded by body_bytes_max; chunked bodies arrive decoded
  std::string remote_address;   // peer IP as text ("127.0.0.1", "::1")
  // Set by an InlineHandler that charged the request's rate limits and then passed it on to the
  // Handler, so the Handler does not charge it twice. The transport only carries it.
  bool admitted = false;
  // Set by the transport once a Preparer made ready what the InlineHandler lacked, before it asks the
  // InlineHandler again: what was read for it (a checkout's idempotency key, found unused) holds.
  bool prepared = false;

  // Returns the value of the first header with this name, or "" if absent.
  // REQUIRES: lower_name is lower-case (names are stored lower-cased, so a mixed-case name never
  // matches).
  std::string_view header(std::string_view lower_name) const {
    for (const Header& h : headers) {
      if (h.name == lower_name) return h.value;
    }
    return {};
  }
};

// A response body that goes on after the head (Server-Sent Events). The transport writes the head,
// then whatever next() appends, until next() says end, the client leaves, a write takes longer than
// the write timeout, or the server stops; while idle it writes a heartbeat comment (": hb") at an
// interval. The connection is closed afterwards (the body is delimited by the close).
//
// Thread safety: next() and arm() are called one at a time, from an I/O thread (may_block false) or a
// worker (may_block true); `wake` may be called from any thread.
class EventStream {
 public:
  enum class Next { data, idle, needs_worker, end };
  virtual ~EventStream() = default;
  // Appends ready bytes to `out` (data). idle: nothing now; needs_worker: there is work that may
  // block, call again with may_block = true from a worker thread. Never blocks when !may_block.
  virtual Next next(std::string& out, bool may_block) = 0;
  // After idle: arrange for wake() to be called once when next() may have more. False: it already
  // has (call next() again), and wake will not be called.
  virtual bool arm(std::function<void()> wake) = 0;
};

struct Response {
  int status = 200;                               // 200..599
  std::string content_type = "application/json";  // "" = no Content-Type header
  // Extra headers (Allow, Retry-After, Cache-Control, ETag...). The transport owns framing, so
  // Content-Length, Transfer-Encoding, Connection and Server given here are ignored, as is any header
  // whose name is empty or holds ':' or whitespace, or whose value holds CR, LF or NUL (that would
  // split the response).
  std::vector<Header> headers;
  std::string body;  // dropped for 204/304 and for HEAD requests (Content-Length still tells its size)
  // Non-null with status 200: a streaming response; `body` is ignored and the stream follows the head.
  std::shared_ptr<EventStream> stream;
};

// Runs on a worker thread, never on an I/O thread, so it may block (database commit, password
// hashing). Calls for different connections run concurrently; calls for one connection run one at a
// time, in request order. Must not throw; if it does anyway, the server answers
// 500 {"error":{"code":"internal","message":"internal error"}} and logs one line.
using Handler = std::function<Response(const Request&)>;

// An answer that comes later: made by `make` on the connection's strand (the cost of building it stays
// off whichever thread replied). A Reply may be called from any thread, at most once; a Reply dropped
// uncalled answers 500. The Request it answers stays alive until it is called.
using ResponseMaker = std::function<Response()>;
using Reply = std::function<void(ResponseMaker make)>;

// Runs on the connection's I/O thread, before the Handler is considered. True: it took the request and
// answers through `reply`, at once (a request that needs nothing that can block: no store, no gateway,
// no file) or later (a hold, after its commit, with no thread parked meanwhile). False: it did not take
// it (nothing done; `reply` unused) and the request goes to the worker pool. Skipping the pool's two
// thread hops is what makes the cheap answers cheap. Must not block and must not throw (if it does: 500).
using InlineHandler = std::function<bool(Request&, Reply reply)>;

// Runs on the connection's I/O thread for a request the InlineHandler passed, before the Handler is
// considered. True: it started making ready what the InlineHandler lacked (a session to read from the
// store) and calls `ready` once, from any thread: true when it is ready and the InlineHandler is to be
// asked again, false when the Handler is to answer. False: nothing to make ready (`ready` unused), and
// the Handler answers. What it spares: a worker woken, parked on the read and on the hold's commit,
// and woken again, for every request of a buyer this node has not seen yet (most of a flash sale's).
// Must not block and must not throw (if it does: as false).
using Ready = std::function<void(bool ready)>;
using Preparer = std::function<bool(const Request&, Ready ready)>;

}  // namespace ticketd::http
