// The bytes of an HTTP/1.1 message header, as Beast's serializer writes them (start line, the
// fields in their stored order, the blank line), appended to a flat string. The data path writes
// that string and the body bytes with one gather write: Beast's serializer reaches the same bytes
// through nested buffer-sequence views whose iteration cost more CPU than the rest of a small
// response's user-space work (bench/README.md). Beast adds no field of its own when it
// serializes; neither does this.
#pragma once

#include "s3ha/core/net.hpp"

#include <string>
#include <string_view>

namespace s3ha {

/// "HTTP/x.y code reason\r\n" (the stored reason, else the standard one), fields, "\r\n".
void append_header(std::string& out, const http::response_header<>& h);

/// The status line alone, "HTTP/x.y code reason\r\n", with another HTTP version than h's.
void append_status_line(std::string& out, const http::response_header<>& h, unsigned version);
/// The same from its parts (reason as given: the caller substitutes a standard one).
void append_status_line(std::string& out, unsigned code, std::string_view reason, unsigned version);
/// One field line, "name: value\r\n".
void append_field(std::string& out, std::string_view name, std::string_view value);

} // namespace s3ha
