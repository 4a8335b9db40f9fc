// curl_global_init exactly once per process, before the first handle (a function-local static:
// C++ runs it once even under concurrent construction). Called from the channels' constructors,
// which serve() (src/wiring) runs before any thread delivers.
#pragma once

#include <curl/curl.h>

#include "base/assert.hpp"

namespace ticketd::notify {
inline void curl_init_once() {
  static const CURLcode ready = curl_global_init(CURL_GLOBAL_DEFAULT);
  TICKETD_ASSERT(ready == CURLE_OK);
}
}  // namespace ticketd::notify
