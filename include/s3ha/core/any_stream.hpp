// A byte stream that is either plain TCP or TLS over TCP, chosen at run time. Both sides of the
// proxy use it (downstream: server.tls; upstream: an https backend), so the session, forwarder
// and relay are written once instead of being templates over four stream combinations. It models
// Asio's AsyncReadStream/AsyncWriteStream, so Beast's http::async_read/async_write take it; the
// deadline of every operation is the tcp_stream's (tcp().expires_after), except request-body
// reads (read_deadline.hpp).
// Thread affinity: one strand (the worker's io_context thread).
#pragma once

#include "s3ha/core/net.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <optional>

namespace s3ha {

class any_stream {
public:
    using executor_type = tcp_stream::executor_type;
    using tls_stream = beast::ssl_stream<tcp_stream>;

    /// A plain TCP stream.
    explicit any_stream(tcp_stream tcp) : tcp_(std::move(tcp)) {}
    /// A TLS stream over tcp (the handshake is the caller's).
    any_stream(tcp_stream tcp, net::ssl::context& ctx)
        : tls_(std::make_unique<tls_stream>(std::move(tcp), ctx)) {}

    executor_type get_executor() noexcept { return tcp().get_executor(); }
    bool is_tls() const noexcept { return tls_ != nullptr; }
    /// The TCP layer: deadlines (expires_after), close, socket options.
    tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : *tcp_; }
    /// The TLS layer; only when is_tls().
    tls_stream& tls() noexcept { return *tls_; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (tls_)
                    tls_->async_read_some(b, std::move(handler));
                else
                    tcp_->async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (tls_)
                    tls_->async_write_some(b, std::move(handler));
                else
                    tcp_->async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

    /// Writes what the socket takes right now, without waiting: plain TCP only (a TLS stream
    /// takes nothing this way: 0). Returns the bytes written; ec is set for a real error, never
    /// for a full socket buffer. No deadline needed: it never blocks.
    template <class ConstBuffers>
    std::size_t write_now(const ConstBuffers& buffers, error_code& ec) {
        ec = {};
        if (tls_) return 0;
        auto& sock = tcp_->socket();
        if (!sock.non_blocking()) {
            sock.non_blocking(true, ec); // NOLINT(bugprone-unused-return-value)
            if (ec) {
                ec = {};
                return 0;
            }
        }
        const std::size_t n = sock.write_some(buffers, ec);
        if (ec == net::error::would_block || ec == net::error::try_again) {
            ec = {};
            return 0;
        }
        return n;
    }

    /// Closes the socket (no TLS close_notify): pending operations complete with
    /// operation_aborted.
    void close() noexcept {
        error_code ec;
        tcp().socket().shutdown(tcp_socket::shutdown_both, ec);
        tcp().close();
    }

    /// Closes with a TCP reset (SO_LINGER 0) so the peer cannot mistake the end of a
    /// half-sent body for a complete one: how a request is aborted mid-body.
    void abort() noexcept {
        error_code ec;
        tcp().socket().set_option(net::socket_base::linger(true, 0), ec);
        tcp().close();
    }

private:
    std::optional<tcp_stream> tcp_;
    std::unique_ptr<tls_stream> tls_;
};

} // namespace s3ha
