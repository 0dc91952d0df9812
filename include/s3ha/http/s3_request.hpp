// What an S3 request addresses (bucket and key, path-style or virtual-hosted-style) and which S3
// operation it is. Pure functions of the request line and Host header.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
#pragma once

#include "s3ha/core/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha {

struct s3_address {
    std::string bucket;        // empty for service-level requests (ListBuckets)
    std::string key;           // decoded object key; empty for bucket-level requests
    std::string path;          // the path-style path to forward, still percent-encoded as received
    std::string query;         // the raw query string without '?', as received
    bool virtual_host = false; // the bucket came from the Host header
};

/// Splits a request into bucket, key and the path-style path. `host` is the Host header value
/// (port allowed); when it is `<bucket>.<domain>` for one of `virtual_host_domains` the request is
/// virtual-hosted style. Fails with invalid_request for a target that is not origin-form or
/// absolute-form, and with invalid_uri for bad percent-encoding in the path.
result<s3_address> resolve_s3_address(std::string_view host, std::string_view target,
                                      const std::vector<std::string>& virtual_host_domains);

/// The S3 API operations s3ha tells apart (bounded: used as a metric label).
enum class s3_operation {
    list_buckets,
    create_bucket,
    delete_bucket,
    head_bucket,
    list_objects,
    list_objects_v2,
    list_object_versions,
    list_multipart_uploads,
    delete_objects,
    get_bucket_config, // GET of a bucket subresource (acl, policy, versioning, location, ...)
    put_bucket_config,
    delete_bucket_config,
    get_object,
    head_object,
    put_object,
    copy_object,
    delete_object,
    create_multipart_upload,
    upload_part,
    upload_part_copy,
    complete_multipart_upload,
    abort_multipart_upload,
    list_parts,
    post_object, // browser-based POST upload to a bucket
    other,
};

/// Classifies a request from its method, address and query.
s3_operation classify_s3_operation(std::string_view method, const s3_address& address,
                                   bool has_copy_source);

/// The S3 API name, e.g. "GetObject".
std::string_view s3_operation_name(s3_operation op) noexcept;

/// True when the query string has a parameter with this exact name (with or without a value).
bool query_has(std::string_view query, std::string_view name) noexcept;

/// The raw (still encoded) value of a query parameter, if present.
std::optional<std::string_view> query_value(std::string_view query, std::string_view name) noexcept;

} // namespace s3ha
