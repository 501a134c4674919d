// Runs a real `tandem` process for integration tests and reads its structured
// log lines, so tests wait for events ("listening", "config reloaded") instead of sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tandem::testing {

// Resource limits for the child (setrlimit, soft and hard), to make a full disk
// or a descriptor shortage.
struct ProcessLimits {
  std::optional<uint64_t> file_size;   // RLIMIT_FSIZE
  std::optional<uint64_t> open_files;  // RLIMIT_NOFILE
};

class Process {
 public:
  // argv[0] is the executable. `env` entries are NAME=VALUE added to the environment.
  Process(std::vector<std::string> argv, std::vector<std::string> env = {},
          ProcessLimits limits = {});
  ~Process();  // SIGKILLs the process if it still runs

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for the exit; returns the exit code, or 128+signal, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Waits for a JSON log line whose "msg" is `msg` (and that `pred` accepts); nullopt on timeout or
  // exit.
  std::optional<nlohmann::json> WaitForLog(
      const std::string& msg, std::chrono::milliseconds timeout = std::chrono::seconds(20),
      std::function<bool(const nlohmann::json&)> pred = nullptr);
  // Everything the process wrote to stderr and stdout so far.
  std::string Output() const;

 private:
  void ReadLoop(int fd);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// The `tandem` executable this build produced.
std::string TandemBinary();

// The executable `name` on PATH, or "" if there is none.
std::string OnPath(const std::string& name);

// A temporary folder removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Polls `done` (a read of files or a query: there is no event to wait on) every
// 100 ms, at most `limit`; whether it became true.
template <typename F>
bool PollUntil(F done, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Waits until each of `tandem up`'s six services logged "listening".
bool WaitForStack(Process& up, std::chrono::milliseconds limit = std::chrono::seconds(30));

}  // namespace tandem::testing
