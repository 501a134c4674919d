#include "common/sync_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace tandem::http {

std::unique_ptr<boost::asio::ssl::context> MakeClientTls(const std::string& ca_file) {
  auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  ctx->set_default_verify_paths();
  if (!ca_file.empty()) ctx->load_verify_file(ca_file);
  return ctx;
}

SyncClient::SyncClient(const Url& origin, const std::string& ca_file)
    : io_(std::make_unique<boost::asio::io_context>(1)) {
  Upstream up = Upstream::Of(origin);
  if (up.tls) {
    ssl_ = MakeClientTls(ca_file);
    up.ssl = ssl_.get();
  }
  pool_ = ClientPool::Create(*io_, up, {.max_idle = 8});
}

SyncClient::~SyncClient() = default;

SyncResult SyncClient::Send(Request req, std::chrono::milliseconds timeout) {
  SyncResult out;
  pool_->Send(std::move(req), timeout, [&out](boost::system::error_code ec, Response&& res) {
    out.ec = ec;
    out.res = std::move(res);
  });
  io_->restart();
  io_->run();
  return out;
}

}  // namespace tandem::http
