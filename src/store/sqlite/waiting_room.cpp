// See waiting_room.hpp. Layout of one room in memory:
//   entries[i]   the i-th user to join (i is the row's seq on disk)
//   order[r]     the entry at rank r (0 = first in line); built by the draw, appended by later joins
//   index        user id -> i, open addressing over 4-byte slots
//   batches      one per admission: ranks [first, first + count) admitted at `at`
// Ranks below `head` are admitted; an admitted entry's state bits say Engaged or Expired, else it
// is Admitted. Ranks are not stored on disk: the draw is recomputed from the lottery keys on load.
#include "store/sqlite/waiting_room.hpp"

#include <spdlog/spdlog.h>

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>

#include "core/waiting_room.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

constexpr uint64_t kLowMask = (uint64_t{1} << 52) - 1;  // lottery key before the draw, rank after
constexpr uint64_t kLeftBit = uint64_t{1} << 58;  // the user joined again: a later entry is theirs
constexpr uint64_t kEarlyBit = uint64_t{1} << 59;
constexpr int kStateShift = 60;
enum StateBits : uint64_t { kNone = 0, kEngaged = 2, kExpired = 3 };  // values stored on disk too

struct Entry {
  int64_t user = 0;
  uint64_t bits = 0;
  uint64_t low() const { return bits & kLowMask; }
  uint64_t state() const { return bits >> kStateShift; }
  bool early() const { return (bits & kEarlyBit) != 0; }
  bool left() const { return (bits & kLeftBit) != 0; }
  void set_low(uint64_t v) { bits = (bits & ~kLowMask) | (v & kLowMask); }
  void set_state(uint64_t s) { bits = (bits & ~(uint64_t{0xf} << kStateShift)) | (s << kStateShift); }
};
static_assert(sizeof(Entry) == 16, "an entry is 16 bytes: see the memory figure in waiting_room.hpp");
static_assert(core::limits::queue_entries_max < UINT32_MAX / 2, "entry indexes, ranks and index slots are 32-bit");

struct Batch {
  uint32_t first = 0;
  uint32_t count = 0;
  int64_t at_ms = 0;
};

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: user ids are sequential, slots must not be
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// user id -> entry index. Linear probing; grows (doubling) before the load factor passes 1/2.
class UserIndex {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::optional<uint32_t> find(int64_t user, const std::vector<Entry>& entries) const {
    if (slots_.empty()) return std::nullopt;
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(static_cast<uint64_t>(user)) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == kEmpty) return std::nullopt;
      if (entries[slots_[i]].user == user) return slots_[i];
    }
  }
  void insert(uint32_t idx, const std::vector<Entry>& entries) {
    if ((used_ + 1) * 2 > slots_.size()) grow(entries);
    place(idx, entries);
    ++used_;
  }
  // The user's slot names `idx` from now on. REQUIRES: the user is in the index; entries[idx] is theirs.
  void repoint(uint32_t idx, const std::vector<Entry>& entries) {
    const int64_t user = entries[idx].user;
    const size_t mask = slots_.size() - 1;
    for (size_t i = mix(static_cast<uint64_t>(user)) & mask;; i = (i + 1) & mask) {
      TICKETD_ASSERT(slots_[i] != kEmpty);
      if (entries[slots_[i]].user == user) {
        slots_[i] = idx;
        return;
      }
    }
  }
  size_t bytes() const { return slots_.capacity() * sizeof(uint32_t); }

 private:
  void place(uint32_t idx, const std::vector<Entry>& entries) {
    const size_t mask = slots_.size() - 1;
    size_t i = mix(static_cast<uint64_t>(entries[idx].user)) & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = idx;
  }
  void grow(const std::vector<Entry>& entries) {
    std::vector<uint32_t> old = std::move(slots_);
    slots_.assign(std::max<size_t>(64, old.size() * 2), kEmpty);
    for (uint32_t idx : old)
      if (idx != kEmpty) place(idx, entries);
  }
  std::vector<uint32_t> slots_;
  size_t used_ = 0;
};

std::string hex(const core::LotterySeed& seed) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : seed) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

core::LotterySeed unhex(const std::string& s) {
  core::LotterySeed seed{};
  TICKETD_ASSERT(s.size() == seed.size() * 2);
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
  return seed;
}

void must(core::Status s) {
  if (!s) std::fprintf(stderr, "ticketd: waiting-room write failed: %s\n", s.error().message.c_str());
  TICKETD_ASSERT(s.ok());
}

core::Status set_entry_state(Connection& c, core::EventId event, uint32_t seq, uint64_t state) {
  auto& st = c.prepare("UPDATE queue_entries SET state = ?3 WHERE event_id = ?1 AND seq = ?2");
  st.bind(1, event).bind(2, int64_t{seq}).bind(3, static_cast<int64_t>(state));
  if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "queue entry update failed");
  return core::ok_status();
}

}  // namespace

struct SqliteWaitingRoomStore::Room {
  std::mutex mu;  // guards everything below
  core::EventId event = 0;
  core::RoomRecord rec;
  std::vector<Entry> entries;
  std::vector<uint32_t> order;
  UserIndex index;
  std::vector<Batch> batches;
  uint64_t head = 0;           // ranks below are admitted
  uint64_t expire_cursor = 0;  // ranks below were checked for expiry

  // Orders the early joiners by lottery key (ties: who came first), in memory. REQUIRES: mu, !drawn.
  void draw_in_memory(TimeMs now) {
    TICKETD_ASSERT(!rec.drawn && order.empty());
    order.resize(entries.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return entries[a].low() != entries[b].low() ? entries[a].low() < entries[b].low() : a < b;
    });
    for (uint32_t r = 0; r < order.size(); ++r) entries[order[r]].set_low(r);
    rec.drawn = true;
    rec.drawn_at = now;
  }
  TimeMs admitted_at(uint64_t rank) const {
    auto it = std::upper_bound(batches.begin(), batches.end(), rank,
                               [](uint64_t r, const Batch& b) { return r < b.first; });
    TICKETD_ASSERT(it != batches.begin());
    return from_unix_ms(std::prev(it)->at_ms);
  }
  core::Place place_of(const Entry& e) const {
    core::Place p;
    p.early = e.early();
    if (!rec.drawn) return p;  // Waiting, position unknown until the draw
    const uint64_t rank = e.low();
    if (rank >= head) {
      p.position = rank - head + 1;
      return p;
    }
    p.admitted_at = admitted_at(rank);
    p.state = e.state() == kEngaged ? core::PlaceState::Engaged
              : e.state() == kExpired ? core::PlaceState::Expired : core::PlaceState::Admitted;
    return p;
  }
  void refresh_counts() {
    rec.waiting = entries.size() - head;
    rec.admitted_total = head;
    rec.admitted_outstanding = head - rec.engaged_total - rec.expired_total;
  }
};

SqliteWaitingRoomStore::SqliteWaitingRoomStore(Database& db) : db_(db) { load_all(); }
SqliteWaitingRoomStore::~SqliteWaitingRoomStore() = default;

void SqliteWaitingRoomStore::load_all() {
  auto r = db_.readers().acquire();
  std::vector<std::pair<std::shared_ptr<Room>, std::string>> loaded;  // a room and its stored seed (hex)
  auto& rooms = r->prepare("SELECT event_id, seed, commitment, drawn_at FROM queue_rooms");
  while (rooms.step()) {
    auto room = std::make_shared<Room>();
    room->event = rooms.int64(0);
    room->rec.commitment = rooms.text(2);
    if (!rooms.is_null(3)) room->rec.drawn_at = from_unix_ms(rooms.int64(3));
    room->rec.drawn = !rooms.is_null(3);
    loaded.emplace_back(room, rooms.text(1));
  }
  rooms.reset();
  for (auto& [room, seed_hex] : loaded) {
    // A room whose rows do not fit together (edited by hand, a disk fault) is closed, not trusted and
    // not fatal: the server starts, the log says which room, and its event's queue answers 503.
    if (std::string damage = load_room(*r, *room, seed_hex); !damage.empty()) {
      spdlog::error("waiting room of event {} is damaged and stays closed: {}", room->event, damage);
      damaged_.insert(room->event);
      continue;
    }
    rooms_[room->event] = room;
  }
}

std::string SqliteWaitingRoomStore::load_room(Connection& r, Room& room, const std::string& seed_hex) {
  if (seed_hex.size() != room.rec.seed.size() * 2 || seed_hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    return "its seed is not " + std::to_string(room.rec.seed.size() * 2) + " hex digits";
  room.rec.seed = unhex(seed_hex);
  auto& st = r.prepare("SELECT seq, user_id, early_key, state, left_at FROM queue_entries WHERE event_id = ?1 "
                       "ORDER BY seq");
  st.bind(1, room.event);
  std::vector<uint32_t> late;
  std::string damage;
  while (damage.empty() && st.step()) {
    const int64_t state = st.int64(3);
    if (static_cast<uint64_t>(st.int64(0)) != room.entries.size())
      damage = "entry " + std::to_string(st.int64(0)) + " where " + std::to_string(room.entries.size()) + " belongs";
    else if (state != static_cast<int64_t>(kNone) && state != static_cast<int64_t>(kEngaged) &&
             state != static_cast<int64_t>(kExpired))
      damage = "entry " + std::to_string(st.int64(0)) + " has state " + std::to_string(state);
    else if (!st.is_null(2) && !late.empty())
      damage = "an early entry after a late one";
    else if (room.entries.size() >= core::limits::queue_entries_max)
      damage = "more than " + std::to_string(core::limits::queue_entries_max) + " entries";
    if (!damage.empty()) break;
    Entry e{st.int64(1), 0};
    if (!st.is_null(2)) e.bits = kEarlyBit | (static_cast<uint64_t>(st.int64(2)) & kLowMask);
    else late.push_back(static_cast<uint32_t>(room.entries.size()));
    e.set_state(static_cast<uint64_t>(state));
    if (st.int64(4) != 0) e.bits |= kLeftBit;
    if (e.state() == kEngaged) ++room.rec.engaged_total;
    if (e.state() == kExpired) ++room.rec.expired_total;
    room.rec.early += e.early() ? 1 : 0;
    room.entries.push_back(e);
  }
  st.reset();
  if (!damage.empty()) return damage;
  for (uint32_t i = 0; i < room.entries.size(); ++i) {
    if (room.entries[i].left()) continue;  // the user's later entry is their place
    if (room.index.find(room.entries[i].user, room.entries)) return "two places of user " + std::to_string(room.entries[i].user);
    room.index.insert(i, room.entries);
  }
  if (room.rec.drawn) {
    // The draw again, from the same keys: the same order. Later joiners follow in arrival order (early
    // entries come first: checked above).
    std::vector<Entry> early(room.entries.begin(), room.entries.begin() + static_cast<long>(room.rec.early));
    const TimeMs drawn_at = room.rec.drawn_at;
    room.rec.drawn = false;
    std::vector<Entry> all = std::move(room.entries);
    room.entries = std::move(early);
    room.draw_in_memory(drawn_at);
    for (uint32_t i : late) {
      TICKETD_ASSERT(i == room.entries.size());  // late entries follow the early ones without gaps: checked above
      Entry e = all[i];
      e.set_low(room.order.size());
      room.order.push_back(i);
      room.entries.push_back(e);
    }
  }
  auto& b = r.prepare("SELECT first_rank, count, admitted_at FROM queue_admissions WHERE event_id = ?1 "
                      "ORDER BY first_rank");
  b.bind(1, room.event);
  while (b.step()) {
    const int64_t first = b.int64(0), count = b.int64(1);
    if (static_cast<uint64_t>(first) != room.head || count < 0 || room.head + static_cast<uint64_t>(count) > room.entries.size()) {
      damage = "an admitted batch of " + std::to_string(count) + " from rank " + std::to_string(first) +
               " does not follow rank " + std::to_string(room.head) + " of " + std::to_string(room.entries.size());
      break;
    }
    room.batches.push_back(Batch{static_cast<uint32_t>(first), static_cast<uint32_t>(count), b.int64(2)});
    room.head += static_cast<uint64_t>(count);
    room.rec.last_release_at = from_unix_ms(b.int64(2));
    room.rec.history.record(room.rec.last_release_at.value(), static_cast<uint32_t>(count));
  }
  b.reset();
  if (!damage.empty()) return damage;
  if (room.head > 0 && !room.rec.drawn) return "people were admitted before the draw";
  room.refresh_counts();
  return "";
}

std::shared_ptr<SqliteWaitingRoomStore::Room> SqliteWaitingRoomStore::find(core::EventId event) {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(event);
  return it == rooms_.end() ? nullptr : it->second;
}

core::Result<core::RoomRecord> SqliteWaitingRoomStore::open_room(core::EventId event, const core::LotterySeed& seed,
                                                                 const std::string& commitment, TimeMs now) {
  if (auto existing = find(event)) {
    std::lock_guard lock(existing->mu);
    return existing->rec;
  }
  std::unique_lock lock(rooms_mu_);
  if (damaged_.contains(event))
    return make_error(Code::Unavailable, "this event's waiting room is damaged in the store; see the server log");
  if (auto it = rooms_.find(event); it != rooms_.end()) {
    std::lock_guard room_lock(it->second->mu);
    return it->second->rec;
  }
  // Rare (once per event), so written while holding rooms_mu_: nobody can see the room before it is durable.
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare("INSERT INTO queue_rooms(event_id, seed, commitment, created_at) VALUES(?1, ?2, ?3, ?4)");
    st.bind(1, event).bind(2, hex(seed)).bind(3, commitment).bind(4, to_unix_ms(now));
    if (st.step_status() != SQLITE_DONE) return make_error(Code::NotFound, "no such event");
    return core::ok_status();
  });
  if (!s) return s.error();
  auto room = std::make_shared<Room>();
  room->event = event;
  room->rec.seed = seed;
  room->rec.commitment = commitment;
  rooms_[event] = room;
  return room->rec;
}

std::optional<core::RoomRecord> SqliteWaitingRoomStore::room(core::EventId event) {
  auto room = find(event);
  if (!room) return std::nullopt;
  std::lock_guard lock(room->mu);
  return room->rec;
}

std::vector<core::EventId> SqliteWaitingRoomStore::rooms() {
  std::shared_lock lock(rooms_mu_);
  std::vector<core::EventId> out;
  out.reserve(rooms_.size());
  for (const auto& [event, room] : rooms_) out.push_back(event);
  return out;
}

core::Result<core::Place> SqliteWaitingRoomStore::join(core::EventId event, core::UserId user, bool early,
                                                       uint64_t early_key, TimeMs now) {
  TICKETD_ASSERT(early_key < core::kLateScoreBase);
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  core::Place place;
  {
    std::lock_guard lock(room->mu);
    if (auto i = room->index.find(user, room->entries)) return room->place_of(room->entries[*i]);
    if (room->entries.size() >= core::limits::queue_entries_max)
      return make_error(Code::QueueFull, "the waiting room is full");
    early = early && !room->rec.drawn;  // the draw happened meanwhile: this one is in line after it
    if (!early && !room->rec.drawn) {
      room->draw_in_memory(now);
      ticket = db_.writer().submit([event, now](Connection& c) {
        c.prepare("UPDATE queue_rooms SET drawn_at = ?2 WHERE event_id = ?1").bind(1, event).bind(2, to_unix_ms(now))
            .step_status();
        return core::ok_status();
      });
    }
    const auto seq = static_cast<uint32_t>(room->entries.size());
    Entry e{user, early ? (kEarlyBit | early_key) : 0};
    if (!early) {
      e.set_low(room->order.size());
      room->order.push_back(seq);
    }
    room->entries.push_back(e);
    room->index.insert(seq, room->entries);
    room->rec.early += early ? 1 : 0;
    room->refresh_counts();
    place = room->place_of(room->entries.back());
    ticket = db_.writer().submit([event, seq, user, early, early_key, now](Connection& c) -> core::Status {
      auto& st = c.prepare("INSERT INTO queue_entries(event_id, seq, user_id, early_key, state, joined_at) "
                           "VALUES(?1, ?2, ?3, ?4, 0, ?5)");
      st.bind(1, event).bind(2, int64_t{seq}).bind(3, user);
      if (early) st.bind(4, static_cast<int64_t>(early_key)); else st.bind_null(4);
      st.bind(5, to_unix_ms(now));
      if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "queue entry insert failed");
      return core::ok_status();
    });
  }
  must(ticket->wait());  // the draw's update, if any, was queued before and is in the same or an earlier batch
  return place;
}

core::Result<core::Place> SqliteWaitingRoomStore::place(core::EventId event, core::UserId user) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "not in this event's queue");
  std::lock_guard lock(room->mu);
  auto i = room->index.find(user, room->entries);
  if (!i) return make_error(Code::NotFound, "not in this event's queue");
  return room->place_of(room->entries[*i]);
}

core::Result<core::Place> SqliteWaitingRoomStore::rejoin(core::EventId event, core::UserId user,
                                                         TimeMs admitted_until, TimeMs now) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  core::Place place;
  {
    std::lock_guard lock(room->mu);
    TICKETD_ASSERT(room->rec.drawn);
    auto i = room->index.find(user, room->entries);
    if (!i) return make_error(Code::NotFound, "not in this event's queue");
    const uint32_t old_seq = *i;
    Entry& old = room->entries[old_seq];
    const bool admitted = old.low() < room->head;
    const bool over = admitted && (old.state() == kExpired || room->admitted_at(old.low()) <= admitted_until);
    if (!over) return room->place_of(old);
    if (room->entries.size() >= core::limits::queue_entries_max)
      return make_error(Code::QueueFull, "the waiting room is full");
    if (old.state() == kNone) {  // admitted, window over, not yet expired by the releaser
      old.set_state(kExpired);
      ++room->rec.expired_total;
    }
    old.bits |= kLeftBit;
    const uint64_t old_state = old.state();
    const auto seq = static_cast<uint32_t>(room->entries.size());
    Entry e{user, 0};
    e.set_low(room->order.size());
    room->order.push_back(seq);
    room->entries.push_back(e);
    room->index.repoint(seq, room->entries);
    room->refresh_counts();
    place = room->place_of(room->entries.back());
    ticket = db_.writer().submit([event, old_seq, old_state, seq, user, now](Connection& c) -> core::Status {
      auto& left = c.prepare("UPDATE queue_entries SET state = ?3, left_at = ?4 WHERE event_id = ?1 AND seq = ?2");
      left.bind(1, event).bind(2, int64_t{old_seq}).bind(3, static_cast<int64_t>(old_state)).bind(4, to_unix_ms(now));
      if (left.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "queue entry update failed");
      auto& st = c.prepare("INSERT INTO queue_entries(event_id, seq, user_id, early_key, state, joined_at) "
                           "VALUES(?1, ?2, ?3, NULL, 0, ?4)");
      st.bind(1, event).bind(2, int64_t{seq}).bind(3, user).bind(4, to_unix_ms(now));
      if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "queue entry insert failed");
      return core::ok_status();
    });
  }
  must(ticket->wait());
  return place;
}

core::Status SqliteWaitingRoomStore::draw(core::EventId event, TimeMs now) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  {
    std::lock_guard lock(room->mu);
    if (room->rec.drawn) return core::ok_status();
    room->draw_in_memory(now);
    ticket = db_.writer().submit([event, now](Connection& c) {
      c.prepare("UPDATE queue_rooms SET drawn_at = ?2 WHERE event_id = ?1").bind(1, event).bind(2, to_unix_ms(now))
          .step_status();
      return core::ok_status();
    });
  }
  must(ticket->wait());
  return core::ok_status();
}

core::Result<uint32_t> SqliteWaitingRoomStore::admit(core::EventId event, uint32_t count, TimeMs now) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  uint32_t n = 0;
  {
    std::lock_guard lock(room->mu);
    TICKETD_ASSERT(room->rec.drawn);
    room->rec.last_release_at = now;
    n = static_cast<uint32_t>(std::min<uint64_t>(count, room->entries.size() - room->head));
    // Zero ticks (paused by stock) count in memory; only batches are on disk (the primary key is the
    // first rank), so a restart measures from the batches alone.
    if (room->head < room->entries.size()) room->rec.history.record(now, n);
    if (n == 0) return n;
    const Batch b{static_cast<uint32_t>(room->head), n, to_unix_ms(now)};
    room->batches.push_back(b);
    room->head += n;
    room->refresh_counts();
    ticket = db_.writer().submit([event, b](Connection& c) -> core::Status {
      auto& st = c.prepare("INSERT INTO queue_admissions(event_id, first_rank, count, admitted_at) VALUES(?1,?2,?3,?4)");
      st.bind(1, event).bind(2, int64_t{b.first}).bind(3, int64_t{b.count}).bind(4, b.at_ms);
      if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "admission insert failed");
      return core::ok_status();
    });
  }
  must(ticket->wait());
  return n;
}

core::Result<uint32_t> SqliteWaitingRoomStore::expire_admitted(core::EventId event, TimeMs admitted_until) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  std::vector<uint32_t> expired;  // seqs; bounded by the admissions since the last call
  {
    std::lock_guard lock(room->mu);
    while (room->expire_cursor < room->head && room->admitted_at(room->expire_cursor) <= admitted_until) {
      Entry& e = room->entries[room->order[room->expire_cursor]];
      if (e.state() == kNone) {
        e.set_state(kExpired);
        expired.push_back(room->order[room->expire_cursor]);
      }
      ++room->expire_cursor;
    }
    if (expired.empty()) return 0u;
    room->rec.expired_total += expired.size();
    room->refresh_counts();
    ticket = db_.writer().submit([event, expired](Connection& c) -> core::Status {
      for (uint32_t seq : expired)
        if (auto s = set_entry_state(c, event, seq, kExpired); !s) return s;
      return core::ok_status();
    });
  }
  must(ticket->wait());
  return static_cast<uint32_t>(expired.size());
}

core::Status SqliteWaitingRoomStore::engage(core::EventId event, core::UserId user) {
  auto room = find(event);
  if (!room) return make_error(Code::NotFound, "the waiting room is not open");
  std::shared_ptr<GroupCommit::Ticket> ticket;
  {
    std::lock_guard lock(room->mu);
    auto i = room->index.find(user, room->entries);
    if (!i) return make_error(Code::NotFound, "not in this event's queue");
    Entry& e = room->entries[*i];
    if (!room->rec.drawn || e.low() >= room->head || e.state() != kNone) return core::ok_status();
    e.set_state(kEngaged);
    ++room->rec.engaged_total;
    room->refresh_counts();
    ticket = db_.writer().submit([event, seq = *i](Connection& c) { return set_entry_state(c, event, seq, kEngaged); });
  }
  must(ticket->wait());
  return core::ok_status();
}

void SqliteWaitingRoomStore::set_sold_out(core::EventId event, bool sold_out) {
  if (auto room = find(event)) {
    std::lock_guard lock(room->mu);
    room->rec.sold_out = sold_out;
  }
}

size_t SqliteWaitingRoomStore::memory_bytes(core::EventId event) {
  auto room = find(event);
  if (!room) return 0;
  std::lock_guard lock(room->mu);
  return sizeof(Room) + room->entries.capacity() * sizeof(Entry) + room->order.capacity() * sizeof(uint32_t) +
         room->index.bytes() + room->batches.capacity() * sizeof(Batch);
}

}  // namespace ticketd::store::sqlite
