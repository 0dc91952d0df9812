#include "s3ha/proxy/proxy_context.hpp"

#include <fmt/format.h>

namespace s3ha::proxy {

namespace {

// Upper-case hex of v, zero-padded to at least `width` digits (fmt's {:0<width>X}). By hand: it
// runs for every request, and fmt::format parses its format string at run time each call.
void append_hex(std::string& out, std::uint64_t v, int width) {
    char buf[16];
    int n = 0;
    do {
        buf[n++] = "0123456789ABCDEF"[v & 0xfU];
        v >>= 4;
    } while (v != 0);
    for (int i = n; i < width; ++i)
        out.push_back('0');
    while (n > 0)
        out.push_back(buf[--n]);
}

} // namespace

std::string format_request_id(std::uint32_t prefix, unsigned worker, std::uint64_t counter) {
    std::string id;
    id.reserve(24);
    append_hex(id, prefix, 8);
    append_hex(id, worker & 0xffU, 2);
    append_hex(id, counter, 6);
    return id;
}

std::string proxy_context::new_request_id() {
    return format_request_id(request_id_prefix, worker_id, ++next_request);
}

std::string proxy_context::new_connection_id() {
    return fmt::format("w{}c{}", worker_id, ++next_connection);
}

} // namespace s3ha::proxy
