// Refusals that depend only on how a request header frames the message, checked before anything
// else reads or forwards it. s3ha always rebuilds the upstream framing (HTTP/1.1, its own
// Content-Length or chunked coding), so what the client's framing means must be unambiguous:
//  - Transfer-Encoding on HTTP/1.0 -> transfer_encoding_on_http10 (400): RFC 9112 §6.1 lets an
//    HTTP/1.0 recipient ignore it, and Go's net/http (MinIO) does, so two readers of the same
//    bytes would disagree about where the body ends;
//  - Transfer-Encoding other than exactly one `chunked` -> unsupported_transfer_encoding (501):
//    s3ha cannot decode gzip or compress, and a coding it does not apply must not be dropped
//    (RFC 9112 §6.3: the framing is then unknown, so the connection must close too);
//  - a Connection token naming anything but a hop-by-hop header (keep-alive, close, te, trailer,
//    upgrade, transfer-encoding, http2-settings, proxy-*) -> connection_names_end_to_end_header
//    (400): a forwarding proxy removes the headers Connection names (RFC 9110 §7.6.1), which
//    would let anyone strip a signed header after the signature was checked.
// https://www.rfc-editor.org/rfc/rfc9112#section-6.3
// https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1
#pragma once

#include "s3ha/core/errc.hpp"
#include "s3ha/core/net.hpp"

#include <string_view>

namespace s3ha {

struct framing_refusal {
    errc code{};             ///< errc{} when the framing is acceptable
    std::string_view name;   ///< the offending header or Connection token (a view of req)
    bool must_close = false; ///< the body's extent is unknown: close after the answer
    explicit operator bool() const noexcept { return code != errc{}; }
};

/// Checks the framing of a parsed request header (Beast has already refused conflicting
/// Content-Length/Transfer-Encoding and malformed lengths).
framing_refusal check_request_framing(const http::request_header<>& req);

} // namespace s3ha
