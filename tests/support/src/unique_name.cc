#include "longhaul/testing/unique_name.h"

#include <unistd.h>

#include <atomic>
#include <random>

#include "absl/strings/str_cat.h"

namespace longhaul::testing {

std::string UniqueName(std::string_view prefix) {
  // The random part tells apart processes that reuse a pid while the shared
  // brokers live; the counter tells apart names within one process.
  static const uint32_t process_nonce = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  std::string name;
  name.reserve(prefix.size());
  for (char c : prefix.substr(0, 180)) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '.' || c == '_' || c == '-';
    name.push_back(allowed ? c : '_');
  }
  absl::StrAppend(&name, "-", getpid(), "-", absl::Hex(process_nonce & 0xffffff), "-",
                  counter.fetch_add(1) + 1);
  return name;
}

}  // namespace longhaul::testing
