// The OOM killer's choice (os-model.md §1.7; Linux 6.12 mm/oom_kill.c
// oom_badness() and oom_evaluate_task(), fs/proc/base.c proc_oom_score()).
// Plain functions over a snapshot of the candidate tasks, in the order the
// kernel walks them (for_each_process: creation order). Counts are 4 KiB
// pages unless named bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace mmusim {

constexpr int32_t kOomScoreAdjMin = -1000;  // OOM_SCORE_ADJ_MIN: never chosen
constexpr int32_t kOomScoreAdjMax = 1000;

struct OomCandidate {
  uint32_t pid = 0;
  uint64_t rss = 0;            // resident pages: anon + file + shmem (get_mm_rss)
  uint64_t swapents = 0;       // pages swapped out (MM_SWAPENTS)
  uint64_t pgtable_bytes = 0;  // page-table bytes of the mm (mm_pgtables_bytes)
  int32_t oom_score_adj = 0;   // -1000 .. 1000
  bool unkillable = false;     // init or a kernel thread
  bool vfork_pending = false;  // a vfork child that has not exec'd or exited yet
  bool reaped = false;         // the oom reaper is done with it (MMF_OOM_SKIP)
  // Already killed by an earlier OOM and not yet reaped: the kernel waits for
  // it instead of killing another task (oom_evaluate_task's abort).
  bool oom_victim = false;
};

// oom_badness(): rss + swapents + pgtable_bytes / 4096 + oom_score_adj x
// (totalpages / 1000), or nullopt (LONG_MIN in Linux) for a task never
// chosen: unkillable, oom_score_adj -1000, reaped, or in a vfork.
// `totalpages` is totalram + total swap for a global OOM (the limit for a
// memcg one).
std::optional<int64_t> oom_badness(const OomCandidate& c, uint64_t totalpages);

// /proc/PID/oom_score: (1000 + points x 1000 / totalpages) x 2 / 3, the
// division truncating toward zero as C's. 0..1333 without oom_score_adj
// (0..2000 with it). `totalpages` 0 counts as 1.
uint32_t oom_score(int64_t points, uint64_t totalpages);
// The same for a candidate: 0 when it is excluded.
uint32_t oom_score(const OomCandidate& c, uint64_t totalpages);

// select_bad_process() over `candidates` in order:
//   - kVictim: `index` (into candidates), `pid` and `points` of the task with
//     the most points. Linux 6.12 skips a task only when its points are
//     strictly below the best so far (`points < chosen_points`), so among
//     equal points the LAST one walked is chosen.
//   - kWaitForVictim: a candidate is an earlier OOM victim not yet reaped;
//     the kernel kills nobody new and the allocation retries (the walk stops
//     there, whatever comes after it).
//   - kNone: no candidate may be killed (Linux panics).
struct OomChoice {
  enum class Kind : uint8_t { kVictim, kWaitForVictim, kNone };
  Kind kind = Kind::kNone;
  size_t index = 0;
  uint32_t pid = 0;
  int64_t points = 0;
};
OomChoice choose_oom_victim(const std::vector<OomCandidate>& candidates, uint64_t totalpages);

// The pid of choose_oom_victim()'s victim; nullopt for kWaitForVictim and kNone.
std::optional<uint32_t> select_victim(const std::vector<OomCandidate>& candidates,
                                      uint64_t totalpages);

}  // namespace mmusim
