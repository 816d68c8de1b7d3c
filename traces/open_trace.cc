// open_trace(): compression by magic bytes, then format by content (and, for
// ChampSim's headerless records, the file name). Rules: traces/README.md.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>

#include "models/common/error.h"
#include "traces/formats.h"
#include "traces/generator.h"
#include "traces/trace_reader.h"

namespace mmusim {
namespace {

constexpr size_t kSniffBytes = 4096;

bool is_lackey_record(const char* b, const char* e) {
  if (e - b < 5) return false;
  bool prefix = (b[0] == 'I' && b[1] == ' ' && b[2] == ' ') ||
                (b[0] == ' ' && (b[1] == 'L' || b[1] == 'S' || b[1] == 'M') && b[2] == ' ');
  if (!prefix) return false;
  const char* p = b + 3;
  while (p != e && hex_digit(*p) >= 0) ++p;
  return p != b + 3 && p != e && *p == ',';
}

// pinatrace: "0xIP: ..." or "(nil): ...".
bool is_pin_record(const char* q, const char* e) {
  if (e - q >= 6 && std::memcmp(q, "(nil):", 6) == 0) return true;
  if (e - q < 4 || q[0] != '0' || (q[1] != 'x' && q[1] != 'X')) return false;
  const char* p = q + 2;
  while (p != e && hex_digit(*p) >= 0) ++p;
  return p != q + 2 && p != e && *p == ':';
}

// din: a label 0..4, blanks, hex digits, then a blank or the line end.
bool is_din_record(const char* q, const char* e) {
  if (e - q < 3 || *q < '0' || *q > '4' || !is_blank(q[1])) return false;
  const char* p = q + 1;
  while (p != e && is_blank(*p)) ++p;
  if (e - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_digit(p[2]) >= 0) p += 2;
  const char* d = p;
  while (p != e && hex_digit(*p) >= 0) ++p;
  return p != d && (p == e || is_blank(*p));
}

bool name_says_champsim(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base.find("champsim") != std::string::npos;
}

// The format of a stream from its first n bytes (`ended`: they are all of it).
const char* sniff_format(const char* data, size_t n, bool ended, const std::string& path) {
  if (n >= 8 && std::memcmp(data, kBinaryMagic, 8) == 0) return "binary";
  // A NUL byte is never valid in the text formats; ChampSim looks at 4 KiB.
  const size_t w = std::min(n, kSniffBytes);
  if (std::memchr(data, '\0', w) != nullptr &&
      (name_says_champsim(path) || looks_like_champsim(data, w, ended && n == w))) {
    return "champsim";
  }
  const char* p = data;
  const char* end = data + n;
  while (p != end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* e = nl != nullptr ? nl : end;
    if (e != p && e[-1] == '\r') --e;
    const char* q = p;
    while (q != e && is_blank(*q)) ++q;
    if (e - q >= 4 && std::memcmp(q, "#eof", 4) == 0) {
      const char* r = q + 4;
      while (r != e && is_blank(*r)) ++r;
      if (r == e) return "pin";
    }
    if (q != e && *q != '#') {
      if (e - p >= 2 && p[0] == '=' && p[1] == '=') return "lackey";
      if (is_lackey_record(p, e)) return "lackey";
      if (is_pin_record(q, e)) return "pin";
      if (is_din_record(q, e)) return "din";
      return "text";
    }
    if (nl == nullptr) break;
    p = nl + 1;
  }
  return "text";
}

struct Signature {
  const char* bytes;
  size_t len;
  size_t offset;
  const char* what;
};
constexpr Signature kSignatures[] = {
    {"\x7f"
     "ELF",
     4, 0, "an ELF executable or object file"},
    {"MZ", 2, 0, "a DOS/Windows executable"},
    {"%PDF-", 5, 0, "a PDF document"},
    {"\x89PNG\r\n\x1a\n", 8, 0, "a PNG image"},
    {"\xff\xd8\xff", 3, 0, "a JPEG image"},
    {"PK\x03\x04", 4, 0, "a zip archive"},
    {"BZh", 3, 0, "bzip2 data (compress traces with gzip, xz or zstd)"},
    {"!<arch>\n", 8, 0, "an ar archive"},
    {"ustar", 5, 257, "a tar archive"},
    {"SQLite format 3", 15, 0, "an SQLite database"},
};

}  // namespace

std::string describe_non_trace(const char* data, size_t n) {
  for (const Signature& s : kSignatures) {
    if (n >= s.offset + s.len && std::memcmp(data + s.offset, s.bytes, s.len) == 0) return s.what;
  }
  // A binary trace header with its magic damaged: the record size (16) and a
  // known version in place, or most of the magic's bytes.
  if (n >= 12 && std::memcmp(data, kBinaryMagic, 8) != 0) {
    size_t same = 0;
    for (size_t i = 0; i < 8; ++i) same += data[i] == kBinaryMagic[i] ? 1 : 0;
    uint16_t version = 0, record_size = 0;
    std::memcpy(&version, data + 8, 2);
    std::memcpy(&record_size, data + 10, 2);
    const bool layout = record_size == kBinaryRecordSize &&
                        (version == kBinaryVersion || version == kBinaryVersionTasks);
    if (same >= 5 || (layout && same >= 2)) {
      return "a binary trace with a damaged header: expected magic \"MMUTRACE\", got " +
             quote_token(data, data + 8);
    }
  }
  return {};
}

std::unique_ptr<TraceReader> open_trace(const std::string& path, const std::string& format) {
  if (path.rfind("gen:", 0) == 0) return open_generator(path.substr(4));
  static const char* const kFormats[] = {"auto", "text",     "binary", "lackey",
                                         "pin",  "champsim", "din"};
  if (std::find(std::begin(kFormats), std::end(kFormats), format) == std::end(kFormats)) {
    throw InputError("unknown trace format '" + format +
                     "' (expected auto, text, binary, lackey, champsim, pin or din)");
  }
  auto in = std::make_unique<InputBuffer>(open_byte_source(path));
  std::string f = format;
  if (f == "auto") {
    in->fill(kSniffBytes);
    const std::string foreign = describe_non_trace(in->data(), in->size());
    if (!foreign.empty()) {
      throw input_error(in->source().name(), "byte offset 0",
                        "not a trace: the file looks like " + foreign);
    }
    f = sniff_format(in->data(), in->size(), in->source_ended(), path);
  }
  if (f == "binary") return make_binary_reader(std::move(in));
  if (f == "lackey") return make_lackey_reader(std::move(in), path);
  if (f == "champsim") return make_champsim_reader(std::move(in));
  if (f == "pin") return make_pin_reader(std::move(in));
  if (f == "din") return make_din_reader(std::move(in));
  return make_text_reader(std::move(in));
}

}  // namespace mmusim
