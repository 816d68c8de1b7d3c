#include "models/dram/dram.h"

#include <algorithm>
#include <cstddef>

namespace mmusim {

namespace {

constexpr size_t kCh = static_cast<size_t>(DramField::kChannel);
constexpr size_t kRa = static_cast<size_t>(DramField::kRank);
constexpr size_t kBg = static_cast<size_t>(DramField::kBankGroup);
constexpr size_t kBa = static_cast<size_t>(DramField::kBank);
constexpr size_t kRo = static_cast<size_t>(DramField::kRow);
constexpr size_t kCo = static_cast<size_t>(DramField::kColumn);

unsigned log2_exact(uint64_t v) { return 63U - static_cast<unsigned>(__builtin_clzll(v)); }

uint64_t max3(uint64_t a, uint64_t b, uint64_t c) { return std::max(a, std::max(b, c)); }

}  // namespace

void DramStats::visit(StatVisitor& v) const {
  v.counter("dram.reads", "requests", "read requests served", reads);
  v.counter("dram.writes", "requests", "write requests served", writes);
  v.counter("dram.row_hits", "requests", "requests that found their row open", row_hits);
  v.counter("dram.row_misses", "requests", "requests that found their bank precharged", row_misses);
  v.counter("dram.row_conflicts", "requests", "requests that found another row open (PRE first)",
            row_conflicts);
  v.counter("dram.activates", "commands", "ACT commands issued", activates);
  v.counter("dram.precharges", "commands",
            "banks precharged (PRE, auto-precharge, or closed by a refresh)", precharges);
  v.counter("dram.refreshes", "commands", "all-bank REF commands applied, summed over ranks",
            refreshes);
  v.counter("dram.total_latency", "cycles", "arrival to completion, summed over requests",
            total_latency);
  v.histogram("dram.latency", "cycles", "arrival to completion per request", latency);
  uint64_t n = reads + writes;
  v.real("dram.avg_latency", "cycles", "mean arrival-to-completion latency",
         n ? static_cast<double>(total_latency) / static_cast<double>(n) : 0.0);
}

Dram::Dram(const DramConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
  ct_ = to_core_timing(cfg_);
  r_ = Raw{ct_.cl.count(),    ct_.cwl.count(),   ct_.rcd.count(),   ct_.rp.count(),
           ct_.ras.count(),   ct_.rc.count(),    ct_.ccd_s.count(), ct_.ccd_l.count(),
           ct_.rrd_s.count(), ct_.rrd_l.count(), ct_.faw.count(),   ct_.wr.count(),
           ct_.wtr_s.count(), ct_.wtr_l.count(), ct_.rtp.count(),   ct_.rfc.count(),
           ct_.refi.count(),  ct_.bl.count(),    ct_.rtw.count(),   ct_.controller.count()};

  std::array<uint64_t, kNumDramFields> counts{};
  counts[kCh] = cfg_.channels;
  counts[kRa] = cfg_.ranks;
  counts[kBg] = cfg_.bank_groups;
  counts[kBa] = cfg_.banks_per_group;
  counts[kRo] = cfg_.rows;
  counts[kCo] = cfg_.columns;
  DramMapping m = parse_mapping(cfg_.mapping);
  unsigned shift = log2_exact(cfg_.line_bytes);
  for (int i = kNumDramFields - 1; i >= 0; --i) {
    auto f = static_cast<size_t>(m.msb_to_lsb[static_cast<size_t>(i)]);
    shift_[f] = shift;
    mask_[f] = counts[f] - 1;
    shift += log2_exact(counts[f]);
  }

  banks_per_rank_ = cfg_.bank_groups * cfg_.banks_per_group;
  uint32_t nranks = cfg_.channels * cfg_.ranks;
  banks_.assign(size_t{nranks} * banks_per_rank_, BankState{});
  groups_.assign(size_t{nranks} * cfg_.bank_groups, GroupState{});
  ranks_.assign(nranks, RankState{});
  for (RankState& rk : ranks_) rk.next_refresh = r_.refi;
  channels_.assign(cfg_.channels, ChannelState{});
}

DramLocation Dram::decode(PhysAddr addr) const {
  uint64_t a = addr.value();
  auto field = [&](size_t f) { return (a >> shift_[f]) & mask_[f]; };
  DramLocation l;
  l.channel = static_cast<uint32_t>(field(kCh));
  l.rank = static_cast<uint32_t>(field(kRa));
  l.bank_group = static_cast<uint32_t>(field(kBg));
  l.bank = static_cast<uint32_t>(field(kBa));
  l.row = field(kRo);
  l.column = static_cast<uint32_t>(field(kCo));
  return l;
}

PhysAddr Dram::encode(const DramLocation& l) const {
  auto put = [&](size_t f, uint64_t v) { return (v & mask_[f]) << shift_[f]; };
  return PhysAddr(put(kCh, l.channel) | put(kRa, l.rank) | put(kBg, l.bank_group) |
                  put(kBa, l.bank) | put(kRo, l.row) | put(kCo, l.column));
}

inline Dram::Target Dram::target_of(PhysAddr addr) const {
  // decode() and the flat indices in one go.
  const uint64_t a = addr.value();
  const auto field = [&](size_t f) { return static_cast<uint32_t>((a >> shift_[f]) & mask_[f]); };
  Target t;
  t.channel = field(kCh);
  t.rank = t.channel * cfg_.ranks + field(kRa);
  t.group = t.rank * cfg_.bank_groups + field(kBg);
  t.bank = t.group * cfg_.banks_per_group + field(kBa);
  t.row = (a >> shift_[kRo]) & mask_[kRo];
  return t;
}

inline Dram::Plan Dram::plan(const Target& t, bool is_write, uint64_t arrival) const {
  const BankState& b = banks_[t.bank];
  const GroupState& g = groups_[t.group];
  const RankState& rk = ranks_[t.rank];
  const ChannelState& ch = channels_[t.channel];
  Plan p{};
  uint64_t col;
  if (b.open_row == t.row) {
    p.outcome = RowOutcome::kHit;
    col = std::max(arrival, b.col_ready);
  } else {
    uint64_t act_min = arrival;
    if (b.open_row != kNoRow) {
      p.outcome = RowOutcome::kConflict;
      p.pre = std::max(arrival, b.pre_ready);
      act_min = p.pre + r_.rp;
    } else {
      p.outcome = RowOutcome::kMiss;
    }
    p.act = std::max(max3(act_min, b.act_ready, g.act_ready),
                     std::max(rk.act_ready, rk.faw[rk.faw_head]));
    col = p.act + r_.rcd;
  }
  col = max3(col, g.col_ready, rk.col_ready);
  if (!is_write) {
    col = max3(col, g.rd_ready, rk.rd_ready);
    if (ch.bus_free > col + r_.cl) col = ch.bus_free - r_.cl;
    p.data_end = col + r_.cl + r_.bl;
  } else {
    col = std::max(col, ch.wr_ready);
    if (ch.bus_free > col + r_.cwl) col = ch.bus_free - r_.cwl;
    p.data_end = col + r_.cwl + r_.bl;
  }
  p.col = col;
  p.first = p.outcome == RowOutcome::kHit        ? col
            : p.outcome == RowOutcome::kConflict ? p.pre
                                                 : p.act;
  return p;
}

inline void Dram::commit(const Target& t, bool is_write, const Plan& p) {
  BankState& b = banks_[t.bank];
  GroupState& g = groups_[t.group];
  RankState& rk = ranks_[t.rank];
  ChannelState& ch = channels_[t.channel];
  if (p.outcome == RowOutcome::kConflict) {
    b.act_ready = std::max(b.act_ready, p.pre + r_.rp);
    ++stats_.precharges;
  }
  if (p.outcome != RowOutcome::kHit) {
    b.open_row = t.row;
    b.col_ready = p.act + r_.rcd;
    b.pre_ready = std::max(b.pre_ready, p.act + r_.ras);
    b.act_ready = std::max(b.act_ready, p.act + r_.rc);
    g.act_ready = std::max(g.act_ready, p.act + r_.rrd_l);
    rk.act_ready = std::max(rk.act_ready, p.act + r_.rrd_s);
    rk.faw[rk.faw_head] = p.act + r_.faw;
    rk.faw_head = (rk.faw_head + 1) & 3U;
    ++stats_.activates;
  }
  g.col_ready = std::max(g.col_ready, p.col + r_.ccd_l);
  rk.col_ready = std::max(rk.col_ready, p.col + r_.ccd_s);
  if (!is_write) {
    b.pre_ready = std::max(b.pre_ready, p.col + r_.rtp);
    ch.wr_ready = std::max(ch.wr_ready, p.col + r_.rtw);
  } else {
    b.pre_ready = std::max(b.pre_ready, p.data_end + r_.wr);
    g.rd_ready = std::max(g.rd_ready, p.data_end + r_.wtr_l);
    rk.rd_ready = std::max(rk.rd_ready, p.data_end + r_.wtr_s);
  }
  ch.bus_free = std::max(ch.bus_free, p.data_end);
  if (cfg_.row_policy == RowPolicy::kClosed) {
    // RDA/WRA: the precharge starts as soon as tRAS, tRTP or tWR allow.
    b.act_ready = std::max(b.act_ready, b.pre_ready + r_.rp);
    b.open_row = kNoRow;
    ++stats_.precharges;
  }
}

void Dram::refresh_through(uint32_t rank, uint64_t until) {
  RankState& rk = ranks_[rank];
  BankState* banks = &banks_[size_t{rank} * banks_per_rank_];
  while (rk.next_refresh <= until) {
    const uint64_t epoch = rk.next_refresh;
    // PREA once every open bank may precharge, then REF after tRP; REF also
    // waits for tRC/tRP of each bank (act_ready).
    uint64_t prea = epoch;
    bool any_open = false;
    for (uint32_t i = 0; i < banks_per_rank_; ++i) {
      if (banks[i].open_row != kNoRow) {
        any_open = true;
        prea = std::max(prea, banks[i].pre_ready);
      }
    }
    uint64_t start = any_open ? prea + r_.rp : epoch;
    for (uint32_t i = 0; i < banks_per_rank_; ++i) start = std::max(start, banks[i].act_ready);
    const uint64_t end = start + r_.rfc;
    for (uint32_t i = 0; i < banks_per_rank_; ++i) {
      if (banks[i].open_row != kNoRow) {
        banks[i].open_row = kNoRow;
        ++stats_.precharges;
      }
      banks[i].act_ready = end;
    }
    ++stats_.refreshes;
    rk.next_refresh = epoch + r_.refi;
    // Idle rank: the remaining epochs up to `until` start on time (all banks
    // precharged, tRFC <= tREFI), so apply them at once.
    if (rk.next_refresh <= until && end <= rk.next_refresh) {
      uint64_t k = (until - rk.next_refresh) / r_.refi + 1;
      uint64_t last = rk.next_refresh + (k - 1) * r_.refi;
      for (uint32_t i = 0; i < banks_per_rank_; ++i) banks[i].act_ready = last + r_.rfc;
      stats_.refreshes += k;
      rk.next_refresh = last + r_.refi;
    }
  }
}

inline Dram::Plan Dram::plan_with_refresh(const Target& t, bool is_write, uint64_t arrival) {
  Plan p = plan(t, is_write, arrival);
  // A column command at or after the next epoch would run into the refresh:
  // apply it (closing the rank's rows) and plan again. Plans only get later.
  while (p.col >= ranks_[t.rank].next_refresh) {
    refresh_through(t.rank, p.col);
    p = plan(t, is_write, arrival);
  }
  return p;
}

inline Cycle Dram::serve(const Target& t, bool is_write, uint64_t arrival, uint64_t* first_cmd) {
  Plan p = plan_with_refresh(t, is_write, arrival);
  commit(t, is_write, p);
  if (first_cmd) *first_cmd = p.first;
  const uint64_t done = p.data_end + r_.ctrl;
  ++(is_write ? stats_.writes : stats_.reads);
  switch (p.outcome) {
    case RowOutcome::kHit: ++stats_.row_hits; break;
    case RowOutcome::kMiss: ++stats_.row_misses; break;
    case RowOutcome::kConflict: ++stats_.row_conflicts; break;
  }
  const uint64_t lat = done - arrival;
  stats_.total_latency += lat;
  stats_.latency.add(lat);
  return Cycle(done);
}

Cycle Dram::access(PhysAddr addr, bool is_write, Cycle arrival) {
  return serve(target_of(addr), is_write, arrival.count(), nullptr);
}

void Dram::advance_to(Cycle now) {
  for (uint32_t rank = 0; rank < ranks_.size(); ++rank) refresh_through(rank, now.count());
}

void Dram::access_batch(const DramRequest* reqs, size_t n, Cycle* done) {
  if (n == 0) return;
  if (targets_.size() < n) {
    targets_.resize(n);
    order_.reserve(n);
  }
  for (size_t i = 0; i < n; ++i) targets_[i] = target_of(reqs[i].addr);
  for (uint32_t c = 0; c < cfg_.channels; ++c) batch_channel(reqs, n, done, c);
}

void Dram::batch_channel(const DramRequest* reqs, size_t n, Cycle* done, uint32_t channel) {
  order_.clear();
  for (size_t i = 0; i < n; ++i) {
    if (targets_[i].channel == channel) order_.push_back(static_cast<uint32_t>(i));
  }
  if (order_.empty()) return;
  // Oldest first, lowest index among equal arrivals (std::sort: no allocation).
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    return reqs[a].arrival != reqs[b].arrival ? reqs[a].arrival < reqs[b].arrival : a < b;
  });
  uint64_t now = reqs[order_[0]].arrival.count();
  const size_t depth = cfg_.queue_depth;
  while (!order_.empty()) {
    // The queue holds the oldest `depth` unserved requests; order_[0] is the
    // oldest, so if nothing has arrived by `now`, jump to its arrival.
    now = std::max(now, reqs[order_[0]].arrival.count());
    const size_t window = std::min(depth, order_.size());
    size_t pick = 0;  // oldest arrived request, unless (FR-FCFS) a row hit has arrived
    for (size_t j = 0; j < window && cfg_.scheduler == DramScheduler::kFrFcfs; ++j) {
      const uint32_t i = order_[j];
      if (reqs[i].arrival.count() > now) break;  // sorted: the rest arrive later
      if (banks_[targets_[i].bank].open_row == targets_[i].row) {
        pick = j;
        break;
      }
    }
    const uint32_t i = order_[pick];
    uint64_t first = 0;
    done[i] = serve(targets_[i], reqs[i].is_write, reqs[i].arrival.count(), &first);
    now = std::max(now, first);
    order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(pick));
  }
}

}  // namespace mmusim
