// --fault-log FILE: one CSV line per handled fault (README "Fault log"),
// streamed to FILE.tmp during the run and renamed to FILE when the run
// completes; a failed run leaves no file behind.
#pragma once

#include <cstdio>
#include <string>

#include "models/os/kernel_module.h"

namespace mmusim {

class CsvFaultLog : public FaultSink {
 public:
  // Opens `path`.tmp (throws std::runtime_error naming it when it cannot).
  explicit CsvFaultLog(std::string path);
  ~CsvFaultLog() override;  // removes the temporary file unless committed
  CsvFaultLog(const CsvFaultLog&) = delete;
  CsvFaultLog& operator=(const CsvFaultLog&) = delete;

  void add(const FaultRecord& r) override;
  // Flushes and renames the file into place.
  void commit();
  [[nodiscard]] uint64_t lines() const { return lines_; }
  // The header line (without its newline).
  static std::string header();

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t lines_ = 0;
};

}  // namespace mmusim
