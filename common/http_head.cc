#include "common/http_head.h"

namespace tandem::http {
namespace {

void AppendVersion(unsigned version, std::string& out) {
  out.append("HTTP/");
  out.push_back(static_cast<char>('0' + version / 10 % 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
}

template <bool isRequest>
void AppendFields(const bhttp::header<isRequest>& h, std::string& out) {
  for (const auto& field : h) {
    out.append(field.name_string());
    out.append(": ");
    out.append(field.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void AppendHead(const Request& req, std::string& out) {
  out.append(req.method_string());
  out.push_back(' ');
  out.append(req.target());
  out.push_back(' ');
  AppendVersion(req.version(), out);
  out.append("\r\n");
  AppendFields(req.base(), out);
}

void AppendHead(const Response& res, std::string& out) {
  AppendVersion(res.version(), out);
  out.push_back(' ');
  out.append(std::to_string(res.result_int()));
  out.push_back(' ');
  out.append(res.reason());
  out.append("\r\n");
  AppendFields(res.base(), out);
}

}  // namespace tandem::http
