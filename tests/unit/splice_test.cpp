// splice_exact between two real TCP connections on 127.0.0.1 (splice(2) needs sockets): a
// source peer writes into `from`, a sink peer reads from `to`. Checks the byte count, that
// nothing past n is read, and each way it fails (early end, stalled source, stalled or gone sink).
#include "s3ha/proxy/splice.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace s3ha;
using namespace s3ha::proxy;
using namespace std::chrono_literals;

namespace {

// A connected pair of sockets on the loopback interface.
struct tcp_pair {
    explicit tcp_pair(net::io_context& ioc) : near(ioc), far(ioc) {
        tcp_acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
        near.connect(acceptor.local_endpoint());
        far = acceptor.accept();
    }
    tcp_socket near;
    tcp_socket far;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
    return s;
}

struct fixture {
    net::io_context ioc;
    tcp_pair in{ioc};  // in.near: the source peer; in.far: `from`
    tcp_pair out{ioc}; // out.near: `to`; out.far: the sink peer
    any_stream from{tcp_stream(std::move(in.far))};
    any_stream to{tcp_stream(std::move(out.near))};
    splice_pipe pipe;
    std::optional<splice_result> result;

    // Runs splice_exact to its end (the peers' coroutines are left where they are).
    void run(std::uint64_t n, std::chrono::milliseconds from_timeout,
             std::chrono::milliseconds to_timeout) {
        REQUIRE(pipe.ok());
        net::co_spawn(
            ioc,
            [&]() -> awaitable<void> {
                result = co_await splice_exact(from, to, n, pipe, from_timeout, to_timeout);
                ioc.stop();
            },
            net::detached);
        ioc.run_for(20s);
        REQUIRE(result);
    }
    void send(const std::string& data, bool close_after) {
        net::co_spawn(
            ioc,
            [this, &data, close_after]() -> awaitable<void> {
                error_code ec;
                co_await net::async_write(in.near, net::buffer(data),
                                          net::redirect_error(use_awaitable, ec));
                if (close_after) in.near.shutdown(net::socket_base::shutdown_send, ec);
            },
            net::detached);
    }
    void receive(std::string& into, std::size_t n) {
        into.resize(n);
        net::co_spawn(
            ioc,
            [this, &into]() -> awaitable<void> {
                error_code ec;
                const auto got = co_await net::async_read(out.far, net::buffer(into),
                                                          net::redirect_error(use_awaitable, ec));
                into.resize(got);
            },
            net::detached);
    }
};

} // namespace

TEST_CASE("splice_exact moves exactly n bytes and nothing after them", "[unit][splice]") {
    fixture f;
    const std::uint64_t n = 5 * k_splice_min_body + 123; // several pipe loads
    const std::string data = pattern(n) + "NEXT";        // a pipelined request follows the body
    std::string got;
    f.send(data, false);
    f.receive(got, n);
    f.run(n, 5s, 5s);
    CHECK_FALSE(f.result->from_error);
    CHECK_FALSE(f.result->to_error);
    CHECK(f.result->received == n);
    CHECK(f.result->sent == n);
    f.ioc.restart();
    f.ioc.run_for(2s); // the sink's read completes
    CHECK(got.size() == n);
    CHECK(got == data.substr(0, n));
    std::string rest(4, '\0');
    net::read(f.from.tcp().socket(), net::buffer(rest));
    CHECK(rest == "NEXT"); // left in `from` for the next parse
}

TEST_CASE("splice_exact reports a source that ends early", "[unit][splice]") {
    fixture f;
    const std::string data = pattern(300 * 1024);
    std::string got;
    f.send(data, true);
    f.receive(got, data.size());
    f.run(2 * k_splice_min_body, 5s, 5s);
    CHECK(f.result->from_error == http::error::partial_message);
    CHECK_FALSE(f.result->to_error);
    CHECK(f.result->received == data.size());
    CHECK(f.result->sent == data.size());
}

TEST_CASE("splice_exact gives up on a stalled source after from_timeout", "[unit][splice]") {
    fixture f;
    const std::string data = pattern(10 * 1024);
    std::string got;
    f.send(data, false); // then nothing more, the connection stays open
    f.receive(got, data.size());
    f.run(k_splice_min_body, 200ms, 5s);
    CHECK(f.result->from_error == beast::error::timeout);
    CHECK_FALSE(f.result->to_error);
    CHECK(f.result->received == data.size());
}

TEST_CASE("splice_exact gives up on a sink that stops reading after to_timeout", "[unit][splice]") {
    fixture f;
    const std::string data = pattern(64 * k_splice_min_body); // more than the socket buffers
    f.send(data, false);
    f.run(data.size(), 5s, 200ms);
    CHECK(f.result->to_error == beast::error::timeout);
    CHECK_FALSE(f.result->from_error);
    CHECK(f.result->sent < data.size());
}

TEST_CASE("splice_exact reports a sink that went away", "[unit][splice]") {
    fixture f;
    const std::string data = pattern(16 * k_splice_min_body);
    f.out.far.set_option(net::socket_base::linger(true, 0));
    f.out.far.close(); // a reset
    f.send(data, false);
    f.run(data.size(), 5s, 5s);
    CHECK(f.result->to_error);
    CHECK_FALSE(f.result->from_error);
    CHECK(f.result->sent < data.size());
}
