// Which JSON fields differ between two payloads built for one event and vendor:
// what a release changed in what the vendor receives.
#pragma once

#include <string>
#include <vector>

namespace tandem::compare {

struct FieldChange {
  std::string field;            // dotted path, arrays as [i]; "(payload)" when not JSON
  std::string change;           // added | removed | changed: the candidate against live
  std::string live, candidate;  // the values as JSON text; empty when absent
};

// At most `limit` changes, in document order.
std::vector<FieldChange> DiffPayloads(const std::string& live, const std::string& candidate,
                                      size_t limit = 32);

}  // namespace tandem::compare
