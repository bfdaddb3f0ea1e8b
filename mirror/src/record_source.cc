#include "record_source.h"

#include "absl/strings/cord.h"

namespace longhaul::mirror {
namespace {
constexpr absl::string_view kRestartPayload = "longhaul.dev/lane-session-restart";
}  // namespace

absl::Status SessionRestartStatus(const std::string& why) {
  absl::Status s = absl::AbortedError(why);
  s.SetPayload(kRestartPayload, absl::Cord("1"));
  return s;
}

bool IsSessionRestart(const absl::Status& status) { return status.GetPayload(kRestartPayload).has_value(); }

}  // namespace longhaul::mirror
