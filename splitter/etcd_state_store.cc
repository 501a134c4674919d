// The fleet's store: the state JSON in one etcd key. Swaps are one
// compare-and-swap transaction on the key's revision; every splitter follows the
// key with a watch (and re-reads it every few seconds, which also tells whether
// etcd is reachable). While etcd is unreachable the splitter routes by the last
// state it saw, cached in state_file, and swaps answer 503: never a local-only
// swap, which would split the fleet.
#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/uuid7.h"
#include "splitter/etcd_client.h"
#include "splitter/etcd_watch.h"
#include "splitter/state_store.h"

namespace tandem::splitter {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
// Re-reads the key this often: a watch that hangs silently (a partitioned
// member) is caught by it, and it is how reachability is measured.
constexpr auto kResyncEvery = std::chrono::seconds(2);
constexpr int kBootstrapRounds = 3;
constexpr auto kSwapPatience = std::chrono::seconds(6);

// The state JSON with a `swap_id`, which makes every write's value unique, so a
// splitter that retries a write whose answer was lost can tell its own write
// from another's made in the same millisecond.
std::string StateValue(const LiveSnapshot& s) {
  json j = StateJson(s);
  j["swap_id"] = NewUuid7().text;
  return j.dump();
}

class EtcdStateStore : public StateStore {
 public:
  EtcdStateStore(const EtcdConfig& config, LiveState& state, OnLiveChange on_change)
      : client_(config.endpoints, config.key),
        state_(state),
        on_change_(std::move(on_change)),
        work_(asio::make_work_guard(io_)),
        resync_(io_),
        rewatch_(io_) {
    Bootstrap();
    asio::post(io_, [this] {
      Watch();
      Resync();
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  ~EtcdStateStore() override { Stop(); }

  // Ends the store's thread; a swap in flight ends as unavailable, its `done`
  // still called (before the admin listener that waits for it goes away).
  void Stop() override {
    if (!thread_.joinable()) return;
    stopping_ = true;
    asio::post(io_, [this] {
      if (watch_) watch_->Cancel();
      resync_.cancel();
      rewatch_.cancel();
      work_.reset();
    });
    thread_.join();
  }

  void Swap(Color expected_live, SwapDone done) override {
    asio::post(io_, [this, expected_live, done = std::move(done)] {
      // An election (the leader died) makes every member refuse writes for a
      // second or two: ride it out, within a bound the caller can wait for.
      auto until = std::chrono::steady_clock::now() + kSwapPatience;
      std::vector<std::string> attempted;  // our writes, if an answer was lost
      SwapResult r = SwapOnStore(expected_live, attempted);
      for (int i = 0; r.kind == SwapResult::Kind::kUnavailable && !stopping_ &&
                      std::chrono::steady_clock::now() + Backoff(i) < until;
           ++i) {
        for (auto end = std::chrono::steady_clock::now() + Backoff(i);
             !stopping_ && std::chrono::steady_clock::now() < end;) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (stopping_) break;
        r = SwapOnStore(expected_live, attempted);
      }
      done(std::move(r));
    });
  }

  StoreHealth Health() const override {
    std::lock_guard<std::mutex> l(mu_);
    return health_;
  }

 private:
  // Startup (may throw): the key's state, or the key created from ours.
  void Bootstrap() {
    Status last;
    for (int round = 0; round < kBootstrapRounds; ++round) {
      last = SyncOnce(/*create=*/true);
      if (last.ok() && revision_ == 0 && !state_.from_file()) {
        throw std::runtime_error("splitter.etcd: the key " + client_.key() +
                                 " holds no splitter state and there is no state_file to fall "
                                 "back on; refusing to guess the live color. Put a state JSON "
                                 "({\"live\":\"blue\"}) in the key, or delete it.");
      }
      if (last.ok()) {
        log::Info("state store: following etcd", {{"endpoint", client_.endpoint()},
                                                  {"key", client_.key()},
                                                  {"revision", revision_},
                                                  {"live", ColorName(state_.live())}});
        return;
      }
      std::this_thread::sleep_for(Backoff(round));
    }
    if (!state_.from_file()) {
      throw std::runtime_error(
          "splitter.etcd: cannot reach etcd (" + last.message() +
          ") and there is no state_file to fall back on; refusing to guess the live color. "
          "Start etcd, or give this splitter the fleet's state file.");
    }
    Unreachable(last);
    log::Error("state store: etcd unreachable at start; routing by the cached state_file",
               {{"error", last.message()}, {"live", ColorName(state_.live())}});
  }

  // Reads the key (creating it from our state when absent) and applies it.
  Status SyncOnce(bool create) {
    EtcdRead read;
    Status s = client_.Range(read);
    if (s.ok() && !read.kv && create) {
      EtcdTxn t;
      std::string ours = StateValue(state_.Snapshot());
      s = client_.CreateIfAbsent(ours, t);
      if (s.ok() && t.succeeded) {
        log::Info("state store: created the key", {{"key", client_.key()}, {"value", ours}});
        read.kv = EtcdValue{ours, t.revision};
      } else if (s.ok()) {
        read.kv = t.current;  // another splitter created it first
      }
    }
    if (!s.ok()) {
      Unreachable(s);
      return s;
    }
    Reachable();
    Note(read.revision);
    if (read.kv) Apply(*read.kv);
    return Status::Ok();
  }

  void Apply(const EtcdValue& v) {
    if (v.mod_revision <= revision_) return;
    auto snap = ParseStateJson(v.value);
    if (!snap) {
      log::Error("state store: the etcd key does not hold a splitter state; ignored",
                 {{"key", client_.key()}, {"value", v.value.substr(0, 200)}});
      return;
    }
    Color before = state_.live();
    if (auto ec = state_.Adopt(*snap)) {
      log::Error("state store: cannot cache the state in state_file", {{"error", ec.message()}});
    }
    revision_ = v.mod_revision;
    {
      std::lock_guard<std::mutex> l(mu_);
      health_.revision = revision_;
    }
    if (before != snap->live) {
      log::Info(
          "live color changed by the fleet",
          {{"from", ColorName(before)}, {"to", ColorName(snap->live)}, {"revision", revision_}});
    }
    if (on_change_) on_change_(*snap);
  }

  SwapResult SwapOnStore(Color expected, std::vector<std::string>& attempted) {
    SwapResult r;
    auto unavailable = [&](const Status& s) {
      Unreachable(s);
      r.kind = SwapResult::Kind::kUnavailable;
      r.state = state_.Snapshot();
      r.detail = "the state store (etcd) is unreachable: " + s.message();
      return r;
    };
    EtcdRead read;
    Status s = client_.Range(read);
    if (s.ok() && !read.kv) {
      // Someone deleted the key: put ours back first, then swap from it.
      s = SyncOnce(/*create=*/true);
      if (s.ok()) s = client_.Range(read);
    }
    if (!s.ok()) return unavailable(s);
    Reachable();
    Note(read.revision);
    // An earlier attempt of this call whose answer was lost did swap.
    if (read.kv &&
        std::find(attempted.begin(), attempted.end(), read.kv->value) != attempted.end()) {
      Apply(*read.kv);
      return Swapped(*read.kv);
    }
    auto now = read.kv ? ParseStateJson(read.kv->value) : std::nullopt;
    if (!now) {
      r.kind = SwapResult::Kind::kFailed;
      r.state = state_.Snapshot();
      r.detail = "the etcd key " + client_.key() +
                 " holds no splitter state; nothing was swapped (put a state JSON back, or "
                 "delete the key so the next splitter creates it)";
      return r;
    }
    Apply(*read.kv);
    if (now->live != expected) {
      r.kind = SwapResult::Kind::kConflict;
      r.state = state_.Snapshot();
      r.detail = "the live color changed meanwhile; nothing was swapped";
      return r;
    }
    std::string value = StateValue({Other(expected), UnixMillis()});
    attempted.push_back(value);
    EtcdTxn t;
    s = client_.PutIfRevision(value, read.kv->mod_revision, t);
    if (!s.ok()) return unavailable(s);  // the caller retries; `attempted` tells
    // A call retried on another member may find its own write already there.
    if (t.succeeded || (t.current && t.current->value == value)) {
      EtcdValue mine{value, t.succeeded ? t.revision : t.current->mod_revision};
      Apply(mine);
      return Swapped(mine);
    }
    if (t.current) Apply(*t.current);
    r.kind = SwapResult::Kind::kConflict;
    r.state = state_.Snapshot();
    r.detail = "another splitter swapped first; nothing was swapped";
    return r;
  }

  SwapResult Swapped(const EtcdValue& v) {
    SwapResult r;
    r.kind = SwapResult::Kind::kSwapped;
    r.state = ParseStateJson(v.value).value_or(state_.Snapshot());
    return r;
  }

  void Watch() {
    if (stopping_) return;
    if (watch_) watch_->Cancel();
    watch_.reset();
    rewatch_.cancel();
    if (store_revision_ == 0) return RewatchLater();  // nothing read yet: Resync calls again
    const auto& urls = client_.endpoints();
    const Url& member = urls[watch_member_++ % urls.size()];
    // From the store's revision as read, not the key's: an older one may be
    // compacted away, and the key's history before it is already applied.
    watch_ = EtcdWatch::Start(
        io_, member, client_.key(), store_revision_ + 1, [this](const EtcdValue& v) { Apply(v); },
        [this](const std::string& why) {
          if (watch_failures_++ % 20 == 0) {
            log::Warn("state store: the etcd watch ended; re-reading and watching again",
                      {{"why", why}});
          }
          RewatchLater();
        });
  }

  void RewatchLater() {
    rewatch_.expires_after(Backoff(std::min(watch_failures_, 5), {.max = std::chrono::seconds(2)}));
    rewatch_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      SyncOnce(/*create=*/false);
      Watch();
    });
  }

  void Resync() {
    if (stopping_) return;
    int64_t before = revision_;
    if (SyncOnce(/*create=*/false).ok()) {
      if (revision_ != before || !watch_) {
        // The watch missed a change (or there is none): start another.
        if (revision_ != before) {
          log::Warn("state store: a re-read found a change the watch missed; watching again",
                    {{"revision", revision_}});
        }
        Watch();
      } else {
        watch_failures_ = 0;
      }
    }
    resync_.expires_after(kResyncEvery);
    resync_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Resync();
    });
  }

  // The store's revision as last read; one that went backwards means etcd was
  // restored from a snapshot or replaced: its key's revisions start over.
  void Note(int64_t store_revision) {
    if (store_revision <= 0) return;
    if (store_revision < store_revision_ || store_revision < revision_) {
      log::Warn(
          "state store: etcd's revision went backwards (restored or a new cluster); "
          "following its state from now on",
          {{"was", store_revision_}, {"now", store_revision}});
      revision_ = 0;
    }
    store_revision_ = store_revision;
  }

  void Reachable() {
    std::lock_guard<std::mutex> l(mu_);
    if (!health_.reachable) {
      log::Info("state store: etcd reachable again", {{"endpoint", client_.endpoint()}});
    }
    health_.reachable = true;
    health_.unreachable_since_ms = 0;
    health_.last_error.clear();
  }

  void Unreachable(const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (health_.reachable) {
      health_.unreachable_since_ms = UnixMillis();
      log::Error("state store: etcd unreachable; routing by the last state seen, swaps refused",
                 {{"error", s.message()}});
    }
    health_.reachable = false;
    health_.last_error = s.message();
  }

  EtcdClient client_;
  LiveState& state_;
  OnLiveChange on_change_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer resync_;
  asio::steady_timer rewatch_;
  std::shared_ptr<EtcdWatch> watch_;
  size_t watch_member_ = 0;
  int watch_failures_ = 0;
  int64_t revision_ = 0;        // the mod_revision of the state applied; io_ thread only
  int64_t store_revision_ = 0;  // the store's revision when last read; io_ thread only
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  StoreHealth health_{.kind = "etcd"};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<StateStore> MakeEtcdStateStore(const EtcdConfig& config, LiveState& state,
                                               OnLiveChange on_change) {
  return std::make_unique<EtcdStateStore>(config, state, std::move(on_change));
}

}  // namespace tandem::splitter
