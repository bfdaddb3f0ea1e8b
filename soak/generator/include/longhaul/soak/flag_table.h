// A small command-line parser shared by the soak tools: repeatable flags,
// "--flag value" and "--flag=value", and errors that name the flag and what
// was expected (absl flags keeps only the last value of a repeated flag).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace longhaul::soak {

class FlagTable {
 public:
  using ValueSetter = std::function<absl::Status(absl::string_view flag, absl::string_view value)>;

  // A flag that takes a value; `set` is called once per occurrence.
  void Value(std::string name, ValueSetter set);
  // A flag without a value.
  void Switch(std::string name, std::function<void()> set);

  // Parses argv[1..]; positional arguments are rejected.
  absl::Status Parse(const std::vector<std::string>& args) const;

 private:
  struct Flag {
    std::string name;
    bool takes_value;
    ValueSetter set_value;
    std::function<void()> set_switch;
  };
  std::vector<Flag> flags_;
};

absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag, absl::string_view value, int64_t min);
absl::StatusOr<double> ParseRatioFlag(absl::string_view flag, absl::string_view value);
// "30s", "5m", "1h30m", or a plain number of seconds.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view flag, absl::string_view value);
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValueFlag(absl::string_view flag, absl::string_view value);

// Setters for the common cases.
FlagTable::ValueSetter StringInto(std::string* target);
FlagTable::ValueSetter RatioInto(double* target);
FlagTable::ValueSetter DurationInto(absl::Duration* target);
FlagTable::ValueSetter KeyValueInto(std::vector<std::pair<std::string, std::string>>* target);
template <typename T>
FlagTable::ValueSetter IntInto(T* target, int64_t min) {
  return [target, min](absl::string_view flag, absl::string_view value) -> absl::Status {
    absl::StatusOr<int64_t> parsed = ParseIntFlag(flag, value, min);
    if (!parsed.ok()) return parsed.status();
    *target = static_cast<T>(*parsed);
    return absl::OkStatus();
  };
}

}  // namespace longhaul::soak
