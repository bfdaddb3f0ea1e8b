#include "longhaul/base/logging.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace longhaul {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::mutex g_write_mutex;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") *level = LogLevel::kDebug;
  else if (text == "info") *level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning") *level = LogLevel::kWarn;
  else if (text == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

void AppendJsonEscaped(std::string* out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(128 + msg.size());
  if (static_cast<LogFormat>(g_format.load()) == LogFormat::kJson) {
    line.append("{\"ts\":\"").append(Timestamp()).append("\",\"level\":\"").append(LevelName(level));
    line.append("\",\"msg\":\"");
    AppendJsonEscaped(&line, msg);
    line.push_back('"');
    for (const auto& f : fields) {
      line.append(",\"");
      AppendJsonEscaped(&line, f.key);
      line.append("\":\"");
      AppendJsonEscaped(&line, f.value);
      line.push_back('"');
    }
    line.append("}\n");
  } else {
    line.append(Timestamp()).append(" ").append(LevelName(level)).append(" ").append(msg);
    for (const auto& f : fields) {
      line.append(" ").append(f.key).append("=");
      bool quote = f.value.find_first_of(" \"=") != std::string::npos || f.value.empty();
      if (quote) line.push_back('"');
      line.append(f.value);
      if (quote) line.push_back('"');
    }
    line.push_back('\n');
  }
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace longhaul
