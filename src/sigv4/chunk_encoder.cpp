#include "s3ha/sigv4/chunk_encoder.hpp"

#include "s3ha/crypto/sha256.hpp"

#include <array>

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_signature_ext = ";chunk-signature=";
constexpr std::string_view k_trailer_signature = "x-amz-trailer-signature:";
constexpr std::string_view k_crlf = "\r\n";
constexpr std::uint64_t k_signature_hex = 64;

std::uint64_t hex_digits(std::uint64_t n) noexcept {
    std::uint64_t d = 1;
    while (n >= 16) {
        n >>= 4;
        ++d;
    }
    return d;
}

void append_hex(std::string& out, std::uint64_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::array<char, 16> buf{};
    std::size_t i = buf.size();
    do {
        buf[--i] = digits[n & 0xf];
        n >>= 4;
    } while (n != 0);
    out.append(buf.data() + i, buf.size() - i);
}

// "HEX;chunk-signature=<64 hex>\r\n"
std::uint64_t size_line_length(std::uint64_t n) noexcept {
    return hex_digits(n) + k_signature_ext.size() + k_signature_hex + k_crlf.size();
}

} // namespace

chunk_encoder::chunk_encoder(chunked_variant variant, chunk_signing_context ctx)
    : variant_(variant), ctx_(std::move(ctx)), previous_signature_(ctx_.seed_signature),
      ok_(is_signed(variant) && is_valid(ctx_)) {
}

std::string chunk_encoder::encode_chunk_header(std::string_view data) {
    std::string out;
    if (!ok_ || finished_ || data.empty()) {
        return out;
    }
    previous_signature_ = chunk_signature(ctx_, previous_signature_, crypto::sha256(data));
    out.reserve(static_cast<std::size_t>(size_line_length(data.size())));
    append_hex(out, data.size());
    out.append(k_signature_ext).append(previous_signature_).append(k_crlf);
    return out;
}

std::string chunk_encoder::encode_chunk(std::string_view data) {
    std::string out = encode_chunk_header(data);
    if (out.empty()) {
        return out;
    }
    out.reserve(out.size() + data.size() + k_crlf.size());
    out.append(data).append(k_crlf);
    return out;
}

std::string chunk_encoder::encode_final(std::span<const chunk_trailer> trailers) {
    std::string out;
    if (!ok_ || finished_ || (variant_ == chunked_variant::signed_payload && !trailers.empty())) {
        return out;
    }
    finished_ = true;
    previous_signature_ =
        chunk_signature(ctx_, previous_signature_, crypto::sha256(std::string_view{}));
    out.append("0").append(k_signature_ext).append(previous_signature_).append(k_crlf);
    if (variant_ == chunked_variant::signed_payload) {
        out.append(k_crlf);
        return out;
    }
    std::string canonical;
    for (const auto& t : trailers) {
        out.append(t.name).append(":").append(t.value).append(k_crlf);
        canonical.append(t.name).append(":").append(t.value).append("\n");
    }
    previous_signature_ = trailer_signature(ctx_, previous_signature_, canonical);
    out.append(k_trailer_signature).append(previous_signature_).append(k_crlf).append(k_crlf);
    return out;
}

std::uint64_t chunk_encoder::chunk_overhead(std::uint64_t n) noexcept {
    return size_line_length(n) + k_crlf.size();
}

std::uint64_t
chunk_encoder::encoded_length(chunked_variant variant, std::uint64_t decoded_length,
                              std::uint64_t chunk_size,
                              std::optional<crypto::checksum_algorithm> trailer) noexcept {
    std::uint64_t total = decoded_length;
    if (chunk_size > 0 && decoded_length > 0) {
        const std::uint64_t full = decoded_length / chunk_size;
        const std::uint64_t rest = decoded_length % chunk_size;
        total += full * chunk_overhead(chunk_size);
        if (rest > 0) {
            total += chunk_overhead(rest);
        }
    }
    total += size_line_length(0);
    if (variant == chunked_variant::signed_payload) {
        return total + k_crlf.size();
    }
    if (trailer) {
        total += crypto::checksum_header_name(*trailer).size() + 1 +
                 crypto::checksum_base64_size(*trailer) + k_crlf.size();
    }
    return total + k_trailer_signature.size() + k_signature_hex + 2 * k_crlf.size();
}

} // namespace s3ha::sigv4
