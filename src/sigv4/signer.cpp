#include "s3ha/sigv4/signer.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <algorithm>
#include <vector>

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_service = "s3";

bool is_client_auth_param(std::string_view raw_name) {
    if (!may_start_with(raw_name, 'X')) return false;
    std::string scratch;
    auto name = percent_decode_view(raw_name, true, scratch);
    if (!name) return false;
    static constexpr std::string_view names[] = {
        "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};
    return std::find(std::begin(names), std::end(names), *name) != std::end(names);
}

} // namespace

bool is_signed_upstream(std::string_view name) {
    return equals_lower(name, "content-md5") || equals_lower(name, "content-type") ||
           (name.size() > 6 && starts_with_lower(name, "x-amz-"));
}

bool is_client_auth_header(const http::fields::value_type& field) {
    return field.name() == http::field::authorization ||
           equals_lower(field.name_string(), "x-amz-security-token");
}

bool append_query_without_client_auth(std::string& out, std::string_view raw_query) {
    bool first = true;
    bool removed = false;
    for_each_query_param(raw_query, [&](std::string_view name, std::string_view value) {
        if (is_client_auth_param(name)) {
            removed = true;
            return true;
        }
        out.push_back(first ? '?' : '&');
        first = false;
        // Both views point into `raw_query`: copy the parameter exactly as it was sent ("k",
        // "k=", "k=v"). A parameter without '=' has a default-constructed (null) value view.
        const char* end = value.data() != nullptr ? value.data() + value.size() : name.end();
        out.append(name.data(), end);
        return true;
    });
    return removed;
}

namespace {

// Per-thread buffers: signing allocates nothing once they have grown.
struct sign_workspace {
    std::string creq, sts, scope;
};
sign_workspace& thread_sign_workspace() {
    thread_local sign_workspace ws = [] {
        sign_workspace w;
        w.creq.reserve(2048);
        w.sts.reserve(256);
        w.scope.reserve(64);
        return w;
    }();
    return ws;
}

} // namespace

result<signature_chars> append_authorization(std::string& out, const request_to_sign& req,
                                             const signing_params& p, signing_key_cache& keys) {
    const std::string_view date = req.amz_date.substr(0, 8);
    sort_header_fields(req.headers);
    sign_workspace& ws = thread_sign_workspace();
    std::string& creq = ws.creq;
    creq.clear();
    if (append_canonical_request_start(creq, req.method, split_target(req.target), false) !=
        canonical_status::ok) {
        return errc::invalid_uri;
    }
    std::size_t signed_begin = 0;
    append_canonical_header_lines(creq, req.headers, &signed_begin);
    const std::size_t signed_length = creq.size() - signed_begin - 1; // without its '\n'
    creq.append(req.payload_hash);
    // A view taken only now, after the last append to creq, cannot dangle.
    const std::string_view signed_headers(creq.data() + signed_begin, signed_length);

    std::string& scope = ws.scope;
    scope.clear();
    scope.append(date).append("/").append(p.region).append("/").append(k_service).append("/");
    scope.append(k_terminator);
    ws.sts.clear();
    append_string_to_sign(ws.sts, req.amz_date, scope, creq);
    const auto& key = keys.hmac(p.access_key, p.secret_key, date, p.region, k_service);
    const signature_chars sig = signature_of(key, ws.sts);

    out.append(k_algorithm)
        .append(" Credential=")
        .append(p.access_key)
        .append("/")
        .append(scope)
        .append(", SignedHeaders=")
        .append(signed_headers)
        .append(", Signature=")
        .append(sig.data(), sig.size());
    return sig;
}

result<std::string> sign_request(http::request_header<>& req, const signing_params& p,
                                 std::string_view payload_hash,
                                 std::chrono::system_clock::time_point now,
                                 signing_key_cache& keys) {
    const std::string amz_date = format_amz_date(now);
    req.set(http::field::host, p.host);
    req.set("X-Amz-Date", amz_date);
    req.set("X-Amz-Content-Sha256", payload_hash);
    std::vector<header_field> fields;
    for (const auto& f : req) {
        if (f.name() == http::field::host || is_signed_upstream(f.name_string())) {
            fields.push_back({f.name_string(), f.value()});
        }
    }
    std::string authorization;
    auto sig = append_authorization(
        authorization, {req.method_string(), req.target(), fields, payload_hash, amz_date}, p,
        keys);
    if (!sig) return sig.error();
    req.set(http::field::authorization, authorization);
    return std::string(sig->data(), sig->size());
}

} // namespace s3ha::sigv4
