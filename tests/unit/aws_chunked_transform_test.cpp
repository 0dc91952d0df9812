#include "chunk_test_support.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/proxy/aws_chunked_transform.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;
using namespace s3ha::test;
using s3ha::proxy::aws_chunked_transform;
using s3ha::proxy::body_mode;
using s3ha::proxy::upstream_request;
using s3ha::sigv4::chunked_variant;

namespace {

constexpr std::size_t k_max_chunk = 1 << 20;

upstream_request plan(body_mode mode, chunked_variant v,
                      std::optional<crypto::checksum_algorithm> trailer = std::nullopt) {
    upstream_request up;
    up.mode = mode;
    up.variant = v;
    up.decoded_length = 66560;
    up.trailer_checksum = trailer;
    if (mode == body_mode::chunked_forward && sigv4::is_signed(v)) {
        up.chunk_signing = backend_context();
    }
    return up;
}

struct run_result {
    std::string out;
    error_code ec;
    bool held_back_until_done = true; // never everything released before done()
};

// Feeds the body in pieces of `piece` bytes, draining ready() after each, as the relay does.
run_result run(aws_chunked_transform& t, std::string_view body, std::size_t piece) {
    run_result r;
    for (std::size_t pos = 0; pos < body.size() && !r.ec; pos += piece) {
        r.ec = t.feed(body.substr(pos, piece));
        if (r.ec) break;
        auto ready = t.ready();
        r.out.append(ready);
        t.consume(ready.size());
        if (!t.done() && r.out.size() == t.produced() && t.produced() > 0) {
            r.held_back_until_done = false;
        }
    }
    if (!r.ec) r.ec = t.finish();
    if (!r.ec) {
        auto ready = t.ready();
        r.out.append(ready);
        t.consume(ready.size());
    }
    return r;
}

} // namespace

TEST_CASE("transform forward: chunks re-signed for the backend key, same length",
          "[unit][proxy][chunked]") {
    auto up = plan(body_mode::chunked_forward, chunked_variant::signed_payload);
    up.decoded_length = std::nullopt;
    const auto body = aws_example_body();
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, body.size()}) {
        aws_chunked_transform t(up, aws_context(), k_max_chunk);
        auto r = run(t, body, piece);
        REQUIRE_FALSE(r.ec);
        CHECK(r.held_back_until_done);
        CHECK(t.done());
        CHECK(r.out.size() == body.size());
        CHECK(r.out != body); // new signatures
        // The backend, with its own key, accepts every chunk and gets the same payload.
        sigv4::chunk_decoder backend(chunked_variant::signed_payload, backend_context(),
                                     std::nullopt, std::nullopt, k_max_chunk);
        auto d = decode_with(backend, r.out, whole());
        CHECK_FALSE(d.feed_ec);
        CHECK_FALSE(d.finish_ec);
        CHECK(d.sink.data == aws_payload());
    }
}

TEST_CASE("transform forward: trailer re-signed, backend verifies", "[unit][proxy][chunked]") {
    auto up = plan(body_mode::chunked_forward, chunked_variant::signed_payload_trailer,
                   crypto::checksum_algorithm::crc32c);
    aws_chunked_transform t(up, aws_context(aws_trailer_seed), k_max_chunk);
    auto r = run(t, aws_trailer_example_body(), 333);
    REQUIRE_FALSE(r.ec);
    sigv4::chunk_decoder backend(chunked_variant::signed_payload_trailer, backend_context(),
                                 crypto::checksum_algorithm::crc32c, 66560, k_max_chunk);
    auto d = decode_with(backend, r.out, byte_at_a_time());
    CHECK_FALSE(d.finish_ec);
    CHECK(d.sink.data == aws_payload());
    REQUIRE(d.sink.trailers.size() == 1);
    CHECK(d.sink.trailers[0].second == "sOO8/Q==");
}

TEST_CASE("transform decode: plain payload, last byte held until the body is verified",
          "[unit][proxy][chunked]") {
    auto up = plan(body_mode::chunked_decode, chunked_variant::signed_payload_trailer,
                   crypto::checksum_algorithm::crc32c);
    aws_chunked_transform t(up, aws_context(aws_trailer_seed), k_max_chunk);
    auto r = run(t, aws_trailer_example_body(true), 1000);
    REQUIRE_FALSE(r.ec);
    CHECK(r.held_back_until_done);
    CHECK(r.out == aws_payload());
}

TEST_CASE("transform decode: a bad trailer signature never releases the whole payload",
          "[unit][proxy][chunked]") {
    auto up = plan(body_mode::chunked_decode, chunked_variant::signed_payload_trailer,
                   crypto::checksum_algorithm::crc32c);
    auto body = aws_trailer_example_body();
    body[body.size() - 10] = body[body.size() - 10] == '0' ? '1' : '0';
    aws_chunked_transform t(up, aws_context(aws_trailer_seed), k_max_chunk);
    auto r = run(t, body, 4096);
    CHECK(r.ec == errc::chunk_signature_mismatch);
    CHECK(r.out.size() < aws_payload().size());
    CHECK(t.ready().empty());
}

TEST_CASE("transform decode: a truncated body fails with incomplete_body",
          "[unit][proxy][chunked]") {
    auto up = plan(body_mode::chunked_decode, chunked_variant::signed_payload);
    auto body = aws_example_body();
    body.resize(body.size() - 5);
    aws_chunked_transform t(up, aws_context(), k_max_chunk);
    auto r = run(t, body, 512);
    CHECK(r.ec == errc::incomplete_body);
    CHECK(r.out.size() < aws_payload().size());
}

TEST_CASE("transform forward, unsigned trailer: bytes pass as received, checksum still checked",
          "[unit][proxy][chunked]") {
    const std::string payload = "hello, unsigned aws-chunked world";
    crypto::checksum crc(crypto::checksum_algorithm::crc32);
    crc.update(payload);
    const std::string good =
        "21\r\n" + payload + "\r\n0\r\nx-amz-checksum-crc32:" + crc.finish_base64() + "\r\n\r\n";
    auto up = plan(body_mode::chunked_forward, chunked_variant::unsigned_payload_trailer,
                   crypto::checksum_algorithm::crc32);
    up.decoded_length = payload.size();
    {
        aws_chunked_transform t(up, std::nullopt, k_max_chunk);
        auto r = run(t, good, 5);
        REQUIRE_FALSE(r.ec);
        CHECK(r.held_back_until_done);
        CHECK(r.out == good);
    }
    {
        std::string bad = good;
        bad[5] = 'X'; // payload byte changed: the trailer checksum no longer matches
        aws_chunked_transform t(up, std::nullopt, k_max_chunk);
        auto r = run(t, bad, 5);
        CHECK(r.ec == errc::bad_digest);
        CHECK(r.out.size() < bad.size());
    }
    {
        up.mode = body_mode::chunked_decode;
        aws_chunked_transform t(up, std::nullopt, k_max_chunk);
        auto r = run(t, good, 3);
        REQUIRE_FALSE(r.ec);
        CHECK(r.out == payload);
    }
}
