// /v1/events/{id}/checkins (door staff), /v1/events/{id}/door-staff (administrators).
// docs/tickets.md, "Check-in".
#include "app/checkins.hpp"
#include "app/door_feed.hpp"
#include "http/csv.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

// Longer than any code (limits::ticket_code_bytes_max) by far: such a body is not a scan, but a code
// between the two is still answered with a result ("invalid"), as a scanner expects.
constexpr size_t kCodeFieldBytesMax = 4096;

Response no_door() { return error_response(core::Code::NotFound, "no check-in on this server"); }

json::object scan_json(const core::Scan& s) {
  json::object o{{"scan_id", s.scan_id},          {"gate", s.gate},
                 {"device_id", s.device_id},      {"direction", core::to_string(s.direction)},
                 {"scanned_at", format_rfc3339(s.scanned_at)}, {"recorded_at", format_rfc3339(s.recorded_at)},
                 {"result", core::to_string(s.result)}};
  if (s.offline_result) o["offline_result"] = core::to_string(*s.offline_result);
  return o;
}

json::object outcome_json(const core::ScanOutcome& o) {
  json::object out = scan_json(o.scan);
  out["replayed"] = o.replayed;
  if (o.ticket)
    out["ticket"] = json::object{{"id", o.ticket->id},
                                 {"seat_id", o.ticket->seat},
                                 {"booking_id", o.ticket->booking_id},
                                 {"status", core::to_string(o.ticket->status)}};
  if (o.previous) out["previous"] = scan_json(*o.previous);
  return out;
}

core::Result<app::ScanInput> read_scan(const json::object& body) {
  app::ScanInput in;
  auto code = read_string(body, "code", kCodeFieldBytesMax);
  if (!code) return code.error();
  if (!*code) return core::make_error(core::Code::InvalidRequest, "code is required");
  in.code = **code;
  for (auto [field, target] : {std::pair{"gate", &in.gate}, std::pair{"device_id", &in.device_id},
                               std::pair{"scan_id", &in.scan_id}}) {
    auto v = read_string(body, field, 256);
    if (!v) return v.error();
    *target = v->value_or("");
  }
  auto at = read_time(body, "scanned_at");
  if (!at) return at.error();
  in.scanned_at = *at;
  auto direction = read_string(body, "direction", 8);
  if (!direction) return direction.error();
  if (*direction) {
    auto d = core::scan_direction_from(**direction);
    if (!d) return core::make_error(core::Code::InvalidRequest, "direction: \"in\" or \"out\"");
    in.direction = *d;
  }
  auto offline = read_string(body, "offline_result", 16);
  if (!offline) return offline.error();
  if (*offline) {
    auto r = core::checkin_result_from(**offline);
    if (!r) return core::make_error(core::Code::InvalidRequest, "offline_result: a check-in result, as the API answers");
    in.offline_result = *r;
  }
  return in;
}

Response post_checkin(Ctx& c) {
  if (!c.services.checkins) return no_door();
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto input = read_scan(*body);
  if (!input) return error_response(input.error());
  auto outcome = c.services.checkins->scan(user, c.ids[0], *input);
  if (!outcome) return error_response(outcome.error());
  // 200 whatever the result: a refused ticket is an answer, not an error of the request.
  return json_response(200, outcome_json(*outcome));
}

// Doors that disagreed. The earlier scan by scanned_at is the rightful admission ("first"); the ticket
// is inside either way.
Response list_conflicts(Ctx& c) {
  if (!c.services.checkins) return no_door();
  const core::User& user = c.caller();
  auto list = c.services.checkins->conflicts(user, c.ids[0]);
  if (!list) return error_response(list.error());
  json::array out;
  for (const core::CheckinConflict& x : *list) {
    json::object o{{"ticket_id", x.scan.ticket_id}, {"scan", scan_json(x.scan)}};
    if (x.admitted_by) {
      o["admitted_by"] = scan_json(*x.admitted_by);
      o["first"] = x.scan.scanned_at < x.admitted_by->scanned_at ? "scan" : "admitted_by";
    } else {
      o["admitted_by"] = nullptr;
      o["first"] = "scan";
    }
    out.push_back(std::move(o));
  }
  Response r = json_response(200, json::object{{"event_id", c.ids[0]}, {"conflicts", std::move(out)}});
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response scanner_bundle(Ctx& c) {
  if (!c.services.checkins) return no_door();
  const core::User& user = c.caller();
  auto b = c.services.checkins->bundle(user, c.ids[0]);
  if (!b) return error_response(b.error());
  json::array keys;
  for (const app::EventKey& k : b->keys)
    keys.push_back(json::object{{"key_id", k.key_id},
                                {"algorithm", "Ed25519"},
                                {"public_key", app::hex_encode(k.public_key.data(), k.public_key.size())},
                                {"rotation_secret", app::hex_encode(k.rotation_secret.data(), k.rotation_secret.size())}});
  json::array revoked, inside;
  for (const auto& id : b->states.revoked) revoked.push_back(json::string(id));
  for (const auto& id : b->states.checked_in) inside.push_back(json::string(id));
  json::object body{{"event_id", b->event.id},
                    {"event_name", b->event.name},
                    {"starts_at", format_rfc3339(b->event.starts_at)},
                    {"generated_at", format_rfc3339(b->generated_at)},
                    {"code_version", app::kTicketCodeVersion},
                    {"rotation", json::object{{"algorithm", "TOTP-HMAC-SHA256"},
                                              {"step_s", core::limits::ticket_rotation_step.count()},
                                              {"digits", app::kRotatingDigits},
                                              {"skew_steps", core::limits::ticket_rotation_steps_skew_max}}},
                    {"static_codes_accepted", b->event.static_codes_accepted},
                    {"keys", std::move(keys)},
                    {"tickets", b->states.tickets},
                    {"revoked", std::move(revoked)},
                    {"checked_in", std::move(inside)},
                    {"truncated", b->states.truncated}};
  Response r = json_response(200, body);
  r.headers.push_back({"cache-control", "no-store"});  // rotation secrets
  return r;
}

// The door feed as Server-Sent Events (docs/tickets.md, "The door feed"). Items are small JSON
// objects; gate names are the scanners' own text, so everything goes through the JSON serializer.
class DoorEventStream final : public EventStream {
 public:
  explicit DoorEventStream(std::shared_ptr<app::DoorSubscription> sub) : sub_(std::move(sub)) {}

  Next next(std::string& out, bool /*may_block*/) override {
    items_.clear();
    if (!started_) {
      out += "retry: 2000\n\n";
      started_ = true;
      sub_->poll(items_);
      for (const auto& item : items_) frame(*item, out);
      return Next::data;  // the head and the retry line at once: the scanner knows it is connected
    }
    if (!sub_->poll(items_)) return Next::idle;
    for (const auto& item : items_) frame(*item, out);
    return Next::data;
  }

  bool arm(std::function<void()> wake) override { return sub_->arm(std::move(wake)); }

 private:
  static void frame(const app::DoorItem& item, std::string& out) {
    json::object data;
    const char* name = "ticket";
    switch (item.kind) {
      case app::DoorItem::Kind::ticket:
        data = json::object{{"ticket_id", item.change.ticket_id},
                            {"status", core::to_string(item.change.status)},
                            {"gate", item.change.gate},
                            {"changed_at", format_rfc3339(item.change.changed_at)}};
        break;
      case app::DoorItem::Kind::gates: {
        name = "gates";
        json::array gates;
        uint64_t inside = 0;
        for (const core::GateCount& g : item.gates) {
          gates.push_back(json::object{{"gate", g.gate}, {"inside", g.inside}});
          inside += g.inside;
        }
        data = json::object{{"inside", inside}, {"gates", std::move(gates)}};
        break;
      }
      case app::DoorItem::Kind::resync:
        name = "resync";
        break;
    }
    out += "id: " + std::to_string(item.seq) + "\nevent: " + name + "\ndata: " + json::serialize(data) + "\n\n";
  }

  const std::shared_ptr<app::DoorSubscription> sub_;
  std::vector<std::shared_ptr<const app::DoorItem>> items_;
  bool started_ = false;
};

Response checkin_stream(Ctx& c) {
  if (!c.services.checkins || !c.services.door_feed) return no_door();
  const core::User& user = c.caller();
  if (auto s = c.services.checkins->may_scan(user, c.ids[0]); !s) return error_response(s.error());
  auto sub = c.services.door_feed->subscribe(c.ids[0]);
  if (!sub) return error_response(sub.error());
  Response r;
  r.content_type = "text/event-stream";
  r.headers = {{"cache-control", "no-store, no-transform"}, {"x-accel-buffering", "no"}};
  r.stream = std::make_shared<DoorEventStream>(std::move(*sub));
  return r;
}

// The attendee list as CSV, streamed a page of tickets at a time (a 200,000-seat event is ~20 MB):
// docs/console.md, "Attendees". Each page is read on a worker (it blocks on the store).
class AttendeeCsv final : public EventStream {
 public:
  AttendeeCsv(app::Checkins& checkins, core::EventId event) : checkins_(checkins), event_(event) {}

  Next next(std::string& out, bool may_block) override {
    if (done_) return Next::end;
    if (!may_block) return Next::needs_worker;
    if (!started_) {
      out += "ticket_id,status,section,row,seat,booking_id,holder_email,holder_name,gate,revoked_reason\r\n";
      started_ = true;
    }
    auto page = checkins_.attendees(event_, after_, app::kAttendeesPageMax);
    if (!page || page->empty()) {
      done_ = true;  // a failed page ends the file short: the download fails visibly, never silently wrong
      return out.empty() ? Next::end : Next::data;
    }
    for (const app::AttendeeRow& r : *page) {
      const core::Ticket& t = r.attendee.ticket;
      for (const std::string& cell : {t.id, std::string(core::to_string(t.status)), r.section, r.row,
                                      std::to_string(r.seat_number), std::to_string(t.booking_id), r.attendee.email,
                                      r.attendee.name, r.attendee.gate, t.revoked_reason}) {
        append_csv_cell(out, cell);
        out += ',';
      }
      out.back() = '\r';
      out += '\n';
    }
    after_ = page->back().attendee.ticket.id;
    if (page->size() < app::kAttendeesPageMax) done_ = true;
    return Next::data;
  }

  bool arm(std::function<void()>) override { return false; }  // never idle: there is always a next page or the end

 private:
  app::Checkins& checkins_;
  const core::EventId event_;
  std::string after_;
  bool started_ = false;
  bool done_ = false;
};

Response attendees_csv(Ctx& c) {
  if (!c.services.checkins) return no_door();
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers = {{"cache-control", "no-store"},
               {"content-disposition", "attachment; filename=\"attendees-" + std::to_string(c.ids[0]) + ".csv\""}};
  r.stream = std::make_shared<AttendeeCsv>(*c.services.checkins, c.ids[0]);
  return r;
}

Response add_staff(Ctx& c) {
  if (!c.services.checkins) return no_door();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", core::limits::email_bytes_max);
  if (!email) return error_response(email.error());
  if (!*email) return error_response(core::Code::InvalidRequest, "email is required");
  auto staff = c.services.checkins->grant_staff(c.ids[0], **email);
  if (!staff) return error_response(staff.error());
  return json_response(201, json::object{{"event_id", c.ids[0]}, {"user_id", staff->id}, {"email", staff->email}});
}

Response list_staff(Ctx& c) {
  if (!c.services.checkins) return no_door();
  auto staff = c.services.checkins->staff_of(c.ids[0]);
  if (!staff) return error_response(staff.error());
  json::array ids;
  for (core::UserId id : *staff) ids.push_back(id);
  return json_response(200, json::object{{"event_id", c.ids[0]}, {"user_ids", std::move(ids)}});
}

Response remove_staff(Ctx& c) {
  if (!c.services.checkins) return no_door();
  if (auto s = c.services.checkins->revoke_staff(c.ids[0], c.ids[1]); !s) return error_response(s.error());
  return no_content();
}

}  // namespace

void add_checkin_routes(Router& router) {
  router.add("POST", "/v1/events/{id}/checkins", post_checkin);
  router.add("GET", "/v1/events/{id}/checkins/stream", checkin_stream);
  router.add("GET", "/v1/events/{id}/checkins/conflicts", list_conflicts);
  router.add("GET", "/v1/events/{id}/attendees.csv", attendees_csv, {.who = Caller::event_manager});
  router.add("GET", "/v1/events/{id}/scanner-bundle", scanner_bundle);
  router.add("POST", "/v1/events/{id}/door-staff", add_staff, {.who = Caller::event_manager, .limit = RouteClass::admin, .audit = Audit::request_and_result});
  router.add("GET", "/v1/events/{id}/door-staff", list_staff, {.who = Caller::event_manager});
  router.add("DELETE", "/v1/events/{id}/door-staff/{id}", remove_staff, {.who = Caller::event_manager, .limit = RouteClass::admin, .audit = Audit::request});
}

}  // namespace ticketd::http
