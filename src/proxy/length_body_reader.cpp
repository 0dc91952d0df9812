#include "s3ha/proxy/length_body_reader.hpp"

#include "s3ha/core/read_deadline.hpp"

#include <algorithm>

namespace s3ha::proxy {

awaitable<std::size_t> length_body_reader::read(std::span<char> out,
                                                std::chrono::milliseconds timeout, error_code& ec) {
    ec = {};
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, out.size()));
    if (want == 0) co_return 0;
    if (buffered_.size() > 0) {
        const auto n = net::buffer_copy(net::buffer(out.data(), want), buffered_.data());
        buffered_.consume(n);
        remaining_ -= n;
        co_return n;
    }
    const read_deadline deadline(stream_, timeout);
    const auto n = co_await stream_.async_read_some(net::buffer(out.data(), want),
                                                    net::redirect_error(use_awaitable, ec));
    remaining_ -= n;
    if (ec == net::error::eof) ec = http::error::partial_message;
    ec = deadline.error_of(ec);
    co_return n;
}

} // namespace s3ha::proxy
