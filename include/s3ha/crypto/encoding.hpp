// Hex, base64 and base64url encodings and a constant-time comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace s3ha::crypto {

/// Lower-case hex of raw bytes.
std::string to_hex(std::string_view bytes);
/// Raw bytes of a hex string (either case); nullopt when it is not hex of even length.
std::optional<std::string> from_hex(std::string_view hex);
/// Standard base64 (with padding) of raw bytes.
std::string base64_encode(std::string_view bytes);
/// Raw bytes of standard base64 with padding; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view b64);
/// base64url (RFC 4648 §5: '-' and '_' for '+' and '/') without padding.
std::string base64url_encode(std::string_view bytes);
/// Raw bytes of unpadded base64url; nullopt on any other character, on padding, on an impossible
/// length, or on a non-canonical encoding (unused low bits set), so every byte string has
/// exactly one accepted spelling.
std::optional<std::string> base64url_decode(std::string_view b64url);
/// Equality that takes the same time whatever the content (for signatures). Lengths may differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace s3ha::crypto
