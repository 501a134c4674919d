// Writes a prepared message (string_body, after prepare_payload) the way both
// the server and the client do: a small one as one buffer formatted by
// AppendHead (see http_head.h for why), a large one with Beast's serializer.
// `wire` holds the bytes and must outlive the write.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>
#include <string>
#include <utility>

#include "common/http_head.h"

namespace tandem::http {

template <class Stream, bool isRequest, class Handler>
void AsyncWriteMessage(Stream& stream, bhttp::message<isRequest, bhttp::string_body>& msg,
                       std::string& wire, Handler&& handler) {
  if (msg.body().size() > kInlineBodyBytes) {
    bhttp::async_write(stream, msg, std::forward<Handler>(handler));
    return;
  }
  wire.clear();
  AppendHead(msg, wire);
  wire.append(msg.body());
  boost::asio::async_write(stream, boost::asio::buffer(wire), std::forward<Handler>(handler));
}

}  // namespace tandem::http
