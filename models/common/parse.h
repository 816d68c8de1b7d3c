// The one unsigned-integer parser: configuration values, command-line options,
// generator specs and the trace readers' address and size fields all go
// through scan_u64 (a prefix scan, like std::from_chars) or parse_u64 (the
// whole text must be the number). Decimal, or hexadecimal where the caller
// allows it; a leading zero is never octal; leading zeros are allowed in both
// bases; values of 2^64 and above are an overflow, never wrapped or clamped.
// No exceptions, no allocation, no locale: callers turn the reason into
// their own message. parse_bool is the one boolean parser (configuration
// keys), with kBoolExpected the text its callers' messages use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mmusim {

enum class IntSyntax : uint8_t {
  kDecimal,       // [0-9]+
  kDecimalOrHex,  // [0-9]+, or 0x/0X then [0-9a-fA-F]+
  kHex,           // [0-9a-fA-F]+, with an optional 0x/0X prefix
  kBareHex,       // [0-9a-fA-F]+ without a prefix ("0x1" stops after the "0")
};

enum class ParseError : uint8_t {
  kNone = 0,
  kEmpty,       // no characters at all
  kSign,        // a '+' or '-' where the number starts
  kWhitespace,  // a blank before (or, for parse_u64, after) the number
  kNoDigits,    // no digit where the number starts, or a 0x prefix with no hex digit after it
  kBadDigit,    // parse_u64: a character after the digits that does not belong to the number
  kOverflow,    // the value is 2^64 or more
};

// What the error means, for messages: "no digits", "a value of 2^64 or more", ...
constexpr std::string_view describe(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "no error";
    case ParseError::kEmpty: return "an empty value";
    case ParseError::kSign: return "a sign";
    case ParseError::kWhitespace: return "blanks around the number";
    case ParseError::kNoDigits: return "no digits";
    case ParseError::kBadDigit: return "a character that is not a digit";
    case ParseError::kOverflow: return "a value of 2^64 or more";
  }
  return "?";
}

struct ParsedInt {
  uint64_t value = 0;  // the number; UINT64_MAX on kOverflow, 0 on other errors
  // scan_u64: the first character after the number (after every digit, also
  // on kOverflow; where it started when there is no number).
  const char* end = nullptr;
  ParseError error = ParseError::kNone;
  [[nodiscard]] constexpr bool ok() const { return error == ParseError::kNone; }
};

namespace parse_detail {
// Hex digit values by character, -1 for every other byte.
inline constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
           : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                  : int8_t{-1};
  }
  return t;
}();
constexpr int hex_value(char c) { return kHexValue[static_cast<unsigned char>(c)]; }
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
// "0x"/"0X" followed by a hex digit at p.
constexpr bool hex_prefix_at(const char* p, const char* e) {
  return e - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_value(p[2]) >= 0;
}
// Whether the digits [first, last) are 2^64 or more. Only called for more
// than 16 hex or 19 decimal digits, so the digit loops need no check.
constexpr bool too_large(const char* first, const char* last, bool hex) {
  while (first != last && *first == '0') ++first;
  const auto n = last - first;
  if (hex || n != 20) return n > (hex ? 16 : 20);
  const char* const max = "18446744073709551615";  // 2^64 - 1: same length, so compare as text
  for (int i = 0; i < 20; ++i) {
    if (first[i] != max[i]) return first[i] > max[i];
  }
  return false;
}
}  // namespace parse_detail

// The longest number at the start of [p, e) in `syntax`; stops at the first
// character that is not one of its digits (that character is not an error
// here). A 0x prefix is taken only when a hex digit follows it, so "0x"
// alone, or "0xg", scans as the number 0 ending at the 'x'.
// Errors: kEmpty (p == e), kSign, kWhitespace, kNoDigits (no digit at p),
// kOverflow (`end` still past all the digits).
// Always inlined: the trace readers call it per record, and with a constant
// `syntax` the other syntaxes' branches fold away.
[[gnu::always_inline]] constexpr inline ParsedInt scan_u64(const char* p, const char* e,
                                                           IntSyntax syntax) noexcept {
  ParsedInt r;
  r.end = p;
  if (p == e) {
    r.error = ParseError::kEmpty;
    return r;
  }
  bool hex = syntax == IntSyntax::kHex || syntax == IntSyntax::kBareHex;
  if (syntax != IntSyntax::kDecimal && syntax != IntSyntax::kBareHex &&
      parse_detail::hex_prefix_at(p, e)) {
    p += 2;
    hex = true;
  }
  const char* const first = p;
  uint64_t v = 0;
  if (hex) {
    for (int d = 0; p != e && (d = parse_detail::hex_value(*p)) >= 0; ++p) {
      v = (v << 4) | static_cast<uint64_t>(d);
    }
  } else {
    for (unsigned d = 0; p != e && (d = static_cast<unsigned char>(*p) - unsigned{'0'}) <= 9; ++p) {
      v = v * 10 + d;
    }
  }
  r.end = p;
  if (p == first) {  // why there is no number (first < e here)
    r.error = *first == '+' || *first == '-'   ? ParseError::kSign
              : parse_detail::is_space(*first) ? ParseError::kWhitespace
                                               : ParseError::kNoDigits;
  } else if (p - first > (hex ? 16 : 19) && parse_detail::too_large(first, p, hex)) {
    r.error = ParseError::kOverflow;
    r.value = UINT64_MAX;
  } else {
    r.value = v;
  }
  return r;
}

constexpr ParsedInt scan_u64(std::string_view text, IntSyntax syntax) noexcept {
  return scan_u64(text.data(), text.data() + text.size(), syntax);
}

// The whole of `text` is one number in `syntax`. Errors as scan_u64's, plus
// kNoDigits for a 0x prefix without digits ("0x"), kWhitespace for trailing
// blanks and kBadDigit for any other trailing character ("12x", "1.5").
constexpr ParsedInt parse_u64(std::string_view text, IntSyntax syntax) noexcept {
  ParsedInt r = scan_u64(text, syntax);
  if (r.error != ParseError::kNone && r.error != ParseError::kOverflow) return r;
  const auto used = static_cast<size_t>(r.end - text.data());
  if (used < text.size()) {
    const char c = text[used];
    const bool bare_prefix = syntax != IntSyntax::kDecimal && syntax != IntSyntax::kBareHex &&
                             used == 1 && (c == 'x' || c == 'X');
    r.error = bare_prefix                 ? ParseError::kNoDigits
              : parse_detail::is_space(c) ? ParseError::kWhitespace
                                          : ParseError::kBadDigit;
    r.value = 0;
  }
  return r;
}

// parse_u64's value, or nothing.
constexpr std::optional<uint64_t> to_u64(std::string_view text, IntSyntax syntax) noexcept {
  const ParsedInt r = parse_u64(text, syntax);
  if (!r.ok()) return std::nullopt;
  return r.value;
}

// Booleans: exactly true/false, 1/0, yes/no or on/off, lower case, nothing
// around them (callers trim blanks first).
constexpr std::optional<bool> parse_bool(std::string_view text) noexcept {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return std::nullopt;
}
// What parse_bool accepts, for "expected ..." messages: every spelling it takes.
inline constexpr std::string_view kBoolExpected =
    "true or false (also 1/0, yes/no, on/off; lower case)";

}  // namespace mmusim
