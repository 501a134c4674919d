#include "common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/unique_fd.h"

namespace tandem {

std::error_code WriteFileAtomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  auto errno_code = [] { return std::error_code(errno, std::system_category()); };
  std::error_code ec;
  fs::path p(path);
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  fs::create_directories(dir, ec);
  if (ec) return ec;
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return errno_code();
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_code();  // fd closes on return
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return errno_code();
  if (fd.close() != 0) return errno_code();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_code();
  // The rename is durable only once the folder is.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd || ::fsync(dfd.get()) != 0) return errno_code();
  return {};
}

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace tandem
