#include "pipeline/checkpoint.h"

#include <filesystem>
#include <stdexcept>

#include "common/file_util.h"

namespace tandem::pipeline {

uint64_t Checkpoint::Load() const {
  if (!std::filesystem::exists(path_)) return 0;
  std::string text;
  if (!ReadFile(path_, text)) throw std::runtime_error(path_ + ": cannot read the checkpoint");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error(path_ +
                             ": not a checkpoint (expected a number); restore or delete it");
  }
  return std::stoull(text);
}

std::error_code Checkpoint::Save(uint64_t pos) {
  return WriteFileAtomic(path_, std::to_string(pos) + "\n");
}

}  // namespace tandem::pipeline
