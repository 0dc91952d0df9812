#include "s3ha/sigv4/chunk_decoder.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/crypto/encoding.hpp"

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_signature_prefix = "chunk-signature=";
constexpr std::string_view k_trailer_signature = "x-amz-trailer-signature";
constexpr std::size_t k_signature_hex = 64;
constexpr unsigned k_max_size_digits = 16; // fits an uint64_t: no overflow possible
// Unsigned chunk extensions are ignored but bounded; real clients send none.
constexpr std::size_t k_max_unsigned_extension = 1024;
// The longest legitimate trailer line is x-amz-trailer-signature (88 bytes) or a SHA256
// checksum (21 + 1 + 44); leave room for whitespace and longer future names.
constexpr std::size_t k_max_trailer_line = 256;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

} // namespace

chunk_decoder::chunk_decoder(chunked_variant variant, std::optional<chunk_signing_context> signing,
                             std::optional<crypto::checksum_algorithm> trailer_checksum,
                             std::optional<std::uint64_t> decoded_length,
                             std::size_t max_chunk_size)
    : variant_(variant), signed_(is_signed(variant)), signing_(std::move(signing)),
      trailer_alg_(trailer_checksum), expected_length_(decoded_length),
      max_chunk_size_(max_chunk_size) {
    if (signed_ && (!signing_ || !is_valid(*signing_))) {
        fail(errc::internal_error);
        return;
    }
    if (trailer_alg_ && variant_ == chunked_variant::signed_payload) {
        fail(errc::internal_error);
        return;
    }
    if (signed_) {
        previous_signature_ = signing_->seed_signature;
    }
    if (trailer_alg_) {
        checksum_.emplace(*trailer_alg_);
    }
}

boost::system::error_code chunk_decoder::fail(boost::system::error_code ec) {
    if (!ec_) {
        ec_ = ec;
    }
    state_ = state::failed;
    // Drop whatever was held back: none of it may ever be released (and free its memory).
    std::string().swap(chunk_);
    return ec_;
}

boost::system::error_code chunk_decoder::feed(std::string_view in, chunk_sink& out) {
    if (ec_) {
        return ec_;
    }
    std::size_t i = 0;
    while (i < in.size()) {
        if (state_ == state::done) {
            return fail(errc::chunk_trailing_data);
        }
        if (state_ == state::data) {
            const auto n = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(in.size() - i)));
            take_data(in.substr(i, n), out);
            remaining_ -= n;
            i += n;
            if (remaining_ == 0) {
                state_ = state::data_cr;
            }
            continue;
        }
        if (auto ec = step(in[i++], out)) {
            return ec;
        }
        if (state_ == state::done) {
            // Only announce the end when nothing follows it in this call.
            if (i < in.size()) {
                return fail(errc::chunk_trailing_data);
            }
            if (trailer_seen_) {
                out.on_trailer(trailer_name_, trailer_value_);
            }
            out.on_end();
        }
    }
    return {};
}

boost::system::error_code chunk_decoder::finish(chunk_sink& /*out*/) {
    if (ec_) {
        return ec_;
    }
    if (state_ == state::done) {
        return {};
    }
    return fail(errc::incomplete_body);
}

boost::system::error_code chunk_decoder::step(char c, chunk_sink& out) {
    switch (state_) {
    case state::size: {
        const int v = hex_digit(c);
        if (v >= 0) {
            return on_size_digit(v);
        }
        if (size_digits_ == 0) {
            return fail(errc::chunk_bad_size);
        }
        if (c == ';') {
            extension_.clear();
            extension_len_ = 0;
            state_ = state::extension;
            return {};
        }
        if (c == '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        if (c == '\r') {
            if (signed_) {
                return fail(errc::chunk_bad_extension); // chunk-signature= is mandatory
            }
            state_ = state::size_lf;
            return {};
        }
        return fail(errc::chunk_bad_size);
    }
    case state::extension:
        if (c == '\r') {
            if (signed_) {
                const std::string_view ext = extension_;
                if (ext.size() != k_signature_prefix.size() + k_signature_hex ||
                    ext.substr(0, k_signature_prefix.size()) != k_signature_prefix ||
                    !is_lower_hex(ext.substr(k_signature_prefix.size()))) {
                    return fail(errc::chunk_bad_extension);
                }
            }
            state_ = state::size_lf;
            return {};
        }
        if (c == '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        if (signed_) {
            if (extension_.size() >= k_signature_prefix.size() + k_signature_hex) {
                return fail(errc::chunk_bad_extension);
            }
            extension_.push_back(c);
        } else if (++extension_len_ > k_max_unsigned_extension) {
            return fail(errc::chunk_bad_extension);
        }
        return {};
    case state::size_lf:
        if (c != '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        return on_size_line(out);
    case state::data_cr:
        if (c != '\r') {
            return fail(errc::chunk_missing_crlf);
        }
        state_ = state::data_lf;
        return {};
    case state::data_lf:
        if (c != '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        return on_chunk_complete(out);
    case state::final_cr:
        if (c != '\r') {
            return fail(errc::chunk_missing_crlf);
        }
        state_ = state::final_lf;
        return {};
    case state::final_lf:
        if (c != '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        state_ = state::done;
        return {};
    case state::trailer_line:
        if (c == '\r') {
            state_ = state::trailer_lf;
            return {};
        }
        if (c == '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        if (line_.size() >= k_max_trailer_line) {
            return fail(errc::chunk_bad_trailer);
        }
        line_.push_back(c);
        return {};
    case state::trailer_lf:
        if (c != '\n') {
            return fail(errc::chunk_missing_crlf);
        }
        return on_trailer_line();
    case state::data:
    case state::done:
    case state::failed: break;
    }
    return fail(errc::internal_error); // unreachable: feed handles these states
}

boost::system::error_code chunk_decoder::on_size_digit(int value) {
    if (++size_digits_ > k_max_size_digits) {
        return fail(errc::chunk_bad_size);
    }
    size_ = (size_ << 4) | static_cast<std::uint64_t>(value);
    // More digits never make the size smaller, so these limits can be checked digit by digit,
    // long before any of the chunk arrives.
    if (signed_ && size_ > max_chunk_size_) {
        return fail(errc::chunk_too_large);
    }
    if (expected_length_ && size_ > *expected_length_ - announced_) {
        return fail(errc::decoded_length_mismatch);
    }
    return {};
}

boost::system::error_code chunk_decoder::on_size_line(chunk_sink& out) {
    if (size_ > 0) {
        if (signed_) {
            // Admitted whole before its first byte (or refused), and allocated at once: appending
            // to a growing string would briefly need up to twice the chunk while it reallocates.
            if (auto ec = out.on_chunk_start(size_)) {
                return fail(ec);
            }
            chunk_.reserve(static_cast<std::size_t>(size_));
        }
        announced_ += size_;
        remaining_ = size_;
        state_ = state::data;
        return {};
    }
    // The final, zero-sized chunk.
    if (expected_length_ && announced_ != *expected_length_) {
        return fail(errc::decoded_length_mismatch);
    }
    if (signed_) {
        const std::string_view got = std::string_view(extension_).substr(k_signature_prefix.size());
        const std::string want =
            chunk_signature(*signing_, previous_signature_, crypto::sha256(std::string_view{}));
        if (!crypto::constant_time_equal(got, want)) {
            return fail(errc::chunk_signature_mismatch);
        }
        previous_signature_.assign(got);
    }
    if (checksum_) {
        computed_digest_ = checksum_->finish();
    }
    line_.clear();
    state_ = variant_ == chunked_variant::signed_payload ? state::final_cr : state::trailer_line;
    return {};
}

void chunk_decoder::take_data(std::string_view piece, chunk_sink& out) {
    if (piece.empty()) {
        return;
    }
    if (signed_) {
        // Held back until the chunk's signature is verified; hashed as it arrives.
        hasher_.update(piece);
        chunk_.append(piece);
        return;
    }
    release(piece, out);
}

void chunk_decoder::release(std::string_view piece, chunk_sink& out) {
    if (checksum_) {
        checksum_->update(piece);
    }
    released_ += piece.size();
    out.on_data(piece);
}

boost::system::error_code chunk_decoder::on_chunk_complete(chunk_sink& out) {
    const auto chunk_size = static_cast<std::size_t>(size_);
    if (signed_) {
        const std::string_view got = std::string_view(extension_).substr(k_signature_prefix.size());
        const std::string want = chunk_signature(*signing_, previous_signature_, hasher_.finish());
        if (!crypto::constant_time_equal(got, want)) {
            return fail(errc::chunk_signature_mismatch);
        }
        previous_signature_.assign(got);
        release(chunk_, out);
        // Freed, not kept for the next chunk: a client that stops between two chunks must not
        // hold a chunk's worth of memory that no budget counts any more.
        std::string().swap(chunk_);
        out.on_chunk_end(chunk_size, previous_signature_);
    } else {
        out.on_chunk_end(chunk_size, {});
    }
    size_ = 0;
    size_digits_ = 0;
    state_ = state::size;
    return {};
}

boost::system::error_code chunk_decoder::check_trailer_checksum() {
    if (trailer_alg_ && !trailer_seen_) {
        return fail(errc::chunk_bad_trailer); // announced in x-amz-trailer but not sent
    }
    if (trailer_seen_ && !crypto::constant_time_equal(trailer_digest_, computed_digest_)) {
        return fail(errc::bad_digest);
    }
    return {};
}

boost::system::error_code chunk_decoder::on_trailer_line() {
    const std::string_view line = line_;
    state_ = state::trailer_line;
    if (line.empty()) {
        if (variant_ == chunked_variant::unsigned_payload_trailer || trailer_signature_seen_) {
            if (auto ec = check_trailer_checksum()) {
                return ec;
            }
            state_ = state::done;
            return {};
        }
        // signed_payload_trailer before its x-amz-trailer-signature. The SDKs (and MinIO) put the
        // trailers right after the zero chunk's size line; the example of
        // sigv4-streaming-trailers.html, as other implementations' tests reproduce it, has an
        // empty line there ("0;chunk-signature=...\r\n\r\n"). The trailer signature is still
        // required after it, so tolerating one such line cannot end the body early.
        if (!trailer_seen_ && !blank_tolerated_) {
            blank_tolerated_ = true;
            return {};
        }
        return fail(errc::chunk_bad_trailer); // x-amz-trailer-signature missing
    }
    if (trailer_signature_seen_) {
        return fail(errc::chunk_bad_trailer); // only the empty line may follow the signature
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return fail(errc::chunk_bad_trailer);
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));

    if (signed_ && iequals(name, k_trailer_signature)) {
        if (value.size() != k_signature_hex || !is_lower_hex(value)) {
            return fail(errc::chunk_bad_trailer);
        }
        const std::string want =
            trailer_signature(*signing_, previous_signature_, canonical_trailers_);
        if (!crypto::constant_time_equal(value, want)) {
            return fail(errc::chunk_signature_mismatch);
        }
        trailer_signature_seen_ = true;
        line_.clear();
        return check_trailer_checksum();
    }

    if (!trailer_alg_ || trailer_seen_ ||
        !iequals(name, crypto::checksum_header_name(*trailer_alg_))) {
        return fail(errc::chunk_bad_trailer); // not announced, or sent twice
    }
    auto digest = crypto::base64_decode(value);
    if (value.size() != crypto::checksum_base64_size(*trailer_alg_) || !digest ||
        digest->size() != crypto::checksum_digest_size(*trailer_alg_)) {
        return fail(errc::chunk_bad_trailer);
    }
    trailer_seen_ = true;
    trailer_name_.assign(name);
    trailer_value_.assign(value);
    trailer_digest_ = std::move(*digest);
    if (signed_) {
        // The trailer signature covers the lines as sent, each ended by "\n".
        canonical_trailers_.append(line).append("\n");
    }
    line_.clear();
    // Unsigned: the payload is complete, compare now. Signed: only once the signature vouches for
    // the value, so that a forged trailer reports as a signature error.
    if (!signed_ && !crypto::constant_time_equal(trailer_digest_, computed_digest_)) {
        return fail(errc::bad_digest);
    }
    return {};
}

} // namespace s3ha::sigv4
