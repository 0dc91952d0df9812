// check_request_framing (http/request_framing.hpp): Transfer-Encoding and Connection rules.
#include "s3ha/http/request_framing.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;

namespace {

http::request_header<> request(unsigned version,
                               std::initializer_list<std::pair<const char*, const char*>> fields) {
    http::request_header<> h;
    h.method(http::verb::put);
    h.target("/b/k");
    h.version(version);
    for (const auto& [n, v] : fields)
        h.insert(n, v);
    return h;
}

} // namespace

TEST_CASE("request framing: Transfer-Encoding must be exactly chunked, on HTTP/1.1",
          "[unit][http]") {
    CHECK_FALSE(check_request_framing(request(11, {{"Transfer-Encoding", "chunked"}})));
    CHECK_FALSE(check_request_framing(request(11, {{"Transfer-Encoding", " Chunked "}})));
    CHECK_FALSE(check_request_framing(request(11, {{"Content-Length", "5"}})));
    for (const char* te :
         {"gzip", "chunked, gzip", "gzip, chunked", "xchunked", "chunked;q=1", ""}) {
        INFO(te);
        const auto h = request(11, {{"Transfer-Encoding", te}}); // r.name is a view of h
        const auto r = check_request_framing(h);
        CHECK(r.code == errc::unsupported_transfer_encoding);
        CHECK(r.must_close);
        CHECK(r.name == "Transfer-Encoding");
    }
    const auto two = check_request_framing(
        request(11, {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}));
    CHECK(two.code == errc::unsupported_transfer_encoding);
    for (const char* te : {"chunked", "gzip"}) {
        const auto r = check_request_framing(request(10, {{"Transfer-Encoding", te}}));
        CHECK(r.code == errc::transfer_encoding_on_http10);
        CHECK(r.must_close);
    }
}

TEST_CASE("request framing: Connection may name hop-by-hop headers only", "[unit][http]") {
    for (const char* ok : {"keep-alive", "close", "Keep-Alive, TE", "Upgrade, HTTP2-Settings",
                           "proxy-authorization", "trailer", " , close ,"}) {
        INFO(ok);
        CHECK_FALSE(check_request_framing(request(11, {{"Connection", ok}})));
    }
    for (const auto& [value, named] :
         {std::pair{"x-amz-copy-source", "x-amz-copy-source"},
          std::pair{"keep-alive, Content-MD5", "Content-MD5"},
          std::pair{"close,x-amz-checksum-crc32", "x-amz-checksum-crc32"},
          std::pair{"Authorization", "Authorization"}, std::pair{"host", "host"}}) {
        INFO(value);
        const auto h = request(11, {{"Connection", value}}); // r.name is a view of h
        const auto r = check_request_framing(h);
        CHECK(r.code == errc::connection_names_end_to_end_header);
        CHECK(r.name == named);
        CHECK_FALSE(r.must_close); // the framing itself is sound
    }
    // A second Connection field is checked as well.
    const auto second = check_request_framing(request(
        11, {{"Connection", "keep-alive"}, {"Connection", "x-amz-server-side-encryption"}}));
    CHECK(second.code == errc::connection_names_end_to_end_header);
}
