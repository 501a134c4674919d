// A blocking keep-alive HTTP(S) client for threads that may block (the loader,
// command-line tools): a ClientPool on a private io_context, run per call.
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/http_client.h"
#include "common/http_types.h"
#include "common/url.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace tandem::http {

struct SyncResult {
  boost::system::error_code ec;
  Response res;
};

class SyncClient {
 public:
  // Calls go to `origin`'s scheme, host and port (its target is not used);
  // `ca_file` adds a trust anchor for HTTPS.
  SyncClient(const Url& origin, const std::string& ca_file);
  ~SyncClient();

  // Not thread-safe: one call at a time.
  SyncResult Send(Request req, std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  std::shared_ptr<ClientPool> pool_;
};

// Builds an SSL client context that verifies peers with the system's CAs plus `ca_file`.
std::unique_ptr<boost::asio::ssl::context> MakeClientTls(const std::string& ca_file);

}  // namespace tandem::http
