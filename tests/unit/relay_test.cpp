// upstream_writer over a real TCP connection on 127.0.0.1: what it sends is read back whole and
// parsed by Beast, so the hand-written chunk framing is checked against Beast's own parser.
#include "s3ha/proxy/relay.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace s3ha;
using namespace std::chrono_literals;

namespace {

// Writes `header`, then each piece (write_header first when `header_first`), then finish(); the
// peer reads until the writer's side closes. Returns every byte the peer received.
std::string written(std::string_view header, bool chunked, const std::vector<std::string>& pieces,
                    bool header_first) {
    net::io_context ioc;
    tcp_acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    tcp_socket peer(ioc);
    peer.connect(acceptor.local_endpoint());
    any_stream stream{tcp_stream(acceptor.accept())};
    std::string received;

    net::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            proxy::upstream_writer writer(stream, header, chunked, 1000ms);
            error_code ec;
            if (header_first) ec = co_await writer.write_header();
            REQUIRE(!ec);
            CHECK(writer.header_written() == header_first);
            std::uint64_t sent = 0;
            for (const auto& p : pieces) {
                ec = co_await writer.write(p);
                REQUIRE(!ec);
                sent += p.size();
            }
            ec = co_await writer.finish();
            REQUIRE(!ec);
            CHECK(writer.header_written());
            CHECK(writer.body_bytes() == sent);
            stream.close();
        },
        net::detached);
    net::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            char buf[4096];
            while (true) {
                error_code ec;
                const auto n = co_await peer.async_read_some(
                    net::buffer(buf), net::redirect_error(use_awaitable, ec));
                received.append(buf, n);
                if (ec) break;
            }
        },
        net::detached);
    ioc.run_for(5s);
    return received;
}

// The request Beast parses from `wire`, which must be exactly one complete message.
http::request<http::string_body> parse(const std::string& wire) {
    http::request_parser<http::string_body> p;
    p.eager(true);
    error_code ec;
    const auto used = p.put(net::buffer(wire), ec);
    INFO(ec.message());
    REQUIRE(!ec);
    REQUIRE(p.is_done());
    REQUIRE(used == wire.size());
    return p.release();
}

} // namespace

TEST_CASE("upstream_writer frames a chunked body as Beast reads it", "[unit][proxy]") {
    const std::string header =
        "PUT /b/k HTTP/1.1\r\nHost: 10.0.0.5:9000\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::vector<std::string> pieces{"a", std::string(5000, 'x'), std::string(300, 'y')};
    for (bool header_first : {true, false}) {
        const auto wire = written(header, true, pieces, header_first);
        // The exact framing: chunk-size in hex, CRLF, data, CRLF; last-chunk and empty trailer.
        REQUIRE(wire.starts_with(header + "1\r\na\r\n1388\r\n"));
        CHECK(wire.ends_with(std::string(300, 'y') + "\r\n0\r\n\r\n"));
        const auto req = parse(wire);
        CHECK(req.body() == pieces[0] + pieces[1] + pieces[2]);
        CHECK(req[http::field::host] == "10.0.0.5:9000");
    }
}

TEST_CASE("upstream_writer sends an empty chunked body as the last chunk only", "[unit][proxy]") {
    const std::string header = "PUT /b/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(written(header, true, {}, false) == header + "0\r\n\r\n");
}

TEST_CASE("upstream_writer sends a Content-Length body as it is", "[unit][proxy]") {
    const std::string header = "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n";
    for (bool header_first : {true, false}) {
        const auto wire = written(header, false, {"abc", "defgh"}, header_first);
        CHECK(wire == header + "abcdefgh");
        CHECK(parse(wire).body() == "abcdefgh");
    }
    // Without a body the header alone, once.
    const std::string get = "GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(written(get, false, {}, false) == get);
    CHECK(written(get, false, {}, true) == get);
}
