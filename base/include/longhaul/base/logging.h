// Structured logging: one line per event, as text or JSON lines, with
// pipeline/topic/partition fields. Secrets never reach here: callers log
// names, not property values (config::RedactedProperties exists for that).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace longhaul {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, long v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
};

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
bool ParseLogLevel(std::string_view text, LogLevel* level);
bool LogEnabled(LogLevel level);

// Thread-safe; writes to stderr.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void LogDebug(std::string_view msg, std::initializer_list<LogField> f = {}) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, msg, f);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, msg, f); }
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, msg, f); }
inline void LogError(std::string_view msg, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, msg, f); }

// JSON string escaping, shared by the logger and the HTTP status API.
void AppendJsonEscaped(std::string* out, std::string_view text);

}  // namespace longhaul
