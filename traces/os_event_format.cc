// The text and binary codecs of the OS events (os_event_format.h), driven
// by the field tables of os_event_fields.h.
#include "traces/os_event_format.h"

#include <cstring>
#include <type_traits>

#include "traces/formats.h"
#include "traces/os_event_fields.h"

namespace mmusim {

using namespace event_fields;  // the tables' vocabulary

namespace {

template <class V>
void put_le(std::string& out, V v) {
  char b[sizeof(V)];
  std::memcpy(b, &v, sizeof(V));
  out.append(b, sizeof(V));
}

}  // namespace

int os_event_kind(std::string_view word) {
  for (size_t i = 0; i < std::variant_size_v<OsEventBody>; ++i) {
    if (os_event_name(i) == word) return static_cast<int>(i);
  }
  return -1;
}

bool parse_os_event_text(size_t kind, const char* p, const char* e, OsEvent& ev,
                         EventTextError& err) {
  bool ok = true;
  with_kind(kind, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T body{};
    uint32_t present = 0;  // bit i: field i; bit 30: pid; bit 31: tid
    bool has_pid = false, has_tid = false;
    const std::string_view kind_name = os_event_name(kind);
    for (;;) {
      while (p != e && is_blank(*p)) ++p;
      if (p == e || *p == '#') break;
      const char* key_end = p;
      while (key_end != e && *key_end != '=' && !is_blank(*key_end) && *key_end != '#') ++key_end;
      if (key_end == e || *key_end != '=' || key_end == p) {
        err = {p, value_end(p, e), "expected key=value"};
        ok = false;
        return;
      }
      const std::string_view key(p, static_cast<size_t>(key_end - p));
      const char* v = key_end + 1;
      if (key == "pid" || key == "tid") {
        bool& seen = key == "pid" ? has_pid : has_tid;
        uint32_t& dst = key == "pid" ? ev.pid : ev.tid;
        if (seen) {
          err = {p, key_end, "duplicate key " + quoted_key(key)};
          ok = false;
          return;
        }
        seen = true;
        const Field f{key, FieldType::kUnsigned, true};
        p = parse_value(f, v, e, dst, err);
        if (p == nullptr) {
          ok = false;
          return;
        }
        continue;
      }
      int index = -1, i = 0;
      const char* next = nullptr;
      for_each_field<T>([&](const Field& f, auto mp) {
        if (index < 0 && f.key == key) {
          index = i;
          if ((present & (1U << i)) != 0) {
            err = {p, key_end, "duplicate key " + quoted_key(key)};
            return;
          }
          next = parse_value(f, v, e, body.*mp, err);
        }
        ++i;
      });
      if (index < 0) {
        std::string keys = "pid, tid";
        for_each_field<T>([&](const Field& f, auto) { keys += ", " + std::string(f.key); });
        err = {p, key_end,
               "unknown key " + quoted_key(key) + " for " + std::string(kind_name) + " (expected " +
                   keys + ")"};
        ok = false;
        return;
      }
      if (next == nullptr) {
        ok = false;
        return;
      }
      present |= 1U << index;
      p = next;
    }
    // Missing keys and dependent defaults.
    std::string missing;
    if (!has_pid) missing = "pid";
    int i = 0;
    for_each_field<T>([&](const Field& f, auto mp) {
      const bool here = (present & (1U << i)) != 0;
      ++i;
      if (here) return;
      if (f.required && missing.empty()) missing = f.key;
      if constexpr (std::is_same_v<std::remove_reference_t<decltype(body.*mp)>, uint32_t>) {
        if (!f.default_from.empty())
          body.*mp = static_cast<uint32_t>(unsigned_field(body, f.default_from));
      }
    });
    if (!missing.empty()) {
      err = {e, e, std::string(kind_name) + " needs key " + quoted_key(missing)};
      ok = false;
      return;
    }
    if (!has_tid) ev.tid = ev.pid;
    ev.body = std::move(body);
  });
  if (!ok) return false;
  std::string why = check_os_event(ev);
  if (!why.empty()) {
    err = {e, e, why};
    return false;
  }
  return true;
}

void format_os_event(const OsEvent& ev, std::string& out) {
  out += os_event_name(ev);
  out += " pid=";
  put_decimal(out, ev.pid);
  if (ev.tid != ev.pid) {
    out += " tid=";
    put_decimal(out, ev.tid);
  }
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        const T def{};
        for_each_field<T>([&](const Field& f, auto mp) {
          const auto& m = body.*mp;
          if (!f.required) {
            if constexpr (std::is_same_v<std::decay_t<decltype(m)>, uint32_t>) {
              if (!f.default_from.empty()) {
                if (m == unsigned_field(body, f.default_from)) return;
              } else if (m == def.*mp) {
                return;
              }
            } else {
              if (m == def.*mp) return;
            }
          }
          out += ' ';
          out += f.key;
          out += '=';
          put_value(out, f, m);
        });
      },
      ev.body);
  out += '\n';
}

void encode_os_event(const OsEvent& ev, std::string& out) {
  put_le<uint16_t>(out, static_cast<uint16_t>(ev.body.index()));
  put_le<uint16_t>(out, 0);
  put_le<uint32_t>(out, ev.pid);
  put_le<uint32_t>(out, ev.tid);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        for_each_field<T>([&](const Field& f, auto mp) {
          const auto& m = body.*mp;
          using M = std::decay_t<decltype(m)>;
          if (f.may_end && m == M{}) return;  // a later field at its default: not written
          if constexpr (std::is_same_v<M, std::string>) {
            const size_t n = std::min<size_t>(m.size(), 0xFFFF);
            put_le<uint16_t>(out, static_cast<uint16_t>(n));
            out.append(m.data(), n);
          } else if constexpr (std::is_enum_v<M> || std::is_same_v<M, bool>) {
            out += static_cast<char>(m);
          } else {
            put_le<M>(out, m);
          }
        });
      },
      ev.body);
}

std::string decode_os_event(const char* p, size_t n, OsEvent& ev) {
  if (n < kEventPayloadHead) {
    return "event payload of " + std::to_string(n) + " bytes, expected at least " +
           std::to_string(kEventPayloadHead);
  }
  uint16_t kind = 0;
  std::memcpy(&kind, p, 2);
  std::memcpy(&ev.pid, p + 4, 4);
  std::memcpy(&ev.tid, p + 8, 4);
  if (kind >= std::variant_size_v<OsEventBody>) {
    return "unknown event kind " + std::to_string(kind);
  }
  size_t at = kEventPayloadHead;
  std::string why;
  with_kind(kind, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T body{};
    for_each_field<T>([&](const Field& f, auto mp) {
      if (!why.empty()) return;
      auto& m = body.*mp;
      using M = std::decay_t<decltype(m)>;
      if (f.may_end && at == n) return;  // written before the field existed, or at its default
      auto short_of = [&](size_t need) {
        if (n - at >= need) return false;
        why = "event payload ends inside field " + quoted_key(f.key) + " of " +
              std::string(os_event_name(kind));
        return true;
      };
      if constexpr (std::is_same_v<M, std::string>) {
        if (short_of(2)) return;
        uint16_t len = 0;
        std::memcpy(&len, p + at, 2);
        at += 2;
        if (short_of(len)) return;
        m.assign(p + at, len);
        at += len;
      } else if constexpr (std::is_enum_v<M> || std::is_same_v<M, bool>) {
        if (short_of(1)) return;
        const auto v = static_cast<uint8_t>(p[at++]);
        const size_t limit = std::is_same_v<M, bool> ? 2 : enum_count(f.type);
        if (v >= limit) {
          why = "invalid value " + std::to_string(v) + " for " + quoted_key(f.key) + " of " +
                std::string(os_event_name(kind));
          return;
        }
        m = static_cast<M>(v);
      } else {
        if (short_of(sizeof(M))) return;
        std::memcpy(&m, p + at, sizeof(M));
        at += sizeof(M);
      }
    });
    ev.body = std::move(body);
  });
  if (!why.empty()) return why;
  if (at != n) {
    return "event payload has " + std::to_string(n - at) + " bytes after the fields of " +
           std::string(os_event_name(kind));
  }
  return check_os_event(ev);
}

std::string check_os_event(const OsEvent& ev) {
  if (ev.pid == 0) return "pid must be > 0";
  if (ev.tid == 0) return "tid must be > 0";
  constexpr uint64_t kPage = 4096;
  std::string too_long;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        for_each_field<T>([&](const Field& f, auto mp) {
          if constexpr (std::is_same_v<std::decay_t<decltype(b.*mp)>, std::string>) {
            if ((b.*mp).size() > 0xFFFF && too_long.empty()) {
              too_long = std::string(os_event_name(ev)) + " " + quoted_key(f.key) +
                         " is longer than 65535 bytes";
            }
          }
        });
      },
      ev.body);
  if (!too_long.empty()) return too_long;
  return std::visit(
      [](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, FileEvent>) {
          if (b.file_id == 0) return "FILE file_id must be > 0";
        } else if constexpr (std::is_same_v<T, StartEvent>) {
          if (b.oom_score_adj < -1000 || b.oom_score_adj > 1000)
            return "START oom_score_adj must be from -1000 to 1000";
        } else if constexpr (std::is_same_v<T, ProcCreateEvent>) {
          if (b.child_pid == 0 || b.child_tid == 0)
            return "PROC_CREATE child_pid and child_tid must be > 0";
        } else if constexpr (std::is_same_v<T, ThreadCreateEvent>) {
          if (b.child_tid == 0) return "THREAD_CREATE child_tid must be > 0";
        } else if constexpr (std::is_same_v<T, VmaInitEvent>) {
          if (b.start >= b.end) return "VMA_INIT start must be below end";
          if (b.start % kPage != 0 || b.end % kPage != 0 || b.offset % kPage != 0) {
            return "VMA_INIT start, end and offset must be multiples of 4096";
          }
          if (b.kind == VmaInitEvent::Kind::kFile && b.file_id == 0) {
            return "VMA_INIT of kind file needs file_id > 0";
          }
        } else if constexpr (std::is_same_v<T, CtxSwitchEvent>) {
          if (b.to_pid == 0 || b.to_tid == 0) return "CTXSW to_pid and to_tid must be > 0";
        }
        return {};
      },
      ev.body);
}

std::string OsEventChecker::check(const OsEvent& ev) {
  std::string why = check_os_event(ev);
  if (!why.empty()) return why;
  if (const auto* f = std::get_if<FileEvent>(&ev.body)) {
    if (!files_.insert(f->file_id).second) {
      return "FILE file_id " + std::to_string(f->file_id) + " is described twice";
    }
    return {};
  }
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        for_each_field<T>([&](const Field& f, auto mp) {
          if (!why.empty() || (f.key != "file_id" && f.key != "interp_file_id")) return;
          if constexpr (std::is_same_v<std::decay_t<decltype(b.*mp)>, uint32_t>) {
            const uint32_t id = b.*mp;
            if (id != 0 && files_.count(id) == 0) {
              why = std::string(f.key) + " " + std::to_string(id) + " has no FILE record before it";
            }
          }
        });
      },
      ev.body);
  return why;
}

}  // namespace mmusim
