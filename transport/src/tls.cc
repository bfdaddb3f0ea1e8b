#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "longhaul/base/logging.h"

namespace longhaul::transport {
namespace {

namespace ssl = boost::asio::ssl;

absl::Status FileError(const std::string& who, const char* field, const std::string& path,
                       const boost::system::error_code& ec) {
  std::string reason = TakeOpenSslError();
  if (reason.empty()) reason = ec.message();
  return absl::InvalidArgumentError(absl::StrCat(who, ": ", field, " ", path, ": ", reason));
}

}  // namespace

std::string TakeOpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // "error:0A000086:SSL routines::certificate verify failed" -> keep the reason.
    const char* reason = ERR_reason_error_string(e);
    out += reason != nullptr ? reason : buf;
  }
  return out;
}

TlsContextSource::TlsContextSource(Role role, TlsFiles files, bool require_peer_cert, std::string who)
    : role_(role), files_(std::move(files)), require_peer_cert_(require_peer_cert), who_(std::move(who)) {}

std::vector<TlsContextSource::FileStamp> TlsContextSource::Stamp() const {
  std::vector<FileStamp> stamps;
  for (const std::string* path : {&files_.ca_file, &files_.cert_file, &files_.key_file, &files_.crl_file}) {
    FileStamp s;
    struct stat st {};
    if (!path->empty() && ::stat(path->c_str(), &st) == 0) {
      s.exists = true;
      s.dev = st.st_dev;
      s.ino = st.st_ino;
      s.size = st.st_size;
      s.mtime = st.st_mtim;
    }
    stamps.push_back(s);
  }
  return stamps;
}

absl::Status TlsContextSource::LoadCrls(SSL_CTX* native) const {
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  X509_LOOKUP* lookup = store == nullptr ? nullptr : X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr) {
    return absl::InternalError(absl::StrCat(who_, ": cannot set up CRL checking: ", TakeOpenSslError()));
  }
  const int loaded = X509_load_crl_file(lookup, files_.crl_file.c_str(), X509_FILETYPE_PEM);
  if (loaded <= 0) {
    std::string reason = TakeOpenSslError();
    if (reason.empty()) reason = "no CRL in the file";
    return absl::InvalidArgumentError(absl::StrCat(who_, ": tls.crl_file ", files_.crl_file, ": ", reason));
  }
  // The leaf only: a CA's own revocation would need its parent's CRL, and
  // the root has none.
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ssl::context>> TlsContextSource::Load() const {
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(role_ == Role::kClient ? ssl::context::tls_client : ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // TLS 1.3 only: no renegotiation, encrypted certificates, 1-RTT handshake.
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    return absl::InternalError(absl::StrCat(who_, ": cannot require TLS 1.3: ", TakeOpenSslError()));
  }
  // A hub holds hundreds of mostly idle connections: OpenSSL's read and
  // write record buffers (~34 KB a connection) are freed while idle.
  if (role_ == Role::kServer) SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  if (!files_.cert_file.empty()) {
    if (ctx->use_certificate_chain_file(files_.cert_file, ec); ec) {
      return FileError(who_, "tls.cert_file", files_.cert_file, ec);
    }
    if (ctx->use_private_key_file(files_.key_file, ssl::context::pem, ec); ec) {
      return FileError(who_, "tls.key_file", files_.key_file, ec);
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(who_, ": tls.key_file ", files_.key_file,
                                                     " does not match tls.cert_file ", files_.cert_file, ": ",
                                                     TakeOpenSslError()));
    }
  }
  const bool verify = role_ == Role::kClient || require_peer_cert_;
  if (verify) {
    if (ctx->load_verify_file(files_.ca_file, ec); ec) return FileError(who_, "tls.ca_file", files_.ca_file, ec);
    ssl::verify_mode mode = ssl::verify_peer;
    if (role_ == Role::kServer) {
      mode |= ssl::verify_fail_if_no_peer_cert;
      // Tell clients which CA we accept (helps clients with several certs).
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files_.ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(native, names);
      }
    }
    ctx->set_verify_mode(mode);
    if (!files_.crl_file.empty()) {
      if (absl::Status s = LoadCrls(native); !s.ok()) return s;
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  ERR_clear_error();
  return ctx;
}

absl::StatusOr<std::shared_ptr<ssl::context>> TlsContextSource::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FileStamp> now = Stamp();
  if (context_ && now == stamps_) return context_;
  if (context_ && now == failed_stamps_) return context_;  // already reported
  absl::StatusOr<std::shared_ptr<ssl::context>> loaded = Load();
  if (!loaded.ok()) {
    if (!context_) return loaded.status();
    failed_stamps_ = now;
    LogError("TLS files changed but cannot be loaded; keeping the previous certificates",
             {{"who", who_}, {"error", std::string(loaded.status().message())}});
    return context_;
  }
  if (context_) {
    ++reloads_;
    LogInfo("TLS files changed on disk: reloaded certificates",
            {{"who", who_}, {"cert", files_.cert_file}, {"crl", files_.crl_file}});
  }
  context_ = *std::move(loaded);
  stamps_ = std::move(now);
  failed_stamps_.clear();
  return context_;
}

int TlsContextSource::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

CertificateNames NamesOf(X509* certificate) {
  CertificateNames names;
  if (certificate == nullptr) return names;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      names.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                              static_cast<size_t>(ASN1_STRING_length(uri)));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = subject == nullptr ? -1 : X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) names.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  return names;
}

CertificateNames PeerNames(SSL* ssl) { return NamesOf(SSL_get0_peer_certificate(ssl)); }

std::string SubjectOf(X509* certificate) {
  if (certificate == nullptr) return "(none)";
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(certificate), buf, sizeof buf);
  return buf;
}

absl::Status SetExpectedServerName(SSL* ssl, const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  const bool is_ip = !ec;
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad server address '", name, "'"));
    }
    return absl::OkStatus();
  }
  if (SSL_set1_host(ssl, name.c_str()) != 1 || SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad server name '", name, "': ", TakeOpenSslError()));
  }
  return absl::OkStatus();
}

}  // namespace longhaul::transport
