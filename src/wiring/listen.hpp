// Where the public listener is and what it serves besides the API: --listen and --metrics-listen
// split into host and port, the URL mailed links start with when --public-url is unset, and the
// directory of the web app.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ticketd::wiring {

// Splits at the last colon ("[::1]:8080" gives host "::1"); false without a colon or a port 0-65535.
bool split_listen(const std::string& listen, std::string& host, uint16_t& port);

// Where links in mail point without --public-url: this listener, as a browser on this machine reaches it.
std::string default_public_url(bool tls, const std::string& host, uint16_t port);

// The web app's files: --web-root if given; otherwise web/ next to the build directory the binary
// runs from (build/ticketd -> web/), then ./web. Empty when none exists (no web app; the API works).
std::filesystem::path resolve_web_root(const std::string& configured);

}  // namespace ticketd::wiring
