#include "common/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <list>
#include <optional>
#include <unordered_set>

#include "common/http_write.h"
#include "common/io_stream_types.h"
#include "common/log.h"

namespace tandem::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Named, not anonymous: Server::Impl holds these (and a unity build would
// otherwise warn that an external type uses an internal one).
namespace server_detail {

// After an error answer that closes the connection (413, 400), what the client
// is still sending is read and dropped for a while before the close, as nginx's
// lingering_close does: closing with unread data makes the kernel send a reset,
// and the client may then never see the answer.
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr size_t kLingerBytes = 64 << 20;

class Session;
// The sessions of one worker thread; touched only on that thread.
struct SessionSet {
  std::unordered_set<Session*> sessions;
  // Sessions waiting for a request, longest-idle first: the ones closed to admit
  // a new connection at max_connections.
  std::list<Session*> idle;
};

}  // namespace server_detail
using server_detail::Session;
using server_detail::SessionSet;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(IoWorkers& w, ServerOptions o, Handler& h)
      : workers(w), opts(std::move(o)), handler(h), acceptor(w.context(0).get_executor()) {}

  void Accept();
  void Count(ProtocolError e) {
    if (opts.on_protocol_error) opts.on_protocol_error(e);
  }
  void Count(ConnectionEvent e) {
    if (opts.on_connection_event) opts.on_connection_event(e);
  }

  IoWorkers& workers;
  ServerOptions opts;
  Handler& handler;
  TcpAcceptor acceptor;
  std::vector<std::shared_ptr<SessionSet>> sets;
  std::atomic<size_t> open{0};
  std::atomic<bool> draining{false};
};

namespace server_detail {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Server::Impl> server, TcpSocket socket, size_t worker)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        idle_timer_(stream_.get_executor()),
        worker_(worker),
        set_(server_->sets[worker]) {}

  ~Session() { Forget(); }

  void Start() {
    set_->sessions.insert(this);
    const size_t cap = server_->opts.max_connections;
    if (cap && server_->open.load(std::memory_order_relaxed) > cap && !EvictIdle()) {
      server_->Count(ConnectionEvent::kRefused);
      return Close();
    }
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = ep.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    WaitForRequest();
  }

  // Called on this session's thread when the server drains.
  void Drain() {
    close_after_ = true;
    if (!busy_) {
      error_code ec;
      stream_.socket().cancel(ec);
    }
  }

  // Closes this idle session to make room for a new connection.
  void Evict() {
    evicted_ = true;
    error_code ec;
    stream_.socket().cancel(ec);
  }

 private:
  const ServerOptions& opts() const { return server_->opts; }

  // Closes the longest-idle session of this thread; false when none is idle.
  bool EvictIdle() {
    if (set_->idle.empty()) return false;
    Session* oldest = set_->idle.front();
    oldest->LeaveIdle();
    oldest->Evict();
    server_->Count(ConnectionEvent::kIdleEvicted);
    return true;
  }

  void EnterIdle() {
    idle_it_ = set_->idle.insert(set_->idle.end(), this);
    in_idle_ = true;
  }
  void LeaveIdle() {
    if (in_idle_) set_->idle.erase(idle_it_);
    in_idle_ = false;
  }

  void WaitForRequest() {
    if (server_->draining.load(std::memory_order_relaxed)) close_after_ = true;
    if (close_after_) return Close();
    busy_ = false;
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    // A new connection must send something soon (first_byte_timeout); an idle
    // keep-alive one may wait idle_timeout. The request itself is then bounded
    // by header_timeout from its first byte (slowloris protection).
    const bool fresh = requests_ == 0;
    const uint64_t wait = ++idle_waits_;
    idle_timer_.expires_after(fresh ? opts().first_byte_timeout : opts().idle_timeout);
    idle_timer_.async_wait([self = shared_from_this(), fresh, wait](error_code ec) {
      // A timer that fired as the first byte arrived (both handlers queued) is late:
      // this wait is over, and the request must not be cut off.
      if (ec || !self->in_idle_ || wait != self->idle_waits_) return;
      if (fresh) self->first_byte_timed_out_ = true;
      error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    EnterIdle();
    stream_.socket().async_wait(TcpSocket::wait_read, [self = shared_from_this()](error_code ec) {
      self->LeaveIdle();
      self->idle_timer_.cancel();
      if (self->first_byte_timed_out_) self->server_->Count(ConnectionEvent::kFirstByteTimeout);
      if (ec || self->close_after_ || self->evicted_ || self->first_byte_timed_out_) {
        return self->Close();
      }
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    busy_ = true;
    read_started_ = std::chrono::steady_clock::now();
    parser_.emplace();
    parser_->body_limit(opts().body_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(opts().header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& h = parser_->get();
    auto expect = h.find(Field::expect);
    if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
      continue_.emplace(Status::continue_, 11);
      bhttp::async_write(stream_, *continue_, [self = shared_from_this()](error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(error_code ec) {
    // The deadline, not only the error code, tells a timeout: when the timer and
    // the socket race, the read may end as aborted or partial instead.
    bool timed_out = ec == beast::error::timeout ||
                     (!close_after_ &&
                      std::chrono::steady_clock::now() - read_started_ >= opts().header_timeout);
    if (timed_out) {
      server_->Count(ProtocolError::kTimeout);
      return Close();
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted) return Close();
    if (ec == bhttp::error::body_limit) {
      server_->Count(ProtocolError::kBodyTooLarge);
      close_after_ = linger_ = true;
      head_ = false;
      return Write(JsonError(Status::payload_too_large, "body exceeds the size limit"));
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
        ec != bhttp::error::partial_message) {
      server_->Count(ProtocolError::kMalformed);
      close_after_ = linger_ = true;
      head_ = false;
      return Write(JsonError(Status::bad_request, "malformed request"));
    }
    Close();  // connection reset, partial message: nobody to answer
  }

  void OnRead(error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_never();
    Request req = parser_->release();
    ++requests_;
    if (!req.keep_alive()) close_after_ = true;
    head_ = req.method() == Verb::head;
    RequestInfo info{worker_, peer_ip_};
    auto self = shared_from_this();
    server_->handler.Handle(std::move(req), info,
                            [self](Response&& res) { self->Write(std::move(res)); });
  }

  void Write(Response&& res) {
    if (server_->draining.load(std::memory_order_relaxed)) close_after_ = true;
    res_ = std::move(res);
    res_.version(11);
    res_.keep_alive(!close_after_);
    res_.prepare_payload();
    // A HEAD answer carries the GET answer's headers, Content-Length included,
    // and no body: a body would be read as the start of the next response.
    if (head_) res_.body().clear();
    stream_.expires_after(opts().write_timeout);
    auto written = [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Close();
      if (self->linger_) return self->LingerThenClose();
      self->WaitForRequest();
    };
    AsyncWriteMessage(stream_, res_, wire_, std::move(written));
  }

  void LingerThenClose() {
    error_code ec;
    stream_.socket().shutdown(TcpSocket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    Discard();
  }

  void Discard() {
    linger_buf_.resize(16 << 10);
    stream_.async_read_some(asio::buffer(linger_buf_),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ >= kLingerBytes) return self->Close();
                              self->Discard();
                            });
  }

  void Close() {
    error_code ec;
    stream_.socket().shutdown(TcpSocket::shutdown_send, ec);
    stream_.socket().close(ec);
    Forget();
  }

  void Forget() {
    if (forgotten_) return;
    forgotten_ = true;
    LeaveIdle();
    set_->sessions.erase(this);
    server_->open.fetch_sub(1, std::memory_order_relaxed);
  }

  std::shared_ptr<Server::Impl> server_;
  TcpStream stream_;
  SteadyTimer idle_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  Response res_;
  std::string wire_;  // res_ as bytes while it is written, when small
  size_t worker_;
  std::shared_ptr<SessionSet> set_;
  std::list<Session*>::iterator idle_it_;
  std::string peer_ip_;
  std::string linger_buf_;
  std::chrono::steady_clock::time_point read_started_;
  uint64_t requests_ = 0;
  uint64_t idle_waits_ = 0;
  size_t lingered_ = 0;
  bool busy_ = false;
  bool close_after_ = false;
  bool linger_ = false;
  bool head_ = false;
  bool in_idle_ = false;
  bool evicted_ = false;
  bool first_byte_timed_out_ = false;
  bool forgotten_ = false;
};

}  // namespace server_detail

void Server::Impl::Accept() {
  size_t idx = workers.Next();
  acceptor.async_accept(workers.context(idx),
                        [self = shared_from_this(), idx](error_code ec, TcpSocket s) {
                          if (self->draining.load()) return;
                          if (ec) {
                            if (ec == asio::error::operation_aborted) return;
                            log::Warn("accept failed", {{"error", ec.message()}});
                            // Out of descriptors and the like: back off briefly instead of
                            // spinning.
                            auto timer = std::make_shared<SteadyTimer>(
                                self->acceptor.get_executor(), std::chrono::milliseconds(50));
                            timer->async_wait([self, timer](error_code) { self->Accept(); });
                            return;
                          }
                          self->open.fetch_add(1, std::memory_order_relaxed);
                          auto session = std::make_shared<Session>(self, std::move(s), idx);
                          asio::post(self->workers.context(idx), [session] { session->Start(); });
                          self->Accept();
                        });
}

Server::Server(IoWorkers& workers, const HostPort& listen, ServerOptions options, Handler& handler)
    : impl_(std::make_shared<Impl>(workers, std::move(options), handler)) {
  for (size_t i = 0; i < workers.size(); ++i) impl_->sets.push_back(std::make_shared<SessionSet>());
  error_code ec;
  auto addr = asio::ip::make_address(listen.host, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listen.ToString() + ": not an IP address");
  tcp::endpoint ep(addr, listen.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot listen on " + listen.ToString() + ": " + ec.message());
  a.listen(asio::socket_base::max_listen_connections);
}

Server::~Server() = default;

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::Start() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] { impl->Accept(); });
}

void Server::BeginDrain() {
  if (impl_->draining.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ec;
    impl->acceptor.close(ec);
  });
  for (size_t i = 0; i < impl_->workers.size(); ++i) {
    asio::post(impl_->workers.context(i), [set = impl_->sets[i]] {
      std::vector<Session*> all(set->sessions.begin(), set->sessions.end());
      for (Session* s : all) {
        if (set->sessions.count(s)) s->Drain();
      }
    });
  }
}

size_t Server::open_connections() const { return impl_->open.load(); }

}  // namespace tandem::http
