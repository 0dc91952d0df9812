#include "s3ha/config/value_parsers.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <vector>

namespace s3ha::config_values {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string quote(std::string_view s) {
    return "`" + std::string(s) + "`";
}

/// Splits "123unit" into the leading decimal digits and the rest (leading blanks skipped).
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && is_digit(text[i])) {
        ++i;
    }
    std::string_view unit = text.substr(i);
    while (!unit.empty() && unit.front() == ' ') {
        unit.remove_prefix(1);
    }
    return {text.substr(0, i), unit};
}

std::optional<std::uint64_t> to_u64(std::string_view digits) {
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || ptr != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return v;
}

bool valid_host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

bool valid_v6_char(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

struct host_port {
    std::string host;
    std::optional<std::uint64_t> port;
};

/// Parses "host", "host:port", "[v6]" or "[v6]:port". On failure returns a message/hint.
parsed<host_port> parse_host_port(std::string_view text, std::string_view example) {
    using result = parsed<host_port>;
    host_port hp;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            return result::fail("unterminated IPv6 address in " + quote(text),
                                "write IPv6 addresses in brackets, e.g. [::1]:9000");
        }
        std::string_view v6 = text.substr(1, close - 1);
        if (v6.empty() || !std::all_of(v6.begin(), v6.end(), valid_v6_char)) {
            return result::fail("invalid IPv6 address " + quote(v6), "e.g. [::1]:9000");
        }
        hp.host = std::string(v6);
        rest = text.substr(close + 1);
    } else {
        auto colon = text.find(':');
        if (colon != std::string_view::npos &&
            text.find(':', colon + 1) != std::string_view::npos) {
            return result::fail("ambiguous address " + quote(text),
                                "write IPv6 addresses in brackets, e.g. [::1]:9000");
        }
        std::string_view host = text.substr(0, colon);
        if (host.empty()) {
            return result::fail("missing host in " + quote(text), "e.g. " + std::string(example));
        }
        if (!std::all_of(host.begin(), host.end(), valid_host_char)) {
            return result::fail("invalid host name " + quote(host),
                                "use a host name or an IP address, e.g. " + std::string(example));
        }
        hp.host = std::string(host);
        rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':') {
            return result::fail("unexpected " + quote(rest) + " after the host",
                                "e.g. " + std::string(example));
        }
        std::string_view digits = rest.substr(1);
        auto port = to_u64(digits);
        if (digits.empty() || !port || *port > 65535) {
            return result::fail("invalid port " + quote(digits), "a port is a number 0..65535");
        }
        hp.port = port;
    }
    std::transform(hp.host.begin(), hp.host.end(), hp.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result::ok(std::move(hp));
}

} // namespace

parsed<milliseconds> parse_duration(std::string_view text) {
    using result = parsed<milliseconds>;
    const std::string hint = "use an integer and a unit: 250ms, 5s, 2m or 1h";
    auto [digits, unit] = split_number(text);
    if (digits.empty()) {
        return result::fail("invalid duration " + quote(text), hint);
    }
    auto n = to_u64(digits);
    if (unit.empty()) {
        return result::fail("duration " + quote(text) + " has no unit", "add a unit, e.g. 5s");
    }
    std::uint64_t mult = 0;
    if (unit == "ms") {
        mult = 1;
    } else if (unit == "s") {
        mult = 1000;
    } else if (unit == "m") {
        mult = 60'000;
    } else if (unit == "h") {
        mult = 3'600'000;
    } else {
        return result::fail("unknown duration unit " + quote(unit) + " in " + quote(text), hint);
    }
    // Ten years is far beyond any sensible timeout and keeps every later addition overflow-free.
    constexpr std::uint64_t max_ms = 10ULL * 366 * 24 * 3'600'000;
    if (!n || *n > max_ms / mult) {
        return result::fail("duration " + quote(text) + " is too large", "");
    }
    return result::ok(milliseconds(static_cast<milliseconds::rep>(*n * mult)));
}

parsed<std::uint64_t> parse_size(std::string_view text) {
    using result = parsed<std::uint64_t>;
    const std::string hint = "use bytes or a binary unit (B, KiB, MiB, GiB), e.g. 64KiB";
    auto [digits, unit] = split_number(text);
    if (digits.empty()) {
        return result::fail("invalid size " + quote(text), hint);
    }
    auto n = to_u64(digits);
    std::uint64_t mult = 0;
    if (unit.empty() || unit == "B") {
        mult = 1;
    } else if (unit == "KiB") {
        mult = 1ULL << 10;
    } else if (unit == "MiB") {
        mult = 1ULL << 20;
    } else if (unit == "GiB") {
        mult = 1ULL << 30;
    } else {
        return result::fail("unknown size unit " + quote(unit) + " in " + quote(text), hint);
    }
    if (!n || *n > std::numeric_limits<std::uint64_t>::max() / mult) {
        return result::fail("size " + quote(text) + " is too large", "");
    }
    return result::ok(*n * mult);
}

parsed<listen_address> parse_listen_address(std::string_view text) {
    using result = parsed<listen_address>;
    auto hp = parse_host_port(text, "0.0.0.0:9000");
    if (!hp.value) {
        return result::fail(hp.message, hp.hint);
    }
    if (!hp.value->port) {
        return result::fail("missing port in listen address " + quote(text),
                            "use host:port, e.g. 0.0.0.0:9000 (port 0 = any free port)");
    }
    return result::ok(listen_address{hp.value->host, static_cast<std::uint16_t>(*hp.value->port)});
}

parsed<endpoint_config> parse_endpoint(std::string_view text) {
    using result = parsed<endpoint_config>;
    const std::string example = "e.g. http://127.0.0.1:9000";
    auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        return result::fail("endpoint " + quote(text) + " is not a URL", example);
    }
    std::string scheme(text.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "http" && scheme != "https") {
        return result::fail("unsupported URL scheme " + quote(scheme), "use http:// or https://");
    }
    std::string_view rest = text.substr(sep + 3);
    auto end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (authority.find('@') != std::string_view::npos) {
        return result::fail("endpoint must not contain user info",
                            "put the backend's keys in access_key and secret_key");
    }
    if (!tail.empty() && tail != "/") {
        return result::fail("endpoint must not have a path, query or fragment (" + quote(tail) +
                                ")",
                            "give only scheme://host[:port]; request paths are forwarded as is");
    }
    if (authority.empty()) {
        return result::fail("endpoint " + quote(text) + " has no host", example);
    }
    auto hp = parse_host_port(authority, "http://127.0.0.1:9000");
    if (!hp.value) {
        return result::fail(hp.message, hp.hint);
    }
    endpoint_config ep;
    ep.scheme = scheme;
    ep.host = hp.value->host;
    if (hp.value->port) {
        if (*hp.value->port == 0) {
            return result::fail("endpoint port must not be 0", "a port is a number 1..65535");
        }
        ep.port = static_cast<std::uint16_t>(*hp.value->port);
    } else {
        ep.port = scheme == "https" ? 443 : 80;
    }
    return result::ok(std::move(ep));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= m; ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[n][m];
}

} // namespace s3ha::config_values
