#include "s3ha/http/header_writer.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace s3ha;

// What Beast's own serializer writes for the header of m.
template <bool IsRequest> std::string beast_header(http::message<IsRequest, http::empty_body> m) {
    http::serializer<IsRequest, http::empty_body> sr(m);
    sr.split(true);
    std::string out;
    error_code ec;
    while (!sr.is_header_done()) {
        sr.next(ec, [&](error_code&, const auto& buffers) {
            for (auto b : beast::buffers_range_ref(buffers))
                out.append(static_cast<const char*>(b.data()), b.size());
            sr.consume(beast::buffer_bytes(buffers));
        });
        REQUIRE_FALSE(ec);
    }
    return out;
}

} // namespace

TEST_CASE("append_header writes a response header byte for byte as Beast does", "[unit]") {
    http::response<http::empty_body> res{http::status::partial_content, 11};
    res.set(http::field::content_range, "bytes 0-9/100");
    res.set(http::field::etag, "\"abc\"");
    res.keep_alive(false);
    std::string out;
    append_header(out, res);
    CHECK(out == beast_header(res));
    CHECK(out == "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nETag: \"abc\"\r\n"
                 "Connection: close\r\n\r\n");

    http::response<http::empty_body> custom{http::status::ok, 10};
    custom.reason("Fine Thanks"); // the backend's own reason phrase is kept
    std::string out2;
    append_header(out2, custom);
    CHECK(out2 == beast_header(custom));
    CHECK(out2 == "HTTP/1.0 200 Fine Thanks\r\n\r\n");

    http::response<http::empty_body> odd{};
    odd.result(599); // not a known status: no reason phrase
    odd.version(11);
    std::string out3;
    append_header(out3, odd);
    CHECK(out3 == beast_header(odd));
}
