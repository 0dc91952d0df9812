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
