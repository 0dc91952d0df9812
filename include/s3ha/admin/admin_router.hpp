// The admin endpoints as a pure request -> response function (no sockets: admin_listener does
// the I/O, unit tests call handle() directly).
//
//   GET|HEAD /health, /health/live   200 while the process serves (never needs the token)
//   GET|HEAD /health/ready           200 when at least one backend is up and not drained and the
//                                    server is not draining, else 503 (never needs the token)
//   GET|HEAD /metrics                Prometheus text format 0.0.4
//   GET      /admin/backends         JSON: every backend's state (backends_json)
//   POST     /admin/backends/<name>/drain | /enable
//                                    drain: no new request goes to it (in-flight ones finish)
//   POST     /admin/failback         failover policy: go back to the best healthy backend now
//
// Every /admin answer is JSON ({"error": ...} on failure): 404 for an unknown path or backend,
// 405 (with Allow) for a known path and a wrong method. With admin.token set, everything but the
// health endpoints needs `Authorization: Bearer <token>` (compared in constant time); otherwise
// 401 with WWW-Authenticate. JSON is written with invalid UTF-8 replaced (U+FFFD), so no request
// bytes (a backend name in the path) can make the writer throw; anything else that throws while
// answering (a bug) becomes 500 {"error": "internal error"}: handle() never throws.
//
// Thread safety: handle() and set_draining() may be called from any thread.
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/upstream/pool.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace s3ha::admin {

class admin_router {
public:
    /// token: admin.token (empty = no authentication). pool, metrics: may be nullptr (then the
    /// endpoints that need them answer 503 / an empty document).
    admin_router(std::string token, std::shared_ptr<upstream::pool> pool,
                 std::shared_ptr<const metrics::proxy_metrics> metrics);

    /// The answer to req. Never throws: an exception becomes 500 {"error": "internal error"},
    /// and its what() goes to *failure when failure is given (for the caller's log).
    http::response<http::string_body> handle(const http::request<http::string_body>& req,
                                             std::string* failure = nullptr) const;

    /// A configuration reload: the new token, pool and metrics. Same thread as handle().
    void reset(std::string token, std::shared_ptr<upstream::pool> pool,
               std::shared_ptr<const metrics::proxy_metrics> metrics);

    /// The server began shutting down: /health/ready answers 503 from now on.
    void set_draining() noexcept { draining_.store(true, std::memory_order_relaxed); }
    bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

    /// True when /health/ready would answer 200.
    bool ready() const;

private:
    http::response<http::string_body> route(const http::request<http::string_body>& req) const;
    bool authorized(const http::request<http::string_body>& req) const;

    std::string token_;
    std::shared_ptr<upstream::pool> pool_;
    std::shared_ptr<const metrics::proxy_metrics> metrics_;
    std::atomic<bool> draining_{false};
};

/// GET /admin/backends: {"backends": [{name, endpoint, priority, weight, state, up, checked,
/// since, since_seconds, active, drained, in_flight, consecutive_successes,
/// consecutive_failures, last_check: {ok, latency_ms, detail} | null, failures: {kind: n}}]}.
/// `since` is RFC 3339 UTC (wall clock), since_seconds how long ago. Pure function.
nlohmann::json backends_json(std::span<const upstream::backend_snapshot> snapshot,
                             const std::vector<std::shared_ptr<const upstream::backend>>& backends,
                             upstream::steady_time steady_now,
                             std::chrono::system_clock::time_point wall_now);

/// j as the admin endpoints write JSON: indented, invalid UTF-8 replaced by U+FFFD (never a
/// throw: nlohmann::json's default handler throws type_error 316 on invalid UTF-8).
std::string admin_json_text(const nlohmann::json& j);

/// answer(), or, if it throws, 500 {"error": "internal error"} for req (what() in *failure
/// when given). What handle() is built on.
http::response<http::string_body>
answer_or_internal_error(const http::request<http::string_body>& req,
                         const std::function<http::response<http::string_body>()>& answer,
                         std::string* failure = nullptr);

/// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T15:04:05.123Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

} // namespace s3ha::admin
