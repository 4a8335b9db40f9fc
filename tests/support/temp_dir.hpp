// A fresh, empty directory for one test, under the system's temporary directory ($TMPDIR, else /tmp),
// made with mkdtemp (a unique name, never another test's) and removed with everything in it when the
// TempDir goes out of scope.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace ticketd::test_support {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(std::string_view prefix = "ticketd-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / prefix).string() + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace ticketd::test_support
