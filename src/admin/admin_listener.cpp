#include "s3ha/admin/admin_listener.hpp"

#include "s3ha/core/log_scope.hpp"

#include <chrono>
#include <exception>

namespace s3ha::admin {

namespace {

constexpr auto k_read_timeout = std::chrono::seconds(10);
constexpr auto k_write_timeout = std::chrono::seconds(10);
constexpr std::uint32_t k_header_limit = 16 * 1024;
constexpr std::uint64_t k_body_limit = std::uint64_t{64} * 1024; // the actions take no body

} // namespace

admin_listener::admin_listener(std::shared_ptr<const config> cfg,
                               std::shared_ptr<upstream::pool> pool,
                               std::shared_ptr<const metrics::proxy_metrics> metrics,
                               std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)), log_(std::move(log)),
      router_(cfg_->admin.token, std::move(pool), std::move(metrics)), acceptor_(ioc_) {
    net::ip::tcp::endpoint ep(net::ip::make_address(cfg_->admin.listen.host),
                              cfg_->admin.listen.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
}

admin_listener::~admin_listener() {
    stop();
}

void admin_listener::reload(std::shared_ptr<const config> cfg, std::shared_ptr<upstream::pool> pool,
                            std::shared_ptr<const metrics::proxy_metrics> metrics) {
    net::post(ioc_, [this, cfg = std::move(cfg), pool = std::move(pool),
                     metrics = std::move(metrics)]() mutable {
        router_.reset(cfg->admin.token, std::move(pool), std::move(metrics));
        cfg_ = std::move(cfg);
    });
}

void admin_listener::log_failure(std::string_view what, std::string_view detail) const {
    log_scope(log_.get(), cfg_->logging.format == log_format::json, "admin", {})
        .error("{}: {}", what, detail);
}

void admin_listener::start() {
    net::co_spawn(ioc_, accept_loop(), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
}

void admin_listener::stop() {
    net::post(ioc_, [this] {
        error_code ec;
        acceptor_.close(ec);
    });
    if (thread_.joinable()) {
        // Admin connections are short; do not wait for a slow client.
        ioc_.stop();
        thread_.join();
    }
}

awaitable<void> admin_listener::accept_loop() {
    while (acceptor_.is_open()) {
        error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(use_awaitable, ec));
        if (ec) {
            if (!acceptor_.is_open()) break;
            // E.g. EMFILE: back off briefly instead of spinning.
            steady_timer t(ioc_, std::chrono::milliseconds(50));
            co_await t.async_wait(net::redirect_error(use_awaitable, ec));
            continue;
        }
        if (connections_ >= k_max_connections) {
            socket.close(ec);
            continue;
        }
        // Not detached: an exception (a bug) would end the connection without a trace.
        net::co_spawn(ioc_, serve(std::move(socket)), [this](const std::exception_ptr& e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                log_failure("admin connection ended by an exception (a bug)", x.what());
            } catch (...) {
                log_failure("admin connection ended by an exception (a bug)", "unknown");
            }
        });
    }
}

awaitable<void> admin_listener::serve(tcp_socket socket) {
    ++connections_;
    struct release {
        unsigned& n;
        ~release() { --n; }
    } guard{connections_};
    tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        error_code ec;
        http::request_parser<http::string_body> parser;
        parser.header_limit(k_header_limit);
        parser.body_limit(k_body_limit);
        stream.expires_after(k_read_timeout);
        co_await http::async_read(stream, buffer, parser, net::redirect_error(use_awaitable, ec));
        if (ec) {
            if (ec == http::error::header_limit || ec == http::error::body_limit ||
                ec == http::error::bad_target || ec == http::error::bad_method) {
                http::response<http::string_body> res{http::status::bad_request, 11};
                res.set(http::field::content_type, "text/plain");
                res.body() = "bad request\n";
                res.keep_alive(false);
                res.prepare_payload();
                stream.expires_after(k_write_timeout);
                co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
            }
            break;
        }
        const auto& req = parser.get();
        std::string failure;
        auto res = router_.handle(req, &failure); // never throws: 500 instead
        if (!failure.empty()) {
            log_failure(
                fmt::format("admin {} {}: internal error", req.method_string(), req.target()),
                failure);
        }
        // HEAD: the GET headers (Content-Length included) without the body.
        if (req.method() == http::verb::head) res.body().clear();
        stream.expires_after(k_write_timeout);
        co_await http::async_write(stream, res, net::redirect_error(use_awaitable, ec));
        if (ec || !res.keep_alive()) break;
    }
    error_code ec;
    stream.socket().shutdown(tcp_socket::shutdown_both, ec);
}

} // namespace s3ha::admin
