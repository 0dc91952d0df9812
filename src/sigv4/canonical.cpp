#include "s3ha/sigv4/canonical.hpp"

#include "s3ha/core/strings.hpp"
#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace s3ha::sigv4 {
namespace {

constexpr char k_upper_hex[] = "0123456789ABCDEF";
constexpr char k_lower_hex[] = "0123456789abcdef";

void append_hex(std::string& out, const crypto::sha256_digest& d) {
    char buf[64];
    for (std::size_t i = 0; i < d.size(); ++i) {
        buf[2 * i] = k_lower_hex[d[i] >> 4];
        buf[2 * i + 1] = k_lower_hex[d[i] & 0xf];
    }
    out.append(buf, sizeof buf);
}

// The RFC 3986 unreserved set, which is what AWS UriEncode leaves alone.
constexpr std::array<bool, 256> make_unreserved_table() {
    std::array<bool, 256> t{};
    for (int c = 'A'; c <= 'Z'; ++c)
        t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c)
        t[c] = true;
    for (int c = '0'; c <= '9'; ++c)
        t[c] = true;
    t['-'] = t['.'] = t['_'] = t['~'] = true;
    return t;
}
constexpr std::array<bool, 256> k_unreserved = make_unreserved_table();

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// Position of the first '%' (or '+' when plus_as_space) at or after `from`; s.size() if none.
// memchr: names, values and paths are mostly long runs of plain bytes (a signature is 64).
std::size_t find_escape(std::string_view s, std::size_t from, bool plus_as_space) {
    // An empty view may have a null data(): memchr(nullptr, ..., 0) is undefined behaviour.
    if (from >= s.size()) return s.size();
    const char* begin = s.data() + from;
    std::size_t end = s.size();
    if (const void* pct = std::memchr(begin, '%', end - from)) {
        end = static_cast<std::size_t>(static_cast<const char*>(pct) - s.data());
    }
    if (plus_as_space) {
        if (const void* plus = std::memchr(begin, '+', end - from)) {
            end = static_cast<std::size_t>(static_cast<const char*>(plus) - s.data());
        }
    }
    return end;
}

// Appends the percent-decoded s to out; false on a malformed escape. Copies runs of plain bytes
// in one go: most names, values and paths have few escapes.
bool append_decoded(std::string& out, std::string_view s, bool plus_as_space) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t run = find_escape(s, i, plus_as_space);
        out.append(s.data() + i, run - i);
        if (run == s.size()) break;
        if (s[run] == '+') {
            out.push_back(' ');
            i = run + 1;
            continue;
        }
        if (run + 2 >= s.size()) return false;
        int hi = hex_digit(s[run + 1]);
        int lo = hex_digit(s[run + 2]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<char>((hi << 4) | lo));
        i = run + 3;
    }
    return true;
}

bool needs_decoding(std::string_view s, bool plus_as_space) {
    return find_escape(s, 0, plus_as_space) != s.size();
}

// One query parameter, encoded the canonical way: views of the raw query, or of the per-thread
// arena when it had to be re-encoded.
struct query_param {
    std::string_view name;
    std::string_view value;
};

bool less_param(const query_param& a, const query_param& b) {
    if (a.name != b.name) return a.name < b.name;
    return a.value < b.value;
}

int upper_hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// True when decoding then encoding raw gives raw back: it has only unreserved bytes and escapes
// in upper-case hex of bytes that stay escaped. What SDKs send is in this form, so the usual
// query needs one scan and one copy instead of a decode and an encode.
bool is_canonically_encoded(std::string_view raw) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (k_unreserved[static_cast<unsigned char>(raw[i])]) continue;
        if (raw[i] != '%' || i + 2 >= raw.size()) return false;
        const int hi = upper_hex_digit(raw[i + 1]);
        const int lo = upper_hex_digit(raw[i + 2]);
        if (hi < 0 || lo < 0 || k_unreserved[static_cast<unsigned>((hi << 4) | lo)]) return false;
        i += 2;
    }
    return true;
}

// Canonical (decode then encode) form of one query name or value: raw itself when it is
// already in that form, else the form written to `arena` (whose capacity must not be exceeded,
// so the views of earlier components stay valid). nullopt on a bad escape.
std::optional<std::string_view> canonical_component(std::string_view raw, std::string& arena,
                                                    std::string& scratch) {
    if (is_canonically_encoded(raw)) return raw;
    const std::size_t at = arena.size();
    if (!needs_decoding(raw, true)) {
        append_uri_encoded(arena, raw, true);
    } else {
        scratch.clear();
        if (!append_decoded(scratch, raw, true)) return std::nullopt;
        append_uri_encoded(arena, scratch, true);
    }
    return std::string_view(arena).substr(at);
}

} // namespace

void append_uri_encoded(std::string& out, std::string_view s, bool encode_slash) {
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t run = i;
        while (run < s.size() && (k_unreserved[static_cast<unsigned char>(s[run])] ||
                                  (!encode_slash && s[run] == '/'))) {
            ++run;
        }
        out.append(s.data() + i, run - i);
        if (run == s.size()) break;
        auto b = static_cast<unsigned char>(s[run]);
        const char esc[3] = {'%', k_upper_hex[b >> 4], k_upper_hex[b & 0xf]};
        out.append(esc, 3);
        i = run + 1;
    }
}

std::string uri_encode(std::string_view s, bool encode_slash) {
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    append_uri_encoded(out, s, encode_slash);
    return out;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_as_space) {
    std::string out;
    out.reserve(s.size());
    if (!append_decoded(out, s, plus_as_space)) return std::nullopt;
    return out;
}

std::optional<std::string_view> percent_decode_view(std::string_view s, bool plus_as_space,
                                                    std::string& scratch) {
    if (!needs_decoding(s, plus_as_space)) return s;
    scratch.clear();
    if (!append_decoded(scratch, s, plus_as_space)) return std::nullopt;
    return std::string_view(scratch);
}

bool query_name_is(std::string_view raw_name, std::string_view name) {
    // Decoding never lengthens a name, and most names have nothing to decode.
    if (name.empty()) return raw_name.empty();
    if (raw_name.size() < name.size() || !may_start_with(raw_name, name.front())) return false;
    if (!needs_decoding(raw_name, true)) return raw_name == name;
    std::string scratch;
    auto decoded = percent_decode_view(raw_name, true, scratch);
    return decoded && *decoded == name;
}

target_parts split_target(std::string_view target) {
    // Absolute-form (RFC 9112 section 3.2.2): keep what follows the authority.
    if (starts_with_lower(target, "http://") || starts_with_lower(target, "https://")) {
        auto after_scheme = target.find("//") + 2;
        auto path_start = target.find_first_of("/?", after_scheme);
        target =
            path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
    auto q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

bool append_canonical_uri(std::string& out, std::string_view raw_path) {
    if (raw_path.empty()) {
        out.push_back('/');
        return true;
    }
    if (!needs_decoding(raw_path, false)) {
        append_uri_encoded(out, raw_path, false);
        return true;
    }
    // Per-thread scratch: no allocation once it has grown to the usual path length.
    thread_local std::string decoded;
    decoded.clear();
    if (!append_decoded(decoded, raw_path, false)) return false;
    append_uri_encoded(out, decoded, false);
    return true;
}

std::optional<std::string> canonical_uri(std::string_view raw_path) {
    std::string out;
    out.reserve(raw_path.size() + 16);
    if (!append_canonical_uri(out, raw_path)) return std::nullopt;
    return out;
}

bool append_canonical_query(std::string& out, std::string_view raw_query, bool exclude_signature) {
    if (raw_query.empty()) return true;

    // Per-thread: no allocation once grown. Decoding never lengthens a component and encoding
    // at most triples it, so with this capacity the arena never moves while views point into it.
    thread_local std::vector<query_param> params;
    thread_local std::string arena;
    thread_local std::string scratch;
    params.clear();
    arena.clear();
    arena.reserve(3 * raw_query.size());
    bool ok = true;
    for_each_query_param(raw_query, [&](std::string_view raw_name, std::string_view raw_value) {
        const auto name = canonical_component(raw_name, arena, scratch);
        if (!name) return ok = false;
        if (exclude_signature && *name == "X-Amz-Signature") return true;
        const auto value = canonical_component(raw_value, arena, scratch);
        if (!value) return ok = false;
        params.push_back({*name, *value});
        return true;
    });
    if (!ok) return false;
    std::sort(params.begin(), params.end(), less_param);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i > 0) out.push_back('&');
        out.append(params[i].name);
        out.push_back('=');
        out.append(params[i].value);
    }
    return true;
}

std::optional<std::string> canonical_query(std::string_view raw_query, bool exclude_signature) {
    std::string out;
    out.reserve(raw_query.size() + 16);
    if (!append_canonical_query(out, raw_query, exclude_signature)) return std::nullopt;
    return out;
}

void append_canonical_header_value(std::string& out, std::string_view value) {
    // Most values (hashes, dates, hosts) have no blank to trim or collapse: one copy.
    if (value.empty() || (!is_blank(value.front()) && !is_blank(value.back()) &&
                          std::memchr(value.data(), '\t', value.size()) == nullptr &&
                          value.find("  ") == std::string_view::npos)) {
        out.append(value);
        return;
    }
    std::size_t b = 0;
    std::size_t e = value.size();
    while (b < e && is_blank(value[b]))
        ++b;
    while (e > b && is_blank(value[e - 1]))
        --e;
    // Copy runs between blanks; each run of blanks becomes one space.
    std::size_t i = b;
    while (i < e) {
        std::size_t run = i;
        while (run < e && !is_blank(value[run]))
            ++run;
        out.append(value.data() + i, run - i);
        if (run == e) break;
        out.push_back(' ');
        i = run;
        while (i < e && is_blank(value[i]))
            ++i;
    }
}

bool append_canonical_headers(std::string& out, const http::fields& fields,
                              const std::vector<std::string_view>& signed_headers) {
    // One pass over the fields (they iterate in order of arrival), matching each name against
    // the few signed ones: cheaper than a case-insensitive tree lookup per signed name. Then,
    // per signed name in order, its values in order of arrival. No suspension in here, so the
    // thread_local list cannot be shared by two requests.
    thread_local std::vector<std::pair<std::size_t, std::string_view>> found;
    found.clear();
    for (const auto& f : fields) {
        const std::string_view name = f.name_string();
        for (std::size_t i = 0; i < signed_headers.size(); ++i) {
            if (equals_lower(name, signed_headers[i])) {
                found.emplace_back(i, f.value());
                break;
            }
        }
    }
    for (std::size_t i = 0; i < signed_headers.size(); ++i) {
        out.append(signed_headers[i]);
        out.push_back(':');
        bool present = false;
        for (const auto& [index, value] : found) {
            if (index != i) continue;
            if (present) out.push_back(',');
            present = true;
            append_canonical_header_value(out, value);
        }
        if (!present) return false; // a signed header the request does not have
        out.push_back('\n');
    }
    return true;
}

std::optional<std::string> canonical_headers(const http::fields& fields,
                                             const std::vector<std::string_view>& signed_headers) {
    std::string out;
    out.reserve(signed_headers.size() * 48);
    if (!append_canonical_headers(out, fields, signed_headers)) return std::nullopt;
    return out;
}

void append_signed_headers(std::string& out, const std::vector<std::string_view>& signed_headers) {
    bool first = true;
    for (auto n : signed_headers) {
        if (!first) out.push_back(';');
        first = false;
        out.append(n);
    }
}

std::string signed_headers_string(const std::vector<std::string_view>& signed_headers) {
    std::string out;
    std::size_t total = 0;
    for (auto n : signed_headers)
        total += n.size() + 1;
    out.reserve(total);
    append_signed_headers(out, signed_headers);
    return out;
}

std::string canonical_request(std::string_view method, std::string_view canonical_uri,
                              std::string_view canonical_query, std::string_view canonical_headers,
                              std::string_view signed_headers, std::string_view payload_hash) {
    std::string out;
    out.reserve(method.size() + canonical_uri.size() + canonical_query.size() +
                canonical_headers.size() + signed_headers.size() + payload_hash.size() + 5);
    out.append(method);
    out.push_back('\n');
    out.append(canonical_uri);
    out.push_back('\n');
    out.append(canonical_query);
    out.push_back('\n');
    out.append(canonical_headers);
    out.push_back('\n');
    out.append(signed_headers);
    out.push_back('\n');
    out.append(payload_hash);
    return out;
}

std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service) {
    std::string out;
    out.reserve(date.size() + region.size() + service.size() + k_terminator.size() + 3);
    out.append(date);
    out.push_back('/');
    out.append(region);
    out.push_back('/');
    out.append(service);
    out.push_back('/');
    out.append(k_terminator);
    return out;
}

void append_string_to_sign(std::string& out, std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
    out.append(k_algorithm);
    out.push_back('\n');
    out.append(amz_date);
    out.push_back('\n');
    out.append(scope);
    out.push_back('\n');
    append_hex(out, crypto::sha256(canonical_request));
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
    std::string out;
    out.reserve(k_algorithm.size() + amz_date.size() + scope.size() + 64 + 3);
    append_string_to_sign(out, amz_date, scope, canonical_request);
    return out;
}

signature_chars signature_of(const crypto::hmac_sha256_key& signing_key,
                             std::string_view string_to_sign) {
    const auto mac = signing_key.mac(string_to_sign);
    signature_chars out{};
    for (std::size_t i = 0; i < mac.size(); ++i) {
        out[2 * i] = k_lower_hex[mac[i] >> 4];
        out[2 * i + 1] = k_lower_hex[mac[i] & 0xf];
    }
    return out;
}

std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign) {
    const auto sig = signature_of(crypto::hmac_sha256_key(signing_key), string_to_sign);
    return std::string(sig.data(), sig.size());
}

std::string format_amz_date(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto secs = floor<seconds>(t);
    auto day = floor<days>(secs);
    year_month_day ymd{day};
    hh_mm_ss hms{secs - day};
    auto put = [](char* p, unsigned v, int width) {
        for (int i = width - 1; i >= 0; --i) {
            p[i] = static_cast<char>('0' + v % 10);
            v /= 10;
        }
    };
    std::string out(16, '0');
    put(out.data(), static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
    put(out.data() + 4, static_cast<unsigned>(ymd.month()), 2);
    put(out.data() + 6, static_cast<unsigned>(ymd.day()), 2);
    out[8] = 'T';
    put(out.data() + 9, static_cast<unsigned>(hms.hours().count()), 2);
    put(out.data() + 11, static_cast<unsigned>(hms.minutes().count()), 2);
    put(out.data() + 13, static_cast<unsigned>(hms.seconds().count()), 2);
    out[15] = 'Z';
    return out;
}

std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view s) {
    using namespace std::chrono;
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
    auto num = [&](std::size_t at, std::size_t width) -> int {
        int v = 0;
        for (std::size_t i = at; i < at + width; ++i) {
            if (s[i] < '0' || s[i] > '9') return -1;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    int y = num(0, 4), mo = num(4, 2), d = num(6, 2);
    int h = num(9, 2), mi = num(11, 2), se = num(13, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return std::nullopt;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 59) return std::nullopt;
    return sys_seconds{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{se};
}

namespace {

// a < b for header names, ignoring ASCII case.
bool less_lower(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const char ca = ascii_lower(a[i]);
        const char cb = ascii_lower(b[i]);
        if (ca != cb) return ca < cb;
    }
    return a.size() < b.size();
}

void append_lower(std::string& out, std::string_view s) {
    const std::size_t at = out.size();
    out.append(s);
    for (std::size_t i = at; i < out.size(); ++i)
        out[i] = ascii_lower(out[i]);
}

} // namespace

void sort_header_fields(std::span<header_field> fields) {
    // Insertion sort: stable, in place (std::stable_sort allocates), and a request signs a
    // handful of headers.
    for (std::size_t i = 1; i < fields.size(); ++i) {
        const header_field f = fields[i];
        std::size_t j = i;
        for (; j > 0 && less_lower(f.name, fields[j - 1].name); --j)
            fields[j] = fields[j - 1];
        fields[j] = f;
    }
}

void append_canonical_header_lines(std::string& out, std::span<const header_field> sorted,
                                   std::size_t* signed_headers_begin) {
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const bool repeat = i > 0 && iequals(sorted[i - 1].name, sorted[i].name);
        if (repeat) {
            out.push_back(',');
        } else {
            if (i > 0) out.push_back('\n');
            append_lower(out, sorted[i].name);
            out.push_back(':');
        }
        append_canonical_header_value(out, sorted[i].value);
    }
    out.append(sorted.empty() ? "\n" : "\n\n");
    if (signed_headers_begin != nullptr) *signed_headers_begin = out.size();
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0 && iequals(sorted[i - 1].name, sorted[i].name)) continue;
        if (i > 0) out.push_back(';');
        append_lower(out, sorted[i].name);
    }
    out.push_back('\n');
}

canonical_status append_canonical_request_start(std::string& out, std::string_view method,
                                                target_parts target, bool exclude_signature) {
    out.append(method);
    out.push_back('\n');
    if (!append_canonical_uri(out, target.path)) return canonical_status::bad_uri;
    out.push_back('\n');
    if (!append_canonical_query(out, target.query, exclude_signature)) {
        return canonical_status::bad_uri;
    }
    out.push_back('\n');
    return canonical_status::ok;
}

canonical_status append_canonical_request_head(std::string& out, const http::request_header<>& req,
                                               target_parts target,
                                               const std::vector<std::string_view>& signed_headers,
                                               bool exclude_signature,
                                               std::size_t* signed_headers_begin) {
    if (auto s =
            append_canonical_request_start(out, req.method_string(), target, exclude_signature);
        s != canonical_status::ok) {
        return s;
    }
    if (!append_canonical_headers(out, req, signed_headers)) {
        return canonical_status::missing_header;
    }
    out.push_back('\n');
    if (signed_headers_begin != nullptr) *signed_headers_begin = out.size();
    append_signed_headers(out, signed_headers);
    out.push_back('\n');
    return canonical_status::ok;
}

} // namespace s3ha::sigv4
