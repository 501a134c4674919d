// A fixed set of threads, each running its own io_context. Work that belongs to
// one connection stays on one thread, so it needs no locks or strands.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace tandem {

class IoWorkers {
 public:
  explicit IoWorkers(size_t threads);
  ~IoWorkers();
  IoWorkers(const IoWorkers&) = delete;
  IoWorkers& operator=(const IoWorkers&) = delete;

  size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(size_t i) { return *contexts_[i]; }
  // Round-robin choice for a new connection.
  size_t Next() { return next_++ % contexts_.size(); }

  void Start();
  void Stop();  // makes every run() return; pending work is abandoned
  void Join();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  size_t next_ = 0;
};

}  // namespace tandem
