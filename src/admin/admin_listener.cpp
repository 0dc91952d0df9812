#include "s3ha/admin/admin_listener.hpp"

#include <chrono>

namespace s3ha::admin {

admin_listener::admin_listener(std::shared_ptr<const config> cfg,
                               std::shared_ptr<upstream::pool> backends)
    : cfg_(std::move(cfg)), backends_(std::move(backends)), acceptor_(ioc_) {
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

net::awaitable<void> admin_listener::accept_loop() {
    while (acceptor_.is_open()) {
        error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (!acceptor_.is_open()) break;
            continue;
        }
        net::co_spawn(ioc_, serve(std::move(socket)), net::detached);
    }
}

net::awaitable<void> admin_listener::serve(net::ip::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        error_code ec;
        http::request_parser<http::empty_body> parser;
        parser.header_limit(16 * 1024);
        stream.expires_after(std::chrono::seconds(10));
        co_await http::async_read(stream, buffer, parser,
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec) break;
        const auto& req = parser.get();
        std::string_view target = req.target();
        target = target.substr(0, target.find('?'));
        http::response<http::string_body> res;
        res.version(req.version());
        res.set(http::field::content_type, "text/plain");
        if (target == "/health" &&
            (req.method() == http::verb::get || req.method() == http::verb::head)) {
            res.result(http::status::ok);
            res.body() = "OK\n";
        } else {
            res.result(http::status::not_found);
            res.body() = "not found\n";
        }
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        if (req.method() == http::verb::head) res.body().clear();
        co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
        if (ec || !req.keep_alive()) break;
    }
    error_code ec;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
}

} // namespace s3ha::admin
