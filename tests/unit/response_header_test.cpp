#include "s3ha/proxy/response_header.hpp"

#include "s3ha/http/header_writer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace s3ha;
using namespace s3ha::proxy;

namespace {

http::response_header<> backend_response() {
    http::response_header<> h;
    h.version(11);
    h.result(http::status::ok);
    h.insert(http::field::server, "nginx/1.22.1");
    h.insert(http::field::connection, "keep-alive, X-Private");
    h.insert(http::field::content_length, "4096");
    h.insert("X-Private", "hop");
    h.insert("ETag", "\"abc\"");
    h.insert("Keep-Alive", "timeout=5");
    h.insert("X-S3HA-Request-Id", "from-the-backend");
    h.insert("x-amz-meta-a", "1");
    h.insert("x-amz-meta-a", "2");
    return h;
}

std::string in_place(const http::response_header<>& h, const downstream_framing& f) {
    http::response<http::empty_body> m{h};
    rewrite_response_header(m, f);
    std::string out;
    append_header(out, m);
    return out;
}

std::string flat(const http::response_header<>& h, const downstream_framing& f) {
    std::string out;
    append_rewritten_response_header(out, h, f);
    return out;
}

} // namespace

TEST_CASE("response header: the flat form is byte for byte the rewritten one", "[unit][proxy]") {
    std::vector<http::response_header<>> responses{backend_response()};
    responses.emplace_back();
    responses.back().version(10);
    responses.back().result(http::status::not_found);
    responses.back().reason("Not Here");
    responses.emplace_back(backend_response());
    responses.back().insert(http::field::transfer_encoding, "chunked");
    responses.back().erase(http::field::content_length);
    for (const auto& h : responses) {
        for (unsigned version : {10U, 11U}) {
            for (bool keep_alive : {false, true}) {
                for (bool chunked : {false, true}) {
                    const downstream_framing f{"REQ1", version, keep_alive, chunked};
                    INFO("version " << version << " keep_alive " << keep_alive << " chunked "
                                    << chunked);
                    CHECK(flat(h, f) == in_place(h, f));
                }
            }
        }
    }
}

TEST_CASE("response header: what the client gets", "[unit][proxy]") {
    const auto h = backend_response();
    const auto closing = flat(h, {"REQ1", 11, false, false});
    CHECK(closing == "HTTP/1.1 200 OK\r\n"
                     "Server: nginx/1.22.1\r\n"
                     "Content-Length: 4096\r\n"
                     "ETag: \"abc\"\r\n"
                     "x-amz-meta-a: 1\r\n"
                     "x-amz-meta-a: 2\r\n"
                     "x-s3ha-request-id: REQ1\r\n"
                     "Connection: close\r\n\r\n");
    // An HTTP/1.1 connection that stays open says nothing; an HTTP/1.0 one says keep-alive.
    CHECK(flat(h, {"REQ1", 11, true, false}).find("Connection") == std::string::npos);
    CHECK(flat(h, {"REQ1", 10, true, false}).find("\r\nConnection: keep-alive\r\n") !=
          std::string::npos);
    CHECK(flat(h, {"REQ1", 11, true, true}).find("\r\nTransfer-Encoding: chunked\r\n") !=
          std::string::npos);
}

namespace {

// The backend's header as bytes, parsed both ways: into a response_head (views) and into Beast's
// response_parser (copies). Returns the head's bytes as read_header would report them.
struct parsed_both {
    response_head head;
    http::response_parser<http::empty_body> beast;
    std::size_t used = 0;

    explicit parsed_both(const std::string& wire) {
        error_code ec;
        used = head.put(net::buffer(wire), ec);
        REQUIRE(!ec);
        error_code bec;
        beast.put(net::buffer(wire), bec);
        REQUIRE(!bec);
        REQUIRE(beast.is_header_done());
    }
};

std::string flat_from_head(const response_head& h, const downstream_framing& f) {
    std::string out;
    append_rewritten_response_header(out, h, f);
    return out;
}

} // namespace

TEST_CASE("response header: a response_head gives the same bytes as Beast's parsed header",
          "[unit][proxy]") {
    const std::vector<std::string> wires{
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nConnection: keep-alive, X-Private\r\n"
        "Content-Length: 4\r\nX-Private: hop\r\nETag: \"abc\"\r\nKeep-Alive: timeout=5\r\n"
        "X-S3HA-Request-Id: from-the-backend\r\nx-amz-meta-a: 1\r\nx-amz-meta-a: 2\r\n\r\nbody",
        // No reason phrase: both use the standard one.
        "HTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-0/9\r\n"
        "Transfer-Encoding: chunked\r\nX-Odd-Value:   padded  \r\n\r\n",
    };
    for (const auto& wire : wires) {
        parsed_both p(wire);
        // The header's bytes, not the body's.
        CHECK(p.used == wire.find("\r\n\r\n") + 4);
        CHECK(p.head.views_within(std::string_view(wire).substr(0, p.used)));
        CHECK(p.head.result_int() == p.beast.get().result_int());
        for (unsigned version : {10U, 11U}) {
            for (bool keep_alive : {false, true}) {
                for (bool chunked : {false, true}) {
                    const downstream_framing f{"REQ1", version, keep_alive, chunked};
                    INFO(wire << " version " << version << " keep_alive " << keep_alive
                              << " chunked " << chunked);
                    CHECK(flat_from_head(p.head, f) == flat(p.beast.get().base(), f));
                }
            }
        }
    }
}

TEST_CASE("response header: a folded field is not a view into the header bytes", "[unit][proxy]") {
    // Beast unfolds obs-fold (RFC 9112 §5.2) into its own scratch buffer: the forwarder must
    // re-parse such a header with Beast's parser instead of writing views that are gone.
    const std::string wire =
        "HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n";
    response_head head;
    error_code ec;
    const auto used = head.put(net::buffer(wire), ec);
    REQUIRE(!ec);
    CHECK_FALSE(head.views_within(std::string_view(wire).substr(0, used)));
    const std::string plain = "HTTP/1.1 200 OK\r\nX-Plain: one two\r\nContent-Length: 0\r\n\r\n";
    response_head head2;
    const auto used2 = head2.put(net::buffer(plain), ec);
    REQUIRE(!ec);
    CHECK(head2.views_within(std::string_view(plain).substr(0, used2)));
    CHECK(head2.is_done());
}
