#pragma once
// TLS material and peer identity for every control-plane connection: the
// southbound channel (controller <-> agents), the HTTP API, and weftctl.
// One CA is the trust anchor for all parties; see scripts/dev-ca. Its CRL,
// when given, makes a revoked certificate fail the handshake.
//
//   auto ctx = make_tls_context(TlsRole::kServer, files, PeerCerts::kRequire);
//   if (!ctx) fail(ctx.error());
//   ... after the handshake:
//   auto names = peer_names(stream.native_handle());   // CN and DNS SANs
//   if (peer_role(stream.native_handle()) == PeerRole::kAdmin) ...
//
// Roles: what a certificate may do is written in it, as a subjectAltName URI
// that the CA sets, never inferred from its name or from the policy:
//
//   URI:weft:role:admin   an operator: the API (read and change the policy)
//   URI:weft:role:node    a node: the southbound, under its own name only
//
// A certificate with neither, or with both, has no role and is granted
// nothing.
//
// Contexts are built once at start-up (on any thread) and then shared by the
// connections of one io_context; the peer functions take a connection's SSL*
// and run on that connection's thread.

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/expected.h"

typedef struct ssl_st SSL;

namespace weft::ctl {

// Paths of PEM files. `cert` and `key` may be empty for a client that
// authenticates otherwise (weftctl with a bearer token).
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
};

enum class TlsRole { kServer, kClient };

enum class PeerCerts {
  kRequire,   // the peer must present a certificate signed by the CA
  kOptional,  // a presented certificate must verify; none is also accepted
};

// TLS 1.2 or later, certificate chain and key checked against each other,
// verification against `files.ca`. Shared because every stream made from it
// holds a reference: it must outlive the connections, wherever they end.
Expected<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(TlsRole role,
                                                                      const TlsFiles& files,
                                                                      PeerCerts peer);

// Makes `ctx` check peer certificates against the CA's CRL in `crl_path`
// (PEM): a revoked certificate then fails the handshake. Read once; a new
// CRL takes effect for contexts made after it.
Status require_crl(boost::asio::ssl::context& ctx, const std::string& crl_path);

// For a client: send SNI and require the server certificate to name `host`
// (an IP address is matched against IP SANs, a name against DNS SANs).
Status expect_peer_host(SSL* ssl, const std::string& host);

// The verified peer certificate's subject CN followed by its DNS SANs; empty
// when the peer sent no certificate or it did not verify.
std::vector<std::string> peer_names(SSL* ssl);

// True when `name` is among the verified peer certificate's names.
bool peer_is(SSL* ssl, std::string_view name);

enum class PeerRole { kNone, kAdmin, kNode };
inline constexpr std::string_view kAdminRoleUri = "weft:role:admin";
inline constexpr std::string_view kNodeRoleUri = "weft:role:node";

// The verified peer certificate's role (above); kNone when there is no
// verified certificate.
PeerRole peer_role(SSL* ssl);

// OpenSSL's error queue, drained into one line (for logs and Expected errors).
std::string openssl_errors();

}  // namespace weft::ctl
