// RecordHeaders (mirror/src/record_source.h): the headers a source hands a
// lane or the edge, kept exactly as Kafka has them.
#include <gtest/gtest.h>

#include "../../../mirror/src/record_source.h"  // private to mirror/

namespace longhaul::mirror {
namespace {

TEST(RecordHeaders, KeepOrderRepeatsAndNullApartFromEmpty) {
  const std::vector<RecordHeader> in = {
      {"b", std::string("2")}, {"a", std::nullopt}, {"a", std::string()}, {"b", std::string("2")}};
  RecordHeaders h = RecordHeaders::Of(in);
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.ToVector(), in);
  std::string_view name;
  std::optional<std::string_view> value;
  ASSERT_TRUE(h.Get(1, &name, &value));
  EXPECT_EQ(name, "a");
  EXPECT_EQ(value, std::nullopt);
  ASSERT_TRUE(h.Get(2, &name, &value));
  EXPECT_EQ(value, std::optional<std::string_view>(""));
  EXPECT_FALSE(h.Get(4, &name, &value));
}

TEST(RecordHeaders, NoHeadersIsEmptyAndAllocatesNothing) {
  RecordHeaders h = RecordHeaders::Of({});
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.size(), 0u);
  EXPECT_TRUE(h.ToVector().empty());
  EXPECT_EQ(h.ReleaseNative(), nullptr);
}

TEST(RecordHeaders, AddAppendsAfterTheRecordsOwnHeaders) {
  RecordHeaders h = RecordHeaders::Of({{"x", std::string("1")}});
  h.Add("from-edge", std::string_view("ship-1"));
  EXPECT_EQ(h.ToVector(), (std::vector<RecordHeader>{{"x", std::string("1")}, {"from-edge", std::string("ship-1")}}));
  RecordHeaders none;
  none.Add("only", std::nullopt);
  EXPECT_EQ(none.ToVector(), (std::vector<RecordHeader>{{"only", std::nullopt}}));
}

TEST(RecordHeaders, MovingHandsOverTheListOnce) {
  RecordHeaders a = RecordHeaders::Of({{"k", std::string("v")}});
  RecordHeaders b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(b.size(), 1u);
  RecordHeaders c;
  c = std::move(b);
  EXPECT_EQ(c.ToVector(), (std::vector<RecordHeader>{{"k", std::string("v")}}));
  // A released list is the caller's: adopting it back keeps the headers.
  RecordHeaders d = RecordHeaders::AdoptNative(c.ReleaseNative());
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(d.size(), 1u);
}

}  // namespace
}  // namespace longhaul::mirror
