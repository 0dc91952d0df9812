// The forwarding rule for request headers (README "Authentication"). s3ha re-signs every request
// with the backend's key, usually MinIO's root user, so it vouches for every header it forwards.
// The upstream request therefore carries exactly the headers the client signed, the fields s3ha
// sets itself (Host, X-Amz-Date, X-Amz-Content-Sha256, Authorization, the framing, Via) and,
// UNSIGNED, a short list of standard headers that S3 honours without a signature and that some
// real clients never sign (minio-go and minio-js leave Content-Type out, the AWS SDK for
// JavaScript Cache-Control, every SDK User-Agent). This file decides what becomes of a header the
// client did not sign:
//  - forward: sent upstream, and not in the upstream SignedHeaders either, so the backend sees the
//    same signed/unsigned split the client made;
//  - drop:    not sent (S3 ignores headers it does not know; s3ha does not vouch for them);
//  - refuse:  the request gets 403 AccessDenied naming the header, and nothing goes upstream:
//    x-amz-* (as S3 itself answers: "There were headers present in the request which were not
//    signed") and x-minio-* (MinIO acts on them: x-minio-force-delete turns a DELETE into a
//    recursive prefix delete, x-minio-extract reads inside zip files, ...).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
#pragma once

#include "s3ha/core/net.hpp"

#include <string_view>

namespace s3ha::sigv4 {

enum class unsigned_header { forward, drop, refuse };

/// What becomes of a request header named `name` (any case) that the client did not sign.
/// anonymous: the request carries no signature at all (server.allow_anonymous) and goes upstream
/// unsigned, so the backend judges it as anonymous: x-amz-* headers are forwarded then.
/// Pure; the fields s3ha sets or removes itself (Host, framing, hop-by-hop, authentication)
/// never reach this question.
unsigned_header classify_unsigned_header(std::string_view name, http::verb method, bool anonymous);

/// The name of the first field of an anonymous request that classify_unsigned_header refuses,
/// or empty. (A signed request is checked by the verifier, which knows what was signed.)
std::string_view find_refused_anonymous_header(const http::fields& fields, http::verb method);

} // namespace s3ha::sigv4
