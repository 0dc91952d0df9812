// Verification of a downstream (client) request's AWS Signature Version 4, header or presigned.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
//
// Which s3ha::errc each rule fails with (http/s3_error maps it to S3's status and Code):
//   both Authorization header and X-Amz-Algorithm query      -> invalid_argument
//   algorithm not AWS4-HMAC-SHA256 (SigV2 `AWS AKID:sig`, SigV2 query, SigV4a)
//                                                             -> unsupported_algorithm
//   Authorization unparsable, component missing/duplicated/unknown, bad scope shape, service not
//   s3, terminator not aws4_request, scope date != X-Amz-Date date, `host` not signed, a signed
//   header absent, SignedHeaders empty/duplicated            -> authorization_header_malformed
//       (presigned: the same, and a missing/duplicated/undecodable X-Amz-* parameter, an
//        X-Amz-Expires that is not a number or is 0     -> authorization_query_parameters_error)
//   unknown access key                                        -> invalid_access_key_id
//   scope region is not ours                                  -> invalid_region
//   header auth: X-Amz-Date missing or not YYYYMMDDTHHMMSSZ   -> access_denied (S3 answers 403
//       AccessDenied "AWS authentication requires a valid Date or x-amz-date header"; the
//       legacy `Date` header is not accepted as a substitute)
//   header auth: X-Amz-Date more than 15 min from now         -> request_time_too_skewed
//   presigned: X-Amz-Expires > 604800                         -> expires_too_large
//   presigned: now > X-Amz-Date + X-Amz-Expires, or X-Amz-Date more than 15 min ahead of now
//                                                             -> request_expired
//   an unsigned header the forwarding rule refuses (sigv4/header_rule.hpp: x-amz-*,
//   x-minio-*), both kinds                                    -> header_not_signed
//   a signed header sent in more than one field               -> duplicate_signed_header
//   a raw ';' in the query                                    -> semicolon_in_query
//   a query parameter name given twice (compared decoded)     -> duplicate_query_parameter
//   header auth: x-amz-content-sha256 missing, repeated, or not 64 hex / UNSIGNED-PAYLOAD /
//   one of the three STREAMING-* values (also a signed one on a presigned request)
//                                                             -> invalid_content_sha256
//   a path or query with a bad %-escape                       -> invalid_uri
//   signature differs (constant-time compare)                 -> signature_does_not_match
// Cheap checks run before any hashing. Error messages never carry secrets or signatures.
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace s3ha::sigv4 {

enum class auth_kind { header, presigned };

enum class payload_kind {
    sha256,                    // x-amz-content-sha256 is the hex SHA-256 of the body
    unsigned_payload,          // UNSIGNED-PAYLOAD (always, for presigned URLs without one)
    streaming_signed,          // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
    streaming_signed_trailer,  // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
    streaming_unsigned_trailer // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

/// What later stages need from a verified request. Never holds the secret key.
struct verified_request {
    auth_kind kind = auth_kind::header;
    std::string access_key;
    payload_kind payload = payload_kind::unsigned_payload;
    /// Lower-case hex when payload == sha256, else the literal x-amz-content-sha256 value
    /// (UNSIGNED-PAYLOAD for a presigned request that did not sign one).
    std::string payload_hash;
    std::string amz_date;  // YYYYMMDDTHHMMSSZ
    std::string scope;     // date/region/s3/aws4_request
    std::string signature; // hex; the seed signature of an aws-chunked body
    /// The names the signature covers: lower case, sorted, ';'-separated (SignedHeaders).
    std::string signed_headers;

    /// True when the signature covers the header `name` (any case).
    bool signs(std::string_view name) const noexcept;
    /// The 32 raw bytes of the signing key, to verify aws-chunked chunk and trailer signatures;
    /// set for the signed aws-chunked payloads only (STREAMING-AWS4-HMAC-SHA256-*), else empty.
    std::string signing_key;
};

/// True when the request carries any signature: an Authorization header, or the X-Amz-Algorithm,
/// X-Amz-Signature or SigV2 `Signature` query parameter. False means an anonymous request.
bool has_signature(const http::request_header<>& req);

/// Verifies client signatures against a fixed credential set. Immutable after construction, so
/// one instance may be shared by all threads (the key cache is per thread and passed in).
class verifier {
public:
    /// Max distance between X-Amz-Date and now (header auth), and how far in the future a
    /// presigned X-Amz-Date may be.
    static constexpr std::chrono::minutes max_skew{15};
    /// Longest presigned validity S3 accepts (7 days).
    static constexpr long long max_expires_seconds = 604800;

    /// credentials: access key -> secret key. region: the one clients must sign for. The service
    /// is always "s3".
    verifier(std::string region, std::unordered_map<std::string, std::string> credentials);

    /// Checks req (a header as received; req.target() is the raw request-target) at time now.
    /// On success returns what later stages need; on failure the errc listed at the top, and,
    /// when the error names a header or parameter (header_not_signed, duplicate_signed_header,
    /// duplicate_query_parameter), that name in *detail.
    result<verified_request> verify(const http::request_header<>& req,
                                    std::chrono::system_clock::time_point now,
                                    signing_key_cache& keys, std::string* detail = nullptr) const;

    const std::string& region() const noexcept { return region_; }

private:
    std::string region_;
    std::string service_ = "s3";
    // Transparent hashing: look up a string_view access key without building a std::string.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::string, key_hash, std::equal_to<>> credentials_;
};

} // namespace s3ha::sigv4
