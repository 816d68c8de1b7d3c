#include "models/common/config_schema.h"

#include <boost/program_options/value_semantic.hpp>
#include <cstdlib>
#include <fstream>
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
        std::string s = trim(v);
        if (s == "true" || s == "1" || s == "yes" || s == "on") {
          *f = true;
        } else if (s == "false" || s == "0" || s == "no" || s == "off") {
          *f = false;
        } else {
          throw std::invalid_argument("expected true or false");
        }
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

void read_ini(const std::string& path, const ConfigSchema& schema, ConfigValues& out) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open config file");
  std::string line, section;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string where = path + ":" + std::to_string(n);
    size_t hash = line.find_first_of("#;");
    if (hash != std::string::npos) line.erase(hash);
    std::string s = trim(line);
    if (s.empty()) continue;
    if (s.front() == '[') {
      if (s.back() != ']' || s.size() < 3) {
        throw InputError(where + ": expected a section header like [tlb.l1d], got '" + s + "'");
      }
      section = trim(s.substr(1, s.size() - 2));
      continue;
    }
    size_t eq = s.find('=');
    if (eq == std::string::npos) {
      throw InputError(where + ": expected 'key = value', got '" + s + "'");
    }
    std::string key = trim(s.substr(0, eq)), value = trim(s.substr(eq + 1));
    if (key.empty()) throw InputError(where + ": expected a key before '='");
    std::string full = section.empty() ? key : section + "." + key;
    if (!schema.find(full)) {
      throw InputError(where + ": unknown key '" + full + "' (see mmusim --help for every key)");
    }
    out[full] = ConfigValue{value, where};
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

}  // namespace mmusim
