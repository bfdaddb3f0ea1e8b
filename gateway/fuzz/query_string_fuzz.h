// The fuzz body for the admin API's query-string decoder (query_string.h),
// shared by the libFuzzer entry and a g++ unit test: never crashes, and a
// value it returns decodes from its own encoding to itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "longhaul/base/check.h"
#include "query_string.h"

namespace longhaul::gateway::fuzz {

inline std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Returns 1 when the query had a usable "pipeline" parameter.
inline int FuzzQueryString(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  auto component = DecodeQueryComponent(query);
  if (component.ok()) LH_CHECK(component->size() <= query.size());
  auto value = QueryParameter(query, "pipeline");
  if (!value.ok()) return 0;
  LH_CHECK(!value->empty());
  auto again = QueryParameter(absl::StrCat("pipeline=", PercentEncode(*value)), "pipeline");
  LH_CHECK(again.ok() && *again == *value);
  return 1;
}

}  // namespace longhaul::gateway::fuzz
