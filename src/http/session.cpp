#include "s3ha/http/session.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/log_scope.hpp"
#include "s3ha/http/read_header.hpp"
#include "s3ha/http/s3_error.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/proxy/forwarder.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>

namespace s3ha {

namespace {

// The relay buffer: bodies move through it (one per session). 256 KiB: a large body needs a
// quarter of the receive/send calls and wake-ups that 64 KiB needed; only the touched pages of it
// become resident, so small requests do not pay for its size.
constexpr std::size_t k_relay_buffer_size = std::size_t{256} * 1024;
// The header read buffer: Beast receives max(512, free room) bytes per read, so it gets room for
// a whole typical request header (and a small body) in one receive. Bodies bypass it.
constexpr std::size_t k_header_buffer_size = std::size_t{16} * 1024;

// A connection over server.max_connections costs at most this per step (TLS handshake, writing
// the 503), then at most the lingering close below: never a header_read_timeout.
constexpr std::chrono::milliseconds k_refusal_step_timeout{2000};
// The lingering close of a refused connection (RFC 9112 §9.6): half-close, then discard what
// the client still sends (its request, a body) for up to this long and this many bytes, so
// closing with unread input does not make the kernel send an RST that can destroy the answer
// before the client has read it.
constexpr std::chrono::milliseconds k_linger_timeout{1000};
constexpr std::size_t k_linger_max_bytes = std::size_t{256} * 1024;

awaitable<void> lingering_close(any_stream& stream) {
    error_code ec;
    stream.tcp().socket().shutdown(tcp_socket::shutdown_send, ec);
    if (!ec) {
        stream.expires_after(k_linger_timeout); // one deadline for the whole drain
        std::array<char, 4096> sink{};
        std::size_t drained = 0;
        while (drained < k_linger_max_bytes) {
            // Raw TCP bytes (TLS records too): nothing of them is read as a request. Not
            // `c ? co_await x : co_await y` (g++ 12 mishandles such conditionals, forwarder.cpp).
            std::size_t n = 0;
            if (stream.is_tls()) {
                n = co_await stream.tcp().async_read_some(net::buffer(sink),
                                                          net::redirect_error(use_awaitable, ec));
            } else {
                n = co_await stream.async_read_some(net::buffer(sink),
                                                    net::redirect_error(use_awaitable, ec));
            }
            if (ec) break; // EOF (the client read the answer and closed), timeout, reset
            drained += n;
        }
    }
    stream.close();
}

} // namespace

awaitable<void> session::refuse(any_stream& stream, const std::string& conn_id) {
    const auto& cfg = *ctx_.cfg;
    error_code ec;
    if (stream.is_tls()) {
        stream.expires_after(k_refusal_step_timeout);
        co_await stream.tls().async_handshake(net::ssl::stream_base::server,
                                              net::redirect_error(use_awaitable, ec));
        if (ec) {
            stream.close();
            co_return;
        }
    }
    const auto why = make_error_code(errc::too_many_connections);
    const auto info = describe_error(why);
    const auto id = ctx_.new_request_id();
    log_scope(ctx_.log.get(), cfg.logging.format == log_format::json, conn_id, id)
        .info("rejected: {} (server.max_connections reached; the request is not read)", info.code);
    if (ctx_.metrics != nullptr) {
        ctx_.metrics->rejected(why);
        ctx_.metrics->request_finished(
            {ctx_.metrics->no_backend(), s3_operation::other, static_cast<unsigned>(info.status)});
    }
    http::response<http::string_body> res{info.status, 11};
    res.set(http::field::content_type, "application/xml");
    res.set("x-amz-request-id", id);
    res.set("x-s3ha-request-id", id);
    res.set(http::field::retry_after, "1");
    res.body() = render_s3_error_xml(info.code, info.message, "/", id);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(k_refusal_step_timeout);
    co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
    if (ec) {
        stream.close();
        co_return;
    }
    co_await lingering_close(stream);
}

session::session(proxy::proxy_context& ctx, tcp_socket socket, net::ssl::context* tls,
                 bool over_limit)
    : ctx_(ctx), socket_(std::move(socket)), tls_(tls), over_limit_(over_limit) {
}

awaitable<void> session::run() {
    const auto& cfg = *ctx_.cfg;
    const std::uint64_t key = ctx_.next_connection + 1;
    const std::string conn_id = ctx_.new_connection_id();
    log_scope log(ctx_.log.get(), cfg.logging.format == log_format::json, conn_id, {});

    error_code ec;
    socket_.set_option(net::ip::tcp::no_delay(true), ec);
    std::string client = "-"; // once per connection: getpeername(2) is a system call
    if (auto ep = socket_.remote_endpoint(ec); !ec) {
        client = fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }
    auto stream = tls_ ? any_stream(tcp_stream(std::move(socket_)), *tls_)
                       : any_stream(tcp_stream(std::move(socket_)));
    if (over_limit_) {
        // Too many connections: refused at once, without reading (or waiting for) a request.
        co_await refuse(stream, conn_id);
        co_return;
    }
    // Elements of an unordered_map keep their address when others come and go.
    auto& registered = ctx_.sessions[key];
    registered = {&stream, false};
    struct unregister {
        proxy::proxy_context& ctx;
        std::uint64_t key;
        ~unregister() { ctx.sessions.erase(key); }
    } guard{ctx_, key};

    if (stream.is_tls()) {
        stream.expires_after(cfg.server.header_read_timeout);
        co_await stream.tls().async_handshake(net::ssl::stream_base::server,
                                              net::redirect_error(use_awaitable, ec));
        if (ec) {
            log.debug("TLS handshake failed: {}", ec.message());
            stream.close();
            co_return;
        }
    }

    beast::flat_buffer buffer;
    buffer.reserve(k_header_buffer_size);
    // Not zero-filled: pages become resident only when a body touches them.
    auto relay = std::make_unique_for_overwrite<char[]>(k_relay_buffer_size);
    proxy::forwarder fwd(ctx_, stream, buffer, std::span<char>(relay.get(), k_relay_buffer_size),
                         conn_id, std::move(client));
    std::optional<http::request_parser<http::buffer_body>> parser;

    for (bool first = true;; first = false) {
        if (!first && buffer.size() == 0) {
            // Keep-alive: wait for the next request's first bytes within idle_timeout.
            if (ctx_.stopping) break;
            registered.idle = true;
            stream.expires_after(cfg.server.idle_timeout);
            const auto n =
                co_await stream.async_read_some(buffer.prepare(buffer.capacity() - buffer.size()),
                                                net::redirect_error(use_awaitable, ec));
            registered.idle = false;
            if (ec) break; // closed, idle timeout or drain: nothing was in flight
            buffer.commit(n);
        }

        parser.emplace();
        parser->header_limit(static_cast<std::uint32_t>(
            std::min<std::uint64_t>(cfg.server.max_header_size, UINT32_MAX)));
        // No body limit (objects reach 5 TiB). Not boost::none: Beast 1.74 compares
        // `len > body_limit_` with the optional, which is always true for none.
        parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        stream.expires_after(cfg.server.header_read_timeout);
        ec = co_await read_header(stream, buffer, *parser);
        if (ec) {
            if (ec == http::error::end_of_stream || ec == net::error::eof ||
                ec == net::error::connection_reset || ec == net::error::operation_aborted) {
                break;
            }
            if (ec == http::error::header_limit) {
                co_await fwd.reject(errc::request_header_too_large, "/", 11);
            } else if (ec == beast::error::timeout) {
                co_await fwd.reject(errc::request_timeout, "/", 11);
            } else {
                log.info("malformed request: {}", ec.message());
                co_await fwd.reject(errc::invalid_request, "/", 11);
            }
            break;
        }
        if (!co_await fwd.handle(*parser)) break;
    }
    stream.close();
}

} // namespace s3ha
