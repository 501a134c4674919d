#include "tests/support/process.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

extern char** environ;

namespace tandem::testing {

Process::Process(std::vector<std::string> argv, std::vector<std::string> env,
                 ProcessLimits limits) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  for (auto& e : env) envs.push_back(e);
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Its own process group, so the destructor also ends what it started (`tandem
    // up`'s children hold the output pipe; the reader would wait for them forever).
    setpgid(0, 0);
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);  // a command's answer too (status, promote, compare --once)
    // Descriptors the test holds (stand-ins' listening sockets) must not leak into the child.
    close_range(3, ~0U, 0);
    if (limits.file_size) {
      rlimit lim{*limits.file_size, *limits.file_size};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    if (limits.open_files) {
      rlimit lim{*limits.open_files, *limits.open_files};
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    std::vector<char*> a, en;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    for (auto& s : envs) en.push_back(s.data());
    en.push_back(nullptr);
    execve(a[0], a.data(), en.data());
    _exit(127);
  }
  setpgid(pid_, pid_);  // also here, so the group exists before the constructor returns
  close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { ReadLoop(fd); });
}

Process::~Process() {
  if (!exit_code_) {
    // The whole group, while the unreaped child still holds its id (after the
    // reap the id could be another process group's).
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
}

void Process::ReadLoop(int fd) {
  std::string partial;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      std::lock_guard<std::mutex> l(mu_);
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
      cv_.notify_all();
    }
  }
  close(fd);
  std::lock_guard<std::mutex> l(mu_);
  if (!partial.empty()) lines_.push_back(partial);
  eof_ = true;
  cv_.notify_all();
}

void Process::Signal(int sig) { kill(pid_, sig); }

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  // waitpid has no timeout; poll it with WNOHANG in short steps, bounded by `timeout`.
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // Output() after Wait() must hold everything the process wrote: let the
      // reader drain the pipe (EOF), unless something it started keeps it open.
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::seconds(5), [this] { return eof_; });
      return exit_code_;
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

std::optional<nlohmann::json> Process::WaitForLog(const std::string& msg,
                                                  std::chrono::milliseconds timeout,
                                                  std::function<bool(const nlohmann::json&)> pred) {
  std::unique_lock<std::mutex> l(mu_);
  size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; seen < lines_.size(); ++seen) {
      auto j = nlohmann::json::parse(lines_[seen], nullptr, false);
      if (j.is_object() && j.value("msg", "") == msg && (!pred || pred(j))) return j;
    }
    if (eof_) return std::nullopt;
    if (cv_.wait_until(l, deadline) == std::cv_status::timeout && seen == lines_.size())
      return std::nullopt;
  }
}

std::string Process::Output() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  for (auto& s : lines_) out += s + "\n";
  return out;
}

std::string OnPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');) {
    std::string f = d + "/" + name;
    if (access(f.c_str(), X_OK) == 0) return f;
  }
  return "";
}

std::string TandemBinary() {
  // TANDEM_TEST_BINARY runs the tests against another build (an older one, to
  // see a test fail before its fix).
  const char* other = std::getenv("TANDEM_TEST_BINARY");
  return other && *other ? other : TANDEM_BINARY;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tandem-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

bool WaitForStack(Process& up, std::chrono::milliseconds limit) {
  std::set<std::string> listening;
  return up
      .WaitForLog("listening", limit,
                  [&](const nlohmann::json& j) {
                    listening.insert(j.value("service", ""));
                    return listening.size() == 6;
                  })
      .has_value();
}

}  // namespace tandem::testing
