#include "splitter/etcd_watch.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace tandem::splitter {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using json = nlohmann::json;
using tcp = asio::ip::tcp;

constexpr auto kConnectTimeout = std::chrono::seconds(1);
// A watch line is one small state value; anything far larger is not ours.
constexpr size_t kMaxLine = 1 << 20;

class WatchStream : public EtcdWatch, public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(asio::io_context& io, Url member, std::string key, int64_t from, OnValue on_value,
              OnEnd on_end)
      : resolver_(io),
        stream_(io),
        member_(std::move(member)),
        key_(std::move(key)),
        from_(from),
        on_value_(std::move(on_value)),
        on_end_(std::move(on_end)) {}

  void Begin() {
    stream_.expires_after(kConnectTimeout);
    resolver_.async_resolve(
        member_.host, std::to_string(member_.port),
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return self->End("resolve: " + ec.message());
          self->stream_.async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
            if (ec) return self->End("connect: " + ec.message());
            self->Write();
          });
        });
  }

  void Cancel() override {
    cancelled_ = true;
    beast::error_code ignored;
    resolver_.cancel();
    stream_.socket().close(ignored);
  }

 private:
  void Write() {
    req_ = {bhttp::verb::post, "/v3/watch", 11};
    req_.set(bhttp::field::host, member_.HostHeader());
    req_.set(bhttp::field::content_type, "application/json");
    req_.body() =
        json{{"create_request", {{"key", Base64(key_)}, {"start_revision", std::to_string(from_)}}}}
            .dump();
    req_.prepare_payload();
    bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->End("write: " + ec.message());
      self->parser_.body_limit(boost::none);
      bhttp::async_read_header(
          self->stream_, self->buffer_, self->parser_, [self](beast::error_code ec, size_t) {
            if (ec) return self->End("read: " + ec.message());
            if (self->parser_.get().result_int() != 200) {
              return self->End("status " + std::to_string(self->parser_.get().result_int()));
            }
            // Connected: the stream stays open as long as etcd does.
            self->stream_.expires_never();
            self->ReadSome();
          });
    });
  }

  void ReadSome() {
    if (parser_.is_done()) return End("the watch stream ended");
    parser_.get().body().data = chunk_;
    parser_.get().body().size = sizeof(chunk_);
    bhttp::async_read_some(stream_, buffer_, parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec == bhttp::error::need_buffer) ec = {};
                             size_t got = sizeof(self->chunk_) - self->parser_.get().body().size;
                             self->pending_.append(self->chunk_, got);
                             if (!self->Lines()) return;
                             if (ec) return self->End("read: " + ec.message());
                             self->ReadSome();
                           });
  }

  // Handles every complete line; false when the watch must end.
  bool Lines() {
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!Line(std::string_view(pending_).substr(start, nl - start))) return false;
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxLine) {
      End("a watch line longer than 1 MiB");
      return false;
    }
    return true;
  }

  bool Line(std::string_view line) {
    // etcd's own output never throws here; a proxy's or a future version's odd
    // shape ends this watch (the owner re-reads), not the splitter.
    try {
      return Parse(line);
    } catch (const json::exception& e) {
      End(std::string("unexpected watch JSON: ") + e.what());
      return false;
    }
  }

  bool Parse(std::string_view line) {
    if (cancelled_) return false;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return true;  // blank or partial keep-alive bytes
    if (j.contains("error")) {
      End("etcd: " + j["error"].dump());
      return false;
    }
    const json& r = j.value("result", json::object());
    if (r.value("canceled", false) || r.contains("compact_revision")) {
      End("etcd ended the watch: " + r.dump());
      return false;
    }
    if (!r.contains("events") || !r["events"].is_array()) return true;
    for (const auto& ev : r["events"]) {
      if (ev.value("type", "PUT") != "PUT" || !ev.contains("kv")) continue;  // a DELETE
      const json& kv = ev["kv"];
      auto value = Base64Decode(kv.value("value", ""));
      if (!value) continue;
      EtcdValue v{std::move(*value), 0};
      const json& mr = kv.value("mod_revision", json());
      if (mr.is_string()) {
        const std::string& t = mr.get_ref<const std::string&>();
        std::from_chars(t.data(), t.data() + t.size(), v.mod_revision);
      }
      on_value_(v);
    }
    return true;
  }

  void End(const std::string& why) {
    if (cancelled_ || ended_) return;
    ended_ = true;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    on_end_(member_.Origin() + ": " + why);
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  Url member_;
  std::string key_;
  int64_t from_;
  OnValue on_value_;
  OnEnd on_end_;
  bhttp::request<bhttp::string_body> req_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::buffer_body> parser_;
  char chunk_[8192];
  std::string pending_;
  bool cancelled_ = false;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<EtcdWatch> EtcdWatch::Start(asio::io_context& io, const Url& member,
                                            const std::string& key, int64_t from_revision,
                                            OnValue on_value, OnEnd on_end) {
  auto w = std::make_shared<WatchStream>(io, member, key, from_revision, std::move(on_value),
                                         std::move(on_end));
  w->Begin();
  return w;
}

}  // namespace tandem::splitter
