// Typed, error-collecting reads from a yaml-cpp node tree. Every read that
// fails records `FILE:LINE:COL: KEY.PATH: message` and returns nullopt, so
// the schema walk in parse_config.cc goes on and reports every problem in
// one pass. Private to the config library; yaml-cpp stays in here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// GCC 12 reports a false -Wdangling-pointer inside yaml-cpp 0.7's inline
// Node accessors wherever they are inlined; it is about yaml-cpp's code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop
#else
#include <yaml-cpp/yaml.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "longhaul/config/config.h"

namespace longhaul::config::internal {

// 1-based; line 0 means unknown.
struct Location {
  int line = 0;
  int column = 0;
};

Location ToLocation(const YAML::Mark& mark);

// A node reached through a map key or a list index.
struct Field {
  std::string key;   // the map key; empty for list entries and the root
  std::string path;  // "pipelines.orders.lanes", "pipelines.orders.topics.include[1]"
  YAML::Node node;
  Location key_location;  // where "required key is missing" errors point
  Location location;      // the value; the key when the value is empty
};

// A scalar value after ${...} expansion.
struct Text {
  std::string value;
  bool expanded = false;

  // How errors show the value: quoted, unless it came from ${...}.
  std::string Shown() const;
};

// The children of a map with a fixed set of keys.
class Section {
 public:
  const Field* Get(absl::string_view key) const;

 private:
  friend class Reader;
  std::map<std::string, Field, std::less<>> fields_;
};

// Levenshtein distance, for "did you mean" hints.
int EditDistance(absl::string_view a, absl::string_view b);

class Reader {
 public:
  Reader(absl::string_view file, EnvLookup env);

  // The document root; an empty document reads as an empty map.
  Field Root(const YAML::Node& node) const;

  void Error(Location where, absl::string_view path, absl::string_view message);
  void Error(const Field& field, absl::string_view message) {
    Error(field.location, field.path, message);
  }
  // "expected <expected>, got <shown>" plus an optional "(reason)"; the
  // reason is dropped for expanded values, as it may describe them.
  void Invalid(const Field& field, const Text& text, absl::string_view expected,
               absl::string_view reason = {});

  // Something valid but unwise (certificate checks turned off): reported by
  // `longhaul validate` and logged at start, never an error.
  void Warning(const Field& field, absl::string_view message);

  // InvalidArgument with one line per error, sorted by line; OK if none.
  absl::Status Finish() const;
  // The warnings, formatted and sorted like errors.
  std::vector<std::string> Warnings() const;

  // The entries of a map in file order: for maps keyed by names the user
  // chooses (clusters, pipelines, properties). An empty value reads as an
  // empty map. Reports a value that is not a map, keys that are not
  // strings, and duplicate keys (the first one wins).
  std::vector<Field> Entries(const Field& map, absl::string_view expected);

  // A map with a fixed set of keys: as Entries, and reports unknown keys,
  // suggesting a known key within edit distance 2.
  Section Keys(const Field& map, std::initializer_list<absl::string_view> known);

  // The entry for `key`, or an error at the parent's key when it is absent.
  std::optional<Field> Require(const Section& section, const Field& parent, absl::string_view key,
                               absl::string_view expected);

  // The entries of a list; an empty value reads as an empty list. Reports
  // (and returns nullopt for) a value that is not a list.
  std::optional<std::vector<Field>> List(const Field& list, absl::string_view expected);

  // A scalar, with ${...} expanded. Reports maps, lists, empty values and
  // expansion errors.
  std::optional<Text> Scalar(const Field& field, absl::string_view expected);

  std::optional<int64_t> Integer(const Field& field, int64_t min, int64_t max);
  std::optional<bool> Bool(const Field& field);
  std::optional<std::chrono::milliseconds> Duration(const Field& field,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max);
  std::optional<int64_t> ByteSize(const Field& field, int64_t min, int64_t max);
  // A rate in bits per second ("2Mbit"), or 0 written as "0" when
  // `allow_zero` (meaning: none).
  std::optional<int64_t> BitRate(const Field& field, int64_t min, int64_t max, bool allow_zero);

  // One of a fixed set of spellings.
  template <typename T>
  std::optional<T> Choice(const Field& field,
                          std::initializer_list<std::pair<absl::string_view, T>> choices) {
    std::vector<absl::string_view> names;
    for (const auto& choice : choices) names.push_back(choice.first);
    const std::string expected = absl::StrJoin(names, " or ");
    std::optional<Text> text = Scalar(field, expected);
    if (!text) return std::nullopt;
    for (const auto& [name, value] : choices) {
      if (text->value == name) return value;
    }
    Invalid(field, *text, expected);
    return std::nullopt;
  }

 private:
  struct Diagnostic {
    Location where;
    std::string text;
  };
  std::string file_;
  EnvLookup env_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;

  std::vector<std::string> Format(const std::vector<Diagnostic>& diagnostics) const;
};

}  // namespace longhaul::config::internal
