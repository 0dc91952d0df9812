// Chunk and trailer signatures of aws-chunked bodies (pure functions), shared by chunk_decoder
// (verify) and chunk_encoder (re-sign).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
#pragma once

#include "s3ha/crypto/sha256.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace s3ha::sigv4 {

/// The aws-chunked encodings, named by the request's x-amz-content-sha256.
enum class chunked_variant {
    signed_payload,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
    signed_payload_trailer,   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
    unsigned_payload_trailer, // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

/// The variant an x-amz-content-sha256 value announces; nullopt for anything else (including
/// the SigV4a ECDSA variants, which s3ha does not support).
std::optional<chunked_variant> chunked_variant_from_content_sha256(std::string_view value);
/// The x-amz-content-sha256 value of a variant.
std::string_view content_sha256_value(chunked_variant v) noexcept;
/// True for the variants whose chunks carry chunk-signature= extensions.
constexpr bool is_signed(chunked_variant v) noexcept {
    return v != chunked_variant::unsigned_payload_trailer;
}

/// What signs the chunks of one request: the request's own SigV4 values.
struct chunk_signing_context {
    std::string signing_key;    // 32 raw bytes (derive_signing_key)
    std::string amz_date;       // X-Amz-Date, e.g. 20130524T000000Z
    std::string scope;          // credential scope, e.g. 20130524/us-east-1/s3/aws4_request
    std::string seed_signature; // the request's (header) signature, 64 lower-case hex digits
};

/// True when the key is 32 bytes and the seed signature 64 lower-case hex digits.
bool is_valid(const chunk_signing_context& ctx) noexcept;

/// The signature (64 lower-case hex) of one chunk whose data hashes to chunk_sha256:
/// HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous "\n" sha256("") "\n"
/// hex(chunk_sha256)).
std::string chunk_signature(const chunk_signing_context& ctx, std::string_view previous_signature,
                            const crypto::sha256_digest& chunk_sha256);

/// The x-amz-trailer-signature (64 lower-case hex) over canonical_trailers, the trailer lines
/// each as "name:value\n": HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" previous
/// "\n" hex(sha256(canonical_trailers))). previous is the final (zero) chunk's signature.
std::string trailer_signature(const chunk_signing_context& ctx, std::string_view previous_signature,
                              std::string_view canonical_trailers);

} // namespace s3ha::sigv4
