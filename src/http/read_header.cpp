#include "s3ha/http/read_header.hpp"

#include <stdexcept>

namespace s3ha {

namespace {

// The most one read asks for: Beast's own choice for header reads (read_size's default limit).
constexpr std::size_t k_max_read = 65536;

} // namespace

template <bool IsRequest>
awaitable<error_code> read_header(any_stream& stream, beast::flat_buffer& buffer,
                                  http::basic_parser<IsRequest>& parser,
                                  header_bytes* parsed_bytes) {
    error_code ec;
    // What put() used of the header so far without finishing it. Beast's put() takes the start
    // line and each complete field as soon as they are buffered, before the end of the header
    // is: those bytes stay in `buffer` until the header is whole, so that all of it can be
    // given back.
    std::size_t parsed = 0;
    bool moved = false;
    while (true) {
        if (buffer.size() > parsed) {
            const auto* begin = static_cast<const char*>(buffer.data().data());
            std::size_t used = 0;
            try {
                used = parser.put(net::buffer(begin + parsed, buffer.size() - parsed), ec);
            } catch (const std::length_error&) {
                // basic_fields (request_parser, response_parser) throws on a field name or value
                // over 65533 bytes, which max_header_size allows: the limit it is.
                ec = http::error::header_limit;
            }
            parsed += used;
            if (ec != http::error::need_more) { // the header, or a parse error
                if (parsed_bytes != nullptr) *parsed_bytes = {{begin, parsed}, moved};
                buffer.consume(parsed);
                co_return ec;
            }
            ec = {};
        }
        const std::size_t size = beast::read_size(buffer, k_max_read);
        if (size == 0) ec = http::error::buffer_overflow;
        if (!ec) {
            const void* before = buffer.data().data();
            const auto into = buffer.prepare(size);
            moved = moved || (parsed > 0 && buffer.data().data() != before);
            const std::size_t n =
                co_await stream.async_read_some(into, net::redirect_error(use_awaitable, ec));
            buffer.commit(n);
        }
        if (ec == net::error::eof) {
            ec = parser.got_some() ? http::error::partial_message : http::error::end_of_stream;
        }
        if (ec) {
            buffer.consume(parsed); // as if put() had consumed it: the parser has it
            co_return ec;
        }
    }
}

template awaitable<error_code> read_header<true>(any_stream&, beast::flat_buffer&,
                                                 http::basic_parser<true>&, header_bytes*);
template awaitable<error_code> read_header<false>(any_stream&, beast::flat_buffer&,
                                                  http::basic_parser<false>&, header_bytes*);

} // namespace s3ha
