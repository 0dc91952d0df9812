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
    std::string scratch;
    auto name = percent_decode_view(raw_name, true, scratch);
    if (!name) return false;
    static constexpr std::string_view names[] = {
        "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};
    return std::find(std::begin(names), std::end(names), *name) != std::end(names);
}

// Headers the upstream signature covers besides host: what S3 needs signed (x-amz-*) and what
// protects the body's meaning (content-md5, content-type).
bool is_signed_upstream_icase(std::string_view name) {
    return equals_lower(name, "content-md5") || equals_lower(name, "content-type") ||
           (name.size() > 6 && starts_with_lower(name, "x-amz-"));
}

} // namespace

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

// Per-thread buffers: signing allocates only the returned signature and what Beast copies.
struct sign_workspace {
    std::vector<std::string> name_pool; // lower-cased names; strings keep their capacity
    std::vector<std::string_view> names;
    std::string creq, sts, scope, authorization;
};
sign_workspace& thread_sign_workspace() {
    thread_local sign_workspace ws = [] {
        sign_workspace w;
        w.name_pool.resize(16);
        w.names.reserve(16);
        w.creq.reserve(2048);
        w.sts.reserve(256);
        w.scope.reserve(64);
        w.authorization.reserve(512);
        return w;
    }();
    return ws;
}

} // namespace

result<std::string> sign_request(http::request_header<>& req, const signing_params& p,
                                 std::string_view payload_hash,
                                 std::chrono::system_clock::time_point now,
                                 signing_key_cache& keys) {
    char amz_date_buf[16];
    {
        const std::string d = format_amz_date(now); // 16 chars: fits the SSO buffer
        std::copy(d.begin(), d.end(), amz_date_buf);
    }
    const std::string_view amz_date(amz_date_buf, sizeof amz_date_buf);
    const std::string_view date = amz_date.substr(0, 8);
    req.set(http::field::host, p.host);
    req.set("X-Amz-Date", amz_date);
    req.set("X-Amz-Content-Sha256", payload_hash);

    // Names to sign, lower-cased, sorted, unique (a repeated header is one entry).
    sign_workspace& ws = thread_sign_workspace();
    std::size_t count = 0;
    auto add = [&](std::string_view name) {
        if (count == ws.name_pool.size()) ws.name_pool.emplace_back();
        std::string& n = ws.name_pool[count++];
        n.assign(name);
        for (char& c : n)
            c = ascii_lower(c);
    };
    add("host");
    for (const auto& f : req) {
        auto name = f.name_string();
        if (is_signed_upstream_icase(name)) add(name);
    }
    ws.names.assign(ws.name_pool.begin(),
                    ws.name_pool.begin() + static_cast<std::ptrdiff_t>(count));
    std::sort(ws.names.begin(), ws.names.end());
    ws.names.erase(std::unique(ws.names.begin(), ws.names.end()), ws.names.end());

    const auto target = split_target(req.target());
    std::string& creq = ws.creq;
    creq.clear();
    std::size_t signed_begin = 0;
    switch (append_canonical_request_head(creq, req, target, ws.names, false, &signed_begin)) {
    case canonical_status::ok: break;
    case canonical_status::bad_uri: return errc::invalid_uri;
    case canonical_status::missing_header: return errc::internal_error; // names came from req
    }
    const std::size_t signed_length = creq.size() - signed_begin - 1; // without its '\n'
    creq.append(payload_hash);
    // The signed-headers line for the Authorization header; a view taken only now, after the last
    // append to creq, cannot dangle.
    const std::string_view signed_headers(creq.data() + signed_begin, signed_length);

    std::string& scope = ws.scope;
    scope.clear();
    scope.append(date).append("/").append(p.region).append("/").append(k_service).append("/");
    scope.append(k_terminator);
    ws.sts.clear();
    append_string_to_sign(ws.sts, amz_date, scope, creq);
    const auto& key = keys.hmac(p.access_key, p.secret_key, date, p.region, k_service);
    const signature_chars sig = signature_of(key, ws.sts);
    const std::string_view sig_view(sig.data(), sig.size());

    std::string& authorization = ws.authorization;
    authorization.clear();
    authorization.append(k_algorithm)
        .append(" Credential=")
        .append(p.access_key)
        .append("/")
        .append(scope)
        .append(", SignedHeaders=")
        .append(signed_headers)
        .append(", Signature=")
        .append(sig_view);
    req.set(http::field::authorization, authorization);
    return std::string(sig_view);
}

} // namespace s3ha::sigv4
