#include "s3ha/proxy/proxy_context.hpp"

#include <fmt/format.h>

namespace s3ha::proxy {

namespace {

// Writes v as upper-case hex, zero-padded to `width` digits (fmt's {:0<width>X}), and returns
// the end. By hand: it runs for every request, and fmt::format parses its format string at run
// time each call.
char* put_hex(char* out, std::uint64_t v, int width) {
    char digits[16];
    int n = 0;
    do {
        digits[n++] = "0123456789ABCDEF"[v & 0xfU];
        v >>= 4;
    } while (v != 0);
    for (int i = n; i < width; ++i)
        *out++ = '0';
    while (n > 0)
        *out++ = digits[--n];
    return out;
}

} // namespace

std::string format_request_id(std::uint32_t prefix, unsigned worker, std::uint64_t counter) {
    char id[32]; // 8 + 2 + at most 16 digits
    char* end = put_hex(id, prefix, 8);
    end = put_hex(end, worker & 0xffU, 2);
    end = put_hex(end, counter, 6);
    return std::string(id, end);
}

std::string proxy_context::new_request_id() {
    return format_request_id(request_id_prefix, worker_id, ++next_request);
}

std::string proxy_context::new_connection_id() {
    return fmt::format("w{}c{}", worker_id, ++next_connection);
}

} // namespace s3ha::proxy
