// A cache of derived SigV4 signing keys, so a request costs one HMAC instead of five.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
//
// Thread affinity: NOT thread-safe. Keep one per worker thread (shared-nothing workers); it is
// cheap, and a key is re-derived at most once per (access key, day, region, service) per thread.
#pragma once

#include "s3ha/crypto/sha256.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace s3ha::sigv4 {

class signing_key_cache {
public:
    /// Above max_entries the whole cache is dropped before the next insertion (keys roll over
    /// daily, so a simple clear is enough to bound memory).
    explicit signing_key_cache(std::size_t max_entries = 4096);

    /// The 32 raw bytes of the signing key for (access_key, date, region, service) derived from
    /// secret_key; derived on a miss, or when the cached entry came from another secret (the
    /// configuration was reloaded). The reference stays valid until the next call.
    const std::string& get(std::string_view access_key, std::string_view secret_key,
                           std::string_view date, std::string_view region,
                           std::string_view service) {
        return find(access_key, secret_key, date, region, service).signing_key;
    }
    /// The same key, ready to sign strings (signature_of); same lifetime as get()'s.
    const crypto::hmac_sha256_key& hmac(std::string_view access_key, std::string_view secret_key,
                                        std::string_view date, std::string_view region,
                                        std::string_view service) {
        return find(access_key, secret_key, date, region, service).hmac;
    }

    std::size_t size() const noexcept { return entries_.size(); }
    void clear() noexcept { entries_.clear(); }

private:
    struct entry {
        entry(std::string_view secret, std::string key)
            : secret_key(secret), signing_key(std::move(key)), hmac(signing_key) {}
        std::string secret_key;
        std::string signing_key;
        crypto::hmac_sha256_key hmac; ///< of signing_key
    };
    entry& find(std::string_view access_key, std::string_view secret_key, std::string_view date,
                std::string_view region, std::string_view service);

    std::size_t max_entries_;
    std::string scratch_; // lookup key, reused to avoid an allocation per request
    std::unordered_map<std::string, entry> entries_;
};

} // namespace s3ha::sigv4
