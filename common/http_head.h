// The start line and fields of an HTTP message as bytes, so that a small message
// with a known-length body (string_body after prepare_payload) goes out as one
// contiguous buffer. Beast's serializer walks a buffers_cat over every field on
// each write step: about 3% of the whole stack's CPU under load, for messages of
// a few hundred bytes. Large bodies keep Beast's serializer (no copy). Not a
// gathered std::array of head and body: in Boost 1.74 Asio's two-buffer write
// hands the stream an empty first buffer once the head is sent, Beast's
// ssl_stream (flat_stream) then writes 0 bytes of a body over 16 KiB, and
// async_write takes that as done: the request stalled half sent
// (ClientPool.LargeBodiesArriveWholeOverTls).
#pragma once

#include <string>

#include "common/http_types.h"

namespace tandem::http {

// "METHOD TARGET HTTP/1.1\r\n" and the fields, each "Name: value\r\n", then "\r\n".
void AppendHead(const Request& req, std::string& out);
// "HTTP/1.1 CODE REASON\r\n" and the fields, then "\r\n".
void AppendHead(const Response& res, std::string& out);

// Bodies up to this size are copied behind the head and written with it.
inline constexpr size_t kInlineBodyBytes = 64 << 10;

}  // namespace tandem::http
