// The backend pool: the process-wide health state of every backend plus the routing policy,
// answering "which backend for this attempt of this request".
//
// Where state lives: ONE pool per process, shared by all workers (std::shared_ptr<pool>).
// Health must be process-wide anyway (a backend that is down is down for every worker, and the
// health checker runs once, not once per worker), and failover's active backend must be too:
// per-worker copies would disagree (a worker that saw no traffic during an outage would keep
// the old primary under failback manual). select() therefore takes one short mutex around the
// policy (a scan of a handful of candidates, far below the cost of a request); everything else
// the data path calls (in-flight guard, success/failure reports) is atomics or the per-backend
// lock of backend_state. Round robin and weighted spread exactly process-wide as a bonus.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/upstream/backend.hpp"
#include "s3ha/upstream/backend_selector.hpp"
#include "s3ha/upstream/backend_state.hpp"
#include "s3ha/upstream/selection_policy.hpp"

#include <boost/container/small_vector.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha::upstream {

/// One backend for the admin endpoints and metrics.
struct backend_snapshot {
    std::string name;
    backend_state_view state; ///< up, since, last check, streaks, in-flight, drained, errors
    /// failover: this is the backend traffic goes to; other policies: it is usable (selectable).
    bool active = false;
};

class pool {
public:
    using clock_fn = std::function<steady_time()>;
    /// Backends that a request has already tried (positions in configuration order).
    using tried_set = boost::container::small_vector<std::size_t, 4>;

    /// log may be nullptr (tests). seed: the policy's random generator (random, least_requests).
    /// now: the clock (steady_clock::now outside tests).
    pool(
        std::vector<std::shared_ptr<const backend>> backends, const routing_config& routing,
        std::shared_ptr<spdlog::logger> log, bool json_log, std::uint64_t seed,
        clock_fn now = [] { return std::chrono::steady_clock::now(); });

    /// The backend for attempt `attempt` of a request that already tried `tried` (every backend
    /// returned for its earlier attempts), or nullptr: the forwarder answers
    /// no_healthy_backend (503) at once. Usable = up, not drained, not tried; while no backend
    /// has a first result yet, unchecked ones are usable too (optimistic start, see
    /// backend_state.hpp). With routing.try_unhealthy_when_all_down and nothing usable: the
    /// least recently failed non-drained, untried backend. Drained backends are never returned.
    const backend* select(unsigned attempt, std::span<const std::size_t> tried);

    /// Counts a request in flight on b until the guard dies (hold it for the whole attempt).
    in_flight_guard track(const backend& b) { return in_flight_guard(*states_.at(b.index())); }

    /// Passive health: the response header of b arrived (any status not in
    /// passive_failure_statuses; 4xx included).
    void report_success(const backend& b);
    /// Passive health: a request to b failed with `kind` (see failure_kind for what counts).
    void report_failure(const backend& b, failure_kind kind);
    /// True when `status` is one of routing.passive_failure_statuses.
    bool is_failure_status(unsigned status) const noexcept;

    /// Active health: the health checker's result for backend `index`.
    void record_check(std::size_t index, bool ok, std::chrono::milliseconds latency,
                      std::string_view detail);

    /// Operator: drain (on) or undrain a backend by name. False when no such backend.
    bool set_drained(std::string_view name, bool on);
    /// Operator (failover with failback manual): go back to the best healthy backend now.
    void request_failback();

    std::vector<backend_snapshot> snapshot() const;

    const std::vector<std::shared_ptr<const backend>>& backends() const noexcept {
        return backends_;
    }
    backend_state& state(std::size_t index) { return *states_.at(index); }
    const backend_state& state(std::size_t index) const { return *states_.at(index); }
    steady_time now() const { return now_(); }

private:
    void log_transition(std::size_t index, transition t, std::string_view why) const;

    std::vector<std::shared_ptr<const backend>> backends_;
    std::vector<std::unique_ptr<backend_state>> states_;
    routing_config routing_;
    std::shared_ptr<spdlog::logger> log_;
    bool json_log_;
    clock_fn now_;

    mutable std::mutex mu_; // guards policy_ and candidates_
    std::unique_ptr<selection_policy> policy_;
    std::vector<candidate> candidates_; // scratch, reused by select()
};

/// The per-request adapter the forwarder uses: create one per downstream request (it remembers
/// the backends this request tried, so a retry never goes back to one). Cheap, no allocation for
/// up to 4 attempts. Thread affinity: the request's coroutine.
class request_selector final : public backend_selector {
public:
    explicit request_selector(pool& p) : pool_(p) {}
    /// attempt 0 starts over (forgets the tried backends).
    const backend* select(unsigned attempt) override;

private:
    pool& pool_;
    pool::tried_set tried_;
};

} // namespace s3ha::upstream
