// Reads one HTTP message header into a Beast parser: what http::async_read_header does, as one
// coroutine. The data path reads two headers per request (the client's request, the backend's
// response); Beast's composed operations wrap each read in two more asynchronous layers with their
// own work tracking, and post the completion through the scheduler when the header was already
// buffered (a keep-alive request read by the session's idle wait). This does neither, and parses
// with the same parser, limits and errors. The deadline is the stream's (expires_after).
// Thread affinity: the worker thread that owns the stream.
#pragma once

#include "s3ha/core/any_stream.hpp"

#include <string_view>

namespace s3ha {

/// Parses `buffer` and reads from `stream` until `parser` has the whole header (the body, if
/// any, stays in `buffer`/the socket). Errors as http::async_read_header's: end_of_stream for a
/// connection closed before any byte, partial_message for one closed mid-header, the parser's
/// own (header_limit, bad_*), buffer_overflow when `buffer` is full, and the stream's (timeout).
/// header_bytes, when given, is set to the header's bytes as parsed: consumed from `buffer` but
/// still in its memory, valid until `buffer` is read into again.
template <bool IsRequest>
awaitable<error_code> read_header(any_stream& stream, beast::flat_buffer& buffer,
                                  http::basic_parser<IsRequest>& parser,
                                  std::string_view* header_bytes = nullptr);

extern template awaitable<error_code>
read_header<true>(any_stream&, beast::flat_buffer&, http::basic_parser<true>&, std::string_view*);
extern template awaitable<error_code>
read_header<false>(any_stream&, beast::flat_buffer&, http::basic_parser<false>&, std::string_view*);

} // namespace s3ha
