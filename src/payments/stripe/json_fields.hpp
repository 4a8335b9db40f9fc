// Lenient field access on Stripe's JSON objects, shared by the response mapping and the webhook
// parser: a missing field or one of another type reads as empty (Stripe adds fields over time, and
// callers decide what an empty value means). Internal to src/payments/stripe.
#pragma once

#include <boost/json.hpp>
#include <string_view>

namespace ticketd::payments::stripe_json {

inline std::string_view get_string(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (!value || !value->is_string()) return {};
  return value->get_string();
}

inline const boost::json::object* get_object(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  return value && value->is_object() ? &value->get_object() : nullptr;
}

}  // namespace ticketd::payments::stripe_json
