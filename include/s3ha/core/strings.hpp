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

} // namespace s3ha
