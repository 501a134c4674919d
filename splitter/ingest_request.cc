#include "splitter/ingest_request.h"

#include <boost/beast/core/string.hpp>

#include "common/gzip.h"
#include "common/wire.h"

namespace tandem::splitter {
namespace beast = boost::beast;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Headers that describe one hop, not the request (RFC 9110 section 7.6.1), those
// the splitter sets itself, and the body's encoding (the body travels decoded).
bool DropOnForward(const http::Request::value_type& f) {
  switch (f.name()) {
    case http::Field::connection:
    case http::Field::keep_alive:
    case http::Field::proxy_authenticate:
    case http::Field::proxy_authorization:
    case http::Field::proxy_connection:
    case http::Field::te:
    case http::Field::trailer:
    case http::Field::transfer_encoding:
    case http::Field::upgrade:
    case http::Field::host:
    case http::Field::content_length:
    case http::Field::content_encoding:
    case http::Field::expect:
      return true;
    default:
      break;
  }
  std::string_view n = f.name_string();
  if (beast::iequals(n, "x-forwarded-for")) return true;
  return n.size() >= wire::kPrefix.size() &&
         beast::iequals(n.substr(0, wire::kPrefix.size()), wire::kPrefix);
}

// "application/json; charset=utf-8" -> true for the two types Sparrow sends.
bool AcceptedMediaType(std::string_view ct) {
  std::string_view type = Trim(ct.substr(0, ct.find(';')));
  return beast::iequals(type, "application/json") || beast::iequals(type, "text/plain");
}

PreparedEvent Refuse(http::Status status, Rejection why, const std::string& message) {
  PreparedEvent out;
  out.refusal = http::JsonError(status, message);
  out.reason = why;
  return out;
}

}  // namespace

PreparedEvent PrepareEvent(http::Request&& req, const std::string& peer_ip, uint64_t max_body_bytes,
                           const Uuid7& id) {
  auto ct = req.find(http::Field::content_type);
  if (ct == req.end() || !AcceptedMediaType(ct->value())) {
    return Refuse(http::Status::unsupported_media_type, Rejection::kUnsupportedMediaType,
                  "Content-Type must be application/json or text/plain");
  }
  if (auto ce = req.find(http::Field::content_encoding); ce != req.end()) {
    std::string_view enc = Trim(ce->value());
    if (beast::iequals(enc, "gzip") || beast::iequals(enc, "x-gzip")) {
      std::string decoded;
      switch (Gunzip(req.body(), max_body_bytes, decoded)) {
        case GunzipResult::kOk:
          req.body() = std::move(decoded);
          break;
        case GunzipResult::kTooLarge:
          return Refuse(http::Status::payload_too_large, Rejection::kBodyTooLarge,
                        "the decoded body exceeds the size limit");
        case GunzipResult::kCorrupt:
          return Refuse(http::Status::bad_request, Rejection::kBadEncoding,
                        "the body is not valid gzip");
      }
    } else if (!enc.empty() && !beast::iequals(enc, "identity")) {
      return Refuse(http::Status::unsupported_media_type, Rejection::kUnsupportedEncoding,
                    "Content-Encoding must be gzip or identity");
    }
  }
  if (req.body().empty()) {
    return Refuse(http::Status::bad_request, Rejection::kEmptyBody, "empty body");
  }

  // Stamp: one id and timestamp, the same for both colors.
  PreparedEvent out;
  http::Request& up = out.upstream.emplace(http::Verb::post, std::string(wire::kEventsPath), 11);
  for (const auto& f : req) {
    if (!DropOnForward(f)) up.insert(f.name(), f.name_string(), f.value());
  }
  std::string xff;
  if (auto it = req.find("X-Forwarded-For"); it != req.end()) xff = std::string(it->value()) + ", ";
  xff += peer_ip;
  up.set("X-Forwarded-For", xff);
  up.set(wire::kTandemId, id.text);
  up.set(wire::kReceivedAt, std::to_string(id.unix_ms));
  up.body() = std::move(req.body());
  return out;
}

}  // namespace tandem::splitter
