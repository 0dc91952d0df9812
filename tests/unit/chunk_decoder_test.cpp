#include "chunk_test_support.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/checksum.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;
using namespace s3ha::test;
using s3ha::crypto::checksum_algorithm;
using s3ha::sigv4::chunk_decoder;
using s3ha::sigv4::chunked_variant;

namespace {

constexpr std::size_t k_max_chunk = 1 << 20;

chunk_decoder aws_decoder(std::optional<std::uint64_t> len = 66560) {
    return chunk_decoder(chunked_variant::signed_payload, aws_context(), std::nullopt, len,
                         k_max_chunk);
}

chunk_decoder aws_trailer_decoder() {
    return chunk_decoder(chunked_variant::signed_payload_trailer, aws_context(aws_trailer_seed),
                         checksum_algorithm::crc32c, 66560, k_max_chunk);
}

chunk_decoder unsigned_decoder(std::optional<checksum_algorithm> alg,
                               std::optional<std::uint64_t> len = std::nullopt) {
    return chunk_decoder(chunked_variant::unsigned_payload_trailer, std::nullopt, alg, len,
                         k_max_chunk);
}

std::string crc32_b64(std::string_view data) {
    crypto::checksum c(checksum_algorithm::crc32);
    c.update(data);
    return c.finish_base64();
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 131 + 7) & 0xff);
    }
    return s;
}

boost::system::error_code ec(errc e) {
    return make_error_code(e);
}

/// Decodes a body that must fail with `want`; returns the outcome for further checks.
decode_outcome expect_failure(chunk_decoder d, std::string_view body, errc want) {
    auto r = decode_with(d, body, byte_at_a_time());
    CHECK(r.feed_ec == ec(want));
    CHECK(r.finish_ec == ec(want)); // sticky
    CHECK(r.sink.ends == 0);
    CHECK_FALSE(d.done());
    return r;
}

} // namespace

// sigv4-streaming.html "Example: PUT Object" lists these three chunk signatures.
TEST_CASE("chunk_signature reproduces the AWS streaming example", "[unit][chunked]") {
    auto ctx = aws_context();
    auto s1 = sigv4::chunk_signature(ctx, aws_seed, crypto::sha256(std::string(65536, 'a')));
    CHECK(s1 == aws_sig1);
    auto s2 = sigv4::chunk_signature(ctx, s1, crypto::sha256(std::string(1024, 'a')));
    CHECK(s2 == aws_sig2);
    auto s3 = sigv4::chunk_signature(ctx, s2, crypto::sha256(""));
    CHECK(s3 == aws_sig_final);
}

// sigv4-streaming-trailers.html "Example: PUT Object": seed 106e2a8a..., chunk signatures
// b474d886..., 1c1344b1..., 2ca2aba2... and trailer x-amz-checksum-crc32c:sOO8/Q== signed
// d81f82fc... (the trailer hashed as "name:value\n").
TEST_CASE("chunk and trailer signatures reproduce the AWS trailer example", "[unit][chunked]") {
    auto ctx = aws_context(aws_trailer_seed);
    auto s1 =
        sigv4::chunk_signature(ctx, aws_trailer_seed, crypto::sha256(std::string(65536, 'a')));
    CHECK(s1 == aws_trailer_sig1);
    auto s2 = sigv4::chunk_signature(ctx, s1, crypto::sha256(std::string(1024, 'a')));
    CHECK(s2 == aws_trailer_sig2);
    auto s3 = sigv4::chunk_signature(ctx, s2, crypto::sha256(""));
    CHECK(s3 == aws_trailer_sig_final);
    CHECK(sigv4::trailer_signature(ctx, s3, "x-amz-checksum-crc32c:sOO8/Q==\n") ==
          aws_trailer_signature);
}

TEST_CASE("x-amz-content-sha256 values name the variants", "[unit][chunked]") {
    using sigv4::chunked_variant_from_content_sha256;
    CHECK(chunked_variant_from_content_sha256("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") ==
          chunked_variant::signed_payload);
    CHECK(chunked_variant_from_content_sha256("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") ==
          chunked_variant::signed_payload_trailer);
    CHECK(chunked_variant_from_content_sha256("STREAMING-UNSIGNED-PAYLOAD-TRAILER") ==
          chunked_variant::unsigned_payload_trailer);
    CHECK_FALSE(chunked_variant_from_content_sha256("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"));
    CHECK_FALSE(chunked_variant_from_content_sha256("UNSIGNED-PAYLOAD"));
}

TEST_CASE("decoder: the AWS streaming example, in any split", "[unit][chunked]") {
    const std::string body = aws_example_body();
    REQUIRE(body.size() == 66824); // the example's Content-Length

    auto check = [&](const std::function<std::size_t()>& splits) {
        auto d = aws_decoder();
        auto r = decode_with(d, body, splits);
        REQUIRE_FALSE(r.feed_ec);
        REQUIRE_FALSE(r.finish_ec);
        CHECK(r.sink.data == aws_payload());
        CHECK(r.sink.chunk_sizes == std::vector<std::size_t>{65536, 1024});
        CHECK(r.sink.chunk_signatures ==
              std::vector<std::string>{std::string(aws_sig1), std::string(aws_sig2)});
        // A signed chunk is released whole, once verified.
        CHECK(r.sink.data_calls == std::vector<std::size_t>{65536, 1024});
        CHECK(r.sink.trailers.empty());
        CHECK(r.sink.ends == 1);
        CHECK(d.done());
        CHECK(d.decoded_bytes() == 66560);
    };
    SECTION("one piece") {
        check(whole());
    }
    SECTION("byte at a time") {
        check(byte_at_a_time());
    }
    SECTION("random splits") {
        for (std::uint32_t seed : {1U, 2U, 3U, 42U, 20130524U}) {
            check(random_splits(seed, 700));
            check(random_splits(seed + 100, 7));
        }
    }
    SECTION("without x-amz-decoded-content-length") {
        auto d = aws_decoder(std::nullopt);
        auto r = decode_with(d, body, random_splits(9, 5000));
        CHECK_FALSE(r.finish_ec);
        CHECK(r.sink.data == aws_payload());
    }
}

TEST_CASE("decoder: the AWS trailer example, byte at a time", "[unit][chunked]") {
    for (bool doc_blank_line : {false, true}) {
        CAPTURE(doc_blank_line);
        for (const auto& splits : {byte_at_a_time(), whole(), random_splits(77, 300)}) {
            auto d = aws_trailer_decoder();
            auto r = decode_with(d, aws_trailer_example_body(doc_blank_line), splits);
            REQUIRE_FALSE(r.feed_ec);
            REQUIRE_FALSE(r.finish_ec);
            CHECK(r.sink.data == aws_payload());
            CHECK(r.sink.chunk_sizes == std::vector<std::size_t>{65536, 1024});
            REQUIRE(r.sink.trailers.size() == 1);
            CHECK(r.sink.trailers[0].first == "x-amz-checksum-crc32c");
            CHECK(r.sink.trailers[0].second == "sOO8/Q==");
            CHECK(r.sink.ends == 1);
        }
    }
}

TEST_CASE("decoder: signed trailer bodies for every checksum algorithm", "[unit][chunked]") {
    const std::string payload = pattern(20000);
    const std::vector<std::size_t> sizes{8192, 8192, 3616};
    for (auto alg :
         {checksum_algorithm::crc32, checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
          checksum_algorithm::sha1, checksum_algorithm::sha256}) {
        crypto::checksum c(alg);
        c.update(payload);
        const std::string value = c.finish_base64();
        const std::string name(crypto::checksum_header_name(alg));
        const auto body = encode_signed(chunked_variant::signed_payload_trailer, aws_context(),
                                        payload, sizes, {{name, value}});
        chunk_decoder d(chunked_variant::signed_payload_trailer, aws_context(), alg, payload.size(),
                        k_max_chunk);
        auto r = decode_with(d, body, byte_at_a_time());
        REQUIRE_FALSE(r.finish_ec);
        CHECK(r.sink.data == payload);
        CHECK(r.sink.chunk_sizes == sizes);
        REQUIRE(r.sink.trailers.size() == 1);
        CHECK(r.sink.trailers[0] == std::pair<std::string, std::string>{name, value});
        CHECK(r.sink.ends == 1);
    }
}

TEST_CASE("decoder: signed trailer variant with no trailer announced", "[unit][chunked]") {
    const std::string payload = pattern(100);
    const auto body =
        encode_signed(chunked_variant::signed_payload_trailer, aws_context(), payload, {60, 40});
    chunk_decoder d(chunked_variant::signed_payload_trailer, aws_context(), std::nullopt,
                    std::nullopt, k_max_chunk);
    auto r = decode_with(d, body, byte_at_a_time());
    CHECK_FALSE(r.finish_ec);
    CHECK(r.sink.data == payload);
    CHECK(r.sink.trailers.empty());
    CHECK(r.sink.ends == 1);
}

TEST_CASE("decoder: unsigned payload with a trailer (AWS JS SDK v3 framing)", "[unit][chunked]") {
    const std::string payload = pattern(70000);
    const std::vector<std::size_t> sizes{65536, 4464};
    const std::string trailer = "x-amz-checksum-crc32:" + crc32_b64(payload) + "\r\n";
    const std::string body = encode_unsigned(payload, sizes, trailer);

    for (const auto& splits : {byte_at_a_time(), whole(), random_splits(5, 1000)}) {
        auto d = unsigned_decoder(checksum_algorithm::crc32, payload.size());
        auto r = decode_with(d, body, splits);
        REQUIRE_FALSE(r.feed_ec);
        REQUIRE_FALSE(r.finish_ec);
        CHECK(r.sink.data == payload);
        CHECK(r.sink.chunk_sizes == sizes);
        CHECK(r.sink.chunk_signatures == std::vector<std::string>{"", ""});
        REQUIRE(r.sink.trailers.size() == 1);
        CHECK(r.sink.trailers[0].first == "x-amz-checksum-crc32");
        CHECK(r.sink.ends == 1);
    }
    SECTION("unsigned data is released as it arrives") {
        auto d = unsigned_decoder(checksum_algorithm::crc32);
        recording_sink sink;
        const std::string head = body.substr(0, 7 + 1000); // "10000\r\n" + 1000 bytes
        REQUIRE_FALSE(d.feed(head, sink));
        CHECK(sink.data == payload.substr(0, 1000));
    }
}

TEST_CASE("decoder: unsigned leniency that cannot lose data", "[unit][chunked]") {
    const std::string payload = "hello world";
    const std::string crc = crc32_b64(payload);
    SECTION("chunk extensions are ignored, upper-case hex and OWS around the value accepted") {
        const std::string body =
            "B;foo=bar\r\nhello world\r\n0;\r\nX-Amz-Checksum-Crc32: " + crc + " \r\n\r\n";
        auto d = unsigned_decoder(checksum_algorithm::crc32, payload.size());
        auto r = decode_with(d, body, byte_at_a_time());
        CHECK_FALSE(r.finish_ec);
        CHECK(r.sink.data == payload);
        REQUIRE(r.sink.trailers.size() == 1);
        CHECK(r.sink.trailers[0].second == crc);
    }
    SECTION("no trailer announced, none sent") {
        auto d = unsigned_decoder(std::nullopt);
        auto r = decode_with(d, "b\r\nhello world\r\n0\r\n\r\n", byte_at_a_time());
        CHECK_FALSE(r.finish_ec);
        CHECK(r.sink.data == payload);
        CHECK(r.sink.ends == 1);
    }
    SECTION("an empty body") {
        auto d = unsigned_decoder(std::nullopt, 0);
        auto r = decode_with(d, "0\r\n\r\n", byte_at_a_time());
        CHECK_FALSE(r.finish_ec);
        CHECK(r.sink.data.empty());
        CHECK(r.sink.ends == 1);
    }
}

TEST_CASE("decoder: malformed chunk sizes", "[unit][chunked]") {
    const std::string sig(aws_sig1);
    SECTION("non-hex") {
        expect_failure(aws_decoder(), "zz;chunk-signature=" + sig + "\r\n", errc::chunk_bad_size);
        expect_failure(unsigned_decoder(std::nullopt), "1g\r\n", errc::chunk_bad_size);
        expect_failure(unsigned_decoder(std::nullopt), " 1\r\n", errc::chunk_bad_size);
        expect_failure(unsigned_decoder(std::nullopt), "-1\r\n", errc::chunk_bad_size);
    }
    SECTION("empty") {
        expect_failure(aws_decoder(), ";chunk-signature=" + sig + "\r\n", errc::chunk_bad_size);
        expect_failure(unsigned_decoder(std::nullopt), "\r\n", errc::chunk_bad_size);
    }
    SECTION("more than 16 digits, even with leading zeros") {
        expect_failure(unsigned_decoder(std::nullopt), "00000000000000001\r\n",
                       errc::chunk_bad_size);
        expect_failure(aws_decoder(std::nullopt), "00000000000000000", errc::chunk_bad_size);
    }
    SECTION("a huge signed chunk is refused from its size digits, before any data") {
        chunk_decoder d(chunked_variant::signed_payload, aws_context(), std::nullopt, std::nullopt,
                        65536);
        recording_sink sink;
        CHECK_FALSE(d.feed("1000", sink));
        CHECK_FALSE(d.feed("0", sink)); // 0x10000 == the limit: fine so far
        CHECK(d.feed("0", sink) == ec(errc::chunk_too_large));
        CHECK(d.feed("0;chunk-signature=", sink) == ec(errc::chunk_too_large));
        expect_failure(aws_decoder(std::nullopt), "FFFFFFFFFFFFFFFF;chunk-signature=" + sig,
                       errc::chunk_too_large);
    }
    SECTION("a huge unsigned chunk beyond x-amz-decoded-content-length") {
        expect_failure(unsigned_decoder(std::nullopt, 100), "FFFFFFFFFFFFFFFF\r\n",
                       errc::decoded_length_mismatch);
    }
}

TEST_CASE("decoder: missing CRLF", "[unit][chunked]") {
    const std::string sig(aws_sig1);
    SECTION("bare LF after the size line") {
        expect_failure(unsigned_decoder(std::nullopt), "5\nhello\r\n", errc::chunk_missing_crlf);
        expect_failure(aws_decoder(), "10000;chunk-signature=" + sig + "\n",
                       errc::chunk_missing_crlf);
    }
    SECTION("CR then something else") {
        expect_failure(unsigned_decoder(std::nullopt), "5\rXhello", errc::chunk_missing_crlf);
    }
    SECTION("data longer than its size") {
        expect_failure(unsigned_decoder(std::nullopt), "5\r\nhello!\r\n", errc::chunk_missing_crlf);
    }
    SECTION("signed: no CRLF after the data, no byte released") {
        std::string body = aws_example_body();
        body[22 + 64 + 2 + 65536] = 'x';
        auto r = expect_failure(aws_decoder(), body, errc::chunk_missing_crlf);
        CHECK(r.sink.data.empty());
    }
    SECTION("signed_payload: something instead of the final CRLF") {
        std::string body = aws_example_body();
        body.resize(body.size() - 2);
        body += "x-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        auto r = expect_failure(aws_decoder(), body, errc::chunk_missing_crlf);
        CHECK(r.sink.data == aws_payload()); // every chunk was verified
    }
}

TEST_CASE("decoder: malformed chunk-signature extensions", "[unit][chunked]") {
    const std::string sig(aws_sig1);
    const std::string data = std::string(65536, 'a') + "\r\n";
    expect_failure(aws_decoder(), "10000\r\n" + data, errc::chunk_bad_extension);
    expect_failure(aws_decoder(), "10000;\r\n" + data, errc::chunk_bad_extension);
    expect_failure(aws_decoder(), "10000;chunk-signatur=" + sig + "\r\n",
                   errc::chunk_bad_extension);
    expect_failure(aws_decoder(), "10000;chunk-signature=" + sig.substr(1) + "\r\n",
                   errc::chunk_bad_extension);
    expect_failure(aws_decoder(), "10000;chunk-signature=" + sig + "0\r\n",
                   errc::chunk_bad_extension);
    std::string bad = sig;
    bad[10] = 'g';
    expect_failure(aws_decoder(), "10000;chunk-signature=" + bad + "\r\n",
                   errc::chunk_bad_extension);
    bad = sig;
    bad[10] = 'A'; // signatures are lower-case hex
    expect_failure(aws_decoder(), "10000;chunk-signature=" + bad + "\r\n",
                   errc::chunk_bad_extension);
    expect_failure(aws_decoder(), "10000;chunk-signature=" + sig + ";x=y\r\n",
                   errc::chunk_bad_extension);
    // An unsigned extension is bounded too.
    expect_failure(unsigned_decoder(std::nullopt), "5;" + std::string(2000, 'x') + "\r\n",
                   errc::chunk_bad_extension);
}

TEST_CASE("decoder: a tampered signed chunk releases none of its bytes", "[unit][chunked]") {
    const std::string good = aws_example_body();
    const std::size_t chunk1_data = 22 + 64 + 2;
    const std::size_t chunk2_data = chunk1_data + 65536 + 2 + 20 + 64 + 2;
    SECTION("a byte of the first chunk") {
        std::string body = good;
        body[chunk1_data + 12345] = 'b';
        auto r = expect_failure(aws_decoder(), body, errc::chunk_signature_mismatch);
        CHECK(r.sink.data.empty());
        CHECK(r.sink.chunk_sizes.empty());
    }
    SECTION("a byte of the second chunk") {
        std::string body = good;
        REQUIRE(body.substr(chunk2_data - 2 - 64 - 20, 3) == "400");
        body[chunk2_data + 1023] = 'A';
        auto r = expect_failure(aws_decoder(), body, errc::chunk_signature_mismatch);
        CHECK(r.sink.data == std::string(65536, 'a')); // the first, verified chunk only
        CHECK(r.sink.chunk_sizes == std::vector<std::size_t>{65536});
    }
    SECTION("a signature digit") {
        std::string body = good;
        body[22 + 5] = body[22 + 5] == '0' ? '1' : '0';
        auto r = expect_failure(aws_decoder(), body, errc::chunk_signature_mismatch);
        CHECK(r.sink.data.empty());
    }
    SECTION("the final chunk's signature") {
        std::string body = good;
        body[body.size() - 10] = body[body.size() - 10] == '0' ? '1' : '0';
        expect_failure(aws_decoder(), body, errc::chunk_signature_mismatch);
    }
    SECTION("chunks swapped in order break the chain") {
        auto ctx = aws_context();
        const std::string payload = pattern(300);
        sigv4::chunk_encoder enc(chunked_variant::signed_payload, ctx);
        const std::string c1 = enc.encode_chunk(payload.substr(0, 100));
        const std::string c2 = enc.encode_chunk(payload.substr(100, 200));
        const std::string fin = enc.encode_final();
        chunk_decoder d(chunked_variant::signed_payload, ctx, std::nullopt, std::nullopt,
                        k_max_chunk);
        auto r = decode_with(d, c2 + c1 + fin, byte_at_a_time());
        CHECK(r.feed_ec == ec(errc::chunk_signature_mismatch));
        CHECK(r.sink.data.empty());
    }
    SECTION("the right signatures under another key") {
        chunk_decoder d(chunked_variant::signed_payload, backend_context(), std::nullopt, 66560,
                        k_max_chunk);
        auto r = decode_with(d, good, whole());
        CHECK(r.feed_ec == ec(errc::chunk_signature_mismatch));
        CHECK(r.sink.data.empty());
    }
}

TEST_CASE("decoder: trailer checksum and signature failures", "[unit][chunked]") {
    const std::string payload = pattern(5000);
    const std::string good_crc = crc32_b64(payload);
    const std::string wrong_crc = crc32_b64(payload + "x");
    SECTION("unsigned: wrong checksum -> bad_digest, on_end never called") {
        const auto body =
            encode_unsigned(payload, {4096, 904}, "x-amz-checksum-crc32:" + wrong_crc + "\r\n");
        auto r =
            expect_failure(unsigned_decoder(checksum_algorithm::crc32), body, errc::bad_digest);
        CHECK(r.sink.trailers.empty());
    }
    SECTION("unsigned: a flipped payload byte -> bad_digest") {
        auto body =
            encode_unsigned(payload, {4096, 904}, "x-amz-checksum-crc32:" + good_crc + "\r\n");
        body[6 + 100] ^= 0x01;
        expect_failure(unsigned_decoder(checksum_algorithm::crc32), body, errc::bad_digest);
    }
    SECTION("signed: a correctly signed but wrong checksum -> bad_digest") {
        const auto body =
            encode_signed(chunked_variant::signed_payload_trailer, aws_context(), payload,
                          {4096, 904}, {{"x-amz-checksum-crc32", wrong_crc}});
        chunk_decoder d(chunked_variant::signed_payload_trailer, aws_context(),
                        checksum_algorithm::crc32, payload.size(), k_max_chunk);
        auto r = expect_failure(std::move(d), body, errc::bad_digest);
        CHECK(r.sink.trailers.empty());
    }
    SECTION("signed: a tampered trailer value -> signature mismatch") {
        std::string body = aws_trailer_example_body();
        const auto at = body.find("sOO8/Q==");
        body[at] = 't';
        expect_failure(aws_trailer_decoder(), body, errc::chunk_signature_mismatch);
    }
    SECTION("signed: a tampered trailer signature") {
        std::string body = aws_trailer_example_body();
        body[body.size() - 5] = body[body.size() - 5] == '0' ? '1' : '0';
        expect_failure(aws_trailer_decoder(), body, errc::chunk_signature_mismatch);
    }
    SECTION("signed: trailer signature malformed") {
        std::string body = aws_trailer_example_body();
        body.insert(body.size() - 4, "0"); // 65 hex digits
        expect_failure(aws_trailer_decoder(), body, errc::chunk_bad_trailer);
    }
}

TEST_CASE("decoder: malformed or unannounced trailers", "[unit][chunked]") {
    const std::string payload = "abc";
    const std::string crc = crc32_b64(payload);
    auto fails = [&](std::optional<checksum_algorithm> announced, const std::string& trailer_lines,
                     errc want) {
        expect_failure(unsigned_decoder(announced), encode_unsigned(payload, {3}, trailer_lines),
                       want);
    };
    fails(std::nullopt, "x-amz-checksum-crc32:" + crc + "\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32c, "x-amz-checksum-crc32:" + crc + "\r\n",
          errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "", errc::chunk_bad_trailer); // announced, not sent
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, ":" + crc + "\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32:" + crc + "=\r\n",
          errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32:AAAA\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32:!!!!!!==\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32,
          "x-amz-checksum-crc32:" + crc + "\r\nx-amz-checksum-crc32:" + crc + "\r\n",
          errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-meta-foo:bar\r\n", errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32:" + std::string(300, 'A') + "\r\n",
          errc::chunk_bad_trailer);
    fails(checksum_algorithm::crc32, "x-amz-checksum-crc32:" + crc + "\n",
          errc::chunk_missing_crlf);
    // x-amz-trailer-signature means nothing in an unsigned body.
    fails(std::nullopt, "x-amz-trailer-signature:" + std::string(64, '0') + "\r\n",
          errc::chunk_bad_trailer);

    SECTION("signed trailer variant without x-amz-trailer-signature") {
        std::string body = aws_trailer_example_body();
        const auto at = body.find("x-amz-trailer-signature");
        body = body.substr(0, at) + "\r\n";
        expect_failure(aws_trailer_decoder(), body, errc::chunk_bad_trailer);
    }
    SECTION("signed: a line after the trailer signature") {
        std::string body = aws_trailer_example_body();
        body.insert(body.size() - 2, "x-amz-checksum-crc32c:sOO8/Q==\r\n");
        expect_failure(aws_trailer_decoder(), body, errc::chunk_bad_trailer);
    }
    SECTION("signed: two blank lines before the trailers") {
        std::string body = aws_trailer_example_body(true);
        body.insert(body.find("x-amz-checksum-crc32c"), "\r\n");
        expect_failure(aws_trailer_decoder(), body, errc::chunk_bad_trailer);
    }
}

TEST_CASE("decoder: x-amz-decoded-content-length is enforced", "[unit][chunked]") {
    SECTION("exceeded: refused at the size line, before any byte of that chunk") {
        auto r =
            expect_failure(aws_decoder(66559), aws_example_body(), errc::decoded_length_mismatch);
        CHECK(r.sink.data == std::string(65536, 'a'));
    }
    SECTION("short: refused at the final chunk") {
        auto r =
            expect_failure(aws_decoder(66561), aws_example_body(), errc::decoded_length_mismatch);
        CHECK(r.sink.data == aws_payload());
    }
    SECTION("unsigned") {
        expect_failure(unsigned_decoder(std::nullopt, 2), "3\r\nabc\r\n0\r\n\r\n",
                       errc::decoded_length_mismatch);
        expect_failure(unsigned_decoder(std::nullopt, 4), "3\r\nabc\r\n0\r\n\r\n",
                       errc::decoded_length_mismatch);
    }
}

TEST_CASE("decoder: bytes after the end", "[unit][chunked]") {
    SECTION("in the same feed: error, on_end not called") {
        auto d = aws_decoder();
        recording_sink sink;
        CHECK(d.feed(aws_example_body() + "X", sink) == ec(errc::chunk_trailing_data));
        CHECK(sink.ends == 0);
        CHECK(d.finish(sink) == ec(errc::chunk_trailing_data));
    }
    SECTION("in a later feed") {
        for (auto v : {chunked_variant::signed_payload, chunked_variant::signed_payload_trailer,
                       chunked_variant::unsigned_payload_trailer}) {
            chunk_decoder d(v, aws_context(), std::nullopt, std::nullopt, k_max_chunk);
            const std::string body = v == chunked_variant::unsigned_payload_trailer
                                         ? encode_unsigned("abc", {3}, "")
                                         : encode_signed(v, aws_context(), "abc", {3});
            recording_sink sink;
            REQUIRE_FALSE(d.feed(body, sink));
            CHECK(d.done());
            CHECK(sink.ends == 1);
            CHECK_FALSE(d.feed("", sink));
            CHECK(d.feed("\r\n", sink) == ec(errc::chunk_trailing_data));
            CHECK_FALSE(d.done());
            CHECK(d.finish(sink) == ec(errc::chunk_trailing_data));
        }
    }
}

TEST_CASE("decoder: every truncation of a valid body fails", "[unit][chunked]") {
    const std::string payload = pattern(23);
    const std::vector<std::size_t> sizes{10, 13};
    const std::string crc = crc32_b64(payload);
    struct variant_case {
        chunked_variant variant;
        std::optional<checksum_algorithm> alg;
        std::string body;
    };
    const std::vector<variant_case> cases{
        {chunked_variant::signed_payload, std::nullopt,
         encode_signed(chunked_variant::signed_payload, aws_context(), payload, sizes)},
        {chunked_variant::signed_payload_trailer, checksum_algorithm::crc32,
         encode_signed(chunked_variant::signed_payload_trailer, aws_context(), payload, sizes,
                       {{"x-amz-checksum-crc32", crc}})},
        {chunked_variant::unsigned_payload_trailer, checksum_algorithm::crc32,
         encode_unsigned(payload, sizes, "x-amz-checksum-crc32:" + crc + "\r\n")},
    };
    for (const auto& c : cases) {
        for (auto len_known : {false, true}) {
            std::optional<std::uint64_t> len;
            if (len_known) {
                len = payload.size();
            }
            { // The whole body is fine...
                chunk_decoder d(c.variant, aws_context(), c.alg, len, k_max_chunk);
                auto r = decode_with(d, c.body, byte_at_a_time());
                REQUIRE_FALSE(r.finish_ec);
                REQUIRE(r.sink.data == payload);
            }
            // ... and no proper prefix of it is.
            for (std::size_t cut = 0; cut < c.body.size(); ++cut) {
                CAPTURE(static_cast<int>(c.variant), len_known, cut);
                chunk_decoder d(c.variant, aws_context(), c.alg, len, k_max_chunk);
                auto r = decode_with(d, std::string_view(c.body).substr(0, cut), byte_at_a_time());
                CHECK(r.finish_ec);
                if (!r.feed_ec) {
                    CHECK(r.finish_ec == ec(errc::incomplete_body));
                }
                CHECK(r.sink.ends == 0);
                CHECK(payload.starts_with(r.sink.data));
                if (sigv4::is_signed(c.variant)) { // only whole, verified chunks
                    CHECK((r.sink.data.empty() || r.sink.data.size() == 10 ||
                           r.sink.data.size() == 23));
                }
            }
        }
    }
}

TEST_CASE("decoder: random corruption never yields a different payload", "[unit][chunked]") {
    const std::string payload = pattern(40);
    const std::vector<std::size_t> sizes{16, 16, 8};
    const std::string crc = crc32_b64(payload);
    const std::vector<std::pair<chunked_variant, std::string>> bodies{
        {chunked_variant::signed_payload,
         encode_signed(chunked_variant::signed_payload, aws_context(), payload, sizes)},
        {chunked_variant::signed_payload_trailer,
         encode_signed(chunked_variant::signed_payload_trailer, aws_context(), payload, sizes,
                       {{"x-amz-checksum-crc32", crc}})},
        {chunked_variant::unsigned_payload_trailer,
         encode_unsigned(payload, sizes, "x-amz-checksum-crc32:" + crc + "\r\n")},
    };
    std::mt19937 rng(0xC0FFEE);
    int accepted = 0;
    for (const auto& [variant, good] : bodies) {
        std::optional<checksum_algorithm> alg;
        if (variant != chunked_variant::signed_payload) {
            alg = checksum_algorithm::crc32;
        }
        for (int i = 0; i < 1500; ++i) {
            std::string body = good;
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits; ++e) {
                const std::size_t at = rng() % body.size();
                switch (rng() % 3) {
                case 0: body[at] = static_cast<char>(rng() & 0xff); break;
                case 1: body.erase(at, 1 + rng() % 4); break;
                default: body.insert(at, 1, static_cast<char>(rng() & 0xff)); break;
                }
            }
            chunk_decoder d(variant, aws_context(), alg, std::nullopt, k_max_chunk);
            auto r = decode_with(d, body, random_splits(static_cast<std::uint32_t>(i), 9));
            if (!r.finish_ec) {
                ++accepted;
                CHECK(r.sink.data == payload); // e.g. a hex digit changed to upper case
            } else {
                CHECK(r.sink.ends == 0);
            }
        }
    }
    CHECK(accepted < 100);
}

TEST_CASE("decoder: errors are sticky and inconsistent set-ups refused", "[unit][chunked]") {
    SECTION("sticky") {
        auto d = aws_decoder();
        recording_sink sink;
        CHECK(d.feed("zz", sink) == ec(errc::chunk_bad_size));
        CHECK(d.feed(aws_example_body(), sink) == ec(errc::chunk_bad_size));
        CHECK(d.finish(sink) == ec(errc::chunk_bad_size));
        CHECK(d.error() == ec(errc::chunk_bad_size));
        CHECK(sink.data.empty());
        CHECK(sink.ends == 0);
    }
    SECTION("finish before anything") {
        auto d = aws_decoder();
        recording_sink sink;
        CHECK(d.finish(sink) == ec(errc::incomplete_body));
        CHECK(d.feed("0", sink) == ec(errc::incomplete_body));
    }
    SECTION("signed without a (valid) signing context") {
        recording_sink sink;
        chunk_decoder a(chunked_variant::signed_payload, std::nullopt, std::nullopt, std::nullopt,
                        k_max_chunk);
        CHECK(a.feed("0", sink) == ec(errc::internal_error));
        auto bad = aws_context();
        bad.signing_key.pop_back();
        chunk_decoder b(chunked_variant::signed_payload_trailer, bad, std::nullopt, std::nullopt,
                        k_max_chunk);
        CHECK(b.feed("0", sink) == ec(errc::internal_error));
        chunk_decoder c(chunked_variant::signed_payload, aws_context(), checksum_algorithm::crc32,
                        std::nullopt, k_max_chunk);
        CHECK(c.finish(sink) == ec(errc::internal_error));
    }
}
