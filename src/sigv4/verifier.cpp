#include "s3ha/sigv4/verifier.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/crypto/encoding.hpp"
#include "s3ha/sigv4/canonical.hpp"
#include "s3ha/sigv4/header_rule.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_x_amz_date = "x-amz-date";
constexpr std::string_view k_x_amz_content_sha256 = "x-amz-content-sha256";

// a < b comparing a case-insensitively against an already lower-case b (and vice versa).
bool icase_less(std::string_view a, std::string_view b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        char x = ascii_lower(a[i]);
        char y = ascii_lower(b[i]);
        if (x != y) return x < y;
    }
    return a.size() < b.size();
}

// The authentication inputs, from the Authorization header or the presigned query. The views
// point into the request or into the *_buf members, so an auth_inputs is filled in place and
// never moved.
struct auth_inputs {
    auth_kind kind = auth_kind::header;
    std::string_view credential;
    std::string_view signed_headers;
    std::string_view signature;
    std::string_view amz_date;
    std::string_view expires; // presigned only
    std::string buf[6];       // [0..4]: decoded presigned values, [5]: lower-cased signed headers
};

errc malformed(auth_kind kind) {
    return kind == auth_kind::header ? errc::authorization_header_malformed
                                     : errc::authorization_query_parameters_error;
}

// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
errc parse_authorization(std::string_view value, auth_inputs& in) {
    value = trim_ows(value);
    if (value.empty()) return errc::authorization_header_malformed;
    auto sp = value.find(' ');
    std::string_view algorithm = value.substr(0, sp);
    if (algorithm != k_algorithm) return errc::unsupported_algorithm;
    if (sp == std::string_view::npos) return errc::authorization_header_malformed;

    in.kind = auth_kind::header;
    bool have_cred = false, have_signed = false, have_sig = false;
    std::string_view rest = value.substr(sp + 1);
    std::size_t pos = 0;
    while (pos <= rest.size()) {
        auto comma = rest.find(',', pos);
        if (comma == std::string_view::npos) comma = rest.size();
        std::string_view part = trim_ows(rest.substr(pos, comma - pos));
        pos = comma + 1;
        auto eq = part.find('=');
        if (eq == std::string_view::npos) return errc::authorization_header_malformed;
        std::string_view name = part.substr(0, eq);
        std::string_view val = part.substr(eq + 1);
        bool* seen = nullptr;
        std::string_view* dst = nullptr;
        if (name == "Credential") {
            seen = &have_cred;
            dst = &in.credential;
        } else if (name == "SignedHeaders") {
            seen = &have_signed;
            dst = &in.signed_headers;
        } else if (name == "Signature") {
            seen = &have_sig;
            dst = &in.signature;
        } else {
            return errc::authorization_header_malformed;
        }
        if (*seen) return errc::authorization_header_malformed;
        *seen = true;
        *dst = val;
    }
    if (!have_cred || !have_signed || !have_sig) return errc::authorization_header_malformed;
    return {};
}

// X-Amz-* query parameters of a presigned URL.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
errc parse_presigned(std::string_view query, auth_inputs& in) {
    static constexpr std::string_view names[6] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                                  "X-Amz-Date",          "X-Amz-Expires",
                                                  "X-Amz-SignedHeaders", "X-Amz-Signature"};
    std::string_view* dst[6] = {nullptr,     &in.credential,     &in.amz_date,
                                &in.expires, &in.signed_headers, &in.signature};
    std::string algorithm_buf;
    std::string_view algorithm;
    in.kind = auth_kind::presigned;
    bool have[6] = {};
    bool bad = false;
    std::string name_buf;
    for_each_query_param(query, [&](std::string_view raw_name, std::string_view raw_value) {
        // Names compare decoded, as S3 reads them; one with a bad escape is none of ours.
        if (!may_start_with(raw_name, 'X')) return true;
        const auto name = percent_decode_view(raw_name, true, name_buf);
        if (!name) return true;
        const auto* found = std::find(std::begin(names), std::end(names), *name);
        if (found == std::end(names)) return true;
        const auto idx = static_cast<int>(found - std::begin(names));
        // A view of the query itself unless the value has escapes (then decoded into buf).
        std::string& store = idx == 0 ? algorithm_buf : in.buf[idx - 1];
        auto value = percent_decode_view(raw_value, true, store);
        if (!value || have[idx]) {
            bad = true;
            return false;
        }
        have[idx] = true;
        (idx == 0 ? algorithm : *dst[idx]) = *value;
        return true;
    });
    if (bad) return errc::authorization_query_parameters_error;
    if (!have[0]) return errc::authorization_query_parameters_error;
    if (algorithm != k_algorithm) return errc::unsupported_algorithm;
    for (bool h : have) {
        if (!h) return errc::authorization_query_parameters_error;
    }
    return {};
}

struct scope_parts {
    std::string_view access_key, date, region, service, terminator;
};

// AKID/YYYYMMDD/region/service/aws4_request. The access key is everything before the last four
// slash-separated parts (MinIO allows '/' in access keys).
std::optional<scope_parts> split_credential(std::string_view cred) {
    std::string_view parts[4];
    std::string_view rest = cred;
    for (int i = 3; i >= 0; --i) {
        auto slash = rest.rfind('/');
        if (slash == std::string_view::npos) return std::nullopt;
        parts[i] = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    scope_parts s{rest, parts[0], parts[1], parts[2], parts[3]};
    if (s.access_key.empty() || s.region.empty() || s.date.size() != 8) return std::nullopt;
    for (char c : s.date) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    return s;
}

// Splits a (lower-case) SignedHeaders value into sorted, unique header names.
bool parse_signed_headers(std::string_view all, std::vector<std::string_view>& out) {
    std::size_t pos = 0;
    while (pos <= all.size()) {
        auto semi = all.find(';', pos);
        if (semi == std::string_view::npos) semi = all.size();
        std::string_view name = all.substr(pos, semi - pos);
        pos = semi + 1;
        if (name.empty()) return false;
        for (char c : name) {
            // RFC 9110 token characters only; keeps ':' and blanks out of the canonical form.
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
            if (!ok) return false;
        }
        out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return std::adjacent_find(out.begin(), out.end()) == out.end();
}

bool is_hex64(std::string_view v) {
    if (v.size() != 64) return false;
    for (char c : v) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!ok) return false;
    }
    return true;
}

std::optional<payload_kind> classify_payload(std::string_view v) {
    if (is_hex64(v)) return payload_kind::sha256;
    if (v == k_unsigned_payload) return payload_kind::unsigned_payload;
    if (v == k_streaming_signed) return payload_kind::streaming_signed;
    if (v == k_streaming_signed_trailer) return payload_kind::streaming_signed_trailer;
    if (v == k_streaming_unsigned_trailer) return payload_kind::streaming_unsigned_trailer;
    return std::nullopt;
}

// X-Amz-Expires: 1..604800 decimal seconds.
result<long long> parse_expires(std::string_view v) {
    if (v.empty()) return errc::authorization_query_parameters_error;
    long long n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return errc::authorization_query_parameters_error;
        if (n <= verifier::max_expires_seconds) n = n * 10 + (c - '0');
    }
    if (n == 0) return errc::authorization_query_parameters_error;
    if (n > verifier::max_expires_seconds) return errc::expires_too_large;
    return n;
}

// What the query says about query-string authentication.
struct query_auth_presence {
    bool v4 = false; // X-Amz-Algorithm, X-Amz-Credential or X-Amz-Signature
    bool v2 = false; // SigV2: Signature (with AWSAccessKeyId)
};

query_auth_presence find_query_auth(std::string_view query) {
    query_auth_presence p;
    std::string name_buf;
    for_each_query_param(query, [&](std::string_view raw_name, std::string_view) {
        if (!may_start_with(raw_name, 'X') && !may_start_with(raw_name, 'S')) return true;
        const auto name = percent_decode_view(raw_name, true, name_buf);
        if (!name) return true;
        if (*name == "X-Amz-Algorithm" || *name == "X-Amz-Credential" ||
            *name == "X-Amz-Signature") {
            p.v4 = true;
            return false;
        }
        if (*name == "Signature") p.v2 = true;
        return true;
    });
    return p;
}

} // namespace

bool verified_request::signs(std::string_view name) const noexcept {
    std::string_view rest = signed_headers;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        if (equals_lower(name, rest.substr(0, semi))) return true;
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    return false;
}

bool has_signature(const http::request_header<>& req) {
    if (req.count(http::field::authorization) != 0) return true;
    auto p = find_query_auth(split_target(req.target()).query);
    return p.v4 || p.v2;
}

namespace {

// Per-thread buffers: a verification allocates only the strings it returns.
struct workspace {
    std::vector<std::string_view> signed_names;
    std::vector<char> seen; // per signed name: a field with that name was met
    std::string creq;
    std::string sts;
    std::string scope;
};
workspace& thread_workspace() {
    thread_local workspace ws = [] {
        workspace w;
        w.signed_names.reserve(32);
        w.seen.reserve(32);
        w.creq.reserve(2048);
        w.sts.reserve(256);
        w.scope.reserve(64);
        return w;
    }();
    return ws;
}

// The first name given twice in a canonical query string (its names are sorted and encoded, so
// equal names are neighbours and end at '='); empty when every name is unique.
std::string_view repeated_query_name(std::string_view canonical_query) {
    std::string_view previous;
    bool first = true;
    while (!canonical_query.empty()) {
        const auto amp = canonical_query.find('&');
        const std::string_view param = canonical_query.substr(0, amp);
        const std::string_view name = param.substr(0, param.find('='));
        if (!first && name == previous) return name.empty() ? std::string_view("=") : name;
        first = false;
        previous = name;
        if (amp == std::string_view::npos) break;
        canonical_query.remove_prefix(amp + 1);
    }
    return {};
}

} // namespace

verifier::verifier(std::string region, std::unordered_map<std::string, std::string> credentials)
    : region_(std::move(region)), credentials_(credentials.begin(), credentials.end()) {
}

result<verified_request> verifier::verify(const http::request_header<>& req,
                                          std::chrono::system_clock::time_point now,
                                          signing_key_cache& keys, std::string* detail) const {
    const auto target = split_target(req.target());
    auto refuse = [&](errc e, std::string_view what) {
        if (detail != nullptr) detail->assign(what);
        return e;
    };

    // 1. Which mechanism, and its raw inputs.
    auto auth_header = req.equal_range(http::field::authorization);
    const bool has_header = auth_header.first != auth_header.second;
    const auto query_auth = find_query_auth(target.query);
    if (has_header && query_auth.v4)
        return errc::invalid_argument; // "Only one auth mechanism allowed"
    if (!has_header && !query_auth.v4)
        return query_auth.v2 ? errc::unsupported_algorithm : errc::access_denied;

    auth_inputs in;
    if (has_header) {
        if (std::next(auth_header.first) != auth_header.second)
            return errc::authorization_header_malformed;
        if (auto ec = parse_authorization(auth_header.first->value(), in); ec != errc{}) return ec;
    } else {
        if (auto ec = parse_presigned(target.query, in); ec != errc{}) return ec;
    }
    const auth_kind kind = in.kind;

    // 2. Credential scope.
    auto scope = split_credential(in.credential);
    if (!scope || scope->service != service_ || scope->terminator != k_terminator)
        return malformed(kind);

    // 3. X-Amz-Date, and the scope date must be its day.
    if (kind == auth_kind::header) {
        auto dates = req.equal_range(k_x_amz_date);
        if (dates.first == dates.second || std::next(dates.first) != dates.second)
            return errc::access_denied;
        in.amz_date = dates.first->value();
    }
    auto date = parse_amz_date(in.amz_date);
    if (!date) return kind == auth_kind::header ? errc::access_denied : malformed(kind);
    if (scope->date != in.amz_date.substr(0, 8)) return malformed(kind);

    // 4. Who, and where.
    auto cred = credentials_.find(scope->access_key);
    if (cred == credentials_.end()) return errc::invalid_access_key_id;
    if (scope->region != region_) return errc::invalid_region;

    // 5. When. In whole seconds: a date far in the future (year 9999) does not fit the clock's
    // nanoseconds.
    const auto now_s = std::chrono::floor<std::chrono::seconds>(now);
    if (kind == auth_kind::header) {
        if (*date > now_s + max_skew || *date < now_s - max_skew) {
            return errc::request_time_too_skewed;
        }
    } else {
        auto expires = parse_expires(in.expires);
        if (!expires) return expires.error();
        if (now_s > *date + std::chrono::seconds(*expires)) return errc::request_expired;
        if (*date > now_s + max_skew) return errc::request_expired; // not yet valid
    }

    // 6. Signed headers: well-formed and include host. Every field is either signed, and then
    // sent once (two fields with one signed name canonicalise like one field with a comma, but a
    // backend reads only the first), or one the forwarding rule lets through unsigned
    // (header_rule.hpp: an unsigned x-amz-* or x-minio-* header is refused).
    workspace& ws = thread_workspace();
    auto& names = ws.signed_names;
    names.clear();
    std::string_view signed_headers = in.signed_headers;
    if (std::any_of(signed_headers.begin(), signed_headers.end(),
                    [](char c) { return c >= 'A' && c <= 'Z'; })) {
        std::string& lowered = in.buf[5];
        lowered.assign(signed_headers);
        for (char& c : lowered)
            c = ascii_lower(c);
        signed_headers = lowered;
    }
    if (!parse_signed_headers(signed_headers, names)) return malformed(kind);
    if (!std::binary_search(names.begin(), names.end(), std::string_view("host")))
        return malformed(kind);
    auto& seen = ws.seen;
    seen.assign(names.size(), 0);
    for (const auto& f : req) {
        const auto name = f.name_string();
        const auto at = std::lower_bound(names.begin(), names.end(), name, icase_less);
        if (at == names.end() || !equals_lower(name, *at)) {
            if (classify_unsigned_header(name, req.method(), false) == unsigned_header::refuse) {
                return refuse(errc::header_not_signed, name);
            }
            continue;
        }
        auto& once = seen[static_cast<std::size_t>(at - names.begin())];
        if (once != 0) return refuse(errc::duplicate_signed_header, *at);
        once = 1;
    }
    // A raw ';' is signed like %3B, but Go (MinIO) drops a query parameter that holds one.
    if (target.query.find(';') != std::string_view::npos) return errc::semicolon_in_query;

    // 7. Canonical request up to the signed headers, in a per-thread buffer (a signed header
    // that is absent fails here).
    std::string& creq = ws.creq;
    creq.clear();
    switch (append_canonical_request_head(creq, req, target, names, kind == auth_kind::presigned)) {
    case canonical_status::ok: break;
    case canonical_status::bad_uri: return errc::invalid_uri;
    case canonical_status::missing_header: return malformed(kind);
    }
    // A name given twice signs the same whichever value comes first, but a backend reads the
    // first: refused. (The third line of the canonical request is its canonical query.)
    {
        const auto query_begin = creq.find('\n', creq.find('\n') + 1) + 1;
        const auto query_end = creq.find('\n', query_begin);
        const auto repeated = repeated_query_name(
            std::string_view(creq).substr(query_begin, query_end - query_begin));
        if (!repeated.empty()) return refuse(errc::duplicate_query_parameter, repeated);
    }

    // 8. Payload hash as signed.
    std::string_view payload_value = k_unsigned_payload;
    const bool content_sha_signed =
        std::binary_search(names.begin(), names.end(), k_x_amz_content_sha256);
    if (kind == auth_kind::header || content_sha_signed) {
        auto values = req.equal_range(k_x_amz_content_sha256);
        if (values.first == values.second || std::next(values.first) != values.second)
            return errc::invalid_content_sha256;
        payload_value = values.first->value();
    }
    auto payload = classify_payload(payload_value);
    if (!payload) return errc::invalid_content_sha256;
    creq.append(payload_value);

    // 9. String to sign and signature.
    std::string& scope_str = ws.scope;
    scope_str.clear();
    scope_str.append(in.credential.substr(scope->access_key.size() + 1)); // date/.../aws4_request
    std::string& sts = ws.sts;
    sts.clear();
    append_string_to_sign(sts, in.amz_date, scope_str, creq);
    const auto& key =
        keys.hmac(scope->access_key, cred->second, scope->date, scope->region, scope->service);
    const signature_chars expected = signature_of(key, sts);
    if (!crypto::constant_time_equal(std::string_view(expected.data(), expected.size()),
                                     in.signature)) {
        return errc::signature_does_not_match;
    }

    verified_request out;
    out.kind = kind;
    out.access_key.assign(scope->access_key);
    out.payload = *payload;
    out.payload_hash.assign(payload_value);
    if (*payload == payload_kind::sha256) {
        for (char& c : out.payload_hash)
            c = ascii_lower(c);
    }
    out.amz_date.assign(in.amz_date);
    out.scope.assign(scope_str);
    out.signature.assign(in.signature);
    append_signed_headers(out.signed_headers, names);
    if (*payload == payload_kind::streaming_signed ||
        *payload == payload_kind::streaming_signed_trailer) {
        out.signing_key =
            keys.get(scope->access_key, cred->second, scope->date, scope->region, scope->service);
    }
    return out;
}

} // namespace s3ha::sigv4
