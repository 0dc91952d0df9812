// What turns a downstream aws-chunked body into the upstream body, without sockets: every byte
// goes through sigv4::chunk_decoder (chunk signatures, framing, decoded length, trailer
// checksum) before it may go upstream, then is either
//  - forward, signed variants: re-encoded with chunk_encoder for the backend's key (new chunk
//    and trailer signatures, same chunk sizes);
//  - forward, STREAMING-UNSIGNED-PAYLOAD-TRAILER: passed on as received (no signatures to
//    change), the decoder still validating framing and trailer checksum;
//  - decode: only the decoded payload.
// The last output byte is held back (body_transform's rule) until the decoder has verified the
// end of the body (final chunk signature, trailer signature and checksum, decoded length).
// Memory: a signed chunk is held whole until verified; with a chunk budget (the worker's
// server.max_aws_chunk_buffer_per_worker) each is admitted whole, after its size line and before
// its first byte, or the body fails with chunk_buffer_full (503 SlowDown: the client retries
// later). The reservation is released as soon as the chunk is verified and released, and by
// the destructor. Output waiting to go upstream is kept only until sent (the held-back byte
// aside), so the transform never keeps more than about one chunk or one fed piece.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
// Thread affinity: one per request.
#pragma once

#include "s3ha/proxy/body_transform.hpp"
#include "s3ha/proxy/byte_budget.hpp"
#include "s3ha/proxy/upstream_request.hpp"
#include "s3ha/sigv4/chunk_decoder.hpp"
#include "s3ha/sigv4/chunk_encoder.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha::proxy {

class aws_chunked_transform final : public body_transform, private sigv4::chunk_sink {
public:
    /// up: the upstream request (mode chunked_forward or chunked_decode, variant set, and
    /// chunk_signing for a forwarded signed variant). downstream: the client's chunk signing
    /// context (required for signed variants). An inconsistent setup fails every feed with
    /// internal_error. chunk_budget: what the signed chunks held until verified may reserve
    /// (nullptr: no limit but max_chunk_size); it must outlive the transform.
    aws_chunked_transform(const upstream_request& up,
                          std::optional<sigv4::chunk_signing_context> downstream,
                          std::size_t max_chunk_size, byte_budget* chunk_budget = nullptr);
    ~aws_chunked_transform() override;
    aws_chunked_transform(const aws_chunked_transform&) = delete;
    aws_chunked_transform& operator=(const aws_chunked_transform&) = delete;

    /// Consumes downstream body bytes (copied: ready() never refers to them). On error nothing
    /// more is produced (sticky).
    error_code feed(std::string_view in) override;
    /// The downstream body ended; fails (incomplete_body...) unless the decoder reached its end.
    error_code finish() override;
    /// True once the whole body is verified (everything produced may go).
    bool done() const noexcept override { return decoder_.done() && !ec_; }

    /// Output that may be sent upstream now.
    std::string_view ready() const noexcept override;
    /// Marks n bytes of ready() as sent.
    void consume(std::size_t n) noexcept override;
    /// Total output bytes produced so far (sent or not).
    std::uint64_t produced() const noexcept { return produced_; }
    /// Output bytes kept in this object (produced, not yet consumed; the held-back byte
    /// included). Not counting a chunk the decoder still holds until it is verified.
    std::size_t buffered() const noexcept { return out_.size() - out_pos_; }
    /// Bytes of the output buffer's allocation.
    std::size_t buffer_capacity() const noexcept { return out_.capacity(); }
    /// Bytes reserved from the chunk budget right now (the chunk being held, if any).
    std::uint64_t reserved() const noexcept { return reserved_; }

private:
    void on_data(std::string_view verified_payload) override;
    error_code on_chunk_start(std::uint64_t chunk_size) override;
    void on_chunk_end(std::size_t chunk_size, std::string_view chunk_signature_hex) override;
    void on_trailer(std::string_view name, std::string_view value) override;
    void on_end() override;
    void append(std::string_view bytes);
    void release_reservation() noexcept;

    body_mode mode_;
    bool passthrough_; // forward of the unsigned variant: the input bytes as they are
    sigv4::chunk_decoder decoder_;
    std::optional<sigv4::chunk_encoder> encoder_;
    std::vector<sigv4::chunk_trailer> trailers_;
    std::string out_;
    std::size_t out_pos_ = 0;
    std::uint64_t produced_ = 0;
    byte_budget* chunk_budget_;
    std::uint64_t reserved_ = 0; // from chunk_budget_, for the chunk the decoder holds
    error_code ec_;
};

} // namespace s3ha::proxy
