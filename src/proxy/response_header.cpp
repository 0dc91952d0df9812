#include "s3ha/proxy/response_header.hpp"

#include "s3ha/http/header_writer.hpp"

namespace s3ha::proxy {

template <class Head>
void append_rewritten_response_header(std::string& out, const Head& h,
                                      const downstream_framing& f) {
    append_status_line(out, h.result_int(), h.reason(), f.version);
    const hop_by_hop_filter hop_by_hop(h);
    for (const auto& field : h) {
        if (hop_by_hop.drops(field) || beast::iequals(field.name_string(), k_request_id_field)) {
            continue;
        }
        // Chunking drops a Content-Length, as Beast's chunked(true) does (RFC 9112 §6.3).
        if (f.chunked && field.name() == http::field::content_length) continue;
        append_field(out, field.name_string(), field.value());
    }
    append_field(out, k_request_id_field, f.request_id);
    if (f.chunked) append_field(out, "Transfer-Encoding", "chunked");
    // Every Connection field was hop-by-hop: what keep_alive() leaves is at most one token.
    if (f.version >= 11 && !f.keep_alive) append_field(out, "Connection", "close");
    if (f.version < 11 && f.keep_alive) append_field(out, "Connection", "keep-alive");
    out.append("\r\n");
}

template void append_rewritten_response_header(std::string&, const http::response_header<>&,
                                               const downstream_framing&);
template void append_rewritten_response_header(std::string&, const response_head&,
                                               const downstream_framing&);

} // namespace s3ha::proxy
