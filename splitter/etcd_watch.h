// One etcd watch on one key through the JSON gateway's streaming /v3/watch
// (newline-delimited JSON on a long-lived chunked response). Runs on the
// owner's io_context; hands every value the key takes to `on_value`, and calls
// `on_end` once when the stream ends for any reason (the owner re-reads the key
// and starts another watch from the revision it has).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/url.h"
#include "splitter/etcd_client.h"

namespace boost::asio {
class io_context;
}

namespace tandem::splitter {

class EtcdWatch {
 public:
  using OnValue = std::function<void(const EtcdValue&)>;
  using OnEnd = std::function<void(const std::string& why)>;

  // Watches `key` on `member` from `from_revision` (inclusive).
  static std::shared_ptr<EtcdWatch> Start(boost::asio::io_context& io, const Url& member,
                                          const std::string& key, int64_t from_revision,
                                          OnValue on_value, OnEnd on_end);
  virtual ~EtcdWatch() = default;
  // Closes the stream; `on_end` is not called after this.
  virtual void Cancel() = 0;
};

}  // namespace tandem::splitter
