// The web app's version: one digest of every file it may serve, so its files can be addressed as
// /v/<version>/<path> and cached by browsers for a year ("immutable"): a changed file changes the
// version, hence every address, and an old page keeps the files it was made with. Only the entry pages
// (HTML, no-cache) name the version: versioned_html() rewrites their references, and modules import
// each other by relative paths, so the whole app follows one version.
// Thread safety: pure functions; they read the file system only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ticketd::http {

// Bounds on what a version covers: a web root past them (a mistake: ours has ~40 files, 1.5 MB) gets
// a version of what fits, which is still correct for those files and merely less cacheable.
inline constexpr size_t kVersionFilesMax = 2048;
inline constexpr uintmax_t kVersionBytesMax = uintmax_t{64} << 20;

// What changes when any file under `root` changes: names, sizes and modification times. Cheap (stat
// only), to tell when version_of() must be computed again.
uint64_t web_fingerprint(const std::filesystem::path& root);

// 12 hex digits naming the contents of the files under `root` (names and bytes): equal on every node
// that serves the same files, whatever their modification times.
std::string version_of(const std::filesystem::path& root);

// `html` with each same-origin reference to a static file (src="/x.js", href="/app.css") made
// "/v/<version>/x.js". Page links (href="/", href="/console", "#/...") and other origins stay.
std::string versioned_html(std::string_view html, std::string_view version);

// "/v/<version>/rest" -> {"<version>", "/rest"}; anything else -> {"", path}.
struct VersionedPath {
  std::string_view version;
  std::string_view path;
};
VersionedPath split_version(std::string_view path);

}  // namespace ticketd::http
