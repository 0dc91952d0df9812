#include "chunk_test_support.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/checksum.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;
using namespace s3ha::test;
using s3ha::crypto::checksum_algorithm;
using s3ha::sigv4::chunk_decoder;
using s3ha::sigv4::chunk_encoder;
using s3ha::sigv4::chunked_variant;

namespace {

constexpr std::size_t k_max_chunk = 1 << 20;

/// A sink that re-encodes what it receives for another signing context, chunk by chunk, as the
/// proxy's forwarder does.
class reencoding_sink final : public sigv4::chunk_sink {
public:
    reencoding_sink(chunked_variant v, sigv4::chunk_signing_context ctx)
        : enc_(v, std::move(ctx)) {}

    std::string out;
    std::string payload;

    void on_data(std::string_view d) override {
        pending_.append(d);
        payload.append(d);
    }
    void on_chunk_end(std::size_t size, std::string_view) override {
        REQUIRE(pending_.size() == size);
        out += enc_.encode_chunk(pending_);
        pending_.clear();
    }
    void on_trailer(std::string_view name, std::string_view value) override {
        trailers_.push_back({std::string(name), std::string(value)});
    }
    void on_end() override { out += enc_.encode_final(trailers_); }

private:
    chunk_encoder enc_;
    std::string pending_;
    std::vector<sigv4::chunk_trailer> trailers_;
};

} // namespace

TEST_CASE("encoder: decoding the AWS example and re-encoding with the same key reproduces it",
          "[unit][chunked]") {
    SECTION("sigv4-streaming.html") {
        const std::string original = aws_example_body();
        chunk_decoder d(chunked_variant::signed_payload, aws_context(), std::nullopt, 66560,
                        k_max_chunk);
        reencoding_sink sink(chunked_variant::signed_payload, aws_context());
        REQUIRE_FALSE(d.feed(original, sink));
        REQUIRE_FALSE(d.finish(sink));
        CHECK(sink.out == original);
        CHECK(sink.out.size() == 66824);
    }
    SECTION("sigv4-streaming-trailers.html (SDK framing)") {
        const std::string original = aws_trailer_example_body();
        chunk_decoder d(chunked_variant::signed_payload_trailer, aws_context(aws_trailer_seed),
                        checksum_algorithm::crc32c, 66560, k_max_chunk);
        reencoding_sink sink(chunked_variant::signed_payload_trailer,
                             aws_context(aws_trailer_seed));
        for (char ch : original) { // byte at a time
            REQUIRE_FALSE(d.feed(std::string_view(&ch, 1), sink));
        }
        REQUIRE_FALSE(d.finish(sink));
        CHECK(sink.out == original);
    }
}

TEST_CASE("encoder: the AWS example chunk by chunk", "[unit][chunked]") {
    chunk_encoder enc(chunked_variant::signed_payload, aws_context());
    REQUIRE(enc.ok());
    CHECK(enc.previous_signature() == aws_seed);
    const std::string h1 = enc.encode_chunk_header(std::string(65536, 'a'));
    CHECK(h1 == "10000;chunk-signature=" + std::string(aws_sig1) + "\r\n");
    CHECK(enc.previous_signature() == aws_sig1);
    const std::string c2 = enc.encode_chunk(std::string(1024, 'a'));
    CHECK(c2 == "400;chunk-signature=" + std::string(aws_sig2) + "\r\n" + std::string(1024, 'a') +
                    "\r\n");
    CHECK(enc.encode_final() == "0;chunk-signature=" + std::string(aws_sig_final) + "\r\n\r\n");
    // Finished: nothing more comes out.
    CHECK(enc.encode_chunk("more").empty());
    CHECK(enc.encode_final().empty());
}

TEST_CASE("encoder: re-signing for another key", "[unit][chunked]") {
    const std::string original = aws_example_body();
    chunk_decoder d(chunked_variant::signed_payload, aws_context(), std::nullopt, 66560,
                    k_max_chunk);
    reencoding_sink sink(chunked_variant::signed_payload, backend_context());
    REQUIRE_FALSE(d.feed(original, sink));
    REQUIRE_FALSE(d.finish(sink));
    const std::string& resigned = sink.out;

    CHECK(resigned != original);
    CHECK(resigned.size() == original.size()); // same chunk sizes: identical framing lengths
    CHECK(resigned.size() == chunk_encoder::encoded_length(chunked_variant::signed_payload, 66560,
                                                           65536, std::nullopt));

    SECTION("the backend's key decodes it to the same payload") {
        chunk_decoder up(chunked_variant::signed_payload, backend_context(), std::nullopt, 66560,
                         k_max_chunk);
        auto r = decode_with(up, resigned, random_splits(11, 3000));
        REQUIRE_FALSE(r.finish_ec);
        CHECK(r.sink.data == aws_payload());
        CHECK(r.sink.chunk_sizes == std::vector<std::size_t>{65536, 1024});
    }
    SECTION("the client's key does not") {
        chunk_decoder up(chunked_variant::signed_payload, aws_context(), std::nullopt, 66560,
                         k_max_chunk);
        auto r = decode_with(up, resigned, whole());
        CHECK(r.feed_ec == make_error_code(errc::chunk_signature_mismatch));
        CHECK(r.sink.data.empty());
    }
}

TEST_CASE("encoder: re-signing a trailer body keeps the trailer and the length",
          "[unit][chunked]") {
    const std::string original = aws_trailer_example_body();
    chunk_decoder d(chunked_variant::signed_payload_trailer, aws_context(aws_trailer_seed),
                    checksum_algorithm::crc32c, 66560, k_max_chunk);
    reencoding_sink sink(chunked_variant::signed_payload_trailer, backend_context());
    REQUIRE_FALSE(d.feed(original, sink));
    REQUIRE_FALSE(d.finish(sink));
    CHECK(sink.out.size() == original.size());
    CHECK(sink.out.size() == chunk_encoder::encoded_length(chunked_variant::signed_payload_trailer,
                                                           66560, 65536,
                                                           checksum_algorithm::crc32c));

    chunk_decoder up(chunked_variant::signed_payload_trailer, backend_context(),
                     checksum_algorithm::crc32c, 66560, k_max_chunk);
    auto r = decode_with(up, sink.out, byte_at_a_time());
    REQUIRE_FALSE(r.finish_ec);
    CHECK(r.sink.data == aws_payload());
    REQUIRE(r.sink.trailers.size() == 1);
    CHECK(r.sink.trailers[0].second == "sOO8/Q==");

    chunk_decoder wrong(chunked_variant::signed_payload_trailer, aws_context(aws_trailer_seed),
                        checksum_algorithm::crc32c, 66560, k_max_chunk);
    auto w = decode_with(wrong, sink.out, whole());
    CHECK(w.feed_ec == make_error_code(errc::chunk_signature_mismatch));
    CHECK(w.sink.data.empty());
}

TEST_CASE("encoder: an unsigned client body re-signed with the client's chunk sizes",
          "[unit][chunked]") {
    std::string payload(100000, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>(i * 7);
    }
    crypto::checksum c(checksum_algorithm::crc64nvme);
    c.update(payload);
    const std::string b64 = c.finish_base64();
    const std::string body =
        encode_unsigned(payload, {65536, 34464}, "x-amz-checksum-crc64nvme:" + b64 + "\r\n");
    chunk_decoder d(chunked_variant::unsigned_payload_trailer, std::nullopt,
                    checksum_algorithm::crc64nvme, payload.size(), k_max_chunk);
    reencoding_sink sink(chunked_variant::signed_payload_trailer, backend_context());
    auto feed = [&](std::string_view piece) { return d.feed(piece, sink); };
    // Unsigned data arrives in pieces; the sink assembles whole chunks.
    for (std::size_t pos = 0; pos < body.size(); pos += 1000) {
        REQUIRE_FALSE(feed(std::string_view(body).substr(pos, 1000)));
    }
    REQUIRE_FALSE(d.finish(sink));
    CHECK(sink.out.size() == chunk_encoder::encoded_length(chunked_variant::signed_payload_trailer,
                                                           payload.size(), 65536,
                                                           checksum_algorithm::crc64nvme));
    chunk_decoder up(chunked_variant::signed_payload_trailer, backend_context(),
                     checksum_algorithm::crc64nvme, payload.size(), k_max_chunk);
    auto r = decode_with(up, sink.out, random_splits(3, 4000));
    REQUIRE_FALSE(r.finish_ec);
    CHECK(r.sink.data == payload);
    REQUIRE(r.sink.trailers.size() == 1);
    CHECK(r.sink.trailers[0].second == b64);
}

TEST_CASE("encoder: framing lengths", "[unit][chunked]") {
    CHECK(chunk_encoder::chunk_overhead(65536) == 5 + 17 + 64 + 2 + 2);
    CHECK(chunk_encoder::chunk_overhead(1) == 1 + 17 + 64 + 2 + 2);
    // The AWS example's Content-Length.
    CHECK(chunk_encoder::encoded_length(chunked_variant::signed_payload, 66560, 65536,
                                        std::nullopt) == 66824);
    for (std::uint64_t len : {0ULL, 1ULL, 8191ULL, 8192ULL, 8193ULL, 50000ULL}) {
        for (auto alg :
             {std::optional<checksum_algorithm>{}, std::optional{checksum_algorithm::sha256}}) {
            const auto v =
                alg ? chunked_variant::signed_payload_trailer : chunked_variant::signed_payload;
            const std::string payload(len, 'z');
            std::vector<std::size_t> sizes;
            for (std::uint64_t pos = 0; pos < len; pos += 8192) {
                sizes.push_back(static_cast<std::size_t>(std::min<std::uint64_t>(8192, len - pos)));
            }
            std::vector<sigv4::chunk_trailer> trailers;
            if (alg) {
                crypto::checksum c(*alg);
                c.update(payload);
                trailers.push_back({"x-amz-checksum-sha256", c.finish_base64()});
            }
            const auto body = encode_signed(v, backend_context(), payload, sizes, trailers);
            CAPTURE(len, alg.has_value());
            CHECK(body.size() == chunk_encoder::encoded_length(v, len, 8192, alg));
        }
    }
}

TEST_CASE("encoder: header + data + CRLF equals encode_chunk; misuse yields nothing",
          "[unit][chunked]") {
    chunk_encoder a(chunked_variant::signed_payload, backend_context());
    chunk_encoder b(chunked_variant::signed_payload, backend_context());
    const std::string data = "some chunk data";
    CHECK(a.encode_chunk_header(data) + data + "\r\n" == b.encode_chunk(data));
    CHECK(a.previous_signature() == b.previous_signature());
    CHECK(a.encode_chunk("").empty());
    CHECK(a.previous_signature() == b.previous_signature()); // an empty chunk signs nothing
    // Trailers need the trailer variant.
    CHECK(a.encode_final({{{"x-amz-checksum-crc32", "AAAAAA=="}}}).empty());

    auto bad = backend_context();
    bad.seed_signature = "not hex";
    chunk_encoder c(chunked_variant::signed_payload, bad);
    CHECK_FALSE(c.ok());
    CHECK(c.encode_chunk(data).empty());
    chunk_encoder u(chunked_variant::unsigned_payload_trailer, backend_context());
    CHECK_FALSE(u.ok());
}
