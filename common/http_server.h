// An HTTP/1.1 server on Boost.Beast, after Beast's advanced server example:
// a session per connection on one IoWorkers thread, a timeout before every
// operation, a body limit on every parser, keep-alive, and a graceful drain.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/http_types.h"
#include "common/io_workers.h"

namespace tandem::http {

// Why a connection ended before its request reached the handler.
enum class ProtocolError { kBodyTooLarge, kMalformed, kTimeout };

// Why the server closed a connection to keep its own connection count bounded.
enum class ConnectionEvent {
  kIdleEvicted,       // the longest-idle connection, closed to admit a new one at the cap
  kRefused,           // at the cap with no idle connection to close: the new one is closed
  kFirstByteTimeout,  // a new connection that sent nothing within first_byte_timeout
};

struct RequestInfo {
  size_t worker = 0;    // index of the IoWorkers thread that runs this connection
  std::string peer_ip;  // the client's address
};

// Must be called exactly once per request, on the thread the handler was called on.
using Respond = std::function<void(Response&&)>;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(Request&& req, const RequestInfo& info, Respond respond) = 0;
};

struct ServerOptions {
  uint64_t body_limit = 1 << 20;
  std::chrono::milliseconds header_timeout{10000};  // whole request, from its first byte
  std::chrono::milliseconds idle_timeout{60000};    // between keep-alive requests
  std::chrono::milliseconds first_byte_timeout{
      5000};  // from accept to a new connection's first byte
  std::chrono::milliseconds write_timeout{10000};
  // Open connections; 0 = no cap. At the cap, as nginx does with reusable
  // connections, the longest-idle connection is closed to admit the new one.
  size_t max_connections = 0;
  std::function<void(ProtocolError)> on_protocol_error;      // for metrics; may be empty
  std::function<void(ConnectionEvent)> on_connection_event;  // for metrics; may be empty
};

class Server {
 public:
  // Binds now: a port in use throws (startup code may throw).
  Server(IoWorkers& workers, const HostPort& listen, ServerOptions options, Handler& handler);
  ~Server();

  uint16_t port() const;
  void Start();
  // Stops accepting, closes idle connections, lets in-flight requests finish
  // (their responses carry Connection: close). Thread-safe.
  void BeginDrain();
  // Open connections; zero after a drain means every response was written.
  size_t open_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tandem::http
