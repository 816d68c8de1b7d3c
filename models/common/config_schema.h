// The configuration schema: every key binds to one typed field of a module's
// Config struct, with a unit and a description; the field's initial value is
// the default. The same schema drives the INI reader, the command line
// (Boost.Program_options), --help and the resolved config.ini. Each module
// binds its own keys with an add_keys(ConfigSchema&, ...) declared beside its
// Config struct; the composition root (models/sim) only calls them in turn.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/common/error.h"
#include "models/common/types.h"

namespace mmusim {

class ConfigSchema {
 public:
  struct Key {
    std::string name, unit, description;
    std::function<void(const std::string&)> set;  // throws std::invalid_argument("expected ...")
    std::function<std::string()> get;
    int phase = 1;  // keys of phase 0 (presets) are applied before all others
  };

  void add_u64(const std::string& name, uint64_t* f, const std::string& unit,
               const std::string& desc, uint64_t min = 0, uint64_t max = UINT64_MAX);
  void add_u32(const std::string& name, uint32_t* f, const std::string& unit,
               const std::string& desc, uint32_t min = 0, uint32_t max = UINT32_MAX);
  void add_unsigned(const std::string& name, unsigned* f, const std::string& unit,
                    const std::string& desc, unsigned min = 0, unsigned max = UINT32_MAX);
  void add_bool(const std::string& name, bool* f, const std::string& desc);
  void add_double(const std::string& name, double* f, const std::string& unit,
                  const std::string& desc, double min, double max);
  void add_string(const std::string& name, std::string* f, const std::string& desc);
  // A duration in core cycles, unit "cycles" (a plain integer; a K/M/G/T
  // suffix is accepted as for sizes).
  void add_cycles(const std::string& name, Cycles* f, const std::string& desc);
  // A size in bytes with an optional K/M/G/T suffix, unit "bytes", printed
  // with the largest exact suffix ("8G").
  void add_size(const std::string& name, uint64_t* f, const std::string& desc);
  // A key with custom parse/print (enums, sizes, lists). `set` throws
  // std::invalid_argument whose what() says what was expected.
  void add_custom(const std::string& name, const std::string& unit, const std::string& desc,
                  std::function<void(const std::string&)> set, std::function<std::string()> get,
                  int phase = 1);

  [[nodiscard]] const Key* find(const std::string& name) const;
  [[nodiscard]] const std::vector<Key>& keys() const { return keys_; }
  // Options for Boost.Program_options: every key as --KEY=VALUE (a string,
  // converted by the schema so errors say what was expected).
  [[nodiscard]] boost::program_options::options_description options() const;
  // The resolved configuration as an INI file, one section per key prefix.
  [[nodiscard]] std::string to_ini() const;

 private:
  std::vector<Key> keys_;
  std::map<std::string, size_t> index_;
};

// Where a value came from, for error messages: "configs/x.ini:12" or "command line".
struct ConfigValue {
  std::string value, origin;
};
using ConfigValues = std::map<std::string, ConfigValue>;

// Reads an INI file (sections `[a.b]`, `key = value`, `#`/`;` comments, an
// optional UTF-8 byte-order mark at the start) into `out`, overriding what
// earlier files set. Throws InputError naming the file and line for
// malformed lines, keys the schema does not know and keys given twice in the
// file (also as `a.b.c` and `c` under `[a.b]`: both lines are named), and
// naming the path when it is a directory or cannot be read (with the
// system's reason). Bytes that are not printable ASCII are shown as \xNN.
void read_ini(const std::string& path, const ConfigSchema& schema, ConfigValues& out);
// Applies values to the schema's fields (phase 0 first), turning conversion
// errors into InputError "ORIGIN: KEY: expected ..., got 'V'".
void apply_values(const ConfigSchema& schema, const ConfigValues& values);

// A configuration error with where its keys were set. For a cross-key rule
// (InputError::keys() not empty): "MESSAGE [KEY = VALUE (ORIGIN), ...]" for
// every key, ORIGIN being "FILE:LINE", "command line" or "default" (VALUE as
// written, or the default's text). For any other error whose message starts
// with a key that was set ("KEY: ..."): "ORIGIN: MESSAGE". Else unchanged.
InputError with_origins(const InputError& e, const ConfigSchema& schema,
                        const ConfigValues& values);

// The parsed command line: Boost's variables (every option of `options`) and
// the schema keys it set, with origin "command line".
struct CommandLine {
  boost::program_options::variables_map vm;
  ConfigValues values;
};
// Boost.Program_options fills the %name% placeholders of its error messages
// (%canonical_option%, %value%, ...) until none is left, so a word that
// contains one makes the message of any error about it loop forever. Throws
// InputError "command line: ..." naming the first word of argv[1..argc) that
// holds a %name% sequence (a '%', lower-case letters or '_', a '%'); call it
// before handing the words to Boost.
void refuse_placeholder_words(int argc, const char* const argv[]);
// Parses argv[1..argc) against `options` (which holds schema.options() and
// the program's own options), with no abbreviations. Throws InputError
// "command line: ..." for an unknown option, a word that is neither an option
// nor an option's value (naming the word), an option whose separate value is
// another option ("--out --trace"), and "--OPT=" with nothing after '=' for
// an option that is not a key (naming it and what it takes). "--KEY=" gives
// KEY the empty value, which the key's own parser accepts or refuses.
// `program` names the tool in the messages' "(see PROGRAM --help)".
CommandLine parse_command_line(int argc, const char* const argv[],
                               const boost::program_options::options_description& options,
                               const ConfigSchema& schema, const std::string& program = "mmusim");

// Text with every byte that is not printable ASCII written as \xNN, for
// messages that quote input ("got '\xef\xbb\xbf[sim]'").
std::string visible(const std::string& text);

// Parses sizes with optional K/M/G/T suffix (binary multiples), e.g. "16G".
uint64_t parse_size(const std::string& s);
std::string format_size(uint64_t bytes);

}  // namespace mmusim
