// open_trace(): compression by magic bytes, then format by content.
#include <cstring>

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

// "binary", "lackey" or "text", from the first bytes of the stream.
const char* sniff_format(const char* data, size_t n) {
  if (n >= 8 && std::memcmp(data, kBinaryMagic, 8) == 0) return "binary";
  const char* p = data;
  const char* end = data + n;
  while (p != end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* e = nl != nullptr ? nl : end;
    const char* q = p;
    while (q != e && is_blank(*q)) ++q;
    if (q != e && *q != '#') {
      if (e - p >= 2 && p[0] == '=' && p[1] == '=') return "lackey";
      return is_lackey_record(p, e) ? "lackey" : "text";
    }
    if (nl == nullptr) break;
    p = nl + 1;
  }
  return "text";
}

}  // namespace

std::unique_ptr<TraceReader> open_trace(const std::string& path, const std::string& format) {
  if (path.rfind("gen:", 0) == 0) return open_generator(path.substr(4));
  if (format != "auto" && format != "text" && format != "binary" && format != "lackey") {
    throw InputError("unknown trace format '" + format +
                     "' (expected auto, text, binary or lackey)");
  }
  auto in = std::make_unique<InputBuffer>(open_byte_source(path));
  std::string f = format;
  if (f == "auto") {
    in->fill(kSniffBytes);
    f = sniff_format(in->data(), in->size());
  }
  if (f == "binary") return make_binary_reader(std::move(in));
  if (f == "lackey") return make_lackey_reader(std::move(in));
  return make_text_reader(std::move(in));
}

}  // namespace mmusim
