// Shared helpers for the aws-chunked decoder/encoder tests (not a test file itself).
#pragma once

#include "s3ha/sigv4/chunk_decoder.hpp"
#include "s3ha/sigv4/chunk_encoder.hpp"
#include "s3ha/sigv4/signing_key.hpp"

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace s3ha::test {

/// Records everything a decoder emits.
class recording_sink final : public sigv4::chunk_sink {
public:
    std::string data;
    std::vector<std::size_t> data_calls;
    std::vector<std::size_t> chunk_sizes;
    std::vector<std::string> chunk_signatures;
    std::vector<std::pair<std::string, std::string>> trailers;
    int ends = 0;

    void on_data(std::string_view d) override {
        data.append(d);
        data_calls.push_back(d.size());
    }
    void on_chunk_end(std::size_t size, std::string_view sig) override {
        chunk_sizes.push_back(size);
        chunk_signatures.emplace_back(sig);
    }
    void on_trailer(std::string_view name, std::string_view value) override {
        trailers.emplace_back(name, value);
    }
    void on_end() override { ++ends; }
};

// The AWS examples: sigv4-streaming.html and sigv4-streaming-trailers.html ("Example: PUT
// Object"): secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1, s3.
inline constexpr std::string_view aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
inline constexpr std::string_view aws_seed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
inline constexpr std::string_view aws_sig1 =
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
inline constexpr std::string_view aws_sig2 =
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
inline constexpr std::string_view aws_sig_final =
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
// Trailer example: same object, x-amz-trailer: x-amz-checksum-crc32c.
inline constexpr std::string_view aws_trailer_seed =
    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
inline constexpr std::string_view aws_trailer_sig1 =
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
inline constexpr std::string_view aws_trailer_sig2 =
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7";
inline constexpr std::string_view aws_trailer_sig_final =
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992";
inline constexpr std::string_view aws_trailer_signature =
    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

inline sigv4::chunk_signing_context aws_context(std::string_view seed = aws_seed) {
    return {sigv4::derive_signing_key(aws_secret, "20130524", "us-east-1", "s3"),
            "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", std::string(seed)};
}

/// Another identity, as an upstream backend would have.
inline sigv4::chunk_signing_context backend_context() {
    return {sigv4::derive_signing_key("minio-backend-secret-key", "20240101", "eu-west-1", "s3"),
            "20240101T120000Z", "20240101/eu-west-1/s3/aws4_request",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
}

inline std::string aws_payload() {
    return std::string(66560, 'a');
}

/// The body of the sigv4-streaming.html example, byte for byte.
inline std::string aws_example_body() {
    std::string b;
    b += "10000;chunk-signature=" + std::string(aws_sig1) + "\r\n" + std::string(65536, 'a') +
         "\r\n";
    b += "400;chunk-signature=" + std::string(aws_sig2) + "\r\n" + std::string(1024, 'a') + "\r\n";
    b += "0;chunk-signature=" + std::string(aws_sig_final) + "\r\n\r\n";
    return b;
}

/// The sigv4-streaming-trailers.html example as the SDKs frame it (trailers right after the
/// zero chunk's size line, an empty line at the end). with_doc_blank_line adds the empty line
/// the AWS page shows after the zero chunk.
inline std::string aws_trailer_example_body(bool with_doc_blank_line = false) {
    std::string b;
    b += "10000;chunk-signature=" + std::string(aws_trailer_sig1) + "\r\n" +
         std::string(65536, 'a') + "\r\n";
    b += "400;chunk-signature=" + std::string(aws_trailer_sig2) + "\r\n" + std::string(1024, 'a') +
         "\r\n";
    b += "0;chunk-signature=" + std::string(aws_trailer_sig_final) + "\r\n";
    if (with_doc_blank_line) {
        b += "\r\n";
    }
    b += "x-amz-checksum-crc32c:sOO8/Q==\r\n";
    b += "x-amz-trailer-signature:" + std::string(aws_trailer_signature) + "\r\n\r\n";
    return b;
}

struct decode_outcome {
    boost::system::error_code feed_ec;
    boost::system::error_code finish_ec;
    recording_sink sink;
};

/// Feeds body in pieces whose sizes come from next_size (called until the body is used up),
/// stopping at the first error, then calls finish().
inline decode_outcome decode_with(sigv4::chunk_decoder& d, std::string_view body,
                                  const std::function<std::size_t()>& next_size) {
    decode_outcome r;
    std::size_t pos = 0;
    while (pos < body.size() && !r.feed_ec) {
        std::size_t n = std::min(std::max<std::size_t>(next_size(), 1), body.size() - pos);
        r.feed_ec = d.feed(body.substr(pos, n), r.sink);
        pos += n;
    }
    r.finish_ec = d.finish(r.sink);
    return r;
}

inline std::function<std::size_t()> whole() {
    return [] { return std::size_t(-1); };
}
inline std::function<std::size_t()> byte_at_a_time() {
    return [] { return std::size_t(1); };
}
inline std::function<std::size_t()> random_splits(std::uint32_t seed, std::size_t max_piece) {
    auto rng = std::make_shared<std::mt19937>(seed);
    return [rng, max_piece] { return 1 + (*rng)() % max_piece; };
}

/// Builds a signed aws-chunked body with our encoder.
inline std::string encode_signed(sigv4::chunked_variant v, const sigv4::chunk_signing_context& ctx,
                                 std::string_view payload, const std::vector<std::size_t>& sizes,
                                 std::vector<sigv4::chunk_trailer> trailers = {}) {
    sigv4::chunk_encoder enc(v, ctx);
    std::string body;
    std::size_t pos = 0;
    for (auto n : sizes) {
        body += enc.encode_chunk(payload.substr(pos, n));
        pos += n;
    }
    body += enc.encode_final(trailers);
    return body;
}

/// Builds an unsigned aws-chunked body the way the AWS JS SDK v3 frames it.
inline std::string encode_unsigned(std::string_view payload, const std::vector<std::size_t>& sizes,
                                   std::string_view trailer_lines) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string body;
    std::size_t pos = 0;
    for (auto n : sizes) {
        std::string hex;
        for (std::size_t v = n; v != 0; v >>= 4) {
            hex.insert(hex.begin(), digits[v & 0xf]);
        }
        body += hex + "\r\n" + std::string(payload.substr(pos, n)) + "\r\n";
        pos += n;
    }
    body += "0\r\n";
    body += trailer_lines;
    body += "\r\n";
    return body;
}

} // namespace s3ha::test
