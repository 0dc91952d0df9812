#include "s3ha/sigv4/canonical.hpp"

#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace s3ha::sigv4 {
namespace {

constexpr char k_upper_hex[] = "0123456789ABCDEF";

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
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i];
        if (a >= 'A' && a <= 'Z')
            a = static_cast<char>(a - 'A' + 'a');
        if (a != prefix[i])
            return false;
    }
    return true;
}

// Appends the percent-decoded s to out; false on a malformed escape.
bool append_decoded(std::string& out, std::string_view s, bool plus_as_space) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size())
                return false;
            int hi = hex_digit(s[i + 1]);
            int lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

bool needs_decoding(std::string_view s, bool plus_as_space) {
    for (char c : s) {
        if (c == '%' || (plus_as_space && c == '+'))
            return true;
    }
    return false;
}

// One query parameter, encoded the canonical way.
struct query_param {
    std::string name;
    std::string value;
};

bool less_param(const query_param& a, const query_param& b) {
    if (a.name != b.name)
        return a.name < b.name;
    return a.value < b.value;
}

// Canonical (decode then encode) form of one query name or value, appended to out.
bool append_canonical_component(std::string& out, std::string_view raw, std::string& scratch) {
    if (!needs_decoding(raw, true)) {
        append_uri_encoded(out, raw, true);
        return true;
    }
    scratch.clear();
    if (!append_decoded(scratch, raw, true))
        return false;
    append_uri_encoded(out, scratch, true);
    return true;
}

} // namespace

void append_uri_encoded(std::string& out, std::string_view s, bool encode_slash) {
    for (char ch : s) {
        auto b = static_cast<unsigned char>(ch);
        if (k_unreserved[b] || (ch == '/' && !encode_slash)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(k_upper_hex[b >> 4]);
            out.push_back(k_upper_hex[b & 0xf]);
        }
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
    if (!append_decoded(out, s, plus_as_space))
        return std::nullopt;
    return out;
}

target_parts split_target(std::string_view target) {
    // Absolute-form (RFC 9112 section 3.2.2): keep what follows the authority.
    if (starts_with_icase(target, "http://") || starts_with_icase(target, "https://")) {
        auto after_scheme = target.find("//") + 2;
        auto path_start = target.find_first_of("/?", after_scheme);
        target =
            path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
    auto q = target.find('?');
    if (q == std::string_view::npos)
        return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> canonical_uri(std::string_view raw_path) {
    if (raw_path.empty())
        return std::string("/");
    std::string out;
    out.reserve(raw_path.size() + 16);
    if (!needs_decoding(raw_path, false)) {
        append_uri_encoded(out, raw_path, false);
        return out;
    }
    std::string decoded;
    decoded.reserve(raw_path.size());
    if (!append_decoded(decoded, raw_path, false))
        return std::nullopt;
    append_uri_encoded(out, decoded, false);
    return out;
}

std::optional<std::string> canonical_query(std::string_view raw_query, bool exclude_signature) {
    std::string out;
    if (raw_query.empty())
        return out;

    // Small on the stack in the common case; the vector only grows for long queries.
    std::vector<query_param> params;
    params.reserve(8);
    std::string scratch;
    std::size_t pos = 0;
    while (pos <= raw_query.size()) {
        auto amp = raw_query.find('&', pos);
        if (amp == std::string_view::npos)
            amp = raw_query.size();
        std::string_view piece = raw_query.substr(pos, amp - pos);
        pos = amp + 1;
        if (piece.empty())
            continue;
        auto eq = piece.find('=');
        std::string_view raw_name = piece.substr(0, eq);
        std::string_view raw_value =
            eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        query_param p;
        if (!append_canonical_component(p.name, raw_name, scratch))
            return std::nullopt;
        if (exclude_signature && p.name == "X-Amz-Signature")
            continue;
        if (!append_canonical_component(p.value, raw_value, scratch))
            return std::nullopt;
        params.push_back(std::move(p));
    }
    std::sort(params.begin(), params.end(), less_param);

    std::size_t total = 0;
    for (const auto& p : params)
        total += p.name.size() + p.value.size() + 2;
    out.reserve(total);
    for (const auto& p : params) {
        if (!out.empty())
            out.push_back('&');
        out.append(p.name);
        out.push_back('=');
        out.append(p.value);
    }
    return out;
}

void append_canonical_header_value(std::string& out, std::string_view value) {
    std::size_t b = 0;
    std::size_t e = value.size();
    while (b < e && is_blank(value[b]))
        ++b;
    while (e > b && is_blank(value[e - 1]))
        --e;
    bool in_blank = false;
    for (std::size_t i = b; i < e; ++i) {
        char c = value[i];
        if (is_blank(c)) {
            in_blank = true;
            continue;
        }
        if (in_blank) {
            out.push_back(' ');
            in_blank = false;
        }
        out.push_back(c);
    }
}

std::optional<std::string> canonical_headers(const http::fields& fields,
                                             const std::vector<std::string_view>& signed_headers) {
    std::string out;
    out.reserve(signed_headers.size() * 48);
    for (std::string_view name : signed_headers) {
        // Beast keeps fields of the same name in order of arrival within equal_range.
        auto range = fields.equal_range(name);
        if (range.first == range.second)
            return std::nullopt;
        out.append(name);
        out.push_back(':');
        bool first = true;
        for (auto it = range.first; it != range.second; ++it) {
            if (!first)
                out.push_back(',');
            first = false;
            append_canonical_header_value(out, it->value());
        }
        out.push_back('\n');
    }
    return out;
}

std::string signed_headers_string(const std::vector<std::string_view>& signed_headers) {
    std::string out;
    std::size_t total = 0;
    for (auto n : signed_headers)
        total += n.size() + 1;
    out.reserve(total);
    for (auto n : signed_headers) {
        if (!out.empty())
            out.push_back(';');
        out.append(n);
    }
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

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
    std::string out;
    out.reserve(k_algorithm.size() + amz_date.size() + scope.size() + 64 + 3);
    out.append(k_algorithm);
    out.push_back('\n');
    out.append(amz_date);
    out.push_back('\n');
    out.append(scope);
    out.push_back('\n');
    out.append(crypto::to_hex(crypto::as_bytes(crypto::sha256(canonical_request))));
    return out;
}

std::string signature_hex(std::string_view signing_key, std::string_view string_to_sign) {
    return crypto::to_hex(crypto::as_bytes(crypto::hmac_sha256(signing_key, string_to_sign)));
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

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s) {
    using namespace std::chrono;
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z')
        return std::nullopt;
    auto num = [&](std::size_t at, std::size_t width) -> int {
        int v = 0;
        for (std::size_t i = at; i < at + width; ++i) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    int y = num(0, 4), mo = num(4, 2), d = num(6, 2);
    int h = num(9, 2), mi = num(11, 2), se = num(13, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
        return std::nullopt;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 59)
        return std::nullopt;
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
}

} // namespace s3ha::sigv4
