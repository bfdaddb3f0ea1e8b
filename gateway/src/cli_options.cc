#include "cli_options.h"

#include <algorithm>

#include "longhaul/base/logging.h"

namespace longhaul::gateway {

bool IsOption(const std::string& arg, const char* name, const char* short_name) {
  if (arg == name || (short_name[0] != '\0' && arg == short_name)) return true;
  return arg.rfind(std::string(name) + "=", 0) == 0;
}

bool OptionValue(const std::vector<std::string>& args, size_t* i, std::string* out) {
  const std::string& a = args[*i];
  auto eq = a.find('=');
  if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
    *out = a.substr(eq + 1);
    return true;
  }
  if (*i + 1 >= args.size()) return false;
  *out = args[++*i];
  return true;
}

LogOptionResult ApplyLogOption(const std::vector<std::string>& args, size_t* i, std::string* error) {
  const std::string& a = args[*i];
  std::string v;
  if (IsOption(a, "--log-format")) {
    if (!OptionValue(args, i, &v)) {
      *error = "missing value for --log-format";
      return LogOptionResult::kError;
    }
    if (v == "json") SetLogFormat(LogFormat::kJson);
    else if (v == "text") SetLogFormat(LogFormat::kText);
    else {
      *error = "--log-format must be text or json, got '" + v + "'";
      return LogOptionResult::kError;
    }
    return LogOptionResult::kApplied;
  }
  if (IsOption(a, "--log-level")) {
    LogLevel level;
    if (!OptionValue(args, i, &v)) {
      *error = "missing value for --log-level";
      return LogOptionResult::kError;
    }
    if (!ParseLogLevel(v, &level)) {
      *error = "--log-level must be debug, info, warn or error, got '" + v + "'";
      return LogOptionResult::kError;
    }
    SetLogLevel(level);
    return LogOptionResult::kApplied;
  }
  return LogOptionResult::kNotALogOption;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace longhaul::gateway
