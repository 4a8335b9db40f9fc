// JSON in and out of the API (Boost.JSON). Reading is strict: a field of the wrong type or out of
// range is a 400 that names the field; nesting deeper than kJsonDepthMax is refused while parsing.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "app/sales.hpp"
#include "core/layout.hpp"
#include "core/result.hpp"
#include "core/types.hpp"
#include "http/errors.hpp"
#include "http/message.hpp"

namespace ticketd::http {

inline constexpr unsigned kJsonDepthMax = 32;

// Parses a request body that must be a JSON object.
core::Result<boost::json::object> parse_object(const std::string& body);

// Field readers: nullopt when absent; Error (InvalidRequest, naming the field) when present but wrong.
core::Result<std::optional<std::string>> read_string(const boost::json::object& o, const char* field, size_t bytes_max);
core::Result<std::optional<bool>> read_bool(const boost::json::object& o, const char* field);
core::Result<std::optional<int64_t>> read_int(const boost::json::object& o, const char* field, int64_t min, int64_t max);
core::Result<std::optional<std::vector<uint32_t>>> read_uint_list(const boost::json::object& o, const char* field,
                                                                 size_t items_max, int64_t value_max);
core::Result<std::optional<TimeMs>> read_time(const boost::json::object& o, const char* field);
// The "waiting_room" object of an event: fields absent keep their value in `base`. Nullopt if absent.
core::Result<std::optional<core::WaitingRoomSettings>> read_waiting_room(const boost::json::object& o,
                                                                         const core::WaitingRoomSettings& base);
boost::json::object to_json(const core::WaitingRoomSettings& settings);

Response json_response(int status, const boost::json::value& body);
Response no_content();  // 204

boost::json::object to_json(const core::User& user);
boost::json::object to_json(const core::Event& event, const std::optional<core::SeatCounts>& counts);
boost::json::object to_json(const app::HoldView& hold);
boost::json::object to_json(const core::Booking& booking);
boost::json::object to_json(const core::Venue& venue);

}  // namespace ticketd::http
