// The splitter's request path over any bytes: Beast's parser with the server's
// limits, then PrepareEvent. Whatever comes in, what goes out to the colors is a
// stamped POST with a non-empty body within the limit and no client X-Tandem-*.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/wire.h"
#include "splitter/ingest_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  constexpr uint64_t kLimit = 4096;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(kLimit);
  parser.header_limit(16 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  tandem::Uuid7 id{"0190a1b2-c3d4-7e5f-8a9b-000000000001", 1700000000000};
  auto ev = tandem::splitter::PrepareEvent(parser.release(), "127.0.0.1", kLimit, id);
  if (!ev.upstream) {
    if (ev.refusal.result_int() < 400 || ev.refusal.result_int() >= 500) abort();
    return 0;
  }
  const auto& up = *ev.upstream;
  if (up.body().empty() || up.body().size() > kLimit) abort();
  if (up[tandem::wire::kTandemId] != id.text) abort();
  int stamped = 0;
  for (const auto& f : up) {
    std::string_view n = f.name_string();
    if (n.size() >= 9 && boost::beast::iequals(n.substr(0, 9), "x-tandem-")) ++stamped;
  }
  if (stamped != 2) abort();  // X-Tandem-Id and X-Tandem-Received-At; the role is set later
  return 0;
}
