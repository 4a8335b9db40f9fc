// The web app's version (http/static_version.hpp): the entry pages name it in front of every file they
// load and nowhere else, it follows the files' bytes and not their dates, and /v/<version>/ addresses
// come apart into the version and the file.
#include "http/static_version.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using namespace ticketd::http;
namespace fs = std::filesystem;

namespace {

TEST(StaticVersion, TheEntryPageNamesTheVersionInFrontOfEveryFileItLoads) {
  const std::string html =
      R"(<link rel="stylesheet" href="/app.css"><link rel="icon" href="data:,">)"
      R"(<script type="module" src="/js/app.js"></script><a href="/">Home</a> <a href="/console">Console</a>)"
      R"(<a href="#/bookings">Mine</a> <img src="/img/logo.svg"> <a href="//other.example/x.js">x</a>)"
      R"(<script src="/v/old/js/kept.js"></script>)";
  EXPECT_EQ(versioned_html(html, "abc123"),
            R"(<link rel="stylesheet" href="/v/abc123/app.css"><link rel="icon" href="data:,">)"
            R"(<script type="module" src="/v/abc123/js/app.js"></script><a href="/">Home</a> <a href="/console">Console</a>)"
            R"(<a href="#/bookings">Mine</a> <img src="/v/abc123/img/logo.svg"> <a href="//other.example/x.js">x</a>)"
            R"(<script src="/v/old/js/kept.js"></script>)");
}

TEST(StaticVersion, APageWithNothingToVersionIsUnchangedEvenWhenCutShort) {
  for (std::string html : {std::string("<p>plain</p>"), std::string(R"(<script src="/js/app.js)"), std::string()})
    EXPECT_EQ(versioned_html(html, "v1"), html);
}

TEST(StaticVersion, VersionedAddressesComeApart) {
  EXPECT_EQ(split_version("/v/0123abcd/js/app.js").version, "0123abcd");
  EXPECT_EQ(split_version("/v/0123abcd/js/app.js").path, "/js/app.js");
  EXPECT_EQ(split_version("/v/0123abcd/").path, "/");
  for (const char* plain : {"/js/app.js", "/v/", "/v//x.js", "/v/nothing", "/vx/a/b.js", "/"}) {
    EXPECT_EQ(split_version(plain).version, "") << plain;
    EXPECT_EQ(split_version(plain).path, plain) << plain;
  }
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

TEST(StaticVersion, TheVersionFollowsTheBytesNotTheDates) {
  const fs::path a = fs::temp_directory_path() / ("ticketd-version-a-" + std::to_string(::getpid()));
  const fs::path b = fs::temp_directory_path() / ("ticketd-version-b-" + std::to_string(::getpid()));
  for (const fs::path& root : {a, b}) {
    fs::remove_all(root);
    write(root / "index.html", "<p>hi</p>");
    write(root / "js" / "app.js", "export {};");
    write(root / ".git" / "HEAD", "ignored");
  }
  fs::last_write_time(b / "index.html", fs::last_write_time(b / "index.html") - std::chrono::hours(5));
  EXPECT_EQ(version_of(a), version_of(b));
  EXPECT_EQ(version_of(a).size(), 12u);
  EXPECT_NE(web_fingerprint(a), web_fingerprint(b));  // the dates differ: look again

  const std::string before = version_of(a);
  const uint64_t fingerprint = web_fingerprint(a);
  write(b / ".git" / "HEAD", "changed, and still ignored");
  EXPECT_EQ(version_of(b), before);
  write(a / "js" / "app.js", "export const x = 1;");
  EXPECT_NE(version_of(a), before);
  EXPECT_NE(web_fingerprint(a), fingerprint);
  fs::remove_all(a);
  fs::remove_all(b);
}

}  // namespace
