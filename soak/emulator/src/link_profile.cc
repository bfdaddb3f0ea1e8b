#include "longhaul/soak/link_profile.h"

#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace longhaul::soak {
namespace {

// Debian's Abseil has its own string_view (docs/architecture.md).
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

using std::chrono::milliseconds;

// Built-in profiles as specs, so that they read like the files users write.
// Loss is per direction. The mobile profile's round trip moves between 80 ms
// and 300 ms: 40 ms each way plus up to 110 ms of jitter each way.
// Queues: BBR's bandwidth probe puts a quarter of the bandwidth-delay product
// into the bottleneck queue every few round trips, so a queue much shallower
// than that tail-drops on every probe. Satellite terminals and mobile
// networks do buffer deeply; the geo queue is half its BDP (300 ms).
struct Builtin {
  const char* name;
  const char* spec;
};
constexpr Builtin kBuiltins[] = {
    {"lan", "description='no impairment: packets are forwarded as they come'"},
    {"ocean", "description='transoceanic fibre' rtt=150ms loss=0.1% rate=100mbit queue=100ms"},
    {"geo-satellite", "description='geostationary satellite' rtt=600ms loss=1% rate=20mbit queue=300ms"},
    {"mobile",
     "description='mobile data: jittery 80-300 ms round trip, a 20 s outage every 3 minutes' "
     "delay=40ms jitter=110ms jitter_period=400ms loss=2% rate=10mbit queue=200ms "
     "outage_every=180s outage_duration=20s outage_first=90s"},
};

// Directions a key applies to.
enum Which { kBoth, kEdgeToHub, kHubToEdge };

struct Pending {
  LinkProfile profile;
  // A queue given as a duration is resolved against the final rate.
  std::optional<Nanos> queue_time[2];
  bool queue_set[2] = {false, false};
};

absl::Status Bad(absl::string_view source, int line, absl::string_view key, absl::string_view value,
                 absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(source), ":", line, ": ", std::string(key), ": '",
                                                 std::string(value), "' is not ", std::string(expected)));
}

std::optional<Nanos> ParseNanos(absl::string_view v) {
  absl::Duration d;
  if (!absl::ParseDuration(std::string(v), &d) || d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return std::nullopt;
  }
  return absl::ToChronoNanoseconds(d);
}

std::optional<double> ParseLoss(absl::string_view v) {
  bool percent = absl::ConsumeSuffix(&v, "%");
  double x;
  if (!absl::SimpleAtod(std::string(v), &x) || std::isnan(x)) return std::nullopt;
  if (percent) x /= 100;
  if (x < 0 || x > 1) return std::nullopt;
  return x;
}

std::optional<int64_t> ParseRate(absl::string_view v) {
  std::string s = absl::AsciiStrToLower(v);
  absl::string_view t = s;
  if (!absl::ConsumeSuffix(&t, "/s")) absl::ConsumeSuffix(&t, "ps");
  absl::ConsumeSuffix(&t, "bit");
  double mult = 1;
  if (absl::ConsumeSuffix(&t, "k")) mult = 1e3;
  else if (absl::ConsumeSuffix(&t, "m")) mult = 1e6;
  else if (absl::ConsumeSuffix(&t, "g")) mult = 1e9;
  double x;
  if (!absl::SimpleAtod(std::string(t), &x) || !(x >= 0) || x * mult > 1e12) return std::nullopt;
  return static_cast<int64_t>(std::llround(x * mult));
}

std::optional<int64_t> ParseBytes(absl::string_view v) {
  std::string s = absl::AsciiStrToLower(v);
  absl::string_view t = s;
  absl::ConsumeSuffix(&t, "b");
  int64_t mult = 1;
  if (absl::ConsumeSuffix(&t, "k")) mult = 1 << 10;
  else if (absl::ConsumeSuffix(&t, "m")) mult = 1 << 20;
  int64_t x;
  if (!absl::SimpleAtoi(t, &x) || x <= 0 || x > (int64_t{1} << 40) / mult) return std::nullopt;
  return x * mult;
}

int64_t BytesAtRate(int64_t rate_bps, Nanos t) {
  return static_cast<int64_t>(static_cast<double>(rate_bps) / 8 * std::chrono::duration<double>(t).count());
}

// Splits into (line, word) pairs; quotes ('...' or "...") may hold blanks.
absl::StatusOr<std::vector<std::pair<int, std::string>>> Words(absl::string_view text, absl::string_view source) {
  std::vector<std::pair<int, std::string>> out;
  int line = 1;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      std::string word;
      char quote = 0;
      const int start_line = line;
      while (i < text.size()) {
        c = text[i];
        if (quote) {
          if (c == quote) quote = 0;
          else word += c;
        } else if (c == '\'' || c == '"') {
          quote = c;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '#') {
          break;
        } else {
          word += c;
        }
        if (c == '\n') ++line;
        ++i;
      }
      if (quote) return absl::InvalidArgumentError(absl::StrCat(std::string(source), ":", start_line, ": unclosed quote"));
      out.emplace_back(start_line, std::move(word));
    }
  }
  return out;
}

absl::Status Apply(Pending& p, absl::string_view source, int line, absl::string_view full_key, absl::string_view value) {
  absl::string_view key = full_key;
  Which which = kBoth;
  if (absl::ConsumePrefix(&key, "edge_to_hub.")) which = kEdgeToHub;
  else if (absl::ConsumePrefix(&key, "hub_to_edge.")) which = kHubToEdge;
  auto dirs = [&](auto&& set) {
    if (which != kHubToEdge) set(p.profile.edge_to_hub, 0);
    if (which != kEdgeToHub) set(p.profile.hub_to_edge, 1);
  };
  const bool per_direction = which != kBoth;
  if (key == "name" && !per_direction) {
    if (value.empty()) return Bad(source, line, full_key, value, "a name");
    p.profile.name = std::string(value);
  } else if (key == "description" && !per_direction) {
    p.profile.description = std::string(value);
  } else if (key == "base" && !per_direction) {
    auto base = BuiltinProfile(std::string_view(value.data(), value.size()));
    if (!base.ok()) return Bad(source, line, full_key, value, "a built-in profile");
    std::string name = p.profile.name;
    p = Pending{};
    p.profile = *base;
    if (!name.empty()) p.profile.name = name;
  } else if (key == "rtt" && !per_direction) {
    auto d = ParseNanos(value);
    if (!d) return Bad(source, line, full_key, value, "a duration such as 150ms");
    p.profile.edge_to_hub.delay = p.profile.hub_to_edge.delay = *d / 2;
  } else if (key == "delay" || key == "jitter") {
    auto d = ParseNanos(value);
    if (!d) return Bad(source, line, full_key, value, "a duration such as 75ms");
    const bool delay = key == "delay";
    dirs([&](DirectionImpairment& dir, int) { (delay ? dir.delay : dir.jitter) = *d; });
  } else if (key == "loss") {
    auto x = ParseLoss(value);
    if (!x) return Bad(source, line, full_key, value, "a loss ratio such as 0.01 or 1%");
    dirs([&](DirectionImpairment& dir, int) { dir.loss = *x; });
  } else if (key == "rate") {
    auto x = ParseRate(value);
    if (!x) return Bad(source, line, full_key, value, "a rate such as 20mbit, 512kbit or 0 (unlimited)");
    dirs([&](DirectionImpairment& dir, int) { dir.rate_bps = *x; });
  } else if (key == "queue") {
    // "1m" is a mebibyte here, not a minute: only ...s suffixes are times.
    if (auto t = absl::EndsWith(value, "s") ? ParseNanos(value) : std::nullopt) {
      dirs([&](DirectionImpairment&, int i) { p.queue_time[i] = *t; p.queue_set[i] = true; });
    } else if (auto b = ParseBytes(value)) {
      dirs([&](DirectionImpairment& dir, int i) { dir.queue_bytes = *b; p.queue_time[i].reset(); p.queue_set[i] = true; });
    } else {
      return Bad(source, line, full_key, value, "a queue size such as 256k, 1m or a time at the rate such as 100ms");
    }
  } else if (!per_direction && (key == "jitter_period" || key == "outage_every" || key == "outage_duration" ||
                                key == "outage_first")) {
    auto d = ParseNanos(value);
    if (!d) return Bad(source, line, full_key, value, "a duration such as 180s");
    if (key == "jitter_period") {
      if (*d < milliseconds(1)) return Bad(source, line, full_key, value, "a duration of at least 1ms");
      p.profile.jitter_period = *d;
    } else if (key == "outage_every") {
      p.profile.outage_every = *d;
    } else if (key == "outage_duration") {
      p.profile.outage_duration = *d;
    } else {
      p.profile.outage_first = *d;
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(source), ":", line, ": unknown key '", std::string(full_key),
        "' (expected name, description, base, rtt, delay, jitter, loss, rate, queue, jitter_period, outage_every, "
        "outage_duration, outage_first; delay/jitter/loss/rate/queue may be prefixed with edge_to_hub. or "
        "hub_to_edge.)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LinkProfile> Finish(Pending p, absl::string_view source) {
  DirectionImpairment* dirs[2] = {&p.profile.edge_to_hub, &p.profile.hub_to_edge};
  for (int i = 0; i < 2; ++i) {
    DirectionImpairment& d = *dirs[i];
    if (d.rate_bps == 0) {
      d.queue_bytes = 0;
      continue;
    }
    if (p.queue_time[i]) d.queue_bytes = BytesAtRate(d.rate_bps, *p.queue_time[i]);
    else if (!p.queue_set[i] && d.queue_bytes == 0) d.queue_bytes = BytesAtRate(d.rate_bps, milliseconds(100));
    // At least a few full-size packets, or nothing would ever pass.
    d.queue_bytes = std::max<int64_t>(d.queue_bytes, 16 * 1500);
  }
  if (p.profile.outage_every.count() > 0 && p.profile.outage_duration >= p.profile.outage_every) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source),
                                                   ": outage_duration must be shorter than outage_every"));
  }
  if (p.profile.outage_every.count() > 0 && p.profile.outage_duration.count() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": outage_every needs outage_duration"));
  }
  if (p.profile.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": the profile needs a name=... key"));
  }
  return p.profile;
}

absl::StatusOr<LinkProfile> Parse(Pending p, absl::string_view text, absl::string_view source) {
  auto words = Words(text, source);
  if (!words.ok()) return words.status();
  for (const auto& [line, word] : *words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), ":", line, ": expected key=value, got '", word, "'"));
    }
    absl::Status s = Apply(p, source, line, absl::string_view(word).substr(0, eq), absl::string_view(word).substr(eq + 1));
    if (!s.ok()) return s;
  }
  return Finish(std::move(p), source);
}

}  // namespace

std::vector<std::string> BuiltinProfileNames() {
  std::vector<std::string> out;
  for (const Builtin& b : kBuiltins) out.emplace_back(b.name);
  return out;
}

absl::StatusOr<LinkProfile> BuiltinProfile(std::string_view name) {
  for (const Builtin& b : kBuiltins) {
    if (name != b.name) continue;
    Pending p;
    p.profile.name = b.name;
    return Parse(std::move(p), b.spec, absl::StrCat("built-in profile ", b.name));
  }
  std::string known;
  for (const Builtin& b : kBuiltins) absl::StrAppend(&known, known.empty() ? "" : ", ", b.name);
  return absl::NotFoundError(absl::StrCat("no built-in profile '", std::string(name), "' (built in: ", known,
                                          "; or give a path to a profile file)"));
}

absl::StatusOr<LinkProfile> ParseLinkProfile(std::string_view text, std::string_view source) {
  return Parse(Pending{}, Sv(text), Sv(source));
}

absl::StatusOr<LinkProfile> LoadLinkProfile(std::string_view name_or_path) {
  if (name_or_path.find('/') == std::string_view::npos && !absl::EndsWith(Sv(name_or_path), ".profile")) {
    return BuiltinProfile(name_or_path);
  }
  std::ifstream f{std::string(name_or_path)};
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read profile file ", std::string(name_or_path)));
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseLinkProfile(ss.str(), name_or_path);
}

std::string FormatNanos(Nanos d) {
  const double ns = static_cast<double>(d.count());
  if (d.count() == 0) return "0";
  if (std::abs(ns) >= 1e9) return absl::StrFormat("%gs", ns / 1e9);
  if (std::abs(ns) >= 1e6) return absl::StrFormat("%gms", ns / 1e6);
  if (std::abs(ns) >= 1e3) return absl::StrFormat("%gus", ns / 1e3);
  return absl::StrFormat("%.0fns", ns);
}

std::string FormatRate(double bps) {
  if (bps >= 1e9) return absl::StrFormat("%.3g Gbit/s", bps / 1e9);
  if (bps >= 1e6) return absl::StrFormat("%.3g Mbit/s", bps / 1e6);
  if (bps >= 1e3) return absl::StrFormat("%.3g kbit/s", bps / 1e3);
  return absl::StrFormat("%.0f bit/s", bps);
}

std::string DescribeLinkProfile(const LinkProfile& p) {
  auto dir = [](const DirectionImpairment& d) {
    return absl::StrCat("delay ", FormatNanos(d.delay), d.jitter.count() ? absl::StrCat(" + jitter 0-", FormatNanos(d.jitter)) : "",
                        ", loss ", absl::StrFormat("%g%%", d.loss * 100), ", rate ",
                        d.rate_bps ? FormatRate(static_cast<double>(d.rate_bps)) : "unlimited",
                        d.rate_bps ? absl::StrCat(", queue ", d.queue_bytes / 1024, " KiB") : "");
  };
  std::string out = absl::StrCat(p.name, p.description.empty() ? "" : absl::StrCat(" (", p.description, ")"), "\n");
  absl::StrAppend(&out, "  round trip ", FormatNanos(p.RttMin()));
  if (p.RttMax() != p.RttMin()) absl::StrAppend(&out, "-", FormatNanos(p.RttMax()), " (mean ", FormatNanos(p.RttMean()), ")");
  absl::StrAppend(&out, "\n  edge->hub: ", dir(p.edge_to_hub), "\n  hub->edge: ", dir(p.hub_to_edge), "\n");
  if (p.outage_every.count() > 0) {
    absl::StrAppend(&out, "  outages: ", FormatNanos(p.outage_duration), " every ", FormatNanos(p.outage_every),
                    ", first after ", FormatNanos(p.outage_first), "\n");
  }
  return out;
}

}  // namespace longhaul::soak
