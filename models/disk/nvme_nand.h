// A NAND flash SSD (disk.model=nvme_nand), after MQSim's shipped default
// configuration (os-model.md §3.2). Plain C++, no SystemC.
//
// Address. A request is split into 4 KiB logical pages (LPN = byte offset /
// 4096); each LPN lives on (channel, chip, die, plane) by CWDP striping:
// channel = lpn mod C, chip (way) = (lpn / C) mod W, die = (lpn / CW) mod D,
// plane = (lpn / CWD) mod P. A request completes when its last part does.
//
// Resources. Each die is a FIFO server with a "free at" stamp. Each channel
// keeps the intervals it is reserved for, and a new transfer takes the first
// gap long enough at or after it is ready: the command and data transfers of
// other dies use the channel while one die is in tR or tPROG (the channel's
// purpose), and a reservation never moves once made, so completions are
// final when announced. Times are core cycles, each term rounded up alone:
//   command  = ceil(command_ns * f / 1000)       tCS + 6 tWC + tWB + tRR
//   tR       = ceil(read_ns * f / 1000)
//   data_out = ceil(data_out_setup_ns * f / 1000) + ceil(bytes * byte_ps * f / 10^6)
//   data_in  = ceil(bytes * byte_ps * f / 10^6)
//   tPROG    = ceil(program_ns * f / 1000)
// A read part, ready at r: its command takes the channel's first gap at or
// after max(r, die free); tR follows on the die; the data-out takes the
// channel's first gap at or after tR ends; the die is held from the command
// to the end of the data-out (its page register holds the data).
//
// Mapping table. cmt_entries = 0: the whole map is in the device DRAM and
// every lookup hits after map_lookup_ns. cmt_entries > 0: an LRU of that many
// translation pages (page_bytes / 8 entries each, translation page number =
// lpn / (page_bytes / 8)); a miss reads the translation page (command + tR +
// data-out of page_bytes) on the die CWDP assigns to that number, before the
// data read; a request that hits an entry still being loaded waits for it.
//
// Writes. A write-back buffer of write_buffer_bytes in the device DRAM: each
// part enters when the buffer has room for its bytes (parts enter in order:
// a part that does not fit waits for space, and so do the parts behind it);
// the write is acknowledged buffer_write_ns after its last part entered. Each
// part is then programmed in the background: command + data-in on the
// channel (first gap at or after max(data in the buffer, die free)), then
// tPROG on the die; later reads to that die wait behind it. Its buffer space
// returns when its program ends. Reads are served from flash even when the
// buffer holds newer data for the page (no read hits in the buffer), and
// there is no garbage collection, wear levelling or multi-plane command:
// planes are addressed but a die serves one operation at a time.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <unordered_map>
#include <vector>

#include "models/common/stats.h"
#include "models/common/types.h"
#include "models/disk/disk_model.h"
#include "models/disk/disk_stats.h"

namespace mmusim {

// disk.nvme.* (defaults: MQSim's ssdconfig.xml, os-model.md §3.2).
struct NvmeNandParams {
  uint32_t channels = 8;
  uint32_t chips_per_channel = 4;  // ways
  uint32_t dies_per_chip = 2;
  uint32_t planes_per_die = 2;
  uint64_t page_bytes = 8192;       // flash page (translation page size)
  uint64_t read_ns = 75'000;        // tR
  uint64_t program_ns = 750'000;    // tPROG
  uint64_t byte_ps = 3'000;         // channel time per byte: NVDDR2 333 MT/s x 1 B, 6 ns / 2 B
  uint64_t command_ns = 290;        // tCS + 6 tWC + tWB + tRR = 20 + 150 + 100 + 20
  uint64_t data_out_setup_ns = 30;  // before the data-out transfer
  uint64_t map_lookup_ns = 0;       // a mapping-table lookup in the device DRAM
  uint64_t cmt_entries = 0;         // translation pages cached (0: the whole map)
  uint64_t write_buffer_bytes = 256ULL << 20;  // the DRAM write cache
  uint64_t buffer_write_ns = 1'000;            // a write into the buffer until its acknowledgment
};

// Where an LPN lives.
struct FlashAddr {
  uint32_t channel = 0, chip = 0, die = 0, plane = 0;
};

class NvmeNand : public DiskModel {
 public:
  static constexpr uint64_t kLpnBytes = 4096;

  // Throws std::invalid_argument for a zero clock or geometry (the config
  // validates every key first).
  NvmeNand(const NvmeNandParams& p, uint32_t core_clock_mhz);

  void submit(const DiskRequest& r) override;
  [[nodiscard]] Cycle next_done() const override { return done_.next(); }
  bool take(Cycle upto, DiskDone& out) override { return done_.take(upto, out); }
  // The common statistics plus flash_reads, programs, cmt_hits, cmt_misses,
  // buffer_waits.
  void visit(StatVisitor& v) const override;

  // CWDP placement of `lpn` (or of a translation page number).
  [[nodiscard]] FlashAddr locate(uint64_t lpn) const;
  [[nodiscard]] Cycles command() const { return cmd_; }
  [[nodiscard]] Cycles t_read() const { return t_r_; }
  [[nodiscard]] Cycles t_program() const { return t_prog_; }
  [[nodiscard]] Cycles data_out(uint64_t bytes) const;
  [[nodiscard]] Cycles data_in(uint64_t bytes) const;
  [[nodiscard]] Cycles buffer_write() const { return buf_write_; }
  [[nodiscard]] Cycles map_lookup() const { return lookup_; }
  [[nodiscard]] const DiskStats& stats() const { return stats_; }
  [[nodiscard]] uint64_t cmt_hits() const { return cmt_hits_; }
  [[nodiscard]] uint64_t cmt_misses() const { return cmt_misses_; }
  [[nodiscard]] uint64_t programs() const { return programs_; }
  [[nodiscard]] uint64_t buffer_waits() const { return buffer_waits_; }

 private:
  // Reserved intervals of one channel, [start, end) by start, disjoint.
  class Channel {
   public:
    // Reserves the first gap of `len` at or after `from`; returns its start.
    Cycle reserve(Cycle from, Cycles len);
    // Forgets intervals that end at or before `t`.
    void prune(Cycle t);

   private:
    std::map<uint64_t, uint64_t> busy_;
  };
  struct ReadOp {
    Cycle first;  // the command starts (the die is taken)
    Cycle done;   // the data-out ends (the die is released)
  };
  // A flash read of `bytes` on the die of `a`, ready at `ready`.
  ReadOp flash_read(const FlashAddr& a, Cycle ready, uint64_t bytes);
  // When the mapping entry of `lpn` is available to a lookup at `t`; sets
  // `first` to the start of a translation read if one was needed.
  Cycle translate(uint64_t lpn, Cycle t, Cycle& first, bool& read_flash);
  void submit_read(const DiskRequest& r);
  void submit_write(const DiskRequest& r);
  size_t die_index(const FlashAddr& a) const;

  NvmeNandParams p_;
  uint64_t mhz_;
  Cycles cmd_, t_r_, t_prog_, setup_, buf_write_, lookup_;
  std::vector<Channel> channels_;
  std::vector<Cycle> die_free_;
  // The CMT: most recently used first; each entry is ready at a cycle.
  std::list<std::pair<uint64_t, Cycle>> cmt_;
  std::unordered_map<uint64_t, std::list<std::pair<uint64_t, Cycle>>::iterator> cmt_index_;
  // The write buffer: bytes held, parts in it by release cycle.
  uint64_t buffer_used_ = 0;
  std::multimap<uint64_t, uint64_t> releases_;  // program end -> bytes
  Cycle last_admit_;
  DoneQueue done_;
  DiskStats stats_;
  uint64_t flash_reads_ = 0, programs_ = 0, cmt_hits_ = 0, cmt_misses_ = 0, buffer_waits_ = 0;
};

}  // namespace mmusim
