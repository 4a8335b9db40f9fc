// Email addresses as account keys. What a person types is checked and normalised here, once, for
// sign-up, login, the administrator's bootstrap, provisioning and door staff alike.
//
// Accepted: one RFC 5321 mailbox (RFC 6531: UTF-8 allowed) — a dot-atom local part, '@', a domain of
// two or more labels. Refused: display names and lists ("x@evil.com>,<y", "x,y@b.com"), quoted local
// parts, address literals, and any control, format (zero-width, bidi), separator (U+2028/9), space,
// private-use or unassigned code point. The key is the address in Unicode NFKC, case-folded, so that
// "Ümlaut@…" and "ümlaut@…" (or full-width look-alikes) are one account; mail goes to the key too.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ticketd::app {

// The account key of `typed`, or InvalidRequest naming the field "email".
core::Result<std::string> normalize_email(std::string_view typed);

}  // namespace ticketd::app
