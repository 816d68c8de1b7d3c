#include "models/os/scheduler.h"

#include <algorithm>

#include "models/common/config_schema.h"

namespace mmusim {

void add_keys(ConfigSchema& s, SchedConfig& c) {
  s.add_u64("os.sched.slice_us", &c.slice_us, "us",
            "time slice of a task before another runnable task takes the CPU; 0 = Linux 6.12's "
            "base slice, 750 us x (1 + log2(min(cpus, 8)))",
            0, 10000000);
  s.add_cycles("os.sched.switch_cost", &c.switch_cost,
               "direct cycles of a context switch (scheduler, register state, MOV CR3)");
  s.add_u32("os.sched.pcids", &c.pcids, "slots",
            "dynamic PCID slots per CPU (Linux: TLB_NR_DYN_ASIDS = 6); an address space not in "
            "a slot takes the next one and flushes its PCID",
            1, 4095);
}

uint64_t sched_slice_cycles(const SchedConfig& c, uint32_t cpus, uint64_t mhz) {
  uint64_t us = c.slice_us;
  if (us == 0) {
    uint32_t n = std::min<uint32_t>(cpus, 8);
    uint32_t log2 = 0;
    while (n > 1) {
      n >>= 1;
      ++log2;
    }
    // 750 us x factor, in ns then cycles: 750000 ns * (1 + log2) * mhz / 1000.
    return 750ULL * (1 + log2) * mhz;
  }
  return us * mhz;
}

Scheduler::Scheduler(const SchedConfig& cfg, uint32_t cpus, uint64_t slice_cycles)
    : cfg_(cfg),
      slice_(slice_cycles),
      slots_(cpus, std::vector<Slot>(cfg.pcids)),
      next_slot_(cpus, 0) {}

Scheduler::Task* Scheduler::find(TaskId t) {
  auto it = tasks_.find(t);
  return it == tasks_.end() ? nullptr : &it->second;
}

std::optional<Scheduler::State> Scheduler::state(TaskId t) const {
  auto it = tasks_.find(t);
  if (it == tasks_.end()) return std::nullopt;
  return it->second.state;
}

Cycle Scheduler::ready(TaskId t) const {
  auto it = tasks_.find(t);
  return it == tasks_.end() ? Cycle(0) : it->second.ready;
}

void Scheduler::add(TaskId t, Cycle at) {
  if (tasks_.count(t) != 0) return;
  tasks_.emplace(t, Task{State::kRunnable, at, 0});
  queue_.push_back(t);
  ++alive_;
  ++stats_.tasks;
}

std::optional<TaskId> Scheduler::pick(uint32_t /*cpu*/, Cycle now) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    Task* k = find(*it);
    if (k->ready > now) continue;
    const TaskId t = *it;
    queue_.erase(it);
    k->state = State::kRunning;
    return t;
  }
  return std::nullopt;
}

bool Scheduler::pick_task(TaskId t, Cycle now) {
  auto it = std::find(queue_.begin(), queue_.end(), t);
  if (it == queue_.end() || find(t)->ready > now) return false;
  queue_.erase(it);
  find(t)->state = State::kRunning;
  return true;
}

std::optional<Cycle> Scheduler::earliest_ready() const {
  std::optional<Cycle> e;
  for (const TaskId& t : queue_) {
    const Cycle r = tasks_.at(t).ready;
    if (!e || r < *e) e = r;
  }
  return e;
}

bool Scheduler::others_waiting(Cycle at) const {
  for (const TaskId& t : queue_) {
    if (tasks_.at(t).ready <= at) return true;
  }
  return false;
}

void Scheduler::block_until(TaskId t, Cycle until) {
  Task* k = find(t);
  if (k == nullptr || k->state == State::kExited) return;
  k->state = State::kRunnable;
  k->ready = until;
  queue_.push_back(t);
  ++stats_.io_blocks;
}

void Scheduler::requeue(TaskId t, Cycle at) {
  Task* k = find(t);
  if (k == nullptr || k->state == State::kExited) return;
  k->state = State::kRunnable;
  k->ready = at;
  queue_.push_back(t);
}

void Scheduler::block(TaskId t, uint64_t key, bool io) {
  Task* k = find(t);
  if (k == nullptr || k->state == State::kExited) return;
  k->state = State::kBlocked;
  k->key = key;
  k->io = io;
  blocked_.emplace(key, t);
  ++(io ? stats_.io_blocks : stats_.blocks);
}

size_t Scheduler::wake(uint64_t key, Cycle at) {
  auto [b, e] = blocked_.equal_range(key);
  size_t n = 0;
  for (auto it = b; it != e; ++it) {
    Task* k = find(it->second);
    if (k == nullptr || k->state != State::kBlocked) continue;
    k->state = State::kRunnable;
    k->ready = at;
    queue_.push_back(it->second);
    ++stats_.wakeups;
    ++n;
  }
  blocked_.erase(b, e);
  return n;
}

void Scheduler::exit(TaskId t, bool killed) {
  Task* k = find(t);
  if (k == nullptr || k->state == State::kExited) return;
  if (k->state == State::kRunnable) queue_.erase(std::find(queue_.begin(), queue_.end(), t));
  if (k->state == State::kBlocked) {
    auto [b, e] = blocked_.equal_range(k->key);
    for (auto it = b; it != e; ++it) {
      if (it->second == t) {
        blocked_.erase(it);
        break;
      }
    }
  }
  k->state = State::kExited;
  --alive_;
  ++stats_.exits;
  if (killed) ++stats_.killed;
}

Scheduler::PcidChoice Scheduler::choose_pcid(uint32_t cpu, uint32_t pid, uint64_t gen) {
  std::vector<Slot>& s = slots_[cpu];
  for (size_t i = 0; i < s.size(); ++i) {
    if (!s[i].used || s[i].pid != pid) continue;
    // The address space changed while this CPU did not run it (a shootdown
    // did not reach it): Linux compares tlb_gen and flushes.
    const bool stale = s[i].gen < gen;
    s[i].gen = gen;
    if (stale) {
      ++stats_.pcid_flushes;
    } else {
      ++stats_.pcid_reuse;
    }
    return {Asid(static_cast<uint16_t>(i + 1)), stale};
  }
  const uint32_t i = next_slot_[cpu];
  next_slot_[cpu] = (i + 1) % static_cast<uint32_t>(s.size());
  s[i] = Slot{pid, gen, true};
  ++stats_.pcid_flushes;
  return {Asid(static_cast<uint16_t>(i + 1)), true};
}

void Scheduler::refresh_pcid(uint32_t cpu, uint32_t pid, uint64_t gen) {
  if (cpu >= slots_.size()) return;
  for (Slot& s : slots_[cpu]) {
    if (s.used && s.pid == pid && s.gen < gen) s.gen = gen;
  }
}

void Scheduler::finish() {
  blocked_at_end_.clear();
  for (const auto& [id, t] : tasks_) {
    if (t.state == State::kBlocked) blocked_at_end_.push_back(Blocked{id, t.key, t.io});
  }
  stats_.blocked_at_end = blocked_at_end_.size();
}

void Scheduler::visit(StatVisitor& v, const std::string& prefix) const {
  const std::string p = prefix + "sched.";
  v.counter(p + "tasks", "tasks", "tasks started or created", stats_.tasks);
  v.counter(p + "switches", "switches", "context switches (a CPU changed its task)",
            stats_.switches);
  v.counter(p + "preemptions", "switches", "slices that ended with another task waiting",
            stats_.preemptions);
  v.counter(p + "blocks", "events", "tasks that blocked (wait4, vfork)", stats_.blocks);
  v.counter(p + "wakeups", "events", "blocked tasks made runnable", stats_.wakeups);
  v.counter(
      p + "io_blocks", "events",
      "faults and calls whose task slept until its I/O completed (the CPU ran others meanwhile)",
      stats_.io_blocks);
  v.counter(p + "exits", "tasks", "tasks ended (exit, killed, or end of their records)",
            stats_.exits);
  v.counter(p + "killed", "tasks", "tasks killed by a signal (SIGSEGV, SIGBUS)", stats_.killed);
  v.counter(p + "pcid_reuse", "switches", "switches that found the address space in a PCID slot",
            stats_.pcid_reuse);
  v.counter(p + "pcid_flushes", "switches",
            "switches that took a PCID slot (or found it stale) and flushed that PCID",
            stats_.pcid_flushes);
  v.counter(p + "idle_cycles", "cycles", "CPU cycles with no runnable task, summed over CPUs",
            stats_.idle_cycles);
  v.counter(p + "blocked_at_end", "tasks", "tasks still blocked when the trace ended",
            stats_.blocked_at_end);
}

std::string blocked_at_end_warning(const std::vector<Scheduler::Blocked>& blocked) {
  if (blocked.empty()) return {};
  constexpr size_t kShown = 4;
  std::string w = std::to_string(blocked.size()) +
                  (blocked.size() == 1 ? " task was" : " tasks were") +
                  " still blocked when the run ended (";
  for (size_t i = 0; i < blocked.size() && i < kShown; ++i) {
    const Scheduler::Blocked& b = blocked[i];
    if (i > 0) w += ", ";
    w += "pid " + std::to_string(b.task.pid) + " tid " + std::to_string(b.task.tid) + " on " +
         (b.io ? "I/O" : "wait") + " key " + std::to_string(b.key);
  }
  if (blocked.size() > kShown) w += ", ...";
  w += "); nothing was left to wake them, so the records after their block were not simulated "
       "and the results end there (top.kernel.sched.blocked_at_end)";
  return w;
}

}  // namespace mmusim
