#include "models/sim/fault_log.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <stdexcept>

namespace mmusim {

CsvFaultLog::CsvFaultLog(std::string path) : path_(std::move(path)) {
  f_ = std::fopen(path_.c_str(), "wb");
  if (f_ == nullptr) throw std::runtime_error(path_ + ": cannot write: " + std::strerror(errno));
  const std::string h = header() + "\n";
  std::fputs(h.c_str(), f_);
}

CsvFaultLog::~CsvFaultLog() {
  if (f_ != nullptr) std::fclose(f_);
}

std::string CsvFaultLog::header() {
  std::string h = "pid,tid,cpu,addr,access,class,start,end,latency";
  for (size_t p = 0; p < FaultTiming::kNumParts; ++p) {
    h += ",";
    h += FaultTiming::name(static_cast<FaultTiming::Part>(p));
  }
  return h;
}

void CsvFaultLog::add(const FaultRecord& r) {
  const FaultInfo& f = r.info;
  const FaultOutcome& o = r.outcome;
  static const char* const kAccess[] = {"R", "W", "X"};
  const auto k = static_cast<size_t>(f.kind);
  std::fprintf(f_,
               "%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",0x%" PRIx64 ",%s,%.*s,%" PRIu64 ",%" PRIu64
               ",%" PRIu64,
               f.pid, f.tid, f.cpu, f.addr.value(), k < 3 ? kAccess[k] : "?",
               static_cast<int>(fault_class_name(o.cls).size()), fault_class_name(o.cls).data(),
               f.raised.count(), o.resume.count(), (o.resume - f.raised).count());
  for (uint64_t v : o.timing.part) std::fprintf(f_, ",%" PRIu64, v);
  std::fputc('\n', f_);
  ++lines_;
}

void CsvFaultLog::close() {
  const bool ok = std::fflush(f_) == 0 && std::ferror(f_) == 0;
  const int err = errno;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || !closed) {
    throw std::runtime_error(path_ + ": cannot write: " + std::strerror(ok ? errno : err));
  }
}

}  // namespace mmusim
