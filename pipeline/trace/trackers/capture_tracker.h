// `capture`: appends each vendor-bound payload as one JSON line to a file (per
// color through {color}), the local default. Lines are written in batches with
// one write(2); each carries the tandem id, so a reader drops duplicates by it.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <vector>

#include "common/unique_fd.h"
#include "pipeline/trace/linger_timer.h"
#include "pipeline/trace/tracker.h"

namespace tandem::trace {

class CaptureTracker : public Tracker {
 public:
  CaptureTracker(const TrackerConfig& config, TrackerDeps deps);
  nlohmann::json Payload(const CleanEvent& e) const override;

 protected:
  void Send(Target target, PayloadPtr payload, DeliveryDone done) override;

 private:
  struct File {
    explicit File(boost::asio::io_context& io) : linger(io) {}
    std::string path;
    UniqueFd fd;
    std::string buffer;
    std::vector<DeliveryDone> waiting;
    LingerTimer linger;
  };
  void Flush(File& f);
  File& Open(const std::string& path_template);

  size_t batch_max_;
  std::map<std::string, std::unique_ptr<File>> files_;  // by resolved path
  File* live_ = nullptr;
  File* staging_ = nullptr;
};

}  // namespace tandem::trace
