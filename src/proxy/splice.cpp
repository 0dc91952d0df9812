#include "s3ha/proxy/splice.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace s3ha::proxy {

namespace {

using std::chrono::milliseconds;

constexpr int k_pipe_size = 1 << 20; // F_SETPIPE_SZ; /proc/sys/fs/pipe-max-size is 1 MiB by default

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

} // namespace

splice_pipe::splice_pipe() {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
    read_ = fds[0];
    write_ = fds[1];
    // May fail (pipe-user-pages-soft reached): the pipe keeps its size, whatever it is.
    ::fcntl(write_, F_SETPIPE_SZ, k_pipe_size);     // NOLINT
    const int size = ::fcntl(write_, F_GETPIPE_SZ); // NOLINT
    capacity_ = size > 0 ? static_cast<std::size_t>(size) : std::size_t{4096};
}

splice_pipe::~splice_pipe() {
    if (read_ >= 0) ::close(read_);
    if (write_ >= 0) ::close(write_);
}

awaitable<splice_result> splice_exact(any_stream& from, any_stream& to, std::uint64_t n,
                                      const splice_pipe& pipe, milliseconds from_timeout,
                                      milliseconds to_timeout) {
    splice_result r;
    auto& fsock = from.tcp().socket();
    auto& tsock = to.tcp().socket();
    // splice(2) on a socket blocks unless the socket itself is O_NONBLOCK (SPLICE_F_NONBLOCK
    // covers the pipe): Asio sets that on the first async operation; make sure.
    error_code nbec;
    fsock.non_blocking(true, nbec); // NOLINT(bugprone-unused-return-value)
    if (nbec) {
        r.from_error = nbec;
        co_return r;
    }
    tsock.non_blocking(true, nbec); // NOLINT(bugprone-unused-return-value)
    if (nbec) {
        r.to_error = nbec;
        co_return r;
    }
    steady_timer timer(from.get_executor());
    std::size_t in_pipe = 0;
    constexpr unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
    for (;;) {
        bool progressed = false;
        if (r.received < n && in_pipe < pipe.capacity()) {
            // Never more than the rest of the body: what follows it (a pipelined request) stays
            // in the socket for the HTTP parser.
            const auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>(n - r.received, pipe.capacity() - in_pipe));
            const auto got =
                ::splice(fsock.native_handle(), nullptr, pipe.write_end(), nullptr, want, flags);
            if (got > 0) {
                r.received += static_cast<std::uint64_t>(got);
                in_pipe += static_cast<std::size_t>(got);
                progressed = true;
            } else if (got == 0) {
                r.from_error = http::error::partial_message; // closed before the end
                co_return r;
            } else if (errno != EAGAIN && errno != EINTR) {
                r.from_error = errno_code();
                co_return r;
            }
        }
        if (in_pipe > 0) {
            const auto put =
                ::splice(pipe.read_end(), nullptr, tsock.native_handle(), nullptr, in_pipe, flags);
            if (put > 0) {
                in_pipe -= static_cast<std::size_t>(put);
                r.sent += static_cast<std::uint64_t>(put);
                progressed = true;
            } else if (put == 0 || (errno != EAGAIN && errno != EINTR)) {
                r.to_error = put == 0 ? make_error_code(net::error::broken_pipe) : errno_code();
                co_return r;
            }
        }
        if (r.received == n && in_pipe == 0) co_return r;
        if (progressed) continue;
        // Nothing moved: wait for the side that blocks (`to` while the pipe holds bytes, else
        // `from`).
        if (in_pipe > 0) {
            if (auto ec =
                    co_await wait_ready(tsock, timer, net::socket_base::wait_write, to_timeout)) {
                r.to_error = ec;
                co_return r;
            }
        } else if (auto ec = co_await wait_ready(fsock, timer, net::socket_base::wait_read,
                                                 from_timeout)) {
            r.from_error = ec;
            co_return r;
        }
    }
}

} // namespace s3ha::proxy
