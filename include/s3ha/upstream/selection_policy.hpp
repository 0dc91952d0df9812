// How the pool spreads requests over backends (routing.policy). Pure: no I/O, no clock of its
// own (the time comes in the context), randomness from a generator seeded at construction, so
// every decision is reproducible in a unit test.
//
//   failover       all traffic to one active backend: the best (lowest priority number, then
//                  configuration order) usable one. When it becomes unusable the best usable one
//                  takes over. Failback to a better backend: `auto` once that backend has been
//                  up for failback_stable_period (so a flapping primary never pulls traffic
//                  back and forth); `manual` never by itself, only on request_failback().
//   round_robin    the next usable backend after the previous pick, in configuration order.
//   random         uniform over the usable backends.
//   weighted       smooth weighted round robin (nginx's algorithm): deterministic, exact
//                  proportions over every sum-of-weights picks, and no bursts to one backend.
//   least_requests power of two choices: two distinct usable backends drawn at random, the one
//                  with fewer in-flight requests wins (the busiest backend is never picked).
//
// The spreading policies ignore priority (priority only orders failover).
// Thread affinity: none; a policy is used under its owner's lock (see pool.hpp).
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/upstream/backend_state.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace s3ha::upstream {

/// One backend as a policy sees it; the pool passes every backend, in configuration order.
struct candidate {
    unsigned priority = 1;
    unsigned weight = 1;
    std::int64_t in_flight = 0;
    steady_time up_since{}; ///< when it came up (meaningful when usable)
    bool usable = false; ///< up (or optimistic start), not drained, not yet tried by this request
};

struct selection_context {
    steady_time now{};
    unsigned attempt = 0; ///< 0 = first try of a request; > 0 = a retry
};

class selection_policy {
public:
    virtual ~selection_policy() = default;
    /// The position in `all` of the backend to use, or nullopt when no candidate is usable.
    /// Never returns a position whose candidate is not usable.
    virtual std::optional<std::size_t> pick(std::span<const candidate> all,
                                            const selection_context& ctx) = 0;
    /// Operator action (failover, failback manual): move to the best usable backend at the next
    /// first attempt. No-op for the other policies.
    virtual void request_failback() {}
    /// The backend all traffic currently goes to (failover), else nullopt.
    virtual std::optional<std::size_t> active() const { return std::nullopt; }
};

/// The policy routing.policy names, with its settings from `routing`.
std::unique_ptr<selection_policy> make_selection_policy(const routing_config& routing,
                                                        std::uint64_t seed);

} // namespace s3ha::upstream
