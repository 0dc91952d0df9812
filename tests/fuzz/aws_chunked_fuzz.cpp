// Fuzz target: the aws-chunked decoder (sigv4::chunk_decoder) and the body transform
// (proxy::aws_chunked_transform in decode and in forward mode) on bodies built from the input.
//
// An input describes a body: the variant (signed, signed + trailer, unsigned + trailer), the
// announced trailer checksum, a payload cut into chunks, x-amz-decoded-content-length (absent,
// right or wrong), the largest chunk accepted and the transforms' chunk budget. The body is encoded
// correctly (chunk_encoder for the signed variants, the AWS SDK's framing for the unsigned one),
// then maybe mutated (bytes replaced, inserted or deleted, the body cut or extended, at chosen
// places) and fed to the three consumers in the same chosen pieces.
//
// Oracles:
//  1. The three agree: same error (or none) after every piece and at the end (a transform may
//     fail earlier only with chunk_buffer_full, its chunk budget saying no). Errors are
//     sticky: nothing more is released after one.
//  2. Hold-back: until a transform is done(), it has not released everything it produced (bytes
//     after a verified body fail the request later but retract nothing).
//  3. Signed variants (nobody can forge a chunk signature): at every moment what the decoder
//     released and what the decode transform released is a prefix of the authentic payload, and
//     the forward output a prefix of the authentic body re-signed for the backend.
//  4. An accepted body (finish() without error): on_end exactly once, decoded length honoured;
//     signed: exactly the payload and the authentic trailers, forward output exactly the
//     re-signed body; unsigned: the payload's checksum is the trailer's, the forward output is
//     the body as fed; an unmutated body decodes to exactly the payload.
//  5. An unmutated body with a consistent setup (length absent or right, chunks within the limit
//     and the budget) is accepted.
//  6. Unsigned + checksum: a change confined to chunk data is refused when the checksum must see
//     it (SHA-1/SHA-256 always; CRC32/CRC32C within 4 bytes; CRC64NVME within 8 bytes).
//  7. The chunk budget: a transform never holds more than the limit, and gives everything back.
#include "../unit/chunk_test_support.hpp"
#include "fuzz_check.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/checksum.hpp"
#include "s3ha/proxy/aws_chunked_transform.hpp"
#include "s3ha/proxy/byte_budget.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using s3ha::error_code;
using s3ha::crypto::checksum_algorithm;
using s3ha::proxy::aws_chunked_transform;
using s3ha::proxy::body_mode;
using s3ha::proxy::byte_budget;
using s3ha::sigv4::chunk_trailer;
using s3ha::sigv4::chunked_variant;

// Small bodies: the framing is what matters, and every byte is hashed several times.
constexpr std::size_t k_max_payload = 2048;
constexpr std::size_t k_max_chunk_piece = 700;
constexpr std::size_t k_max_chunks = 8;

// The signing contexts are the same for every input: deriving a key is 4 HMACs.
const s3ha::sigv4::chunk_signing_context& client_context() {
    static const auto ctx = s3ha::test::aws_context();
    return ctx;
}
const s3ha::sigv4::chunk_signing_context& backend_context() {
    static const auto ctx = s3ha::test::backend_context();
    return ctx;
}

struct body_plan {
    chunked_variant variant = chunked_variant::signed_payload;
    std::optional<checksum_algorithm> trailer;
    std::string payload;
    std::vector<std::size_t> sizes;
    std::optional<std::uint64_t> decoded_length;
    std::size_t max_chunk = 0;
    std::optional<std::uint64_t> budget;
    std::vector<chunk_trailer> trailers; // the authentic ones
    std::string body;                    // correctly encoded
    std::vector<bool> is_data;           // unsigned: per body byte, whether a payload byte
};

std::string make_payload(std::size_t n, std::uint32_t seed) {
    std::string p(n, '\0');
    std::uint32_t x = seed | 1U;
    for (auto& c : p) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xffU);
    }
    return p;
}

std::string checksum_base64(checksum_algorithm alg, std::string_view data) {
    s3ha::crypto::checksum c(alg);
    c.update(data);
    return c.finish_base64();
}

void append(body_plan& p, std::string_view bytes, bool data) {
    p.body.append(bytes);
    if (!s3ha::sigv4::is_signed(p.variant)) p.is_data.insert(p.is_data.end(), bytes.size(), data);
}

void encode_signed(body_plan& p, bool blank_after_final) {
    s3ha::sigv4::chunk_encoder enc(p.variant, client_context());
    std::size_t pos = 0;
    for (auto n : p.sizes) {
        const std::string_view data = std::string_view(p.payload).substr(pos, n);
        append(p, enc.encode_chunk_header(data), false);
        append(p, data, true);
        append(p, "\r\n", false);
        pos += n;
    }
    std::string final_part = enc.encode_final(p.trailers);
    if (blank_after_final && p.variant == chunked_variant::signed_payload_trailer) {
        // The empty line the AWS trailer example shows after the zero chunk (tolerated).
        final_part.insert(final_part.find("\r\n") + 2, "\r\n");
    }
    append(p, final_part, false);
}

// The unsigned framing of the AWS SDKs, with the variations the decoder accepts: hex in either
// case, leading zeros, chunk extensions, blanks around the trailer value.
void encode_unsigned(body_plan& p, FuzzedDataProvider& in) {
    const bool upper = in.ConsumeBool();
    const bool leading_zero = in.ConsumeBool();
    const bool extension = in.ConsumeBool();
    const bool blanks = in.ConsumeBool();
    auto size_line = [&](std::size_t n) {
        static constexpr std::string_view lower_digits = "0123456789abcdef";
        static constexpr std::string_view upper_digits = "0123456789ABCDEF";
        const std::string_view digits = upper ? upper_digits : lower_digits;
        std::string hex;
        for (std::size_t v = n; v != 0; v >>= 4U)
            hex.insert(hex.begin(), digits[v & 0xfU]);
        if (hex.empty() || leading_zero) hex.insert(hex.begin(), '0');
        if (extension) hex += ";ext=1";
        return hex + "\r\n";
    };
    std::size_t pos = 0;
    for (auto n : p.sizes) {
        append(p, size_line(n), false);
        append(p, std::string_view(p.payload).substr(pos, n), true);
        append(p, "\r\n", false);
        pos += n;
    }
    append(p, size_line(0), false);
    for (const auto& t : p.trailers) {
        append(p, t.name + ":" + (blanks ? " \t" : "") + t.value + (blanks ? " " : "") + "\r\n",
               false);
    }
    append(p, "\r\n", false);
}

body_plan make_plan(FuzzedDataProvider& in) {
    body_plan p;
    p.variant = static_cast<chunked_variant>(in.ConsumeIntegralInRange<int>(0, 2));
    const int alg = in.ConsumeIntegralInRange<int>(0, 5); // 5: none announced
    if (p.variant != chunked_variant::signed_payload && alg < 5) {
        p.trailer = static_cast<checksum_algorithm>(alg);
    }
    const auto length = in.ConsumeIntegralInRange<std::size_t>(0, k_max_payload);
    p.payload = make_payload(length, in.ConsumeIntegral<std::uint32_t>());
    // At most k_max_chunks chunks, the last one takes the rest: each chunk costs six signatures
    // here, and a thousand one-byte chunks test nothing eight do not.
    for (std::size_t left = length; left > 0;) {
        const auto n =
            p.sizes.size() + 1 == k_max_chunks
                ? left
                : std::min(left, in.ConsumeIntegralInRange<std::size_t>(1, k_max_chunk_piece));
        p.sizes.push_back(n);
        left -= n;
    }
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: break;
    case 1: p.decoded_length = length; break;
    default: {
        const auto delta = in.ConsumeIntegralInRange<std::int64_t>(-16, 16);
        p.decoded_length = static_cast<std::uint64_t>(static_cast<std::int64_t>(length) + delta);
        break;
    }
    }
    p.max_chunk = in.ConsumeIntegralInRange<std::size_t>(1, 2 * k_max_chunk_piece);
    if (in.ConsumeBool()) p.budget = in.ConsumeIntegralInRange<std::uint64_t>(0, 1500);
    if (p.trailer) {
        p.trailers.push_back({std::string(s3ha::crypto::checksum_header_name(*p.trailer)),
                              checksum_base64(*p.trailer, p.payload)});
    }
    if (s3ha::sigv4::is_signed(p.variant)) {
        encode_signed(p, in.ConsumeBool());
    } else {
        encode_unsigned(p, in);
    }
    return p;
}

std::string mutate(const std::string& body, FuzzedDataProvider& in) {
    static constexpr std::array<std::string_view, 8> tokens{
        "\r\n", "0", ";", ":", "\r\n\r\n", " ", "0\r\n\r\n", "x-amz-trailer-signature:"};
    std::string b = body;
    const int count = in.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < count; ++i) {
        const auto kind = in.ConsumeIntegralInRange<int>(0, 5);
        const auto pos = in.ConsumeIntegralInRange<std::size_t>(0, b.size());
        const auto byte = in.ConsumeIntegral<std::uint8_t>();
        switch (kind) {
        case 0: // replace (by a different byte)
            if (pos < b.size()) b[pos] = static_cast<char>(b[pos] ^ (byte | 1U));
            break;
        case 1:
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<char>(byte));
            break;
        case 2:
            if (pos < b.size()) b.erase(pos, 1);
            break;
        case 3: b.resize(pos); break;
        case 4: b.push_back(static_cast<char>(byte)); break;
        default: b.insert(pos, tokens[byte % tokens.size()]); break;
        }
    }
    return b;
}

bool is_prefix(std::string_view prefix, std::string_view of) {
    return prefix.size() <= of.size() && of.substr(0, prefix.size()) == prefix;
}

// One transform, its budget and what it released so far.
struct transform_run {
    std::optional<byte_budget> budget;
    std::optional<aws_chunked_transform> t;
    std::string out;
    error_code ec;
    bool was_done = false;

    transform_run(const body_plan& p, body_mode mode) {
        s3ha::proxy::upstream_request up;
        up.mode = mode;
        up.variant = p.variant;
        up.decoded_length = p.decoded_length;
        up.trailer_checksum = p.trailer;
        std::optional<s3ha::sigv4::chunk_signing_context> downstream;
        if (s3ha::sigv4::is_signed(p.variant)) {
            downstream = client_context();
            if (mode == body_mode::chunked_forward) up.chunk_signing = backend_context();
        }
        if (p.budget) budget.emplace(*p.budget);
        t.emplace(up, downstream, p.max_chunk, budget ? &*budget : nullptr);
    }

    void drain() {
        const auto ready = t->ready();
        S3HA_FUZZ_CHECK(!ec || ready.empty(), "output released after an error");
        out.append(ready);
        t->consume(ready.size());
        // Oracle 2: the last byte stays back until the body is verified. Once it was (done()),
        // bytes after the body (chunk_trailing_data) fail the request but retract nothing: what
        // went upstream is the verified body (aws_chunked_transform.hpp, chunk_decoder::feed).
        was_done = was_done || t->done();
        S3HA_FUZZ_CHECK(was_done || t->produced() == 0 || out.size() < t->produced(),
                        "the whole output (" + std::to_string(out.size()) +
                            " bytes) was released before done(); error: " + ec.message());
        S3HA_FUZZ_CHECK(!budget || t->reserved() <= budget->limit(), "over the chunk budget");
    }
    void feed(std::string_view piece) {
        const auto e = t->feed(piece);
        S3HA_FUZZ_CHECK(!ec || e == ec, "a transform error is not sticky");
        ec = e;
        drain();
    }
    void finish() {
        const auto e = t->finish();
        S3HA_FUZZ_CHECK(!ec || e == ec, "a transform error is not sticky");
        ec = e;
        drain();
    }
    bool budget_refused() const { return ec == s3ha::errc::chunk_buffer_full; }
};

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const body_plan p = make_plan(in);
    const std::string body = mutate(p.body, in);
    const bool is_signed = s3ha::sigv4::is_signed(p.variant);

    s3ha::sigv4::chunk_decoder decoder(p.variant,
                                       is_signed ? std::optional(client_context()) : std::nullopt,
                                       p.trailer, p.decoded_length, p.max_chunk);
    s3ha::test::recording_sink sink;
    error_code decoder_ec;
    transform_run decode(p, body_mode::chunked_decode);
    transform_run forward(p, body_mode::chunked_forward);
    const std::string resigned = is_signed
                                     ? s3ha::test::encode_signed(p.variant, backend_context(),
                                                                 p.payload, p.sizes, p.trailers)
                                     : std::string();

    auto check_agreement = [&] {
        S3HA_FUZZ_CHECK(decode.ec == forward.ec,
                        decode.ec.message() + " vs " + forward.ec.message());
        if (!decode.budget_refused()) {
            S3HA_FUZZ_CHECK(decode.ec == decoder_ec,
                            decode.ec.message() + " vs decoder " + decoder_ec.message());
        } else {
            S3HA_FUZZ_CHECK(p.budget.has_value(), "chunk_buffer_full without a budget");
        }
        if (is_signed) {
            S3HA_FUZZ_CHECK(is_prefix(sink.data, p.payload), "decoder released unauthentic bytes");
            S3HA_FUZZ_CHECK(is_prefix(decode.out, p.payload), "decode released unauthentic bytes");
            S3HA_FUZZ_CHECK(is_prefix(forward.out, resigned), "forward released unauthentic bytes");
        } else {
            S3HA_FUZZ_CHECK(is_prefix(forward.out, body), "passthrough changed the bytes");
        }
    };

    // The pieces the body arrives in.
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t n = body.size() - pos;
        if (in.remaining_bytes() > 0)
            n = std::min(n, in.ConsumeIntegralInRange<std::size_t>(1, 300));
        const std::string_view piece = std::string_view(body).substr(pos, n);
        pos += n;
        const std::size_t before = sink.data.size();
        const auto e = decoder.feed(piece, sink);
        S3HA_FUZZ_CHECK(!decoder_ec || (e == decoder_ec && sink.data.size() == before),
                        "a decoder error is not sticky");
        decoder_ec = e;
        decode.feed(piece);
        forward.feed(piece);
        check_agreement();
    }
    {
        const auto e = decoder.finish(sink);
        S3HA_FUZZ_CHECK(!decoder_ec || e == decoder_ec, "a decoder error is not sticky");
        decoder_ec = e;
    }
    decode.finish();
    forward.finish();
    check_agreement();

    const bool unmutated = body == p.body;
    // S3HA_FUZZ_VERBOSE=1: one line per input (to check what the seeds exercise).
    static const bool verbose = std::getenv("S3HA_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
        std::fprintf(stderr, "variant %d, payload %zu in %zu chunks, body %zu%s: %s / %s\n",
                     static_cast<int>(p.variant), p.payload.size(), p.sizes.size(), body.size(),
                     unmutated ? "" : " (mutated)", decoder_ec.message().c_str(),
                     decode.ec.message().c_str());
    }
    const std::size_t biggest =
        p.sizes.empty() ? 0 : *std::max_element(p.sizes.begin(), p.sizes.end());
    if (!decoder_ec) {
        // Oracle 4.
        S3HA_FUZZ_CHECK(decoder.done() && sink.ends == 1, "accepted without one on_end");
        S3HA_FUZZ_CHECK(decoder.decoded_bytes() == sink.data.size(), "decoded_bytes() is off");
        S3HA_FUZZ_CHECK(!p.decoded_length || *p.decoded_length == sink.data.size(),
                        "decoded length not honoured");
        if (is_signed || unmutated) {
            S3HA_FUZZ_CHECK(sink.data == p.payload, "accepted body is not the payload");
        }
        if (is_signed) {
            S3HA_FUZZ_CHECK(sink.trailers.size() == p.trailers.size(), "trailers differ");
            for (std::size_t i = 0; i < p.trailers.size(); ++i) {
                S3HA_FUZZ_CHECK(sink.trailers[i].first == p.trailers[i].name &&
                                    sink.trailers[i].second == p.trailers[i].value,
                                "trailer differs");
            }
        } else if (p.trailer) {
            S3HA_FUZZ_CHECK(
                sink.trailers.size() == 1 &&
                    sink.trailers[0].second == checksum_base64(*p.trailer, sink.data),
                "accepted with a checksum that does not match the payload: " +
                    (sink.trailers.empty() ? std::string("(none)") : sink.trailers[0].second) +
                    " vs " + checksum_base64(*p.trailer, sink.data));
        } else {
            S3HA_FUZZ_CHECK(sink.trailers.empty(), "a trailer nobody announced");
        }
        if (!decode.ec) {
            S3HA_FUZZ_CHECK(decode.t->done() && forward.t->done(), "finished but not done()");
            S3HA_FUZZ_CHECK(decode.out == sink.data, "decode output differs from the decoder's");
            S3HA_FUZZ_CHECK(forward.out == (is_signed ? resigned : body), "forward output differs");
        }
    } else {
        S3HA_FUZZ_CHECK(!decoder.done(), "done() after an error");
    }

    // Oracle 5.
    const bool length_ok = !p.decoded_length || *p.decoded_length == p.payload.size();
    if (unmutated && length_ok && (!is_signed || biggest <= p.max_chunk)) {
        S3HA_FUZZ_CHECK(!decoder_ec, "a valid body was refused: " + decoder_ec.message());
        if (!is_signed || !p.budget || biggest <= *p.budget) {
            S3HA_FUZZ_CHECK(!decode.ec, "a valid body was refused: " + decode.ec.message());
        }
    }

    // Oracle 6.
    if (!is_signed && p.trailer && body.size() == p.body.size() && !unmutated) {
        std::size_t first = body.size();
        std::size_t last = 0;
        bool only_data = true;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] == p.body[i]) continue;
            only_data = only_data && p.is_data[i];
            first = std::min(first, i);
            last = i;
        }
        const std::size_t span = last - first + 1;
        const bool must_see = *p.trailer == checksum_algorithm::sha1 ||
                              *p.trailer == checksum_algorithm::sha256 ||
                              (*p.trailer == checksum_algorithm::crc64nvme ? span <= 8 : span <= 4);
        if (only_data && must_see) {
            S3HA_FUZZ_CHECK(decoder_ec, "tampered chunk data accepted");
            // A wrong x-amz-decoded-content-length may refuse the body first.
            S3HA_FUZZ_CHECK(!length_ok || decoder_ec == s3ha::errc::bad_digest,
                            "tampered chunk data refused for another reason: " +
                                decoder_ec.message());
        }
    }

    // Oracle 7.
    decode.t.reset();
    forward.t.reset();
    S3HA_FUZZ_CHECK(!decode.budget || decode.budget->held() == 0, "budget not given back");
    S3HA_FUZZ_CHECK(!forward.budget || forward.budget->held() == 0, "budget not given back");
    return 0;
}
