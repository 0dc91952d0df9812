// Multipart uploads stay on the backend that created them (upload_id.hpp has the id format).
//
// Request side (translate_upload_ids): a request that names an upload (`uploadId` in the query:
// UploadPart, UploadPartCopy, ListParts, CompleteMultipartUpload, AbortMultipartUpload) is
// pinned to the backend inside the id and goes upstream with the backend's original id; an id
// s3ha did not issue is NoSuchUpload. ListMultipartUploads' `upload-id-marker` (the second and
// later pages of a listing) pins the listing to the backend that produced the first page: the
// pages of one listing always come from one backend, so a failover between two pages can never
// mix two backends' uploads or skip some (a marker s3ha did not issue is InvalidArgument).
//
// Response side (rewrite_upload_ids_xml): the 2xx bodies of CreateMultipartUpload,
// ListMultipartUploads and ListParts get every backend id replaced by the s3ha id. These bodies
// are small XML documents; the forwarder buffers them (bounded) to rewrite them. Every other
// response keeps streaming untouched.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
// Pure functions; thread-safe.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/http/s3_request.hpp"
#include "s3ha/upstream/backend_state.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace s3ha::proxy {

/// Most bytes of a response body rewrite_upload_ids_xml is given (the forwarder's buffer bound):
/// ListMultipartUploads with 1000 uploads of 1024-byte keys is about 1.5 MiB.
inline constexpr std::size_t k_max_rewritten_body = std::size_t{8} * 1024 * 1024;

/// True for the operations whose 2xx response body carries upload ids to rewrite.
bool rewrites_upload_ids(s3_operation op) noexcept;

struct upload_id_routing {
    /// The backend (configuration position) the request must go to; nullopt: any (the pool
    /// chooses).
    std::optional<std::size_t> pinned_backend;
    /// The raw query to send upstream, s3ha ids replaced by the backend's (URI-encoded);
    /// nullopt: the query is unchanged (the request carries none).
    std::optional<std::string> query;
};

/// Reads `uploadId` and `upload-id-marker` from a raw (percent-encoded) query. Errors:
/// no_such_upload (an uploadId s3ha did not issue), invalid_argument (an upload-id-marker s3ha
/// did not issue, a parameter given twice, or uploadId and upload-id-marker naming different
/// backends), invalid_uri (a bad %-escape in one of them).
result<upload_id_routing> translate_upload_ids(std::string_view raw_query,
                                               std::span<const backend_config> backends);

/// Whether the backend of an upload may take a request naming it: not drained and not known to
/// be down. An unchecked backend (s3ha just started) is tried: if it is dead, connecting fails
/// and the client gets 503 all the same. Otherwise the request gets 503 and goes nowhere else.
bool accepts_pinned_request(const upstream::backend_state& s) noexcept;

/// Rewrites the text of every UploadId, UploadIdMarker and NextUploadIdMarker element (matched
/// by local name, any namespace) of an S3 XML body answered by backend `b`; empty ones stay
/// empty. require_upload_id: fail when no UploadId element carries an id (a
/// CreateMultipartUpload result must). Errors: upstream_protocol_error (not well-formed XML,
/// or a required id missing), invalid_argument (an id too long to wrap).
result<std::string> rewrite_upload_ids_xml(std::string_view body, const backend_config& b,
                                           bool require_upload_id);

} // namespace s3ha::proxy
