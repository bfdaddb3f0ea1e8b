// Identity rules (identity.h): which certificate may feed which pipeline
// and the edge name it gets.
#include "identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/testing/status_matchers.h"

namespace longhaul::transport {
namespace {

using ::longhaul::testing::IsOkAndHolds;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

const PeerIdentity kShip{"ship-7", {"longhaul://fleet/ship-7"}};

TEST(AuthoriseEdge, NamesTheEdgeByTheLastSegmentOfTheMatchingUri) {
  EXPECT_THAT(AuthoriseEdge({{"longhaul://fleet/ship-7", {"orders"}}}, IdentityMatch::kCommonNameOrUri, kShip,
                            "orders"),
              IsOkAndHolds("ship-7"));
  const PeerIdentity spiffe{"x", {"spiffe://corp/ns/prod/sa/edge.7?v=1"}};
  EXPECT_THAT(AuthoriseEdge({{"spiffe://corp/ns/prod/sa/edge.7?v=1", {"*"}}}, IdentityMatch::kUri, spiffe, "p"),
              IsOkAndHolds("edge.7"));
}

TEST(AuthoriseEdge, NamesTheEdgeByItsCommonNameWhenTheCnMatched) {
  const PeerIdentity peer{"edge_1", {"longhaul://other/name"}};
  EXPECT_THAT(AuthoriseEdge({{"edge_1", {"orders"}}}, IdentityMatch::kCommonNameOrUri, peer, "orders"),
              IsOkAndHolds("edge_1"));
}

TEST(AuthoriseEdge, MatchesUriSansOnlyWhenToldTo) {
  EXPECT_THAT(AuthoriseEdge({{"ship-7", {"orders"}}}, IdentityMatch::kUri, kShip, "orders"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("certificate identity 'longhaul://fleet/ship-7' may not feed pipeline 'orders' (see "
                                 "the hub's identity rules; only URI SANs are matched)")));
}

TEST(AuthoriseEdge, AdmitsAFleetByAUriPrefixRule) {
  const std::vector<IdentityRule> rules = {{"longhaul://fleet/*", {"orders"}}};
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kUri, kShip, "orders"), IsOkAndHolds("ship-7"));
  // One segment only: a deeper path is not a member of the fleet.
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kUri, PeerIdentity{"", {"longhaul://fleet/a/b"}}, "orders"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kUri, PeerIdentity{"", {"longhaul://fleet/"}}, "orders"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kUri, kShip, "billing"), StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
}

TEST(AuthoriseEdge, RefusesAnIdentityWhoseNameIsUnusableInTopicNames) {
  const PeerIdentity odd{"edge 1/..", {}};
  EXPECT_THAT(AuthoriseEdge({{"edge 1/..", {"*"}}}, IdentityMatch::kCommonNameOrUri, odd, "p"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("its edge name 'edge 1/..' is not 1..64 characters of [A-Za-z0-9._-]")));
  const PeerIdentity long_name{std::string(65, 'a'), {}};
  EXPECT_THAT(AuthoriseEdge({{long_name.common_name, {"*"}}}, IdentityMatch::kCommonNameOrUri, long_name, "p"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_TRUE(IsUsableEdgeName(std::string(64, 'a')));
  EXPECT_FALSE(IsUsableEdgeName(".."));
  EXPECT_FALSE(IsUsableEdgeName(""));
}

TEST(AuthoriseEdge, TakesTheFirstRuleThatAllowsThePipeline) {
  const std::vector<IdentityRule> rules = {{"ship-7", {"billing"}}, {"longhaul://fleet/ship-7", {"orders"}}};
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kCommonNameOrUri, kShip, "orders"), IsOkAndHolds("ship-7"));
  EXPECT_THAT(AuthoriseEdge(rules, IdentityMatch::kCommonNameOrUri, kShip, "billing"), IsOkAndHolds("ship-7"));
}

TEST(ValidateIdentityRules, AcceptsAStarOnlyAtTheEndOfAUriPrefix) {
  EXPECT_THAT(ValidateIdentityRules({{"longhaul://fleet/*", {"p"}}}), ::longhaul::testing::IsOk());
  EXPECT_THAT(ValidateIdentityRules({{"ship-*", {"p"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("entry 0 (ship-*): '*' may only end a URI")));
  EXPECT_THAT(ValidateIdentityRules({{"a", {}}}), StatusIs(absl::StatusCode::kInvalidArgument,
                                                          HasSubstr("entry 0 (a) lists no pipelines")));
}

}  // namespace
}  // namespace longhaul::transport
