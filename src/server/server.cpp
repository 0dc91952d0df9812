#include "s3ha/server/server.hpp"

#include "s3ha/admin/admin_listener.hpp"
#include "s3ha/core/log_scope.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/server/worker.hpp"
#include "s3ha/upstream/backend.hpp"
#include "s3ha/upstream/health_checker.hpp"

#include <openssl/rand.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace s3ha {

namespace {

spdlog::level::level_enum to_spdlog(log_level l) {
    switch (l) {
    case log_level::trace: return spdlog::level::trace;
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    case log_level::critical: return spdlog::level::critical;
    case log_level::off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const logging_config& cfg,
                                            const spdlog::sink_ptr& sink) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    if (cfg.format == log_format::json) {
        // The message completes the object with escaped fields (log_scope).
        logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n",%v})");
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
    }
    logger->set_level(to_spdlog(cfg.level));
    logger->flush_on(spdlog::level::trace);
    return logger;
}

template <typename T> T random_value() {
    T v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) { // NOLINT
        v = static_cast<T>(std::random_device{}());
    }
    return v;
}

std::uint32_t random_u32() {
    return random_value<std::uint32_t>();
}

} // namespace

struct server::impl {
    std::shared_ptr<const config> cfg;
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<net::ssl::context> server_tls;
    std::atomic<std::uint64_t> connections{0};
    std::shared_ptr<metrics::proxy_metrics> metrics; // before the workers: they use it to the end
    std::shared_ptr<upstream::pool> pool;
    // The health checker's own thread and io_context; the checker is declared after the
    // io_context so it is destroyed first (see health_checker.hpp).
    net::io_context health_ioc{1};
    std::unique_ptr<upstream::health_checker> health;
    std::thread health_thread;
    std::vector<std::unique_ptr<worker>> workers;
    std::unique_ptr<admin::admin_listener> admin;
    std::mutex mu;
    std::condition_variable cv;
    unsigned finished = 0;
};

server::server(std::shared_ptr<const config> cfg) : impl_(std::make_unique<impl>()) {
    auto& s = *impl_;
    s.cfg = std::move(cfg);
    const auto& c = *s.cfg;
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s.log = make_logger("s3ha", c.logging, sink);
    std::shared_ptr<spdlog::logger> access;
    if (c.logging.access_log) access = make_logger("access", c.logging, sink);

    if (c.server.tls.enabled()) {
        s.server_tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
        s.server_tls->set_options(net::ssl::context::default_workarounds |
                                  net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                                  net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
        s.server_tls->use_certificate_chain_file(c.server.tls.cert_file);
        s.server_tls->use_private_key_file(c.server.tls.key_file, net::ssl::context::pem);
    }

    std::unordered_map<std::string, std::string> creds;
    for (const auto& cr : c.credentials)
        creds.emplace(cr.access_key, cr.secret_key);

    worker::shared shared;
    shared.cfg = s.cfg;
    shared.verifier = std::make_shared<const sigv4::verifier>(c.server.region, std::move(creds));
    shared.backends = upstream::make_backends(c);
    std::vector<std::string> names;
    for (const auto& b : shared.backends)
        names.push_back(b->name());
    s.metrics = std::make_shared<metrics::proxy_metrics>(
        std::move(names), metrics::build_identity{S3HA_VERSION, S3HA_GIT_COMMIT});
    shared.metrics = s.metrics.get();
    s.pool = std::make_shared<upstream::pool>(shared.backends, c.routing, s.log,
                                              c.logging.format == log_format::json,
                                              random_value<std::uint64_t>());
    shared.backend_pool = s.pool;
    // One pseudonym per process: what Via carries and what loop detection looks for.
    shared.via_pseudonym = fmt::format("s3ha-{:08x}", random_u32());
    shared.request_id_prefix = random_u32();
    shared.log = s.log;
    shared.access_log = access;
    shared.server_tls = s.server_tls.get();
    shared.connections = &s.connections;

    const unsigned n = c.server.worker_count();
    net::ip::tcp::endpoint ep(net::ip::make_address(c.server.listen.host), c.server.listen.port);
    for (unsigned i = 0; i < n; ++i) {
        s.workers.push_back(std::make_unique<worker>(i, shared));
        auto bound = s.workers.back()->bind(ep);
        ep.port(bound.port()); // port 0: the others join the port the first one got
    }
    s.admin = std::make_unique<admin::admin_listener>(s.cfg, s.pool, s.metrics);
    listen_address shown{c.server.listen.host, ep.port()};
    log_scope(s.log.get(), c.logging.format == log_format::json, "-", {})
        .info("listening on {} ({} workers, via {})", shown.to_string(), n, shared.via_pseudonym);
}

server::~server() {
    auto& s = *impl_;
    if (s.health_thread.joinable()) { // run() did not get to its end
        net::post(s.health_ioc, [&s] {
            if (s.health) s.health->stop();
        });
        s.health_thread.join();
    }
}

const std::shared_ptr<upstream::pool>& server::pool() const noexcept {
    return impl_->pool;
}

int server::run() {
    auto& s = *impl_;
    const bool json = s.cfg->logging.format == log_format::json;
    log_scope log(s.log.get(), json, "-", {});
    std::signal(SIGPIPE, SIG_IGN); // NOLINT: writes to closed sockets return EPIPE instead

    s.admin->start();
    // The health checker lives on its own thread: a busy worker never delays a check, and a
    // check never blocks a worker. Constructed and started on that thread (its affinity).
    net::post(s.health_ioc, [&s] {
        s.health = std::make_unique<upstream::health_checker>(
            s.health_ioc.get_executor(), s.pool, random_value<std::uint64_t>(), s.metrics.get());
        s.health->start();
    });
    s.health_thread = std::thread([&s] { s.health_ioc.run(); });
    for (auto& w : s.workers) {
        w->start([&s] {
            std::lock_guard lock(s.mu);
            ++s.finished;
            s.cv.notify_all();
        });
    }

    net::io_context signals_ioc;
    net::signal_set signals(signals_ioc, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&](const error_code& ec, int sig) {
        if (!ec) received = sig;
    });
    signals_ioc.run();

    s.admin->set_draining(); // /health/ready: 503 from now on
    log.info("signal {}: draining (up to {} ms)", received, s.cfg->shutdown.drain_timeout.count());
    for (auto& w : s.workers)
        w->stop();
    {
        std::unique_lock lock(s.mu);
        const bool drained = s.cv.wait_for(lock, s.cfg->shutdown.drain_timeout,
                                           [&] { return s.finished == s.workers.size(); });
        if (!drained) log.warn("drain timeout: closing the remaining connections");
    }
    for (auto& w : s.workers)
        w->force_stop();
    for (auto& w : s.workers)
        w->join();
    s.admin->stop();
    // Waiting checks end at once, one in progress within its timeout.
    net::post(s.health_ioc, [&s] {
        if (s.health) s.health->stop();
    });
    s.health_thread.join();
    log.info("stopped");
    return 0;
}

} // namespace s3ha
