// s3ha's own error codes, as a boost::system error category (the pattern of Beast's
// http/error.hpp). Every failure the data plane can answer a client with has one value here;
// http/s3_error maps each to its HTTP status and S3 error Code (the only place that does).
#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace s3ha {

enum class errc {
    // 0 is success in boost::system.

    // --- authentication (sigv4::verifier) ---
    access_denied = 1,                    // no usable signature and anonymous access is off
    signature_does_not_match,             // the computed signature differs
    invalid_access_key_id,                // unknown access key
    request_time_too_skewed,              // X-Amz-Date more than 15 minutes off
    request_expired,                      // presigned URL past X-Amz-Expires
    authorization_header_malformed,       // Authorization header cannot be parsed / wrong scope
    authorization_query_parameters_error, // presigned query parameters malformed
    invalid_region,                       // credential scope region is not ours
    missing_security_header, // a required header (x-amz-date, host) is missing or unsigned
    unsupported_algorithm,   // not AWS4-HMAC-SHA256 (e.g. SigV2)
    invalid_content_sha256,  // x-amz-content-sha256 value is not recognised
    content_sha256_mismatch, // the body does not hash to x-amz-content-sha256
    expires_too_large,       // presigned X-Amz-Expires above 7 days
    header_not_signed,       // an x-amz-* or x-minio-* header the signature does not cover

    // --- aws-chunked bodies (sigv4::chunk_decoder) ---
    chunk_signature_mismatch, // a chunk or trailer signature is wrong
    chunk_bad_size,           // chunk size is not hex, or too many digits
    chunk_missing_crlf,       // CRLF expected but something else came
    chunk_bad_extension,      // chunk-signature extension missing or malformed
    chunk_too_large,          // chunk above the configured maximum
    chunk_trailing_data,      // bytes after the end of the aws-chunked body
    chunk_bad_trailer,        // trailer line malformed or not announced
    incomplete_body,          // the body ended before the framing did
    decoded_length_mismatch,  // payload length != x-amz-decoded-content-length
    bad_digest,               // a checksum (trailer or header) does not match

    // --- request handling (http, proxy) ---
    invalid_request,          // syntactically valid HTTP but not acceptable
    invalid_uri,              // a path or query with a bad %-escape
    invalid_argument,         // a header or query value is out of range
    request_header_too_large, // header section above server.max_header_size
    request_timeout,          // client too slow to send the header or the body
    method_not_allowed,
    not_implemented,
    missing_content_length,
    loop_detected,        // the request already carries our own Via
    no_such_upload,       // an upload id not issued by s3ha
    upload_backend_down,  // the backend holding a multipart upload is down or drained
    upload_ids_too_large, // a response whose upload ids must be rewritten is above the bound
    too_many_connections, // server.max_connections reached
    chunk_buffer_full,    // server.max_aws_chunk_buffer_per_worker is in use
    // Ambiguities s3ha refuses rather than forward (what is verified must be what is forwarded):
    duplicate_signed_header,            // a signed header sent in more than one field
    duplicate_query_parameter,          // a query parameter name given twice (signed requests)
    semicolon_in_query,                 // a raw ';' in the query (Go drops such a parameter)
    connection_names_end_to_end_header, // a Connection token that is not a hop-by-hop header
    transfer_encoding_on_http10,        // Transfer-Encoding on an HTTP/1.0 request
    unsupported_transfer_encoding,      // a Transfer-Encoding other than exactly `chunked`

    // --- upstream (backends) ---
    no_healthy_backend, // every backend is down or drained
    upstream_connect_failed,
    upstream_tls_failed,                // the TLS handshake with a backend failed
    upstream_certificate_verify_failed, // a backend's certificate (chain or name) did not verify
    upstream_timeout,
    upstream_protocol_error,
    slow_down, // a retryable failure after the body was consumed

    internal_error, // a bug: should never be seen
};

/// The error category of s3ha::errc ("s3ha").
const boost::system::error_category& s3ha_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), s3ha_category()};
}

} // namespace s3ha

template <> struct boost::system::is_error_code_enum<s3ha::errc> : std::true_type {};
