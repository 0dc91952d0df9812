// Pure parsers for the scalar value syntaxes of the configuration (durations, sizes, listen
// addresses, endpoint URLs). The loader applies them to YAML scalars; they know nothing of YAML.
#pragma once

#include "s3ha/config/config.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace s3ha::config_values {

/// A parsed value, or a message and a hint that say why the text is not acceptable.
template <class T> struct parsed {
    std::optional<T> value;
    std::string message;
    std::string hint;

    static parsed ok(T v) { return {std::move(v), {}, {}}; }
    static parsed fail(std::string message, std::string hint) {
        return {std::nullopt, std::move(message), std::move(hint)};
    }
};

/// "250ms", "5s", "2m", "1h" (a non-negative integer and a unit). A bare number is refused.
parsed<milliseconds> parse_duration(std::string_view text);

/// "1048576", "64KiB", "16 MiB", "1GiB", "512B": bytes or binary (1024-based) units.
parsed<std::uint64_t> parse_size(std::string_view text);

/// "host:port" or "[v6]:port"; port 0..65535 (0 = any).
parsed<listen_address> parse_listen_address(std::string_view text);

/// "http://host[:port][/]" or "https://..."; no path, query, fragment or userinfo.
parsed<endpoint_config> parse_endpoint(std::string_view text);

/// Optimal-string-alignment edit distance (a transposition costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

} // namespace s3ha::config_values
