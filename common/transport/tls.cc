#include "common/transport/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <memory>

namespace weft::ctl {
namespace {

namespace ssl = boost::asio::ssl;

Status load(const char* what, const std::string& path, boost::system::error_code ec) {
  if (!ec) return ok();
  std::string why = openssl_errors();
  return Unexpected{std::string(what) + " " + path + ": " + (why.empty() ? ec.message() : why)};
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Expected<std::shared_ptr<ssl::context>> make_tls_context(TlsRole role, const TlsFiles& files,
                                                         PeerCerts peer) {
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(role == TlsRole::kServer ? ssl::context::tls_server
                                                                     : ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    return Unexpected{"TLS: cannot require TLS 1.2: " + openssl_errors()};
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);

  boost::system::error_code ec;
  if (files.ca.empty()) return Unexpected{"TLS: a CA file is required"};
  ctx->load_verify_file(files.ca, ec);
  if (auto s = load("CA", files.ca, ec); !s) return Unexpected{s.error()};

  if (files.cert.empty() != files.key.empty())
    return Unexpected{"TLS: a certificate needs its key and a key its certificate"};
  if (!files.cert.empty()) {
    ctx->use_certificate_chain_file(files.cert, ec);
    if (auto s = load("certificate", files.cert, ec); !s) return Unexpected{s.error()};
    ctx->use_private_key_file(files.key, ssl::context::pem, ec);
    if (auto s = load("key", files.key, ec); !s) return Unexpected{s.error()};
    if (SSL_CTX_check_private_key(native) != 1)
      return Unexpected{"TLS: key " + files.key + " does not match certificate " + files.cert};
  } else if (role == TlsRole::kServer) {
    return Unexpected{"TLS: a server needs a certificate and a key"};
  }

  int mode = ssl::verify_peer;
  if (role == TlsRole::kServer && peer == PeerCerts::kRequire)
    mode |= ssl::verify_fail_if_no_peer_cert;
  ctx->set_verify_mode(mode, ec);
  if (ec) return Unexpected{"TLS: " + ec.message()};
  return ctx;
}

Status require_crl(ssl::context& ctx, const std::string& crl_path) {
  ERR_clear_error();
  // Checked for the peer's own certificate (the CA issues no intermediates).
  // With the flag set, a certificate whose issuer has no CRL here fails too.
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (!lookup || X509_load_crl_file(lookup, crl_path.c_str(), X509_FILETYPE_PEM) < 1)
    return Unexpected{"CRL " + crl_path + ": " + openssl_errors()};
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return ok();
}

Status expect_peer_host(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return Unexpected{"TLS: cannot expect address " + host};
    return ok();
  }
  // SNI lets a controller behind a TLS-terminating proxy pick its certificate.
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1)
    return Unexpected{"TLS: cannot expect host " + host};
  return ok();
}

namespace {

struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

// The peer's certificate if it verified, else null.
std::unique_ptr<X509, X509Free> verified_peer(SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return nullptr;
  return std::unique_ptr<X509, X509Free>(SSL_get1_peer_certificate(ssl));
}

// The certificate's subjectAltNames of `type` (GEN_DNS, GEN_URI), as text.
std::vector<std::string> alt_names(X509* cert, int type) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type != type) continue;
    const ASN1_IA5STRING* s = gn->d.ia5;  // dNSName and uniformResourceIdentifier alike
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

}  // namespace

std::vector<std::string> peer_names(SSL* ssl) {
  std::vector<std::string> names;
  auto owned = verified_peer(ssl);
  if (!owned) return names;
  X509* cert = owned.get();

  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, cn);
    if (len > 0) names.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }

  for (auto& dns : alt_names(cert, GEN_DNS)) names.push_back(std::move(dns));

  // A name with an embedded NUL would compare equal to its prefix in C code;
  // we compare std::strings, but such a certificate is hostile: drop the name.
  std::erase_if(names, [](const std::string& n) { return n.find('\0') != std::string::npos; });
  return names;
}

bool peer_is(SSL* ssl, std::string_view name) {
  const auto names = peer_names(ssl);
  return std::find(names.begin(), names.end(), name) != names.end();
}

PeerRole peer_role(SSL* ssl) {
  auto cert = verified_peer(ssl);
  if (!cert) return PeerRole::kNone;
  bool admin = false, node = false;
  for (const auto& uri : alt_names(cert.get(), GEN_URI)) {
    admin |= uri == kAdminRoleUri;
    node |= uri == kNodeRoleUri;
  }
  if (admin == node) return PeerRole::kNone;  // neither, or a certificate claiming both
  return admin ? PeerRole::kAdmin : PeerRole::kNode;
}

}  // namespace weft::ctl
