#include "s3ha/http/listener.hpp"

#include "s3ha/core/log_scope.hpp"
#include "s3ha/http/session.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"

#include <chrono>
#include <exception>

namespace s3ha {

listener::listener(proxy::proxy_context& ctx, tcp_acceptor acceptor, net::ssl::context* tls,
                   std::atomic<std::uint64_t>& connections)
    : ctx_(ctx), acceptor_(std::move(acceptor)), tls_(tls), connections_(connections) {
}

awaitable<void> listener::run() {
    auto ex = co_await net::this_coro::executor;
    const bool json = ctx_.cfg->logging.format == log_format::json;
    log_scope log(ctx_.log.get(), json, "-", {});
    while (acceptor_.is_open()) {
        error_code ec;
        auto socket = co_await acceptor_.async_accept(net::redirect_error(use_awaitable, ec));
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor_.is_open()) break;
            // E.g. EMFILE: back off briefly instead of spinning.
            log.warn("accept failed: {}", ec.message());
            steady_timer t(ex, std::chrono::milliseconds(50));
            co_await t.async_wait(net::redirect_error(use_awaitable, ec));
            continue;
        }
        const auto count = connections_.fetch_add(1, std::memory_order_relaxed) + 1;
        if (ctx_.metrics != nullptr) ctx_.metrics->connection_opened();
        const bool over_limit = count > ctx_.cfg->server.max_connections;
        if (over_limit)
            log.warn("server.max_connections ({}) reached", ctx_.cfg->server.max_connections);
        auto s = std::make_shared<session>(ctx_, std::move(socket), tls_, over_limit);
        net::co_spawn(
            ex,
            [s, this]() -> awaitable<void> {
                struct release {
                    std::atomic<std::uint64_t>& n;
                    metrics::proxy_metrics* m;
                    ~release() {
                        n.fetch_sub(1, std::memory_order_relaxed);
                        if (m != nullptr) m->connection_closed();
                    }
                } guard{connections_, ctx_.metrics};
                co_await s->run();
            },
            [this, json](const std::exception_ptr& e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    log_scope(ctx_.log.get(), json, "-", {})
                        .error("session ended by an exception (a bug): {}", x.what());
                }
            });
    }
}

void listener::stop() noexcept {
    error_code ec;
    acceptor_.close(ec);
}

} // namespace s3ha
