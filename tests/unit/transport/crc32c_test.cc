#include "longhaul/transport/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace longhaul::transport {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  // RFC 3720 (iSCSI) appendix B.4 vectors.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32c, ExtendsAcrossSplitsAndAlignmentsLikeOneCall) {
  std::mt19937 rng(7);
  std::string data(1000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); split += 37) {
    const uint32_t first = Crc32c(0, data.data(), split);
    EXPECT_EQ(Crc32c(first, data.data() + split, data.size() - split), whole) << "split at " << split;
  }
  // Unaligned starts take the same path as aligned ones.
  for (size_t start = 1; start < 9; ++start) {
    const std::string tail = data.substr(start);
    EXPECT_EQ(Crc32c(0, data.data() + start, data.size() - start), Crc32c(tail));
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  const std::string data = "a frame header and some payload bytes";
  const uint32_t good = Crc32c(data);
  for (size_t i = 0; i < data.size() * 8; ++i) {
    std::string bad = data;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    EXPECT_NE(Crc32c(bad), good) << "bit " << i;
  }
}

}  // namespace
}  // namespace longhaul::transport
