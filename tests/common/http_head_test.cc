// AppendHead writes what Beast's own serializer writes, byte for byte.
#include "common/http_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <sstream>

namespace tandem::http {
namespace {

template <class Message>
std::string ByBeast(const Message& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

template <class Message>
std::string ByAppendHead(const Message& m) {
  std::string out;
  AppendHead(m, out);
  return out + m.body();
}

TEST(HttpHead, ARequestWithFieldsAndABody) {
  Request req{Verb::post, "/v1/events?x=1", 11};
  req.set(Field::host, "127.0.0.1:8080");
  req.set(Field::content_type, "application/json");
  req.set("X-Tandem-Id", "0190a0b1-0000-7000-8000-000000000001");
  req.insert("X-Repeated", "one");
  req.insert("X-Repeated", "two");
  req.keep_alive(true);
  req.body() = R"({"event":"pageview"})";
  req.prepare_payload();
  EXPECT_EQ(ByAppendHead(req), ByBeast(req));
}

TEST(HttpHead, ARequestWithoutABody) {
  Request req{Verb::get, "/admin/v1/state", 11};
  req.set(Field::authorization, "Bearer token");
  req.prepare_payload();
  EXPECT_EQ(ByAppendHead(req), ByBeast(req));
}

TEST(HttpHead, ResponsesWithTheirReasons) {
  for (unsigned code : {200u, 202u, 204u, 400u, 413u, 429u, 503u, 599u}) {
    Response res{static_cast<Status>(code), 11};
    res.set(Field::content_type, "application/json");
    res.keep_alive(code != 400);
    if (code != 204) res.body() = R"({"error":"x"})";
    res.prepare_payload();
    EXPECT_EQ(ByAppendHead(res), ByBeast(res)) << code;
  }
}

TEST(HttpHead, AResponseWithItsOwnReasonAndAnOldVersion) {
  Response res{Status::ok, 10};
  res.reason("Fine Thanks");
  res.body() = "ok";
  res.prepare_payload();
  EXPECT_EQ(ByAppendHead(res), ByBeast(res));
}

TEST(HttpHead, AHeadAnswerKeepsItsContentLengthAndSendsNoBody) {
  Response res{Status::ok, 11};
  res.body() = "twelve bytes";
  res.prepare_payload();
  res.body().clear();
  std::string head;
  AppendHead(res, head);
  EXPECT_EQ(head, ByBeast(res));
  EXPECT_NE(head.find("Content-Length: 12\r\n"), std::string::npos);
}

}  // namespace
}  // namespace tandem::http
