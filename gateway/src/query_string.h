// Private to longhaul_gateway: the admin API's query-string decoding
// (application/x-www-form-urlencoded), pure and fuzzed
// (gateway/fuzz/query_string_fuzz_main.cc). Query strings come from whoever
// can reach the admin port: errors name the parameter, never crash.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace longhaul::gateway {

// One query component: '+' is a space, %XX a byte. InvalidArgument on a
// bad or truncated percent-encoding.
absl::StatusOr<std::string> DecodeQueryComponent(std::string_view in);

// The value of query parameter `name` ("a=1&b=2"); InvalidArgument naming
// it when it is missing, empty, given twice or badly encoded.
absl::StatusOr<std::string> QueryParameter(std::string_view query, std::string_view name);

}  // namespace longhaul::gateway
