#include "longhaul/soak/selftest_report.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace longhaul::soak {
namespace {

double Ms(Nanos d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

std::string Pct(double ratio) { return absl::StrFormat("%.3f %%", ratio * 100); }

}  // namespace

std::vector<SelftestRow> EvaluateSelftest(const LinkProfile& p, const SelftestMeasurement& m) {
  std::vector<SelftestRow> rows;

  // Round trip.
  std::vector<double> rtt = m.rtt_ms;
  std::sort(rtt.begin(), rtt.end());
  const double mean = rtt.empty() ? 0 : std::accumulate(rtt.begin(), rtt.end(), 0.0) / static_cast<double>(rtt.size());
  const bool jittery = p.RttMax() != p.RttMin();
  {
    SelftestRow r{"round trip, mean", "", absl::StrFormat("%.1f ms", mean), "", true};
    if (rtt.empty()) {
      r.ok = false;
      r.verdict = "FAIL: no probe came back";
    } else if (p.RttMax().count() == 0) {
      // Nothing to be within 10 % of: the median must show no added delay
      // (the mean carries the machine's scheduling hiccups).
      r.profile = "~0 ms";
      const double median = Percentile(rtt, 0.5);
      r.ok = median < 1.0;
      r.verdict = r.ok ? absl::StrFormat("ok (median %.2f ms, under 1 ms)", median)
                       : absl::StrFormat("FAIL: median %.2f ms, over 1 ms on an unimpaired link", median);
    } else {
      const double want = Ms(p.RttMean());
      r.profile = absl::StrFormat("%.0f ms", want);
      const double err = std::abs(mean - want) / want;
      r.ok = err <= 0.10;
      r.verdict = absl::StrFormat("%s (%+.1f %%, limit 10 %%)", r.ok ? "ok" : "FAIL", (mean - want) / want * 100);
    }
    rows.push_back(r);
  }
  if (!rtt.empty()) {
    SelftestRow r{"round trip, min/p50/p99/max",
                  jittery ? absl::StrFormat("%.0f-%.0f ms", Ms(p.RttMin()), Ms(p.RttMax()))
                          : absl::StrFormat("%.0f ms", Ms(p.RttMin())),
                  absl::StrFormat("%.1f/%.1f/%.1f/%.1f ms", rtt.front(), Percentile(rtt, 0.5), Percentile(rtt, 0.99),
                                  rtt.back()),
                  "", true};
    if (jittery) {
      // Probes may not beat the fixed delay nor exceed the jitter's range.
      r.ok = rtt.front() >= 0.9 * Ms(p.RttMin()) && rtt.back() <= 1.1 * Ms(p.RttMax()) + 1.0;
      r.verdict = r.ok ? "ok (inside the range)" : "FAIL: outside the profile's range";
    } else {
      r.verdict = "info";
    }
    rows.push_back(r);
  }

  // Loss, per direction and both together (the verdict: more samples).
  const double want_loss = (p.edge_to_hub.loss + p.hub_to_edge.loss) / 2;
  if (m.probes_sent > 0) {
    const double e2h = 1 - static_cast<double>(m.probes_at_hub) / static_cast<double>(m.probes_sent);
    const double h2e = m.probes_at_hub ? 1 - static_cast<double>(m.probes_back) / static_cast<double>(m.probes_at_hub) : 0;
    rows.push_back({"loss edge->hub", Pct(p.edge_to_hub.loss),
                    absl::StrFormat("%s (%d of %d)", Pct(e2h), m.probes_sent - m.probes_at_hub, m.probes_sent), "info",
                    true});
    rows.push_back({"loss hub->edge", Pct(p.hub_to_edge.loss),
                    absl::StrFormat("%s (%d of %d)", Pct(h2e), m.probes_at_hub - m.probes_back, m.probes_at_hub),
                    "info", true});
    const int64_t lost = m.probes_sent - m.probes_back;
    const int64_t crossings = m.probes_sent + m.probes_at_hub;
    const double both = static_cast<double>(lost) / static_cast<double>(crossings);
    SelftestRow r{"loss, both directions", Pct(want_loss), absl::StrFormat("%s (%d of %d)", Pct(both), lost, crossings),
                  "", true};
    if (want_loss == 0) {
      r.ok = lost == 0;
      r.verdict = r.ok ? "ok (none)" : "FAIL: packets lost on a lossless profile";
    } else {
      const double ratio = both / want_loss;
      r.ok = ratio >= 0.5 && ratio <= 2.0;
      r.verdict = absl::StrFormat("%s (x%.2f, limit x0.5-x2)", r.ok ? "ok" : "FAIL", ratio);
    }
    rows.push_back(r);
  } else {
    rows.push_back({"loss, both directions", Pct(want_loss), "-", "FAIL: no probes sent", false});
  }

  // Throughput.
  auto tcp = [&](const std::string& name, double bps, const DirectionImpairment& d) {
    if (bps <= 0) return;
    SelftestRow r{name, d.rate_bps ? FormatRate(static_cast<double>(d.rate_bps)) : "unlimited", FormatRate(bps), "",
                  true};
    if (d.rate_bps == 0) {
      r.verdict = "info (no cap)";
    } else {
      const double ratio = bps / static_cast<double>(d.rate_bps);
      r.ok = ratio <= 1.05 && ratio >= 0.5;
      r.verdict = absl::StrFormat("%s (%.0f %% of the cap, limit 50-105 %%)", r.ok ? "ok" : "FAIL", ratio * 100);
    }
    rows.push_back(r);
  };
  const std::string flows = m.tcp_flows > 1 ? absl::StrCat(", ", m.tcp_flows, " flows") : "";
  tcp(absl::StrCat("TCP edge->hub", flows), m.tcp_edge_to_hub_bps, p.edge_to_hub);
  if (!m.tcp_edge_to_hub_info.empty()) rows.push_back({"  first sender", "", m.tcp_edge_to_hub_info, "info", true});
  tcp(absl::StrCat("TCP hub->edge", flows), m.tcp_hub_to_edge_bps, p.hub_to_edge);
  if (!m.tcp_hub_to_edge_info.empty()) rows.push_back({"  first sender", "", m.tcp_hub_to_edge_info, "info", true});
  if (m.tcp_single_flow_bps > 0) {
    const DirectionImpairment& d = p.edge_to_hub;
    rows.push_back({"TCP edge->hub, 1 flow", d.rate_bps ? FormatRate(static_cast<double>(d.rate_bps)) : "unlimited",
                    FormatRate(m.tcp_single_flow_bps),
                    d.rate_bps ? absl::StrFormat("info (%.0f %% of the cap)",
                                                 100 * m.tcp_single_flow_bps / static_cast<double>(d.rate_bps))
                               : "info",
                    true});
    if (!m.tcp_single_flow_info.empty()) rows.push_back({"  sender", "", m.tcp_single_flow_info, "info", true});
  }
  if (!m.congestion_control.empty()) rows.push_back({"TCP congestion control", "bbr", m.congestion_control, "info", true});

  // Where a probe went missing outside the model: the kernel's queue to the
  // forwarder, or its input backlog after the forwarder wrote the packet.
  rows.push_back({"kernel drops during probes", "0",
                  absl::StrFormat("%d TUN queue, %d input backlog", m.tun_queue_drops, m.backlog_drops), "info",
                  true});

  // A cut through the control socket.
  if (m.cut_seconds > 0) {
    SelftestRow r{absl::StrFormat("cut %.0f s (control socket)", m.cut_seconds), "all probes lost, then back",
                  absl::StrFormat("%d/%d lost during, %d/%d back after", m.cut_probes_sent - m.cut_probes_back,
                                  m.cut_probes_sent, m.after_probes_back, m.after_probes_sent),
                  "", true};
    r.ok = m.cut_probes_sent > 0 && m.cut_probes_back == 0 && m.after_probes_sent > 0 &&
           m.after_probes_back >= m.after_probes_sent * 8 / 10;
    r.verdict = r.ok ? "ok" : "FAIL";
    rows.push_back(r);
  }
  return rows;
}

bool SelftestPassed(const std::vector<SelftestRow>& rows) {
  return std::all_of(rows.begin(), rows.end(), [](const SelftestRow& r) { return r.ok; });
}

std::string RenderSelftest(const LinkProfile& p, const std::vector<SelftestRow>& rows) {
  size_t w[3] = {6, 7, 8};
  for (const SelftestRow& r : rows) {
    w[0] = std::max(w[0], r.metric.size());
    w[1] = std::max(w[1], r.profile.size());
    w[2] = std::max(w[2], r.measured.size());
  }
  std::string out;
  auto line = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    absl::StrAppendFormat(&out, "%-*s  %-*s  %-*s  %s\n", static_cast<int>(w[0]), a, static_cast<int>(w[1]), b,
                          static_cast<int>(w[2]), c, d);
  };
  line("metric", "profile", "measured", "verdict");
  for (const SelftestRow& r : rows) line(r.metric, r.profile, r.measured, r.verdict);
  absl::StrAppend(&out, "selftest ", SelftestPassed(rows) ? "PASSED" : "FAILED", " profile=", p.name, "\n");
  return out;
}

}  // namespace longhaul::soak
