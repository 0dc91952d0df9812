// The upstream request header built from a verified downstream request: a pure function of its
// inputs (the clock and the signing-key cache are passed in), so every rewriting rule is unit
// tested without sockets.
//
// Rules (RFC 9110 §7.6 for the proxy part, AWS SigV4 pages and sigv4/header_rule.hpp for the
// rest): the upstream request carries exactly what the client signed, what s3ha sets itself and,
// unsigned, what the forwarding rule lets through unsigned:
//  - HTTP/1.1 always, path-style target (/bucket/key?query), the backend's Host;
//  - hop-by-hop headers and the Connection-named ones are dropped (RFC 9110 §7.6.1; the
//    Connection tokens were checked to name hop-by-hop headers only), Expect too (s3ha answers
//    100-continue itself, RFC 9110 §10.1.1), Content-Length and Transfer-Encoding are s3ha's own;
//  - every client authentication artefact is removed: Authorization, X-Amz-Security-Token and
//    the presigned X-Amz-* query parameters; every other query parameter is kept as sent;
//  - a header the client signed is forwarded as sent and signed upstream; one it did not sign is
//    forwarded unsigned (not in the upstream SignedHeaders), dropped or refused as
//    sigv4::classify_unsigned_header says (the verifier already refused the refused ones);
//  - `Via: 1.1 <pseudonym>` is appended (RFC 9110 §7.6.3), unsigned;
//  - payload headers per mode (below), then the request is signed with the backend's keys
//    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html) over Host,
//    the client-signed fields, X-Amz-Date and X-Amz-Content-Sha256; unless the request is
//    anonymous (allow_anonymous), which is forwarded unsigned.
//
// Payload modes (from verified_request::payload):
//  - sha256: the same hex SHA-256 is signed upstream (the backend verifies the body);
//  - unsigned_payload (also presigned URLs): UNSIGNED-PAYLOAD;
//  - STREAMING-* with aws_chunked: forward: the framing is kept (chunk signatures are re-signed
//    on the fly by the relay, seeded with this request's signature); x-amz-content-sha256,
//    Content-Encoding, x-amz-decoded-content-length and x-amz-trailer are kept;
//  - STREAMING-* with aws_chunked: decode: a plain body of x-amz-decoded-content-length bytes,
//    signed UNSIGNED-PAYLOAD, without the aws-chunked content coding, x-amz-decoded-content-length,
//    x-amz-trailer and x-amz-sdk-checksum-algorithm (s3ha verifies chunk signatures and the
//    trailer checksum itself).
//    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/crypto/checksum.hpp"
#include "s3ha/http/s3_request.hpp"
#include "s3ha/sigv4/chunk_signature.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"
#include "s3ha/sigv4/verifier.hpp"
#include "s3ha/upstream/backend.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3ha::proxy {

/// How the request body goes upstream.
enum class body_mode {
    none,            ///< no body
    plain,           ///< the downstream body bytes as they are
    chunked_forward, ///< aws-chunked framing kept, signatures re-signed (or, unsigned: as is)
    chunked_decode,  ///< aws-chunked decoded into a plain body
};

/// The downstream request as parsed: its header and how its body is framed.
struct downstream_request {
    const http::request_header<>& header;
    std::optional<std::uint64_t> content_length; ///< Content-Length, if any
    bool chunked = false; ///< HTTP Transfer-Encoding: chunked (removed by the parser)
};

struct upstream_request {
    /// The header as it goes on the wire: request line, fields, blank line.
    std::string header;
    body_mode mode = body_mode::none;
    /// Upstream body length; nullopt with a body = HTTP chunked transfer coding.
    std::optional<std::uint64_t> content_length;
    /// aws-chunked only: the variant, x-amz-decoded-content-length and the announced trailer
    /// checksum (what the chunk decoder needs).
    std::optional<sigv4::chunked_variant> variant;
    std::optional<std::uint64_t> decoded_length;
    std::optional<crypto::checksum_algorithm> trailer_checksum;
    /// The upstream request's signature; empty when unsigned (anonymous).
    std::string seed_signature;
    /// chunked_forward of a signed variant: what re-signs the chunks for the backend (its
    /// signing key, date, scope, and seed_signature).
    std::optional<sigv4::chunk_signing_context> chunk_signing;

    /// The body goes with HTTP chunked transfer coding.
    bool chunked() const noexcept { return mode != body_mode::none && !content_length; }
};

/// Builds and signs the upstream request. auth == nullptr: an anonymous request (sent unsigned).
/// Errors: header_not_signed (a header the forwarding rule refuses: callers check first, to name
/// it), invalid_argument (unsupported x-amz-trailer, bad x-amz-decoded-content-length),
/// missing_content_length (decode mode without x-amz-decoded-content-length), not_implemented
/// (an aws-chunked variant the backend cannot receive), invalid_request (bad target).
result<upstream_request>
build_upstream_request(const downstream_request& down, const s3_address& address,
                       const sigv4::verified_request* auth, const upstream::backend& target,
                       std::string_view via_pseudonym, std::chrono::system_clock::time_point now,
                       sigv4::signing_key_cache& keys);

/// The Content-Encoding value without the aws-chunked coding (other codings kept, in order);
/// empty when nothing is left.
std::string remove_aws_chunked_coding(std::string_view content_encoding);

} // namespace s3ha::proxy
