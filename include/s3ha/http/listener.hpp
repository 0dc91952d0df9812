// The accept loop of one worker. server.max_connections is process-wide (an atomic shared by
// every worker's listener): a connection above it is refused at accept: its session answers
// one 503 SlowDown S3 error (Retry-After, Connection: close) at once, without reading its
// request, and closes after a short, bounded lingering close (never a hang, a header read of up
// to header_read_timeout, or a silent drop).
// Thread affinity: the worker's thread.
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/proxy/proxy_context.hpp"

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>

namespace s3ha {

class listener {
public:
    listener(proxy::proxy_context& ctx, tcp_acceptor acceptor, net::ssl::context* tls,
             std::atomic<std::uint64_t>& connections);

    /// Accepts until stop(); spawns one session per connection on the acceptor's executor.
    awaitable<void> run();
    /// Stops accepting: closes the acceptor (the listening socket).
    void stop() noexcept;

private:
    proxy::proxy_context& ctx_;
    tcp_acceptor acceptor_;
    net::ssl::context* tls_;
    std::atomic<std::uint64_t>& connections_;
};

} // namespace s3ha
