#include "s3ha/proxy/aws_chunked_transform.hpp"

#include "s3ha/core/errc.hpp"

namespace s3ha::proxy {

namespace {

sigv4::chunked_variant variant_of(const upstream_request& up) {
    return up.variant.value_or(sigv4::chunked_variant::unsigned_payload_trailer);
}

} // namespace

aws_chunked_transform::aws_chunked_transform(const upstream_request& up,
                                             std::optional<sigv4::chunk_signing_context> downstream,
                                             std::size_t max_chunk_size)
    : mode_(up.mode), passthrough_(up.mode == body_mode::chunked_forward && up.variant &&
                                   !sigv4::is_signed(*up.variant)),
      decoder_(variant_of(up), std::move(downstream), up.trailer_checksum, up.decoded_length,
               max_chunk_size) {
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

error_code aws_chunked_transform::feed(std::string_view in) {
    if (ec_) return ec_;
    if (in.empty()) return {};
    ec_ = decoder_.feed(in, *this);
    if (ec_) return ec_;
    // The unsigned variant has no signatures to rewrite: the framing goes on byte for byte,
    // after the decoder accepted it.
    if (passthrough_) append(in);
    return {};
}

error_code aws_chunked_transform::finish() {
    if (ec_) return ec_;
    ec_ = decoder_.finish(*this);
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
}

void aws_chunked_transform::append(std::string_view bytes) {
    if (out_pos_ > 0 && out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    }
    out_.append(bytes);
    produced_ += bytes.size();
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
}

void aws_chunked_transform::on_trailer(std::string_view name, std::string_view value) {
    trailers_.push_back({std::string(name), std::string(value)});
}

void aws_chunked_transform::on_end() {
    if (encoder_) append(encoder_->encode_final(trailers_));
}

} // namespace s3ha::proxy
