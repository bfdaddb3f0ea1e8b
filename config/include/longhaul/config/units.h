// Durations ("500ms", "30s", "7d") and byte sizes ("64KiB", "16MiB") as they
// are written in the config file and on the command line. The config loader
// uses these; the CLI uses them for flags, so both accept the same spellings.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace longhaul::config {

// Parses a non-negative integer followed by exactly one unit: ms, s, m, h or
// d ("500ms", "1s", "2m", "1h", "7d"). No fractions, signs, spaces or
// compound forms. Errors are InvalidArgument; the message says what is wrong
// but does not repeat the input (it may be a secret), so callers quote it
// where that is safe.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Parses a non-negative byte count, either plain ("1048576", "512B") or with
// a binary unit: KiB, MiB, GiB, TiB ("64KiB", "16MiB"). Decimal units (KB,
// MB) are rejected rather than guessed. Errors as for ParseDuration.
absl::StatusOr<int64_t> ParseByteSize(std::string_view text);

// Parses a link rate in bits per second: a non-negative integer and a
// decimal unit, bit, kbit, Mbit or Gbit, optionally followed by "/s"
// ("2Mbit", "1500kbit/s"). Errors as for ParseDuration.
absl::StatusOr<int64_t> ParseBitRate(std::string_view text);
// "2Mbit/s".
std::string FormatBitRate(int64_t bits_per_second);

// The inverse of the parsers, choosing the largest unit that is exact:
// FormatDuration(90s) == "90s", FormatByteSize(16 << 20) == "16MiB".
std::string FormatDuration(std::chrono::milliseconds duration);
std::string FormatByteSize(int64_t bytes);

}  // namespace longhaul::config
