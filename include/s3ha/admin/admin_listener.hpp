// The admin listener (admin.listen): serves admin_router's endpoints (health, readiness,
// /metrics, /admin/backends and the operator actions) on its own thread, so a busy data path
// never delays a liveness probe or a scrape, and a slow scrape never delays the data path.
// Every read and write has a deadline; header and body sizes are bounded; at most
// k_max_connections admin connections are served at once (more are closed at once).
// Thread affinity: construct, start() and stop() on the main thread; set_draining() from any.
#pragma once

#include "s3ha/admin/admin_router.hpp"
#include "s3ha/config/config.hpp"
#include "s3ha/core/net.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <string_view>
#include <thread>

namespace s3ha::metrics {
class proxy_metrics;
}
namespace s3ha::upstream {
class pool;
}

namespace s3ha::admin {

class admin_listener {
public:
    static constexpr unsigned k_max_connections = 64;

    /// Binds admin.listen at once (throws on failure: a start-up error). pool and metrics may
    /// be nullptr (the endpoints that need them then answer 503). log: where an internal error
    /// while answering (a bug: the client gets 500 {"error": "internal error"}) is logged;
    /// nullptr = nowhere.
    admin_listener(std::shared_ptr<const config> cfg, std::shared_ptr<upstream::pool> pool,
                   std::shared_ptr<const metrics::proxy_metrics> metrics = nullptr,
                   std::shared_ptr<spdlog::logger> log = nullptr);
    ~admin_listener();
    admin_listener(const admin_listener&) = delete;
    admin_listener& operator=(const admin_listener&) = delete;

    void start();
    /// Closes the listener and joins the thread.
    void stop();
    /// A configuration reload (SIGHUP): new requests see the new token, pool and metrics; the
    /// listen address stays (it needs a restart). Thread-safe (posted to the admin thread).
    void reload(std::shared_ptr<const config> cfg, std::shared_ptr<upstream::pool> pool,
                std::shared_ptr<const metrics::proxy_metrics> metrics);
    /// Shutdown began: /health/ready answers 503 from now on. Thread-safe.
    void set_draining() noexcept { router_.set_draining(); }
    net::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
    awaitable<void> accept_loop();
    awaitable<void> serve(tcp_socket socket);

    /// An internal error, or an exception that ended a connection (a bug), as a log line.
    void log_failure(std::string_view what, std::string_view detail) const;

    std::shared_ptr<const config> cfg_;
    std::shared_ptr<spdlog::logger> log_;
    admin_router router_;
    net::io_context ioc_{1};
    tcp_acceptor acceptor_;
    unsigned connections_ = 0; // on the admin thread only
    std::thread thread_;
};

} // namespace s3ha::admin
