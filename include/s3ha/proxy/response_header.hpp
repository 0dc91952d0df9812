// The header a client receives for a backend's response: the backend's status and fields minus
// the hop-by-hop ones (RFC 9110 §7.6.1), plus s3ha's request id and this connection's own framing
// and persistence. One rule set, in two forms: rewritten in place (responses s3ha holds or
// rebuilds) and written straight to bytes (the streamed fast path: no field node erased or
// inserted).
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/http/response_head.hpp"
#include "s3ha/proxy/hop_by_hop.hpp"

#include <string>
#include <string_view>

namespace s3ha::proxy {

/// How the response goes out on the client connection.
struct downstream_framing {
    std::string_view request_id; ///< sent as x-s3ha-request-id (replacing a backend's)
    unsigned version = 11;       ///< the client's HTTP version (10 or 11)
    bool keep_alive = true;      ///< the connection stays open after this response
    bool chunked = false;        ///< s3ha chunks the body (its length is not known)
};

inline constexpr std::string_view k_request_id_field = "x-s3ha-request-id";

/// Rewrites m's header in place: hop-by-hop fields removed, x-s3ha-request-id set, the client's
/// version, Transfer-Encoding: chunked when f.chunked, and Connection as Beast's keep_alive()
/// writes it for that version (close for an HTTP/1.1 connection that ends, keep-alive for an
/// HTTP/1.0 one that stays). A message, not a header: Beast sets those two on a message only.
template <class Body>
void rewrite_response_header(http::response<Body>& m, const downstream_framing& f) {
    strip_hop_by_hop(m);
    m.set(k_request_id_field, f.request_id);
    m.version(f.version);
    if (f.chunked) m.chunked(true);
    m.keep_alive(f.keep_alive);
}

/// Appends the bytes that rewrite_response_header and then append_header (header_writer.hpp)
/// give, without changing h. Head: http::response_header<> or response_head (views).
template <class Head>
void append_rewritten_response_header(std::string& out, const Head& h, const downstream_framing& f);

extern template void append_rewritten_response_header(std::string&, const http::response_header<>&,
                                                      const downstream_framing&);
extern template void append_rewritten_response_header(std::string&, const response_head&,
                                                      const downstream_framing&);

} // namespace s3ha::proxy
