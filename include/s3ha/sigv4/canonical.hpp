// SigV4 as pure, phase-by-phase functions: canonical URI, query and headers -> canonical request
// -> string to sign -> signature. No I/O, no clock (times are parameters), no exceptions on bad
// input (std::optional instead).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
//
// S3 flavour: the path is URI-encoded once and never normalised (`//`, `.` and `..` are kept),
// unlike the other AWS services.
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha::sigv4 {

inline constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view k_terminator = "aws4_request";
inline constexpr std::string_view k_unsigned_payload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view k_streaming_signed = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view k_streaming_signed_trailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view k_streaming_unsigned_trailer =
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

// ---- encoding ------------------------------------------------------------------------------

/// AWS UriEncode: bytes A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX (upper-case
/// hex); '/' is kept unless encode_slash. Works byte-wise, so UTF-8 comes out as its bytes.
std::string uri_encode(std::string_view s, bool encode_slash);
/// uri_encode appending to out (no temporary).
void append_uri_encoded(std::string& out, std::string_view s, bool encode_slash);

/// Decodes %XX escapes (either hex case) and, when plus_as_space, '+' as ' '. nullopt when a '%'
/// is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view s, bool plus_as_space);
/// percent_decode without a copy when s has nothing to decode (the usual case): s itself, else
/// the decoded bytes written to scratch (replacing its content). nullopt as percent_decode.
std::optional<std::string_view> percent_decode_view(std::string_view s, bool plus_as_space,
                                                    std::string& scratch);
/// False when raw, percent-decoded ('+' as space), cannot start with c: a cheap test that spares
/// decoding most names that are not the one looked for.
constexpr bool may_start_with(std::string_view raw, char c) noexcept {
    return !raw.empty() &&
           (raw.front() == c || raw.front() == '%' || (raw.front() == '+' && c == ' '));
}
/// True when the raw query parameter name, decoded as S3 reads it ('+' as space), is `name`.
bool query_name_is(std::string_view raw_name, std::string_view name);

// ---- canonical request parts ----------------------------------------------------------------

/// A request-target split into its path and query (without the '?'). An absolute-form target
/// (`http://host/path?q`) yields its path; an empty path stays empty (canonical_uri makes it "/").
struct target_parts {
    std::string_view path;
    std::string_view query;
};
target_parts split_target(std::string_view target);

/// Calls fn(raw_name, raw_value) for each non-empty `&`-separated parameter of a raw query, in
/// order, still percent-encoded (a parameter without '=' has an empty value); stops early when fn
/// returns false.
template <class Fn> void for_each_query_param(std::string_view query, Fn&& fn) {
    std::size_t pos = 0;
    while (pos < query.size()) {
        auto amp = query.find('&', pos);
        if (amp == std::string_view::npos) amp = query.size();
        std::string_view piece = query.substr(pos, amp - pos);
        pos = amp + 1;
        if (piece.empty()) continue;
        auto eq = piece.find('=');
        std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        if (!fn(piece.substr(0, eq), value)) return;
    }
}

/// S3 canonical URI: the raw path percent-decoded once ('+' stays '+'), then uri_encode'd with
/// '/' kept. No dot-segment or slash normalisation. Empty path -> "/". nullopt on a bad escape.
std::optional<std::string> canonical_uri(std::string_view raw_path);
/// canonical_uri appending to out; false (out partly written) on a bad escape.
bool append_canonical_uri(std::string& out, std::string_view raw_path);

/// Canonical query string: parameters split on '&' (empty pieces skipped), name and value
/// percent-decoded ('+' as space, as S3 and MinIO read it) and uri_encode'd with '/' encoded,
/// sorted by name then value, joined as `name=value&...` (a missing value gives `name=`).
/// exclude_signature drops X-Amz-Signature (verifying a presigned URL). nullopt on a bad escape.
std::optional<std::string> canonical_query(std::string_view raw_query,
                                           bool exclude_signature = false);
/// canonical_query appending to out; false (out partly written) on a bad escape. Uses
/// per-thread scratch space, so it allocates nothing once warmed up.
bool append_canonical_query(std::string& out, std::string_view raw_query,
                            bool exclude_signature = false);

/// A header value as SigV4 signs it: leading/trailing spaces and tabs removed, inner runs of
/// them collapsed to one space.
void append_canonical_header_value(std::string& out, std::string_view value);

/// Canonical headers block: `name:value\n` for each of signed_headers, whose names must be
/// lower-case, sorted ascending and unique. A header sent several times gives its values,
/// each trimmed, joined with ',' in order of appearance. nullopt when a signed header is absent.
std::optional<std::string> canonical_headers(const http::fields& fields,
                                             const std::vector<std::string_view>& signed_headers);

/// canonical_headers appending to out; false (out partly written) when a header is absent.
bool append_canonical_headers(std::string& out, const http::fields& fields,
                              const std::vector<std::string_view>& signed_headers);

/// `a;b;c` from the sorted signed header names.
std::string signed_headers_string(const std::vector<std::string_view>& signed_headers);
void append_signed_headers(std::string& out, const std::vector<std::string_view>& signed_headers);

/// One header as a signature covers it: the name in any case and the value as sent.
struct header_field {
    std::string_view name;
    std::string_view value;
};

/// Sorts fields by lower-case name, keeping the order of arrival among equal names: the order
/// the canonical headers block lists them in.
void sort_header_fields(std::span<header_field> fields);

/// The canonical headers block and the signed-headers line of fields sorted by
/// sort_header_fields: `name:value\n` per distinct lower-cased name (a repeated name's values
/// trimmed and joined with ','), '\n', then `a;b;c\n`. `signed_headers_begin`, when given,
/// receives the offset in `out` where the signed-headers line starts.
void append_canonical_header_lines(std::string& out, std::span<const header_field> sorted,
                                   std::size_t* signed_headers_begin = nullptr);

/// Why append_canonical_request_head failed.
enum class canonical_status { ok, bad_uri, missing_header };

/// Appends the first three lines of a canonical request: method, canonical URI and canonical
/// query (without X-Amz-Signature when `exclude_signature`), each ending in '\n'.
canonical_status append_canonical_request_start(std::string& out, std::string_view method,
                                                target_parts target, bool exclude_signature);

/// Appends the canonical request up to the payload hash: append_canonical_request_start, then
/// the canonical headers of `signed_headers` taken from req and the signed-headers line, each
/// line ending in '\n'. `signed_headers_begin`, when given, receives the offset in `out`
/// where the signed-headers line starts. What the verifier builds from a received request.
canonical_status append_canonical_request_head(std::string& out, const http::request_header<>& req,
                                               target_parts target,
                                               const std::vector<std::string_view>& signed_headers,
                                               bool exclude_signature,
                                               std::size_t* signed_headers_begin = nullptr);

/// method \n uri \n query \n headers-block \n signed-headers \n payload-hash
std::string canonical_request(std::string_view method, std::string_view canonical_uri,
                              std::string_view canonical_query, std::string_view canonical_headers,
                              std::string_view signed_headers, std::string_view payload_hash);

// ---- string to sign and signature -----------------------------------------------------------

/// date/region/service/aws4_request (date is YYYYMMDD).
std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service);

/// AWS4-HMAC-SHA256 \n amz_date \n scope \n hex(sha256(canonical_request))
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
void append_string_to_sign(std::string& out, std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

/// A signature as 64 lower-case hex characters, without a heap allocation.
using signature_chars = std::array<char, 64>;
/// Lower-case hex HMAC-SHA256 of string_to_sign under a signing key (signing_key_cache::hmac).
signature_chars signature_of(const crypto::hmac_sha256_key& signing_key,
                             std::string_view string_to_sign);

/// Lower-case hex HMAC-SHA256(signing_key, string_to_sign); signing_key is the 32 raw bytes of
/// derive_signing_key.
std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign);

// ---- time -----------------------------------------------------------------------------------

/// ISO 8601 basic format in UTC, `YYYYMMDDTHHMMSSZ`, as X-Amz-Date carries it.
std::string format_amz_date(std::chrono::system_clock::time_point t);
/// Parses exactly `YYYYMMDDTHHMMSSZ` (a real calendar date, time up to 23:59:59); nullopt else.
/// In whole seconds: every year 0000-9999 fits (system_clock's nanoseconds end in 2262, so
/// compare with a `now` floored to seconds, never convert the result to nanoseconds).
std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view s);

} // namespace s3ha::sigv4
