// The byte pumps of the data path, after Beast's relay example (example/doc/http_examples.hpp,
// "relay"): a parser<buffer_body> and a serializer moving a message through one fixed buffer, so
// an object of any size costs the same memory. Every read and write has a deadline.
// Thread affinity: the worker thread of the session that owns both streams.
#pragma once

#include "s3ha/core/any_stream.hpp"
#include "s3ha/proxy/response_header.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace s3ha::proxy {

/// Writes one request upstream: the header, then body pieces, then the end of the body (with
/// HTTP chunk framing, RFC 9112 §7.1, when `chunked`).
class upstream_writer {
public:
    /// header: the request header as sent, ending in the blank line; it must outlive the writer.
    /// idle_timeout: the deadline of each write that has to wait.
    upstream_writer(any_stream& stream, std::string_view header, bool chunked,
                    std::chrono::milliseconds idle_timeout);
    upstream_writer(const upstream_writer&) = delete;
    upstream_writer& operator=(const upstream_writer&) = delete;

    /// Writes the header now (else it goes out with the first body piece, in one write).
    awaitable<error_code> write_header();
    /// Writes one body piece (non-empty); the bytes must stay valid until it completes.
    awaitable<error_code> write(std::string_view piece);
    /// Ends the body (the last HTTP chunk when chunked); also writes the header if not done yet.
    awaitable<error_code> finish();

    bool header_written() const noexcept { return header_written_; }
    std::uint64_t body_bytes() const noexcept { return body_bytes_; }

private:
    /// The header if not written yet, then `frame` (chunk framing before the piece), the piece
    /// and `trailer` (after it), in one write.
    awaitable<error_code> send(std::string_view frame, std::string_view piece,
                               std::string_view trailer);

    any_stream& stream_;
    std::string_view header_;
    bool chunked_;
    std::chrono::milliseconds idle_timeout_;
    bool header_written_ = false;
    std::uint64_t body_bytes_ = 0;
};

/// What relay_response did.
struct response_relay_result {
    error_code upstream_error;   ///< reading the response failed (after its header)
    error_code downstream_error; ///< writing to the client failed
    std::uint64_t body_bytes = 0;
    bool complete = false; ///< the whole response went to the client
};

/// Streams the response whose header `rp` has read from upstream (rest of the body from
/// `up`/`up_buffer`) to `down`, through `buffer`, with the header as `framing` says
/// (response_header.hpp; rp.get() may be rewritten in place). framing.chunked must be set
/// exactly when the body's length is unknown and the client speaks HTTP/1.1. idle_timeout
/// bounds each read and write. A Content-Length body of k_splice_min_body or more between two
/// plain TCP streams is moved with splice_exact (splice.hpp; no copy through `buffer`); the
/// deadlines are the same.
awaitable<response_relay_result> relay_response(any_stream& up, beast::flat_buffer& up_buffer,
                                                http::response_parser<http::buffer_body>& rp,
                                                const downstream_framing& framing, any_stream& down,
                                                std::span<char> buffer,
                                                std::chrono::milliseconds upstream_idle_timeout,
                                                std::chrono::milliseconds downstream_write_timeout);

/// relay_response for a header read into a response_head (views into up_buffer, which nothing
/// may have read into since): only a bodiless response (head.is_done()) or one with a
/// Content-Length body and no Transfer-Encoding (streams_as_is(head)).
awaitable<response_relay_result> relay_response(any_stream& up, beast::flat_buffer& up_buffer,
                                                const response_head& head,
                                                const downstream_framing& framing, any_stream& down,
                                                std::span<char> buffer,
                                                std::chrono::milliseconds upstream_idle_timeout,
                                                std::chrono::milliseconds downstream_write_timeout);

/// True when the response's header is all there is (bodiless) or its body has a Content-Length
/// and no Transfer-Encoding: relay_response writes the header as bytes and moves the body as it
/// is. The only responses relay_response(response_head) takes.
inline bool streams_as_is(const http::basic_parser<false>& parsed) {
    return parsed.is_done() || (parsed.content_length().has_value() && !parsed.chunked());
}

} // namespace s3ha::proxy
