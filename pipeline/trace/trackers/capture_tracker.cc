#include "pipeline/trace/trackers/capture_tracker.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/log.h"
#include "pipeline/trace/trace_metrics.h"
#include "pipeline/trace/trackers/generic_payload.h"

namespace tandem::trace {

CaptureTracker::CaptureTracker(const TrackerConfig& config, TrackerDeps deps)
    : Tracker(config, deps), batch_max_(config.batch_max == 0 ? 1000 : config.batch_max) {
  live_ = &Open(config.live.path);
  if (config.candidate_mode == "staging") staging_ = &Open(config.candidate.path);
}

CaptureTracker::File& CaptureTracker::Open(const std::string& path_template) {
  std::string path = ForColor(path_template, deps_.color);
  auto& slot = files_[path];
  if (slot) return *slot;
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("tracker '" + name() + "': cannot open " + path + ": " +
                             std::strerror(errno));
  }
  slot = std::make_unique<File>(deps_.io);
  slot->path = path;
  slot->fd = UniqueFd(fd);
  return *slot;
}

nlohmann::json CaptureTracker::Payload(const CleanEvent& e) const { return GenericPayload(e); }

void CaptureTracker::Send(Target target, PayloadPtr payload, DeliveryDone done) {
  File& f = target == Target::kLive ? *live_ : *staging_;
  f.buffer += payload->text;
  f.buffer += '\n';
  f.waiting.push_back(std::move(done));
  if (f.waiting.size() >= batch_max_) return Flush(f);
  f.linger.Arm(std::chrono::milliseconds(config_.linger_ms), [this, &f] { Flush(f); });
}

void CaptureTracker::Flush(File& f) {
  f.linger.Disarm();
  if (f.waiting.empty()) return;
  // One append of whole lines: O_APPEND keeps concurrent writers' lines apart.
  size_t done_bytes = 0;
  int err = 0;
  while (done_bytes < f.buffer.size()) {
    ssize_t n = ::write(f.fd.get(), f.buffer.data() + done_bytes, f.buffer.size() - done_bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done_bytes += static_cast<size_t>(n);
  }
  if (err != 0 && done_bytes > 0) {
    // A partial line would corrupt the file for readers: end it.
    (void)!::write(f.fd.get(), "\n", 1);
  }
  auto waiting = std::move(f.waiting);
  f.waiting.clear();
  f.buffer.clear();
  auto& vm = deps_.metrics.vendor(name());
  for (auto& done : waiting) {
    if (err == 0) {
      vm.deliveries.at("delivered")->Increment();
      done({"delivered", 0, 1, ""});
    } else {
      vm.deliveries.at("failed")->Increment();
      done({"failed", 0, 1, std::string("write ") + f.path + ": " + std::strerror(err)});
    }
  }
  if (err != 0)
    log::Error("capture write failed", {{"path", f.path}, {"error", std::strerror(err)}});
}

}  // namespace tandem::trace
