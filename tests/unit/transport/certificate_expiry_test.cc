// EarliestCertificateExpiry: the notAfter a certificate file carries (for
// longhaul_tls_certificate_expiry_timestamp_seconds), the first to expire
// of a bundle, and clear errors for a missing or empty file.
#include "longhaul/transport/certificate_expiry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::transport {
namespace {

namespace fs = std::filesystem;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

fs::path MakeCerts(const std::string& name, int days) {
  const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("longhaul-expiry-", name, "-", getpid());
  const std::string command = absl::StrCat((fs::path(LONGHAUL_SOURCE_DIR) / "scripts" / "make-test-certs").string(),
                                           " ", dir.string(), " --days ", days, " >/dev/null 2>&1");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return dir;
}

TEST(CertificateExpiry, ReadsTheNotAfterOfACertificateAndTheFirstToExpireOfABundle) {
  const fs::path short_lived = MakeCerts("short", 3), long_lived = MakeCerts("long", 400);
  auto hub = EarliestCertificateExpiry((short_lived / "hub.pem").string());
  ASSERT_TRUE(hub.ok()) << hub.status();
  EXPECT_NEAR(static_cast<double>(*hub - NowSeconds()), 3 * 86400.0, 3600.0);

  const fs::path bundle = long_lived / "bundle.pem";
  {
    std::ofstream out(bundle);
    out << std::ifstream(long_lived / "ca.pem").rdbuf();
    out << std::ifstream(short_lived / "ca.pem").rdbuf();
  }
  auto earliest = EarliestCertificateExpiry(bundle.string());
  ASSERT_TRUE(earliest.ok()) << earliest.status();
  EXPECT_NEAR(static_cast<double>(*earliest - NowSeconds()), 3 * 86400.0, 3600.0) << "the short-lived CA counts";
  fs::remove_all(short_lived);
  fs::remove_all(long_lived);
}

TEST(CertificateExpiry, NamesAMissingFileAndOneWithNoCertificate) {
  EXPECT_THAT(EarliestCertificateExpiry("/nonexistent/longhaul/ca.pem"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/longhaul/ca.pem")));
  const fs::path empty = fs::path(::testing::TempDir()) / absl::StrCat("longhaul-expiry-empty-", getpid(), ".pem");
  std::ofstream(empty) << "not a certificate\n";
  EXPECT_THAT(EarliestCertificateExpiry(empty.string()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(empty.string())));
  fs::remove(empty);
}

}  // namespace
}  // namespace longhaul::transport
