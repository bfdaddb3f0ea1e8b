// The one host:port parser (config, admin server, hub listen, edge dial,
// tools): the forms people write, and each way an address can be wrong,
// named without repeating the input.
#include "longhaul/base/host_port.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "longhaul/testing/status_matchers.h"

namespace longhaul {
namespace {

using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

TEST(HostPort, ParsesNamesIpv4AndBracketedIpv6AndPrintsThemBack) {
  absl::StatusOr<HostPort> name = ParseHostPort("kafka-1.example.com:9092");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, (HostPort{"kafka-1.example.com", 9092}));
  absl::StatusOr<HostPort> v6 = ParseHostPort("[::1]:443");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(*v6, (HostPort{"::1", 443}));
  EXPECT_EQ(v6->ToString(), "[::1]:443");
  EXPECT_EQ((HostPort{"10.0.0.7", 65535}).ToString(), "10.0.0.7:65535");
}

TEST(HostPort, PortZeroOnlyWhereAFreePortMayBePicked) {
  EXPECT_THAT(ParseHostPort("127.0.0.1:0").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port must be 1 to 65535")));
  absl::StatusOr<HostPort> listen = ParseHostPort("127.0.0.1:0", /*allow_port_zero=*/true);
  ASSERT_TRUE(listen.ok()) << listen.status();
  EXPECT_EQ(listen->port, 0);
}

TEST(HostPort, NamesWhatIsWrongWithoutRepeatingTheInput) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty address"},
      {"kafka", "missing :port"},
      {":9092", "missing host"},
      {"[::1", "unclosed '['"},
      {"[::1]9092", "missing :port after the IPv6 address"},
      {"::1:9092", "IPv6 addresses need brackets"},
      {"ka fka:9092", "invalid character in host name"},
      {"kafka:65536", "port must be 1 to 65535"},
      {"kafka:-1", "port must be 1 to 65535"},
      {"kafka:+80", "port must be 1 to 65535"},
      {"kafka:", "port must be 1 to 65535"},
  };
  for (const auto& [text, reason] : cases) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(text);
    EXPECT_THAT(parsed.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason))) << text;
    if (*text != '\0') {
      EXPECT_THAT(std::string(parsed.status().message()), ::testing::Not(HasSubstr(text)));
    }
  }
}

}  // namespace
}  // namespace longhaul
