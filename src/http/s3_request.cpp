#include "s3ha/http/s3_request.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <boost/beast/core/string.hpp>

namespace s3ha {
namespace {

std::string_view host_without_port(std::string_view host) {
    if (!host.empty() && host.front() == '[') { // [v6]:port
        auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(0, close + 1);
    }
    auto colon = host.rfind(':');
    return colon == std::string_view::npos ? host : host.substr(0, colon);
}

// The bucket named by a virtual-hosted Host, or empty.
std::string_view virtual_host_bucket(std::string_view host,
                                     const std::vector<std::string>& domains) {
    host = host_without_port(host);
    for (const auto& domain : domains) {
        if (host.size() > domain.size() + 1 && host[host.size() - domain.size() - 1] == '.' &&
            boost::beast::iequals(host.substr(host.size() - domain.size()), domain)) {
            return host.substr(0, host.size() - domain.size() - 1);
        }
    }
    return {};
}

} // namespace

result<s3_address> resolve_s3_address(std::string_view host, std::string_view target,
                                      const std::vector<std::string>& virtual_host_domains) {
    if (target.empty() || (target.front() != '/' && target.front() != '?' &&
                           !target.starts_with("http://") && !target.starts_with("https://"))) {
        return errc::invalid_request;
    }
    auto [raw_path, raw_query] = sigv4::split_target(target); // also takes absolute-form apart
    s3_address a;
    a.query = std::string(raw_query);
    std::string_view path = raw_path.empty() ? std::string_view("/") : raw_path;

    auto decoded = sigv4::percent_decode(path, false);
    if (!decoded) return errc::invalid_uri;

    if (auto bucket = virtual_host_bucket(host, virtual_host_domains); !bucket.empty()) {
        a.virtual_host = true;
        a.bucket = std::string(bucket);
        a.key = decoded->substr(1);
        a.path = "/" + sigv4::uri_encode(a.bucket, true) + std::string(path);
        if (a.key.empty()) a.path = "/" + sigv4::uri_encode(a.bucket, true);
        return a;
    }
    // Path style: /bucket/key...; the key keeps every further slash, including "//".
    std::string_view rest = std::string_view(*decoded).substr(1);
    auto slash = rest.find('/');
    a.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) a.key = std::string(rest.substr(slash + 1));
    a.path = std::string(path);
    return a;
}

bool query_has(std::string_view query, std::string_view name) noexcept {
    return query_value(query, name).has_value();
}

std::optional<std::string_view> query_value(std::string_view query,
                                            std::string_view name) noexcept {
    std::optional<std::string_view> found;
    sigv4::for_each_query_param(query, [&](std::string_view n, std::string_view v) {
        if (n == name) found = v;
        return !found;
    });
    return found;
}

s3_operation classify_s3_operation(std::string_view method, const s3_address& a,
                                   bool has_copy_source) {
    const std::string_view q = a.query;
    using op = s3_operation;
    if (a.bucket.empty()) return method == "GET" ? op::list_buckets : op::other;
    if (a.key.empty()) {
        if (method == "GET") {
            if (query_has(q, "uploads")) return op::list_multipart_uploads;
            if (query_has(q, "versions")) return op::list_object_versions;
            if (query_value(q, "list-type") == std::string_view("2")) return op::list_objects_v2;
            // Any other bare parameter names a bucket subresource (acl, policy, location, ...).
            for (auto p : {"acl", "policy", "location", "versioning", "lifecycle", "tagging",
                           "cors", "encryption", "notification", "object-lock", "replication",
                           "website", "logging", "requestPayment", "accelerate",
                           "ownershipControls", "publicAccessBlock", "policyStatus"}) {
                if (query_has(q, p)) return op::get_bucket_config;
            }
            return op::list_objects;
        }
        if (method == "HEAD") return op::head_bucket;
        if (method == "PUT") return q.empty() ? op::create_bucket : op::put_bucket_config;
        if (method == "DELETE") return q.empty() ? op::delete_bucket : op::delete_bucket_config;
        if (method == "POST") return query_has(q, "delete") ? op::delete_objects : op::post_object;
        return op::other;
    }
    if (method == "GET") return query_has(q, "uploadId") ? op::list_parts : op::get_object;
    if (method == "HEAD") return op::head_object;
    if (method == "PUT") {
        if (query_has(q, "uploadId") && query_has(q, "partNumber")) {
            return has_copy_source ? op::upload_part_copy : op::upload_part;
        }
        if (!q.empty() && !query_has(q, "versionId"))
            return op::other; // tagging, acl, retention...
        return has_copy_source ? op::copy_object : op::put_object;
    }
    if (method == "POST") {
        if (query_has(q, "uploads")) return op::create_multipart_upload;
        if (query_has(q, "uploadId")) return op::complete_multipart_upload;
        return op::other;
    }
    if (method == "DELETE") {
        return query_has(q, "uploadId") ? op::abort_multipart_upload : op::delete_object;
    }
    return op::other;
}

std::string_view s3_operation_name(s3_operation o) noexcept {
    using op = s3_operation;
    switch (o) {
    case op::list_buckets: return "ListBuckets";
    case op::create_bucket: return "CreateBucket";
    case op::delete_bucket: return "DeleteBucket";
    case op::head_bucket: return "HeadBucket";
    case op::list_objects: return "ListObjects";
    case op::list_objects_v2: return "ListObjectsV2";
    case op::list_object_versions: return "ListObjectVersions";
    case op::list_multipart_uploads: return "ListMultipartUploads";
    case op::delete_objects: return "DeleteObjects";
    case op::get_bucket_config: return "GetBucketConfig";
    case op::put_bucket_config: return "PutBucketConfig";
    case op::delete_bucket_config: return "DeleteBucketConfig";
    case op::get_object: return "GetObject";
    case op::head_object: return "HeadObject";
    case op::put_object: return "PutObject";
    case op::copy_object: return "CopyObject";
    case op::delete_object: return "DeleteObject";
    case op::create_multipart_upload: return "CreateMultipartUpload";
    case op::upload_part: return "UploadPart";
    case op::upload_part_copy: return "UploadPartCopy";
    case op::complete_multipart_upload: return "CompleteMultipartUpload";
    case op::abort_multipart_upload: return "AbortMultipartUpload";
    case op::list_parts: return "ListParts";
    case op::post_object: return "PostObject";
    case op::other: break;
    }
    return "Other";
}

} // namespace s3ha
