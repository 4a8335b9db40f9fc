// The API's error answers. A refusal by the domain comes as a core::Error (core/result.hpp, Code); what
// only HTTP can refuse (a malformed request, a body over its limit) is an HttpError. Callers name the
// kind of error and a message; the status and the code a client branches on come from
// http/error_table.hpp alone (the transport's own refusals read the same table: http/wire.hpp).
// The body is always {"error": {"code": "...", "message": "..."}} (docs/api.md, "Errors").
// Thread safety: pure functions.
#pragma once

#include <string>

#include "core/result.hpp"
#include "http/error_table.hpp"
#include "http/message.hpp"

namespace ticketd::http {

// Adds Retry-After where the error implies one (429, 503) and the details the error carries (the seats
// taken, a decline code, a precise refusal code).
Response error_response(const core::Error& error);
Response error_response(core::Code code, const std::string& message);
Response error_response(HttpError error, const std::string& message);

}  // namespace ticketd::http
