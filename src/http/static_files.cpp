#include "http/static_files.hpp"

#include <fstream>
#include <iterator>
#include <utility>

#include "base/assert.hpp"
#include "http/etag.hpp"
#include "http/static_version.hpp"

namespace ticketd::http {

namespace fs = std::filesystem;

namespace {

constexpr std::pair<std::string_view, std::string_view> kContentTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
};

// Everything the page needs comes from this origin; nothing is fetched from anywhere else.
// 'wasm-unsafe-eval' lets the scanner compile its QR decoder (WebAssembly served from here); it does
// not allow eval() of JavaScript.
constexpr std::string_view kHtmlPolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; media-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

constexpr std::string_view kWorkerPolicy = "default-src 'self'; frame-ancestors 'none'";

bool segment_ok(std::string_view seg) {
  if (seg.empty() || seg.size() > 128 || seg.front() == '.') return false;
  for (char c : seg) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "/a/b.js" -> "a/b.js"; "/" -> "index.html"; nullopt when not acceptable.
std::optional<std::string> relative_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > StaticFiles::kPathBytesMax) return std::nullopt;
  if (path == "/") return std::string("index.html");
  // The web app's other entry pages have extension-less addresses (/scan: the door scanner; /console:
  // the organizer's console).
  for (std::string_view page : {"/scan", "/console"})
    if (path == page) return std::string(page.substr(1)) + ".html";
  std::string out;
  size_t segments = 0;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view seg = path.substr(pos, slash - pos);
    if (!segment_ok(seg) || ++segments > StaticFiles::kSegmentsMax) return std::nullopt;
    if (!out.empty()) out += '/';
    out += seg;
    pos = slash + 1;
  }
  return out;
}

std::optional<std::string_view> content_type_of(const fs::path& file) {
  const std::string ext = file.extension().string();
  for (const auto& [e, type] : kContentTypes)
    if (ext == e) return type;
  return std::nullopt;
}

}  // namespace

StaticFiles::StaticFiles(const fs::path& root) : root_(fs::canonical(root)) {
  TICKETD_ASSERT(fs::is_directory(root_));
  fingerprint_ = web_fingerprint(root_);
  version_ = version_of(root_);
  version_checked_ = std::chrono::steady_clock::now();
}

std::string StaticFiles::version() const {
  constexpr auto kRecheckEvery = std::chrono::seconds(1);
  std::lock_guard lock(version_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - version_checked_ >= kRecheckEvery) {
    version_checked_ = now;
    if (const uint64_t fingerprint = web_fingerprint(root_); fingerprint != fingerprint_) {
      fingerprint_ = fingerprint;
      version_ = version_of(root_);
    }
  }
  return version_;
}

std::optional<Response> StaticFiles::serve(const Request& request, std::string_view path) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  const VersionedPath asked = split_version(path);
  const auto rel = relative_path(asked.path);
  if (!rel) return std::nullopt;
  std::error_code ec;
  const fs::path file = fs::canonical(root_ / *rel, ec);
  if (ec) return std::nullopt;
  // A symlink must not lead out of the root.
  const auto [root_end, file_it] = std::mismatch(root_.begin(), root_.end(), file.begin(), file.end());
  if (root_end != root_.end()) return std::nullopt;
  const auto type = content_type_of(file);
  if (!type || !fs::is_regular_file(file, ec)) return std::nullopt;
  const auto size = fs::file_size(file, ec);
  if (ec || size > kFileBytesMax) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (body.size() > kFileBytesMax) return std::nullopt;  // grew since file_size()
  Response r;
  r.content_type = std::string(*type);
  const bool html = type->starts_with("text/html");
  std::string_view cache = "no-cache";
  if (html) {
    body = versioned_html(body, version());
  } else if (!asked.version.empty() && asked.version == version()) {
    // This address names these bytes for as long as anyone may ask for it.
    cache = "public, max-age=31536000, immutable";
  }
  const std::string etag = strong_etag(body);
  r.headers = {{"etag", etag}, {"cache-control", std::string(cache)}, {"x-content-type-options", "nosniff"}};
  if (html) r.headers.push_back({"content-security-policy", std::string(kHtmlPolicy)});
  // A script's own policy matters only when it runs as a worker (the service worker, web/sw.js): it
  // fetches the app's files from this origin, which the API's "default-src 'none'" would forbid.
  if (type->starts_with("text/javascript"))
    r.headers.push_back({"content-security-policy", std::string(kWorkerPolicy)});
  if (etag_matches(request.header("if-none-match"), etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::move(body);
  return r;
}

}  // namespace ticketd::http
