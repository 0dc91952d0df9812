#include "s3ha/http/read_header.hpp"

namespace s3ha {

namespace {

// The most one read asks for: Beast's own choice for header reads (read_size's default limit).
constexpr std::size_t k_max_read = 65536;

} // namespace

template <bool IsRequest>
awaitable<error_code> read_header(any_stream& stream, beast::flat_buffer& buffer,
                                  http::basic_parser<IsRequest>& parser) {
    error_code ec;
    while (true) {
        if (buffer.size() > 0) {
            buffer.consume(parser.put(buffer.data(), ec));
            if (ec != http::error::need_more) co_return ec; // the header, or a parse error
            ec = {};
        }
        const std::size_t size = beast::read_size(buffer, k_max_read);
        if (size == 0) co_return make_error_code(http::error::buffer_overflow);
        const std::size_t n = co_await stream.async_read_some(
            buffer.prepare(size), net::redirect_error(use_awaitable, ec));
        buffer.commit(n);
        if (ec == net::error::eof) {
            co_return make_error_code(parser.got_some() ? http::error::partial_message
                                                        : http::error::end_of_stream);
        }
        if (ec) co_return ec;
    }
}

template awaitable<error_code> read_header<true>(any_stream&, beast::flat_buffer&,
                                                 http::basic_parser<true>&);
template awaitable<error_code> read_header<false>(any_stream&, beast::flat_buffer&,
                                                  http::basic_parser<false>&);

} // namespace s3ha
