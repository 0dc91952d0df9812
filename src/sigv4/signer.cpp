#include "s3ha/sigv4/signer.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <algorithm>
#include <vector>

namespace s3ha::sigv4 {
namespace {

constexpr std::string_view k_service = "s3";

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_client_auth_param(std::string_view raw_name) {
    auto name = percent_decode(raw_name, true);
    if (!name)
        return false;
    static constexpr std::string_view names[] = {
        "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};
    return std::find(std::begin(names), std::end(names), *name) != std::end(names);
}

// Headers the upstream signature covers besides host: what S3 needs signed (x-amz-*) and what
// protects the body's meaning (content-md5, content-type).
bool is_signed_upstream(std::string_view lower_name) {
    return lower_name == "content-md5" || lower_name == "content-type" ||
           lower_name.substr(0, 6) == "x-amz-";
}

} // namespace

void strip_client_auth(http::request_header<>& req) {
    req.erase(http::field::authorization);
    req.erase("X-Amz-Security-Token");

    std::string_view target = req.target();
    auto q = target.find('?');
    if (q == std::string_view::npos)
        return;
    std::string_view query = target.substr(q + 1);
    std::string out(target.substr(0, q));
    bool first = true;
    bool changed = false;
    std::size_t pos = 0;
    while (pos <= query.size()) {
        auto amp = query.find('&', pos);
        if (amp == std::string_view::npos)
            amp = query.size();
        std::string_view piece = query.substr(pos, amp - pos);
        pos = amp + 1;
        if (piece.empty())
            continue;
        if (is_client_auth_param(piece.substr(0, piece.find('=')))) {
            changed = true;
            continue;
        }
        out.push_back(first ? '?' : '&');
        first = false;
        out.append(piece);
    }
    if (changed)
        req.target(out);
}

result<std::string> sign_request(http::request_header<>& req, const signing_params& p,
                                 std::string_view payload_hash,
                                 std::chrono::system_clock::time_point now,
                                 signing_key_cache& keys) {
    const std::string amz_date = format_amz_date(now);
    const std::string_view date = std::string_view(amz_date).substr(0, 8);
    req.set(http::field::host, p.host);
    req.set("X-Amz-Date", amz_date);
    req.set("X-Amz-Content-Sha256", payload_hash);

    // Names to sign, lower-cased, sorted, unique (a repeated header is one entry).
    std::vector<std::string> names;
    names.reserve(8);
    names.emplace_back("host");
    for (const auto& f : req) {
        std::string n(f.name_string());
        for (char& c : n)
            c = lower(c);
        if (is_signed_upstream(n))
            names.push_back(std::move(n));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<std::string_view> views(names.begin(), names.end());

    const auto target = split_target(req.target());
    auto c_uri = canonical_uri(target.path);
    auto c_query = canonical_query(target.query);
    if (!c_uri || !c_query)
        return errc::invalid_request;
    auto c_headers = canonical_headers(req, views);
    if (!c_headers)
        return errc::internal_error; // every name came from req itself
    const std::string signed_headers = signed_headers_string(views);
    const std::string creq = canonical_request(req.method_string(), *c_uri, *c_query, *c_headers,
                                               signed_headers, payload_hash);
    const std::string scope = credential_scope(date, p.region, k_service);
    const std::string sts = string_to_sign(amz_date, scope, creq);
    const std::string& key = keys.get(p.access_key, p.secret_key, date, p.region, k_service);
    std::string signature = signature_hex(key, sts);

    std::string authorization;
    authorization.reserve(k_algorithm.size() + p.access_key.size() + scope.size() +
                          signed_headers.size() + signature.size() + 48);
    authorization.append(k_algorithm)
        .append(" Credential=")
        .append(p.access_key)
        .append("/")
        .append(scope)
        .append(", SignedHeaders=")
        .append(signed_headers)
        .append(", Signature=")
        .append(signature);
    req.set(http::field::authorization, authorization);
    return signature;
}

} // namespace s3ha::sigv4
