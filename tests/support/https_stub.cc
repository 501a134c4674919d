#include "tests/support/https_stub.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace tandem::testing {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct HttpsStub::Impl {
  asio::io_context io;
  asio::ssl::context ctx{asio::ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  Handler handler;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::thread accept_thread;

  void Serve(std::shared_ptr<tcp::socket> sock) {
    boost::system::error_code ec;
    asio::ssl::stream<tcp::socket&> stream(*sock, ctx);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    boost::beast::flat_buffer buf;
    for (;;) {
      http::Request req;
      boost::beast::http::read(stream, buf, req, ec);
      if (ec) return;
      http::Response res = handler(req);
      res.version(11);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      boost::beast::http::write(stream, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }
};

HttpsStub::HttpsStub(const TestPki& pki, Handler handler) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.handler = std::move(handler);
  m.ctx.use_certificate_chain_file(pki.server_cert);
  m.ctx.use_private_key_file(pki.server_key, asio::ssl::context::pem);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  m.acceptor.open(ep.protocol());
  m.acceptor.bind(ep);
  m.acceptor.listen();
  port_ = m.acceptor.local_endpoint().port();
  m.accept_thread = std::thread([&m] {
    for (;;) {
      auto sock = std::make_shared<tcp::socket>(m.io);
      boost::system::error_code ec;
      m.acceptor.accept(*sock, ec);
      if (ec || m.stopping) return;
      std::lock_guard<std::mutex> l(m.mu);
      m.sockets.push_back(sock);
      m.threads.emplace_back([&m, sock] { m.Serve(sock); });
    }
  });
}

HttpsStub::~HttpsStub() {
  Impl& m = *impl_;
  m.stopping = true;
  boost::system::error_code ec;
  m.acceptor.cancel(ec);
  ::shutdown(m.acceptor.native_handle(), SHUT_RDWR);
  m.acceptor.close(ec);
  m.accept_thread.join();
  std::lock_guard<std::mutex> l(m.mu);
  for (auto& s : m.sockets) s->shutdown(tcp::socket::shutdown_both, ec);
  for (auto& t : m.threads) t.join();
}

}  // namespace tandem::testing
