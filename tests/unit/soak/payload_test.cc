#include "longhaul/soak/payload.h"

#include <gtest/gtest.h>

namespace longhaul::soak {
namespace {

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, ChainsLikeOneCall) {
  std::string data(1000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  EXPECT_EQ(Crc32c(data.substr(300), Crc32c(data.substr(0, 300))), Crc32c(data));
}

TEST(Payload, HeaderIsTheDocumentedText) {
  std::string value = EncodePayload(PayloadId{0x0a1b2c3d, 3, 42, kPayloadFromAbortedTransaction}, 70, "z");
  ASSERT_EQ(value.size(), 70u);
  EXPECT_EQ(value.substr(0, 52), "LHG1 0a1b2c3d 00000003 000000000000002a 00000009 01 ");
  EXPECT_EQ(value.substr(52, 9), "3fba9afc\n");  // the example in soak/README.md
  EXPECT_EQ(value.substr(61), std::string(9, 'z'));
}

TEST(Payload, RoundTripsItsIdentity) {
  PayloadId id{0xfeedbeef, 7, 123456789012ull, 0};
  ParsedPayload parsed = ParsePayload(EncodePayload(id, 500, "filler"));
  EXPECT_EQ(parsed.result, PayloadParse::kValid) << parsed.error;
  EXPECT_EQ(parsed.id, id);
}

TEST(Payload, SizeBelowTheHeaderIsRaisedToIt) {
  EXPECT_EQ(EncodePayload(PayloadId{}, 10, "").size(), kPayloadHeaderSize);
  EXPECT_EQ(ParsePayload(EncodePayload(PayloadId{}, 0, "")).result, PayloadParse::kValid);
}

TEST(Payload, FlippedFillerByteFailsTheChecksum) {
  std::string value = EncodePayload(PayloadId{1, 0, 5, 0}, 200, "abc");
  value[150] ^= 0x01;
  ParsedPayload parsed = ParsePayload(value);
  EXPECT_EQ(parsed.result, PayloadParse::kCorrupt);
  EXPECT_TRUE(parsed.id_parsed);
  EXPECT_EQ(parsed.id.sequence, 5u);
  EXPECT_NE(parsed.error.find("checksum"), std::string::npos) << parsed.error;
}

TEST(Payload, ChangedSequenceDigitFailsTheChecksum) {
  std::string value = EncodePayload(PayloadId{1, 0, 5, 0}, 100, "abc");
  value[38] = '6';
  EXPECT_EQ(ParsePayload(value).result, PayloadParse::kCorrupt);
}

TEST(Payload, TruncatedValueIsCorruptNotAssertedOn) {
  std::string value = EncodePayload(PayloadId{1, 0, 5, 0}, 100, "abc");
  EXPECT_EQ(ParsePayload(std::string_view(value).substr(0, 99)).result, PayloadParse::kCorrupt);
  EXPECT_EQ(ParsePayload(std::string_view(value).substr(0, 30)).result, PayloadParse::kCorrupt);
  value[20] = 'G';  // not a hex digit
  EXPECT_EQ(ParsePayload(value).result, PayloadParse::kCorrupt);
}

TEST(Payload, ArbitraryValuesAreNotGenerated) {
  EXPECT_EQ(ParsePayload(std::nullopt).result, PayloadParse::kNotGenerated);
  EXPECT_EQ(ParsePayload("").result, PayloadParse::kNotGenerated);
  EXPECT_EQ(ParsePayload("hello world").result, PayloadParse::kNotGenerated);
  EXPECT_EQ(ParsePayload("LHG").result, PayloadParse::kNotGenerated);
}

}  // namespace
}  // namespace longhaul::soak
