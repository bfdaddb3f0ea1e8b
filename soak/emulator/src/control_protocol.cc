#include "longhaul/soak/control_protocol.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace longhaul::soak {

absl::StatusOr<ControlCommand> ParseControlCommand(std::string_view line) {
  std::vector<std::string> words = absl::StrSplit(std::string(line), absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  auto usage = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(why), " (commands: status | profile NAME|PATH | cut [DURATION] | restore)"));
  };
  if (words.empty()) return usage("empty command");
  ControlCommand c;
  const std::string& verb = words[0];
  if (verb == "status" && words.size() == 1) {
    c.kind = ControlCommand::Kind::kStatus;
  } else if (verb == "restore" && words.size() == 1) {
    c.kind = ControlCommand::Kind::kRestore;
  } else if (verb == "profile" && words.size() == 2) {
    c.kind = ControlCommand::Kind::kProfile;
    c.profile = words[1];
  } else if (verb == "cut" && words.size() <= 2) {
    c.kind = ControlCommand::Kind::kCut;
    if (words.size() == 2) {
      absl::Duration d;
      int64_t secs;
      if (absl::SimpleAtoi(words[1], &secs) && secs > 0) {
        d = absl::Seconds(secs);
      } else if (!absl::ParseDuration(words[1], &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
        return usage(absl::StrCat("cut: '", words[1], "' is not a duration such as 20s"));
      }
      c.duration = absl::ToChronoNanoseconds(d);
    }
  } else {
    return usage(absl::StrCat("unknown command '", std::string(line), "'"));
  }
  return c;
}

std::string ApplyControlCommand(const ControlCommand& c, LinkModel& model, SteadyTime now) {
  switch (c.kind) {
    case ControlCommand::Kind::kStatus:
      return absl::StrCat("ok ", model.StatusLine(now));
    case ControlCommand::Kind::kProfile: {
      absl::StatusOr<LinkProfile> p = LoadLinkProfile(c.profile);
      if (!p.ok()) return absl::StrCat("error: ", std::string(p.status().message()));
      model.SetProfile(*std::move(p), now);
      return absl::StrCat("ok profile=", model.profile().name);
    }
    case ControlCommand::Kind::kCut:
      model.Cut(now, c.duration);
      return absl::StrCat("ok link cut ", c.duration ? absl::StrCat("for ", FormatNanos(*c.duration)) : "until restore");
    case ControlCommand::Kind::kRestore:
      model.Restore();
      return "ok link restored";
  }
  return "error: unhandled command";
}

std::string HandleControlLine(std::string_view line, LinkModel& model, SteadyTime now) {
  absl::StatusOr<ControlCommand> c = ParseControlCommand(line);
  if (!c.ok()) return absl::StrCat("error: ", std::string(c.status().message()));
  return ApplyControlCommand(*c, model, now);
}

}  // namespace longhaul::soak
