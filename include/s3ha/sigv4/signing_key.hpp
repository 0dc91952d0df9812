// SigV4 signing-key derivation.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
#pragma once

#include <string>
#include <string_view>

namespace s3ha::sigv4 {

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
/// as 32 raw bytes. date is YYYYMMDD.
std::string derive_signing_key(std::string_view secret_key, std::string_view date,
                               std::string_view region, std::string_view service);

} // namespace s3ha::sigv4
