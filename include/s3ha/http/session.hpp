// One downstream connection: HTTP/1.1 keep-alive, requests handled strictly one after another
// (so pipelined requests are answered in order), each handed to a proxy::forwarder.
// Deadlines: server.header_read_timeout for a request header (and the TLS handshake),
// server.idle_timeout between requests, server.body_read_timeout between body bytes (in the
// forwarder; a client stalled mid-body gets 400 RequestTimeout, then the close). Limits:
// server.max_header_size (-> 400 RequestHeaderSectionTooLarge, then close); no body limit (objects
// reach 5 TiB). Malformed HTTP -> 400 S3 XML error, then close. Thread affinity: the worker's
// thread.
#pragma once

#include "s3ha/core/any_stream.hpp"
#include "s3ha/core/net.hpp"
#include "s3ha/proxy/proxy_context.hpp"

#include <boost/asio/ssl/context.hpp>

#include <string>

namespace s3ha {

class session {
public:
    /// tls: the server TLS context when server.tls is on, else nullptr. over_limit: the
    /// connection exceeds server.max_connections; it gets one 503 SlowDown at once, without
    /// its request being read (after the TLS handshake, if any), then a bounded lingering close.
    session(proxy::proxy_context& ctx, tcp_socket socket, net::ssl::context* tls, bool over_limit);

    /// Serves the connection until it closes.
    awaitable<void> run();

private:
    /// The over_limit answer: 503 SlowDown (Retry-After), each step under a short deadline.
    awaitable<void> refuse(any_stream& stream, const std::string& conn_id);

    proxy::proxy_context& ctx_;
    tcp_socket socket_;
    net::ssl::context* tls_;
    bool over_limit_;
};

} // namespace s3ha
