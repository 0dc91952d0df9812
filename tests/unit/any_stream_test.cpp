// any_stream's deadlines on a plain TCP connection over 127.0.0.1, enforced by deadline_sweep:
// a read or write that outlives its deadline fails with beast::error::timeout (as with
// beast::tcp_stream) and closes the connection; one that finishes in time, or a deadline that
// passes with nothing pending, or one lifted by expires_never, changes nothing.
#include "s3ha/core/any_stream.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace s3ha;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// A connected pair: `stream` (s3ha's side) and `peer` (raw socket).
struct loopback {
    net::io_context ioc;
    tcp_acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
    tcp_socket peer{ioc};
    any_stream stream;

    loopback() : stream(connect_pair(acceptor, peer)) {}

    static tcp_stream connect_pair(tcp_acceptor& a, tcp_socket& p) {
        p.connect(a.local_endpoint());
        return tcp_stream(a.accept());
    }
};

struct read_result {
    error_code ec;
    std::size_t n = 0;
    steady_clock::duration took{};
};

read_result read_once(loopback& l) {
    read_result r;
    net::co_spawn(
        l.ioc,
        [&]() -> awaitable<void> {
            char buf[64];
            const auto start = steady_clock::now();
            r.n = co_await l.stream.async_read_some(net::buffer(buf),
                                                    net::redirect_error(use_awaitable, r.ec));
            r.took = steady_clock::now() - start;
        },
        net::detached);
    l.ioc.run_for(10s);
    l.ioc.restart();
    return r;
}

} // namespace

TEST_CASE("a read that outlives its deadline fails with timeout and closes the stream",
          "[unit][deadline]") {
    loopback l;
    l.stream.expires_after(300ms);
    const auto r = read_once(l);
    CHECK(r.ec == beast::error::timeout);
    CHECK(r.took >= 300ms);
    // Late by at most a sweep tick; the bound is loose for a busy CI machine.
    CHECK(r.took < 300ms + deadline_sweep::k_tick + 2s);
    CHECK(!l.stream.tcp().socket().is_open());
}

TEST_CASE("a read that completes in time is not affected by its deadline", "[unit][deadline]") {
    loopback l;
    l.stream.expires_after(5s);
    net::write(l.peer, net::buffer(std::string_view("hello")));
    const auto r = read_once(l);
    REQUIRE(!r.ec);
    CHECK(r.n == 5);
    CHECK(l.stream.tcp().socket().is_open());
}

TEST_CASE("a deadline that passes with nothing pending closes nothing", "[unit][deadline]") {
    loopback l;
    l.stream.expires_after(50ms);
    // Several sweeps pass while the stream is idle.
    l.ioc.run_for(300ms);
    l.ioc.restart();
    CHECK(l.stream.tcp().socket().is_open());
    l.stream.expires_never();
    net::write(l.peer, net::buffer(std::string_view("late")));
    const auto r = read_once(l);
    REQUIRE(!r.ec);
    CHECK(r.n == 4);
}

TEST_CASE("expires_never lifts a deadline", "[unit][deadline]") {
    loopback l;
    l.stream.expires_after(100ms);
    l.stream.expires_never();
    // The peer answers after the lifted deadline would have passed.
    steady_timer later(l.ioc, 600ms);
    later.async_wait(
        [&](const error_code&) { net::write(l.peer, net::buffer(std::string_view("x"))); });
    const auto r = read_once(l);
    REQUIRE(!r.ec);
    CHECK(r.n == 1);
    CHECK(r.took >= 500ms);
}

TEST_CASE("a write to a peer that stops reading fails with timeout", "[unit][deadline]") {
    loopback l;
    error_code ec;
    std::size_t written = 0;
    net::co_spawn(
        l.ioc,
        [&]() -> awaitable<void> {
            // More than any socket buffer takes: the write must wait for the peer.
            const std::vector<char> big(64 << 20, 'x');
            l.stream.expires_after(300ms);
            written = co_await net::async_write(l.stream, net::buffer(big),
                                                net::redirect_error(use_awaitable, ec));
        },
        net::detached);
    l.ioc.run_for(10s);
    CHECK(ec == beast::error::timeout);
    CHECK(written < (64U << 20));
}

TEST_CASE("a moved stream keeps its deadline", "[unit][deadline]") {
    loopback l;
    any_stream moved(std::move(l.stream));
    moved.expires_after(200ms);
    error_code ec;
    net::co_spawn(
        l.ioc,
        [&]() -> awaitable<void> {
            char buf[8];
            co_await moved.async_read_some(net::buffer(buf),
                                           net::redirect_error(use_awaitable, ec));
        },
        net::detached);
    l.ioc.run_for(10s);
    CHECK(ec == beast::error::timeout);
    CHECK(!moved.tcp().socket().is_open());
}

TEST_CASE("a stream destroyed with its deadline armed leaves the sweep alone", "[unit][deadline]") {
    net::io_context ioc;
    tcp_acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    tcp_socket peer(ioc);
    {
        peer.connect(acceptor.local_endpoint());
        any_stream s{tcp_stream(acceptor.accept())};
        s.expires_after(10ms);
    }
    // Sweeps run after the stream is gone; a second stream on the same sweep still times out.
    ioc.run_for(200ms);
    ioc.restart();
    tcp_socket peer2(ioc);
    peer2.connect(acceptor.local_endpoint());
    any_stream s2{tcp_stream(acceptor.accept())};
    s2.expires_after(100ms);
    error_code ec;
    net::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            char buf[8];
            co_await s2.async_read_some(net::buffer(buf), net::redirect_error(use_awaitable, ec));
        },
        net::detached);
    ioc.run_for(10s);
    CHECK(ec == beast::error::timeout);
}
