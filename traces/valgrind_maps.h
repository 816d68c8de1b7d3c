// The client's initial address space as valgrind -d prints it on stderr
// ("--PID:1: aspacem <<< SHOW_SEGMENTS: Memory layout at client startup",
// one block per process image; os-model.md §4.3): the loader's mappings that
// the system-call trace never shows (program, interpreter, brk, stack).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/common/os_event.h"

namespace mmusim {

struct VgMapping {
  uint64_t start = 0, end = 0;  // [start, end), page-aligned
  uint32_t prot = 0;            // PROT_*
  VmaInitEvent::Kind kind = VmaInitEvent::Kind::kAnon;
  std::string path;     // kind file
  uint64_t offset = 0;  // kind file
  bool grows_down = false;
  uint64_t max_size = 0;  // the stack: its size plus the reservation below it
};

struct VgLayout {
  std::vector<VgMapping> mappings;  // in address order
  std::string program;              // the lowest file mapping's path
  std::string interp;               // the next file's path (ld.so), "" if none
};

// Reads the layouts of every process from valgrind -d's stderr (other lines,
// the program's own output included, are skipped). Client segments are the
// lower-case `file` and `anon` ones, minus files under a `/valgrind/`
// directory (the tool and its trampoline page). An anon segment directly
// below an `SmLower` reservation is the brk area; one directly above an
// `SmUpper` reservation is the stack (grows down; max_size includes the
// reservation). Throws InputError for a malformed segment line.
std::map<uint32_t, std::vector<VgLayout>> read_valgrind_layouts(const std::string& path);

}  // namespace mmusim
