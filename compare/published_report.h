// The latest report, handed from the judge thread to the HTTP threads: readers
// take a shared pointer to an immutable snapshot, never a lock while serving.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "compare/report.h"

namespace tandem::compare {

struct PublishedReport {
  Report report;
  std::string json;  // /v1/report's body
};

class ReportBoard {
 public:
  void Publish(std::shared_ptr<const PublishedReport> r) {
    std::lock_guard<std::mutex> l(mu_);
    latest_ = std::move(r);
  }
  std::shared_ptr<const PublishedReport> Latest() const {
    std::lock_guard<std::mutex> l(mu_);
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const PublishedReport> latest_;
};

}  // namespace tandem::compare
