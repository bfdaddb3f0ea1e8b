// The control protocol of a running longhaul-linkemu: one text command per
// connection to its Unix socket, one reply line. Used by the soak runner to
// cut the link and switch profiles mid-run, and by `longhaul-linkemu ctl`.
//
//   status                 current profile, link state and counters
//   profile NAME|PATH      switch profile now (scheduled outages restart)
//   cut [DURATION]         take the link down now, for DURATION or until restore
//   restore                end a cut
//
// Replies start with "ok" or "error:".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "longhaul/base/clock.h"
#include "longhaul/soak/link_model.h"

namespace longhaul::soak {

struct ControlCommand {
  enum class Kind { kStatus, kProfile, kCut, kRestore };
  Kind kind = Kind::kStatus;
  std::string profile;            // kProfile: a built-in name or a path
  std::optional<Nanos> duration;  // kCut: nullopt = until restore
};

absl::StatusOr<ControlCommand> ParseControlCommand(std::string_view line);

// Applies the command to the model (loading a profile file if one is named)
// and returns the reply line, without a newline.
std::string ApplyControlCommand(const ControlCommand& command, LinkModel& model, SteadyTime now);

// Parses and applies; a parse error becomes an "error:" reply.
std::string HandleControlLine(std::string_view line, LinkModel& model, SteadyTime now);

}  // namespace longhaul::soak
