#include "longhaul/transport/certificate_expiry.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"

namespace longhaul::transport {

absl::StatusOr<int64_t> EarliestCertificateExpiry(const std::string& file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(file.c_str(), "r"), &BIO_free);
  if (!bio) return absl::NotFoundError(absl::StrCat("cannot open certificate file ", file));
  int64_t earliest = std::numeric_limits<int64_t>::max();
  int count = 0;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(raw, &X509_free);
    // notAfter as seconds since the epoch: the difference from time 0.
    std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> epoch(ASN1_TIME_set(nullptr, 0), &ASN1_TIME_free);
    int days = 0, seconds = 0;
    if (epoch && ASN1_TIME_diff(&days, &seconds, epoch.get(), X509_get0_notAfter(cert.get())) == 1) {
      earliest = std::min<int64_t>(earliest, int64_t{days} * 86'400 + seconds);
      ++count;
    }
  }
  // The read that ended the loop left "no start line" on this thread's
  // OpenSSL error queue; a later TLS call must not find it there.
  ERR_clear_error();
  if (count == 0) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": no PEM certificate with a readable expiry date"));
  }
  return earliest;
}

}  // namespace longhaul::transport
