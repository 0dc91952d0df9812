// Encoder of signed aws-chunked bodies: re-signs a decoded payload for another signing context
// (the upstream's key, date, scope and the seed signature of the re-signed request).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
//
// Output layout (what the AWS SDKs send and MinIO parses):
//   (HEX;chunk-signature=<sig>\r\n <data> \r\n)*
//   signed_payload:          0;chunk-signature=<sig>\r\n \r\n
//   signed_payload_trailer:  0;chunk-signature=<sig>\r\n (<name>:<value>\r\n)*
//                            x-amz-trailer-signature:<sig>\r\n \r\n
// HEX is the lower-case hex size without leading zeros, so re-encoding a body with the same
// chunk sizes gives exactly the length the SDK-encoded original had.
// Thread affinity: one encoder per request, used by one thread at a time.
#pragma once

#include "s3ha/crypto/checksum.hpp"
#include "s3ha/sigv4/chunk_signature.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace s3ha::sigv4 {

/// One trailing header to send after the final chunk.
struct chunk_trailer {
    std::string name;  // e.g. x-amz-checksum-crc32
    std::string value; // e.g. the base64 checksum
};

class chunk_encoder {
public:
    /// variant: signed_payload or signed_payload_trailer; ctx: is_valid(ctx). Otherwise ok() is
    /// false and every encode call returns an empty string.
    chunk_encoder(chunked_variant variant, chunk_signing_context ctx);

    bool ok() const noexcept { return ok_; }

    /// The size line of the next chunk, "HEX;chunk-signature=<sig>\r\n", signing `data` and
    /// chaining the signature. The caller then sends data itself followed by "\r\n" (no copy).
    /// Empty data gives an empty string and signs nothing (an empty chunk would end the body).
    std::string encode_chunk_header(std::string_view data);
    /// A whole non-final chunk: encode_chunk_header(data) + data + "\r\n".
    std::string encode_chunk(std::string_view data);
    /// The final zero-sized chunk and what closes the body. For signed_payload_trailer each
    /// trailer is sent as "name:value\r\n" in the given order and signed; trailers must be empty
    /// for signed_payload (else an empty string: that is a caller bug). Further calls after it
    /// return empty strings.
    std::string encode_final(std::span<const chunk_trailer> trailers = {});

    /// The signature of the last chunk (or trailer) encoded; the seed signature at first.
    const std::string& previous_signature() const noexcept { return previous_signature_; }

    /// Bytes of framing around one data chunk of n > 0 bytes (size line and CRLF).
    static std::uint64_t chunk_overhead(std::uint64_t n) noexcept;
    /// The whole encoded length of a payload of decoded_length bytes cut in chunk_size pieces
    /// (the last one shorter), for the Content-Length of the re-signed request. trailer: the
    /// single checksum trailer of signed_payload_trailer, if any.
    static std::uint64_t encoded_length(chunked_variant variant, std::uint64_t decoded_length,
                                        std::uint64_t chunk_size,
                                        std::optional<crypto::checksum_algorithm> trailer) noexcept;

private:
    chunked_variant variant_;
    chunk_signing_context ctx_;
    std::string previous_signature_;
    bool ok_;
    bool finished_ = false;
};

} // namespace s3ha::sigv4
