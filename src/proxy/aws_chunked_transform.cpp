#include "s3ha/proxy/aws_chunked_transform.hpp"

#include "s3ha/core/errc.hpp"

namespace s3ha::proxy {

namespace {

sigv4::chunked_variant variant_of(const upstream_request& up) {
    return up.variant.value_or(sigv4::chunked_variant::unsigned_payload_trailer);
}

// Output storage above this is given back once sent (a signed chunk's copy can be up to
// max_aws_chunk_size); below it, it is kept for the next pieces (the unsigned modes produce at
// most one fed piece at a time: the session's 256 KiB relay buffer).
constexpr std::size_t k_kept_output_capacity = std::size_t{1} << 20;

} // namespace

aws_chunked_transform::aws_chunked_transform(const upstream_request& up,
                                             std::optional<sigv4::chunk_signing_context> downstream,
                                             std::size_t max_chunk_size, byte_budget* chunk_budget)
    : mode_(up.mode), passthrough_(up.mode == body_mode::chunked_forward && up.variant &&
                                   !sigv4::is_signed(*up.variant)),
      decoder_(variant_of(up), std::move(downstream), up.trailer_checksum, up.decoded_length,
               max_chunk_size),
      chunk_budget_(chunk_budget) {
    const bool chunked_mode =
        mode_ == body_mode::chunked_forward || mode_ == body_mode::chunked_decode;
    if (!up.variant || !chunked_mode) {
        ec_ = make_error_code(errc::internal_error);
        return;
    }
    if (mode_ == body_mode::chunked_forward && !passthrough_) {
        if (!up.chunk_signing) {
            ec_ = make_error_code(errc::internal_error);
            return;
        }
        encoder_.emplace(*up.variant, *up.chunk_signing);
        if (!encoder_->ok()) ec_ = make_error_code(errc::internal_error);
    }
}

aws_chunked_transform::~aws_chunked_transform() {
    release_reservation();
}

void aws_chunked_transform::release_reservation() noexcept {
    if (chunk_budget_ != nullptr) chunk_budget_->release(reserved_);
    reserved_ = 0;
}

error_code aws_chunked_transform::feed(std::string_view in) {
    if (ec_) return ec_;
    if (in.empty()) return {};
    ec_ = decoder_.feed(in, *this);
    if (ec_) {
        release_reservation(); // the decoder dropped what it held
        return ec_;
    }
    // The unsigned variant has no signatures to rewrite: the framing goes on byte for byte,
    // after the decoder accepted it.
    if (passthrough_) append(in);
    return {};
}

error_code aws_chunked_transform::finish() {
    if (ec_) return ec_;
    ec_ = decoder_.finish(*this);
    if (ec_) release_reservation();
    return ec_;
}

std::string_view aws_chunked_transform::ready() const noexcept {
    if (ec_) return {};
    return held_back(std::string_view(out_.data() + out_pos_, out_.size() - out_pos_),
                     decoder_.done());
}

void aws_chunked_transform::consume(std::size_t n) noexcept {
    out_pos_ += n;
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
    // All sent but the held-back byte: a large allocation (a signed chunk's copy) is given back
    // instead of staying with the request until its end.
    if (out_.size() - out_pos_ <= 1 && out_.capacity() > k_kept_output_capacity) {
        std::string rest(out_, out_pos_);
        out_.swap(rest);
        out_pos_ = 0;
    }
}

void aws_chunked_transform::append(std::string_view bytes) {
    // What was sent is dropped first. The held-back byte is never consumed before the end, so
    // waiting for out_ to drain completely would keep the whole body.
    if (out_pos_ > 0) {
        out_.erase(0, out_pos_);
        out_pos_ = 0;
    }
    out_.append(bytes);
    produced_ += bytes.size();
}

error_code aws_chunked_transform::on_chunk_start(std::uint64_t chunk_size) {
    if (chunk_budget_ == nullptr) return {};
    release_reservation(); // never two chunks at once: the previous one was released already
    if (!chunk_budget_->try_reserve(chunk_size)) {
        return make_error_code(errc::chunk_buffer_full); // 503 SlowDown
    }
    reserved_ = chunk_size;
    return {};
}

void aws_chunked_transform::on_data(std::string_view verified_payload) {
    if (passthrough_) return;
    if (mode_ == body_mode::chunked_decode) {
        append(verified_payload);
        return;
    }
    // Signed variants release each chunk whole, once verified: re-sign it with the same size.
    append(encoder_->encode_chunk_header(verified_payload));
    append(verified_payload);
    append("\r\n");
}

void aws_chunked_transform::on_chunk_end(std::size_t /*chunk_size*/,
                                         std::string_view /*chunk_signature_hex*/) {
    // The decoder released the chunk (on_data copied it into out_, sent before the next read)
    // and freed its copy.
    release_reservation();
}

void aws_chunked_transform::on_trailer(std::string_view name, std::string_view value) {
    trailers_.push_back({std::string(name), std::string(value)});
}

void aws_chunked_transform::on_end() {
    if (encoder_) append(encoder_->encode_final(trailers_));
}

} // namespace s3ha::proxy
