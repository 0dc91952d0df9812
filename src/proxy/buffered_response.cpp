#include "s3ha/proxy/buffered_response.hpp"

#include "s3ha/core/errc.hpp"

namespace s3ha::proxy {

awaitable<error_code> read_response_body(any_stream& up, beast::flat_buffer& up_buffer,
                                         http::response_parser<http::buffer_body>& rp,
                                         std::span<char> buffer, std::size_t limit,
                                         std::chrono::milliseconds idle_timeout, std::string& out) {
    if (auto cl = rp.content_length(); cl && *cl > limit) {
        co_return make_error_code(errc::upload_ids_too_large);
    }
    auto& body = rp.get().body();
    error_code ec;
    while (!rp.is_done()) {
        body.data = buffer.data();
        body.size = buffer.size();
        up.expires_after(idle_timeout);
        co_await http::async_read(up, up_buffer, rp, net::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return ec;
        const std::size_t n = buffer.size() - body.size;
        if (out.size() + n > limit) co_return make_error_code(errc::upload_ids_too_large);
        out.append(buffer.data(), n);
    }
    co_return ec;
}

} // namespace s3ha::proxy
