#include "longhaul/config/units.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace longhaul::config {
namespace {

struct Unit {
  absl::string_view name;
  int64_t factor;
};

// Largest first, for formatting.
constexpr std::array<Unit, 5> kDurationUnits = {{
    {"d", int64_t{86'400'000}},
    {"h", int64_t{3'600'000}},
    {"m", int64_t{60'000}},
    {"s", int64_t{1'000}},
    {"ms", int64_t{1}},
}};

constexpr std::array<Unit, 5> kByteUnits = {{
    {"TiB", int64_t{1} << 40},
    {"GiB", int64_t{1} << 30},
    {"MiB", int64_t{1} << 20},
    {"KiB", int64_t{1} << 10},
    {"B", int64_t{1}},
}};

// Link rates, decimal as network rates are quoted ("2Mbit" = 2,000,000
// bits per second).
constexpr std::array<Unit, 5> kBitRateUnits = {{
    {"Tbit", int64_t{1'000'000'000'000}},
    {"Gbit", int64_t{1'000'000'000}},
    {"Mbit", int64_t{1'000'000}},
    {"kbit", int64_t{1'000}},
    {"bit", int64_t{1}},
}};

// Splits "<digits><unit>" and scales the number. `what` names the kind of
// value for messages; no message repeats the input.
absl::StatusOr<int64_t> ParseScaled(absl::string_view text, absl::string_view what,
                                    const std::array<Unit, 5>& units, bool unit_required,
                                    absl::string_view unit_list) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat("empty ", what));
  if (text.front() == '-') {
    return absl::InvalidArgumentError(absl::StrCat(what, " cannot be negative"));
  }
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must start with a whole number"));
  }
  absl::string_view unit = text.substr(digits);
  if (!unit.empty() && (unit.front() == '.' || unit.front() == ',')) {
    return absl::InvalidArgumentError("fractions are not supported; use a smaller unit");
  }
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || number > uint64_t{std::numeric_limits<int64_t>::max()}) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is too large"));
  }
  int64_t factor = 0;
  if (unit.empty()) {
    if (unit_required) {
      return absl::InvalidArgumentError(absl::StrCat("missing unit; use ", unit_list));
    }
    factor = 1;
  } else {
    for (const Unit& u : units) {
      if (u.name == unit) factor = u.factor;
    }
    if (factor == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown unit; use ", unit_list));
    }
  }
  const auto value = static_cast<int64_t>(number);
  if (value > std::numeric_limits<int64_t>::max() / factor) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is too large"));
  }
  return value * factor;
}

// `plain_base`: write the base unit's count without a suffix ("512", not
// "512B"), as byte sizes are usually written.
std::string FormatScaled(int64_t value, const std::array<Unit, 5>& units, bool plain_base) {
  // Negative values only come from arithmetic, never from parsing; keep the
  // sign and format the magnitude (via uint64: int64 min cannot be negated).
  const bool negative = value < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const Unit* unit = &units.back();
  if (magnitude != 0) {
    for (const Unit& u : units) {
      if (magnitude % static_cast<uint64_t>(u.factor) == 0) {
        unit = &u;
        break;
      }
    }
  }
  const bool base = unit->factor == 1;
  return absl::StrCat(negative ? "-" : "", magnitude / static_cast<uint64_t>(unit->factor),
                      base && plain_base ? "" : unit->name);
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  absl::StatusOr<int64_t> ms =
      ParseScaled(absl::string_view(text.data(), text.size()), "duration", kDurationUnits, /*unit_required=*/true, "ms, s, m, h or d");
  if (!ms.ok()) return ms.status();
  return std::chrono::milliseconds(*ms);
}

absl::StatusOr<int64_t> ParseByteSize(std::string_view text) {
  return ParseScaled(absl::string_view(text.data(), text.size()), "size", kByteUnits, /*unit_required=*/false,
                     "B, KiB, MiB, GiB or TiB");
}

absl::StatusOr<int64_t> ParseBitRate(std::string_view text) {
  absl::string_view t(text.data(), text.size());
  if (absl::EndsWith(t, "/s")) t.remove_suffix(2);
  return ParseScaled(t, "rate", kBitRateUnits, /*unit_required=*/true, "bit, kbit, Mbit or Gbit (per second)");
}

std::string FormatBitRate(int64_t bits_per_second) {
  return absl::StrCat(FormatScaled(bits_per_second, kBitRateUnits, /*plain_base=*/false), "/s");
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  return FormatScaled(duration.count(), kDurationUnits, /*plain_base=*/false);
}

std::string FormatByteSize(int64_t bytes) {
  return FormatScaled(bytes, kByteUnits, /*plain_base=*/true);
}

}  // namespace longhaul::config
