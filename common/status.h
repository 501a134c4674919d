// The result of a call that can fail: ok, or an error code with a detail meant
// for people (the dependency's own words). Returned per call, never stored.
#pragma once

#include <string>
#include <system_error>
#include <utility>

namespace tandem {

class Status {
 public:
  Status() = default;
  Status(std::error_code ec, std::string detail) : ec_(ec), detail_(std::move(detail)) {}
  static Status Ok() { return {}; }

  bool ok() const { return !ec_; }
  const std::error_code& code() const { return ec_; }
  const std::string& detail() const { return detail_; }
  // "detail (code message)", or the code's message alone.
  std::string message() const {
    if (ok()) return "ok";
    return detail_.empty() ? ec_.message() : detail_ + " (" + ec_.message() + ")";
  }

 private:
  std::error_code ec_;
  std::string detail_;
};

}  // namespace tandem
