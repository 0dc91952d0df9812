// Namespace aliases for the networking libraries, and the I/O types every component uses; include
// this instead of spelling Boost paths.
#pragma once

#include <utility> // must precede Boost.Asio coroutine headers with Boost 1.74 + g++ 12

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace s3ha {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

/// The executor of every coroutine, socket and timer: an io_context's, named as the concrete type
/// rather than net::any_io_executor. Every s3ha io_context (workers, health checker, admin) is
/// run by one thread, so nothing needs the polymorphic wrapper, whose copies, queries and
/// type-erased dispatch cost measurable CPU on every asynchronous operation (~5% of a small GET).
using executor = net::io_context::executor_type;
/// A coroutine on that executor; awaits only operations whose completion token is use_awaitable.
template <class T = void> using awaitable = net::awaitable<T, executor>;
/// The completion token of operations awaited in an awaitable (net::use_awaitable's counterpart).
inline constexpr net::use_awaitable_t<executor> use_awaitable{};

using tcp_socket = net::basic_stream_socket<net::ip::tcp, executor>;
using tcp_acceptor = net::basic_socket_acceptor<net::ip::tcp, executor>;
using tcp_resolver = net::ip::basic_resolver<net::ip::tcp, executor>;
using tcp_stream = beast::basic_stream<net::ip::tcp, executor>;
using steady_timer =
    net::basic_waitable_timer<std::chrono::steady_clock,
                              net::wait_traits<std::chrono::steady_clock>, executor>;
} // namespace s3ha
