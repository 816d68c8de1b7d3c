#include "models/disk/nvme_nand.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace mmusim {

Cycle NvmeNand::Channel::reserve(Cycle from, Cycles len) {
  uint64_t s = from.count();
  const uint64_t n = len.count();
  if (n == 0) return from;
  auto it = busy_.upper_bound(s);
  if (it != busy_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > s) s = prev->second;
  }
  // Intervals are disjoint and sorted: walk the gaps until one fits.
  while (it != busy_.end() && it->first < s + n) {
    s = std::max(s, it->second);
    ++it;
  }
  busy_.emplace(s, s + n);
  return Cycle(s);
}

void NvmeNand::Channel::prune(Cycle t) {
  while (!busy_.empty() && busy_.begin()->second <= t.count()) busy_.erase(busy_.begin());
}

NvmeNand::NvmeNand(const NvmeNandParams& p, uint32_t core_clock_mhz) : p_(p), mhz_(core_clock_mhz) {
  if (mhz_ == 0) throw std::invalid_argument("NvmeNand: core clock must be positive");
  if (p_.channels == 0 || p_.chips_per_channel == 0 || p_.dies_per_chip == 0 ||
      p_.planes_per_die == 0) {
    throw std::invalid_argument("NvmeNand: every geometry count must be positive");
  }
  if (p_.page_bytes < 8 || p_.write_buffer_bytes < kLpnBytes) {
    throw std::invalid_argument("NvmeNand: page or write buffer too small");
  }
  cmd_ = ns_to_cycles(p_.command_ns, mhz_);
  t_r_ = ns_to_cycles(p_.read_ns, mhz_);
  t_prog_ = ns_to_cycles(p_.program_ns, mhz_);
  setup_ = ns_to_cycles(p_.data_out_setup_ns, mhz_);
  buf_write_ = ns_to_cycles(p_.buffer_write_ns, mhz_);
  lookup_ = ns_to_cycles(p_.map_lookup_ns, mhz_);
  channels_.resize(p_.channels);
  die_free_.resize(size_t{p_.channels} * p_.chips_per_channel * p_.dies_per_chip);
}

FlashAddr NvmeNand::locate(uint64_t lpn) const {
  FlashAddr a;
  a.channel = static_cast<uint32_t>(lpn % p_.channels);
  lpn /= p_.channels;
  a.chip = static_cast<uint32_t>(lpn % p_.chips_per_channel);
  lpn /= p_.chips_per_channel;
  a.die = static_cast<uint32_t>(lpn % p_.dies_per_chip);
  lpn /= p_.dies_per_chip;
  a.plane = static_cast<uint32_t>(lpn % p_.planes_per_die);
  return a;
}

size_t NvmeNand::die_index(const FlashAddr& a) const {
  return (size_t{a.channel} * p_.chips_per_channel + a.chip) * p_.dies_per_chip + a.die;
}

Cycles NvmeNand::data_in(uint64_t bytes) const {
  // bytes * byte_ps ps at f MHz: bytes * byte_ps * f / 10^6 cycles (bytes is
  // at most a flash page, which the config bounds, so this fits).
  return Cycles((bytes * p_.byte_ps * mhz_ + 999'999) / 1'000'000);
}

Cycles NvmeNand::data_out(uint64_t bytes) const { return setup_ + data_in(bytes); }

NvmeNand::ReadOp NvmeNand::flash_read(const FlashAddr& a, Cycle ready, uint64_t bytes) {
  Channel& ch = channels_[a.channel];
  Cycle& die = die_free_[die_index(a)];
  ReadOp op;
  op.first = ch.reserve(max(ready, die), cmd_);
  const Cycle data_ready = op.first + cmd_ + t_r_;
  const Cycles out = data_out(bytes);
  op.done = ch.reserve(data_ready, out) + out;
  die = op.done;
  ++flash_reads_;
  return op;
}

Cycle NvmeNand::translate(uint64_t lpn, Cycle t, Cycle& first, bool& read_flash) {
  read_flash = false;
  const Cycle looked_up = t + lookup_;
  if (p_.cmt_entries == 0) {
    ++cmt_hits_;
    return looked_up;
  }
  const uint64_t tpn = lpn / (p_.page_bytes / 8);
  auto it = cmt_index_.find(tpn);
  if (it != cmt_index_.end()) {
    ++cmt_hits_;
    cmt_.splice(cmt_.begin(), cmt_, it->second);
    return max(looked_up, it->second->second);
  }
  ++cmt_misses_;
  const ReadOp op = flash_read(locate(tpn), looked_up, p_.page_bytes);
  --flash_reads_;  // a translation read, counted as a miss
  read_flash = true;
  first = op.first;
  cmt_.emplace_front(tpn, op.done);
  cmt_index_[tpn] = cmt_.begin();
  if (cmt_.size() > p_.cmt_entries) {
    cmt_index_.erase(cmt_.back().first);
    cmt_.pop_back();
  }
  return op.done;
}

void NvmeNand::submit_read(const DiskRequest& r) {
  DiskDone d;
  d.id = r.id;
  d.at = r.at;
  d.start = kNeverCycle;
  d.done = r.at;
  const uint64_t end = r.offset + r.bytes;
  for (uint64_t lpn = r.offset / kLpnBytes; lpn * kLpnBytes < end; ++lpn) {
    const uint64_t lo = std::max(r.offset, lpn * kLpnBytes);
    const uint64_t hi = std::min(end, (lpn + 1) * kLpnBytes);
    Cycle first;
    bool read_flash = false;
    const Cycle ready = translate(lpn, r.at, first, read_flash);
    const ReadOp op = flash_read(locate(lpn), ready, hi - lo);
    d.start = min(d.start, read_flash ? first : op.first);
    d.done = max(d.done, op.done);
  }
  done_.push(d);
  stats_.served(d);
}

void NvmeNand::submit_write(const DiskRequest& r) {
  DiskDone d;
  d.id = r.id;
  d.write = true;
  d.at = r.at;
  d.start = kNeverCycle;
  Cycle admitted;
  const uint64_t end = r.offset + r.bytes;
  for (uint64_t lpn = r.offset / kLpnBytes; lpn * kLpnBytes < end; ++lpn) {
    const uint64_t b = std::min(end, (lpn + 1) * kLpnBytes) - std::max(r.offset, lpn * kLpnBytes);
    // Enter the buffer in order, once there is room.
    Cycle t = max(r.at, last_admit_);
    bool waited = false;
    while (!releases_.empty() &&
           (releases_.begin()->first <= t.count() || buffer_used_ + b > p_.write_buffer_bytes)) {
      if (releases_.begin()->first > t.count()) {
        waited = true;
        t = Cycle(releases_.begin()->first);
      }
      buffer_used_ -= releases_.begin()->second;
      releases_.erase(releases_.begin());
    }
    if (waited) ++buffer_waits_;
    buffer_used_ += b;
    last_admit_ = admitted = t;
    d.start = min(d.start, t);
    // Program it in the background: command + data-in on the channel, then
    // tPROG on the die, which is held from the data-in on.
    const FlashAddr a = locate(lpn);
    Cycle& die = die_free_[die_index(a)];
    const Cycles in = cmd_ + data_in(b);
    const Cycle prog_end =
        channels_[a.channel].reserve(max(t + buf_write_, die), in) + in + t_prog_;
    die = prog_end;
    releases_.emplace(prog_end.count(), b);
    ++programs_;
  }
  d.done = admitted + buf_write_;
  done_.push(d);
  stats_.served(d);
}

void NvmeNand::submit(const DiskRequest& r) {
  stats_.arrive(r);
  for (Channel& c : channels_) c.prune(r.at);
  if (r.write) {
    submit_write(r);
  } else {
    submit_read(r);
  }
}

void NvmeNand::visit(StatVisitor& v) const {
  stats_.visit(v);
  v.counter("flash_reads", "pages", "flash page reads for host data", flash_reads_);
  v.counter("programs", "pages", "flash page programs (from the write buffer)", programs_);
  v.counter("cmt_hits", "lookups", "mapping lookups that found their translation page", cmt_hits_);
  v.counter("cmt_misses", "lookups", "mapping lookups that read a translation page from flash",
            cmt_misses_);
  v.counter("buffer_waits", "pages", "written pages that waited for write-buffer space",
            buffer_waits_);
}

}  // namespace mmusim
