// Incremental decoder (and verifier) of aws-chunked request bodies.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
//
// Wire formats accepted (HEX = 1..16 hex digits of the chunk size, either case):
//   signed_payload:            (HEX;chunk-signature=<64 hex>\r\n <data> \r\n)*
//                              0;chunk-signature=<64 hex>\r\n \r\n
//   signed_payload_trailer:    (same data chunks) 0;chunk-signature=<64 hex>\r\n
//                              [\r\n]     <- tolerated: the AWS trailer example's layout
//                              [<x-amz-checksum-alg>:<base64>\r\n]   (if announced: required)
//                              x-amz-trailer-signature:<64 hex>\r\n \r\n
//   unsigned_payload_trailer:  (HEX[;ext]\r\n <data> \r\n)* 0[;ext]\r\n
//                              [<x-amz-checksum-alg>:<base64>\r\n]   (if announced: required)
//                              \r\n
// Spaces or tabs around a trailer value are ignored (the trailer signature still covers the raw
// line). Trailer names match ASCII case-insensitively.
//
// Thread affinity: one decoder per request, used by one thread at a time.
#pragma once

#include "s3ha/crypto/checksum.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/sigv4/chunk_signature.hpp"

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3ha::sigv4 {

/// Receives a decoded body, in order. Calls happen only from inside chunk_decoder::feed/finish.
class chunk_sink {
public:
    virtual ~chunk_sink() = default;
    /// Payload bytes that are safe to release: for signed variants a whole chunk whose signature
    /// has been verified; for the unsigned variant bytes as they arrive (the trailer checksum,
    /// checked at the end, covers them). Never called with an empty view.
    virtual void on_data(std::string_view verified_payload) = 0;
    /// Signed variants: a data chunk of chunk_size (> 0) bytes is about to be held until its
    /// signature is verified (called after its size line, before any of its data is kept; the
    /// chunk is released by on_data and forgotten before on_chunk_end). An error fails the body
    /// with it (sticky) before anything of the chunk is held: a per-worker memory limit says no
    /// here. Never called for the unsigned variant, which holds nothing. Default: accept.
    virtual boost::system::error_code on_chunk_start(std::uint64_t chunk_size) {
        (void)chunk_size;
        return {};
    }
    /// After each non-final chunk (after its on_data); signature empty for the unsigned variant.
    virtual void on_chunk_end(std::size_t chunk_size, std::string_view chunk_signature_hex) = 0;
    /// Each trailer (never x-amz-trailer-signature), after its signature and checksum verified,
    /// just before on_end.
    virtual void on_trailer(std::string_view name, std::string_view value) = 0;
    /// The body is complete: final chunk, trailers, their signature and checksum verified, and
    /// the decoded length checked. Called at most once.
    virtual void on_end() = 0;
};

class chunk_decoder {
public:
    /// signing: required (and is_valid) for the signed variants, ignored for the unsigned one.
    /// trailer_checksum: the checksum the request's x-amz-trailer announced (the caller rejects
    /// any other x-amz-trailer value); only allowed for the two -TRAILER variants. It is computed
    /// over the decoded payload and the trailer must carry the same value.
    /// decoded_length: x-amz-decoded-content-length, if the request gave one.
    /// max_chunk_size: the largest signed chunk accepted (each is held in memory until verified);
    /// unsigned chunks are streamed and not limited by it.
    /// An inconsistent configuration makes every call return errc::internal_error.
    chunk_decoder(chunked_variant variant, std::optional<chunk_signing_context> signing,
                  std::optional<crypto::checksum_algorithm> trailer_checksum,
                  std::optional<std::uint64_t> decoded_length, std::size_t max_chunk_size);

    /// Consumes all of `in` (any split, down to single bytes) and calls `out` for what it
    /// completes. Returns an errc (s3ha category) on the first problem; errors are sticky: later
    /// feed/finish calls return the same error and call `out` no more. Bytes after the end of the
    /// body are chunk_trailing_data (in the same call on_end is then not called; in a later call
    /// on_end has been called already and the caller must still fail the request).
    boost::system::error_code feed(std::string_view in, chunk_sink& out);
    /// The body ended (the transport says so). Success only if on_end was reached; otherwise
    /// errc::incomplete_body (sticky).
    boost::system::error_code finish(chunk_sink& out);

    /// True once on_end has been called (and no error came after).
    bool done() const noexcept { return state_ == state::done && !ec_; }
    /// Payload bytes released through on_data so far.
    std::uint64_t decoded_bytes() const noexcept { return released_; }
    /// The sticky error, if any.
    boost::system::error_code error() const noexcept { return ec_; }

private:
    enum class state : std::uint8_t {
        size,         // hex digits of a chunk size
        extension,    // after ';' up to CR
        size_lf,      // LF ending the size line
        data,         // chunk data
        data_cr,      // CR after chunk data
        data_lf,      // LF after chunk data
        final_cr,     // CRLF ending a signed_payload body
        final_lf,     //
        trailer_line, // a trailer line (or the empty line ending the trailers) up to CR
        trailer_lf,   // LF ending a trailer line
        done,
        failed,
    };

    boost::system::error_code fail(boost::system::error_code ec);
    boost::system::error_code step(char c, chunk_sink& out);
    boost::system::error_code on_size_digit(int value);
    boost::system::error_code on_size_line(chunk_sink& out);
    boost::system::error_code on_chunk_complete(chunk_sink& out);
    boost::system::error_code on_trailer_line();
    boost::system::error_code check_trailer_checksum();
    void take_data(std::string_view piece, chunk_sink& out);
    void release(std::string_view piece, chunk_sink& out);

    chunked_variant variant_;
    bool signed_;
    std::optional<chunk_signing_context> signing_;
    std::optional<crypto::checksum_algorithm> trailer_alg_;
    std::optional<crypto::checksum> checksum_;
    std::optional<std::uint64_t> expected_length_;
    std::size_t max_chunk_size_;

    state state_ = state::size;
    boost::system::error_code ec_;

    // Current chunk.
    std::uint64_t size_ = 0;
    unsigned size_digits_ = 0;
    std::uint64_t remaining_ = 0;
    std::string extension_; // signed: "chunk-signature=<hex>" as received
    std::size_t extension_len_ = 0;
    std::string chunk_;            // signed: the chunk held until verified (freed once released)
    crypto::sha256_hasher hasher_; // signed: hash of chunk_ as it arrives
    std::string previous_signature_;

    // Totals.
    std::uint64_t announced_ = 0; // sum of chunk sizes seen in size lines
    std::uint64_t released_ = 0;

    // Trailers.
    std::string line_;
    std::string computed_digest_;    // raw digest of the payload, set at the final chunk
    std::string trailer_name_;       // as received
    std::string trailer_value_;      // base64 as received (trimmed)
    std::string trailer_digest_;     // raw decoded trailer value
    std::string canonical_trailers_; // signed: "name:value\n" lines, as signed
    bool trailer_seen_ = false;
    bool trailer_signature_seen_ = false;
    bool blank_tolerated_ = false;
};

} // namespace s3ha::sigv4
