// curl_global_init exactly once per process, before the first handle (a function-local static:
// C++ runs it once even under concurrent construction; never cleaned up: the process ends with it).
// Called from the constructors of every adapter that speaks HTTP through libcurl (notification
// channels, the Stripe gateway, the peer client), which serve() (src/wiring) runs before threads start:
// curl_global_init is not thread-safe against another library initialising OpenSSL at that moment.
#pragma once

#include <curl/curl.h>

#include "base/assert.hpp"

namespace ticketd {
inline void curl_init_once() {
  static const CURLcode ready = curl_global_init(CURL_GLOBAL_DEFAULT);
  TICKETD_ASSERT(ready == CURLE_OK);
}
}  // namespace ticketd
