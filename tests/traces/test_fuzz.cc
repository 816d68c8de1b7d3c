// Randomized malformed input: every reader either returns records or throws
// InputError; nothing crashes, hangs or throws anything else. (Deterministic
// seeds; a coverage-guided fuzzer can reuse read_bytes() as its entry point.)
#include <gtest/gtest.h>

#include <cstring>

#include "tests/traces/trace_test_util.h"
#include "traces/formats.h"
#include "traces/generator.h"

namespace mmusim {
namespace {

using testing::ScratchDir;

// Reads `bytes` as `format`; returns "ok", or "input error".
std::string read_bytes(const ScratchDir& d, const std::string& bytes, const char* format) {
  std::string path = d.write("fuzz", bytes);
  try {
    auto r = open_trace(path, format);
    testing::read_all(*r, 3);
    return "ok";
  } catch (const InputError&) {
    return "input error";
  }
}

// Mutates a valid input: flips, inserts and deletes a few random bytes.
std::string mutate(std::string s, SplitMix64& rng) {
  static const char kAlphabet[] = "RWXILSM=0x19afAF, \t\n#\r\x00\xff";
  int edits = 1 + static_cast<int>(rng.below(4));
  for (int i = 0; i < edits; ++i) {
    size_t at = s.empty() ? 0 : rng.below(s.size());
    char c = kAlphabet[rng.below(sizeof kAlphabet - 1)];
    switch (rng.below(3)) {
      case 0:
        if (!s.empty()) s[at] = c;
        break;
      case 1: s.insert(s.begin() + static_cast<long>(at), c); break;
      default:
        if (!s.empty()) s.erase(at, 1);
    }
  }
  return s;
}

TEST(TraceFuzz, MutatedInputsGiveRecordsOrInputErrors) {
  ScratchDir d;
  const std::string text = "# c\nR 0x1000 8\nW 2000 4 1\nX 0xffff\n";
  const std::string lackey = "==1== x\nI  04016c40,3\n S 1ffefffe48,8\n M 0422ad70,4\n";
  std::string binary = encode_binary_header("cmt", 2);
  char rec[16];
  encode_record(testing::rec(AccessKind::kWrite, 0x1234, 8), rec);
  binary.append(rec, 16).append(rec, 16);
  SplitMix64 rng(2024);
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    const char* formats[] = {"auto", "text", "lackey", "binary"};
    const std::string* bases[] = {&text, &lackey, &binary};
    std::string input = mutate(*bases[i % 3], rng);
    std::string result = read_bytes(d, input, formats[rng.below(4)]);
    errors += result == "input error";
  }
  EXPECT_GT(errors, 500);  // most mutations are caught
}

// Binary version 3: a plain trace (accesses on two cpus, a LOAD, an INVLPG)
// and a task trace (START, a task declaration, records of both tasks), each
// mutated, and random bytes after a version-3 header. The inputs are longer
// than the reader's look-ahead so both its unchecked run and its checked
// record decoder see the damage.
TEST(TraceFuzz, MutatedVersion3InputsGiveRecordsOrInputErrors) {
  ScratchDir d;
  const std::string records(
      "\xa0\x80\x40\x20\x8e\x80\x80\x80\x04\x16\xe1\x01\xf0\x3f\xa1\x1f\x7c\x80\x20\x00"
      "\x03\x41\x00\x2b\x13\x01\x04\x00\x80\x20",
      30);
  std::string plain = encode_binary_header("", 0, false, true);
  plain[12] = 1;  // segment records
  for (int i = 0; i < 3; ++i) plain += records;
  std::string tasks = encode_binary_header("", 0, true, true);
  // START pid 1 tid 1 name "a": kind 1, 0, pid, tid, u16 length, the name
  tasks += std::string(
      "\x03\x07\x0f\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00"
      "a",
      18);
  tasks += std::string("\xa1\x80\x40", 3);
  tasks += std::string("\x13\x01\x07\x0c\xff\xff\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00", 16);
  for (int i = 0; i < 20; ++i) tasks += std::string("\xa0\x20\x21\xe1\x00\x10", 6);
  ASSERT_EQ(read_bytes(d, plain, "binary"), "ok");
  ASSERT_EQ(read_bytes(d, tasks, "binary"), "ok");
  SplitMix64 rng(33);
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string input = mutate(i % 2 == 0 ? plain : tasks, rng);
    if (i % 3 == 0) {  // random bytes after the header
      input.resize(32);
      for (size_t k = rng.below(200); k > 0; --k) input += static_cast<char>(rng.next());
    }
    std::string result = read_bytes(d, input, i % 4 == 0 ? "auto" : "binary");
    EXPECT_TRUE(result == "ok" || result == "input error");
    errors += result == "input error";
  }
  EXPECT_GT(errors, 500);
}

TEST(TraceFuzz, MutatedImporterInputsGiveRecordsOrInputErrors) {
  ScratchDir d;
  const std::string pin = "0x401000: R 0x7ffe1000\n0x401004: W 0x601040 8\n#eof\n";
  const std::string din = "2 401000\n0 7ffe1000 8\n1 601040 comment\n4 0\n3 10\n";
  std::string champsim(128, '\0');
  const uint64_t words[] = {0x401000, 0x7ffe1000, 0x401007, 0x601040};
  std::memcpy(&champsim[0], &words[0], 8);        // ip
  std::memcpy(&champsim[32], &words[1], 8);       // source_memory[0]
  std::memcpy(&champsim[64], &words[2], 8);       // ip
  std::memcpy(&champsim[64 + 16], &words[3], 8);  // destination_memory[0]
  champsim[64 + 8] = 1;                           // is_branch
  SplitMix64 rng(99);
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    const char* formats[] = {"auto", "pin", "din", "champsim"};
    const std::string* bases[] = {&pin, &din, &champsim};
    std::string input = mutate(*bases[i % 3], rng);
    std::string result = read_bytes(d, input, formats[rng.below(4)]);
    errors += result == "input error";
  }
  EXPECT_GT(errors, 500);
}

TEST(TraceFuzz, RandomBytesInEveryFormatAndCodecMagic) {
  ScratchDir d;
  SplitMix64 rng(7);
  const std::string magics[] = {"", "\x1f\x8b",
                                "\xfd"
                                "7zXZ" +
                                    std::string(1, '\0'),
                                "\x28\xb5\x2f\xfd", "MMUTRACE"};
  for (int i = 0; i < 1000; ++i) {
    std::string s = magics[i % 5];
    size_t n = rng.below(300);
    for (size_t k = 0; k < n; ++k) s += static_cast<char>(rng.next());
    std::string result = read_bytes(d, s, "auto");
    EXPECT_TRUE(result == "ok" || result == "input error");
  }
}

}  // namespace
}  // namespace mmusim
