// A keep-alive HTTP/1.1 client pool for one upstream (plain TCP or TLS), on one
// io_context. Used from that io_context's thread only; no locks on the hot path.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/http_types.h"

namespace boost::asio::ssl {
class context;
}

namespace tandem::http {

struct Upstream {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  boost::asio::ssl::context* ssl = nullptr;  // required when tls; outlives the pool
};

// "http://host:port/path" or "https://host[:port]/path" into an upstream and a target.
bool ParseUrl(const std::string& url, Upstream& out, std::string& target);

class Connection;

class ClientPool : public std::enable_shared_from_this<ClientPool> {
 public:
  using Callback = std::function<void(boost::system::error_code, Response&&)>;

  static std::shared_ptr<ClientPool> Create(boost::asio::io_context& io, Upstream upstream,
                                            size_t max_idle = 4096);
  ~ClientPool();

  // Sends `req` (Host is set here) and calls `cb` once, on the pool's thread,
  // with the response or an error (boost::beast::error::timeout past `timeout`).
  // A request that fails on a reused keep-alive connection before any response
  // byte arrived is retried once on a new connection.
  void Send(Request req, std::chrono::milliseconds timeout, Callback cb);

  size_t idle() const { return idle_.size(); }
  const Upstream& upstream() const { return upstream_; }

  // Internal: a connection that may be reused.
  void Release(std::unique_ptr<Connection> c);

 private:
  ClientPool(boost::asio::io_context& io, Upstream upstream, size_t max_idle);
  struct Op;
  void Attempt(std::shared_ptr<Op> op);

  boost::asio::io_context& io_;
  Upstream upstream_;
  std::string host_header_;
  size_t max_idle_;
  std::deque<std::unique_ptr<Connection>> idle_;
};

// Status 2xx.
inline bool IsSuccess(const Response& r) { return r.result_int() >= 200 && r.result_int() < 300; }

}  // namespace tandem::http
