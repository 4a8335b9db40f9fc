// GET /v1/events/{id}/seats/stream: the live seat map as Server-Sent Events (format in docs/api.md).
// The stream itself is an app::SeatSubscription; this file only frames its items as SSE.
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace {

// How long a browser waits before reconnecting (with Last-Event-ID) after the stream drops.
constexpr int kReconnectDelayMs = 2000;

const char* status_name(core::SeatStatus s) {
  switch (s) {
    case core::SeatStatus::Available: return "AVAILABLE";
    case core::SeatStatus::Held: return "HELD";
    case core::SeatStatus::Sold: return "SOLD";
  }
  return "AVAILABLE";
}

class SeatEventStream final : public EventStream {
 public:
  // slot: the caller's account stream slot (http/account_streams.hpp), held while the stream lives.
  SeatEventStream(std::shared_ptr<app::SeatSubscription> sub, std::shared_ptr<void> slot)
      : sub_(std::move(sub)), slot_(std::move(slot)) {}

  Next next(std::string& out, bool may_block) override {
    items_.clear();
    const auto polled = sub_->poll(items_, may_block);
    if (polled == app::SeatSubscription::Poll::needs_snapshot) return Next::needs_worker;
    if (polled == app::SeatSubscription::Poll::failed) return Next::end;
    if (items_.empty()) return Next::idle;
    if (!started_) {
      out += "retry: " + std::to_string(kReconnectDelayMs) + "\n\n";
      started_ = true;
    }
    for (const app::StreamItem& item : items_) frame(item, out);
    return Next::data;
  }

  bool arm(std::function<void()> wake) override { return sub_->arm(std::move(wake)); }

 private:
  void frame(const app::StreamItem& item, std::string& out) const {
    const std::string event_id = std::to_string(sub_->event_id());
    const std::string version = std::to_string(item.version);
    out += "id: " + sub_->item_id(item.version) + "\n";
    if (item.kind == app::StreamItem::Kind::snapshot) {
      // status is only A, H and S: no JSON escaping needed.
      out += "event: snapshot\ndata: {\"event_id\":" + event_id + ",\"version\":" + version + ",\"status\":\"" +
             item.status + "\"}\n\n";
      return;
    }
    out += "event: seats\ndata: {\"event_id\":" + event_id + ",\"version\":" + version + ",\"status\":\"" +
           status_name(item.change->status) + "\",\"seat_ids\":[";
    bool first = true;
    for (core::SeatId s : item.change->seats) {
      if (!first) out += ',';
      out += std::to_string(s);
      first = false;
    }
    out += "]}\n\n";
  }

  const std::shared_ptr<app::SeatSubscription> sub_;
  const std::shared_ptr<void> slot_;
  std::vector<app::StreamItem> items_;  // reused between calls
  bool started_ = false;
};

Response seat_stream(Ctx& c) {
  if (!c.services.seat_stream) return error_response(core::Code::NotFound, "live seat maps are not enabled");
  auto event = c.services.catalog.event(c.ids[0]);
  if (!event) return error_response(event.error());
  const std::string_view last_event_id = c.request.header("last-event-id");
  if (last_event_id.size() > 64) return error_response(core::Code::InvalidRequest, "Last-Event-ID: too long");
  // A signed-in caller's streams count against its account too (an anonymous one's, or a bad
  // token's, only against its address: the seat map is public).
  std::shared_ptr<void> slot;
  if (c.services.account_streams && !c.request.header("authorization").empty()) {
    if (auto user = c.user(); user.ok()) {
      slot = c.services.account_streams->acquire(user->id);
      if (!slot)
        return error_response(HttpError::too_many_streams, "this account has as many live streams open as it may");
    }
  }
  auto sub = c.services.seat_stream->subscribe(event->id, last_event_id);
  if (!sub) return error_response(sub.error());
  Response r;
  r.content_type = "text/event-stream";
  // no-transform and X-Accel-Buffering: proxies must pass events through as they come.
  r.headers = {{"cache-control", "no-store, no-transform"}, {"x-accel-buffering", "no"}};
  r.stream = std::make_shared<SeatEventStream>(std::move(*sub), std::move(slot));
  return r;
}

}  // namespace

void add_seat_stream_routes(Router& router) { router.add("GET", "/v1/events/{id}/seats/stream", seat_stream, {.who = Caller::anyone}); }

}  // namespace ticketd::http
