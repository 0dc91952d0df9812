// A byte stream that is either plain TCP or TLS over TCP, chosen at run time. Both sides of the
// proxy use it (downstream: server.tls; upstream: an https backend), so the session, forwarder
// and relay are written once instead of being templates over four stream combinations. It models
// Asio's AsyncReadStream/AsyncWriteStream, so Beast's http::async_read/async_write take it.
// Deadlines: expires_after bounds every read and write started until the next call (except
// request-body reads: read_deadline.hpp). On expiry the socket is closed and the pending
// operation fails with beast::error::timeout, as with beast::tcp_stream. A plain stream checks its
// deadline in its io_context's deadline_sweep (up to deadline_sweep::k_tick late, without a timer
// per operation); a TLS stream uses its tcp_stream's timer.
// Thread affinity: one strand (the worker's io_context thread).
#pragma once

#include "s3ha/core/deadline_sweep.hpp"
#include "s3ha/core/net.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace s3ha {

namespace detail {

// The completion handler of a plain stream's read or write: ends the operation's share of the
// deadline and reports a close by the sweep as a timeout.
template <class Handler> struct deadline_handler {
    Handler handler;
    boost::intrusive_ptr<stream_deadline> deadline;

    void operator()(error_code ec, std::size_t n) {
        --deadline->pending;
        if (ec == net::error::operation_aborted && deadline->expired) ec = beast::error::timeout;
        deadline.reset();
        std::move(handler)(ec, n);
    }
};

} // namespace detail

class any_stream {
public:
    using executor_type = tcp_stream::executor_type;
    using tls_stream = beast::ssl_stream<tcp_stream>;

    /// A plain TCP stream.
    explicit any_stream(tcp_stream tcp)
        : tcp_(std::move(tcp)), deadline_(new stream_deadline),
          sweep_(&net::use_service<deadline_sweep>(tcp_->get_executor().context())) {
        deadline_->socket = &tcp_->socket();
    }
    /// A TLS stream over tcp (the handshake is the caller's).
    any_stream(tcp_stream tcp, net::ssl::context& ctx)
        : tls_(std::make_unique<tls_stream>(std::move(tcp), ctx)) {}

    any_stream(any_stream&& other) noexcept
        : tcp_(std::move(other.tcp_)), tls_(std::move(other.tls_)),
          deadline_(std::move(other.deadline_)), sweep_(other.sweep_) {
        // tcp_stream's move gives it a new socket object.
        if (deadline_) deadline_->socket = &tcp_->socket();
    }
    any_stream& operator=(any_stream&&) = delete;
    any_stream(const any_stream&) = delete;
    any_stream& operator=(const any_stream&) = delete;
    ~any_stream() {
        if (deadline_) {
            deadline_->socket = nullptr;
            deadline_sweep::disarm(*deadline_);
        }
    }

    /// Every read and write started from now on must complete within `timeout`.
    void expires_after(std::chrono::milliseconds timeout) {
        if (tls_)
            tls_->next_layer().expires_after(timeout);
        else
            sweep_->arm(*deadline_, timeout);
    }
    /// No deadline.
    void expires_never() {
        if (tls_)
            tls_->next_layer().expires_never();
        else
            deadline_sweep::disarm(*deadline_);
    }

    executor_type get_executor() noexcept { return tcp().get_executor(); }
    bool is_tls() const noexcept { return tls_ != nullptr; }
    /// The TCP layer: socket options, close. Its own deadline is not used (see expires_after).
    tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : *tcp_; }
    /// The TLS layer; only when is_tls().
    tls_stream& tls() noexcept { return *tls_; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (tls_) {
                    tls_->async_read_some(b, std::move(handler));
                } else {
                    sweep_->started(*deadline_);
                    tcp_->socket().async_read_some(b, detail::deadline_handler<decltype(handler)>{
                                                          std::move(handler), deadline_});
                }
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (tls_) {
                    tls_->async_write_some(b, std::move(handler));
                } else {
                    sweep_->started(*deadline_);
                    tcp_->socket().async_write_some(b, detail::deadline_handler<decltype(handler)>{
                                                           std::move(handler), deadline_});
                }
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
    boost::intrusive_ptr<stream_deadline> deadline_; ///< plain TCP only
    deadline_sweep* sweep_ = nullptr;                ///< plain TCP only
};

} // namespace s3ha
