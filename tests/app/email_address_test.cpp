// Email addresses as account keys (app/email_address): strict mailbox syntax, invisible characters
// refused, and one key for every spelling of one address.
#include "app/email_address.hpp"

#include <gtest/gtest.h>

namespace ticketd::app {
namespace {

std::string key(std::string_view typed) {
  auto k = normalize_email(typed);
  return k ? *k : "ERROR: " + k.error().message;
}

TEST(NormalizeEmail, PlainAddressesAreLowerCased) {
  EXPECT_EQ(key("Ann.Lee+tickets@Example.COM"), "ann.lee+tickets@example.com");
  EXPECT_EQ(key("o'brien@mail.example.ie"), "o'brien@mail.example.ie");
  EXPECT_EQ(key("a@b.co"), "a@b.co");
}

TEST(NormalizeEmail, UnicodeSpellingsOfOneAddressAreOneKey) {
  EXPECT_EQ(key("Ümlaut@example.de"), key("ümlaut@example.de"));
  EXPECT_EQ(key("Ümlaut@example.de"), "ümlaut@example.de");
  EXPECT_EQ(key("U\xcc\x88mlaut@example.de"), "ümlaut@example.de");    // U + combining diaeresis (NFD)
  EXPECT_EQ(key("\xef\xbd\x81nn@example.com"), "ann@example.com");     // full-width 'ａ'
  EXPECT_EQ(key("STRASSE@example.de"), key("straße@example.de"));       // full case folding
  EXPECT_EQ(key("ann\xef\xbc\xa0" "example.com"), "ann@example.com");   // full-width '＠'
}

TEST(NormalizeEmail, ListsDisplayNamesAndQuotedPartsAreRefused) {
  for (std::string_view bad : {"x@evil.com>,<y@b.com", "x,y@b.com", "Ann <ann@example.com>", "\"a b\"@example.com",
                               "a@b@c.com", "ann@[127.0.0.1]", "ann@localhost", "ann@-example.com",
                               "ann@example-.com", "ann@example..com", ".ann@example.com", "ann.@example.com",
                               "an..n@example.com", "@example.com", "ann@", "ann", "ann@exa_mple.com",
                               "ann@example.com.", "(comment)ann@example.com"})
    EXPECT_FALSE(normalize_email(bad)) << bad;
}

TEST(NormalizeEmail, InvisibleAndControlCharactersAreRefused) {
  for (std::string_view bad : {"ann@example.com\xe2\x80\x8b",   // zero-width space
                               "ann@example.com\xe2\x80\xa8",   // line separator U+2028
                               "ann\xe2\x80\x8d@example.com",   // zero-width joiner
                               "ann@exam\xe2\x80\xaeple.com",   // right-to-left override
                               "ann@example.com\xc2\xa0",       // no-break space
                               "ann@example.com\x7f", "ann @example.com", "ann\t@example.com",
                               "ann@example.com\xff", "ann@example.com\xc3"})
    EXPECT_FALSE(normalize_email(bad)) << bad;
}

TEST(NormalizeEmail, LengthsAreBounded) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(normalize_email(local64 + "@example.com"));
  EXPECT_FALSE(normalize_email(local64 + "a@example.com"));
  const std::string label63(63, 'b');
  EXPECT_TRUE(normalize_email("a@" + label63 + ".com"));
  EXPECT_FALSE(normalize_email("a@" + label63 + "b.com"));
  EXPECT_FALSE(normalize_email(std::string(300, 'a') + "@example.com"));
  EXPECT_FALSE(normalize_email("a@"));
}

}  // namespace
}  // namespace ticketd::app
