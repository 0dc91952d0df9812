#include "s3ha/proxy/relay.hpp"

#include "s3ha/proxy/length_body_reader.hpp"
#include "s3ha/proxy/splice.hpp"

#include <optional>

namespace s3ha::proxy {

namespace {

using std::chrono::milliseconds;

// The header through the serializer, the body bytes already received with it through
// `buffer`, the rest spliced.
net::awaitable<void> relay_spliced(any_stream& up, length_body_reader& body,
                                   http::response_serializer<http::buffer_body>& sr,
                                   any_stream& down, std::span<char> buffer,
                                   const splice_pipe& pipe, milliseconds upstream_timeout,
                                   milliseconds downstream_timeout, response_relay_result& r) {
    error_code ec;
    down.tcp().expires_after(downstream_timeout);
    co_await http::async_write_header(down, sr, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        r.downstream_error = ec;
        co_return;
    }
    while (body.buffered() > 0) {
        const auto n = co_await body.read(buffer, upstream_timeout, ec); // no receive
        if (ec) {
            r.upstream_error = ec;
            co_return;
        }
        down.tcp().expires_after(downstream_timeout);
        co_await net::async_write(down, net::buffer(buffer.data(), n),
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            r.downstream_error = ec;
            co_return;
        }
        r.body_bytes += n;
    }
    const auto s = co_await splice_exact(up, down, body.remaining(), pipe, upstream_timeout,
                                         downstream_timeout);
    body.consumed_elsewhere(s.received);
    r.body_bytes += s.sent;
    r.upstream_error = s.from_error;
    r.downstream_error = s.to_error;
    r.complete = !r.upstream_error && !r.downstream_error;
}

} // namespace

upstream_writer::upstream_writer(any_stream& stream, http::request_header<> header,
                                 std::chrono::milliseconds idle_timeout)
    : stream_(stream), msg_(std::move(header)), sr_(msg_), idle_timeout_(idle_timeout) {
    msg_.body().data = nullptr;
    msg_.body().size = 0;
    msg_.body().more = true;
}

net::awaitable<error_code> upstream_writer::write_header() {
    error_code ec;
    stream_.tcp().expires_after(idle_timeout_);
    co_await http::async_write_header(stream_, sr_, net::redirect_error(net::use_awaitable, ec));
    if (!ec) header_written_ = true;
    co_return ec;
}

net::awaitable<error_code> upstream_writer::write(std::string_view piece) {
    error_code ec;
    if (piece.empty()) co_return ec;
    msg_.body().data = const_cast<char*>(piece.data()); // NOLINT: buffer_body takes void*
    msg_.body().size = piece.size();
    msg_.body().more = true;
    stream_.tcp().expires_after(idle_timeout_);
    co_await http::async_write(stream_, sr_, net::redirect_error(net::use_awaitable, ec));
    // need_buffer: the serializer wrote the piece and wants the next one.
    if (ec == http::error::need_buffer) ec = {};
    if (!ec) {
        header_written_ = true;
        body_bytes_ += piece.size();
    }
    co_return ec;
}

net::awaitable<error_code> upstream_writer::finish() {
    error_code ec;
    msg_.body().data = nullptr;
    msg_.body().size = 0;
    msg_.body().more = false;
    stream_.tcp().expires_after(idle_timeout_);
    co_await http::async_write(stream_, sr_, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (!ec) header_written_ = true;
    co_return ec;
}

net::awaitable<response_relay_result>
relay_response(any_stream& up, beast::flat_buffer& up_buffer,
               http::response_parser<http::buffer_body>& rp, any_stream& down,
               std::span<char> buffer, std::chrono::milliseconds upstream_idle_timeout,
               std::chrono::milliseconds downstream_write_timeout) {
    response_relay_result r;
    auto& msg = rp.get();
    http::response_serializer<http::buffer_body> sr(msg);
    // A Content-Length body (the usual case) is received straight into `buffer`; chunked or
    // close-delimited ones go through the parser.
    std::optional<length_body_reader> direct;
    if (!rp.is_done() && !rp.chunked()) {
        if (auto cl = rp.content_length()) direct.emplace(up, up_buffer, *cl);
    }
    if (direct && !up.is_tls() && !down.is_tls() && direct->remaining() >= k_splice_min_body) {
        splice_pipe pipe;
        if (pipe.ok()) {
            msg.body().data = nullptr;
            msg.body().size = 0;
            msg.body().more = true;
            co_await relay_spliced(up, *direct, sr, down, buffer, pipe, upstream_idle_timeout,
                                   downstream_write_timeout, r);
            co_return r;
        }
    }
    auto body_done = [&] { return direct ? direct->done() : rp.is_done(); };
    error_code ec;
    do {
        if (direct && !direct->done()) {
            const auto n = co_await direct->read(buffer, upstream_idle_timeout, ec);
            if (ec) {
                r.upstream_error = ec;
                co_return r;
            }
            msg.body().data = buffer.data();
            msg.body().size = n;
            msg.body().more = !direct->done();
        } else if (!body_done()) {
            msg.body().data = buffer.data();
            msg.body().size = buffer.size();
            up.tcp().expires_after(upstream_idle_timeout);
            co_await http::async_read(up, up_buffer, rp,
                                      net::redirect_error(net::use_awaitable, ec));
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
        down.tcp().expires_after(downstream_write_timeout);
        co_await http::async_write(down, sr, net::redirect_error(net::use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            r.downstream_error = ec;
            co_return r;
        }
        r.body_bytes += n;
        if (!msg.body().more) break; // the end of the body was written
    } while (!body_done() || !sr.is_done());
    r.complete = true;
    co_return r;
}

} // namespace s3ha::proxy
