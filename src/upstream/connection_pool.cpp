#include "s3ha/upstream/connection_pool.hpp"

#include "s3ha/core/errc.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

namespace s3ha::upstream {

namespace {

// A pooled socket the backend has closed (EOF) or that holds unexpected bytes is useless;
// MSG_PEEK|MSG_DONTWAIT tells without consuming anything.
bool looks_alive(connection& c) {
    auto& sock = c.stream().tcp().socket();
    if (!sock.is_open()) return false;
    char byte = 0;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

error_code connect_error(const error_code& ec) {
    return ec == beast::error::timeout ? make_error_code(errc::upstream_timeout)
                                       : make_error_code(errc::upstream_connect_failed);
}

} // namespace

connection_pool::connection_pool(net::any_io_executor ex, upstream_pool_config cfg,
                                 std::size_t backend_count)
    : ex_(std::move(ex)), cfg_(cfg), idle_(backend_count) {
}

net::awaitable<result<std::unique_ptr<connection>>>
connection_pool::acquire(const backend& b, std::chrono::milliseconds connect_timeout,
                         bool fresh_only) {
    auto& idle = idle_.at(b.index());
    const auto now = std::chrono::steady_clock::now();
    while (!fresh_only && !idle.empty()) {
        auto c = std::move(idle.back()); // most recently used first: the warmest connection
        idle.pop_back();
        if (now - c->idle_since_ < cfg_.idle_timeout && looks_alive(*c)) {
            c->reused_ = true;
            co_return std::move(c);
        }
        c->stream().close();
    }

    const auto& ep = b.config().endpoint;
    error_code ec;
    net::ip::tcp::resolver resolver(ex_);
    // Resolution is not covered by tcp_stream's deadline; literal addresses (the usual case)
    // resolve without a lookup.
    auto endpoints = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return make_error_code(errc::upstream_connect_failed);

    beast::tcp_stream tcp(ex_);
    tcp.expires_after(connect_timeout);
    co_await tcp.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return connect_error(ec);
    tcp.socket().set_option(net::ip::tcp::no_delay(true), ec);

    if (!b.is_https()) {
        tcp.expires_never();
        co_return std::make_unique<connection>(any_stream(std::move(tcp)), b);
    }

    auto c = std::make_unique<connection>(any_stream(std::move(tcp), *b.tls_context()), b);
    auto& tls = c->stream().tls();
    const auto& name = b.tls_server_name();
    // SNI (RFC 6066 §3) and the certificate name check (RFC 6125) use the same name.
    if (SSL_set_tlsext_host_name(tls.native_handle(), name.c_str()) != 1) {
        co_return make_error_code(errc::upstream_connect_failed);
    }
    if (b.config().tls.verify) tls.set_verify_callback(net::ssl::host_name_verification(name));
    co_await tls.async_handshake(net::ssl::stream_base::client,
                                 net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return connect_error(ec);
    c->stream().tcp().expires_never();
    co_return std::move(c);
}

void connection_pool::release(std::unique_ptr<connection> c) {
    auto& idle = idle_.at(c->target().index());
    if (idle.size() >= cfg_.max_idle_per_backend || c->buffer().size() != 0) {
        c->stream().close();
        return;
    }
    c->stream().tcp().expires_never();
    c->idle_since_ = std::chrono::steady_clock::now();
    idle.push_back(std::move(c));
}

std::size_t connection_pool::idle_count(const backend& b) const noexcept {
    return b.index() < idle_.size() ? idle_[b.index()].size() : 0;
}

void connection_pool::clear() noexcept {
    for (auto& list : idle_) {
        for (auto& c : list)
            c->stream().close();
        list.clear();
    }
}

} // namespace s3ha::upstream
