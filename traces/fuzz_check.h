// Invariants the fuzz targets (fuzz_trace_reader.cc, fuzz_trace_format.cc)
// check on every batch a reader returns: each EVENT record indexes an event
// of its batch; in a task trace every record's slot is a task the reader
// named; each event round-trips through the text and the binary codecs.
// A violation aborts (a bug, which libFuzzer reports), unlike InputError.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "traces/os_event_format.h"
#include "traces/trace_reader.h"

namespace mmusim::fuzz {

inline void check_event_codecs(const OsEvent& e) {
  std::string bin;
  encode_os_event(e, bin);
  OsEvent back;
  if (!decode_os_event(bin.data(), bin.size(), back).empty()) std::abort();
  std::string again;
  encode_os_event(back, again);
  if (again != bin) std::abort();
  std::string text;
  format_os_event(e, text);
  const size_t sp = text.find(' ');
  const int kind = os_event_kind(std::string_view(text).substr(0, sp));
  if (kind != static_cast<int>(e.body.index()) || text.empty() || text.back() != '\n') {
    std::abort();
  }
  OsEvent parsed;
  EventTextError err;
  if (!parse_os_event_text(static_cast<size_t>(kind), text.data() + sp,
                           text.data() + text.size() - 1, parsed, err)) {
    std::abort();
  }
  std::string reparsed;
  encode_os_event(parsed, reparsed);
  if (reparsed != bin) std::abort();
}

// After r.read() returned the n records at `records`.
inline void check_batch(TraceReader& r, const TraceRecord* records, size_t n,
                        std::vector<OsEvent>& events) {
  events.clear();
  r.take_events(events);
  const bool tasks = r.has_tasks();
  for (size_t i = 0; i < n; ++i) {
    const TraceRecord& rec = records[i];
    if (trace_flags::op_of(rec.flags) == trace_flags::kOpEvent && tasks) {
      if (rec.addr >= events.size() || rec.size != 0) std::abort();
    }
    if (tasks && rec.cpu >= r.tasks().size()) std::abort();
  }
  if (!tasks && !events.empty()) std::abort();
  for (const OsEvent& e : events) check_event_codecs(e);
}

}  // namespace mmusim::fuzz
