#include "models/os/oom.h"

namespace mmusim {

std::optional<int64_t> oom_badness(const OomCandidate& c, uint64_t totalpages) {
  if (c.unkillable || c.oom_score_adj == kOomScoreAdjMin || c.reaped || c.vfork_pending) {
    return std::nullopt;
  }
  // What the task would give back: its resident pages, its swap slots and its
  // page tables, in pages.
  const auto points = static_cast<int64_t>(c.rss + c.swapents + c.pgtable_bytes / 4096);
  // oom_score_adj is in thousandths of the total (integer division first).
  const int64_t adj = int64_t{c.oom_score_adj} * static_cast<int64_t>(totalpages / 1000);
  return points + adj;
}

uint32_t oom_score(int64_t points, uint64_t totalpages) {
  const auto total = static_cast<int64_t>(totalpages == 0 ? 1 : totalpages);
  const int64_t v = (1000 + points * 1000 / total) * 2 / 3;  // C division: toward zero
  return v < 0 ? 0 : static_cast<uint32_t>(v);
}

uint32_t oom_score(const OomCandidate& c, uint64_t totalpages) {
  const std::optional<int64_t> p = oom_badness(c, totalpages);
  return p ? oom_score(*p, totalpages) : 0;
}

OomChoice choose_oom_victim(const std::vector<OomCandidate>& candidates, uint64_t totalpages) {
  OomChoice best;
  bool chosen = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const OomCandidate& c = candidates[i];
    if (c.unkillable) continue;
    if (c.oom_victim) {
      if (c.reaped) continue;  // reaped victims free nothing more: look further
      OomChoice wait;
      wait.kind = OomChoice::Kind::kWaitForVictim;
      wait.index = i;
      wait.pid = c.pid;
      return wait;
    }
    const std::optional<int64_t> p = oom_badness(c, totalpages);
    if (!p || (chosen && *p < best.points)) continue;
    // Equal points replace the choice: the last of equals wins, as in Linux.
    chosen = true;
    best.kind = OomChoice::Kind::kVictim;
    best.index = i;
    best.pid = c.pid;
    best.points = *p;
  }
  return best;
}

std::optional<uint32_t> select_victim(const std::vector<OomCandidate>& candidates,
                                      uint64_t totalpages) {
  const OomChoice c = choose_oom_victim(candidates, totalpages);
  if (c.kind != OomChoice::Kind::kVictim) return std::nullopt;
  return c.pid;
}

}  // namespace mmusim
