// TlsContextSource (tls.h): loading, clear errors naming the file, reload on
// change, and keeping the previous certificates when a changed file cannot
// be loaded. Certificates come from scripts/make-test-certs in a temp dir.
#include "tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "longhaul/testing/status_matchers.h"

namespace longhaul::transport {
namespace {

namespace fs = std::filesystem;
using ::longhaul::testing::IsOk;
using ::longhaul::testing::StatusIs;
using ::testing::HasSubstr;

class TlsContextSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path root(LONGHAUL_SOURCE_DIR);
    certs_ = new fs::path(fs::path(::testing::TempDir()) / absl::StrCat("longhaul-tls-unit-", getpid()));
    const std::string command =
        absl::StrCat((root / "scripts" / "make-test-certs").string(), " ", certs_->string(), " >/dev/null 2>&1");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*certs_);
    delete certs_;
  }
  void SetUp() override {
    dir_ = *certs_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }
  // Replaces `to` in the test's directory by a copy of a generated file,
  // the way rotation tools do (write aside, rename over).
  void Put(const std::string& from, const std::string& to) {
    fs::copy_file(*certs_ / from, dir_ / (to + ".tmp"), fs::copy_options::overwrite_existing);
    fs::rename(dir_ / (to + ".tmp"), dir_ / to);
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  static fs::path* certs_;
  fs::path dir_;
};
fs::path* TlsContextSourceTest::certs_ = nullptr;

TEST_F(TlsContextSourceTest, LoadsOnceAndReusesTheContextWhileFilesAreUnchanged) {
  Put("ca.pem", "ca.pem");
  Put("hub.pem", "hub.pem");
  Put("hub.key", "hub.key");
  TlsContextSource source(TlsContextSource::Role::kServer, {Path("ca.pem"), Path("hub.pem"), Path("hub.key")}, true,
                          "hub server");
  auto first = source.Get();
  ASSERT_THAT(first, IsOk());
  auto second = source.Get();
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(source.reloads(), 0);
}

TEST_F(TlsContextSourceTest, NamesTheFileThatCannotBeLoaded) {
  Put("ca.pem", "ca.pem");
  Put("edge.pem", "edge.pem");
  Put("hub.key", "wrong.key");
  TlsContextSource missing(TlsContextSource::Role::kClient, {Path("nope.pem"), "", ""}, true, "edge link");
  EXPECT_THAT(missing.Get(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("edge link: tls.ca_file " + Path("nope.pem"))));
  TlsContextSource mismatch(TlsContextSource::Role::kClient, {Path("ca.pem"), Path("edge.pem"), Path("wrong.key")},
                            true, "edge link");
  const absl::Status status = mismatch.Get().status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("edge link: tls.key_file " + Path("wrong.key"))))
      << status;
}

TEST_F(TlsContextSourceTest, ReloadsWhenAFileChangesAndKeepsTheOldOneWhenTheNewIsBroken) {
  Put("ca.pem", "ca.pem");
  Put("edge.pem", "edge.pem");
  Put("edge.key", "edge.key");
  TlsContextSource source(TlsContextSource::Role::kClient, {Path("ca.pem"), Path("edge.pem"), Path("edge.key")}, true,
                          "edge link");
  auto original = source.Get();
  ASSERT_THAT(original, IsOk());

  // Rotation to another valid pair: a new context.
  Put("other-edge.pem", "edge.pem");
  Put("other-edge.key", "edge.key");
  auto rotated = source.Get();
  ASSERT_THAT(rotated, IsOk());
  EXPECT_NE(rotated->get(), original->get());
  EXPECT_EQ(source.reloads(), 1);

  // A half-written certificate: the rotated context stays in use, no error.
  {
    std::ofstream broken(dir_ / "edge.pem.tmp");
    broken << "-----BEGIN CERTIFICATE-----\nMIIB";
  }
  fs::rename(dir_ / "edge.pem.tmp", dir_ / "edge.pem");
  auto kept = source.Get();
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->get(), rotated->get());
  EXPECT_EQ(source.reloads(), 1);

  // Fixed: loaded again.
  Put("edge.pem", "edge.pem");
  Put("edge.key", "edge.key");
  auto fixed = source.Get();
  ASSERT_THAT(fixed, IsOk());
  EXPECT_NE(fixed->get(), rotated->get());
  EXPECT_EQ(source.reloads(), 2);
}

}  // namespace
}  // namespace longhaul::transport
