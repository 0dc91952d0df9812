#include "s3ha/http/read_header.hpp"

namespace s3ha {

namespace {

// The most one read asks for: Beast's own choice for header reads (read_size's default limit).
constexpr std::size_t k_max_read = 65536;

} // namespace

template <bool IsRequest>
awaitable<error_code> read_header(any_stream& stream, beast::flat_buffer& buffer,
                                  http::basic_parser<IsRequest>& parser,
                                  std::string_view* header_bytes) {
    error_code ec;
    while (true) {
        if (buffer.size() > 0) {
            // Beast parses a header only once all of it is buffered: what a successful put()
            // used is the whole header, from the start of the buffer.
            const auto data = buffer.data();
            const std::size_t used = parser.put(data, ec);
            buffer.consume(used);
            if (ec != http::error::need_more) { // the header, or a parse error
                if (header_bytes != nullptr)
                    *header_bytes = {static_cast<const char*>(data.data()), used};
                co_return ec;
            }
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
                                                 http::basic_parser<true>&, std::string_view*);
template awaitable<error_code> read_header<false>(any_stream&, beast::flat_buffer&,
                                                  http::basic_parser<false>&, std::string_view*);

} // namespace s3ha
