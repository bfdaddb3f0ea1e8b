#include "longhaul/soak/flag_table.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"

namespace longhaul::soak {
namespace {
absl::Status Bad(absl::string_view flag, absl::string_view value, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not ", expected));
}
}  // namespace

void FlagTable::Value(std::string name, ValueSetter set) {
  flags_.push_back(Flag{std::move(name), true, std::move(set), nullptr});
}

void FlagTable::Switch(std::string name, std::function<void()> set) {
  flags_.push_back(Flag{std::move(name), false, nullptr, std::move(set)});
}

absl::Status FlagTable::Parse(const std::vector<std::string>& args) const {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    absl::string_view name = arg;
    std::optional<absl::string_view> inline_value;
    if (size_t eq = arg.find('='); absl::StartsWith(arg, "--") && eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags_)
      if (f.name == name) flag = &f;
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option '", arg, "' (see --help)"));
    if (!flag->takes_value) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(name, ": takes no value"));
      flag->set_switch();
      continue;
    }
    absl::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(name, ": missing value"));
    }
    if (absl::Status s = flag->set_value(name, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag, absl::string_view value, int64_t min) {
  int64_t out;
  if (!absl::SimpleAtoi(value, &out) || out < min) return Bad(flag, value, absl::StrCat("an integer >= ", min));
  return out;
}

absl::StatusOr<double> ParseRatioFlag(absl::string_view flag, absl::string_view value) {
  double out;
  if (!absl::SimpleAtod(value, &out) || !(out >= 0 && out <= 1)) return Bad(flag, value, "a ratio in [0, 1]");
  return out;
}

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view flag, absl::string_view value) {
  int64_t seconds;
  if (absl::SimpleAtoi(value, &seconds) && seconds >= 0) return absl::Seconds(seconds);
  absl::Duration d;
  if (!absl::ParseDuration(value, &d) || d < absl::ZeroDuration() || d == absl::InfiniteDuration())
    return Bad(flag, value, "a duration such as 30s, 5m or 1h30m");
  return d;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValueFlag(absl::string_view flag, absl::string_view value) {
  size_t eq = value.find('=');
  if (eq == 0 || eq == absl::string_view::npos) return Bad(flag, value, "key=value");
  return std::pair<std::string, std::string>(value.substr(0, eq), value.substr(eq + 1));
}

FlagTable::ValueSetter StringInto(std::string* target) {
  return [target](absl::string_view, absl::string_view value) {
    *target = std::string(value);
    return absl::OkStatus();
  };
}

FlagTable::ValueSetter RatioInto(double* target) {
  return [target](absl::string_view flag, absl::string_view value) -> absl::Status {
    absl::StatusOr<double> parsed = ParseRatioFlag(flag, value);
    if (!parsed.ok()) return parsed.status();
    *target = *parsed;
    return absl::OkStatus();
  };
}

FlagTable::ValueSetter DurationInto(absl::Duration* target) {
  return [target](absl::string_view flag, absl::string_view value) -> absl::Status {
    absl::StatusOr<absl::Duration> parsed = ParseDurationFlag(flag, value);
    if (!parsed.ok()) return parsed.status();
    *target = *parsed;
    return absl::OkStatus();
  };
}

FlagTable::ValueSetter KeyValueInto(std::vector<std::pair<std::string, std::string>>* target) {
  return [target](absl::string_view flag, absl::string_view value) -> absl::Status {
    auto parsed = ParseKeyValueFlag(flag, value);
    if (!parsed.ok()) return parsed.status();
    target->push_back(*std::move(parsed));
    return absl::OkStatus();
  };
}

}  // namespace longhaul::soak
