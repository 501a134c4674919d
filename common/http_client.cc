#include "common/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "common/http_write.h"
#include "common/io_stream_types.h"

namespace tandem::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

class Connection {
 public:
  // got_bytes: whether any part of a response arrived (then a retry is unsafe).
  using Done = std::function<void(error_code, Response&&, bool got_bytes)>;
  virtual ~Connection() = default;
  virtual void Connect(const tcp::resolver::results_type& eps, Clock::time_point deadline,
                       std::function<void(error_code)> done) = 0;
  virtual void Exchange(Request& req, Clock::time_point deadline, Done done) = 0;

  bool reusable = true;
  Clock::time_point idle_since;
};

namespace {

constexpr uint64_t kResponseBodyLimit = 64ull << 20;
// Idle connections older than this are not reused: servers close idle keep-alive
// connections (nginx after 75 s, Google after a few minutes), and a reused dead
// connection costs a retry.
constexpr auto kMaxIdle = std::chrono::seconds(30);

template <class Stream>
class ConnectionT final : public Connection {
 public:
  template <class... Args>
  explicit ConnectionT(std::string host, Args&&... args)
      : host_(std::move(host)), stream_(std::forward<Args>(args)...) {}

  void Connect(const tcp::resolver::results_type& eps, Clock::time_point deadline,
               std::function<void(error_code)> done) override {
    auto& tcp_layer = beast::get_lowest_layer(stream_);
    tcp_layer.expires_at(deadline);
    tcp_layer.async_connect(
        eps, [this, deadline, done = std::move(done)](error_code ec, const tcp::endpoint&) {
          if (ec) return done(ec);
          error_code ignored;
          beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ignored);
          if constexpr (std::is_same_v<Stream, TcpStream>) {
            (void)deadline;  // only the TLS handshake below needs it
            done(ec);
          } else {
            if (!SSL_set_tlsext_host_name(stream_.native_handle(), host_.c_str())) {
              return done(
                  error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
            }
            stream_.set_verify_mode(asio::ssl::verify_peer);
            stream_.set_verify_callback(asio::ssl::host_name_verification(host_));
            beast::get_lowest_layer(stream_).expires_at(deadline);
            stream_.async_handshake(asio::ssl::stream_base::client,
                                    [done](error_code ec) { done(ec); });
          }
        });
  }

  void Exchange(Request& req, Clock::time_point deadline, Done done) override {
    beast::get_lowest_layer(stream_).expires_at(deadline);
    auto written = [this, done = std::move(done)](error_code ec, size_t) mutable {
      if (ec) return done(ec, Response{}, false);
      parser_.emplace();
      parser_->body_limit(kResponseBodyLimit);
      bhttp::async_read(stream_, buffer_, *parser_,
                        [this, done = std::move(done)](error_code ec, size_t n) {
                          bool got = n > 0 || parser_->got_some();
                          if (ec) {
                            reusable = false;
                            return done(ec, Response{}, got);
                          }
                          Response res = parser_->release();
                          reusable = res.keep_alive();
                          done(ec, std::move(res), true);
                        });
    };
    AsyncWriteMessage(stream_, req, wire_, std::move(written));
  }

 private:
  std::string host_;
  Stream stream_;
  std::string wire_;  // the request as bytes while it is written, when small
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
};

bool IsStaleConnectionError(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == bhttp::error::partial_message;
}

}  // namespace

struct ClientPool::Op {
  Request req;
  Clock::time_point deadline;
  Callback cb;
  ReturningCallback returning;  // instead of cb
  bool retried = false;
  std::unique_ptr<Connection> conn;
};

std::shared_ptr<ClientPool> ClientPool::Create(asio::io_context& io, Upstream upstream,
                                               PoolLimits limits) {
  return std::shared_ptr<ClientPool>(new ClientPool(io, std::move(upstream), limits));
}

ClientPool::ClientPool(asio::io_context& io, Upstream upstream, PoolLimits limits)
    : io_(io), upstream_(std::move(upstream)), limits_(limits) {
  host_header_ = Url{upstream_.tls, upstream_.host, upstream_.port}.HostHeader();
}

ClientPool::~ClientPool() = default;

void ClientPool::Send(Request req, std::chrono::milliseconds timeout, Callback cb) {
  auto op = std::make_shared<Op>();
  op->cb = std::move(cb);
  Start(std::move(op), std::move(req), timeout);
}

void ClientPool::SendReturning(Request req, std::chrono::milliseconds timeout,
                               ReturningCallback cb) {
  auto op = std::make_shared<Op>();
  op->returning = std::move(cb);
  Start(std::move(op), std::move(req), timeout);
}

void ClientPool::Start(std::shared_ptr<Op> op, Request&& req, std::chrono::milliseconds timeout) {
  op->req = std::move(req);
  op->req.version(11);
  op->req.set(Field::host, host_header_);
  op->req.keep_alive(true);
  op->req.prepare_payload();
  op->deadline = Clock::now() + timeout;
  Dispatch(std::move(op));
}

void ClientPool::Complete(const std::shared_ptr<Op>& op, error_code ec, Response&& res) {
  if (op->returning) {
    auto cb = std::move(op->returning);
    return cb(ec, std::move(res), std::move(op->req));
  }
  auto cb = std::move(op->cb);
  cb(ec, std::move(res));
}

void ClientPool::Dispatch(std::shared_ptr<Op> op) {
  auto now = Clock::now();
  if (!op->retried) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since > kMaxIdle) {
        --open_;
        continue;
      }
      op->conn = std::move(c);
      return Exchange(std::move(op), true);
    }
  }
  if (limits_.max_connections && open_ >= limits_.max_connections) {
    if (limits_.max_waiting && waiting_.size() >= limits_.max_waiting) {
      // Refused at once rather than queued for a long wait whose expiry would
      // come back in one burst; posted, so callbacks never run inside Send.
      return asio::post(io_, [self = shared_from_this(), op = std::move(op)] {
        self->Complete(op, kPoolFull, Response{});
      });
    }
    waiting_.push_back(std::move(op));  // served in order as connections free up
    return;
  }
  Connect(std::move(op));
}

// A connection finished an exchange: hand it to the oldest waiter, keep it idle,
// or close it; then open connections for waiters while under the cap.
void ClientPool::Recycle(std::unique_ptr<Connection> c) {
  auto now = Clock::now();
  while (!waiting_.empty() && waiting_.front()->deadline <= now) {
    auto expired = std::move(waiting_.front());
    waiting_.pop_front();
    Complete(expired, beast::error::timeout, Response{});
  }
  if (c && c->reusable && !waiting_.empty()) {
    auto op = std::move(waiting_.front());
    waiting_.pop_front();
    op->conn = std::move(c);
    return Exchange(std::move(op), true);
  }
  if (c && c->reusable && idle_.size() < limits_.max_idle) {
    c->idle_since = now;
    idle_.push_back(std::move(c));
  } else if (c) {
    --open_;
  }
  while (!waiting_.empty() && (!limits_.max_connections || open_ < limits_.max_connections)) {
    auto op = std::move(waiting_.front());
    waiting_.pop_front();
    Connect(std::move(op));
  }
}

void ClientPool::Exchange(std::shared_ptr<Op> op, bool reused) {
  auto self = shared_from_this();
  Connection* c = op->conn.get();
  c->Exchange(
      op->req, op->deadline, [self, op, reused](error_code ec, Response&& res, bool got_bytes) {
        std::unique_ptr<Connection> conn = std::move(op->conn);
        if (ec) conn->reusable = false;
        if (ec && reused && !got_bytes && !op->retried && IsStaleConnectionError(ec) &&
            Clock::now() < op->deadline) {
          op->retried =
              true;  // the server closed an idle connection under us: one more try, on a new one
          --self->open_;
          conn.reset();
          return self->Connect(op);
        }
        // The connection goes back first, so a request sent from the callback reuses it.
        self->Recycle(std::move(conn));
        self->Complete(op, ec, std::move(res));
      });
}

void ClientPool::Connect(std::shared_ptr<Op> op) {
  ++open_;
  if (upstream_.tls) {
    op->conn = std::make_unique<ConnectionT<beast::ssl_stream<TcpStream>>>(
        upstream_.host, io_.get_executor(), *upstream_.ssl);
  } else {
    op->conn = std::make_unique<ConnectionT<TcpStream>>(upstream_.host, io_.get_executor());
  }
  auto self = shared_from_this();
  auto fail = [self](const std::shared_ptr<Op>& op, error_code ec) {
    op->conn.reset();
    --self->open_;
    self->Complete(op, ec, Response{});
    self->Recycle(nullptr);
  };
  auto connect = [self, op, fail](const tcp::resolver::results_type& eps) {
    op->conn->Connect(eps, op->deadline, [self, op, fail](error_code ec) {
      if (ec) return fail(op, ec);
      self->Exchange(op, false);
    });
  };
  error_code ec;
  auto addr = asio::ip::make_address(upstream_.host, ec);
  if (!ec) {
    tcp::endpoint ep(addr, upstream_.port);
    return connect(
        tcp::resolver::results_type::create(ep, upstream_.host, std::to_string(upstream_.port)));
  }
  auto resolver = std::make_shared<tcp::resolver>(io_);
  resolver->async_resolve(
      upstream_.host, std::to_string(upstream_.port),
      [op, resolver, connect, fail](error_code ec, tcp::resolver::results_type eps) {
        if (ec) return fail(op, ec);
        connect(eps);
      });
}

}  // namespace tandem::http
