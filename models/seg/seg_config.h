// Configuration of the segmentation unit: modes, registers, the option schema
// ("seg.*" keys with defaults, units and descriptions), their binding to a
// ConfigSchema (add_keys) and validation. Every error is an InputError that
// names the offending key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/common/types.h"

namespace mmusim {

class ConfigSchema;

// kReal: 8086 / real-address mode (base = selector * 16, 64 KiB limits).
// kProtected32: 32-bit protected mode with GDT/LDT descriptors and all checks.
// kLong64: IA-32e 64-bit mode (bases 0 except FS/GS, canonical checks only).
// kFlat: every base 0, limit 4 GiB, no checks (Linux-style; the cheap default).
enum class SegMode : uint8_t { kReal, kProtected32, kLong64, kFlat };
enum class SegReg : uint8_t { kES = 0, kCS = 1, kSS = 2, kDS = 3, kFS = 4, kGS = 5 };
constexpr int kNumSegRegs = 6;

constexpr size_t seg_index(SegReg r) { return static_cast<size_t>(r); }
std::string_view seg_mode_name(SegMode m);  // "real", "protected", "long", "flat"
std::string_view seg_reg_name(SegReg r);    // "es", "cs", "ss", "ds", "fs", "gs"
// Throws InputError "seg.mode: unknown mode 'prot' (expected real, protected, long, flat)".
SegMode parse_seg_mode(std::string_view text);

struct SegConfig {
  SegMode mode = SegMode::kFlat;
  bool a20_mask = false;                  // real mode: A20M# asserted (addresses wrap at 1 MiB)
  uint8_t cpl = 0;                        // current privilege level 0..3
  uint64_t gdt_base = 0;                  // linear address of the GDT
  uint32_t gdt_limit = 39;                // GDTR limit, 8*N-1 (default: the 5-entry flat GDT)
  uint64_t ldt_base = 0;                  // LDTR base (linear)
  uint32_t ldt_limit = 0;                 // LDTR limit, 8*N-1; 0 = no LDT (TI=1 selectors fault)
  Cycles base_cost{1};                    // extra cycles per access when the applied base != 0
  Cycles load_cost{0};                    // extra cycles per selector load that reads a descriptor
  bool stop_on_fault = false;             // pipeline stops at the first fault
  bool reload_same_selector_free = true;  // reloading the held selector: no memory read
  uint32_t desc_cache_entries = 0;        // unit-wide selector-keyed cache; 0 = off
  uint32_t canonical_bits = 48;           // long mode: 48 (4-level) or 57 (LA57)
  // Initial selectors (ES, CS, SS, DS, FS, GS order); unset = mode default.
  std::array<std::optional<Selector>, kNumSegRegs> selectors{};
  uint64_t fs_base = 0;  // long mode only (IA32_FS_BASE); must be canonical
  uint64_t gs_base = 0;  // long mode only (IA32_GS_BASE)

  // The selector register r starts with: the configured one, else real mode 0;
  // otherwise the flat GDT's kernel (CPL < 3) or user (CPL 3) code/data
  // selectors for CS and SS/DS/ES, and the null selector for FS/GS.
  [[nodiscard]] Selector initial_selector(SegReg r) const;
};

// Throws InputError naming the key for any invalid value or combination.
void validate(const SegConfig& c);

// Checks that the segmentation mode fits the paging mode. Paging mode names:
// "off"/"none", "32bit"/"2level", "pae"/"3level", "4level", "5level"/"la57".
// real: paging off only; long: 4level or 5level; protected/flat: any paging mode (with
// 4level/5level that is IA-32e compatibility mode).
void validate_mode_combination(SegMode seg_mode, std::string_view paging_mode);

// The option schema: one row per key, for --help and the resolved-config dump.
struct SegOption {
  std::string_view key;
  std::string_view default_value;
  std::string_view unit;
  std::string_view description;
};
constexpr size_t kNumSegOptions = 21;
const std::array<SegOption, kNumSegOptions>& seg_options();

// Parses `value` for `key` ("seg.cpl", ...) into c. Integers are decimal or
// 0x-hex; booleans true/false/1/0/yes/no/on/off. Throws InputError naming the
// key on an unknown key or a malformed value. Call validate() afterwards.
void set_seg_option(SegConfig& c, std::string_view key, std::string_view value);
// The current value of `key` in c as text (for the resolved-config dump).
std::string seg_option_value(const SegConfig& c, std::string_view key);

// What the seg.* keys hold beyond SegConfig: the defaults the composition
// root resolves against other modules (seg.mode = auto follows walker.mode;
// seg.cpl follows sim.user and seg.canonical_bits walker.mode unless set), and
// the descriptor lists seg.gdt / seg.ldt as written.
struct SegKeys {
  bool mode_auto = true;
  bool cpl_set = false;
  bool canonical_set = false;
  std::string gdt_text, ldt_text;
};

// Binds seg.gdt, seg.ldt and every key of seg_options() to `c` and `k` (which
// must outlive the schema).
void add_keys(ConfigSchema& s, SegConfig& c, SegKeys& k);

// Once the mode, CPL and canonical width are resolved: checks the table bases
// (8-aligned) and validate(c), then parses seg.gdt / seg.ldt into descriptors
// ("0x0, 0x00cf9a000000ffff, ..."), which must fit the tables' limits and are
// only meaningful where descriptors are read. Throws InputError naming the key.
void finish_seg_config(const SegConfig& c, const SegKeys& k, std::vector<uint64_t>& gdt,
                       std::vector<uint64_t>& ldt);

}  // namespace mmusim
