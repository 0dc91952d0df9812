// The process-wide health of one backend: up or down and since when, the last active check, the
// consecutive success/failure streaks, the in-flight request count, the operator's drain flag
// and error counters. A small state machine in the nghttpx style (shrpx_live_check): `rise`
// consecutive successes bring a down backend up, `fall` consecutive failures bring an up one
// down, so a single blip never flaps it; a down backend is probed with capped exponential
// back-off plus jitter (shrpx_connect_blocker).
//
// Start state: "unchecked". The first result (active check or real request) decides at once:
// success -> up, failure -> down; rise/fall apply from then on. A fresh start therefore serves as
// soon as the first check round answers (one round trip, not rise * interval), and never sends
// traffic to a backend it has seen fail. While *no* backend is up yet, the pool treats unchecked
// ones as usable (optimistic start): answering 503 to a client because we have not asked yet
// is a client-visible error too; sending to a backend that may be down costs one retry at worst.
//
// Passive signals (real traffic): failures count towards `fall` exactly like failed checks; a
// success resets the failure streak of an up backend but never brings a down backend up (only
// active checks do: a MinIO that has lost write quorum still answers some GETs while its
// cluster health says 503, and letting both sources vote would make it flap). For the same
// reason a real success is ignored while the latest active check failed: otherwise a backend
// whose health endpoint says 503 would never reach `fall` as long as clients keep using it.
//
// Thread safety: every member function may be called from any thread. Transitions take a small
// mutex; what the selection hot path reads (up, since, in-flight, drained, last failure) is
// mirrored in atomics and read without it. Time is always passed in (injected clock).
#pragma once

#include "s3ha/config/config.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace s3ha::upstream {

using steady_time = std::chrono::steady_clock::time_point;

/// Why a request to a backend failed, as far as its health is concerned. Only these count:
/// 4xx answers, client disconnects and body verification failures say nothing about a backend.
enum class failure_kind {
    connect_failed, ///< resolve, refused, unreachable, or the TLS handshake failed
    reset,          ///< the connection closed or reset before the response header arrived
    timeout,        ///< connect timeout, or no response header within response_header_timeout
    bad_status,     ///< answered one of routing.passive_failure_statuses (502/503/504)
    check_failed,   ///< an active health check failed (used by the health checker only)
};
inline constexpr std::size_t failure_kind_count = 5;
std::string_view to_string(failure_kind k);

/// What a recorded result did to the state.
enum class transition { none, went_up, went_down };

/// A consistent copy of one backend's state (for the admin/metrics snapshot).
struct backend_state_view {
    bool checked = false; ///< false until the first result
    bool up = false;
    steady_time since{}; ///< when the current state (up/down/unchecked) began
    bool last_check_ok = false;
    bool has_checked_actively = false; ///< an active check has completed at least once
    std::chrono::milliseconds last_check_latency{0};
    std::string last_check_detail; ///< e.g. "status 503", "upstream_timeout"
    unsigned consecutive_successes = 0;
    unsigned consecutive_failures = 0;
    std::int64_t in_flight = 0;
    bool drained = false;
    std::array<std::uint64_t, failure_kind_count> failures{}; ///< totals by failure_kind
};

class backend_state {
public:
    backend_state(const health_check_config& hc, steady_time now);
    backend_state(const backend_state&) = delete;
    backend_state& operator=(const backend_state&) = delete;

    // --- lock-free reads (selection hot path) ---
    bool checked() const noexcept { return checked_flag_.load(std::memory_order_acquire); }
    bool up() const noexcept { return up_flag_.load(std::memory_order_acquire); }
    /// When the current state began (the failover stable period counts from here).
    steady_time since() const noexcept { return from_rep(since_rep_.load(k_relaxed)); }
    /// When the latest failure (of any kind) was recorded; epoch when never.
    steady_time last_failure() const noexcept {
        return from_rep(last_failure_rep_.load(k_relaxed));
    }
    std::int64_t in_flight() const noexcept { return in_flight_.load(k_relaxed); }
    bool drained() const noexcept { return drained_.load(k_relaxed); }

    /// Operator control: a drained backend receives no new request (in-flight ones finish).
    void set_drained(bool on) noexcept { drained_.store(on, k_relaxed); }
    void begin_request() noexcept { in_flight_.fetch_add(1, k_relaxed); }
    void end_request() noexcept { in_flight_.fetch_sub(1, k_relaxed); }

    // --- results ---
    /// An active health check's result.
    transition record_check(bool ok, std::chrono::milliseconds latency, std::string_view detail,
                            steady_time now);
    /// A real request got its response header (whatever the status, unless it is a passive
    /// failure status: report that with record_failure).
    transition record_success(steady_time now);
    /// A real request failed in a way that says the backend is unwell.
    transition record_failure(failure_kind kind, steady_time now);

    /// The delay before the next active check: interval + U[0, jitter] while up, unchecked or
    /// rising; while down and failing, interval * 2^(failed probes since it went down) capped at
    /// max_backoff, plus jitter scaled by the same factor (U[0, jitter * base / interval]), so
    /// many proxies probing one dead backend stay spread out.
    std::chrono::milliseconds next_check_delay(std::mt19937_64& rng) const;

    backend_state_view view() const;

private:
    static constexpr auto k_relaxed = std::memory_order_relaxed;
    static steady_time from_rep(std::int64_t r) { return steady_time(steady_time::duration(r)); }
    transition on_success(bool active, steady_time now);
    transition on_failure(failure_kind kind, steady_time now);
    void set_up(bool up, steady_time now);

    const health_check_config hc_;

    mutable std::mutex mu_; // guards the fields below down to the atomics
    bool up_ = false;
    bool checked_ = false;
    unsigned successes_ = 0;
    unsigned failures_ = 0;
    unsigned down_probe_failures_ = 0; // failed results since it went down (back-off exponent)
    bool last_check_ok_ = false;
    bool has_checked_actively_ = false;
    std::chrono::milliseconds last_check_latency_{0};
    std::string last_check_detail_;
    std::array<std::uint64_t, failure_kind_count> failure_counts_{};

    std::atomic<bool> up_flag_{false};
    std::atomic<bool> checked_flag_{false};
    std::atomic<std::int64_t> since_rep_{0};
    std::atomic<std::int64_t> last_failure_rep_{0};
    std::atomic<std::int64_t> in_flight_{0};
    std::atomic<bool> drained_{false};
};

/// RAII in-flight counter: counts a request against a backend for its whole lifetime
/// (least_requests reads it, the admin snapshot shows it). Movable, not copyable.
class in_flight_guard {
public:
    in_flight_guard() = default;
    explicit in_flight_guard(backend_state& s) noexcept : s_(&s) { s_->begin_request(); }
    in_flight_guard(in_flight_guard&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    in_flight_guard& operator=(in_flight_guard&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    in_flight_guard(const in_flight_guard&) = delete;
    in_flight_guard& operator=(const in_flight_guard&) = delete;
    ~in_flight_guard() { release(); }

    /// Stops counting now (idempotent).
    void release() noexcept {
        if (s_ != nullptr) s_->end_request();
        s_ = nullptr;
    }

private:
    backend_state* s_ = nullptr;
};

} // namespace s3ha::upstream
