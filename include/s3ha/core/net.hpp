// Namespace aliases for the networking libraries; include this instead of spelling Boost paths.
#pragma once

#include <utility> // must precede Boost.Asio coroutine headers with Boost 1.74 + g++ 12

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace s3ha {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;
} // namespace s3ha
