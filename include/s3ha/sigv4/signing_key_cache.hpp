// A cache of derived SigV4 signing keys, so a request costs one HMAC instead of five.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
//
// Thread affinity: NOT thread-safe. Keep one per worker thread (shared-nothing workers); it is
// cheap, and a key is re-derived at most once per (access key, day, region, service) per thread.
#pragma once

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
                           std::string_view service);

    std::size_t size() const noexcept { return entries_.size(); }
    void clear() noexcept { entries_.clear(); }

private:
    struct entry {
        std::string secret_key;
        std::string signing_key;
    };
    std::size_t max_entries_;
    std::string scratch_; // lookup key, reused to avoid an allocation per request
    std::unordered_map<std::string, entry> entries_;
};

} // namespace s3ha::sigv4
