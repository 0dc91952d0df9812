// The multipart UploadId a client sees: a stateless, authenticated wrapper around the id the
// backend issued, naming the backend that holds the upload, so every request of the upload can
// be routed back to it by any s3ha replica with the same backends configuration (no shared
// state).
//
//   s3ha1.<base64url(backend name)>.<base64url(original id)>.<base64url(mac)>
//   mac = first 16 bytes of HMAC-SHA256(backend secret key,
//                                       "s3ha-upload-id\n" + name + "\n" + original)
//
// Keyed by the backend's own secret key (which s3ha already holds and every replica shares), so
// an id that s3ha did not issue, or one whose backend name or original id was changed, is
// rejected; the name is inside the MAC, so an id cannot be moved to another backend. Rotating a
// backend's secret key in the s3ha configuration invalidates the uploads in progress on it
// (their ids then get NoSuchUpload). base64url and '.' are URI-unreserved characters: the id
// travels in a query string without percent-encoding.
// Pure functions; thread-safe.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/result.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace s3ha::proxy {

/// Longest original (backend) id s3ha wraps, in bytes; longer ones are refused (S3 and MinIO
/// ids are about 100 bytes).
inline constexpr std::size_t k_max_original_upload_id = 1024;
/// Longest s3ha upload id decode_upload_id looks at; longer input is refused before any work.
inline constexpr std::size_t k_max_upload_id = 2048;

/// The s3ha id of `original`, issued by backend `b` (its name and secret key).
/// Errors: invalid_argument when original is empty or longer than k_max_original_upload_id.
result<std::string> encode_upload_id(const backend_config& b, std::string_view original);

struct decoded_upload_id {
    std::size_t backend_index = 0; ///< position of the backend in `backends`
    std::string original;          ///< the backend's own id
};

/// Checks and opens an s3ha upload id (raw bytes, already percent-decoded). The backend is
/// looked up by name in `backends` (configuration order) and the MAC compared in constant time
/// with that backend's secret key. Errors: no_such_upload for anything else (not an s3ha id,
/// malformed, too long, unknown backend, wrong MAC).
result<decoded_upload_id> decode_upload_id(std::string_view id,
                                           std::span<const backend_config> backends);

} // namespace s3ha::proxy
