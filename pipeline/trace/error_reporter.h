// Where trace reports what went wrong, as the seed's toucan-js did: every
// exception and every non-2xx vendor answer. Implementations never block the
// caller (the delivery thread) and may drop reports (counted).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tandem::trace {

class ErrorReporter {
 public:
  virtual ~ErrorReporter() = default;
  // A vendor's non-2xx answer; `payload` is already scrubbed.
  virtual void VendorAnswer(const std::string& vendor, const std::string& role, int status,
                            const std::string& body, const nlohmann::json& payload) = 0;
  // An error trace caught (a failed dataset write, an unexpected exception).
  virtual void Error(const std::string& where, const std::string& what) = 0;
};

}  // namespace tandem::trace
