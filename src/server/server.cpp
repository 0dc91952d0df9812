#include "s3ha/server/server.hpp"

#include "s3ha/admin/admin_listener.hpp"
#include "s3ha/config/loader.hpp"
#include "s3ha/core/build_info.hpp"
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
#include <functional>
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

// Pattern and level of a logger from the logging section (at start-up and on reload).
void configure_logger(spdlog::logger& logger, const logging_config& cfg) {
    if (cfg.format == log_format::json) {
        // The message completes the object with escaped fields (log_scope).
        logger.set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n",%v})");
    } else {
        logger.set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
    }
    logger.set_level(to_spdlog(cfg.level));
    logger.flush_on(spdlog::level::trace);
}

template <typename T> T random_value() {
    T v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) { // NOLINT
        v = static_cast<T>(std::random_device{}());
    }
    return v;
}

// What one configuration builds: the verifier, the backends, their pool and the metrics.
struct generation {
    std::shared_ptr<const config> cfg;
    std::shared_ptr<const sigv4::verifier> verifier;
    std::vector<std::shared_ptr<const upstream::backend>> backends;
    std::shared_ptr<metrics::proxy_metrics> metrics;
    std::shared_ptr<upstream::pool> pool;
};

// previous: the metrics of the running generation, kept when the backend names are the same
// (the counters go on); another backend list gets new metrics (its counters start at zero,
// which Prometheus' rate() reads as a counter reset).
generation make_generation(std::shared_ptr<const config> cfg,
                           const std::shared_ptr<spdlog::logger>& log,
                           std::shared_ptr<metrics::proxy_metrics> previous) {
    generation g;
    g.cfg = std::move(cfg);
    const auto& c = *g.cfg;
    std::unordered_map<std::string, std::string> creds;
    for (const auto& cr : c.credentials)
        creds.emplace(cr.access_key, cr.secret_key);
    g.verifier = std::make_shared<const sigv4::verifier>(c.server.region, std::move(creds));
    g.backends = upstream::make_backends(c);
    std::vector<std::string> names;
    for (const auto& b : g.backends)
        names.push_back(b->name());
    if (previous && previous->backend_names() == names) {
        g.metrics = std::move(previous);
    } else {
        g.metrics = std::make_shared<metrics::proxy_metrics>(
            std::move(names),
            metrics::build_identity{std::string(build_version()), std::string(build_commit())},
            std::size_t{c.server.worker_count()} + 1); // a shard per worker, one for the rest
    }
    g.pool = std::make_shared<upstream::pool>(g.backends, c.routing, log,
                                              c.logging.format == log_format::json,
                                              random_value<std::uint64_t>());
    return g;
}

// A reload keeps what the operator and the health checks learned about a backend that is still
// configured with the same name and endpoint: its last known state (so traffic does not go to
// a backend known to be down while the first new check runs) and its drain flag.
void carry_over_state(const upstream::pool& from, upstream::pool& to) {
    const auto old = from.snapshot(); // configuration order
    for (std::size_t i = 0; i < old.size(); ++i) {
        const auto& was = *from.backends()[i];
        for (const auto& b : to.backends()) {
            if (b->name() != was.name() ||
                b->config().endpoint.to_string() != was.config().endpoint.to_string()) {
                continue;
            }
            const auto& st = old[i].state;
            if (st.checked) {
                to.record_check(b->index(), st.up, st.last_check_latency,
                                "state before the reload");
            }
            if (st.drained) to.set_drained(b->name(), true);
        }
    }
}

// One line on what a configuration holds (start-up and reload logs); never a secret.
std::string summary(const config& c) {
    std::string names;
    for (const auto& b : c.backends) {
        if (!names.empty()) names += ", ";
        names += b.name;
    }
    return fmt::format("{} credential(s), backends [{}], policy {}", c.credentials.size(), names,
                       to_string(c.routing.policy));
}

// Settings only a restart can change keep their running value (with a warning).
void keep_restart_settings(config& next, const config& running, const log_scope& log) {
    auto keep = [&](auto& field, const auto& old, std::string_view what) {
        if (field == old) return;
        log.warn("reload: {} changed; it takes effect after a restart", what);
        field = old;
    };
    keep(next.server.listen.host, running.server.listen.host, "server.listen");
    keep(next.server.listen.port, running.server.listen.port, "server.listen");
    keep(next.server.workers, running.server.workers, "server.workers");
    keep(next.server.tls.cert_file, running.server.tls.cert_file, "server.tls");
    keep(next.server.tls.key_file, running.server.tls.key_file, "server.tls");
    keep(next.admin.listen.host, running.admin.listen.host, "admin.listen");
    keep(next.admin.listen.port, running.admin.listen.port, "admin.listen");
}

} // namespace

struct server::impl {
    std::string config_path;
    std::shared_ptr<spdlog::logger> log;
    std::shared_ptr<spdlog::logger> access; // always made; handed out while access_log is on
    std::unique_ptr<net::ssl::context> server_tls;
    std::atomic<std::uint64_t> connections{0};
    generation current;
    // Earlier generations: requests in flight may still use them (their config, pool, backends
    // and metrics), so they live until exit. A reload is rare and each costs little.
    std::vector<generation> retired;
    worker::shared shared; // what the workers get: current + the process-wide parts
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

    bool json() const { return current.cfg->logging.format == log_format::json; }
    void share_current() {
        shared.cfg = current.cfg;
        shared.verifier = current.verifier;
        shared.backends = current.backends;
        shared.backend_pool = current.pool;
        shared.metrics = current.metrics.get();
        shared.access_log = current.cfg->logging.access_log ? access : nullptr;
    }
    // On the health thread: checks for the current pool (the previous checker's loops end).
    void start_health_checks() {
        net::post(health_ioc, [this, pool = current.pool, m = current.metrics.get()] {
            if (health) health->stop();
            health = std::make_unique<upstream::health_checker>(health_ioc.get_executor(), pool,
                                                                random_value<std::uint64_t>(), m);
            health->start();
        });
    }
};

server::server(std::shared_ptr<const config> cfg, std::string config_path)
    : impl_(std::make_unique<impl>()) {
    auto& s = *impl_;
    // Until run() handles it, a SIGHUP must not kill the process (its default action).
    std::signal(SIGHUP, SIG_IGN); // NOLINT
    s.config_path = std::move(config_path);
    const auto& c = *cfg;
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s.log = std::make_shared<spdlog::logger>("s3ha", sink);
    s.access = std::make_shared<spdlog::logger>("access", sink);
    configure_logger(*s.log, c.logging);
    configure_logger(*s.access, c.logging);

    if (c.server.tls.enabled()) {
        s.server_tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
        s.server_tls->set_options(net::ssl::context::default_workarounds |
                                  net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                                  net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
        s.server_tls->use_certificate_chain_file(c.server.tls.cert_file);
        s.server_tls->use_private_key_file(c.server.tls.key_file, net::ssl::context::pem);
    }

    s.current = make_generation(std::move(cfg), s.log, nullptr);
    auto& shared = s.shared;
    s.share_current();
    // One pseudonym per process: what Via carries and what loop detection looks for.
    shared.via_pseudonym = fmt::format("s3ha-{:08x}", random_value<std::uint32_t>());
    shared.request_id_prefix = random_value<std::uint32_t>();
    shared.log = s.log;
    shared.server_tls = s.server_tls.get();
    shared.connections = &s.connections;

    const unsigned n = c.server.worker_count();
    net::ip::tcp::endpoint ep(net::ip::make_address(c.server.listen.host), c.server.listen.port);
    for (unsigned i = 0; i < n; ++i) {
        s.workers.push_back(std::make_unique<worker>(i, shared));
        auto bound = s.workers.back()->bind(ep);
        ep.port(bound.port()); // port 0: the others join the port the first one got
    }
    s.admin = std::make_unique<admin::admin_listener>(s.current.cfg, s.current.pool,
                                                      s.current.metrics, s.log);
    listen_address shown{c.server.listen.host, ep.port()};
    log_scope log(s.log.get(), s.json(), "-", {});
    log.info("configuration {}: {}", s.config_path.empty() ? "-" : s.config_path, summary(c));
    log.info("listening on {} ({} workers, via {})", shown.to_string(), n, shared.via_pseudonym);
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

bool server::reload() {
    auto& s = *impl_;
    log_scope log(s.log.get(), s.json(), "-", {});
    if (s.config_path.empty()) {
        log.warn("SIGHUP: no configuration file to reload");
        return false;
    }
    auto loaded = load_config_file(s.config_path);
    if (!loaded.ok()) {
        log.error("reload rejected: {} has {} problem(s); the running configuration stays",
                  s.config_path, loaded.problems.size());
        for (const auto& p : loaded.problems)
            log.error("reload rejected: {}", format_problem(s.config_path, p));
        return false;
    }
    auto next = std::make_shared<config>(*loaded.cfg);
    keep_restart_settings(*next, *s.current.cfg, log);

    auto g = make_generation(next, s.log, s.current.metrics);
    carry_over_state(*s.current.pool, *g.pool);
    configure_logger(*s.log, next->logging);
    configure_logger(*s.access, next->logging);
    s.retired.push_back(std::move(s.current));
    s.current = std::move(g);
    s.share_current();
    for (auto& w : s.workers)
        w->reload(s.shared);
    s.admin->reload(s.current.cfg, s.current.pool, s.current.metrics);
    s.start_health_checks();
    // warn: an operator wants to see it even at log level warn.
    log_scope(s.log.get(), s.json(), "-", {})
        .warn("configuration reloaded from {}: {}", s.config_path, summary(*next));
    return true;
}

int server::run() {
    auto& s = *impl_;
    std::signal(SIGPIPE, SIG_IGN); // NOLINT: writes to closed sockets return EPIPE instead

    s.admin->start();
    // The health checker lives on its own thread: a busy worker never delays a check, and a
    // check never blocks a worker. Constructed and started on that thread (its affinity).
    s.start_health_checks();
    s.health_thread = std::thread([&s] { s.health_ioc.run(); });
    for (auto& w : s.workers) {
        w->start([&s] {
            std::lock_guard lock(s.mu);
            ++s.finished;
            s.cv.notify_all();
        });
    }

    net::io_context signals_ioc;
    net::signal_set signals(signals_ioc, SIGINT, SIGTERM, SIGHUP);
    int received = 0;
    std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int sig) {
        if (ec) return;
        if (sig != SIGHUP) {
            received = sig;
            return;
        }
        reload();
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    signals_ioc.run();

    log_scope log(s.log.get(), s.json(), "-", {});
    const auto drain_timeout = s.current.cfg->shutdown.drain_timeout;
    s.admin->set_draining(); // /health/ready: 503 from now on
    log.info("signal {}: draining (up to {} ms)", received, drain_timeout.count());
    for (auto& w : s.workers)
        w->stop();
    {
        std::unique_lock lock(s.mu);
        const bool drained =
            s.cv.wait_for(lock, drain_timeout, [&] { return s.finished == s.workers.size(); });
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
