#include "app/email_address.hpp"

#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include <cstdlib>
#include <memory>

#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

namespace {

core::Error invalid(const std::string& why) { return core::make_error(core::Code::InvalidRequest, "email: " + why); }

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

// Code points no one can see or type as part of an address: controls, format characters (zero-width
// space, joiners, bidi overrides), line and paragraph separators, spaces, private use, unassigned.
constexpr uint32_t kRefusedCategories = UC_CATEGORY_MASK_Cc | UC_CATEGORY_MASK_Cf | UC_CATEGORY_MASK_Cs |
                                        UC_CATEGORY_MASK_Co | UC_CATEGORY_MASK_Cn | UC_CATEGORY_MASK_Zs |
                                        UC_CATEGORY_MASK_Zl | UC_CATEGORY_MASK_Zp;

bool has_refused_code_point(const uint8_t* s, size_t n) {
  const uint8_t* end = s + n;
  while (s < end) {
    ucs4_t uc = 0;
    const int len = u8_mbtouc(&uc, s, static_cast<size_t>(end - s));
    if (len <= 0 || uc == 0xfffd) return true;  // malformed UTF-8 decodes to U+FFFD
    if (uc_is_general_category_withtable(uc, kRefusedCategories)) return true;
    s += len;
  }
  return false;
}

}  // namespace

core::Result<std::string> normalize_email(std::string_view typed) {
  // Bounded before any Unicode work: the typed text, then the key (NFKC can grow it).
  if (typed.size() < 3 || typed.size() > core::limits::email_bytes_max) return invalid("3-254 bytes required");
  const auto* bytes = reinterpret_cast<const uint8_t*>(typed.data());
  if (u8_check(bytes, typed.size()) != nullptr) return invalid("UTF-8 required");
  if (has_refused_code_point(bytes, typed.size()))
    return invalid("no spaces, invisible or control characters");
  size_t folded_size = 0;
  std::unique_ptr<uint8_t, FreeDeleter> folded(
      u8_casefold(bytes, typed.size(), nullptr, UNINORM_NFKC, nullptr, &folded_size));
  if (!folded) return invalid("cannot be normalised");
  std::string key(reinterpret_cast<const char*>(folded.get()), folded_size);
  // NFKC can turn a full-width '＠' into '@' or a ligature into letters: the key is checked again.
  if (has_refused_code_point(folded.get(), folded_size)) return invalid("no spaces, invisible or control characters");
  if (auto s = core::validate_email(key); !s) return s.error();
  return key;
}

}  // namespace ticketd::app
