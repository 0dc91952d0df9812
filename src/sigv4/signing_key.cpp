#include "s3ha/sigv4/signing_key.hpp"

#include "s3ha/crypto/sha256.hpp"

namespace s3ha::sigv4 {

std::string derive_signing_key(std::string_view secret_key, std::string_view date,
                               std::string_view region, std::string_view service) {
    std::string k = "AWS4";
    k.append(secret_key);
    auto k_date = crypto::hmac_sha256(k, date);
    auto k_region = crypto::hmac_sha256(crypto::as_bytes(k_date), region);
    auto k_service = crypto::hmac_sha256(crypto::as_bytes(k_region), service);
    auto k_signing = crypto::hmac_sha256(crypto::as_bytes(k_service), "aws4_request");
    return std::string(crypto::as_bytes(k_signing));
}

} // namespace s3ha::sigv4
