// Always-on invariant checks for our own logic. Input from the network or a
// config file is never CHECKed: it gets an absl::Status naming what was wrong.
#pragma once

namespace longhaul::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace longhaul::internal

#define LH_CHECK(condition)                                             \
  do {                                                                  \
    if (!(condition)) [[unlikely]]                                      \
      ::longhaul::internal::CheckFailed(__FILE__, __LINE__, #condition); \
  } while (false)
