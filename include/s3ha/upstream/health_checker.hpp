// Active health checks: one coroutine per backend on the io_context it is given, each on its own
// schedule (backend_state::next_check_delay: interval + jitter while up, capped exponential
// back-off while down), each check bounded by health_check.timeout, every result recorded in the
// pool (which logs state changes). The first round starts at once.
//
// A check opens its own connection the way the data path does (upstream::connect: same TLS
// context, SNI and verification) and closes it afterwards (Connection: close), so it also proves
// that new connections can be made.
//   type http: `method` `path` (default GET /minio/health/cluster); healthy when the status is
//              in expected_statuses.
//   type s3:   a SigV4-signed HEAD /<bucket> when bucket is set, else ListBuckets (GET /);
//              healthy on any 2xx (403 = bad credentials or clock, 5xx, a timeout: unhealthy).
// Only the response header is read; the body is never needed.
//
// Thread affinity: construct, start() and the checks run on the given executor's thread (use a
// single-threaded io_context). stop() may be called from any thread. After stop() keep running
// the io_context until the loops end: waiting ones end at once (timers are cancelled), one in
// progress within its timeout, recording nothing. The loops share ownership of the pool and of
// their own state, so destroying the health_checker early is safe; destroy it before its
// io_context (the destructor posts stop()).
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/upstream/backend.hpp"
#include "s3ha/upstream/pool.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace s3ha::metrics {
class proxy_metrics;
}

namespace s3ha::upstream {

struct check_result {
    bool ok = false;
    std::chrono::milliseconds latency{0};
    std::string detail; ///< "status 200", "upstream_timeout", ... (no secrets)
};

/// One health check of b as configured in b.config().health_check (pure I/O; records nothing).
awaitable<check_result> run_health_check(executor ex, const backend& b);

class health_checker {
public:
    /// seed: the jitter's random generator. m (may be nullptr): counts every check
    /// (s3ha_health_checks_total, s3ha_health_check_duration_seconds); must outlive the loops.
    health_checker(executor ex, std::shared_ptr<pool> p, std::uint64_t seed,
                   metrics::proxy_metrics* m = nullptr);
    ~health_checker();
    health_checker(const health_checker&) = delete;
    health_checker& operator=(const health_checker&) = delete;

    /// Spawns one check loop per backend of the pool (first check at once). Call once.
    void start();
    /// Ends every loop: no further check starts or is recorded. Thread-safe.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace s3ha::upstream
