// Incremental S3 object checksums: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256, in the form S3's
// x-amz-checksum-<algorithm> headers and trailers carry (base64 of the big-endian digest).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
// Thread affinity: a checksum object belongs to one thread at a time; the free functions are
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace s3ha::crypto {

enum class checksum_algorithm : std::uint8_t { crc32, crc32c, crc64nvme, sha1, sha256 };

/// The algorithm named by a header or trailer name such as "x-amz-checksum-crc32" (ASCII
/// case-insensitive); nullopt for any other name.
std::optional<checksum_algorithm> checksum_algorithm_from_header(std::string_view header_name);
/// The algorithm named as x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm spell it
/// ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"; ASCII case-insensitive).
std::optional<checksum_algorithm> checksum_algorithm_from_name(std::string_view name);
/// The lower-case header name, e.g. "x-amz-checksum-crc64nvme".
std::string_view checksum_header_name(checksum_algorithm alg) noexcept;
/// The size of the raw digest in bytes (4, 4, 8, 20, 32).
std::size_t checksum_digest_size(checksum_algorithm alg) noexcept;
/// The length of the base64 form of the digest (8, 8, 12, 28, 44).
std::size_t checksum_base64_size(checksum_algorithm alg) noexcept;

/// Table-driven CRC-32C (Castagnoli, reflected poly 0x82F63B78) and CRC-64/NVME (reflected poly
/// 0x9A6C9329AC4BC9B5, init and xorout all ones). Debian 12 packages no C++ library for either, so
/// these are our own slicing-by-8 implementations. `crc` is the value returned by the previous
/// call (0 to start); the result is the finished CRC of everything fed so far.
std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data) noexcept;
std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data) noexcept;

/// One running checksum. Feeding the data in pieces gives the same digest as in one piece.
class checksum {
public:
    explicit checksum(checksum_algorithm alg);
    ~checksum();
    checksum(checksum&&) noexcept;
    checksum& operator=(checksum&&) noexcept;
    checksum(const checksum&) = delete;
    checksum& operator=(const checksum&) = delete;

    checksum_algorithm algorithm() const noexcept { return alg_; }

    void update(std::string_view data);
    /// The raw big-endian digest of everything fed since construction or the last finish();
    /// resets the checksum.
    std::string finish();
    /// base64(finish()), the x-amz-checksum-* value.
    std::string finish_base64();

private:
    struct evp_state;

    checksum_algorithm alg_;
    std::uint64_t crc_ = 0;
    std::unique_ptr<evp_state> evp_; // SHA1 / SHA256 only
};

} // namespace s3ha::crypto
