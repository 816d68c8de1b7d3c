// --fault-log FILE: one CSV line per handled fault (README "Fault log"),
// streamed during the run to the staged path its ResultDir gives (which puts
// it in place with the other results, or removes it when the run fails).
#pragma once

#include <cstdio>
#include <string>

#include "models/os/kernel_module.h"

namespace mmusim {

class CsvFaultLog : public FaultSink {
 public:
  // Opens `path` (throws std::runtime_error naming it when it cannot).
  explicit CsvFaultLog(std::string path);
  ~CsvFaultLog() override;
  CsvFaultLog(const CsvFaultLog&) = delete;
  CsvFaultLog& operator=(const CsvFaultLog&) = delete;

  void add(const FaultRecord& r) override;
  // Flushes and closes the file (throws std::runtime_error when it cannot).
  void close();
  [[nodiscard]] uint64_t lines() const { return lines_; }
  // The header line (without its newline).
  static std::string header();

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t lines_ = 0;
};

}  // namespace mmusim
