// etcd v3 spoken over its JSON gateway (/v3/kv/range, /v3/kv/txn): the calls a
// splitter makes on one key. Blocking, for the state store's own thread. Members
// are tried in turn, starting from the last one that answered, so a member that
// is down or dies mid-call costs one short timeout, not the call.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/url.h"

namespace tandem::http {
class SyncClient;
}

namespace tandem::splitter {

struct EtcdValue {
  std::string value;
  int64_t mod_revision = 0;
};

struct EtcdRead {
  std::optional<EtcdValue> kv;  // nullopt: the key does not exist
  int64_t revision = 0;         // the store's revision when read
};

struct EtcdTxn {
  bool succeeded = false;
  int64_t revision = 0;              // the store's revision after the call
  std::optional<EtcdValue> current;  // when it did not succeed: the key as it is
};

class EtcdClient {
 public:
  // `endpoints` are http://HOST:PORT (validated by the config).
  EtcdClient(const std::vector<std::string>& endpoints, std::string key);
  ~EtcdClient();

  Status Range(EtcdRead& out);
  // Puts `value` only when the key does not exist yet.
  Status CreateIfAbsent(const std::string& value, EtcdTxn& out);
  // Puts `value` only when the key was last written at `mod_revision`.
  Status PutIfRevision(const std::string& value, int64_t mod_revision, EtcdTxn& out);

  const std::string& key() const { return key_; }
  // The member that answered last (for logs).
  std::string endpoint() const;
  const std::vector<Url>& endpoints() const { return urls_; }

 private:
  Status Txn(const std::string& compare_json, const std::string& value, EtcdTxn& out);
  // POSTs `body` to `path` on each member in turn until one answers 200.
  Status Call(const std::string& path, const std::string& body, std::string& answer);

  std::string key_;
  std::vector<Url> urls_;
  std::vector<std::unique_ptr<http::SyncClient>> clients_;
  size_t next_ = 0;
};

}  // namespace tandem::splitter
