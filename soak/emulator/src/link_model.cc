#include "longhaul/soak/link_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace longhaul::soak {
namespace {

Nanos SerializationTime(int64_t bytes, int64_t rate_bps) {
  return Nanos(static_cast<int64_t>(static_cast<double>(bytes) * 8e9 / static_cast<double>(rate_bps)));
}

double Seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

const char* DirectionName(Direction d) { return d == Direction::kEdgeToHub ? "edge->hub" : "hub->edge"; }

void DirectionModel::Configure(const DirectionImpairment& impairment, Nanos jitter_period, SteadyTime now) {
  imp_ = impairment;
  jitter_period_ = std::max(jitter_period, Nanos(std::chrono::milliseconds(1)));
  // Continue the jitter from where it is, towards a target in the new range.
  double current = static_cast<double>(JitterAt(now).count());
  from_ns_ = std::min(current, static_cast<double>(imp_.jitter.count()));
  to_ns_ = imp_.jitter.count() ? std::uniform_real_distribution<double>(0, static_cast<double>(imp_.jitter.count()))(rng_) : 0;
  seg_start_ = now;
}

Nanos DirectionModel::JitterAt(SteadyTime now) {
  if (imp_.jitter.count() == 0) return Nanos(0);
  std::uniform_real_distribution<double> draw(0, static_cast<double>(imp_.jitter.count()));
  if (now - seg_start_ >= 2 * jitter_period_) {
    // Idle for a while: start a fresh segment here.
    from_ns_ = to_ns_;
    to_ns_ = draw(rng_);
    seg_start_ = now;
  }
  while (now - seg_start_ >= jitter_period_) {
    from_ns_ = to_ns_;
    to_ns_ = draw(rng_);
    seg_start_ += jitter_period_;
  }
  const double frac = static_cast<double>((now - seg_start_).count()) / static_cast<double>(jitter_period_.count());
  return Nanos(static_cast<int64_t>(from_ns_ + (to_ns_ - from_ns_) * std::clamp(frac, 0.0, 1.0)));
}

Nanos DirectionModel::Backlog(SteadyTime now) const { return busy_until_ > now ? busy_until_ - now : Nanos(0); }

Verdict DirectionModel::Admit(int64_t bytes, SteadyTime now) {
  SteadyTime leaves_bottleneck = now;
  if (imp_.rate_bps > 0) {
    const Nanos backlog = Backlog(now);
    const Nanos serialization = SerializationTime(bytes, imp_.rate_bps);
    // Tail drop: the queue holds queue_bytes worth of sending time.
    if (backlog + serialization > SerializationTime(imp_.queue_bytes, imp_.rate_bps)) return {Fate::kQueueFull, {}};
    busy_until_ = std::max(now, busy_until_) + serialization;
    leaves_bottleneck = busy_until_;
  }
  if (imp_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < imp_.loss) return {Fate::kLost, {}};
  SteadyTime release = leaves_bottleneck + imp_.delay + JitterAt(now);
  release = std::max(release, last_release_);  // FIFO: never overtake the packet ahead
  last_release_ = release;
  return {Fate::kDeliver, release};
}

LinkModel::LinkModel(LinkProfile profile, uint64_t seed, SteadyTime now)
    : dirs_{DirectionModel(seed), DirectionModel(seed ^ 0x5851f42d4c957f2dull)} {
  SetProfile(std::move(profile), now);
}

void LinkModel::SetProfile(LinkProfile profile, SteadyTime now) {
  profile_ = std::move(profile);
  profile_start_ = now;
  dirs_[0].Configure(profile_.edge_to_hub, profile_.jitter_period, now);
  dirs_[1].Configure(profile_.hub_to_edge, profile_.jitter_period, now);
}

void LinkModel::Cut(SteadyTime now, std::optional<Nanos> duration) {
  cut_ = true;
  cut_until_.reset();
  if (duration) cut_until_ = now + *duration;
}

void LinkModel::Restore() {
  cut_ = false;
  cut_until_.reset();
}

std::string LinkModel::OutageAt(SteadyTime now) const {
  if (cut_ && (!cut_until_ || now < *cut_until_)) return "cut";
  const LinkProfile& p = profile_;
  if (p.outage_every.count() > 0 && now >= profile_start_ + p.outage_first) {
    const Nanos into = (now - profile_start_ - p.outage_first) % p.outage_every;
    if (into < p.outage_duration) return "scheduled outage";
  }
  return "";
}

double LinkModel::OutageRemainingSeconds(SteadyTime now) const {
  std::string why = OutageAt(now);
  if (why.empty()) return 0;
  if (why == "cut") return cut_until_ ? Seconds(*cut_until_ - now) : -1;
  const LinkProfile& p = profile_;
  const Nanos into = (now - profile_start_ - p.outage_first) % p.outage_every;
  return Seconds(p.outage_duration - into);
}

void LinkModel::NoteOutage(SteadyTime now) {
  const bool down = InOutage(now);
  if (down && !was_down_) ++outages_started_;
  was_down_ = down;
}

Verdict LinkModel::Admit(Direction d, int64_t bytes, SteadyTime now) {
  DirectionCounters& c = counters_[static_cast<int>(d)];
  ++c.packets;
  c.bytes += bytes;
  NoteOutage(now);
  if (was_down_) {
    ++c.outage_drops;
    return {Fate::kOutage, {}};
  }
  Verdict v = dirs_[static_cast<int>(d)].Admit(bytes, now);
  switch (v.fate) {
    case Fate::kDeliver:
      ++c.delivered;
      c.delivered_bytes += bytes;
      break;
    case Fate::kLost: ++c.lost; break;
    case Fate::kQueueFull: ++c.queue_drops; break;
    case Fate::kOutage: ++c.outage_drops; break;
  }
  return v;
}

void LinkModel::CountOverflow(Direction d, int64_t bytes) {
  DirectionCounters& c = counters_[static_cast<int>(d)];
  --c.delivered;
  c.delivered_bytes -= bytes;
  ++c.overflow_drops;
}

std::string LinkModel::StatusLine(SteadyTime now) const {
  std::string state = OutageAt(now);
  if (state.empty()) {
    state = "up";
  } else {
    double left = OutageRemainingSeconds(now);
    state = left < 0 ? absl::StrCat("down (", state, ", until restored)")
                     : absl::StrFormat("down (%s, %.1fs left)", state, left);
  }
  std::string out = absl::StrCat("profile=", profile_.name, " link=", state, " outages=", outages_started_);
  for (Direction d : {Direction::kEdgeToHub, Direction::kHubToEdge}) {
    const DirectionCounters& c = counters(d);
    absl::StrAppendFormat(&out,
                          " | %s packets=%d bytes=%d delivered=%d lost=%d queue_drops=%d outage_drops=%d "
                          "overflow_drops=%d backlog_ms=%.1f",
                          DirectionName(d), c.packets, c.bytes, c.delivered, c.lost, c.queue_drops, c.outage_drops,
                          c.overflow_drops, Seconds(Backlog(d, now)) * 1e3);
  }
  return out;
}

}  // namespace longhaul::soak
