// The distributed waiting-room store: every event's queue in Redis, shared by all nodes, as the seed
// describes (a sorted set; ZADD NX to join, ZPOPMIN to admit). Keys share the event's hash tag, so
// each script touches one Redis Cluster slot:
//   wr:{E}:room   hash: seed, commitment, drawn_at, sold_out, seq (arrival counter), early,
//                 admitted_total, engaged_total, expired_total, last_release_at, created_at
//   wr:{E}:queue  zset user -> score: lottery key (< 2^52) for early joiners, 2^52 + seq after
//   wr:{E}:state  hash user -> "W<e>" waiting | "A<e>:<ms>" admitted | "E<e>:<ms>" engaged |
//                 "X<e>:<ms>" expired (<e> is 1 for an early joiner, <ms> the admission time)
//   wr:{E}:idle   zset user -> admission time, of admitted users without a hold yet
//   wr:{E}:ticks  list, newest first, capped at limits::queue_rate_ticks: users admitted by each
//                 release tick that found anyone waiting (the measured rate every node reads)
//   wr:rooms      set of event ids with a room
// Every change is one Lua script, atomic in Redis. Durability is Redis's: run it with appendonly
// yes (docs/deploy.md) and a Redis restart keeps every place. Redis unreachable: joins and polls
// answer Unavailable (503), holds of events with a room are refused until it returns.
//
// Memory: about 150 bytes per queued user in Redis (zset entry + hash field), so 500,000 waiting
// users take ~75 MB of Redis memory and nothing on the nodes.
#pragma once

#include "core/ports/waiting_room.hpp"
#include "store/redis/redis.hpp"

namespace ticketd::store::redis {

class RedisWaitingRoomStore final : public core::WaitingRoomStore {
 public:
  explicit RedisWaitingRoomStore(RedisClient& client) : redis_(client) {}
  core::Result<core::RoomRecord> open_room(core::EventId event, const core::LotterySeed& seed,
                                           const std::string& commitment, TimeMs now) override;
  std::optional<core::RoomRecord> room(core::EventId event) override;
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

 private:
  RedisClient& redis_;
};

}  // namespace ticketd::store::redis
