// Addresses and paths of the public listener (see listen.hpp).
#include "wiring/listen.hpp"

#include <exception>
#include <system_error>

namespace ticketd::wiring {

bool split_listen(const std::string& listen, std::string& host, uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

std::string default_public_url(bool tls, const std::string& host, uint16_t port) {
  const std::string name = host == "0.0.0.0" || host == "::" || host.empty() ? std::string("localhost")
                           : host.find(':') != std::string::npos           ? "[" + host + "]"
                                                                           : host;
  return std::string(tls ? "https" : "http") + "://" + name + ":" + std::to_string(port);
}

std::filesystem::path resolve_web_root(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) return fs::is_directory(configured, ec) ? fs::path(configured) : fs::path();
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(exe.parent_path().parent_path() / "web" / "index.html", ec))
    return exe.parent_path().parent_path() / "web";
  if (fs::is_regular_file("web/index.html", ec)) return fs::path("web");
  return {};
}

}  // namespace ticketd::wiring
