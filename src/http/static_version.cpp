#include "http/static_version.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

namespace ticketd::http {

namespace fs = std::filesystem;

namespace {

// FNV-1a 64, fed piece by piece (the version is a cache key, not a secret).
struct Fnv {
  uint64_t h = 14695981039346656037ull;
  void add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  void add_number(uint64_t n) { add(std::string_view(reinterpret_cast<const char*>(&n), sizeof n)); }
};

bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.empty() || name.front() == '.';
}

// The regular files under root, sorted by relative path (a directory's order is the file system's),
// dot files and dot directories left out, at most kVersionFilesMax.
std::vector<fs::path> files_under(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    out.push_back(it->path().lexically_relative(root));
    if (out.size() >= kVersionFilesMax) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The extensions of files a page loads (scripts, styles, images, data), as opposed to pages.
bool is_asset(std::string_view path) {
  static constexpr std::array<std::string_view, 9> kAssetExtensions = {
      ".js", ".mjs", ".css", ".svg", ".png", ".ico", ".json", ".webmanifest", ".wasm"};
  const size_t cut = path.find_first_of("?#");
  const std::string_view bare = path.substr(0, cut);
  return std::any_of(kAssetExtensions.begin(), kAssetExtensions.end(),
                     [bare](std::string_view ext) { return bare.ends_with(ext); });
}

}  // namespace

uint64_t web_fingerprint(const fs::path& root) {
  Fnv fnv;
  std::error_code ec;
  for (const fs::path& rel : files_under(root)) {
    fnv.add(rel.string());
    const fs::path file = root / rel;
    fnv.add_number(static_cast<uint64_t>(fs::file_size(file, ec)));
    const auto mtime = fs::last_write_time(file, ec);
    fnv.add_number(static_cast<uint64_t>(mtime.time_since_epoch().count()));
  }
  return fnv.h;
}

std::string version_of(const fs::path& root) {
  Fnv fnv;
  uintmax_t bytes = 0;
  std::string buffer(64 * 1024, '\0');
  for (const fs::path& rel : files_under(root)) {
    fnv.add(rel.string());
    fnv.add(std::string_view("\0", 1));
    std::ifstream in(root / rel, std::ios::binary);
    while (in && bytes < kVersionBytesMax) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<size_t>(in.gcount());
      fnv.add(std::string_view(buffer.data(), got));
      bytes += got;
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(fnv.h));
  return std::string(out, 12);
}

std::string versioned_html(std::string_view html, std::string_view version) {
  std::string out;
  out.reserve(html.size() + 64);
  size_t pos = 0;
  while (pos < html.size()) {
    // The next attribute value that may name a file: src="/..." or href="/...".
    size_t at = std::string_view::npos;
    size_t value = 0;
    for (std::string_view attr : {std::string_view(" src=\"/"), std::string_view(" href=\"/")}) {
      const size_t hit = html.find(attr, pos);
      if (hit < at) {
        at = hit;
        value = hit + attr.size() - 1;  // at the '/'
      }
    }
    if (at == std::string_view::npos) break;
    const size_t quote = html.find('"', value);
    if (quote == std::string_view::npos) break;
    const std::string_view target = html.substr(value, quote - value);
    out.append(html.substr(pos, value - pos));
    if (!target.starts_with("//") && !target.starts_with("/v/") && is_asset(target)) {
      out.append("/v/").append(version);
    }
    out.append(target);
    pos = quote;
  }
  out.append(html.substr(pos));
  return out;
}

VersionedPath split_version(std::string_view path) {
  constexpr std::string_view kPrefix = "/v/";
  if (!path.starts_with(kPrefix)) return {{}, path};
  const size_t slash = path.find('/', kPrefix.size());
  if (slash == std::string_view::npos || slash == kPrefix.size()) return {{}, path};
  return {path.substr(kPrefix.size(), slash - kPrefix.size()), path.substr(slash)};
}

}  // namespace ticketd::http
