// Private to longhaul_transport: OpenSSL contexts for the link (TLS 1.3
// only, with an optional CRL file), reloaded when their files change on
// disk, and the certificate identity of a peer. Kept out of public headers (Boost.Asio SSL, OpenSSL).
#pragma once

#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "longhaul/transport/link_options.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;

namespace longhaul::transport {

class TlsContextSource {
 public:
  enum class Role { kClient, kServer };
  // `who` prefixes errors and log lines ("edge link", "hub server").
  TlsContextSource(Role role, TlsFiles files, bool require_peer_cert, std::string who);

  // The current context: loaded on first use and reloaded whenever one of
  // the files' modification time, size or inode changed. When a reload
  // fails (say a half-written key), the previous context stays in use and
  // the error is logged once per change; an error is returned only when no
  // context could ever be loaded (InvalidArgument naming the file and
  // OpenSSL's reason). Thread-safe.
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Get();

  // Times a changed set of files was loaded successfully (not counting the
  // first load).
  int reloads() const;

 private:
  struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const FileStamp& o) const {
      return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
             mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  std::vector<FileStamp> Stamp() const;
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Load() const;
  absl::Status LoadCrls(SSL_CTX* native) const;

  const Role role_;
  const TlsFiles files_;
  const bool require_peer_cert_;
  const std::string who_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::vector<FileStamp> stamps_;
  std::vector<FileStamp> failed_stamps_;
  int reloads_ = 0;
};

// Names a certificate answers to: its URI SANs, then "CN" of its subject.
struct CertificateNames {
  std::vector<std::string> uris;
  std::string common_name;
  // The first URI SAN, else the CN.
  std::string Identity() const { return uris.empty() ? common_name : uris.front(); }
};
CertificateNames NamesOf(X509* certificate);
// The verified peer certificate's names (empty when the peer sent none).
CertificateNames PeerNames(SSL* ssl);

// "CN=edge-1, O=Longhaul test" style one-line subject.
std::string SubjectOf(X509* certificate);

// Makes the client check the server certificate against `name` (a DNS name
// or an IP address) and sends it as SNI when it is a DNS name.
absl::Status SetExpectedServerName(SSL* ssl, const std::string& name);

// The reason OpenSSL gives for the most recent failure on this thread,
// cleared afterwards ("" when none).
std::string TakeOpenSslError();

}  // namespace longhaul::transport
