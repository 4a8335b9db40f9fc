// The web app's static files (web/), served by ticketd at "/". Only what the whitelist below allows
// leaves the root: paths are plain segments of [A-Za-z0-9._-] (no "..", no dot files, no percent
// escapes), the file must resolve (symlinks included) to a regular file inside the root, be at most
// file_bytes_max, and have a known extension (which fixes its Content-Type). Anything else is
// "not a static file" and the API answers it (404 JSON).
//
// Responses carry a strong ETag, nosniff, and a same-origin Content-Security-Policy for HTML. Files
// asked for under the app's current version (/v/<version>/..., static_version.hpp) are cached for a
// year; the entry pages, which name that version, and unversioned addresses are "no-cache"
// (revalidate: a 304 costs one small read).
// Thread safety: serve() is const and reads the file system only; safe concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ticketd::http {

class StaticFiles {
 public:
  static constexpr size_t kFileBytesMax = size_t{4} << 20;  // our files are ~10-100 KB; a bound all the same
  static constexpr size_t kPathBytesMax = 256;
  static constexpr size_t kSegmentsMax = 8;

  // REQUIRES: root is an existing directory.
  explicit StaticFiles(const std::filesystem::path& root);

  // `path` is the request's encoded path. nullopt when it names no static file.
  std::optional<Response> serve(const Request& request, std::string_view path) const;
  const std::filesystem::path& root() const { return root_; }
  // The version of the files as they are now: looked at again at most once a second, so an edited
  // file (a developer's) is seen without a restart.
  std::string version() const;

 private:
  std::filesystem::path root_;  // canonical
  mutable std::mutex version_mu_;
  mutable std::chrono::steady_clock::time_point version_checked_;  // guarded by version_mu_
  mutable uint64_t fingerprint_ = 0;                                 // guarded by version_mu_
  mutable std::string version_;                                      // guarded by version_mu_
};

}  // namespace ticketd::http
