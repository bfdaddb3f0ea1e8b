// What the emulated link does to each packet, without I/O: given a packet's
// size, its direction and the time it arrived, the LinkModel says whether it
// is dropped (and why) or when it leaves the other end. longhaul-linkemu's
// forwarder feeds it packets read from the TUN devices; unit tests feed it
// times by hand.
//
// Per direction, in this order: an outage (scheduled by the profile or cut by
// hand) drops everything; a bottleneck of `rate_bps` with a queue of
// `queue_bytes` tail-drops what does not fit and otherwise delays each packet
// by its queueing plus serialization time; random loss drops a packet that
// went through the bottleneck (it used the bandwidth, as on a real link);
// then the packet travels for `delay` plus jitter.
//
// Jitter never reorders packets: the extra delay moves linearly between
// random targets in [0, jitter] drawn every `jitter_period`, so it changes
// slower than time passes, and a packet is in any case never released before
// the one ahead of it (FIFO). Closely spaced packets therefore see nearly the
// same extra delay, as on a real mobile link, rather than independent draws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "longhaul/base/clock.h"
#include "longhaul/soak/link_profile.h"

namespace longhaul::soak {

enum class Direction { kEdgeToHub = 0, kHubToEdge = 1 };
const char* DirectionName(Direction d);  // "edge->hub", "hub->edge"

enum class Fate { kDeliver, kLost, kQueueFull, kOutage };

struct Verdict {
  Fate fate = Fate::kDeliver;
  SteadyTime release{};  // when the packet leaves the link; set for kDeliver
};

struct DirectionCounters {
  int64_t packets = 0;  // arrived at the link
  int64_t bytes = 0;
  int64_t delivered = 0;  // accepted for delivery (written out later by the forwarder)
  int64_t delivered_bytes = 0;
  int64_t lost = 0;          // random loss
  int64_t queue_drops = 0;   // bottleneck queue full (tail drop)
  int64_t outage_drops = 0;  // link down
  int64_t overflow_drops = 0;  // the forwarder's own bound on packets in flight
};

// One direction. Not thread-safe; `now` must not go backwards across calls.
class DirectionModel {
 public:
  explicit DirectionModel(uint64_t seed) : rng_(seed) {}

  // Takes effect for packets arriving from `now` on; packets already admitted
  // keep their release times, and the bottleneck backlog carries over.
  void Configure(const DirectionImpairment& impairment, Nanos jitter_period, SteadyTime now);

  // The fate of one packet of `bytes` that arrives at `now` (outages are the
  // caller's: see LinkModel). Release times never decrease.
  Verdict Admit(int64_t bytes, SteadyTime now);

  // Time the bottleneck needs to send what is queued at `now`.
  Nanos Backlog(SteadyTime now) const;
  // The extra delay a packet arriving at `now` gets, in [0, jitter].
  Nanos JitterAt(SteadyTime now);

 private:
  DirectionImpairment imp_;
  Nanos jitter_period_{std::chrono::milliseconds(500)};
  std::mt19937_64 rng_;
  SteadyTime busy_until_{};
  SteadyTime last_release_{};
  // Current jitter segment: from `from_` at seg_start_ to `to_` one period later.
  SteadyTime seg_start_{};
  double from_ns_ = 0;
  double to_ns_ = 0;
};

// Both directions, the profile's scheduled outages and hand-made cuts, and
// counters. Not thread-safe: the forwarder's loop owns it.
class LinkModel {
 public:
  LinkModel(LinkProfile profile, uint64_t seed, SteadyTime now);

  // Switches profile; its scheduled outages count from `now`. A cut made by
  // hand stays in force.
  void SetProfile(LinkProfile profile, SteadyTime now);
  const LinkProfile& profile() const { return profile_; }

  // Takes the link down now, for `duration` or (nullopt) until Restore().
  void Cut(SteadyTime now, std::optional<Nanos> duration);
  // Ends a cut made by hand (not a scheduled outage).
  void Restore();

  // "" when up, else "scheduled outage" or "cut".
  std::string OutageAt(SteadyTime now) const;
  bool InOutage(SteadyTime now) const { return !OutageAt(now).empty(); }
  // Seconds until the current outage ends (0 when up; -1 for an open cut).
  double OutageRemainingSeconds(SteadyTime now) const;

  Verdict Admit(Direction d, int64_t bytes, SteadyTime now);
  // The forwarder dropped an admitted packet because too much was in flight.
  void CountOverflow(Direction d, int64_t bytes);

  const DirectionCounters& counters(Direction d) const { return counters_[static_cast<int>(d)]; }
  int64_t outages_started() const { return outages_started_; }
  Nanos Backlog(Direction d, SteadyTime now) const { return dirs_[static_cast<int>(d)].Backlog(now); }

  // One line: profile, link state, per-direction counters.
  std::string StatusLine(SteadyTime now) const;

 private:
  void NoteOutage(SteadyTime now);

  LinkProfile profile_;
  SteadyTime profile_start_;
  std::array<DirectionModel, 2> dirs_;
  std::array<DirectionCounters, 2> counters_{};
  bool cut_ = false;
  std::optional<SteadyTime> cut_until_;
  bool was_down_ = false;
  int64_t outages_started_ = 0;
};

}  // namespace longhaul::soak
