#include "http/errors.hpp"

#include <string_view>

#include "http/json_codec.hpp"
#include "http/log_limiter.hpp"

namespace ticketd::http {

namespace json = boost::json;
using core::Code;

namespace {

// A 5xx is the server's fault or its dependencies': the operator reads why here, a few lines a second.
detail::LogLimiter& server_error_log() {
  static detail::LogLimiter log;
  return log;
}

Response error_body(int status, std::string_view code, const std::string& message) {
  return json_response(status, json::object{{"error", json::object{{"code", code}, {"message", message}}}});
}

}  // namespace

Response error_response(const core::Error& e) {
  // Parse errors are InvalidRequest with a "malformed_json:" prefix (they come from the codec).
  if (e.code == Code::InvalidRequest && e.message.rfind("malformed_json:", 0) == 0)
    return error_response(HttpError::malformed_json, "the body is not valid JSON: " + e.message.substr(15));
  const ErrorStatus s = status_of(e.code);
  // A refusal (403) may name its reason more precisely: access_token_expired, queue_token_invalid, ...
  const std::string code = e.code == Code::Forbidden && !e.detail.empty() ? e.detail : std::string(s.code);
  json::object err{{"code", code}, {"message", e.message}};
  if (e.code == Code::SeatUnavailable) {
    json::array seats;
    for (uint32_t seat : e.seats) seats.push_back(seat);
    err["seat_ids"] = std::move(seats);
  }
  if (e.code == Code::PaymentFailed) err["decline_code"] = e.detail;
  Response r = json_response(s.status, json::object{{"error", std::move(err)}});
  // TooManyRequests may carry its wait (whole seconds, digits) in detail; otherwise a minute.
  const bool wait_given = e.code == Code::TooManyRequests && !e.detail.empty() && e.detail.size() < 8 &&
                          e.detail.find_first_not_of("0123456789") == std::string::npos;
  if (s.status == 429) r.headers.push_back({"retry-after", wait_given ? e.detail : "60"});
  if (s.status == 503) r.headers.push_back({"retry-after", "1"});
  if (s.status >= 500) server_error_log().line(std::to_string(s.status) + " " + detail::one_line(e.message));
  return r;
}

Response error_response(core::Code code, const std::string& message) {
  return error_response(core::make_error(code, message));
}

Response error_response(HttpError error, const std::string& message) {
  const ErrorStatus s = status_of(error);
  return error_body(s.status, s.code, message);
}

}  // namespace ticketd::http
