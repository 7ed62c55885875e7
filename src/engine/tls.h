// TLS for the engine's connections (private to the engine): one OpenSSL client context per run,
// shared read-only by every worker, and the per-connection pieces a worker needs (a new SSL on a
// connected socket, non-blocking reads and writes, why a handshake failed).
//
// Thread-safety: a TlsContext is created before the workers start and only read afterwards
// (OpenSSL allows SSL_new on one SSL_CTX from several threads). An SSL and a SessionCache belong
// to one worker thread. Nothing here allocates per request: SSL objects are created per connection.
#pragma once
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <sys/types.h>

#include "core/status.h"
#include "engine/engine.h"

namespace headroom::engine {

// The session a worker offers on its next connection: the latest one a server issued to it (TLS 1.2
// session or TLS 1.3 ticket). One per worker; freed with it.
struct SessionCache {
  SSL_SESSION* latest = nullptr;
  SessionCache() = default;
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;
  ~SessionCache();
};

// The socket under one connection's SSL. OpenSSL reads through it (with read-ahead: as much as its
// buffer takes), so that a read shorter than asked says the socket is drained and the worker can
// wait for the next epoll edge without one more read() that would only return EAGAIN.
// Reads go through recvmsg so that a socket with SO_TIMESTAMPNS also gives the kernel's receive
// time of the bytes (CLOCK_REALTIME): decrypted responses are then timed when their bytes arrived,
// not when they were read.
struct TlsSocket {
  int fd = -1;
  bool drained = false;            // the last read() returned less than asked, EAGAIN or EOF
  int64_t received_real_ns = -1;   // the receive time the last read reported, if any
};

// What a context offers by ALPN.
enum class AlpnOffer { kHttp1, kH2, kH2AndHttp1 };

class TlsContext {
 public:
  // Loads the system trust store (and options.ca_file), the client certificate and key, and sets
  // TLS 1.2 as the lowest version and ALPN to `offer`. Errors are one line naming the file.
  static Result<std::unique_ptr<TlsContext>> Create(const TlsOptions& options,
                                                    AlpnOffer offer = AlpnOffer::kHttp1);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A client SSL on the connected, non-blocking socket->fd: SNI and the certificate's expected name
  // set, the cache's session offered for resumption, and new sessions saved into *cache.
  // REQUIRES: *socket outlives the SSL. Returns null when OpenSSL cannot allocate one.
  SSL* NewConnection(TlsSocket* socket, SessionCache* cache) const;

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  TlsOptions options_;
  bool ip_literal_ = false;  // server_name is an IP address: checked as one, and no SNI
};

// Three-way results of the non-blocking TLS calls (a negative count).
constexpr ssize_t kTlsRetry = -1;  // OpenSSL waits for the socket: the next epoll edge resumes it
constexpr ssize_t kTlsError = -2;  // a broken connection (reset, bad record...)

// SSL_read / SSL_write: bytes (> 0), 0 on the peer's close (read only), kTlsRetry or kTlsError.
ssize_t TlsRead(SSL* ssl, char* buf, size_t len);
ssize_t TlsWrite(SSL* ssl, const char* buf, size_t len);

// A connection's read and write, through `ssl` when it is not null, else on `fd` (the receive
// time of plaintext bytes goes to *received_real_ns when the kernel gives it): bytes (> 0), 0 on the
// peer's close (read only), kTlsRetry when the socket must wait, kTlsError.
ssize_t ConnRead(int fd, SSL* ssl, char* buf, size_t len, int64_t* received_real_ns);
ssize_t ConnWrite(int fd, SSL* ssl, const char* buf, size_t len);

// Drives SSL_connect: 1 when the handshake is complete, 0 while it waits for the socket, -1 when it
// failed (then *cls and *reason say why: kTlsVerify with the certificate's problem, e.g. "certificate
// expired", or kTlsHandshake with OpenSSL's reason). `host` names the server in the reason.
int TlsHandshake(SSL* ssl, const std::string& host, ErrorClass* cls, std::string* reason);

// One TLS connection to `address`, made before the load starts (blocking, bounded by timeout_ns),
// to learn what the server chooses by ALPN: "h2", "http/1.1" or "" (no choice). An error when no
// handshake completed (connect refused, certificate refused, timeout): the run's workers then meet
// and count the same failure themselves.
Result<std::string> ProbeAlpn(const TlsContext& context, const sys::Address& address, int64_t timeout_ns);

// Sends close_notify when it can (without waiting) and frees the SSL.
void TlsClose(SSL* ssl, bool handshake_done);

}  // namespace headroom::engine
