// Pieces every subcommand's argument parsing shares: option values given as
// "--name VALUE" or "--name=VALUE", the logging options, and the plain
// column tables the commands print.
#pragma once

#include <string>
#include <vector>

namespace longhaul::gateway {

// True when args[i] is option `name` (or `short_name`, may be empty), in
// either form.
bool IsOption(const std::string& arg, const char* name, const char* short_name = "");

// The value of the option at args[*i]: after '=' in "--name=VALUE", else the
// next argument (then *i advances). False when it is missing.
bool OptionValue(const std::vector<std::string>& args, size_t* i, std::string* out);

enum class LogOptionResult { kNotALogOption, kApplied, kError };

// --log-format text|json and --log-level LEVEL at args[*i]: applies them
// (SetLogFormat / SetLogLevel). *error names the problem on kError.
LogOptionResult ApplyLogOption(const std::vector<std::string>& args, size_t* i, std::string* error);

// Left-aligned columns, two spaces apart, one line per row.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace longhaul::gateway
