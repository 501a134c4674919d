// A keep-alive HTTP/1.1 client pool for one upstream (plain TCP or TLS), on one
// io_context. Used from that io_context's thread only; no locks on the hot path.
#pragma once

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/host_port.h"
#include "common/http_types.h"
#include "common/url.h"

namespace boost::asio::ssl {
class context;
}

namespace tandem::http {

struct Upstream {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  boost::asio::ssl::context* ssl = nullptr;  // required when tls; outlives the pool

  // The origin of `url`; `ssl` is used when it is https://.
  static Upstream Of(const Url& url, boost::asio::ssl::context* ssl = nullptr) {
    return {url.host, url.port, url.tls, ssl};
  }
  static Upstream Of(const HostPort& hp) { return {hp.host, hp.port}; }
};

class Connection;

struct PoolLimits {
  size_t max_idle = 4096;      // idle keep-alive connections kept
  size_t max_connections = 0;  // open connections; 0 = no cap. Beyond it requests wait, in order.
  size_t max_waiting = 0;  // requests waiting for a connection; 0 = no cap. Beyond it: kPoolFull.
};

// The error a request gets when max_connections and max_waiting are both reached.
inline constexpr auto kPoolFull = boost::asio::error::no_buffer_space;

class ClientPool : public std::enable_shared_from_this<ClientPool> {
 public:
  using Callback = std::function<void(boost::system::error_code, Response&&)>;

  static std::shared_ptr<ClientPool> Create(boost::asio::io_context& io, Upstream upstream,
                                            PoolLimits limits = {});
  ~ClientPool();

  // Sends `req` (Host is set here) and calls `cb` once, on the pool's thread,
  // with the response or an error (boost::beast::error::timeout past `timeout`).
  // A request that fails on a reused keep-alive connection before any response
  // byte arrived is retried once on a new connection.
  void Send(Request req, std::chrono::milliseconds timeout, Callback cb);
  // As Send, and hands the request back (as sent, Host set) so a caller that may
  // send it again needs no copy of its own.
  using ReturningCallback = std::function<void(boost::system::error_code, Response&&, Request&&)>;
  void SendReturning(Request req, std::chrono::milliseconds timeout, ReturningCallback cb);

  size_t idle() const { return idle_.size(); }
  size_t open() const { return open_; }
  size_t waiting() const { return waiting_.size(); }
  const Upstream& upstream() const { return upstream_; }

 private:
  ClientPool(boost::asio::io_context& io, Upstream upstream, PoolLimits limits);
  struct Op;
  void Start(std::shared_ptr<Op> op, Request&& req, std::chrono::milliseconds timeout);
  void Dispatch(std::shared_ptr<Op> op);
  void Connect(std::shared_ptr<Op> op);
  void Exchange(std::shared_ptr<Op> op, bool reused);
  void Recycle(std::unique_ptr<Connection> c);
  void Complete(const std::shared_ptr<Op>& op, boost::system::error_code ec, Response&& res);

  boost::asio::io_context& io_;
  Upstream upstream_;
  std::string host_header_;
  PoolLimits limits_;
  size_t open_ = 0;
  std::deque<std::unique_ptr<Connection>> idle_;
  std::deque<std::shared_ptr<Op>> waiting_;
};

// Status 2xx.
inline bool IsSuccess(const Response& r) { return r.result_int() >= 200 && r.result_int() < 300; }

}  // namespace tandem::http
