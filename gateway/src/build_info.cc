#include "build_info.h"

#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>

#include <boost/version.hpp>

#include "absl/strings/str_cat.h"
#include "longhaul_git_revision.h"  // generated at build time (cmake/GitRevision.cmake)

namespace longhaul::gateway {

const BuildInfo& GetBuildInfo() {
  // Run-time versions for the shared libraries (what a package upgrade
  // changes under a running binary), compile-time for header-only Boost.
  static const BuildInfo info{
      LONGHAUL_VERSION,
      LONGHAUL_GIT_REVISION,
      rd_kafka_version_str(),
      OpenSSL_version(OPENSSL_VERSION_STRING),
      absl::StrCat(BOOST_VERSION / 100000, ".", BOOST_VERSION / 100 % 1000, ".", BOOST_VERSION % 100),
  };
  return info;
}

std::string BuildInfoText() {
  const BuildInfo& b = GetBuildInfo();
  return absl::StrCat("longhaul ", b.version, " (revision ", b.revision, ")\n", "librdkafka ", b.librdkafka, "\n",
                      "OpenSSL ", b.openssl, "\n", "Boost ", b.boost, "\n");
}

}  // namespace longhaul::gateway
