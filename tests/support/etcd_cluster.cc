#include "tests/support/etcd_cluster.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/fetch.h"
#include "tests/support/stub_upstream.h"

namespace tandem::testing {

EtcdCluster::EtcdCluster(int members) {
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_port = ClosedPort();
    m.peer_port = ClosedPort();
    if (!initial_cluster_.empty()) initial_cluster_ += ",";
    initial_cluster_ += m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
    members_.push_back(std::move(m));
  }
  for (int i = 0; i < members; ++i) Start(i);
  for (int i = 0; i < members; ++i) {
    if (!WaitHealthy(i)) {
      ADD_FAILURE() << "etcd member " << i << " never became healthy:\n"
                    << members_[i].proc->Output();
    }
  }
}

std::string EtcdCluster::client_url(int i) const {
  return "http://127.0.0.1:" + std::to_string(members_[i].client_port);
}

std::string EtcdCluster::SplitterYaml(const std::string& key) const {
  std::string eps;
  for (int i = 0; i < size(); ++i) eps += (i ? ", \"" : "\"") + client_url(i) + "\"";
  return "  etcd:\n    endpoints: [" + eps + "]\n    key: \"" + key + "\"\n";
}

void EtcdCluster::Start(int i) {
  Member& m = members_[i];
  std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  m.proc = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/etcd",
                                                              "--name",
                                                              m.name,
                                                              "--data-dir",
                                                              dir_.path() + "/" + m.name,
                                                              "--listen-client-urls",
                                                              client_url(i),
                                                              "--advertise-client-urls",
                                                              client_url(i),
                                                              "--listen-peer-urls",
                                                              peer,
                                                              "--initial-advertise-peer-urls",
                                                              peer,
                                                              "--initial-cluster",
                                                              initial_cluster_,
                                                              "--initial-cluster-state",
                                                              "new",
                                                              "--initial-cluster-token",
                                                              "tandem-test",
                                                              "--log-level",
                                                              "warn"});
}

void EtcdCluster::Kill(int i) {
  members_[i].proc->Signal(SIGKILL);
  members_[i].proc->Wait(std::chrono::seconds(10));
}

bool EtcdCluster::WaitHealthy(int i, std::chrono::milliseconds limit) const {
  return PollUntil(
      [&] {
        auto r = http::Fetch(http::Verb::get, client_url(i) + "/health", "", "",
                             std::chrono::seconds(2));
        if (r.ec || r.res.result_int() != 200) return false;
        auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
        return j.is_object() && j.value("health", "") == "true";
      },
      limit);
}

int64_t EtcdCluster::Put(const std::string& key, const std::string& value, int i) const {
  auto r = http::Fetch(http::Verb::post, client_url(i) + "/v3/kv/put",
                       nlohmann::json{{"key", Base64(key)}, {"value", Base64(value)}}.dump(), "",
                       std::chrono::seconds(5));
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200u) << r.res.body();
  auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
  return j.is_object() ? std::stoll(j["header"]["revision"].get<std::string>()) : 0;
}

void EtcdCluster::Compact(int i) const {
  int64_t rev = Put("/tandem/test/compaction", "x", i);
  auto r = http::Fetch(http::Verb::post, client_url(i) + "/v3/kv/compaction",
                       nlohmann::json{{"revision", std::to_string(rev)}, {"physical", true}}.dump(),
                       "", std::chrono::seconds(5));
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200u) << r.res.body();
}

int EtcdCluster::Leader() const {
  for (int i = 0; i < size(); ++i) {
    auto r = http::Fetch(http::Verb::post, client_url(i) + "/v3/maintenance/status", "{}", "",
                         std::chrono::seconds(2));
    if (r.ec || r.res.result_int() != 200) continue;
    auto j = nlohmann::json::parse(r.res.body(), nullptr, false);
    if (!j.is_object() || !j.contains("leader")) continue;
    std::string leader = j["leader"].get<std::string>();
    // The leader answers with its own id in the header.
    for (int k = 0; k < size(); ++k) {
      auto rk = http::Fetch(http::Verb::post, client_url(k) + "/v3/maintenance/status", "{}", "",
                            std::chrono::seconds(2));
      if (rk.ec || rk.res.result_int() != 200) continue;
      auto jk = nlohmann::json::parse(rk.res.body(), nullptr, false);
      if (jk.is_object() && jk["header"].value("member_id", "") == leader) return k;
    }
  }
  return -1;
}

}  // namespace tandem::testing
