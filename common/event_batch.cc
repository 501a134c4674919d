#include "common/event_batch.h"

#include <boost/beast/core/string.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace tandem {
namespace {

constexpr std::string_view kPrefix = "TNDB1\n";

void PutU16(std::string& out, size_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}

void PutU32(std::string& out, size_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads from the front of `in`, never past its end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool empty() const { return in_.empty(); }
  bool U16(size_t& v) { return Int(2, v); }
  bool U32(size_t& v) { return Int(4, v); }
  bool Bytes(size_t n, std::string_view& v) {
    if (n > in_.size()) return false;
    v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

 private:
  bool Int(size_t width, size_t& v) {
    if (in_.size() < width) return false;
    v = 0;
    for (size_t i = 0; i < width; ++i) v |= size_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(width);
    return true;
  }
  std::string_view in_;
};

}  // namespace

std::string_view BatchedEvent::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    // ASCII, as header names are: boost::algorithm::iequals asked the locale for
    // every character (use_facet, a dynamic_cast each), ~3% of the stack's CPU.
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

bool AppendBatchedEvent(std::string& out, const std::vector<BatchHeader>& headers,
                        std::string_view body) {
  // What ParseEventBatch would refuse is never written (nor cut to fit).
  if (headers.size() > kMaxBatchHeaders || body.size() > UINT32_MAX) return false;
  for (const auto& [name, value] : headers) {
    if (name.empty() || name.size() > kMaxBatchHeaderName || value.size() > UINT32_MAX) {
      return false;
    }
  }
  if (out.empty()) out.append(kPrefix);
  PutU16(out, headers.size());
  for (const auto& [name, value] : headers) {
    PutU16(out, name.size());
    out.append(name);
    PutU32(out, value.size());
    out.append(value);
  }
  PutU32(out, body.size());
  out.append(body);
  return true;
}

bool ParseEventBatch(std::string_view bytes, std::vector<BatchedEvent>& out, std::string& error) {
  out.clear();
  if (!bytes.starts_with(kPrefix)) {
    error = "not an event batch (it must start with \"TNDB1\\n\")";
    return false;
  }
  Reader r(bytes.substr(kPrefix.size()));
  while (!r.empty()) {
    if (out.size() == kMaxBatchEventCount) {
      error = "more than " + std::to_string(kMaxBatchEventCount) + " events";
      return false;
    }
    const std::string where = "event " + std::to_string(out.size()) + ": ";
    BatchedEvent e;
    size_t count = 0;
    if (!r.U16(count) || count > kMaxBatchHeaders) {
      error = where + "header count cut off or above " + std::to_string(kMaxBatchHeaders);
      return false;
    }
    e.headers.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      size_t name_len = 0, value_len = 0;
      std::string_view name, value;
      if (!r.U16(name_len) || name_len == 0 || name_len > kMaxBatchHeaderName ||
          !r.Bytes(name_len, name) || !r.U32(value_len) || !r.Bytes(value_len, value)) {
        error = where + "header " + std::to_string(i) + " is cut off or malformed";
        return false;
      }
      e.headers.emplace_back(name, value);
    }
    size_t body_len = 0;
    if (!r.U32(body_len) || !r.Bytes(body_len, e.body)) {
      error = where + "body is cut off";
      return false;
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) {
    error = "an empty batch";
    return false;
  }
  return true;
}

std::string EncodeBatchAnswer(const std::vector<unsigned>& statuses) {
  std::string s = "{\"status\":[";
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (i) s.push_back(',');
    s += std::to_string(statuses[i]);
  }
  s += "]}";
  return s;
}

bool ParseBatchAnswer(std::string_view text, size_t expected, std::vector<unsigned>& statuses) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto it = j.find("status");
  if (it == j.end() || !it->is_array() || it->size() != expected) return false;
  statuses.clear();
  for (const auto& s : *it) {
    if (!s.is_number_unsigned()) return false;
    auto v = s.get<uint64_t>();
    if (v < 100 || v > 599) return false;
    statuses.push_back(static_cast<unsigned>(v));
  }
  return true;
}

}  // namespace tandem
