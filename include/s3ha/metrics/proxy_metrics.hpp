// The registry of the proxy's metrics ("stats declared once per component and handed in"):
// created once at start-up with the configured backend names, every label child created then
// (bounded labels: backend name, S3 operation, status class, reason), handed to the workers,
// their forwarders and connection pools, the listener, the health checker and the admin
// listener by pointer. Names follow the Prometheus conventions: prefix s3ha_, base units
// (seconds, bytes), _total counters. README.md "Metrics reference" lists every one.
//
// Data-path updates never allocate and never lock: what every request updates (requests,
// durations, body bytes, in-flight requests, pooled connections) is sharded per worker thread
// (sharded.hpp: no cache line written by two workers), the rest are prometheus-cpp handles
// (atomics); histograms are metrics::histogram_set (prometheus-cpp's Histogram locks a mutex per
// observation). Backend state (up, active, drained, streaks,
// in-flight, failures) is not pushed at all: serialize() renders it from a pool snapshot at
// scrape time, so it can never disagree with what the pool decides.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/http/s3_request.hpp"
#include "s3ha/metrics/histogram_set.hpp"
#include "s3ha/metrics/sharded.hpp"
#include "s3ha/upstream/pool.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha::metrics {

/// Why a request made another attempt (label `reason` of s3ha_retries_total and
/// s3ha_failovers_total).
enum class retry_reason : std::uint8_t {
    connect_failed,   ///< resolve, connect or TLS handshake failed
    timeout,          ///< connect timeout, or no response header within the deadline
    reset,            ///< the connection closed or reset before the response header
    stale_connection, ///< a pooled connection was found closed (retried on a fresh one)
    retry_status,     ///< the backend answered one of routing.retries.retry_statuses
    not_found,        ///< read_fallback_on_404: 404 NoSuchKey, the next backend may have it
    other,            ///< a reason this list does not know (keeps the label set bounded)
};
inline constexpr std::size_t retry_reason_count = 7;
std::string_view to_string(retry_reason r) noexcept;
/// The forwarder's reason text ("connect_failed", "timeout", "reset", "status_503", ...).
retry_reason retry_reason_of(std::string_view reason) noexcept;

/// The status class label: "2xx", "3xx", "4xx", "5xx", or "none" (no final response was sent:
/// the client went away first).
std::string_view status_class(unsigned status) noexcept;

/// The `reason` label of s3ha_requests_rejected_total for an error s3ha answered itself: auth,
/// body, invalid_request, limit, loop, no_healthy_backend, upstream or internal.
std::string_view rejection_reason(const error_code& ec) noexcept;

/// Build identity for s3ha_build_info.
struct build_identity {
    std::string version;
    std::string commit;
};

/// What serialize() needs besides the counters: the pool's state at scrape time.
struct scrape_state {
    std::span<const upstream::backend_snapshot> backends; ///< configuration order
    upstream::steady_time steady_now{};                   ///< the pool's clock, now
    std::chrono::system_clock::time_point wall_now{};     ///< the wall clock, now
    bool draining = false;                                ///< SIGTERM received
};

class proxy_metrics {
public:
    /// backend_names: in configuration order (backend::index()). shards: the worker threads + 1
    /// (each worker calls set_thread_shard(id + 1); sharded.hpp). Allocates every series.
    proxy_metrics(std::vector<std::string> backend_names, const build_identity& build,
                  std::size_t shards = 1);
    proxy_metrics(const proxy_metrics&) = delete;
    proxy_metrics& operator=(const proxy_metrics&) = delete;

    /// The backend index standing for "no backend" (the request never reached one).
    std::size_t no_backend() const noexcept { return backend_names_.size(); }
    const std::vector<std::string>& backend_names() const noexcept { return backend_names_; }

    // --- downstream (listener, forwarder) ---

    /// RAII: counts a downstream request in s3ha_requests_in_flight while alive (m may be
    /// nullptr: counts nothing).
    class in_flight {
    public:
        explicit in_flight(proxy_metrics* m) noexcept : m_(m) {
            if (m_ != nullptr) m_->hot_.add(k_in_flight, 1);
        }
        in_flight(const in_flight&) = delete;
        in_flight& operator=(const in_flight&) = delete;
        ~in_flight() {
            if (m_ != nullptr) m_->hot_.add(k_in_flight, -1);
        }

    private:
        proxy_metrics* m_;
    };

    /// One finished downstream request (answered by a backend or by s3ha).
    struct request_sample {
        std::size_t backend = 0; ///< backend index, or no_backend()
        s3_operation operation = s3_operation::other;
        unsigned status = 0; ///< final status sent; 0 = none
        std::chrono::steady_clock::duration duration{};
        std::uint64_t received_bytes = 0; ///< request body bytes read from the client
        std::uint64_t sent_bytes = 0;     ///< response body bytes written to the client
    };
    void request_finished(const request_sample& s) noexcept;

    /// s3ha answered a request (or a connection before any request) with its own S3 error.
    void rejected(const error_code& ec) noexcept;

    void connection_opened() noexcept;
    void connection_closed() noexcept;

    // --- upstream (forwarder, connection pool, health checker) ---

    /// The response header of an attempt arrived `elapsed` after the attempt started.
    void upstream_first_byte(std::size_t backend,
                             std::chrono::steady_clock::duration elapsed) noexcept;
    /// Body bytes of one attempt: sent to the backend and received from it.
    void upstream_bytes(std::size_t backend, std::uint64_t sent, std::uint64_t received) noexcept;
    /// A request makes another attempt on the same backend (a stale pooled connection).
    void retry(retry_reason r) noexcept;
    /// A request's attempt on `from` failed with `reason` (retry_reason_of) and its next attempt
    /// goes to `to`: counts the retry and the failover.
    void failover(std::size_t from, std::size_t to, std::string_view reason) noexcept;

    /// Upstream connection pool accounting (per backend): a new connection is busy; released
    /// into the idle list; taken from the idle list; closed (idle or busy).
    void upstream_connection_opened(std::size_t backend) noexcept;
    void upstream_connection_parked(std::size_t backend) noexcept;
    void upstream_connection_reused(std::size_t backend) noexcept;
    void upstream_connection_closed(std::size_t backend, bool was_idle) noexcept;

    /// One active health check result.
    void health_check(std::size_t backend, bool ok, std::chrono::milliseconds latency) noexcept;

    // --- scrape (admin listener) ---

    /// Text exposition format 0.0.4 of every metric, the backend state taken from `state`.
    std::string serialize(const scrape_state& state) const;

    /// Content-Type of serialize()'s output.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
    static constexpr std::size_t k_operations = static_cast<std::size_t>(s3_operation::other) + 1;
    static constexpr std::size_t k_status_classes = 5;
    static constexpr std::size_t k_errc_slots = 64; // > every s3ha::errc value; slot 0: foreign

    std::size_t request_series(std::size_t backend, s3_operation op) const noexcept {
        return backend * k_operations + static_cast<std::size_t>(op);
    }

    // Slots of hot_: three for the process, then four per backend.
    static constexpr std::size_t k_in_flight = 0;
    static constexpr std::size_t k_downstream_received = 1;
    static constexpr std::size_t k_downstream_sent = 2;
    enum backend_slot : std::size_t {
        upstream_sent,
        upstream_received,
        upstream_idle,
        upstream_busy
    };
    static std::size_t slot(std::size_t backend, backend_slot s) noexcept {
        return 3 + backend * 4 + s;
    }

    std::vector<std::string> backend_names_;
    std::shared_ptr<prometheus::Registry> registry_;

    prometheus::Gauge* downstream_connections_ = nullptr;
    prometheus::Counter* downstream_connections_total_ = nullptr;
    std::vector<std::array<prometheus::Counter*, 2>>
        health_checks_; // per backend: [failure, success]
    std::array<prometheus::Counter*, retry_reason_count> retries_{};
    std::vector<prometheus::Counter*> failovers_; // [from][to][reason], nullptr where from == to
    std::array<prometheus::Counter*, k_errc_slots> rejected_{};

    // Updated by every request, per worker thread; rendered by serialize().
    sharded<std::int64_t> hot_; // k_in_flight, downstream bytes, then slot(backend, ...)
    // (backends + none) x operations x status classes; rendered when non-zero.
    sharded<std::uint64_t> requests_;
    histogram_set request_duration_; // (backends + none) x operations
    histogram_set first_byte_;       // backends
    histogram_set check_duration_;   // backends
};

} // namespace s3ha::metrics
