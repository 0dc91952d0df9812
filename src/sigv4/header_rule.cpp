#include "s3ha/sigv4/header_rule.hpp"

#include "s3ha/core/strings.hpp"

#include <algorithm>
#include <array>

namespace s3ha::sigv4 {
namespace {

// Standard headers S3 honours without a signature, forwarded unsigned (sorted, lower case).
// Content-*, Cache-Control and Expires describe the object being stored (S3 keeps them as its
// metadata); the conditionals only ever make a request fail (304/412) or skip work; Origin and
// the Access-Control-Request-* pair drive CORS answers; Via carries the proxy chain, which loop
// detection needs (RFC 9110 §7.6.3).
constexpr std::array<std::string_view, 19> k_forwarded = {
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "access-control-request-headers",
    "access-control-request-method",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-md5",
    "content-type",
    "expires",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "origin",
    "user-agent",
};

static_assert(std::is_sorted(k_forwarded.begin(), k_forwarded.end()));

// "via" and "range" are spelled out below: one has a method condition, both are short.
constexpr std::size_t k_longest_forwarded = 30; // access-control-request-headers

} // namespace

unsigned_header classify_unsigned_header(std::string_view name, http::verb method, bool anonymous) {
    if (starts_with_lower(name, "x-amz-")) {
        return anonymous ? unsigned_header::forward : unsigned_header::refuse;
    }
    if (starts_with_lower(name, "x-minio-")) return unsigned_header::refuse;
    if (equals_lower(name, "via")) return unsigned_header::forward;
    if (equals_lower(name, "range")) {
        // A byte range means something on a read only.
        return method == http::verb::get || method == http::verb::head ? unsigned_header::forward
                                                                       : unsigned_header::drop;
    }
    if (name.size() > k_longest_forwarded) return unsigned_header::drop;
    std::array<char, k_longest_forwarded> buf{};
    std::transform(name.begin(), name.end(), buf.begin(), ascii_lower);
    const std::string_view lower(buf.data(), name.size());
    return std::binary_search(k_forwarded.begin(), k_forwarded.end(), lower)
               ? unsigned_header::forward
               : unsigned_header::drop;
}

std::string_view find_refused_anonymous_header(const http::fields& fields, http::verb method) {
    for (const auto& f : fields) {
        if (classify_unsigned_header(f.name_string(), method, true) == unsigned_header::refuse) {
            return f.name_string();
        }
    }
    return {};
}

} // namespace s3ha::sigv4
