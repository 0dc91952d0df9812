// Small string helpers shared by the protocol code.
#pragma once

#include <string_view>

namespace s3ha {

/// `s` without leading and trailing optional whitespace (RFC 9110 §5.6.3 OWS: space and tab).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// c in lower case if it is an ASCII upper-case letter (header names, hex): no locale.
constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// s equals `lower` (already lower case) ignoring ASCII case: header and parameter names.
constexpr bool equals_lower(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (ascii_lower(s[i]) != lower[i]) return false;
    }
    return true;
}

/// a equals b ignoring ASCII case (both sides folded; for names that need not be lower case).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

/// s starts with `lower_prefix` (already lower case) ignoring ASCII case.
constexpr bool starts_with_lower(std::string_view s, std::string_view lower_prefix) noexcept {
    return s.size() >= lower_prefix.size() &&
           equals_lower(s.substr(0, lower_prefix.size()), lower_prefix);
}

} // namespace s3ha
