// Signing of an upstream request (to a backend) with the backend's own credentials, after the
// client's authentication has been verified and removed.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/sigv4/canonical.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace s3ha::sigv4 {

/// The client's authentication, which never goes upstream: the Authorization and
/// X-Amz-Security-Token headers, and the presigned query parameters X-Amz-Algorithm,
/// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature and
/// X-Amz-Security-Token (names compared percent-decoded).
bool is_client_auth_header(const http::fields::value_type& field);
/// Appends the other parameters of a raw query, in order and byte for byte, the first after '?'
/// and the others after '&' (nothing when none is left; empty pieces are dropped). True when it
/// left out an authentication parameter (else the caller may keep the query exactly as sent).
bool append_query_without_client_auth(std::string& out, std::string_view raw_query);

/// What a backend needs to be signed for.
struct signing_params {
    std::string access_key;
    std::string secret_key;
    std::string region;
    std::string host; // the Host header value the backend expects, e.g. "10.0.0.5:9000"
};

/// True for the headers an upstream signature covers besides Host (any case): every x-amz-*
/// header (what S3 needs signed), content-md5 and content-type (what protects the body's meaning).
bool is_signed_upstream(std::string_view name);

/// A request as the signer sees it; every view must stay valid during the call.
struct request_to_sign {
    std::string_view method;
    std::string_view target;         ///< raw origin-form request-target (path and query)
    std::span<header_field> headers; ///< the headers to sign, Host included; sorted in place
    std::string_view payload_hash;   ///< the X-Amz-Content-Sha256 value sent with it
    std::string_view amz_date;       ///< the X-Amz-Date value sent with it (YYYYMMDDTHHMMSSZ)
};

/// Appends the Authorization header value of req (header auth, service s3) to `out` and returns
/// the signature. Allocates nothing once its per-thread buffers have grown. Fails with
/// invalid_uri only when the target has a bad %-escape.
result<signature_chars> append_authorization(std::string& out, const request_to_sign& req,
                                             const signing_params& p, signing_key_cache& keys);

/// Signs req for a backend (header auth, service s3): sets Host to p.host, X-Amz-Date from now
/// and X-Amz-Content-Sha256 to payload_hash (the hex SHA-256, UNSIGNED-PAYLOAD or the STREAMING-*
/// value the body is forwarded with), signs host, content-md5, content-type and every x-amz-*
/// header present, and sets Authorization. Returns the hex signature (the seed signature of a
/// re-signed aws-chunked body). Fails with invalid_uri only when the target has a bad
/// %-escape (a verified request never has one).
result<std::string> sign_request(http::request_header<>& req, const signing_params& p,
                                 std::string_view payload_hash,
                                 std::chrono::system_clock::time_point now,
                                 signing_key_cache& keys);

} // namespace s3ha::sigv4
