// The "Asio floor" of the data-path benchmark (run-proxy-bench.sh, target `floor`): the least an
// HTTP/1.1 relay built like s3ha (Boost.Asio, C++20 coroutines, one io_context per worker thread,
// SO_REUSEPORT listeners, one keep-alive upstream connection per client connection) can cost per
// request on this machine. It parses nothing but the end of the header and Content-Length, checks
// no signature and has no deadlines, pool, metrics or logs: what s3ha costs above it is s3ha's own
// per-request work. A measuring tool, not a proxy: GET/HEAD without a request body only.
//
// A response body of 1 MiB or more is moved with blocking splice(2) calls through a 1 MiB pipe
// (s3ha's size), kernel to kernel, and nothing else: the least a relay can do for a large GET,
// so the benchmark's large-GET column for the floor is what one proxy hop costs on the machine.
// Blocking stalls the worker's other connections meanwhile, which a measurement of one transfer
// at a time can afford and a proxy cannot.
//
// Usage: relay_floor LISTEN_PORT UPSTREAM_PORT WORKERS [WORK_NS]   (everything on 127.0.0.1)
// WORK_NS (default 0): a busy loop of that many nanoseconds per request before it goes upstream,
// a stand-in for per-request work in user space. Run with several values, it shows what a
// proxy's user time per request costs in req/s on this machine (bench/README.md).
#include <utility> // before the Asio coroutine headers (g++ 12)

#include <boost/asio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using executor = net::io_context::executor_type;
using socket_t = net::basic_stream_socket<tcp, executor>;
using acceptor_t = net::basic_socket_acceptor<tcp, executor>;
template <class T> using awaitable = net::awaitable<T, executor>;
constexpr auto use_awaitable = net::use_awaitable_t<executor>{};

namespace {

unsigned short upstream_port = 0;
std::chrono::nanoseconds work_per_request{0};

// Busy for `d` (wall clock): a preempted loop runs on when it is scheduled again.
void busy_for(std::chrono::nanoseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

/// Length of the header section (through the blank line) in buf, or 0 while incomplete.
std::size_t header_length(std::string_view buf) {
    const auto end = buf.find("\r\n\r\n");
    return end == std::string_view::npos ? 0 : end + 4;
}

/// The Content-Length of a response header section (0 when absent).
std::size_t content_length(std::string_view header) {
    for (std::size_t pos = header.find("\r\n"); pos != std::string_view::npos;
         pos = header.find("\r\n", pos + 2)) {
        constexpr std::string_view name = "content-length:";
        const auto line = header.substr(pos + 2, name.size());
        if (line.size() == name.size() &&
            std::equal(line.begin(), line.end(), name.begin(),
                       [](char a, char b) { return (a | 0x20) == b; })) {
            return std::strtoull(header.data() + pos + 2 + name.size(), nullptr, 10);
        }
    }
    return 0;
}

/// Moves n bytes from `from` to `to` through `pipe` with blocking splice(2) calls (the sockets are
/// switched to blocking mode meanwhile, then back to Asio's non-blocking mode).
void splice_blocking(socket_t& from, socket_t& to, std::size_t n, const int (&pipe)[2]) {
    const int fds[] = {from.native_handle(), to.native_handle()};
    for (int fd : fds)
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    while (n > 0) {
        const auto in = ::splice(fds[0], nullptr, pipe[1], nullptr,
                                 std::min<std::size_t>(n, 1 << 20), SPLICE_F_MOVE);
        if (in <= 0) throw std::runtime_error("upstream closed or failed");
        n -= static_cast<std::size_t>(in);
        for (auto left = in; left > 0;) {
            const auto out = ::splice(pipe[0], nullptr, fds[1], nullptr,
                                      static_cast<std::size_t>(left), SPLICE_F_MOVE);
            if (out <= 0) throw std::runtime_error("downstream closed or failed");
            left -= out;
        }
    }
    for (int fd : fds)
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/// Reads into buf[used..] until a whole header section is there; returns its length.
awaitable<std::size_t> read_header(socket_t& s, std::vector<char>& buf, std::size_t& used) {
    for (;;) {
        if (auto n = header_length({buf.data(), used})) co_return n;
        if (used == buf.size()) throw std::runtime_error("header too large");
        used += co_await s.async_read_some(net::buffer(buf.data() + used, buf.size() - used),
                                           use_awaitable);
    }
}

awaitable<void> relay(socket_t down) {
    down.set_option(tcp::no_delay(true));
    socket_t up(down.get_executor());
    co_await up.async_connect({net::ip::make_address_v4("127.0.0.1"), upstream_port},
                              use_awaitable);
    up.set_option(tcp::no_delay(true));
    std::vector<char> req(16 * 1024);
    std::vector<char> resp(64 * 1024);
    std::size_t req_used = 0;
    int pipe[2] = {-1, -1}; // for large bodies, made on first use
    struct closer {
        int* fds;
        ~closer() {
            for (int i = 0; i < 2; ++i)
                if (fds[i] >= 0) ::close(fds[i]);
        }
    } close_pipe{pipe};
    for (;;) {
        const auto req_len = co_await read_header(down, req, req_used);
        const bool head_request = std::string_view(req.data(), 5) == "HEAD ";
        if (work_per_request.count() > 0) busy_for(work_per_request);
        co_await net::async_write(up, net::buffer(req.data(), req_len), use_awaitable);
        req_used -= req_len; // a pipelined next request moves to the front
        std::copy_n(req.data() + req_len, req_used, req.data());

        std::size_t used = 0;
        const auto head_len = co_await read_header(up, resp, used);
        std::size_t left =
            head_request ? 0 : content_length({resp.data(), head_len}) + head_len - used;
        co_await net::async_write(down, net::buffer(resp.data(), used), use_awaitable);
        if (left >= (1U << 20)) {
            if (pipe[0] < 0) {
                if (::pipe2(pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
                ::fcntl(pipe[1], F_SETPIPE_SZ, 1 << 20);
            }
            splice_blocking(up, down, left, pipe);
            left = 0;
        }
        while (left > 0) { // a body bigger than the first read: relay it piece by piece
            const auto n = co_await up.async_read_some(
                net::buffer(resp.data(), std::min(left, resp.size())), use_awaitable);
            co_await net::async_write(down, net::buffer(resp.data(), n), use_awaitable);
            left -= n;
        }
    }
}

awaitable<void> accept_loop(acceptor_t acceptor) {
    for (;;) {
        auto s = co_await acceptor.async_accept(use_awaitable);
        net::co_spawn(acceptor.get_executor(), relay(std::move(s)), net::detached);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fputs("usage: relay_floor LISTEN_PORT UPSTREAM_PORT WORKERS [WORK_NS]\n", stderr);
        return 2;
    }
    if (argc == 5) work_per_request = std::chrono::nanoseconds(std::atol(argv[4]));
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
    upstream_port = static_cast<unsigned short>(std::atoi(argv[2]));
    const int workers = std::max(1, std::atoi(argv[3]));
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
        threads.emplace_back([port] {
            net::io_context ioc{1};
            acceptor_t acceptor(ioc.get_executor());
            const tcp::endpoint ep(net::ip::make_address_v4("127.0.0.1"), port);
            acceptor.open(ep.protocol());
            acceptor.set_option(net::socket_base::reuse_address(true));
            acceptor.set_option(
                net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
            acceptor.bind(ep);
            acceptor.listen(net::socket_base::max_listen_connections);
            net::co_spawn(ioc, accept_loop(std::move(acceptor)), net::detached);
            ioc.run();
        });
    }
    for (auto& t : threads)
        t.join();
}
