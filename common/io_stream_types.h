// The socket, stream and timer types of Tandem's HTTP client and server, bound
// to io_context's own executor. Asio's and Beast's defaults carry
// any_io_executor, a type-erased executor that every handler copies, queries
// and destroys: about 5% of the whole stack's CPU under load. Each Tandem
// connection lives on one io_context, so nothing needs the erasure.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>

namespace tandem::http {

using IoExecutor = boost::asio::io_context::executor_type;
using TcpSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, IoExecutor>;
using TcpAcceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, IoExecutor>;
using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, IoExecutor,
                                             boost::beast::unlimited_rate_policy>;
using SteadyTimer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, IoExecutor>;

}  // namespace tandem::http
