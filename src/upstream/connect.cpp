#include "s3ha/upstream/connect.hpp"

#include "s3ha/core/errc.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace s3ha::upstream {

namespace {

error_code connect_error(const error_code& ec) {
    return ec == beast::error::timeout ? make_error_code(errc::upstream_timeout)
                                       : make_error_code(errc::upstream_connect_failed);
}

// A failed handshake: the deadline, a certificate that did not verify (chain or name; the log
// then says why instead of a bare "connect failed"), or any other TLS failure.
error_code handshake_error(const error_code& ec, SSL* ssl) {
    if (ec == beast::error::timeout) return make_error_code(errc::upstream_timeout);
    const bool verify_failed =
        (ec.category() == net::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == // NOLINT(google-runtime-int)
             SSL_R_CERTIFICATE_VERIFY_FAILED) ||
        SSL_get_verify_result(ssl) != X509_V_OK;
    return make_error_code(verify_failed ? errc::upstream_certificate_verify_failed
                                         : errc::upstream_tls_failed);
}

} // namespace

awaitable<result<any_stream>> connect(executor ex, const backend& b,
                                      std::chrono::milliseconds timeout) {
    const auto& ep = b.config().endpoint;
    error_code ec;
    tcp_resolver resolver(ex);
    // Resolution is not covered by tcp_stream's deadline; literal addresses (the usual case)
    // resolve without a lookup.
    auto endpoints = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                     net::redirect_error(use_awaitable, ec));
    if (ec) co_return make_error_code(errc::upstream_connect_failed);

    tcp_stream tcp(ex);
    tcp.expires_after(timeout);
    co_await tcp.async_connect(endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) co_return connect_error(ec);
    tcp.socket().set_option(net::ip::tcp::no_delay(true), ec);

    if (!b.is_https()) {
        tcp.expires_never();
        co_return any_stream(std::move(tcp));
    }

    any_stream s(std::move(tcp), *b.tls_context());
    auto& tls = s.tls();
    const auto& name = b.tls_server_name();
    // SNI (RFC 6066 §3) and the certificate name check (RFC 6125) use the same name.
    if (SSL_set_tlsext_host_name(tls.native_handle(), name.c_str()) != 1) {
        co_return make_error_code(errc::upstream_connect_failed);
    }
    if (b.config().tls.verify) tls.set_verify_callback(net::ssl::host_name_verification(name));
    co_await tls.async_handshake(net::ssl::stream_base::client,
                                 net::redirect_error(use_awaitable, ec));
    if (ec) co_return handshake_error(ec, tls.native_handle());
    s.expires_never();
    co_return std::move(s);
}

} // namespace s3ha::upstream
