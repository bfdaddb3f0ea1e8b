// Behaviour of the registry and the exact Prometheus text it renders.
#include "longhaul/metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace longhaul::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MetricsText, RendersCounterWithHelpTypeAndLabels) {
  Registry registry;
  auto& records = registry.AddCounter("longhaul_records_total", "Records replicated.", {"pipeline", "topic"});
  records.WithLabels({"p1", "orders"}).Increment(3);
  records.WithLabels({"p1", "orders"}).Increment();
  records.WithLabels({"p1", "audit"}).Increment(0.5);
  EXPECT_EQ(registry.RenderText(),
            "# HELP longhaul_records_total Records replicated.\n"
            "# TYPE longhaul_records_total counter\n"
            "longhaul_records_total{pipeline=\"p1\",topic=\"audit\"} 0.5\n"
            "longhaul_records_total{pipeline=\"p1\",topic=\"orders\"} 4\n");
}

TEST(MetricsText, RendersUnlabelledGaugeAtZeroFromRegistration) {
  Registry registry;
  registry.AddGauge("longhaul_lanes_owned", "Lanes this worker owns.");
  EXPECT_EQ(registry.RenderText(),
            "# HELP longhaul_lanes_owned Lanes this worker owns.\n"
            "# TYPE longhaul_lanes_owned gauge\n"
            "longhaul_lanes_owned 0\n");
}

// prometheus-cpp's TextSerializer: 16 significant digits, so integral values
// are exact up to 2^53.
TEST(MetricsText, FormatsFloatsTheWayPrometheusParsesThem) {
  Registry registry;
  auto& g = registry.AddGauge("v", "Values.", {"case"});
  g.WithLabels({"a_nan"}).Set(std::numeric_limits<double>::quiet_NaN());
  g.WithLabels({"b_pinf"}).Set(std::numeric_limits<double>::infinity());
  g.WithLabels({"c_ninf"}).Set(-std::numeric_limits<double>::infinity());
  g.WithLabels({"d_million"}).Set(1.2e6);
  g.WithLabels({"e_tenth"}).Set(0.1);
  g.WithLabels({"f_negzero"}).Set(-0.0);
  g.WithLabels({"g_huge"}).Set(1e20);
  g.WithLabels({"h_tiny"}).Set(1.5e-7);
  g.WithLabels({"i_negative"}).Set(-42);
  g.WithLabels({"j_int64ish"}).Set(9007199254740991.0);  // 2^53 - 1
  g.WithLabels({"k_third"}).Set(1.0 / 3.0);
  EXPECT_EQ(registry.RenderText(),
            "# HELP v Values.\n"
            "# TYPE v gauge\n"
            "v{case=\"a_nan\"} Nan\n"  // Go's ParseFloat, which the format names, takes any case
            "v{case=\"b_pinf\"} +Inf\n"
            "v{case=\"c_ninf\"} -Inf\n"
            "v{case=\"d_million\"} 1200000\n"
            "v{case=\"e_tenth\"} 0.1\n"
            "v{case=\"f_negzero\"} -0\n"
            "v{case=\"g_huge\"} 1e+20\n"
            "v{case=\"h_tiny\"} 1.5e-07\n"
            "v{case=\"i_negative\"} -42\n"
            "v{case=\"j_int64ish\"} 9007199254740991\n"
            "v{case=\"k_third\"} 0.3333333333333333\n");
}

TEST(MetricsText, RendersHistogramWithCumulativeBucketsInfSumAndCount) {
  Registry registry;
  auto& latency = registry.AddHistogram("longhaul_commit_seconds", "Transaction commit latency.", {"pipeline"},
                                        {0.01, 0.1, 1});
  Histogram& h = latency.WithLabels({"p"});
  h.Observe(0.005);
  h.Observe(0.01);  // on the bound: `le` is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(registry.RenderText(),
            "# HELP longhaul_commit_seconds Transaction commit latency.\n"
            "# TYPE longhaul_commit_seconds histogram\n"
            "longhaul_commit_seconds_count{pipeline=\"p\"} 4\n"
            "longhaul_commit_seconds_sum{pipeline=\"p\"} 7.515\n"
            "longhaul_commit_seconds_bucket{pipeline=\"p\",le=\"0.01\"} 2\n"
            "longhaul_commit_seconds_bucket{pipeline=\"p\",le=\"0.1\"} 2\n"
            "longhaul_commit_seconds_bucket{pipeline=\"p\",le=\"1\"} 3\n"
            "longhaul_commit_seconds_bucket{pipeline=\"p\",le=\"+Inf\"} 4\n");
}

TEST(MetricsText, RendersUnlabelledHistogramWithOnlyLeLabel) {
  Registry registry;
  auto& sizes = registry.AddHistogram("batch_bytes", "Batch size.", {}, {1024, std::numeric_limits<double>::infinity()});
  sizes.WithLabels({}).Observe(100);
  EXPECT_EQ(registry.RenderText(),
            "# HELP batch_bytes Batch size.\n"
            "# TYPE batch_bytes histogram\n"
            "batch_bytes_count 1\n"
            "batch_bytes_sum 100\n"
            "batch_bytes_bucket{le=\"1024\"} 1\n"
            "batch_bytes_bucket{le=\"+Inf\"} 1\n");
}

TEST(MetricsText, CountsNanObservationOnlyInInfBucket) {
  Registry registry;
  Histogram& h = registry.AddHistogram("h", "H.", {}, {1}).WithLabels({});
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(registry.RenderText(),
            "# HELP h H.\n# TYPE h histogram\nh_count 1\nh_sum Nan\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\n");
}

TEST(MetricsText, CountsRepeatedObservationOnceWithItsMultiplicity) {
  Registry registry;
  Histogram& h = registry.AddHistogram("h", "H.", {}, {1, 10}).WithLabels({});
  h.Observe(0.5, 3);
  h.Observe(5, 2);
  h.Observe(50, 0);
  EXPECT_EQ(registry.RenderText(), "# HELP h H.\n# TYPE h histogram\nh_count 5\nh_sum 11.5\n"
                                   "h_bucket{le=\"1\"} 3\nh_bucket{le=\"10\"} 5\nh_bucket{le=\"+Inf\"} 5\n");
}

TEST(MetricsText, EscapesLabelValuesBackslashQuoteAndNewline) {
  Registry registry;
  registry.AddGauge("g", "G.", {"v"}).WithLabels({"a\\b\"c\nd"}).Set(1);
  EXPECT_EQ(registry.RenderText(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

// Label values come from names the config and the hub validate (Kafka's
// topic charset), so invalid UTF-8 never reaches a label (docs/architecture.md).
TEST(MetricsText, KeepsUtf8LabelValues) {
  Registry registry;
  registry.AddGauge("g", "G.", {"v"}).WithLabels({"caf\xC3\xA9"}).Set(1);
  EXPECT_EQ(registry.RenderText(), "# HELP g G.\n# TYPE g gauge\ng{v=\"caf\xC3\xA9\"} 1\n");
}

TEST(MetricsText, SortsFamiliesByNameAndSeriesByLabelValues) {
  Registry registry;
  registry.AddGauge("zeta", "Z.", {"k"}).WithLabels({"b"}).Set(1);
  registry.AddCounter("alpha_total", "A.", {"k"}).WithLabels({"z"}).Increment();
  registry.AddGauge("zeta", "Z.", {"k"}).WithLabels({"a"}).Set(2);
  registry.AddCounter("alpha_total", "A.", {"k"}).WithLabels({"a"}).Increment();
  EXPECT_EQ(registry.RenderText(),
            "# HELP alpha_total A.\n# TYPE alpha_total counter\n"
            "alpha_total{k=\"a\"} 1\nalpha_total{k=\"z\"} 1\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\n"
            "zeta{k=\"a\"} 2\nzeta{k=\"b\"} 1\n");
}

TEST(MetricsRegistry, OmitsFamilyWithoutSeries) {
  Registry registry;
  registry.AddGauge("lag", "Lag.", {"partition"});
  EXPECT_EQ(registry.RenderText(), "");
}

TEST(MetricsRegistry, SameDefinitionTwiceReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.AddCounter("c_total", "C.", {"x"});
  auto& b = registry.AddCounter("c_total", "C.", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.WithLabels({"1"}), &b.WithLabels({"1"}));
}

TEST(MetricsRegistry, CollectorSamplesMergeWithRegisteredFamilyOfTheSameName) {
  Registry registry;
  registry.AddGauge("lag_records", "Records behind.", {"partition"}).WithLabels({"0"}).Set(5);
  int calls = 0;
  CollectorHandle handle = registry.AddCollector([&](CollectorSink& sink) {
    ++calls;
    sink.AddGauge("lag_records", "Records behind.", {{"partition", "1"}}, 9);
    sink.AddCounter("scrapes_total", "Scrapes.", {}, calls);
  });
  CollectorHandle second = registry.AddCollector(
      [](CollectorSink& sink) { sink.AddGauge("lag_records", "ignored help", {{"partition", "2"}}, 1); });
  EXPECT_EQ(registry.RenderText(),
            "# HELP lag_records Records behind.\n# TYPE lag_records gauge\n"
            "lag_records{partition=\"0\"} 5\nlag_records{partition=\"1\"} 9\nlag_records{partition=\"2\"} 1\n"
            "# HELP scrapes_total Scrapes.\n# TYPE scrapes_total counter\nscrapes_total 1\n");

  handle.Reset();
  second = CollectorHandle();
  EXPECT_EQ(registry.RenderText(), "# HELP lag_records Records behind.\n# TYPE lag_records gauge\n"
                                   "lag_records{partition=\"0\"} 5\n");
  EXPECT_EQ(calls, 1);
}

TEST(Registry, CollectorHistogramRendersBucketsSumAndCount) {
  Registry registry;
  CollectorHandle handle = registry.AddCollector([](CollectorSink& sink) {
    Histogram::Snapshot rtt;
    rtt.bounds = {0.1, 0.5};
    rtt.cumulative_counts = {1, 3, 4};
    rtt.count = 4;
    rtt.sum = 2.25;
    sink.AddHistogram("rtt_seconds", "Round trips.", {{"link", "sat"}}, std::move(rtt));
  });
  EXPECT_EQ(registry.RenderText(),
            "# HELP rtt_seconds Round trips.\n# TYPE rtt_seconds histogram\n"
            "rtt_seconds_count{link=\"sat\"} 4\nrtt_seconds_sum{link=\"sat\"} 2.25\n"
            "rtt_seconds_bucket{link=\"sat\",le=\"0.1\"} 1\nrtt_seconds_bucket{link=\"sat\",le=\"0.5\"} 3\n"
            "rtt_seconds_bucket{link=\"sat\",le=\"+Inf\"} 4\n");
}

TEST(MetricsRegistry, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  Counter& counter = registry.AddCounter("c_total", "C.").WithLabels({});
  Gauge& gauge = registry.AddGauge("g", "G.").WithLabels({});
  Histogram& histogram = registry.AddHistogram("h", "H.", {}, {10}).WithLabels({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        gauge.Increment(2);
        gauge.Decrement();
        histogram.Observe(i % 20);  // 0..10 (11 of every 20) land in le="10"
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
  EXPECT_EQ(gauge.Value(), kThreads * kPerThread);
  const std::string text = registry.RenderText();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("\nh_count ", kThreads * kPerThread, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("\nh_bucket{le=\"10\"} ", kThreads * kPerThread / 20 * 11, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("\nh_sum ", kThreads * (kPerThread / 20) * 190, "\n")));
}

TEST(MetricsBuckets, ExponentialAndLinearBucketsHaveTheRequestedBounds) {
  EXPECT_THAT(ExponentialBuckets(0.001, 10, 4), ElementsAre(0.001, 0.01, 0.1, 1));
  EXPECT_THAT(ExponentialBuckets(1, 2, 5), ElementsAre(1, 2, 4, 8, 16));
  EXPECT_THAT(LinearBuckets(0, 5, 3), ElementsAre(0, 5, 10));
  EXPECT_THAT(LinearBuckets(0.1, 0.1, 3), ElementsAre(0.1, 0.2, 0.3));
}

using MetricsRegistryDeathTest = ::testing::Test;

TEST(MetricsRegistryDeathTest, RejectsNamesThatBreakThePrometheusRules) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Registry().AddCounter("1starts_with_digit", "X."), "invariant violated");
  EXPECT_DEATH(Registry().AddCounter("has-dash", "X."), "invariant violated");
  EXPECT_DEATH(Registry().AddGauge("ok", "X.", {"__reserved"}), "invariant violated");
  EXPECT_DEATH(Registry().AddGauge("ok", "X.", {"has:colon"}), "invariant violated");
  EXPECT_DEATH(Registry().AddGauge("ok", "X.", {"dup", "dup"}), "invariant violated");
  EXPECT_DEATH(Registry().AddHistogram("ok", "X.", {"le"}, {1}), "invariant violated");
  EXPECT_DEATH(Registry().AddHistogram("ok", "X.", {}, {2, 1}), "invariant violated");
  // prometheus-cpp writes HELP text as it is: a newline would end the line.
  EXPECT_DEATH(Registry().AddGauge("ok", "Two\nlines."), "invariant violated");
  EXPECT_DEATH(Registry().AddGauge("ok", "Back\\slash."), "invariant violated");
}

TEST(MetricsRegistryDeathTest, RejectsConflictingDefinitionsAndMisuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("x", "X.");
        r.AddGauge("x", "X.");
      },
      "invariant violated");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("c_total", "C.", {"a", "b"}).WithLabels({"only-one"});
      },
      "invariant violated");
  EXPECT_DEATH(
      {
        Registry r;
        CollectorHandle h = r.AddCollector([](CollectorSink& sink) { sink.AddGauge("bad-name", "B.", {}, 1); });
        r.RenderText();
      },
      "invariant violated");
}

}  // namespace
}  // namespace longhaul::metrics
