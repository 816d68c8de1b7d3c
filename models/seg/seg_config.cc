#include "models/seg/seg_config.h"

#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "models/arch/descriptor.h"
#include "models/common/config_schema.h"
#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {
namespace {

[[noreturn]] void fail(std::string_view key, const std::string& msg) {
  throw InputError(std::string(key) + ": " + msg);
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << v;
  return os.str();
}

// Decimal or 0x-hex (models/common/parse.h), at most `max`.
uint64_t parse_uint(std::string_view key, std::string_view text, uint64_t max) {
  const ParsedInt r = parse_u64(text, IntSyntax::kDecimalOrHex);
  if (r.error == ParseError::kOverflow || (r.ok() && r.value > max)) {
    fail(key, "value '" + std::string(text) + "' out of range (max " + std::to_string(max) + ")");
  }
  if (!r.ok()) {
    fail(key, "expected an unsigned integer (decimal or 0x-hex), got '" + std::string(text) + "'");
  }
  return r.value;
}

bool parse_bool(std::string_view key, std::string_view text) {
  if (const std::optional<bool> b = mmusim::parse_bool(text)) return *b;
  fail(key, "expected " + std::string(kBoolExpected) + ", got '" + std::string(text) + "'");
}

bool canonical(uint64_t v, uint32_t bits) {
  const uint64_t half = uint64_t{1} << (bits - 1);
  return ((v + half) >> bits) == 0;
}

constexpr std::array<SegOption, kNumSegOptions> kOptions{{
    {"seg.mode", "flat", "", "segmentation mode: real, protected, long, flat"},
    {"seg.a20_mask", "false", "", "real mode: A20M# asserted, addresses wrap at 1 MiB"},
    {"seg.cpl", "0", "level", "current privilege level (0..3)"},
    {"seg.gdt_base", "0x0", "bytes", "linear address of the GDT"},
    {"seg.gdt_limit", "0x27", "bytes", "GDTR limit, 8*N-1"},
    {"seg.ldt_base", "0x0", "bytes", "linear address of the LDT"},
    {"seg.ldt_limit", "0x0", "bytes", "LDT limit, 8*N-1; 0 = no LDT"},
    {"seg.base_cost", "1", "cycles", "extra cycles per access through a non-zero base"},
    {"seg.load_cost", "0", "cycles",
     "extra cycles per selector load that reads a descriptor (beyond the read)"},
    {"seg.stop_on_fault", "false", "", "stop the simulation at the first segmentation fault"},
    {"seg.reload_same_selector_free", "true", "",
     "reloading the selector a register already holds reads no descriptor"},
    {"seg.desc_cache_entries", "0", "entries",
     "unit-wide selector-keyed descriptor cache (0 = off, architectural re-read)"},
    {"seg.canonical_bits", "48", "bits", "long mode canonical width: 48 or 57 (LA57)"},
    {"seg.cs", "mode default", "selector", "initial CS selector"},
    {"seg.ds", "mode default", "selector", "initial DS selector"},
    {"seg.ss", "mode default", "selector", "initial SS selector"},
    {"seg.es", "mode default", "selector", "initial ES selector"},
    {"seg.fs", "mode default", "selector", "initial FS selector"},
    {"seg.gs", "mode default", "selector", "initial GS selector"},
    {"seg.fs_base", "0x0", "bytes", "long mode FS base (IA32_FS_BASE), canonical"},
    {"seg.gs_base", "0x0", "bytes", "long mode GS base (IA32_GS_BASE), canonical"},
}};

std::optional<SegReg> selector_key(std::string_view key) {
  for (int i = 0; i < kNumSegRegs; ++i) {
    const auto r = static_cast<SegReg>(i);
    if (key.size() == 6 && key.substr(0, 4) == "seg." && key.substr(4) == seg_reg_name(r)) {
      return r;
    }
  }
  return std::nullopt;
}

std::string selector_key_name(SegReg r) { return "seg." + std::string(seg_reg_name(r)); }

}  // namespace

std::string_view seg_mode_name(SegMode m) {
  switch (m) {
    case SegMode::kReal: return "real";
    case SegMode::kProtected32: return "protected";
    case SegMode::kLong64: return "long";
    case SegMode::kFlat: return "flat";
  }
  return "?";
}

std::string_view seg_reg_name(SegReg r) {
  switch (r) {
    case SegReg::kES: return "es";
    case SegReg::kCS: return "cs";
    case SegReg::kSS: return "ss";
    case SegReg::kDS: return "ds";
    case SegReg::kFS: return "fs";
    case SegReg::kGS: return "gs";
  }
  return "?";
}

SegMode parse_seg_mode(std::string_view text) {
  for (SegMode m : {SegMode::kReal, SegMode::kProtected32, SegMode::kLong64, SegMode::kFlat}) {
    if (text == seg_mode_name(m)) return m;
  }
  fail("seg.mode",
       "unknown mode '" + std::string(text) + "' (expected real, protected, long, flat)");
}

Selector SegConfig::initial_selector(SegReg r) const {
  if (selectors[seg_index(r)]) return *selectors[seg_index(r)];
  if (mode == SegMode::kReal) return Selector(0);
  const bool user = cpl == 3;
  switch (r) {
    case SegReg::kCS: return user ? FlatGdt::kUserCode : FlatGdt::kKernelCode;
    case SegReg::kFS:
    case SegReg::kGS: return Selector(0);
    default: return user ? FlatGdt::kUserData : FlatGdt::kKernelData;
  }
}

void validate(const SegConfig& c) {
  if (c.cpl > 3) fail("seg.cpl", "must be 0..3, got " + std::to_string(c.cpl));
  if (c.mode == SegMode::kReal && c.cpl != 0) fail("seg.cpl", "must be 0 in real mode");
  if (c.canonical_bits != 48 && c.canonical_bits != 57) {
    fail("seg.canonical_bits", "must be 48 or 57, got " + std::to_string(c.canonical_bits));
  }
  if (c.gdt_limit > 0xFFFF || (c.gdt_limit + 1) % 8 != 0) {
    fail("seg.gdt_limit",
         "must be 8*N-1 (whole 8-byte descriptors) and at most 0xFFFF, got " + hex(c.gdt_limit));
  }
  if (c.ldt_limit != 0 && (c.ldt_limit > 0xFFFF || (c.ldt_limit + 1) % 8 != 0)) {
    fail("seg.ldt_limit",
         "must be 0 (no LDT) or 8*N-1 and at most 0xFFFF, got " + hex(c.ldt_limit));
  }
  const bool long_mode = c.mode == SegMode::kLong64;
  const auto check_base = [&](std::string_view key, uint64_t base, uint32_t limit) {
    if (long_mode ? !canonical(base, c.canonical_bits) : base + limit > 0xFFFFFFFFULL) {
      fail(key, long_mode ? "must be canonical, got " + hex(base)
                          : "table must lie below 4 GiB, got base " + hex(base));
    }
  };
  check_base("seg.gdt_base", c.gdt_base, c.gdt_limit);
  check_base("seg.ldt_base", c.ldt_base, c.ldt_limit);
  if (c.desc_cache_entries > 64) {
    fail("seg.desc_cache_entries",
         "must be at most 64, got " + std::to_string(c.desc_cache_entries));
  }
  for (auto [key, base] : {std::pair<std::string_view, uint64_t>{"seg.fs_base", c.fs_base},
                           std::pair<std::string_view, uint64_t>{"seg.gs_base", c.gs_base}}) {
    if (base == 0) continue;
    if (!long_mode) fail(key, "only valid in long mode (use a descriptor base otherwise)");
    if (!canonical(base, c.canonical_bits)) fail(key, "must be canonical, got " + hex(base));
  }
  if (c.mode == SegMode::kReal || c.mode == SegMode::kFlat) return;
  // Descriptor-based modes: selectors must be loadable as far as the tables' limits tell.
  for (int i = 0; i < kNumSegRegs; ++i) {
    const auto r = static_cast<SegReg>(i);
    const Selector s = c.initial_selector(r);
    const std::string key = selector_key_name(r);
    const bool null = s.index() == 0 && !s.ti();
    if (null) {
      const bool ss_null_ok = long_mode && c.cpl < 3 && s.rpl() == c.cpl;
      if (r == SegReg::kCS || (r == SegReg::kSS && !ss_null_ok)) {
        fail(key, "null selector " + hex(s.value()) + " cannot be loaded into " +
                      std::string(seg_reg_name(r)) + " in " + std::string(seg_mode_name(c.mode)) +
                      " mode");
      }
      continue;
    }
    const uint32_t limit = s.ti() ? c.ldt_limit : c.gdt_limit;
    if (uint32_t{s.index()} * 8 + 7 > limit) {
      fail(key, "selector " + hex(s.value()) + " index " + std::to_string(s.index()) +
                    " is beyond the " + (s.ti() ? "LDT" : "GDT") + " limit " + hex(limit));
    }
  }
}

void validate_mode_combination(SegMode seg_mode, std::string_view paging_mode) {
  enum class Paging { kOff, k32, kPae, k4, k5 };
  Paging p;
  if (paging_mode == "off" || paging_mode == "none") {
    p = Paging::kOff;
  } else if (paging_mode == "32bit" || paging_mode == "2level") {
    p = Paging::k32;
  } else if (paging_mode == "pae" || paging_mode == "3level") {
    p = Paging::kPae;
  } else if (paging_mode == "4level") {
    p = Paging::k4;
  } else if (paging_mode == "5level" || paging_mode == "la57") {
    p = Paging::k5;
  } else {
    throw InputError("paging mode '" + std::string(paging_mode) +
                     "' unknown to the segmentation unit (expected off, 32bit, pae, 4level, "
                     "5level)");
  }
  const std::string what = "seg.mode: '" + std::string(seg_mode_name(seg_mode)) +
                           "' cannot be combined with paging mode '" + std::string(paging_mode) +
                           "'";
  switch (seg_mode) {
    case SegMode::kReal:
      if (p != Paging::kOff) throw InputError(what + " (real mode requires paging off)");
      return;
    case SegMode::kProtected32:
    case SegMode::kFlat:
      // With paging off, 32bit or pae this is legacy protected mode; with
      // 4level/5level it is IA-32e compatibility mode (a 32-bit program under a
      // 64-bit kernel): the same 32-bit segmentation, its linear address
      // zero-extended into the 4/5-level page tables.
      return;
    case SegMode::kLong64:
      if (p != Paging::k4 && p != Paging::k5) {
        throw InputError(what + " (long mode requires 4level or 5level paging)");
      }
      return;
  }
}

const std::array<SegOption, kNumSegOptions>& seg_options() { return kOptions; }

void set_seg_option(SegConfig& c, std::string_view key, std::string_view value) {
  constexpr uint64_t k64 = ~uint64_t{0};
  if (key == "seg.mode") {
    c.mode = parse_seg_mode(value);
  } else if (key == "seg.a20_mask") {
    c.a20_mask = parse_bool(key, value);
  } else if (key == "seg.cpl") {
    c.cpl = static_cast<uint8_t>(parse_uint(key, value, 3));
  } else if (key == "seg.gdt_base") {
    c.gdt_base = parse_uint(key, value, k64);
  } else if (key == "seg.gdt_limit") {
    c.gdt_limit = static_cast<uint32_t>(parse_uint(key, value, 0xFFFF));
  } else if (key == "seg.ldt_base") {
    c.ldt_base = parse_uint(key, value, k64);
  } else if (key == "seg.ldt_limit") {
    c.ldt_limit = static_cast<uint32_t>(parse_uint(key, value, 0xFFFF));
  } else if (key == "seg.base_cost") {
    c.base_cost = Cycles(parse_uint(key, value, 1U << 20));
  } else if (key == "seg.load_cost") {
    c.load_cost = Cycles(parse_uint(key, value, 1U << 20));
  } else if (key == "seg.stop_on_fault") {
    c.stop_on_fault = parse_bool(key, value);
  } else if (key == "seg.reload_same_selector_free") {
    c.reload_same_selector_free = parse_bool(key, value);
  } else if (key == "seg.desc_cache_entries") {
    c.desc_cache_entries = static_cast<uint32_t>(parse_uint(key, value, 64));
  } else if (key == "seg.canonical_bits") {
    c.canonical_bits = static_cast<uint32_t>(parse_uint(key, value, 64));
  } else if (key == "seg.fs_base") {
    c.fs_base = parse_uint(key, value, k64);
  } else if (key == "seg.gs_base") {
    c.gs_base = parse_uint(key, value, k64);
  } else if (auto r = selector_key(key)) {
    c.selectors[seg_index(*r)] = Selector(static_cast<uint16_t>(parse_uint(key, value, 0xFFFF)));
  } else {
    fail(key, "unknown option");
  }
}

std::string seg_option_value(const SegConfig& c, std::string_view key) {
  const auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  if (key == "seg.mode") return std::string(seg_mode_name(c.mode));
  if (key == "seg.a20_mask") return b(c.a20_mask);
  if (key == "seg.cpl") return std::to_string(c.cpl);
  if (key == "seg.gdt_base") return hex(c.gdt_base);
  if (key == "seg.gdt_limit") return hex(c.gdt_limit);
  if (key == "seg.ldt_base") return hex(c.ldt_base);
  if (key == "seg.ldt_limit") return hex(c.ldt_limit);
  if (key == "seg.base_cost") return std::to_string(c.base_cost.count());
  if (key == "seg.load_cost") return std::to_string(c.load_cost.count());
  if (key == "seg.stop_on_fault") return b(c.stop_on_fault);
  if (key == "seg.reload_same_selector_free") return b(c.reload_same_selector_free);
  if (key == "seg.desc_cache_entries") return std::to_string(c.desc_cache_entries);
  if (key == "seg.canonical_bits") return std::to_string(c.canonical_bits);
  if (key == "seg.fs_base") return hex(c.fs_base);
  if (key == "seg.gs_base") return hex(c.gs_base);
  if (auto r = selector_key(key)) return hex(c.initial_selector(*r).value());
  fail(key, "unknown option");
}

namespace {

// Binds one key of seg_options(); set_seg_option() parses it and
// seg_option_value() prints it. Its InputError ("seg.cpl: expected ...,
// got 'x'") becomes the schema's "expected ..." form.
void add_option_key(ConfigSchema& s, SegConfig& c, SegKeys& k, const SegOption& o) {
  const std::string key(o.key);
  std::string desc(o.description);
  if (o.default_value == "mode default") desc += " (default: the mode's flat-GDT selector)";
  if (key == "seg.cpl") desc += " (default: 3 if sim.user, else 0; 0 in real mode)";
  if (key == "seg.canonical_bits") desc += " (default: 57 with walker.mode = 5level)";
  s.add_custom(
      key, std::string(o.unit), desc,
      [&c, &k, key](const std::string& v) {
        try {
          set_seg_option(c, key, v);
        } catch (const InputError& e) {
          std::string m = e.what();
          if (m.rfind(key + ": ", 0) == 0) m = m.substr(key.size() + 2);
          const std::string got = ", got '" + v + "'";
          if (m.size() > got.size() && m.compare(m.size() - got.size(), got.size(), got) == 0) {
            m.resize(m.size() - got.size());
          }
          throw std::invalid_argument(m);
        }
        if (key == "seg.cpl") k.cpl_set = true;
        if (key == "seg.canonical_bits") k.canonical_set = true;
      },
      [&c, key] { return seg_option_value(c, key); });
}

// seg.mode also takes "auto" (resolved by the composition root).
void add_mode_key(ConfigSchema& s, SegConfig& c, SegKeys& k) {
  s.add_custom(
      "seg.mode", "",
      "segmentation mode: auto (long with 4level/5level paging, flat otherwise), real, "
      "protected, long or flat",
      [&c, &k](const std::string& v) {
        if (v == "auto") {
          k.mode_auto = true;
          return;
        }
        try {
          c.mode = parse_seg_mode(v);
        } catch (const InputError&) {
          throw std::invalid_argument("expected auto, real, protected, long or flat");
        }
        k.mode_auto = false;
      },
      [&c, &k] { return k.mode_auto ? std::string("auto") : std::string(seg_mode_name(c.mode)); });
}

// "0x0, 0x00cf9a000000ffff, ..." (commas or blanks) -> descriptors, which
// must fit the table's limit and are only meaningful where descriptors are read.
std::vector<uint64_t> parse_descriptor_list(const std::string& key, const std::string& text,
                                            uint32_t limit, const char* limit_key,
                                            const SegConfig& g) {
  std::vector<uint64_t> out;
  std::string tok;
  auto flush = [&] {
    if (tok.empty()) return;
    const bool hex = tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');
    const ParsedInt r = parse_u64(tok, IntSyntax::kDecimalOrHex);
    if (!hex || !r.ok()) {
      throw InputError(key +
                       ": expected 8-byte descriptors in hex (0x...) separated by commas, "
                       "got '" +
                       tok + "'");
    }
    out.push_back(r.value);
    tok.clear();
  };
  for (char ch : text) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      flush();
    } else {
      tok += ch;
    }
  }
  flush();
  if (out.empty()) return out;
  if (g.mode != SegMode::kProtected32 && g.mode != SegMode::kLong64) {
    throw InputError(key + ": descriptors are read only in protected and long mode (seg.mode = " +
                     std::string(seg_mode_name(g.mode)) + ")");
  }
  if (out.size() * 8 > uint64_t{limit} + 1) {
    throw InputError(key + ": " + std::to_string(out.size()) + " descriptors do not fit " +
                     limit_key + " = " + std::to_string(limit) + " (" +
                     std::to_string((uint64_t{limit} + 1) / 8) + " entries)");
  }
  return out;
}

}  // namespace

void add_keys(ConfigSchema& s, SegConfig& c, SegKeys& k) {
  s.add_string("seg.gdt", &k.gdt_text,
               "GDT entries 0, 1, ... as 8-byte descriptors in hex, comma-separated (replace the "
               "mode's default flat GDT entries; protected and long mode)");
  s.add_string("seg.ldt", &k.ldt_text,
               "LDT entries 0, 1, ... as 8-byte descriptors in hex, comma-separated (needs "
               "seg.ldt_limit)");
  for (const SegOption& o : seg_options()) {
    if (o.key == "seg.mode") {
      add_mode_key(s, c, k);
    } else {
      add_option_key(s, c, k, o);
    }
  }
}

void finish_seg_config(const SegConfig& c, const SegKeys& k, std::vector<uint64_t>& gdt,
                       std::vector<uint64_t>& ldt) {
  for (const auto& [key, base] : {std::pair<const char*, uint64_t>{"seg.gdt_base", c.gdt_base},
                                  std::pair<const char*, uint64_t>{"seg.ldt_base", c.ldt_base}}) {
    if (base % 8 != 0) {
      throw InputError(std::string(key) +
                       ": must be a multiple of 8 (descriptors are read as aligned 8-byte words), "
                       "got " +
                       std::to_string(base));
    }
  }
  validate(c);
  gdt = parse_descriptor_list("seg.gdt", k.gdt_text, c.gdt_limit, "seg.gdt_limit", c);
  ldt = parse_descriptor_list("seg.ldt", k.ldt_text, c.ldt_limit, "seg.ldt_limit", c);
}

}  // namespace mmusim
