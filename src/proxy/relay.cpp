#include "s3ha/proxy/relay.hpp"

#include "s3ha/http/header_writer.hpp"
#include "s3ha/proxy/length_body_reader.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <unistd.h>

namespace s3ha::proxy {

namespace {

using std::chrono::milliseconds;

// Bodies from this size on are spliced (plain TCP on both sides): below it, setting up a pipe
// costs more than the copies it saves.
constexpr std::uint64_t k_splice_min_body = std::uint64_t{1} << 20;
constexpr int k_pipe_size = 1 << 20; // F_SETPIPE_SZ; /proc/sys/fs/pipe-max-size is 1 MiB by default

// A non-blocking pipe for splice(2), closed on destruction.
class splice_pipe {
public:
    splice_pipe() {
        int fds[2] = {-1, -1};
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
        read_ = fds[0];
        write_ = fds[1];
        // May fail (pipe-user-pages-soft reached): the pipe keeps its size, whatever it is.
        ::fcntl(write_, F_SETPIPE_SZ, k_pipe_size);     // NOLINT
        const int size = ::fcntl(write_, F_GETPIPE_SZ); // NOLINT
        capacity_ = size > 0 ? static_cast<std::size_t>(size) : std::size_t{4096};
    }
    splice_pipe(const splice_pipe&) = delete;
    splice_pipe& operator=(const splice_pipe&) = delete;
    ~splice_pipe() {
        if (read_ >= 0) ::close(read_);
        if (write_ >= 0) ::close(write_);
    }
    bool ok() const noexcept { return read_ >= 0; }
    int read_end() const noexcept { return read_; }
    int write_end() const noexcept { return write_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    int read_ = -1;
    int write_ = -1;
    std::size_t capacity_ = 0;
};

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
    stream.tcp().expires_after(timeout);
    co_await net::async_write(stream, rest, net::redirect_error(use_awaitable, ec));
    co_return ec;
}

// Waits until sock is ready for `what`, at most `timeout` (then beast::error::timeout). The
// timer's handler may run after this returns: it reaches the socket only through `state`,
// which is detached from it first.
awaitable<error_code> wait_ready(tcp_socket& sock, steady_timer& timer,
                                 net::socket_base::wait_type what, milliseconds timeout) {
    struct state {
        tcp_socket* sock = nullptr;
        bool expired = false;
    };
    auto st = std::make_shared<state>();
    st->sock = &sock;
    timer.expires_after(timeout);
    timer.async_wait([st](const error_code& tec) {
        if (tec || st->sock == nullptr) return;
        st->expired = true;
        error_code ignored;
        st->sock->cancel(ignored); // NOLINT(bugprone-unused-return-value)
    });
    error_code ec;
    co_await sock.async_wait(what, net::redirect_error(use_awaitable, ec));
    st->sock = nullptr;
    timer.cancel();
    if (st->expired) co_return make_error_code(beast::error::timeout);
    co_return ec;
}

error_code errno_code() {
    return {errno, boost::system::system_category()};
}

// Moves the rest of a Content-Length body (nothing of it buffered in user space any more) from
// up to down with splice(2) through `pipe`: the bytes stay in the kernel, no copy through the
// relay buffer. Plain TCP sockets only. Each wait for the upstream to send or the downstream to
// take bytes has its deadline, as the buffered relay's reads and writes do.
awaitable<void> splice_body(any_stream& up, length_body_reader& body, any_stream& down,
                            const splice_pipe& pipe, milliseconds upstream_timeout,
                            milliseconds downstream_timeout, response_relay_result& r) {
    auto& usock = up.tcp().socket();
    auto& dsock = down.tcp().socket();
    // splice(2) on a socket blocks unless the socket itself is O_NONBLOCK (SPLICE_F_NONBLOCK
    // covers the pipe): Asio sets that on the first async operation; make sure.
    error_code nbec;
    usock.non_blocking(true, nbec); // NOLINT(bugprone-unused-return-value)
    if (nbec) {
        r.upstream_error = nbec;
        co_return;
    }
    dsock.non_blocking(true, nbec); // NOLINT(bugprone-unused-return-value)
    if (nbec) {
        r.downstream_error = nbec;
        co_return;
    }
    steady_timer timer(up.get_executor());
    std::size_t in_pipe = 0;
    constexpr unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
    for (;;) {
        bool progressed = false;
        if (!body.done() && in_pipe < pipe.capacity()) {
            const auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>(body.remaining(), pipe.capacity() - in_pipe));
            const auto n =
                ::splice(usock.native_handle(), nullptr, pipe.write_end(), nullptr, want, flags);
            if (n > 0) {
                body.consumed_elsewhere(static_cast<std::uint64_t>(n));
                in_pipe += static_cast<std::size_t>(n);
                progressed = true;
            } else if (n == 0) {
                r.upstream_error = http::error::partial_message; // closed before the end
                co_return;
            } else if (errno != EAGAIN && errno != EINTR) {
                r.upstream_error = errno_code();
                co_return;
            }
        }
        if (in_pipe > 0) {
            const auto n =
                ::splice(pipe.read_end(), nullptr, dsock.native_handle(), nullptr, in_pipe, flags);
            if (n > 0) {
                in_pipe -= static_cast<std::size_t>(n);
                r.body_bytes += static_cast<std::uint64_t>(n);
                progressed = true;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                r.downstream_error =
                    n == 0 ? make_error_code(net::error::broken_pipe) : errno_code();
                co_return;
            }
        }
        if (body.done() && in_pipe == 0) co_return;
        if (progressed) continue;
        // Nothing moved: wait for the side that blocks (the downstream while the pipe holds
        // bytes, else the upstream).
        if (in_pipe > 0) {
            if (auto ec = co_await wait_ready(dsock, timer, net::socket_base::wait_write,
                                              downstream_timeout)) {
                r.downstream_error = ec;
                co_return;
            }
        } else if (auto ec = co_await wait_ready(usock, timer, net::socket_base::wait_read,
                                                 upstream_timeout)) {
            r.upstream_error = ec;
            co_return;
        }
    }
}

// The header, the body bytes already received with it through `buffer`, the rest spliced.
awaitable<void> relay_spliced(any_stream& up, length_body_reader& body, std::string_view header,
                              any_stream& down, std::span<char> buffer, const splice_pipe& pipe,
                              milliseconds upstream_timeout, milliseconds downstream_timeout,
                              response_relay_result& r) {
    error_code ec = co_await write_all(down, net::buffer(header), downstream_timeout);
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
                                  net::redirect_error(use_awaitable, ec));
        if (ec) {
            r.downstream_error = ec;
            co_return;
        }
        r.body_bytes += n;
    }
    co_await splice_body(up, body, down, pipe, upstream_timeout, downstream_timeout, r);
    r.complete = !r.upstream_error && !r.downstream_error;
}

// A response without a body or with a Content-Length one: the header (flat, header_writer.hpp)
// goes out with the first body piece in one write, then piece by piece, or spliced when large.
awaitable<void> relay_length_body(any_stream& up, std::optional<length_body_reader>& body,
                                  const http::response_header<>& msg, any_stream& down,
                                  std::span<char> buffer, milliseconds upstream_timeout,
                                  milliseconds downstream_timeout, response_relay_result& r) {
    std::string header;
    header.reserve(512);
    append_header(header, msg);
    if (body && !up.is_tls() && !down.is_tls() && body->remaining() >= k_splice_min_body) {
        splice_pipe pipe;
        if (pipe.ok()) {
            co_await relay_spliced(up, *body, header, down, buffer, pipe, upstream_timeout,
                                   downstream_timeout, r);
            co_return;
        }
    }
    error_code ec;
    bool header_sent = false;
    do {
        std::size_t n = 0;
        if (body && !body->done()) {
            n = co_await body->read(buffer, upstream_timeout, ec);
            if (ec) {
                r.upstream_error = ec;
                co_return;
            }
        }
        // Never an empty first buffer: a TLS stream writes only the first buffer per call.
        if (header_sent) {
            ec = co_await write_all(down, net::buffer(buffer.data(), n), downstream_timeout);
        } else {
            const std::array<net::const_buffer, 2> both{net::buffer(header),
                                                        net::buffer(buffer.data(), n)};
            ec = co_await write_all(down, both, downstream_timeout);
        }
        if (ec) {
            r.downstream_error = ec;
            co_return;
        }
        header_sent = true;
        r.body_bytes += n;
    } while (body && !body->done());
    r.complete = true;
}

} // namespace

upstream_writer::upstream_writer(any_stream& stream, http::request_header<> header,
                                 std::chrono::milliseconds idle_timeout)
    : stream_(stream), msg_(std::move(header)), idle_timeout_(idle_timeout) {
    msg_.body().data = nullptr;
    msg_.body().size = 0;
    msg_.body().more = true;
    if (msg_.chunked()) {
        sr_.emplace(msg_); // the serializer frames the chunks
    } else {
        append_header(header_, msg_);
    }
}

awaitable<error_code> upstream_writer::send(std::string_view piece) {
    if (header_written_) co_return co_await write_all(stream_, net::buffer(piece), idle_timeout_);
    const std::array<net::const_buffer, 2> both{net::buffer(header_), net::buffer(piece)};
    co_return co_await write_all(stream_, both, idle_timeout_);
}

awaitable<error_code> upstream_writer::write_header() {
    error_code ec;
    if (header_written_) co_return ec;
    if (sr_) {
        stream_.tcp().expires_after(idle_timeout_);
        co_await http::async_write_header(stream_, *sr_, net::redirect_error(use_awaitable, ec));
    } else {
        ec = co_await send({});
    }
    if (!ec) header_written_ = true;
    co_return ec;
}

awaitable<error_code> upstream_writer::write(std::string_view piece) {
    error_code ec;
    if (piece.empty()) co_return ec;
    if (sr_) {
        msg_.body().data = const_cast<char*>(piece.data()); // NOLINT: buffer_body takes void*
        msg_.body().size = piece.size();
        msg_.body().more = true;
        stream_.tcp().expires_after(idle_timeout_);
        co_await http::async_write(stream_, *sr_, net::redirect_error(use_awaitable, ec));
        // need_buffer: the serializer wrote the piece and wants the next one.
        if (ec == http::error::need_buffer) ec = {};
    } else {
        ec = co_await send(piece);
    }
    if (!ec) {
        header_written_ = true;
        body_bytes_ += piece.size();
    }
    co_return ec;
}

awaitable<error_code> upstream_writer::finish() {
    error_code ec;
    if (sr_) {
        msg_.body().data = nullptr;
        msg_.body().size = 0;
        msg_.body().more = false;
        stream_.tcp().expires_after(idle_timeout_);
        co_await http::async_write(stream_, *sr_, net::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
    } else if (!header_written_) {
        ec = co_await send({});
    }
    if (!ec) header_written_ = true;
    co_return ec;
}

awaitable<response_relay_result>
relay_response(any_stream& up, beast::flat_buffer& up_buffer,
               http::response_parser<http::buffer_body>& rp, any_stream& down,
               std::span<char> buffer, std::chrono::milliseconds upstream_idle_timeout,
               std::chrono::milliseconds downstream_write_timeout) {
    response_relay_result r;
    auto& msg = rp.get();
    // A Content-Length body (the usual case) is received straight into `buffer`; chunked or
    // close-delimited ones go through the parser and Beast's serializer.
    std::optional<length_body_reader> direct;
    if (!rp.is_done() && !rp.chunked()) {
        if (auto cl = rp.content_length()) direct.emplace(up, up_buffer, *cl);
    }
    if ((direct || rp.is_done()) && !msg.chunked()) {
        co_await relay_length_body(up, direct, msg, down, buffer, upstream_idle_timeout,
                                   downstream_write_timeout, r);
        co_return r;
    }
    http::response_serializer<http::buffer_body> sr(msg);
    error_code ec;
    do {
        if (!rp.is_done()) {
            msg.body().data = buffer.data();
            msg.body().size = buffer.size();
            up.tcp().expires_after(upstream_idle_timeout);
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
        down.tcp().expires_after(downstream_write_timeout);
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

} // namespace s3ha::proxy
