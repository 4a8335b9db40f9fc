// Port: the audit log (docs/console.md, "Audit log"): what administrators and organizers did, who, when, with what
// request and what it answered. Append-only: the stores refuse to change or delete a row.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct AuditEntry {
  int64_t id = 0;
  TimeMs at{};
  UserId actor_id = 0;
  std::string actor_email;
  std::string action;   // "POST /v1/events/{id}/cancel": the route
  std::string target;   // "/v1/events/42/cancel": the path
  int status = 0;       // what it answered
  std::string request;  // the request body (JSON), at most kAuditBodyBytesMax
  std::string result;   // the answer's body (JSON: the state after), at most kAuditBodyBytesMax; may be omitted
  OrganizationId organization_id = 0;  // whose venue, event or booking it was about; 0: none
  std::string before;   // the state before (JSON), where the route records it; at most kAuditBodyBytesMax
};

inline constexpr size_t kAuditBodyBytesMax = 4096;

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual Status append(const AuditEntry& entry) = 0;
  // Oldest first, ids above `after_id`, at most `limit`; of one organization only when `organization`.
  virtual std::vector<AuditEntry> list(int64_t after_id, uint32_t limit, std::optional<OrganizationId> organization) = 0;
};

}  // namespace ticketd::core
