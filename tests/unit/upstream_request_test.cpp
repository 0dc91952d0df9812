#include "s3ha/proxy/upstream_request.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/proxy/hop_by_hop.hpp"
#include "s3ha/sigv4/header_rule.hpp"
#include "s3ha/sigv4/verifier.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace s3ha;
using namespace s3ha::proxy;
namespace http = boost::beast::http;

namespace {

const auto k_now = std::chrono::sys_days{std::chrono::year{2024} / 1 / 1} + std::chrono::hours{12};
constexpr std::string_view k_empty_sha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

upstream::backend make_backend(aws_chunked_mode mode = aws_chunked_mode::forward) {
    backend_config b;
    b.name = "b0";
    b.endpoint.scheme = "http";
    b.endpoint.host = "10.0.0.5";
    b.endpoint.port = 9000;
    b.region = "eu-west-1";
    b.access_key = "AKBACKEND";
    b.secret_key = "backend-secret";
    b.aws_chunked = mode;
    return upstream::backend(b, 0);
}

http::request_header<> client_put(std::string_view content_sha256) {
    http::request_header<> h;
    h.method(http::verb::put);
    h.version(11);
    h.target("/photos/a%20b.jpg?x-id=PutObject");
    h.set(http::field::host, "s3ha.local:9000");
    h.set(http::field::authorization,
          "AWS4-HMAC-SHA256 Credential=client/20240101/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00");
    h.set("X-Amz-Security-Token", "session-token");
    h.set("x-amz-date", "20240101T115959Z");
    h.set("x-amz-content-sha256", content_sha256);
    h.set("x-amz-meta-color", "blue");
    h.set(http::field::content_type, "image/jpeg");
    h.set(http::field::connection, "keep-alive, X-Hop");
    h.set("X-Hop", "1");
    h.set(http::field::expect, "100-continue");
    h.set(http::field::content_length, "5");
    return h;
}

// What the verifier hands over; `signed_headers` is what the client's SignedHeaders listed.
sigv4::verified_request
verified(sigv4::payload_kind kind, std::string_view hash,
         std::string_view signed_headers =
             "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-color") {
    sigv4::verified_request v;
    v.payload = kind;
    v.payload_hash = std::string(hash);
    v.signed_headers = std::string(signed_headers);
    return v;
}

// The SignedHeaders of the upstream Authorization.
std::string_view upstream_signed_headers(const http::request_header<>& up) {
    const auto auth = up[http::field::authorization];
    const auto begin = auth.find("SignedHeaders=") + 14;
    return auth.substr(begin, auth.find(',', begin) - begin);
}

s3_address address_of(const http::request_header<>& h) {
    auto a = resolve_s3_address(h[http::field::host], h.target(), {});
    REQUIRE(a);
    return *a;
}

// The header as the backend receives it, parsed by Beast: the wire text must be one complete
// header, with nothing after it.
http::request_header<> sent(const upstream_request& up) {
    http::request_parser<http::empty_body> p;
    p.eager(false);
    boost::system::error_code ec;
    const auto used = p.put(boost::asio::buffer(up.header), ec);
    INFO(ec.message());
    REQUIRE(!ec);
    REQUIRE(p.is_header_done());
    REQUIRE(used == up.header.size());
    return p.release().base();
}

// The backend's own verifier accepts the re-signed request: the strongest check of signing.
void require_backend_accepts(const http::request_header<>& up) {
    sigv4::verifier backend_verifier("eu-west-1", {{"AKBACKEND", "backend-secret"}});
    sigv4::signing_key_cache keys;
    auto r = backend_verifier.verify(up, k_now, keys);
    INFO(r.error().message());
    REQUIRE(r);
}

} // namespace

TEST_CASE("upstream request: proxy rules, auth stripped, path-style, re-signed with the hash",
          "[unit][proxy]") {
    auto b = make_backend();
    auto h = client_put(k_empty_sha);
    auto v = verified(sigv4::payload_kind::sha256, k_empty_sha);
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, 5, false}, address_of(h), &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    const auto u = sent(*up);
    CHECK(u.target() == "/photos/a%20b.jpg?x-id=PutObject");
    CHECK(u[http::field::host] == "10.0.0.5:9000");
    CHECK(u.count("X-Amz-Security-Token") == 0);
    CHECK(u.count(http::field::connection) == 0);
    CHECK(u.count("X-Hop") == 0);
    CHECK(u.count(http::field::expect) == 0);
    CHECK(u.count(http::field::transfer_encoding) == 0);
    CHECK(via_contains(u, "s3ha-test"));
    CHECK(u["x-amz-content-sha256"] == k_empty_sha);
    CHECK(u["x-amz-meta-color"] == "blue");
    CHECK(u[http::field::content_length] == "5");
    CHECK(u[http::field::authorization].find("Credential=AKBACKEND/20240101/eu-west-1/s3/") !=
          std::string_view::npos);
    // The client's X-Amz-Date and Authorization are replaced, not repeated.
    CHECK(u.count("x-amz-date") == 1);
    CHECK(u["x-amz-date"] == "20240101T120000Z");
    CHECK(u.count(http::field::authorization) == 1);
    CHECK(up->header.starts_with(
        "PUT /photos/a%20b.jpg?x-id=PutObject HTTP/1.1\r\nHost: 10.0.0.5:9000\r\n"));
    CHECK(up->mode == body_mode::plain);
    CHECK(up->content_length == 5U);
    CHECK_FALSE(up->chunked());
    require_backend_accepts(u);
}

TEST_CASE("upstream request: mixed-case signed headers and collapsed blanks verify at the backend",
          "[unit][proxy]") {
    auto b = make_backend();
    auto h = client_put(k_empty_sha);
    h.insert("X-AMZ-META-Shade", "red");        // upper case, sorted among lower-case names
    h.insert("x-amz-meta-a", "  two   words "); // spaces the canonical form collapses
    h.insert("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==");
    h.insert("Via", "1.1 front-proxy"); // signed by the client: s3ha's own Via is signed too
    auto v = verified(sigv4::payload_kind::sha256, k_empty_sha,
                      "content-md5;content-type;host;via;x-amz-content-sha256;x-amz-date;"
                      "x-amz-meta-a;x-amz-meta-color;x-amz-meta-shade");
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, 5, false}, address_of(h), &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    const auto u = sent(*up);
    CHECK(u["x-amz-meta-a"] == "two   words");
    CHECK(u[http::field::via] == "1.1 front-proxy, 1.1 s3ha-test");
    CHECK(u.count(http::field::via) == 1);
    const auto auth = u[http::field::authorization];
    CHECK(auth.find("SignedHeaders=content-md5;content-type;host;via;x-amz-content-sha256;"
                    "x-amz-date;x-amz-meta-a;x-amz-meta-color;x-amz-meta-shade,") !=
          std::string_view::npos);
    require_backend_accepts(u);
}

TEST_CASE("upstream request: virtual-hosted and presigned become path-style, unsigned payload",
          "[unit][proxy]") {
    auto b = make_backend();
    http::request_header<> h;
    h.method(http::verb::get);
    h.version(11);
    h.target("/k?versionId=3&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c%2F20240101%2F"
             "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T115959Z&X-Amz-Expires=60&"
             "X-Amz-SignedHeaders=host&X-Amz-Signature=ab");
    h.set(http::field::host, "bkt.s3.example.com");
    auto a = resolve_s3_address(h[http::field::host], h.target(), {"s3.example.com"});
    REQUIRE(a);
    auto v = verified(sigv4::payload_kind::unsigned_payload, "UNSIGNED-PAYLOAD", "host");
    v.kind = sigv4::auth_kind::presigned;
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, std::nullopt, false}, *a, &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    CHECK(sent(*up).target() == "/bkt/k?versionId=3");
    CHECK(sent(*up)["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD");
    CHECK(up->mode == body_mode::none);
    CHECK(sent(*up).count(http::field::content_length) == 0);
    require_backend_accepts(sent(*up));
}

TEST_CASE("upstream request: anonymous requests go unsigned", "[unit][proxy]") {
    auto b = make_backend();
    http::request_header<> h;
    h.method(http::verb::get);
    h.version(11);
    h.target("/bkt/k");
    h.set(http::field::host, "proxy:9000");
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, std::nullopt, false}, address_of(h), nullptr, b,
                                     "s3ha-test", k_now, keys);
    REQUIRE(up);
    CHECK(sent(*up).count(http::field::authorization) == 0);
    CHECK(sent(*up)[http::field::host] == "10.0.0.5:9000");
    CHECK(up->seed_signature.empty());
}

TEST_CASE("upstream request: aws-chunked forward keeps the framing headers", "[unit][proxy]") {
    auto b = make_backend(aws_chunked_mode::forward);
    auto h = client_put("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
    h.set(http::field::content_encoding, "aws-chunked");
    h.set("x-amz-decoded-content-length", "66560");
    h.set("x-amz-trailer", "x-amz-checksum-crc32c");
    h.erase(http::field::content_length);
    auto v = verified(sigv4::payload_kind::streaming_signed_trailer,
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                      "content-encoding;content-type;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-decoded-content-length;x-amz-meta-color;x-amz-trailer");
    sigv4::signing_key_cache keys;
    // Transfer-Encoding: chunked underneath (AWS SDK v3): upstream is chunked too.
    auto up = build_upstream_request({h, std::nullopt, true}, address_of(h), &v, b, "s3ha-test",
                                     k_now, keys);
    REQUIRE(up);
    CHECK(up->mode == body_mode::chunked_forward);
    CHECK(up->chunked());
    CHECK(sent(*up)[http::field::transfer_encoding] == "chunked");
    CHECK(sent(*up)[http::field::content_encoding] == "aws-chunked");
    CHECK(sent(*up)["x-amz-decoded-content-length"] == "66560");
    CHECK(sent(*up)["x-amz-trailer"] == "x-amz-checksum-crc32c");
    CHECK(sent(*up)["x-amz-content-sha256"] == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
    REQUIRE(up->chunk_signing);
    CHECK(up->chunk_signing->seed_signature == up->seed_signature);
    CHECK(up->chunk_signing->scope == "20240101/eu-west-1/s3/aws4_request");
    CHECK(up->decoded_length == 66560U);
    CHECK(up->trailer_checksum == crypto::checksum_algorithm::crc32c);
    require_backend_accepts(sent(*up));
}

TEST_CASE("upstream request: aws-chunked decode sends a plain UNSIGNED-PAYLOAD body",
          "[unit][proxy]") {
    auto b = make_backend(aws_chunked_mode::decode);
    auto h = client_put("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    h.set(http::field::content_encoding, "aws-chunked, gzip");
    h.set("x-amz-decoded-content-length", "1024");
    h.set("x-amz-trailer", "x-amz-checksum-crc32");
    h.set("x-amz-sdk-checksum-algorithm", "CRC32");
    h.set(http::field::content_length, "1100");
    auto v = verified(sigv4::payload_kind::streaming_unsigned_trailer,
                      "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                      "content-encoding;content-type;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-decoded-content-length;x-amz-meta-color;x-amz-sdk-checksum-algorithm;"
                      "x-amz-trailer");
    sigv4::signing_key_cache keys;
    auto up =
        build_upstream_request({h, 1100, false}, address_of(h), &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    CHECK(up->mode == body_mode::chunked_decode);
    CHECK(sent(*up)[http::field::content_length] == "1024");
    CHECK(sent(*up)[http::field::content_encoding] == "gzip");
    CHECK(sent(*up)["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD");
    CHECK(sent(*up).count("x-amz-decoded-content-length") == 0);
    CHECK(sent(*up).count("x-amz-trailer") == 0);
    CHECK(sent(*up).count("x-amz-sdk-checksum-algorithm") == 0);
    CHECK_FALSE(up->chunk_signing);
    require_backend_accepts(sent(*up));

    SECTION("without x-amz-decoded-content-length it is refused") {
        h.erase("x-amz-decoded-content-length");
        auto bad = build_upstream_request({h, 1100, false}, address_of(h), &v, b, "s3ha-test",
                                          k_now, keys);
        CHECK(bad.error() == errc::missing_content_length);
    }
    SECTION("a trailer that is not a checksum is refused") {
        h.set("x-amz-trailer", "x-amz-meta-foo");
        auto bad = build_upstream_request({h, 1100, false}, address_of(h), &v, b, "s3ha-test",
                                          k_now, keys);
        CHECK(bad.error() == errc::invalid_argument);
    }
}

TEST_CASE("upstream request: what the client signed is signed, the allow-list goes unsigned, the "
          "rest is dropped",
          "[unit][proxy]") {
    auto b = make_backend();
    auto h = client_put(k_empty_sha);
    h.set("x-custom-signed", "1"); // any header the client signed goes, signed
    h.set(http::field::user_agent, "minio-go/7");
    h.set(http::field::cache_control, "no-cache");
    h.set("X-Forwarded-For", "10.9.9.9"); // not signed, not on the allow-list: dropped
    h.set("X-Request-Id", "abc");
    h.set("amz-sdk-invocation-id", "d2f1");
    h.set(http::field::range, "bytes=0-1"); // a range means nothing on a PUT: dropped
    h.set(http::field::date, "Mon, 07 Dec 2026 18:19:11 GMT");
    // The client signed neither Content-Type nor User-Agent (minio-go signs neither).
    auto v = verified(sigv4::payload_kind::sha256, k_empty_sha,
                      "host;x-amz-content-sha256;x-amz-date;x-amz-meta-color;x-custom-signed");
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, 5, false}, address_of(h), &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    const auto u = sent(*up);
    CHECK(u[http::field::content_type] == "image/jpeg");
    CHECK(u[http::field::user_agent] == "minio-go/7");
    CHECK(u[http::field::cache_control] == "no-cache");
    CHECK(u["x-custom-signed"] == "1");
    for (const char* gone : {"X-Forwarded-For", "X-Request-Id", "amz-sdk-invocation-id", "Range",
                             "Date", "X-Hop", "Connection", "Expect"}) {
        INFO(gone);
        CHECK(u.count(gone) == 0);
    }
    // Never more than the client signed, plus s3ha's own host, date and payload hash.
    CHECK(upstream_signed_headers(u) ==
          "host;x-amz-content-sha256;x-amz-date;x-amz-meta-color;x-custom-signed");
    require_backend_accepts(u);

    SECTION("a GET forwards an unsigned Range and conditionals, unsigned") {
        h.method(http::verb::get);
        h.erase(http::field::content_length);
        h.set(http::field::if_none_match, "\"etag\"");
        auto get = build_upstream_request({h, std::nullopt, false}, address_of(h), &v, b,
                                          "s3ha-test", k_now, keys);
        REQUIRE(get);
        const auto g = sent(*get);
        CHECK(g[http::field::range] == "bytes=0-1");
        CHECK(g[http::field::if_none_match] == "\"etag\"");
        CHECK(upstream_signed_headers(g).find("range") == std::string_view::npos);
        require_backend_accepts(g);
    }
    SECTION("a header the rule refuses never gets past the builder either") {
        h.set("x-minio-force-delete", "true");
        CHECK(build_upstream_request({h, 5, false}, address_of(h), &v, b, "s3ha-test", k_now, keys)
                  .error() == errc::header_not_signed);
    }
}

TEST_CASE("upstream request: HTTP/1.0 goes upstream as HTTP/1.1", "[unit][proxy]") {
    auto b = make_backend();
    auto h = client_put(k_empty_sha);
    h.version(10);
    auto v = verified(sigv4::payload_kind::sha256, k_empty_sha);
    sigv4::signing_key_cache keys;
    auto up = build_upstream_request({h, 5, false}, address_of(h), &v, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    CHECK(up->header.starts_with("PUT /photos/a%20b.jpg?x-id=PutObject HTTP/1.1\r\n"));
    CHECK(sent(*up).version() == 11);
    CHECK(sent(*up)[http::field::content_length] == "5");
}

TEST_CASE("upstream request: anonymous requests keep x-amz-* and the allow-list, nothing else",
          "[unit][proxy]") {
    auto b = make_backend();
    http::request_header<> h;
    h.method(http::verb::put);
    h.version(11);
    h.target("/bkt/k");
    h.set(http::field::host, "proxy:9000");
    h.set("x-amz-acl", "public-read"); // the backend judges it as anonymous
    h.set(http::field::content_type, "text/plain");
    h.set("X-Forwarded-For", "10.9.9.9");
    h.set(http::field::content_length, "3");
    sigv4::signing_key_cache keys;
    auto up =
        build_upstream_request({h, 3, false}, address_of(h), nullptr, b, "s3ha-test", k_now, keys);
    REQUIRE(up);
    const auto u = sent(*up);
    CHECK(u["x-amz-acl"] == "public-read");
    CHECK(u[http::field::content_type] == "text/plain");
    CHECK(u.count("X-Forwarded-For") == 0);
    CHECK(u.count(http::field::authorization) == 0);
    h.set("X-Minio-Force-Delete", "true");
    CHECK(sigv4::find_refused_anonymous_header(h, h.method()) == "X-Minio-Force-Delete");
    CHECK(build_upstream_request({h, 3, false}, address_of(h), nullptr, b, "s3ha-test", k_now, keys)
              .error() == errc::header_not_signed);
}

TEST_CASE("remove_aws_chunked_coding keeps the other codings", "[unit][proxy]") {
    CHECK(remove_aws_chunked_coding("aws-chunked").empty());
    CHECK(remove_aws_chunked_coding("aws-chunked,gzip") == "gzip");
    CHECK(remove_aws_chunked_coding("gzip, AWS-Chunked , br") == "gzip,br");
}
