// Parser of valgrind -d's "Memory layout at client startup" blocks.
#include "traces/valgrind_maps.h"

#include <cstring>
#include <string_view>

#include "models/common/error.h"
#include "models/common/parse.h"
#include "traces/byte_stream.h"
#include "traces/formats.h"

namespace mmusim {
namespace {

struct Segment {
  std::string kind;  // "file", "anon", "RSVN", "FILE", "ANON", "" (free), ...
  uint64_t start = 0, last = 0;
  std::string perms;
  uint64_t offset = 0;
  int name = -1;
  std::string rsvn;  // SmFixed, SmLower, SmUpper
};

struct Block {
  bool open = false;
  std::map<int, std::string> names;
  std::vector<Segment> segments;
};

std::string_view next_token(std::string_view& s) {
  size_t b = 0;
  while (b < s.size() && is_blank(s[b])) ++b;
  size_t e = b;
  while (e < s.size() && !is_blank(s[e])) ++e;
  std::string_view t = s.substr(b, e - b);
  s.remove_prefix(e);
  return t;
}

bool hex_value(std::string_view t, uint64_t* v) {
  const ParsedInt n = scan_u64(t.data(), t.data() + t.size(), IntSyntax::kHex);
  *v = n.value;
  return n.ok() && n.end == t.data() + t.size();
}

VgLayout build(const Block& b) {
  VgLayout l;
  const auto& segs = b.segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    if (s.kind != "file" && s.kind != "anon") continue;
    VgMapping m;
    m.start = s.start;
    m.end = s.last + 1;
    m.prot = (s.perms.size() > 0 && s.perms[0] == 'r' ? linux_abi::kProtRead : 0) |
             (s.perms.size() > 1 && s.perms[1] == 'w' ? linux_abi::kProtWrite : 0) |
             (s.perms.size() > 2 && s.perms[2] == 'x' ? linux_abi::kProtExec : 0);
    if (s.kind == "file") {
      auto it = b.names.find(s.name);
      m.path = it == b.names.end() ? std::string() : it->second;
      if (m.path.find("/valgrind/") != std::string::npos) continue;  // the tool's own
      m.kind = VmaInitEvent::Kind::kFile;
      m.offset = s.offset;
      if (l.program.empty()) {
        l.program = m.path;
      } else if (l.interp.empty() && m.path != l.program) {
        l.interp = m.path;
      }
    } else if (i + 1 < segs.size() && segs[i + 1].rsvn == "SmLower" &&
               segs[i + 1].start == s.last + 1) {
      m.kind = VmaInitEvent::Kind::kBrk;
    } else if (i > 0 && segs[i - 1].rsvn == "SmUpper" && segs[i - 1].last + 1 == s.start) {
      m.kind = VmaInitEvent::Kind::kStack;
      m.grows_down = true;
      m.max_size = m.end - segs[i - 1].start;
    }
    l.mappings.push_back(std::move(m));
  }
  return l;
}

}  // namespace

std::map<uint32_t, std::vector<VgLayout>> read_valgrind_layouts(const std::string& path) {
  std::map<uint32_t, std::vector<VgLayout>> out;
  std::map<uint32_t, Block> blocks;
  InputBuffer in(open_byte_source(path));
  uint64_t line_no = 0;
  std::string line;
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
    if (nl == nullptr && !in.source_ended()) {
      if (in.size() == in.capacity()) {
        throw input_error(path, "line " + std::to_string(line_no + 1),
                          "line longer than " + std::to_string(in.capacity()) + " bytes");
      }
      in.fill(in.size() + 1);
      continue;
    }
    if (in.size() == 0) break;
    const char* b = in.data();
    const char* e = nl != nullptr ? nl : b + in.size();
    line.assign(b, e);
    in.consume(static_cast<size_t>(e - b) + (nl != nullptr ? 1 : 0));
    ++line_no;
    // "--PID:LEVEL: aspacem TEXT"
    std::string_view s(line);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    if (s.size() < 4 || s[0] != '-' || s[1] != '-') continue;
    const ParsedInt pid = scan_u64(s.data() + 2, s.data() + s.size(), IntSyntax::kDecimal);
    if (!pid.ok() || pid.end == s.data() + s.size() || *pid.end != ':') continue;
    const size_t tag = s.find(": aspacem ");
    if (tag == std::string_view::npos) continue;
    s.remove_prefix(tag + 10);
    Block& blk = blocks[static_cast<uint32_t>(pid.value)];
    auto fail = [&](const std::string& what) {
      throw input_error(path, "line " + std::to_string(line_no),
                        what + " in valgrind's layout, got '" + line + "'");
    };
    if (s.rfind("<<< SHOW_SEGMENTS:", 0) == 0) {
      blk = Block{};
      blk.open = s.find("at client startup") != std::string_view::npos;
      continue;
    }
    if (!blk.open) continue;
    if (s.rfind(">>>", 0) == 0) {
      out[static_cast<uint32_t>(pid.value)].push_back(build(blk));
      blk = Block{};
      continue;
    }
    std::string_view rest = s;
    std::string_view first = next_token(rest);
    if (!first.empty() && first[0] == '(') {  // "(idx,n,m) PATH"
      const ParsedInt idx =
          scan_u64(first.data() + 1, first.data() + first.size(), IntSyntax::kDecimal);
      size_t p = 0;
      while (p < rest.size() && is_blank(rest[p])) ++p;
      if (idx.ok()) blk.names[static_cast<int>(idx.value)] = std::string(rest.substr(p));
      continue;
    }
    if (first.empty() || first.back() != ':') continue;  // "N segment names ...", "freelist ..."
    // "N: KIND START-LAST SIZE PERMS [d=.. i=.. o=OFF (NAME,..)]" or "N:      START-LAST SIZE"
    Segment seg;
    std::string_view t = next_token(rest);
    if (t.find('-') == std::string_view::npos) {
      seg.kind = std::string(t);
      t = next_token(rest);
    }
    const size_t dash = t.find('-');
    if (dash == std::string_view::npos || !hex_value(t.substr(0, dash), &seg.start) ||
        !hex_value(t.substr(dash + 1), &seg.last) || seg.last < seg.start) {
      fail("expected START-END in hex");
    }
    next_token(rest);  // size, possibly "62m"
    if (!seg.kind.empty()) {
      seg.perms = std::string(next_token(rest));
      for (std::string_view f = next_token(rest); !f.empty(); f = next_token(rest)) {
        if (f.rfind("o=", 0) == 0) {
          const ParsedInt o = scan_u64(f.data() + 2, f.data() + f.size(), IntSyntax::kDecimal);
          if (!o.ok()) fail("expected a decimal offset o=N");
          seg.offset = o.value;
        } else if (f[0] == '(') {
          const ParsedInt n = scan_u64(f.data() + 1, f.data() + f.size(), IntSyntax::kDecimal);
          if (n.ok()) seg.name = static_cast<int>(n.value);
        } else if (f.rfind("Sm", 0) == 0) {
          seg.rsvn = std::string(f);
        }
      }
    }
    blk.segments.push_back(std::move(seg));
  }
  return out;
}

}  // namespace mmusim
