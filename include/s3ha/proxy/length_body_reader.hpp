// Reads a Content-Length-delimited body straight into the caller's buffer: first the body bytes
// the header read already buffered, then directly from the socket, each receive as large as the
// buffer (the session's relay buffer) and never past the body's end. Beast's parser<buffer_body>
// would instead receive into the (small) dynamic header buffer and copy every byte once more into
// the body buffer: 512-byte receives when that buffer has no free room, one more memcpy always.
// Every receive has a deadline (read_deadline: it cancels the receive, leaving the connection
// open for the 400 RequestTimeout answer).
// Thread affinity: the worker thread that owns the stream.
#pragma once

#include "s3ha/core/any_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>

namespace s3ha::proxy {

class length_body_reader {
public:
    /// buffered: the dynamic buffer the header was read with (its body bytes are consumed from
    /// it); length: the Content-Length.
    length_body_reader(any_stream& stream, beast::flat_buffer& buffered, std::uint64_t length)
        : stream_(stream), buffered_(buffered), remaining_(length) {}

    /// True once `length` bytes were read.
    bool done() const noexcept { return remaining_ == 0; }
    std::uint64_t remaining() const noexcept { return remaining_; }
    /// Body bytes the header read already buffered (read() returns them before receiving).
    std::size_t buffered() const noexcept {
        return static_cast<std::size_t>(std::min<std::uint64_t>(buffered_.size(), remaining_));
    }
    /// The buffered() body bytes where they are, in the header buffer: written from there they
    /// need no copy. consume_buffered(n) once n of them have been sent on.
    net::const_buffer buffered_bytes() const noexcept {
        return {buffered_.data().data(), buffered()};
    }
    void consume_buffered(std::size_t n) noexcept {
        buffered_.consume(n);
        remaining_ -= n;
    }
    /// Accounts for n body bytes the caller moved off the socket itself (splice(2)); only
    /// once buffered() is 0, and n <= remaining().
    void consumed_elsewhere(std::uint64_t n) noexcept { remaining_ -= n; }

    /// Reads the next piece (1..out.size() bytes; 0 once done) into out. timeout bounds the
    /// receive. Errors: the stream's; http::error::partial_message when it ends early.
    awaitable<std::size_t> read(std::span<char> out, std::chrono::milliseconds timeout,
                                error_code& ec);

private:
    any_stream& stream_;
    beast::flat_buffer& buffered_;
    std::uint64_t remaining_;
};

} // namespace s3ha::proxy
