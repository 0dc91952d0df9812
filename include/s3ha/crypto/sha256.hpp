// SHA-256 and HMAC-SHA256 on OpenSSL 3 (the only OpenSSL user besides TLS, with crypto/checksum).
// Thread affinity: the free functions are thread-safe (their contexts live on the stack); a
// sha256_hasher belongs to one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace s3ha::crypto {

using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of data.
sha256_digest sha256(std::string_view data);
/// Lower-case hex SHA-256 of data (the form SigV4 uses).
std::string sha256_hex(std::string_view data);
/// HMAC-SHA256(key, data); key and data are raw bytes.
sha256_digest hmac_sha256(std::string_view key, std::string_view data);

/// HMAC-SHA256 under one key, with the SHA-256 states after the padded key blocks computed once
/// (the precomputation RFC 2104 §4 describes): each mac() then hashes only the data, two
/// compressions fewer than hmac_sha256(). For keys that sign many messages (SigV4 signing keys).
class hmac_sha256_key {
public:
    explicit hmac_sha256_key(std::string_view key);
    /// Equal to hmac_sha256(key, data).
    sha256_digest mac(std::string_view data) const;

private:
    // Two OpenSSL SHA256_CTX values, kept opaque so OpenSSL stays out of this header (sha256.cpp
    // checks the size).
    static constexpr std::size_t k_state_size = 112;
    alignas(8) std::array<unsigned char, k_state_size> inner_{};
    alignas(8) std::array<unsigned char, k_state_size> outer_{};
};

/// The hex SHA-256 of the empty string, e3b0c442...
inline constexpr std::string_view empty_sha256_hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Incremental SHA-256 for bodies that arrive in pieces.
class sha256_hasher {
public:
    sha256_hasher();
    ~sha256_hasher();
    sha256_hasher(sha256_hasher&&) noexcept;
    sha256_hasher& operator=(sha256_hasher&&) noexcept;
    sha256_hasher(const sha256_hasher&) = delete;
    sha256_hasher& operator=(const sha256_hasher&) = delete;

    void update(std::string_view data);
    /// The digest of everything fed since construction or the last finish(); resets the hasher.
    sha256_digest finish();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// View a digest as bytes for hmac/hex helpers.
inline std::string_view as_bytes(const sha256_digest& d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

} // namespace s3ha::crypto
