// mmusim-trace: convert, inspect and generate memory-access traces.
// Usage: mmusim-trace --help; formats and subcommands: traces/README.md.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/common/interrupt.h"
#include "models/common/parse.h"
#include "traces/formats.h"
#include "traces/generator.h"
#include "traces/lackey_import.h"
#include "traces/os_event_format.h"
#include "traces/trace_reader.h"
#include "traces/trace_stats.h"
#include "traces/trace_writer.h"

namespace mmusim {
namespace {

constexpr const char* kUsage =
    "usage: mmusim-trace convert IN OUT [--format F] [--to text|binary|lackey]\n"
    "                            [--zstd|--gzip|--xz] [--level N] [--binary-version 1|2|3]\n"
    "                            [--limit N] [--comment TEXT]\n"
    "       mmusim-trace head IN [-n N] [--format F]\n"
    "       mmusim-trace info IN [--format F] [--limit N]\n"
    "       mmusim-trace import LOG... -o OUT [--maps FILE] [--cwd DIR] [--chunk N]\n"
    "                           [--no-size-pass] [--limit N] [--comment TEXT] [--to text|binary]\n"
    "                           [--zstd|--gzip|--xz] [--level N] [--binary-version 1|2|3]\n"
    "       mmusim-trace gen PATTERN [--count N] [--footprint B] [--stride B] [--size B]\n"
    "                        [--base A] [--seed S] [--cpus K] [--alpha A] [--writes F]\n"
    "                        [--kind R|W|X] -o OUT [--to text|binary|lackey] [--zstd|--gzip|--xz]\n"
    "                        [--binary-version 1|2|3]\n"
    "IN: a file, '-' for stdin, or gen:SPEC. Formats (--format): auto, text, binary, lackey,\n"
    "champsim, pin, din (auto detects them by content; ChampSim also by a name containing\n"
    "'champsim').\n"
    "import: valgrind lackey logs with --trace-syscalls=yes, one per process (--log-file=%p.%n),\n"
    "merged into one trace with OS events; --maps: valgrind -d's stderr (initial mappings).\n"
    "PATTERN: seq, stride, uniform, zipf, gups, chase. OUT's extension picks the format\n"
    "(.txt/.trace text, .bin binary; + .zst/.gz/.xz compression). Binary output is version 3\n"
    "(variable-length records) unless --binary-version 1 or 2 asks for the 16-byte records\n"
    "(version 2 when the trace has OS events). See traces/README.md.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Command-line arguments after the subcommand: positionals and --options.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
  }
  // Removes "--name VALUE" (or "--name=VALUE"); returns whether it was there.
  bool take(const std::string& name, std::string* value) {
    for (size_t i = 0; i < args_.size(); ++i) {
      const std::string& a = args_[i];
      if (a == name) {
        if (i + 1 >= args_.size()) throw UsageError(name + " needs a value");
        *value = args_[i + 1];
        args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
        return true;
      }
      if (a.rfind(name + "=", 0) == 0) {
        *value = a.substr(name.size() + 1);
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    }
    return false;
  }
  bool flag(const std::string& name) {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    }
    return false;
  }
  // The remaining arguments: at least one positional, no options.
  std::vector<std::string> rest() {
    for (const auto& a : args_) {
      if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option '" + a + "'");
    }
    if (args_.empty()) throw UsageError("expected at least one argument");
    return args_;
  }
  // The remaining arguments, which must be exactly `n` positionals.
  std::vector<std::string> positionals(size_t n) {
    for (const auto& a : args_) {
      if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option '" + a + "'");
    }
    if (args_.size() != n) {
      throw UsageError("expected " + std::to_string(n) + " argument(s), got " +
                       std::to_string(args_.size()));
    }
    return args_;
  }

 private:
  std::vector<std::string> args_;
};

uint64_t parse_count(const std::string& option, const std::string& v) {
  const ParsedInt r = parse_u64(v, IntSyntax::kDecimal);
  if (!r.ok()) throw UsageError(option + ": expected a non-negative integer, got '" + v + "'");
  return r.value;
}

// Output options shared by convert and gen.
TraceWriterOptions output_options(Args& args, const std::string& out) {
  TraceWriterOptions o;
  bool by_name = format_from_extension(out, &o.format, &o.compression);
  std::string to, level;
  if (args.take("--to", &to)) {
    if (to == "text") {
      o.format = TraceFormat::kText;
    } else if (to == "binary") {
      o.format = TraceFormat::kBinary;
    } else if (to == "lackey") {
      o.format = TraceFormat::kLackey;
    } else {
      throw UsageError("--to: expected text, binary or lackey, got '" + to + "'");
    }
  } else if (!by_name) {
    throw UsageError("cannot tell the output format from '" + out +
                     "' (use .txt, .trace or .bin, or --to text|binary)");
  }
  if (args.flag("--zstd")) o.compression = Compression::kZstd;
  if (args.flag("--gzip")) o.compression = Compression::kGzip;
  if (args.flag("--xz")) o.compression = Compression::kXz;
  if (args.take("--level", &level)) o.level = static_cast<int>(parse_count("--level", level));
  std::string version;
  if (args.take("--binary-version", &version)) {
    if (version != "1" && version != "2" && version != "3") {
      throw UsageError("--binary-version: expected 1, 2 or 3, got '" + version + "'");
    }
    if (o.format != TraceFormat::kBinary) {
      throw UsageError("--binary-version: the output is not binary");
    }
    o.binary_version = version[0] - '0';
  }
  return o;
}

// Copies up to `limit` (0 = all) records from reader to out, through a
// temporary file renamed into place only on success.
uint64_t copy_trace(TraceReader& reader, const std::string& out, const TraceWriterOptions& opts,
                    uint64_t limit) {
  const bool to_stdout = out == "-";
  const std::string tmp = to_stdout ? out : out + ".tmp";
  uint64_t total = 0;
  // SIGINT/SIGTERM during the copy remove the temporary file first.
  if (!to_stdout) interrupt::add_file(tmp);
  try {
    TraceWriter w(tmp, opts);
    std::vector<TraceRecord> batch(16384);
    std::vector<OsEvent> events;
    for (;;) {
      size_t want = batch.size();
      if (limit != 0) want = static_cast<size_t>(std::min<uint64_t>(want, limit - total));
      if (want == 0) break;
      size_t n = reader.read(batch.data(), want);
      if (n == 0) break;
      events.clear();
      reader.take_events(events);
      w.write(batch.data(), n, events, reader.tasks());
      total += n;
    }
    w.close();
  } catch (...) {
    if (!to_stdout) std::remove(tmp.c_str());
    interrupt::clear();
    throw;
  }
  if (!to_stdout) {
    const interrupt::Deferred hold;  // renamed, or removed: never left behind
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
      std::string why = std::strerror(errno);
      std::remove(tmp.c_str());
      interrupt::clear();
      throw InputError(out + ": cannot rename " + tmp + ": " + why);
    }
    interrupt::clear();
  }
  return total;
}

// One line on stderr with what a lackey import with system calls dropped.
void print_import_report(const TraceReader& reader) {
  const LackeyImportReport* r = lackey_import_report(reader);
  if (r == nullptr) return;
  std::string s = "mmusim-trace: import: " + std::to_string(r->logs) + " log(s), " +
                  std::to_string(r->processes) + " process(es)";
  uint64_t ignored = 0;
  for (const auto& [name, n] : r->ignored) ignored += n;
  s += "; system calls without an event: " + std::to_string(ignored);
  const char* sep = " (";
  for (const auto& [name, n] : r->ignored) {
    s += sep + name + " " + std::to_string(n);
    sep = ", ";
  }
  if (ignored != 0) s += ")";
  s += "; failed opens " + std::to_string(r->failed_opens) + ", other failed calls " +
       std::to_string(r->failed_other) + ", exits added " + std::to_string(r->synthesized_exits) +
       ", threads of unknown tid " + std::to_string(r->unknown_threads) + ", unmatched results " +
       std::to_string(r->unmatched_results) + "\n";
  std::fputs(s.c_str(), stderr);
}

int cmd_import(Args& args) {
  std::string out, maps, cwd, chunk, comment, limit_text;
  if (!args.take("-o", &out)) throw UsageError("import needs -o OUT");
  LackeyImportOptions o;
  if (args.take("--maps", &maps)) o.maps = maps;
  if (args.take("--cwd", &cwd)) o.cwd = cwd;
  if (args.take("--chunk", &chunk)) {
    o.chunk = parse_count("--chunk", chunk);
    if (o.chunk == 0) throw UsageError("--chunk: expected a positive integer, got '0'");
  }
  if (args.flag("--no-size-pass")) o.size_pass = false;
  const bool has_comment = args.take("--comment", &comment);
  const uint64_t limit = args.take("--limit", &limit_text) ? parse_count("--limit", limit_text) : 0;
  TraceWriterOptions opts = output_options(args, out);
  const auto logs = args.rest();
  auto reader = open_lackey_logs(logs, o);
  opts.comment = has_comment ? comment : "mmusim-trace import";
  copy_trace(*reader, out, opts, limit);
  print_import_report(*reader);
  return 0;
}

int cmd_convert(Args& args) {
  std::string format = "auto", comment, limit_text;
  args.take("--format", &format);
  bool has_comment = args.take("--comment", &comment);
  uint64_t limit = args.take("--limit", &limit_text) ? parse_count("--limit", limit_text) : 0;
  // OUT is needed to infer the output format: peek at the positionals first.
  std::vector<std::string> pos;
  {
    Args probe = args;
    std::string ignored;
    probe.take("--to", &ignored);
    probe.take("--level", &ignored);
    probe.take("--binary-version", &ignored);
    probe.flag("--zstd");
    probe.flag("--gzip");
    probe.flag("--xz");
    pos = probe.positionals(2);
  }
  TraceWriterOptions opts = output_options(args, pos[1]);
  args.positionals(2);
  auto reader = open_trace(pos[0], format);
  opts.comment = has_comment ? comment : reader->format_info().comment;
  copy_trace(*reader, pos[1], opts, limit);
  print_import_report(*reader);
  return 0;
}

int cmd_head(Args& args) {
  std::string format = "auto", n_text = "10";
  args.take("--format", &format);
  args.take("-n", &n_text);
  uint64_t n = parse_count("-n", n_text);
  auto pos = args.positionals(1);
  auto reader = open_trace(pos[0], format);
  std::vector<TraceRecord> batch(4096);
  std::vector<OsEvent> events;
  uint64_t done = 0;
  char line[96];
  std::string text;
  TraceReader::TaskKey current{0, 0};
  while (done < n) {
    size_t got =
        reader->read(batch.data(), static_cast<size_t>(std::min<uint64_t>(batch.size(), n - done)));
    if (got == 0) break;
    events.clear();
    reader->take_events(events);
    for (size_t i = 0; i < got; ++i) {
      TraceRecord r = batch[i];
      if (reader->has_tasks()) {  // events as text, records with an @PID[.TID] prefix on a change
        text.clear();
        if (trace_flags::op_of(r.flags) == trace_flags::kOpEvent && r.addr < events.size()) {
          const OsEvent& e = events[r.addr];
          format_os_event(e, text);
          current = {e.pid, e.tid};
          std::fwrite(text.data(), 1, text.size(), stdout);
          continue;
        }
        const auto& tasks = reader->tasks();
        if (r.cpu < tasks.size() &&
            (tasks[r.cpu].pid != current.pid || tasks[r.cpu].tid != current.tid)) {
          current = tasks[r.cpu];
          text = "@" + std::to_string(current.pid) +
                 (current.tid != current.pid ? "." + std::to_string(current.tid) : "") + " ";
          std::fwrite(text.data(), 1, text.size(), stdout);
        }
        r.cpu = 0;
      }
      size_t len = format_text_record(r, line);
      if (r.flags != 0 && !check_text_record(r).empty()) {  // malformed flags
        len += static_cast<size_t>(std::snprintf(line + len - 1, 32, " # flags=0x%02x\n",
                                                 static_cast<unsigned>(r.flags))) -
               1;
      }
      std::fwrite(line, 1, len, stdout);
    }
    done += got;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int cmd_info(Args& args) {
  std::string format = "auto", limit_text;
  args.take("--format", &format);
  uint64_t limit = args.take("--limit", &limit_text) ? parse_count("--limit", limit_text) : 0;
  auto pos = args.positionals(1);
  auto reader = open_trace(pos[0], format);
  TraceStats s = compute_trace_stats(*reader, limit);
  TraceFormatInfo fi = reader->format_info();
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("file: %s\n", reader->path().c_str());
  std::printf("format: %s%s, compression: %s\n", fi.format.c_str(),
              fi.version != 0 ? (" version " + std::to_string(fi.version)).c_str() : "",
              fi.compression.c_str());
  if (!fi.comment.empty()) std::printf("comment: %s\n", fi.comment.c_str());
  std::printf(
      "records: %llu (R %llu, W %llu, X %llu%s%s)\n", u(s.records), u(s.by_kind[0]),
      u(s.by_kind[1]), u(s.by_kind[2]),
      s.control_records ? (", control records " + std::to_string(s.control_records)).c_str() : "",
      s.event_records ? (", events " + std::to_string(s.event_records)).c_str() : "");
  const char* sep = " (";
  if (reader->has_tasks()) {
    std::printf("events: %llu", u(s.event_records));
    for (size_t k = 0; k < s.events_by_kind.size(); ++k) {
      if (s.events_by_kind[k] == 0) continue;
      std::printf("%s%s %llu", sep, std::string(os_event_name(k)).c_str(), u(s.events_by_kind[k]));
      sep = ", ";
    }
    std::printf("%s\n", s.event_records ? ")" : "");
    // Records (events included) per task, in slot order: "PID" or "PID.TID".
    const auto& tasks = reader->tasks();
    std::printf("tasks: %zu", tasks.size());
    sep = " (";
    for (const auto& [slot, count] : s.by_cpu) {
      if (slot >= tasks.size()) continue;
      const auto& t = tasks[slot];
      std::printf("%s%u%s: %llu", sep, t.pid,
                  t.tid != t.pid ? ("." + std::to_string(t.tid)).c_str() : "", u(count));
      sep = ", ";
    }
    std::printf("%s\n", s.by_cpu.empty() ? "" : ")");
  } else {
    std::printf("cpus: %zu", s.by_cpu.size());
    for (const auto& [cpu, count] : s.by_cpu) {
      std::printf("%scpu %u: %llu", sep, static_cast<unsigned>(cpu), u(count));
      sep = ", ";
    }
    std::printf("%s\n", s.by_cpu.empty() ? "" : ")");
  }
  if (const LackeyImportReport* r = lackey_import_report(*reader)) {
    uint64_t ignored = 0;
    for (const auto& [name, n] : r->ignored) ignored += n;
    std::printf(
        "import: %llu log(s), %llu process(es), system calls without an event %llu, failed "
        "opens %llu, other failed calls %llu, exits added %llu\n",
        u(r->logs), u(r->processes), u(ignored), u(r->failed_opens), u(r->failed_other),
        u(r->synthesized_exits));
  }
  std::printf("address range: 0x%llx .. 0x%llx\n", u(s.min_addr), u(s.max_addr));
  std::printf("distinct pages: 4K %llu, 2M %llu, 1G %llu\n", u(s.pages_4k), u(s.pages_2m),
              u(s.pages_1g));
  std::printf("footprint: %llu bytes (%.1f MiB)\n", u(s.footprint_bytes()),
              static_cast<double>(s.footprint_bytes()) / (1 << 20));
  std::printf(
      "reuse distance (4K pages, LRU stack): cold %llu, reuses %llu, median %llu, "
      "p90 %llu, max %llu\n",
      u(s.cold), u(s.reuse.count()), u(s.reuse.percentile(0.5)), u(s.reuse.percentile(0.9)),
      u(s.reuse.max()));
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int cmd_gen(Args& args) {
  std::string out;
  if (!args.take("-o", &out)) throw UsageError("gen needs -o OUT");
  std::string spec;
  for (const char* key : {"count", "footprint", "stride", "size", "base", "seed", "cpus", "alpha",
                          "writes", "kind"}) {
    std::string v;
    if (args.take(std::string("--") + key, &v)) spec += std::string(",") + key + "=" + v;
  }
  TraceWriterOptions opts = output_options(args, out);
  auto pos = args.positionals(1);
  auto reader = open_generator(pos[0] + spec);
  opts.comment = reader->path();
  copy_trace(*reader, out, opts, 0);
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing subcommand");
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Args args(argc, argv, 2);
  if (cmd == "convert") return cmd_convert(args);
  if (cmd == "head") return cmd_head(args);
  if (cmd == "info") return cmd_info(args);
  if (cmd == "gen") return cmd_gen(args);
  if (cmd == "import") return cmd_import(args);
  throw UsageError("unknown subcommand '" + cmd + "'");
}

}  // namespace
}  // namespace mmusim

int main(int argc, char** argv) {
  mmusim::interrupt::install(mmusim::interrupt::Mode::kQuit, "mmusim-trace");
  try {
    return mmusim::run(argc, argv);
  } catch (const mmusim::UsageError& e) {
    std::fprintf(stderr, "mmusim-trace: %s (see mmusim-trace --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mmusim-trace: %s\n", e.what());
    return 1;
  }
}
