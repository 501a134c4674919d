#include "common/file_util.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/process.h"

namespace tandem {
namespace {

size_t OpenDescriptors() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) n += !e.path().empty();
  return n;
}

TEST(WriteFileAtomic, ReplacesTheFileWhole) {
  testing::TempDir d;
  std::string path = d.path() + "/sub/state.json";
  ASSERT_FALSE(WriteFileAtomic(path, "one\n"));
  ASSERT_FALSE(WriteFileAtomic(path, "two\n"));
  std::string got;
  ASSERT_TRUE(ReadFile(path, got));
  EXPECT_EQ(got, "two\n");
}

TEST(WriteFileAtomic, AFailedWriteReportsTheErrorLeavesTheOldFileAndLeaksNoDescriptor) {
  testing::TempDir d;
  std::string path = d.path() + "/state.json";
  ASSERT_FALSE(WriteFileAtomic(path, "old\n"));
  // In a child, so the limit and the ignored signal stay there: files may not
  // grow past 8 bytes, the way a full disk refuses a write.
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{8, 8};
    setrlimit(RLIMIT_FSIZE, &lim);
    size_t before = OpenDescriptors();
    int failures = 0;
    for (int i = 0; i < 50; ++i)
      failures += static_cast<bool>(WriteFileAtomic(path, std::string(64, 'x')));
    _exit(failures == 50 && OpenDescriptors() == before ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a failed write leaked a descriptor or did not fail";
  std::string got;
  ASSERT_TRUE(ReadFile(path, got));
  EXPECT_EQ(got, "old\n");
}

}  // namespace
}  // namespace tandem
