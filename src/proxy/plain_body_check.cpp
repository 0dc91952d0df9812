#include "s3ha/proxy/plain_body_check.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/encoding.hpp"

#include <openssl/crypto.h>

namespace s3ha::proxy {

plain_body_check::plain_body_check(std::optional<std::uint64_t> length,
                                   std::optional<std::string> expected_sha256_hex)
    : length_(length), expected_(std::move(expected_sha256_hex)) {
    if (expected_) {
        hasher_.emplace();
    } else {
        verified_ = true; // nothing to verify at the end: nothing held back
    }
}

error_code plain_body_check::feed(std::string_view in) {
    if (ec_) return ec_;
    if (in.empty()) return {};
    if (length_ && in.size() > *length_ - fed_) {
        ec_ = make_error_code(errc::invalid_request);
        return ec_;
    }
    fed_ += in.size();
    if (hasher_) hasher_->update(in);
    if (length_ || !hasher_) {
        pending_ = in;
        ends_body_ = length_ && fed_ == *length_;
        if (ends_body_) held_ = in.back(); // released after finish(), when `in` may be gone
        return {};
    }
    // HTTP-chunked and hashed: any piece may be the last, so its last byte must survive the
    // next read into the caller's buffer. A rare path (S3 clients send a Content-Length).
    // What was sent is dropped first: the held-back byte is never consumed before finish(), so
    // waiting for copy_ to drain completely would keep the whole body.
    copy_.erase(0, copy_pos_);
    copy_pos_ = 0;
    copy_.append(in);
    return {};
}

error_code plain_body_check::finish() {
    if (ec_) return ec_;
    if (length_ && fed_ != *length_) {
        ec_ = make_error_code(errc::incomplete_body);
        return ec_;
    }
    if (hasher_) {
        const auto digest = crypto::to_hex(crypto::as_bytes(hasher_->finish()));
        if (digest.size() != expected_->size() ||
            CRYPTO_memcmp(digest.data(), expected_->data(), digest.size()) != 0) {
            ec_ = make_error_code(errc::content_sha256_mismatch);
            return ec_;
        }
    }
    verified_ = true;
    return {};
}

std::string_view plain_body_check::ready() const noexcept {
    if (ec_) return {};
    if (!copy_.empty()) {
        return held_back(std::string_view(copy_).substr(copy_pos_), verified_);
    }
    if (ends_body_ && verified_ && pending_.size() == 1) return {&held_, 1};
    return held_back(pending_, verified_ || !ends_body_);
}

void plain_body_check::consume(std::size_t n) noexcept {
    if (!copy_.empty()) {
        copy_pos_ += n;
        return;
    }
    pending_.remove_prefix(n);
}

} // namespace s3ha::proxy
