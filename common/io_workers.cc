#include "common/io_workers.h"

namespace tandem {

IoWorkers::IoWorkers(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    // concurrency hint 1: each context is run by exactly one thread, so Asio can skip locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoWorkers::~IoWorkers() {
  Stop();
  Join();
}

void IoWorkers::Start() {
  for (auto& ctx : contexts_) {
    boost::asio::io_context* c = ctx.get();
    threads_.emplace_back([c] { c->run(); });
  }
}

void IoWorkers::Stop() {
  for (auto& ctx : contexts_) ctx->stop();
}

void IoWorkers::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace tandem
