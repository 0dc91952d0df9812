#include "s3ha/proxy/relay.hpp"

#include "s3ha/proxy/length_body_reader.hpp"
#include "s3ha/proxy/response_header.hpp"
#include "s3ha/proxy/splice.hpp"

#include <array>
#include <charconv>
#include <optional>

namespace s3ha::proxy {

namespace {

using std::chrono::milliseconds;

// Writes all of `buffers`: what the socket takes at once goes out without a deadline timer or a
// suspension (the usual case for a message of a few KiB); only the rest is awaited, each write
// within `timeout`.
template <class ConstBuffers>
awaitable<error_code> write_all(any_stream& stream, const ConstBuffers& buffers,
                                milliseconds timeout) {
    error_code ec;
    const std::size_t n = stream.write_now(buffers, ec);
    if (ec || n == net::buffer_size(buffers)) co_return ec;
    beast::buffers_suffix<ConstBuffers> rest(buffers);
    rest.consume(n);
    stream.expires_after(timeout);
    co_await net::async_write(stream, rest, net::redirect_error(use_awaitable, ec));
    co_return ec;
}

// The header and the body bytes already received with it (written from the header buffer, in
// one write), the rest spliced.
awaitable<void> relay_spliced(any_stream& up, length_body_reader& body, std::string_view header,
                              any_stream& down, const splice_pipe& pipe,
                              milliseconds upstream_timeout, milliseconds downstream_timeout,
                              response_relay_result& r) {
    const net::const_buffer buffered = body.buffered_bytes();
    const std::array<net::const_buffer, 2> both{net::buffer(header), buffered};
    const error_code ec = co_await write_all(down, both, downstream_timeout);
    if (ec) {
        r.downstream_error = ec;
        co_return;
    }
    body.consume_buffered(buffered.size());
    r.body_bytes += buffered.size();
    const auto s = co_await splice_exact(up, down, body.remaining(), pipe, upstream_timeout,
                                         downstream_timeout);
    body.consumed_elsewhere(s.received);
    r.body_bytes += s.sent;
    r.upstream_error = s.from_error;
    r.downstream_error = s.to_error;
    r.complete = !r.upstream_error && !r.downstream_error;
}

// A response that streams_as_is (relay.hpp) and whose header `parsed` has read: the header
// (`msg`, written as bytes: response_header.hpp) goes out with the first body piece in one write,
// then the Content-Length body piece by piece, or spliced when large.
template <class Head>
awaitable<void> relay_length_body(any_stream& up, beast::flat_buffer& up_buffer,
                                  const http::basic_parser<false>& parsed, const Head& msg,
                                  const downstream_framing& framing, any_stream& down,
                                  std::span<char> buffer, milliseconds upstream_timeout,
                                  milliseconds downstream_timeout, response_relay_result& r) {
    std::optional<length_body_reader> body;
    if (!parsed.is_done()) body.emplace(up, up_buffer, *parsed.content_length());
    std::string header;
    header.reserve(512);
    append_rewritten_response_header(header, msg, framing);
    if (body && !up.is_tls() && !down.is_tls() && body->remaining() >= k_splice_min_body) {
        splice_pipe pipe;
        if (pipe.ok()) {
            co_await relay_spliced(up, *body, header, down, pipe, upstream_timeout,
                                   downstream_timeout, r);
            co_return;
        }
    }
    error_code ec;
    bool header_sent = false;
    do {
        // What came with the header is written from the header buffer (a small body whole);
        // the rest is received into `buffer`.
        net::const_buffer piece;
        const bool buffered = body && body->buffered() > 0;
        if (buffered) {
            piece = body->buffered_bytes();
        } else if (body && !body->done()) {
            const auto n = co_await body->read(buffer, upstream_timeout, ec);
            if (ec) {
                r.upstream_error = ec;
                co_return;
            }
            piece = net::buffer(buffer.data(), n);
        }
        // Never an empty first buffer: a TLS stream writes only the first buffer per call.
        if (header_sent) {
            ec = co_await write_all(down, piece, downstream_timeout);
        } else {
            const std::array<net::const_buffer, 2> both{net::buffer(header), piece};
            ec = co_await write_all(down, both, downstream_timeout);
        }
        if (ec) {
            r.downstream_error = ec;
            co_return;
        }
        if (buffered) body->consume_buffered(piece.size());
        header_sent = true;
        r.body_bytes += piece.size();
    } while (body && !body->done());
    r.complete = true;
}

} // namespace

upstream_writer::upstream_writer(any_stream& stream, std::string_view header, bool chunked,
                                 std::chrono::milliseconds idle_timeout)
    : stream_(stream), header_(header), chunked_(chunked), idle_timeout_(idle_timeout) {
}

awaitable<error_code> upstream_writer::send(std::string_view frame, std::string_view piece,
                                            std::string_view trailer) {
    // Only the non-empty parts: a TLS stream writes just the first buffer per call, and an empty
    // one first would write nothing.
    std::array<net::const_buffer, 4> parts;
    std::size_t count = 0;
    for (std::string_view p :
         {header_written_ ? std::string_view{} : header_, frame, piece, trailer}) {
        if (!p.empty()) parts[count++] = net::buffer(p);
    }
    const auto ec = co_await write_all(
        stream_, std::span<const net::const_buffer>(parts.data(), count), idle_timeout_);
    if (!ec) header_written_ = true;
    co_return ec;
}

awaitable<error_code> upstream_writer::write_header() {
    if (header_written_) co_return error_code{};
    co_return co_await send({}, {}, {});
}

awaitable<error_code> upstream_writer::write(std::string_view piece) {
    if (piece.empty()) co_return error_code{};
    error_code ec;
    if (chunked_) {
        // chunk = chunk-size CRLF chunk-data CRLF (RFC 9112 §7.1), without extensions.
        char size_line[20];
        auto [end, _] = std::to_chars(size_line, size_line + 16, piece.size(), 16);
        *end++ = '\r';
        *end++ = '\n';
        ec = co_await send({size_line, static_cast<std::size_t>(end - size_line)}, piece, "\r\n");
    } else {
        ec = co_await send({}, piece, {});
    }
    if (!ec) body_bytes_ += piece.size();
    co_return ec;
}

awaitable<error_code> upstream_writer::finish() {
    if (chunked_) co_return co_await send("0\r\n\r\n", {}, {}); // last-chunk, no trailer
    if (header_written_) co_return error_code{};
    co_return co_await send({}, {}, {});
}

awaitable<response_relay_result>
relay_response(any_stream& up, beast::flat_buffer& up_buffer,
               http::response_parser<http::buffer_body>& rp, const downstream_framing& framing,
               any_stream& down, std::span<char> buffer,
               std::chrono::milliseconds upstream_idle_timeout,
               std::chrono::milliseconds downstream_write_timeout) {
    response_relay_result r;
    auto& msg = rp.get();
    // A Content-Length body (the usual case) is received straight into `buffer` behind a header
    // written as bytes; chunked or close-delimited ones go through the parser and Beast's
    // serializer, with the header rewritten in place.
    if (streams_as_is(rp)) {
        co_await relay_length_body(up, up_buffer, rp, msg.base(), framing, down, buffer,
                                   upstream_idle_timeout, downstream_write_timeout, r);
        co_return r;
    }
    rewrite_response_header(msg, framing);
    http::response_serializer<http::buffer_body> sr(msg);
    error_code ec;
    do {
        if (!rp.is_done()) {
            msg.body().data = buffer.data();
            msg.body().size = buffer.size();
            up.expires_after(upstream_idle_timeout);
            co_await http::async_read(up, up_buffer, rp, net::redirect_error(use_awaitable, ec));
            if (ec == http::error::need_buffer) ec = {};
            if (ec) {
                r.upstream_error = ec;
                co_return r;
            }
            msg.body().size = buffer.size() - msg.body().size;
            msg.body().data = buffer.data();
            msg.body().more = !rp.is_done();
        } else {
            msg.body().data = nullptr;
            msg.body().size = 0;
            msg.body().more = false;
        }
        const auto n = msg.body().size;
        down.expires_after(downstream_write_timeout);
        co_await http::async_write(down, sr, net::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            r.downstream_error = ec;
            co_return r;
        }
        r.body_bytes += n;
        if (!msg.body().more) break; // the end of the body was written
    } while (!rp.is_done() || !sr.is_done());
    r.complete = true;
    co_return r;
}

awaitable<response_relay_result>
relay_response(any_stream& up, beast::flat_buffer& up_buffer, const response_head& head,
               const downstream_framing& framing, any_stream& down, std::span<char> buffer,
               std::chrono::milliseconds upstream_idle_timeout,
               std::chrono::milliseconds downstream_write_timeout) {
    response_relay_result r;
    co_await relay_length_body(up, up_buffer, head, head, framing, down, buffer,
                               upstream_idle_timeout, downstream_write_timeout, r);
    co_return r;
}

} // namespace s3ha::proxy
