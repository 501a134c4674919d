#include "pipeline/dead_letter.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/unique_fd.h"

namespace tandem::pipeline {

Status DeadLetter::Append(const std::vector<DeadLetterEntry>& entries) {
  if (entries.empty()) return {};
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string text;
  for (const auto& e : entries) {
    // `data` is for people (bytes that are not UTF-8 shown as U+FFFD);
    // `data_base64url` keeps the body byte for byte.
    nlohmann::json j = {{"table", e.table},
                        {"tandem_id", e.tandem_id},
                        {"received_at", e.received_at_ms},
                        {"reason", e.reason},
                        {"at", now},
                        {"data", e.data},
                        {"data_base64url", Base64Url(e.data)}};
    text += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::lock_guard<std::mutex> l(mu_);
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  auto fail = [&](const char* what) {
    return Status({errno, std::system_category()}, path_ + ": " + what);
  };
  if (!fd) return fail("cannot open");
  off_t before = ::lseek(fd.get(), 0, SEEK_END);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = fail("cannot write");
      if (before >= 0) ::ftruncate(fd.get(), before);  // no half line left behind
      return st;
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd.get()) != 0) return fail("cannot sync");
  if (fd.close() != 0) return fail("cannot close");
  return {};
}

}  // namespace tandem::pipeline
