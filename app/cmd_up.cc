// `tandem up`: the local stack as child processes of one supervisor. A child
// that dies is restarted with exponential backoff; SIGTERM or Ctrl-C stops all.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <vector>

#include "app/commands.h"
#include "common/backoff.h"
#include "common/config.h"
#include "common/log.h"

namespace tandem::app {
namespace {
using Clock = std::chrono::steady_clock;

struct Child {
  std::string name;
  std::vector<std::string> argv;
  pid_t pid = 0;
  int failures = 0;
  Clock::time_point started, restart_at;
};

pid_t Spawn(const Child& c, const sigset_t& old_mask) {
  pid_t pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close_range(3, ~0U, 0);  // the supervisor's descriptors are not the child's
    std::vector<char*> args;
    for (const auto& a : c.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::cerr << "cannot start " << c.argv[0] << ": " << strerror(errno) << "\n";
    _exit(127);
  }
  return pid;
}

// Where everything is, for the person who started the stack (stdout; the
// children's logs go to stderr).
void PrintWhere(const Config& c) {
  auto url = [](const HostPort& hp) { return "http://" + hp.ToString(); };
  std::cout << "tandem up: " << c.file << "\n"
            << "  events       POST " << url(c.splitter.listen)
            << "/v1/events   (SDK: " << url(c.splitter.listen) << "/sdk/sparrow.js)\n"
            << "  admin        " << url(c.splitter.admin_listen)
            << "/admin/v1/state  (metrics: /metrics)\n"
            << "  compare      " << url(c.compare.listen)
            << "/  (report: /v1/report, metrics: /metrics)\n";
  for (Color color : {Color::kBlue, Color::kGreen}) {
    const ColorConfig& cc = c.color(color);
    std::string dataset = cc.dataset.kind == "sqlite" ? ForColor(cc.dataset.path, color)
                                                      : "bigquery " + cc.dataset.project + "." +
                                                            ForColor(cc.dataset.dataset, color);
    std::cout << "  " << ColorName(color) << (color == Color::kBlue ? " " : "")
              << "        dispatcher " << url(cc.dispatcher_listen) << ", trace "
              << url(cc.trace_listen) << " (metrics: /metrics on each)\n"
              << "               dataset " << dataset << ", spool " << ForColor(cc.spool_dir, color)
              << (cc.binary.empty() ? "" : ", binary " + cc.binary) << "\n";
    for (const auto& t : c.pipeline.trackers) {
      if (t.kind == "capture")
        std::cout << "               capture file " << ForColor(t.live.path, color) << "\n";
    }
  }
  std::cout << std::flush;
}

}  // namespace

int Up(const std::string& file, const std::string& self) {
  log::Init("up");
  Config cfg = LoadConfig(file);  // fail fast, before any child starts
  std::vector<Child> children;
  auto add = [&](const std::string& name, std::vector<std::string> argv) {
    Child c;
    c.name = name;
    c.argv = std::move(argv);
    children.push_back(std::move(c));
  };
  // A color may run another tandem build (colors.C.binary): the release under test.
  for (Color color : {Color::kBlue, Color::kGreen}) {
    const std::string& bin = cfg.color(color).binary.empty() ? self : cfg.color(color).binary;
    add(std::string("dispatcher-") + ColorName(color),
        {bin, "dispatcher", "-c", cfg.file, "--color", ColorName(color)});
    add(std::string("trace-") + ColorName(color),
        {bin, "trace", "-c", cfg.file, "--color", ColorName(color)});
  }
  add("splitter", {self, "splitter", "-c", cfg.file});
  add("compare", {self, "compare", "-c", cfg.file});
  PrintWhere(cfg);

  sigset_t mask, old_mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, &old_mask);

  for (auto& c : children) {
    c.pid = Spawn(c, old_mask);
    c.started = Clock::now();
    log::Info("started", {{"child", c.name}, {"pid", c.pid}});
  }
  bool stopping = false;
  Clock::time_point stop_deadline;
  for (;;) {
    timespec ts{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&mask, nullptr, &ts);
    if (sig == SIGHUP) {
      // Each child reloads what it can; the supervisor itself has nothing to reload.
      for (auto& c : children) {
        if (c.pid > 0) kill(c.pid, SIGHUP);
      }
      log::Info("SIGHUP passed on to the children");
    }
    if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
      stopping = true;
      stop_deadline = Clock::now() + std::chrono::seconds(20);
      log::Info("stopping the stack", {{"signal", sig}});
      for (auto& c : children) {
        if (c.pid > 0) kill(c.pid, SIGTERM);
      }
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& c : children) {
        if (c.pid != pid) continue;
        c.pid = 0;
        if (stopping) break;
        bool was_healthy = Clock::now() - c.started > std::chrono::seconds(60);
        c.failures = was_healthy ? 1 : c.failures + 1;
        auto backoff =
            Backoff(c.failures - 1, {std::chrono::milliseconds(500), std::chrono::seconds(30)});
        c.restart_at = Clock::now() + backoff;
        log::Warn("child exited; restarting",
                  {{"child", c.name}, {"status", status}, {"backoff_ms", backoff.count()}});
      }
    }
    if (stopping) {
      bool any = false;
      for (auto& c : children) any = any || c.pid > 0;
      if (!any) break;
      if (Clock::now() > stop_deadline) {
        for (auto& c : children) {
          if (c.pid > 0) kill(c.pid, SIGKILL);
        }
      }
      continue;
    }
    for (auto& c : children) {
      if (c.pid == 0 && Clock::now() >= c.restart_at) {
        c.pid = Spawn(c, old_mask);
        c.started = Clock::now();
        log::Info("restarted", {{"child", c.name}, {"pid", c.pid}});
      }
    }
  }
  log::Info("stack stopped");
  return 0;
}

}  // namespace tandem::app
