// Fuzz target: request header -> framing check -> verifier -> upstream request, with a
// differential oracle: whatever s3ha forwards must parse, the way Go's net/http (MinIO) parses it,
// to what s3ha verified.
//
// Input: 4 bytes choosing which header fields the client signs (bit i: the i-th distinct name),
// then a raw HTTP/1.x request header. The target signs the request itself with a test key (the
// fuzzer could never forge a signature), so every input reaches the verifier's own checks and,
// when it is accepted, the upstream request builder.
//
// Oracle, for every request the verifier accepts and the builder builds (refusing is always
// allowed):
//  1. the upstream header parses as one complete HTTP/1.1 header, by Beast and by a model of
//     Go's net/http request parsing (request line, url.ParseRequestURI, url.ParseQuery,
//     textproto headers; written from Go's documented behaviour);
//  2. Go's decoded path is the decoded path the client signed;
//  3. Go's query is exactly the signed canonical query: each signed parameter once, with the
//     signed value, and nothing else (a raw ';' or a repeated name breaks this);
//  4. every header the client signed arrives once, with a value that canonicalises to the signed
//     one, unless s3ha replaces it (host, x-amz-date, x-amz-content-sha256, framing, hop-by-hop,
//     client authentication);
//  5. every other upstream header is s3ha's own or on the unsigned allow-list, and the upstream
//     SignedHeaders names nothing the client did not sign besides host, x-amz-date and
//     x-amz-content-sha256;
//  6. the backend's verifier accepts the upstream request with the backend's key.
// Reproducers of issue 17 (raw ';', repeated query names, a signed header split into two
// fields, a year-4048 X-Amz-Date, a parameter without '=') are in the seed corpus.
#include <utility>

#include "fuzz_check.hpp"
#include "s3ha/config/config.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/http/request_framing.hpp"
#include "s3ha/http/s3_request.hpp"
#include "s3ha/proxy/multipart_rewrite.hpp"
#include "s3ha/proxy/upstream_request.hpp"
#include "s3ha/sigv4/canonical.hpp"
#include "s3ha/sigv4/header_rule.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"
#include "s3ha/sigv4/verifier.hpp"
#include "s3ha/upstream/backend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace s3ha;
using namespace std::chrono_literals;

constexpr std::string_view k_client_key = "AKFUZZ";
constexpr std::string_view k_client_secret = "fuzz-client-secret";
constexpr std::string_view k_now_date = "20240101T120000Z";

// An oracle violation: libFuzzer records the abort as a crash, with the input as reproducer.
void check(bool ok, const char* what, std::string_view detail = {}) {
    if (!ok) fuzz::oracle_failed(__FILE__, __LINE__, what, detail);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

std::string canonical_value(std::string_view v) {
    std::string out;
    sigv4::append_canonical_header_value(out, v);
    return out;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Go's url.unescape: '%' needs two hex digits; '+' is a space only in query mode.
std::optional<std::string> go_unescape(std::string_view s, bool query) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex(s[i + 1]);
            const int lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (s[i] == '+' && query) {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

struct go_request {
    std::string method;
    std::string path; // decoded
    std::map<std::string, std::vector<std::string>> query;
    std::vector<std::pair<std::string, std::string>> fields; // lower-case name, trimmed value
    std::vector<std::string> values(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : fields) {
            if (n == name) out.push_back(v);
        }
        return out;
    }
};

bool go_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Go's http.ReadRequest as far as the header goes: request line, url.ParseRequestURI (an
// origin-form target: path up to the first '?', the rest the raw query; no CTL byte), the path
// unescaped in path mode, url.ParseQuery (pieces split on '&'; a piece holding ';' is an error
// and skipped; empty keys skipped; key and value unescaped in query mode, a bad escape skips the
// piece), and textproto header lines (token names, values trimmed of spaces and tabs, no CTL).
std::optional<go_request> go_parse(std::string_view text) {
    go_request r;
    auto line_end = text.find("\r\n");
    if (line_end == std::string_view::npos) return std::nullopt;
    const std::string_view line = text.substr(0, line_end);
    text.remove_prefix(line_end + 2);
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    r.method = std::string(line.substr(0, sp1));
    const auto rest = line.substr(sp1 + 1);
    const auto sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos || rest.substr(sp2 + 1) != "HTTP/1.1") return std::nullopt;
    const auto uri = rest.substr(0, sp2);
    if (uri.empty() || uri.front() != '/') return std::nullopt;
    for (char c : uri) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
    const auto q = uri.find('?');
    auto path = go_unescape(uri.substr(0, q), false);
    if (!path) return std::nullopt;
    r.path = *path;
    if (q != std::string_view::npos) {
        std::string_view raw = uri.substr(q + 1);
        while (!raw.empty()) {
            const auto amp = raw.find('&');
            const std::string_view piece = raw.substr(0, amp);
            raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
            if (piece.find(';') != std::string_view::npos) continue;
            if (piece.empty()) continue;
            const auto eq = piece.find('=');
            auto k = go_unescape(piece.substr(0, eq), true);
            auto v = go_unescape(eq == std::string_view::npos ? "" : piece.substr(eq + 1), true);
            if (!k || !v) continue;
            r.query[*k].push_back(*v);
        }
    }
    while (true) {
        line_end = text.find("\r\n");
        if (line_end == std::string_view::npos) return std::nullopt;
        const std::string_view field = text.substr(0, line_end);
        text.remove_prefix(line_end + 2);
        if (field.empty()) break;
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        const auto name = field.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), go_token_char)) return std::nullopt;
        const auto value = trim_ows(field.substr(colon + 1));
        for (char c : value) {
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return std::nullopt;
        }
        r.fields.emplace_back(lower(name), std::string(value));
    }
    if (!text.empty()) return std::nullopt; // nothing may follow the header
    return r;
}

// Fields s3ha sets itself or removes by design, whether or not the client signed them.
bool replaced_by_s3ha(std::string_view name) {
    for (std::string_view n :
         {"host", "x-amz-date", "x-amz-content-sha256", "authorization", "x-amz-security-token",
          "content-length", "transfer-encoding", "expect", "connection", "keep-alive", "te",
          "trailer", "upgrade", "via"}) {
        if (name == n) return true;
    }
    return name.starts_with("proxy-");
}

upstream::backend& fuzz_backend() {
    static upstream::backend b = [] {
        backend_config c;
        c.name = "b0";
        c.endpoint.scheme = "http";
        c.endpoint.host = "10.0.0.5";
        c.endpoint.port = 9000;
        c.region = "eu-west-1";
        c.access_key = "AKBACKEND";
        c.secret_key = "backend-secret";
        c.aws_chunked = aws_chunked_mode::forward;
        return upstream::backend(c, 0);
    }();
    return b;
}

std::vector<backend_config>& fuzz_backend_configs() {
    static std::vector<backend_config> v{fuzz_backend().config()};
    return v;
}

void run(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return;
    const std::uint32_t mask =
        static_cast<std::uint32_t>(data[0]) | static_cast<std::uint32_t>(data[1]) << 8 |
        static_cast<std::uint32_t>(data[2]) << 16 | static_cast<std::uint32_t>(data[3]) << 24;
    std::string text(reinterpret_cast<const char*>(data + 4), size - 4);
    if (text.find("\r\n\r\n") == std::string::npos) text += "\r\n\r\n";

    http::request_parser<http::empty_body> parser;
    parser.eager(false);
    parser.header_limit(64 * 1024);
    error_code ec;
    parser.put(net::buffer(text), ec);
    if (ec || !parser.is_header_done()) return;
    http::request_header<> req = parser.get().base();

    // The client's signature: host, x-amz-date, x-amz-content-sha256 and a chosen subset.
    req.erase(http::field::authorization);
    if (req.count(http::field::host) == 0) req.set(http::field::host, "s3ha.fuzz");
    if (req.count("x-amz-date") == 0) req.set("x-amz-date", k_now_date);
    if (req.count("x-amz-content-sha256") == 0) req.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    std::vector<std::string> names;
    for (const auto& f : req) {
        const auto n = lower(f.name_string());
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    std::vector<std::string> chosen;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const bool always =
            names[i] == "host" || names[i] == "x-amz-date" || names[i] == "x-amz-content-sha256";
        if (always || (i < 32 && (mask >> i & 1U) != 0)) chosen.push_back(names[i]);
    }
    std::sort(chosen.begin(), chosen.end());
    const std::vector<std::string_view> signed_names(chosen.begin(), chosen.end());
    const std::string amz_date(req["x-amz-date"]);
    const std::string date = amz_date.size() >= 8 ? amz_date.substr(0, 8) : "20240101";
    std::string creq;
    const auto target = sigv4::split_target(req.target());
    if (sigv4::append_canonical_request_head(creq, req, target, signed_names, false) !=
        sigv4::canonical_status::ok) {
        return;
    }
    creq.append(req["x-amz-content-sha256"]);
    const std::string scope = sigv4::credential_scope(date, "us-east-1", "s3");
    thread_local sigv4::signing_key_cache keys;
    const auto sig =
        sigv4::signature_of(keys.hmac(k_client_key, k_client_secret, date, "us-east-1", "s3"),
                            sigv4::string_to_sign(amz_date, scope, creq));
    req.set(http::field::authorization, std::string("AWS4-HMAC-SHA256 Credential=")
                                            .append(k_client_key)
                                            .append("/")
                                            .append(scope)
                                            .append(", SignedHeaders=")
                                            .append(sigv4::signed_headers_string(signed_names))
                                            .append(", Signature=")
                                            .append(sig.data(), sig.size()));

    // s3ha's own path, as forwarder::handle runs it.
    if (check_request_framing(req)) return;
    auto address = resolve_s3_address(req[http::field::host], req.target(), {});
    if (!address) return;
    static const sigv4::verifier client_verifier(
        "us-east-1", {{std::string(k_client_key), std::string(k_client_secret)}});
    const auto now = *sigv4::parse_amz_date(k_now_date);
    std::string detail;
    auto verified = client_verifier.verify(req, now, keys, &detail);
    if (!verified) return;
    auto routing = proxy::translate_upload_ids(address->query, fuzz_backend_configs());
    if (!routing || routing->query) return; // an upload id: rewritten by design
    std::optional<std::uint64_t> content_length;
    if (auto cl = parser.content_length()) content_length = *cl;
    auto up = proxy::build_upstream_request({req, content_length, parser.chunked()}, *address,
                                            &*verified, fuzz_backend(), "s3ha-fuzz", now, keys);
    if (!up) return;

    // 1. It parses, by Beast and by Go's rules.
    http::request_parser<http::empty_body> beast_up;
    beast_up.eager(false);
    const auto used = beast_up.put(net::buffer(up->header), ec);
    check(!ec && beast_up.is_header_done() && used == up->header.size(), "Beast cannot parse",
          up->header);
    const auto go = go_parse(up->header);
    check(go.has_value(), "Go cannot parse", up->header);
    check(go->method == req.method_string(), "method", go->method);

    // 2. The path the client signed.
    const auto signed_path = sigv4::percent_decode(target.path.empty() ? "/" : target.path, false);
    check(signed_path && go->path == *signed_path, "path", go->path);

    // 3. The query the client signed, each parameter once.
    std::map<std::string, std::vector<std::string>> signed_query;
    sigv4::for_each_query_param(target.query, [&](std::string_view n, std::string_view v) {
        auto dn = sigv4::percent_decode(n, true);
        auto dv = sigv4::percent_decode(v, true);
        check(dn && dv, "verified a bad escape");
        // The client's authentication parameters never go upstream (by design).
        for (std::string_view auth :
             {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
              "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}) {
            if (*dn == auth) return true;
        }
        signed_query[*dn].push_back(*dv);
        return true;
    });
    check(go->query == signed_query, "query", up->header);
    for (const auto& [n, v] : signed_query)
        check(v.size() == 1, "a signed query name twice", n);

    // 4. Every signed header arrives once, as signed.
    for (const auto& n : chosen) {
        if (replaced_by_s3ha(n)) continue;
        const auto sent = go->values(n);
        check(sent.size() == 1, "signed header not forwarded exactly once", n);
        check(canonical_value(sent.front()) == canonical_value(req[n]), "signed header value", n);
    }
    // 5. Nothing else but s3ha's own and the allow-list; signed upstream only what was signed.
    const auto method = req.method();
    for (const auto& [n, v] : go->fields) {
        if (std::find(chosen.begin(), chosen.end(), n) != chosen.end()) continue;
        if (n == "host" || n == "x-amz-date" || n == "x-amz-content-sha256" ||
            n == "authorization" || n == "content-length" || n == "transfer-encoding" ||
            n == "via") {
            continue;
        }
        check(sigv4::classify_unsigned_header(n, method, false) == sigv4::unsigned_header::forward,
              "an unsigned header forwarded that the rule does not allow", n);
    }
    const auto auth = go->values("authorization");
    check(auth.size() == 1, "upstream Authorization");
    const auto sh_begin = auth.front().find("SignedHeaders=") + 14;
    std::string_view sh(auth.front());
    sh = sh.substr(sh_begin, sh.find(',', sh_begin) - sh_begin);
    while (!sh.empty()) {
        const auto semi = sh.find(';');
        const std::string name(sh.substr(0, semi));
        check(name == "host" || name == "x-amz-date" || name == "x-amz-content-sha256" ||
                  std::find(chosen.begin(), chosen.end(), name) != chosen.end(),
              "signed upstream but not by the client", name);
        if (semi == std::string_view::npos) break;
        sh.remove_prefix(semi + 1);
    }

    // 6. The backend accepts the signature over what is sent.
    static const sigv4::verifier backend_verifier("eu-west-1", {{"AKBACKEND", "backend-secret"}});
    std::string backend_detail;
    auto accepted = backend_verifier.verify(beast_up.get().base(), now, keys, &backend_detail);
    check(accepted.has_value(), "the backend refuses the re-signed request",
          accepted.error().message());
    if (std::getenv("S3HA_FUZZ_VERBOSE") != nullptr) {
        std::fprintf(stderr, "oracle held for:\n%s\n", up->header.c_str());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run(data, size);
    return 0;
}
