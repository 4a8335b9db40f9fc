// The embedded waiting-room store: every event's queue in memory, compactly, with each change made
// durable in SQLite (through the group-commit writer) before it is acknowledged. A restart reloads
// every queue, so every position survives; status reads never touch the disk.
//
// Memory per queued user (measured by WaitingRoomMemory.FiveHundredThousandUsers, printed by the test):
//   16 B  Entry {user id; lottery key or rank, with the state in the top bits}
//    4 B  order[rank] -> entry index
//   ~8 B  open-addressing index user -> entry (4-byte slots, load factor <= 1/2)
// ≈ 28-36 B per user depending on where vector growth stands: 500,000 users ≈ 14-18 MB. No string
// and no map node per user. The admission batches (16 B per release tick) are kept besides.
//
// Thread safety: safe from any thread. rooms_mu_ guards the map of rooms; each room has its own
// mutex guarding its state. A durable write is queued under the room's mutex (so the disk sees one
// room's changes in the order memory made them) and waited for after it is released.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/ports/waiting_room.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteWaitingRoomStore final : public core::WaitingRoomStore {
 public:
  // Loads every room from disk.
  explicit SqliteWaitingRoomStore(Database& db);
  ~SqliteWaitingRoomStore() override;

  core::Result<core::RoomRecord> open_room(core::EventId event, const core::LotterySeed& seed,
                                           const std::string& commitment, TimeMs now) override;
  std::optional<core::RoomRecord> room(core::EventId event) override;
  bool polls_from_memory() const override { return true; }
  std::vector<core::EventId> rooms() override;
  core::Result<core::Place> join(core::EventId event, core::UserId user, bool early, uint64_t early_key,
                                 TimeMs now) override;
  core::Result<core::Place> place(core::EventId event, core::UserId user) override;
  core::Result<core::Place> rejoin(core::EventId event, core::UserId user, TimeMs admitted_until,
                                   TimeMs now) override;
  core::Status draw(core::EventId event, TimeMs now) override;
  core::Result<uint32_t> admit(core::EventId event, uint32_t count, TimeMs now) override;
  core::Result<uint32_t> expire_admitted(core::EventId event, TimeMs admitted_until) override;
  core::Status engage(core::EventId event, core::UserId user) override;
  void set_sold_out(core::EventId event, bool sold_out) override;
  size_t memory_bytes(core::EventId event) override;

  struct Room;  // defined in waiting_room.cpp

 private:
  std::shared_ptr<Room> find(core::EventId event);
  void load_all();
  // Loads one room's entries and admissions; "" or what is damaged (the room is then not used).
  std::string load_room(Connection& reader, Room& room, const std::string& seed_hex);

  Database& db_;
  std::shared_mutex rooms_mu_;  // guards rooms_ (the map only)
  std::unordered_map<core::EventId, std::shared_ptr<Room>> rooms_;
  std::unordered_set<core::EventId> damaged_;  // rooms whose stored rows did not load; guarded by rooms_mu_
};

}  // namespace ticketd::store::sqlite
