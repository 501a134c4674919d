// The HTTP message types shared by Tandem's server and client.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>

namespace tandem::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;
using Status = bhttp::status;
using Field = bhttp::field;
using Verb = bhttp::verb;

// A response with a body and content type; keep-alive is decided by the server.
Response MakeResponse(Status status, std::string body,
                      const char* content_type = "application/json");
// {"error": message} with the given status.
Response JsonError(Status status, const std::string& message);

}  // namespace tandem::http
