#include "engine/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "engine/worker_core.h"
#include "sys/sys.h"

namespace headroom::engine {
namespace {

// ALPN protocol list in wire format: length-prefixed names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
constexpr unsigned char kAlpnH2Http11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string LastOpenSslError() {
  const unsigned long e = ERR_peek_last_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// One recvmsg (EINTR retried); sets *received_real_ns when the kernel reported the bytes' receive
// time (SO_TIMESTAMPNS), leaves it otherwise. Returns what recvmsg returned, errno intact.
ssize_t RecvStamped(int fd, char* buf, size_t len, int64_t* received_real_ns) {
  iovec iov{buf, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ssize_t n;
  do {
    m.msg_control = control;
    m.msg_controllen = sizeof(control);
    n = recvmsg(fd, &m, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    for (cmsghdr* cm = CMSG_FIRSTHDR(&m); cm != nullptr; cm = CMSG_NXTHDR(&m, cm)) {
      if (const int64_t at = ReceiveTimeRealNs(cm); at >= 0) *received_real_ns = at;
    }
  }
  return n;
}

// A BIO on a non-blocking socket that notes when a read drained it (see TlsSocket).
int SocketRead(BIO* b, char* buf, int len) {
  auto* s = static_cast<TlsSocket*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  const ssize_t n = RecvStamped(s->fd, buf, size_t(len), &s->received_real_ns);
  if (n < 0) {
    s->drained = true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
    return -1;
  }
  s->drained = n < len;
  return int(n);
}

int SocketWrite(BIO* b, const char* buf, int len) {
  auto* s = static_cast<TlsSocket*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  for (;;) {
    const ssize_t n = ::write(s->fd, buf, size_t(len));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(b);
    return int(n);
  }
}

long SocketCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int SocketCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

// Created once, shared by every connection (OpenSSL only reads it).
const BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "headroom socket");
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Saves each session the server issues (a TLS 1.3 server may send several tickets: the latest wins).
int OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* cache = static_cast<SessionCache*>(SSL_get_app_data(ssl));
  if (cache == nullptr) return 0;
  if (cache->latest != nullptr) SSL_SESSION_free(cache->latest);
  cache->latest = session;
  return 1;  // we keep the reference
}

// The certificate's problem in words a user acts on.
std::string VerifyReason(long result, const std::string& host) {
  const std::string openssl = X509_verify_cert_error_string(result);
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate expired (" + openssl + ")";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate not yet valid (" + openssl + ")";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "hostname mismatch: the certificate is not for " + host + " (" + openssl + ")";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown CA: the certificate is not signed by a trusted CA (" + openssl +
             "); add the CA with --cacert FILE, or skip verification with --insecure";
    default:
      return openssl;
  }
}

}  // namespace

SessionCache::~SessionCache() {
  if (latest != nullptr) SSL_SESSION_free(latest);
}

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options, AlpnOffer offer) {
  std::unique_ptr<TlsContext> t(new TlsContext());
  t->options_ = options;
  t->ip_literal_ = IsIpLiteral(options.server_name);
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (t->ctx_ == nullptr) return Fail("TLS: cannot create a client context: " + LastOpenSslError());
  SSL_CTX* ctx = t->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A server that closes without close_notify ends the stream like a plain EOF would.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);  // one read() takes what the socket holds (see TlsSocket)
  switch (offer) {
    case AlpnOffer::kHttp1: SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof kAlpnHttp11); break;
    case AlpnOffer::kH2: SSL_CTX_set_alpn_protos(ctx, kAlpnH2, sizeof kAlpnH2); break;
    case AlpnOffer::kH2AndHttp1: SSL_CTX_set_alpn_protos(ctx, kAlpnH2Http11, sizeof kAlpnH2Http11); break;
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, OnNewSession);
  if (options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      ERR_clear_error();  // no system store: only --cacert can then make a certificate trusted
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    std::string why = LastOpenSslError();
    ERR_clear_error();
    return Fail("CA file '" + options.ca_file + "': cannot load a PEM certificate from it (" + why + ")");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Fail("a client certificate needs both a certificate file and a key file");
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      std::string why = LastOpenSslError();
      ERR_clear_error();
      return Fail("certificate file '" + options.cert_file + "': cannot load a PEM certificate from it (" + why + ")");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string why = LastOpenSslError();
      ERR_clear_error();
      if (why == "key values mismatch") {
        return Fail("key file '" + options.key_file + "' does not match certificate '" + options.cert_file + "'");
      }
      return Fail("key file '" + options.key_file + "': cannot load a PEM private key from it (" + why + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return Fail("key file '" + options.key_file + "' does not match certificate '" + options.cert_file + "'");
    }
  }
  return t;
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

SSL* TlsContext::NewConnection(TlsSocket* socket, SessionCache* cache) const {
  SSL* ssl = SSL_new(ctx_);
  BIO* bio = ssl != nullptr ? BIO_new(SocketMethod()) : nullptr;
  if (bio == nullptr) {
    if (ssl != nullptr) SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  socket->drained = false;
  socket->received_real_ns = -1;
  BIO_set_data(bio, socket);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO (one reference for both directions)
  SSL_set_app_data(ssl, cache);
  const std::string& host = options_.server_name;
  if (!ip_literal_ && !host.empty()) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (options_.verify && !host.empty()) {
    if (ip_literal_) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set1_host(ssl, host.c_str());
    }
  }
  if (options_.resume && cache != nullptr && cache->latest != nullptr) SSL_set_session(ssl, cache->latest);
  SSL_set_connect_state(ssl);
  return ssl;
}

ssize_t TlsRead(SSL* ssl, char* buf, size_t len) {
  const int n = SSL_read(ssl, buf, int(std::min<size_t>(len, 1 << 30)));
  if (n > 0) return n;
  switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return kTlsRetry;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default:
      // The error queue must be empty before the next call on this thread for SSL_get_error to be right.
      ERR_clear_error();
      return kTlsError;
  }
}

ssize_t TlsWrite(SSL* ssl, const char* buf, size_t len) {
  const int n = SSL_write(ssl, buf, int(std::min<size_t>(len, 1 << 30)));
  if (n > 0) return n;
  switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return kTlsRetry;
    default:
      ERR_clear_error();
      return kTlsError;
  }
}

int TlsHandshake(SSL* ssl, const std::string& host, ErrorClass* cls, std::string* reason) {
  const int r = SSL_connect(ssl);
  if (r == 1) return 1;
  const int err = SSL_get_error(ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    *cls = ErrorClass::kTlsVerify;
    *reason = VerifyReason(verify, host);
  } else {
    *cls = ErrorClass::kTlsHandshake;
    if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
      *reason = errno != 0 && ERR_peek_last_error() == 0 ? std::string("connection broken during the handshake: ") +
                                                              std::strerror(errno)
                                                        : "the server closed the connection during the handshake";
    } else {
      *reason = LastOpenSslError();
      if (*reason == "wrong version number" || *reason == "packet length too long" ||
          *reason == "record layer failure") {
        *reason += " (is the server speaking plain HTTP on this port? try http://)";
      }
    }
  }
  ERR_clear_error();
  return -1;
}

Result<std::string> ProbeAlpn(const TlsContext& context, const sys::Address& address, int64_t timeout_ns) {
  const int64_t deadline = MonoNowNs() + timeout_ns;
  int err = 0;
  const int fd = sys::StartConnect(address, &err);
  if (fd < 0) return Fail(std::strerror(err));
  TlsSocket socket;
  socket.fd = fd;
  SSL* ssl = nullptr;
  std::string failure;
  for (;;) {
    const int64_t left_ns = deadline - MonoNowNs();
    if (left_ns <= 0) {
      failure = "no TLS handshake within the connect timeout";
      break;
    }
    if (ssl == nullptr) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, int(left_ns / 1'000'000) + 1) <= 0) continue;
      if (const int e = sys::ConnectResult(fd); e != 0) {
        failure = std::strerror(e);
        break;
      }
      ssl = context.NewConnection(&socket, nullptr);
      if (ssl == nullptr) {
        failure = "cannot allocate a TLS session";
        break;
      }
    }
    const int r = SSL_connect(ssl);
    if (r == 1) break;
    const int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      failure = "TLS handshake failed";
      ERR_clear_error();
      break;
    }
    pollfd p{fd, short(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    ::poll(&p, 1, int(left_ns / 1'000'000) + 1);
  }
  std::string chosen;
  if (failure.empty()) {
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    chosen.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  }
  if (ssl != nullptr) TlsClose(ssl, failure.empty());
  ::close(fd);
  if (!failure.empty()) return Fail(failure);
  return chosen;
}

void TlsClose(SSL* ssl, bool handshake_done) {
  if (handshake_done) SSL_shutdown(ssl);  // one non-blocking attempt: close_notify when the socket takes it
  ERR_clear_error();
  SSL_free(ssl);
}

ssize_t ConnRead(int fd, SSL* ssl, char* buf, size_t len, int64_t* received_real_ns) {
  if (ssl != nullptr) {
    const ssize_t n = TlsRead(ssl, buf, len);
    // The bytes came from the socket's last read or an earlier one: its time is never too early.
    if (n > 0) *received_real_ns = static_cast<const TlsSocket*>(BIO_get_data(SSL_get_rbio(ssl)))->received_real_ns;
    return n;
  }
  const ssize_t n = RecvStamped(fd, buf, len, received_real_ns);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EWOULDBLOCK ? kTlsRetry : kTlsError;
}

ssize_t ConnWrite(int fd, SSL* ssl, const char* buf, size_t len) {
  if (ssl != nullptr) return TlsWrite(ssl, buf, len);
  for (;;) {
    ssize_t n = write(fd, buf, len);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? kTlsRetry : kTlsError;
  }
}

}  // namespace headroom::engine
