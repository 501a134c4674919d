#include "splitter/connection_budget.h"

#include <algorithm>

namespace tandem::splitter {

ConnectionBudget ConnectionBudget::For(const SplitterConfig& c, uint64_t limit) {
  ConnectionBudget b;
  uint64_t spare = limit > kReserved ? limit - kReserved : 0;
  b.admin = static_cast<uint32_t>(
      std::min<uint64_t>(c.admin_max_connections, std::max<uint64_t>(spare / 8, 4)));
  spare = spare > b.admin ? spare - b.admin : 0;
  // Each ingest connection may hold one live connection too; the candidate gets a fifth.
  b.candidate = static_cast<uint32_t>(
      std::min<uint64_t>(c.candidate_max_connections, std::max<uint64_t>(spare / 5, 1)));
  spare = spare > b.candidate ? spare - b.candidate : 0;
  b.ingest = static_cast<uint32_t>(
      std::min<uint64_t>(c.max_connections, std::max<uint64_t>(spare / 2, 16)));
  b.lowered = b.ingest < c.max_connections || b.candidate < c.candidate_max_connections ||
              b.admin < c.admin_max_connections;
  return b;
}

}  // namespace tandem::splitter
