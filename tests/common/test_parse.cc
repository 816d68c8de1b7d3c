// models/common/parse.h: the one unsigned-integer parser. Boundaries (2^64),
// empty input, signs, blanks, 0x prefixes without digits, leading zeros, the
// four syntaxes, and scan_u64's end position.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>

#include "models/common/parse.h"

namespace mmusim {
namespace {

constexpr IntSyntax kDec = IntSyntax::kDecimal;
constexpr IntSyntax kDecHex = IntSyntax::kDecimalOrHex;
constexpr IntSyntax kHex = IntSyntax::kHex;
constexpr IntSyntax kBare = IntSyntax::kBareHex;

ParseError error_of(const std::string& s, IntSyntax x) { return parse_u64(s, x).error; }

// Usable at compile time.
static_assert(parse_u64("0x10", IntSyntax::kDecimalOrHex).value == 16);
static_assert(!to_u64("-1", IntSyntax::kDecimal).has_value());

TEST(Parse, DecimalBoundaryAt2To64) {
  EXPECT_EQ(to_u64("18446744073709551615", kDec), UINT64_MAX);
  const ParsedInt r = parse_u64("18446744073709551616", kDec);
  EXPECT_EQ(r.error, ParseError::kOverflow);
  EXPECT_EQ(r.value, UINT64_MAX);
  EXPECT_EQ(error_of("18446744073709551620", kDec), ParseError::kOverflow);
  EXPECT_EQ(error_of("99999999999999999999", kDec), ParseError::kOverflow);
  EXPECT_EQ(error_of("100000000000000000000000000000", kDec), ParseError::kOverflow);
}

TEST(Parse, HexBoundaryAt2To64) {
  EXPECT_EQ(to_u64("0xffffffffffffffff", kDecHex), UINT64_MAX);
  EXPECT_EQ(to_u64("FFFFFFFFFFFFFFFF", kHex), UINT64_MAX);
  EXPECT_EQ(error_of("0x10000000000000000", kDecHex), ParseError::kOverflow);
  EXPECT_EQ(error_of("10000000000000000", kBare), ParseError::kOverflow);
}

TEST(Parse, Empty) {
  for (IntSyntax x : {kDec, kDecHex, kHex, kBare}) {
    EXPECT_EQ(error_of("", x), ParseError::kEmpty);
    EXPECT_FALSE(to_u64("", x).has_value());
  }
}

TEST(Parse, SignsAreRefused) {
  for (const char* s : {"-1", "+1", "-0", "+0x10", "-"}) {
    EXPECT_EQ(error_of(s, kDecHex), ParseError::kSign) << s;
  }
}

TEST(Parse, Whitespace) {
  for (const char* s : {" 1", "\t1", "1 ", "1\n", "\r"}) {
    EXPECT_EQ(error_of(s, kDecHex), ParseError::kWhitespace) << s;
  }
  EXPECT_EQ(error_of("1 2", kDec), ParseError::kWhitespace);
}

TEST(Parse, HexPrefixWithoutDigits) {
  for (const char* s : {"0x", "0X", "0xg", "0x-1"}) {
    EXPECT_EQ(error_of(s, kDecHex), ParseError::kNoDigits) << s;
    EXPECT_EQ(error_of(s, kHex), ParseError::kNoDigits) << s;
  }
  // Where hex is not allowed, the 'x' is simply not a digit.
  EXPECT_EQ(error_of("0x", kDec), ParseError::kBadDigit);
  EXPECT_EQ(error_of("0x10", kDec), ParseError::kBadDigit);
  EXPECT_EQ(error_of("0x10", kBare), ParseError::kBadDigit);
}

TEST(Parse, LeadingZeros) {
  EXPECT_EQ(to_u64("007", kDec), 7U);  // never octal
  EXPECT_EQ(to_u64("08", kDecHex), 8U);
  EXPECT_EQ(to_u64("0", kDecHex), 0U);
  EXPECT_EQ(to_u64("00", kDecHex), 0U);
  EXPECT_EQ(to_u64("0000000000000000000000000000001", kDec), 1U);  // no false overflow
  EXPECT_EQ(to_u64("0x00000000000000000000000000001", kDecHex), 1U);
  EXPECT_EQ(to_u64("000000000000000000000ffffffffffffffff", kBare), UINT64_MAX);
}

TEST(Parse, Syntaxes) {
  EXPECT_EQ(to_u64("123", kDec), 123U);
  EXPECT_EQ(to_u64("123", kDecHex), 123U);
  EXPECT_EQ(to_u64("123", kHex), 0x123U);
  EXPECT_EQ(to_u64("0x1f", kDecHex), 0x1fU);
  EXPECT_EQ(to_u64("0X1F", kDecHex), 0x1fU);
  EXPECT_EQ(to_u64("0x1f", kHex), 0x1fU);
  EXPECT_EQ(to_u64("1f", kHex), 0x1fU);
  EXPECT_EQ(to_u64("1f", kBare), 0x1fU);
  EXPECT_EQ(error_of("1f", kDecHex), ParseError::kBadDigit);
  EXPECT_EQ(error_of("12x", kDec), ParseError::kBadDigit);
  EXPECT_EQ(error_of("1.5", kDec), ParseError::kBadDigit);
  EXPECT_EQ(error_of("0x1g", kDecHex), ParseError::kBadDigit);
  EXPECT_EQ(error_of("many", kDec), ParseError::kNoDigits);
  EXPECT_EQ(error_of("x1", kHex), ParseError::kNoDigits);
}

TEST(Parse, ScanStopsAtTheFirstNonDigit) {
  const char* s = "4096,8";
  ParsedInt r = scan_u64(s, s + std::strlen(s), kDec);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.value, 4096U);
  EXPECT_EQ(r.end, s + 4);
  // A 0x prefix is taken only when a hex digit follows it.
  const char* h = "0x:";
  r = scan_u64(h, h + 3, kHex);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.value, 0U);
  EXPECT_EQ(r.end, h + 1);
  const char* a = "0x7fab:R";
  r = scan_u64(a, a + std::strlen(a), kHex);
  EXPECT_EQ(r.value, 0x7fabU);
  EXPECT_EQ(r.end, a + 6);
  // Overflow still consumes every digit.
  const char* big = "123456789abcdef01 8";
  r = scan_u64(big, big + std::strlen(big), kBare);
  EXPECT_EQ(r.error, ParseError::kOverflow);
  EXPECT_EQ(r.end, big + 17);
  // No digits: end stays where the number should start.
  r = scan_u64(std::string_view(",1"), kDec);
  EXPECT_EQ(r.error, ParseError::kNoDigits);
  EXPECT_EQ(*r.end, ',');
}

TEST(Parse, EveryErrorIsDescribed) {
  for (ParseError e : {ParseError::kEmpty, ParseError::kSign, ParseError::kWhitespace,
                       ParseError::kNoDigits, ParseError::kBadDigit, ParseError::kOverflow}) {
    EXPECT_FALSE(describe(e).empty());
    EXPECT_NE(describe(e), "?");
  }
}

// parse_bool takes exactly the spellings kBoolExpected names.
TEST(ParseBool, AcceptsExactlyWhatTheMessageSays) {
  for (const char* t : {"true", "1", "yes", "on"}) EXPECT_EQ(parse_bool(t), true) << t;
  for (const char* f : {"false", "0", "no", "off"}) EXPECT_EQ(parse_bool(f), false) << f;
  for (const char* bad : {"", "TRUE", "True", "y", "n", "2", " true", "true ", "enable"}) {
    EXPECT_EQ(parse_bool(bad), std::nullopt) << "'" << bad << "'";
  }
  EXPECT_EQ(kBoolExpected, "true or false (also 1/0, yes/no, on/off; lower case)");
}

}  // namespace
}  // namespace mmusim
