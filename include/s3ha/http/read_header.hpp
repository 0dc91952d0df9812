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

/// The bytes read_header parsed into the parser.
struct header_bytes {
    /// All the header's bytes (status or request line included): consumed from the buffer but
    /// still in its memory, valid until the buffer is read into again.
    std::string_view bytes;
    /// Beast parsed part of the header (the start line, complete fields) before the rest
    /// arrived, and a read then moved those bytes (into a larger allocation, or to the front of
    /// the buffer): views the parser handed out before (response_head's) are stale, even when
    /// they seem to lie within `bytes`.
    bool moved = false;
};

/// Parses `buffer` and reads from `stream` until `parser` has the whole header (the body, if
/// any, stays in `buffer`/the socket). Errors as http::async_read_header's: end_of_stream for a
/// connection closed before any byte, partial_message for one closed mid-header, the parser's
/// own (header_limit, bad_*; header_limit also for a field over 65533 bytes, which Beast's
/// basic_fields refuses by throwing), buffer_overflow when `buffer` is full, and the stream's
/// (timeout). `parsed`, when given, tells where the header's bytes are (header_bytes).
template <bool IsRequest>
awaitable<error_code> read_header(any_stream& stream, beast::flat_buffer& buffer,
                                  http::basic_parser<IsRequest>& parser,
                                  header_bytes* parsed = nullptr);

extern template awaitable<error_code> read_header<true>(any_stream&, beast::flat_buffer&,
                                                        http::basic_parser<true>&, header_bytes*);
extern template awaitable<error_code> read_header<false>(any_stream&, beast::flat_buffer&,
                                                         http::basic_parser<false>&, header_bytes*);

} // namespace s3ha
