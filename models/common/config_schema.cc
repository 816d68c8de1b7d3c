#include "models/common/config_schema.h"

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "models/common/error.h"
#include "models/common/parse.h"

namespace mmusim {
namespace po = boost::program_options;
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Decimal, or hexadecimal with 0x: a leading zero is not octal.
uint64_t parse_u64_in(const std::string& v, uint64_t min, uint64_t max) {
  const ParsedInt r = parse_u64(trim(v), IntSyntax::kDecimalOrHex);
  if (r.error == ParseError::kOverflow) {
    throw std::invalid_argument("expected an integer that fits in 64 bits");
  }
  if (!r.ok()) throw std::invalid_argument("expected an unsigned integer");
  if (r.value < min || r.value > max) {
    throw std::invalid_argument("expected an integer in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
  }
  return r.value;
}

}  // namespace

uint64_t parse_size(const std::string& v) {
  std::string s = trim(v);
  uint64_t mul = 1;
  if (!s.empty()) {
    char c = s.back();
    int shift = c == 'K' || c == 'k'   ? 10
                : c == 'M' || c == 'm' ? 20
                : c == 'G' || c == 'g' ? 30
                : c == 'T' || c == 't' ? 40
                                       : 0;
    if (shift) {
      mul = 1ULL << shift;
      s.pop_back();
    }
  }
  uint64_t n = 0;
  try {
    n = parse_u64_in(s, 0, UINT64_MAX);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("expected a size in bytes with an optional K, M, G or T suffix");
  }
  if (n > UINT64_MAX / mul) throw std::invalid_argument("expected a size that fits in 64 bits");
  return n * mul;
}

std::string format_size(uint64_t b) {
  const char* suffix[] = {"", "K", "M", "G", "T"};
  int i = 0;
  while (i < 4 && b != 0 && (b % 1024) == 0) {
    b /= 1024;
    ++i;
  }
  return std::to_string(b) + suffix[i];
}

void ConfigSchema::add_custom(const std::string& name, const std::string& unit,
                              const std::string& desc, std::function<void(const std::string&)> set,
                              std::function<std::string()> get, int phase) {
  if (index_.count(name)) throw std::logic_error("duplicate config key " + name);
  index_[name] = keys_.size();
  keys_.push_back(Key{name, unit, desc, std::move(set), std::move(get), phase});
}

void ConfigSchema::add_u64(const std::string& name, uint64_t* f, const std::string& unit,
                           const std::string& desc, uint64_t min, uint64_t max) {
  add_custom(
      name, unit, desc, [f, min, max](const std::string& v) { *f = parse_u64_in(v, min, max); },
      [f] { return std::to_string(*f); });
}

void ConfigSchema::add_u32(const std::string& name, uint32_t* f, const std::string& unit,
                           const std::string& desc, uint32_t min, uint32_t max) {
  add_custom(
      name, unit, desc,
      [f, min, max](const std::string& v) {
        *f = static_cast<uint32_t>(parse_u64_in(v, min, max));
      },
      [f] { return std::to_string(*f); });
}

void ConfigSchema::add_unsigned(const std::string& name, unsigned* f, const std::string& unit,
                                const std::string& desc, unsigned min, unsigned max) {
  add_custom(
      name, unit, desc,
      [f, min, max](const std::string& v) {
        *f = static_cast<unsigned>(parse_u64_in(v, min, max));
      },
      [f] { return std::to_string(*f); });
}

void ConfigSchema::add_bool(const std::string& name, bool* f, const std::string& desc) {
  add_custom(
      name, "bool", desc,
      [f](const std::string& v) {
        const std::optional<bool> b = parse_bool(trim(v));
        if (!b) throw std::invalid_argument("expected " + std::string(kBoolExpected));
        *f = *b;
      },
      [f] { return std::string(*f ? "true" : "false"); });
}

void ConfigSchema::add_double(const std::string& name, double* f, const std::string& unit,
                              const std::string& desc, double min, double max) {
  add_custom(
      name, unit, desc,
      [f, min, max](const std::string& v) {
        std::string s = trim(v);
        char* end = nullptr;
        double x = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !(x >= min && x <= max)) {
          std::ostringstream o;
          o << "expected a number in [" << min << ", " << max << "]";
          throw std::invalid_argument(o.str());
        }
        *f = x;
      },
      [f] {
        std::ostringstream o;
        o << *f;
        return o.str();
      });
}

void ConfigSchema::add_string(const std::string& name, std::string* f, const std::string& desc) {
  add_custom(
      name, "text", desc, [f](const std::string& v) { *f = trim(v); }, [f] { return *f; });
}

void ConfigSchema::add_cycles(const std::string& name, Cycles* f, const std::string& desc) {
  add_custom(
      name, "cycles", desc,
      [f](const std::string& v) {
        uint64_t x = 0;
        try {
          x = parse_size(v);  // plain integers; suffixes are harmless
        } catch (const std::invalid_argument&) {
          throw std::invalid_argument("expected a number of cycles");
        }
        *f = Cycles(x);
      },
      [f] { return std::to_string(f->count()); });
}

void ConfigSchema::add_size(const std::string& name, uint64_t* f, const std::string& desc) {
  add_custom(
      name, "bytes", desc, [f](const std::string& v) { *f = parse_size(v); },
      [f] { return format_size(*f); });
}

const ConfigSchema::Key* ConfigSchema::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &keys_[it->second];
}

po::options_description ConfigSchema::options() const {
  po::options_description d("Model parameters (also settable in INI files; [a.b] c = v is a.b.c)");
  for (const Key& k : keys_) {
    std::string desc = k.description;
    if (!k.unit.empty()) desc += " [" + k.unit + "]";
    d.add_options()(k.name.c_str(),
                    po::value<std::string>()->value_name("V")->default_value(k.get()),
                    desc.c_str());
  }
  return d;
}

std::string ConfigSchema::to_ini() const {
  std::map<std::string, std::vector<const Key*>> sections;
  for (const Key& k : keys_) {
    size_t dot = k.name.rfind('.');
    sections[dot == std::string::npos ? "" : k.name.substr(0, dot)].push_back(&k);
  }
  std::ostringstream o;
  o << "# Resolved mmusim configuration: every key with the value this run used.\n"
       "# Runnable as is: mmusim --config config.ini --trace TRACE\n";
  for (const auto& [sec, ks] : sections) {
    o << "\n[" << sec << "]\n";
    for (const Key* k : ks) {
      size_t dot = k->name.rfind('.');
      o << k->name.substr(dot + 1) << " = " << k->get() << "\n";
    }
  }
  return o.str();
}

std::string visible(const std::string& text) {
  std::string o;
  o.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      o += c;
    } else {
      static const char* const kDigits = "0123456789abcdef";
      o += "\\x";
      o += kDigits[u >> 4];
      o += kDigits[u & 15];
    }
  }
  return o;
}

void read_ini(const std::string& path, const ConfigSchema& schema, ConfigValues& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": is a directory, expected an INI config file");
  }
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    throw InputError(path + ": cannot open config file" +
                     (err != 0 ? std::string(" (") + std::strerror(err) + ")" : std::string()));
  }
  std::string line, section;
  std::map<std::string, std::string> seen;  // key -> "path:line" in this file
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    // A UTF-8 byte-order mark (as some editors write) before the first line.
    if (n == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    std::string where = path + ":" + std::to_string(n);
    size_t hash = line.find_first_of("#;");
    if (hash != std::string::npos) line.erase(hash);
    std::string s = trim(line);
    if (s.empty()) continue;
    if (s.front() == '[') {
      if (s.back() != ']' || s.size() < 3) {
        throw InputError(where + ": expected a section header like [tlb.l1d], got '" + visible(s) +
                         "'");
      }
      section = trim(s.substr(1, s.size() - 2));
      continue;
    }
    size_t eq = s.find('=');
    if (eq == std::string::npos) {
      throw InputError(where + ": expected 'key = value', got '" + visible(s) + "'");
    }
    std::string key = trim(s.substr(0, eq)), value = trim(s.substr(eq + 1));
    if (key.empty()) throw InputError(where + ": expected a key before '='");
    std::string full = section.empty() ? key : section + "." + key;
    if (!schema.find(full)) {
      throw InputError(where + ": unknown key '" + visible(full) +
                       "' (see mmusim --help for every key)");
    }
    const auto [it, fresh] = seen.emplace(full, where);
    if (!fresh) {
      throw InputError(where + ": " + full + " is set a second time (first at " + it->second +
                       "); a key may appear once per file");
    }
    out[full] = ConfigValue{value, where};
  }
  if (in.bad()) {
    throw InputError(path + ":" + std::to_string(n + 1) + ": cannot read config file (" +
                     std::strerror(errno) + ")");
  }
}

void apply_values(const ConfigSchema& schema, const ConfigValues& values) {
  for (int phase = 0; phase < 2; ++phase) {
    for (const auto& [key, cv] : values) {
      const ConfigSchema::Key* k = schema.find(key);
      if (!k) throw InputError(cv.origin + ": unknown key '" + key + "'");
      if (k->phase != phase) continue;
      try {
        k->set(cv.value);
      } catch (const std::invalid_argument& e) {
        throw InputError(cv.origin + ": " + key + ": " + e.what() + ", got '" + cv.value + "'");
      }
    }
  }
}

InputError with_origins(const InputError& e, const ConfigSchema& schema,
                        const ConfigValues& values) {
  const std::string msg = e.what();
  if (e.keys().empty()) {
    // One key: the message starts with it.
    const size_t colon = msg.find(':');
    auto it = colon == std::string::npos ? values.end() : values.find(msg.substr(0, colon));
    if (it != values.end()) return InputError(it->second.origin + ": " + msg);
    return e;
  }
  std::string where;
  for (const std::string& key : e.keys()) {
    where += where.empty() ? " [" : ", ";
    if (auto it = values.find(key); it != values.end()) {
      where += key + " = " + visible(it->second.value) + " (" + it->second.origin + ")";
    } else if (const ConfigSchema::Key* k = schema.find(key)) {
      where += key + " = " + visible(k->get()) + " (default)";
    } else {
      where += key;
    }
  }
  return InputError(msg + where + "]", e.keys());
}

void refuse_placeholder_words(int argc, const char* const argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    for (size_t open = w.find('%'); open != std::string::npos; open = w.find('%', open + 1)) {
      size_t j = open + 1;
      while (j < w.size() && ((w[j] >= 'a' && w[j] <= 'z') || w[j] == '_')) ++j;
      if (j > open + 1 && j < w.size() && w[j] == '%') {
        throw InputError("command line: '" + visible(w) + "': the sequence '" +
                         w.substr(open, j + 1 - open) +
                         "' is not accepted in an option or value (it is a placeholder of the "
                         "option parser's messages)");
      }
    }
  }
}

CommandLine parse_command_line(int argc, const char* const argv[],
                               const po::options_description& options, const ConfigSchema& schema,
                               const std::string& program) {
  const std::string help = " (see " + program + " --help)";
  refuse_placeholder_words(argc, argv);
  CommandLine cl;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    // "--NAME=" with nothing after '=' (Boost would refuse it unclearly).
    if (w.size() > 3 && w.compare(0, 2, "--") == 0 && w.find('=') == w.size() - 1) {
      const std::string name = w.substr(2, w.size() - 3);
      if (schema.find(name)) {
        if (!cl.values.emplace(name, ConfigValue{"", "command line"}).second) {
          throw InputError("command line: --" + name + " is given more than once");
        }
        continue;
      }
      if (const po::option_description* o = options.find_nothrow(name, false)) {
        throw InputError("command line: " + w + " has an empty value; --" + name +
                         " expects: " + o->description() + help);
      }
    }
    words.push_back(w);
  }
  po::parsed_options parsed(&options);
  try {
    // No abbreviations: "--sim.q=0" must not silently mean sim.quantum.
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(words).options(options).style(style).run();
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what() + help);
  }
  for (const po::option& o : parsed.options) {
    const std::string word = o.original_tokens.empty() ? "" : o.original_tokens.back();
    if (o.string_key.empty() || o.position_key >= 0) {
      throw InputError("command line: unexpected word '" + visible(word) +
                       "': every option starts with -- (give each config file its own "
                       "--config; see " +
                       program + " --help)");
    }
    // "--out --trace x": Boost takes "--trace" as the value of --out.
    if (o.original_tokens.size() == 2 && word.compare(0, 2, "--") == 0) {
      throw InputError("command line: --" + o.string_key +
                       " expects a value, but the next word is '" + visible(word) + "' (write --" +
                       o.string_key + "=VALUE)");
    }
  }
  try {
    po::store(parsed, cl.vm);
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what() + help);
  }
  for (const auto& k : schema.keys()) {
    if (cl.vm.count(k.name) && !cl.vm[k.name].defaulted()) {
      if (cl.values.count(k.name)) {
        throw InputError("command line: --" + k.name + " is given more than once");
      }
      cl.values[k.name] = ConfigValue{cl.vm[k.name].as<std::string>(), "command line"};
    }
  }
  return cl;
}

}  // namespace mmusim
