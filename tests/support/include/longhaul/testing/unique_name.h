// Names for topics, groups and transactional ids that no other test (or
// another run against the same shared brokers) uses.
#pragma once

#include <string>
#include <string_view>

namespace longhaul::testing {

// Returns "<prefix>-<pid>-<random>-<counter>", unique within this process and
// across processes. Characters Kafka does not allow in topic names are
// replaced by '_'. Thread-safe.
std::string UniqueName(std::string_view prefix);

}  // namespace longhaul::testing
