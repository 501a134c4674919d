// Stand-in analytics vendors over TLS for benchmarks: `count` HTTPS servers with
// a CA of their own, each answering 200 "{}" and counting requests and events.
// Prints {"ca": FILE, "urls": [...]} on stdout once listening; on SIGTERM prints
// {"requests": [...], "events": [...]} and exits.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/support/https_stub.h"
#include "tests/support/test_pki.h"

int main(int argc, char** argv) {
  CLI::App app{"stand-in TLS vendors"};
  int count = 3;
  app.add_option("--count", count);
  CLI11_PARSE(app, argc, argv);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // the stand-ins' threads inherit it

  tandem::testing::TestPki pki;
  std::vector<std::unique_ptr<std::atomic<uint64_t>>> requests, events;
  std::vector<std::unique_ptr<tandem::testing::HttpsStub>> stubs;
  nlohmann::json urls = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    requests.push_back(std::make_unique<std::atomic<uint64_t>>(0));
    events.push_back(std::make_unique<std::atomic<uint64_t>>(0));
    auto* r = requests.back().get();
    auto* e = events.back().get();
    stubs.push_back(
        std::make_unique<tandem::testing::HttpsStub>(pki, [r, e](const tandem::http::Request& req) {
          r->fetch_add(1);
          auto body = nlohmann::json::parse(req.body(), nullptr, false);
          e->fetch_add(body.is_object() && body.contains("events") ? body["events"].size() : 1);
          tandem::http::Response res{tandem::http::Status::ok, 11};
          res.set(tandem::http::Field::content_type, "application/json");
          res.body() = "{}";
          return res;
        }));
    urls.push_back(stubs.back()->url());
  }
  std::cout << nlohmann::json{{"ca", pki.ca_cert}, {"urls", urls}}.dump() << std::endl;
  int sig = 0;
  sigwait(&mask, &sig);
  nlohmann::json out = {{"requests", nlohmann::json::array()}, {"events", nlohmann::json::array()}};
  for (int i = 0; i < count; ++i) {
    out["requests"].push_back(requests[i]->load());
    out["events"].push_back(events[i]->load());
  }
  std::cout << out.dump() << std::endl;
  std::_Exit(0);  // the stand-ins' connection threads are not worth joining
}
