#include "s3ha/sigv4/chunk_signature.hpp"

#include "s3ha/crypto/encoding.hpp"

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_signed = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr std::string_view k_signed_trailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr std::string_view k_unsigned_trailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

std::string sign(const chunk_signing_context& ctx, std::string_view algorithm,
                 std::string_view previous_signature, std::string_view tail) {
    std::string sts;
    sts.reserve(algorithm.size() + ctx.amz_date.size() + ctx.scope.size() +
                previous_signature.size() + tail.size() + 4);
    sts.append(algorithm).append("\n");
    sts.append(ctx.amz_date).append("\n");
    sts.append(ctx.scope).append("\n");
    sts.append(previous_signature).append("\n");
    sts.append(tail);
    return crypto::to_hex(crypto::as_bytes(crypto::hmac_sha256(ctx.signing_key, sts)));
}

} // namespace

std::optional<chunked_variant> chunked_variant_from_content_sha256(std::string_view value) {
    if (value == k_signed) {
        return chunked_variant::signed_payload;
    }
    if (value == k_signed_trailer) {
        return chunked_variant::signed_payload_trailer;
    }
    if (value == k_unsigned_trailer) {
        return chunked_variant::unsigned_payload_trailer;
    }
    return std::nullopt;
}

std::string_view content_sha256_value(chunked_variant v) noexcept {
    switch (v) {
    case chunked_variant::signed_payload: return k_signed;
    case chunked_variant::signed_payload_trailer: return k_signed_trailer;
    case chunked_variant::unsigned_payload_trailer: return k_unsigned_trailer;
    }
    return {};
}

bool is_valid(const chunk_signing_context& ctx) noexcept {
    if (ctx.signing_key.size() != 32 || ctx.seed_signature.size() != 64) {
        return false;
    }
    for (char c : ctx.seed_signature) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string chunk_signature(const chunk_signing_context& ctx, std::string_view previous_signature,
                            const crypto::sha256_digest& chunk_sha256) {
    // sigv4-streaming.html, "Defining the Chunk Body": the fifth line is the hash of the empty
    // string (a placeholder for chunk headers), the sixth the hash of the chunk data.
    std::string tail;
    tail.reserve(64 + 1 + 64);
    tail.append(crypto::empty_sha256_hex).append("\n");
    tail.append(crypto::to_hex(crypto::as_bytes(chunk_sha256)));
    return sign(ctx, "AWS4-HMAC-SHA256-PAYLOAD", previous_signature, tail);
}

std::string trailer_signature(const chunk_signing_context& ctx, std::string_view previous_signature,
                              std::string_view canonical_trailers) {
    return sign(ctx, "AWS4-HMAC-SHA256-TRAILER", previous_signature,
                crypto::sha256_hex(canonical_trailers));
}

} // namespace s3ha::sigv4
