// The body_transform of a plain (not aws-chunked) request body: the bytes go upstream as they
// are, after a check of their length and, when the client signed the payload (a hex
// x-amz-content-sha256), of their SHA-256. s3ha verifies that hash itself instead of trusting the
// backend to (some do not): the last byte of the body stays held back until the hash matched, so
// on a mismatch the caller aborts the upstream connection and the backend never completes the
// object. The hash still goes upstream as signed (defence in depth).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// Thread affinity: one per request.
#pragma once

#include "s3ha/crypto/sha256.hpp"
#include "s3ha/proxy/body_transform.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace s3ha::proxy {

class plain_body_check final : public body_transform {
public:
    /// length: the body length (Content-Length); nullopt when the client sent it HTTP-chunked.
    /// expected_sha256_hex: the signed payload hash (64 hex digits), nullopt when the payload is
    /// unsigned (then nothing needs holding back).
    plain_body_check(std::optional<std::uint64_t> length,
                     std::optional<std::string> expected_sha256_hex);

    /// With a known length, zero-copy: ready() refers to `in` until drained (the held-back last
    /// byte is copied: `in` may be gone by finish()). Errors: invalid_request (more bytes than
    /// the length).
    error_code feed(std::string_view in) override;
    /// Errors: incomplete_body (fewer bytes than the length), content_sha256_mismatch.
    error_code finish() override;
    bool done() const noexcept override { return verified_ && !ec_; }
    std::string_view ready() const noexcept override;
    void consume(std::size_t n) noexcept override;

    /// Body bytes fed so far.
    std::uint64_t fed() const noexcept { return fed_; }
    /// Bytes copied into this object's own storage: only an HTTP-chunked, hashed body is copied
    /// (its unsent output, the held-back byte included). Once ready() has been drained, at most
    /// one fed piece plus that byte: memory stays bounded whatever the body's size.
    std::size_t held_bytes() const noexcept { return copy_.size(); }

private:
    std::optional<std::uint64_t> length_;
    std::optional<std::string> expected_;
    std::optional<crypto::sha256_hasher> hasher_;
    std::string_view pending_; // known length: the unsent part of the last input
    bool ends_body_ = false;   // pending_ holds the body's last byte
    char held_ = 0;            // a copy of that byte
    std::string copy_;         // unknown length: unsent output kept across feeds (>= the held byte)
    std::size_t copy_pos_ = 0;
    std::uint64_t fed_ = 0;
    bool verified_ = false;
    error_code ec_;
};

} // namespace s3ha::proxy
