// Test-only: a blocking HTTP/1.1 client for the target's tests (plain sockets, 20 s read limit).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace headroom::target::testing {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A blocking client connection with its own read buffer. Reads time out after 20 s so that a
// broken server fails the test instead of hanging it.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  void Get(const std::string& path, const std::string& method = "GET") {
    Send(method + " " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

  // Reads one response; HEAD responses have no body. False on EOF/error before it completes.
  bool Read(Response* r, bool head = false) {
    *r = Response{};
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    std::string head_block = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r->status = std::stoi(head_block.substr(9, 3));
    for (size_t pos = head_block.find("\r\n") + 2; pos < head_block.size();) {
      size_t eol = head_block.find("\r\n", pos);
      std::string line = head_block.substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      r->headers[name] = line.substr(colon + 2);
      pos = eol + 2;
    }
    if (head || r->status == 204 || r->status == 304) return true;
    if (r->headers.count("transfer-encoding")) return ReadChunked(r);
    size_t len = std::stoul(r->headers["content-length"]);
    while (buf_.size() < len) {
      if (!Fill()) return false;
    }
    r->body = buf_.substr(0, len);
    buf_.erase(0, len);
    return true;
  }

  // Reads everything until the server closes; returns the bytes.
  std::string ReadToEof() {
    while (Fill()) {
    }
    std::string all = std::move(buf_);
    buf_.clear();
    return all;
  }
  bool AtEof() { return buf_.empty() && !Fill(); }
  // True if response bytes are already buffered or waiting in the socket (does not block).
  bool HasData() {
    char b;
    return !buf_.empty() || recv(fd_, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  bool ReadChunked(Response* r) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill()) return false;
      }
      size_t n = std::stoul(buf_.substr(0, eol), nullptr, 16);
      while (buf_.size() < eol + 2 + n + 2) {
        if (!Fill()) return false;
      }
      r->body += buf_.substr(eol + 2, n);
      buf_.erase(0, eol + 2 + n + 2);
      if (n == 0) return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace headroom::target::testing
