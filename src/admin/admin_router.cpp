#include "s3ha/admin/admin_router.hpp"

#include "s3ha/crypto/sha256.hpp"

#include <openssl/crypto.h>

#include <ctime>

namespace s3ha::admin {

namespace {

using response = http::response<http::string_body>;
using request = http::request<http::string_body>;

response make_response(const request& req, http::status status, std::string_view content_type,
                       std::string body) {
    response res{status, req.version()};
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response json_response(const request& req, http::status status, const nlohmann::json& j) {
    return make_response(req, status, "application/json", admin_json_text(j));
}

response json_error(const request& req, http::status status, std::string_view message) {
    return json_response(req, status, {{"error", message}});
}

response method_not_allowed(const request& req, std::string_view allow) {
    auto res = json_error(req, http::status::method_not_allowed, "method not allowed");
    res.set(http::field::allow, allow);
    return res;
}

bool is_get(const request& req) {
    return req.method() == http::verb::get || req.method() == http::verb::head;
}

std::string_view state_name(const upstream::backend_state_view& v) {
    if (!v.checked) return "unchecked";
    return v.up ? "up" : "down";
}

} // namespace

std::string admin_json_text(const nlohmann::json& j) {
    // Request bytes reach the JSON (an unknown backend name is echoed in the 404): they need not
    // be UTF-8, and the default error handler would throw on them.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

response answer_or_internal_error(const request& req, const std::function<response()>& answer,
                                  std::string* failure) {
    try {
        return answer();
    } catch (const std::exception& e) {
        if (failure != nullptr) *failure = e.what();
    } catch (...) {
        if (failure != nullptr) *failure = "unknown exception";
    }
    return json_error(req, http::status::internal_server_error, "internal error");
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 32> buf{};
    const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(buf.data(), n) + fmt::format(".{:03}Z", ms % 1000);
}

nlohmann::json backends_json(std::span<const upstream::backend_snapshot> snapshot,
                             const std::vector<std::shared_ptr<const upstream::backend>>& backends,
                             upstream::steady_time steady_now,
                             std::chrono::system_clock::time_point wall_now) {
    auto list = nlohmann::json::array();
    for (std::size_t i = 0; i < snapshot.size(); ++i) {
        const auto& s = snapshot[i];
        const auto& v = s.state;
        const auto ago = steady_now - v.since;
        const auto since_wall =
            wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(ago);
        nlohmann::json j = {
            {"name", s.name},
            {"state", state_name(v)},
            {"up", v.up},
            {"checked", v.checked},
            {"since", rfc3339(since_wall)},
            {"since_seconds", std::chrono::duration<double>(ago).count()},
            {"active", s.active},
            {"drained", v.drained},
            {"in_flight", v.in_flight},
            {"consecutive_successes", v.consecutive_successes},
            {"consecutive_failures", v.consecutive_failures},
        };
        if (i < backends.size()) {
            const auto& cfg = backends[i]->config();
            j["endpoint"] = cfg.endpoint.to_string();
            j["priority"] = cfg.priority;
            j["weight"] = cfg.weight;
        }
        if (v.has_checked_actively) {
            j["last_check"] = {{"ok", v.last_check_ok},
                               {"latency_ms", v.last_check_latency.count()},
                               {"detail", v.last_check_detail}};
        } else {
            j["last_check"] = nullptr;
        }
        auto failures = nlohmann::json::object();
        for (std::size_t k = 0; k < v.failures.size(); ++k)
            failures[std::string(upstream::to_string(upstream::failure_kind(k)))] = v.failures[k];
        j["failures"] = std::move(failures);
        list.push_back(std::move(j));
    }
    return {{"backends", std::move(list)}};
}

admin_router::admin_router(std::string token, std::shared_ptr<upstream::pool> pool,
                           std::shared_ptr<const metrics::proxy_metrics> metrics)
    : token_(std::move(token)), pool_(std::move(pool)), metrics_(std::move(metrics)) {
}

void admin_router::reset(std::string token, std::shared_ptr<upstream::pool> pool,
                         std::shared_ptr<const metrics::proxy_metrics> metrics) {
    token_ = std::move(token);
    pool_ = std::move(pool);
    metrics_ = std::move(metrics);
}

bool admin_router::authorized(const request& req) const {
    if (token_.empty()) return true;
    constexpr std::string_view scheme = "Bearer ";
    const std::string_view value = req[http::field::authorization];
    if (value.size() <= scheme.size() || !beast::iequals(value.substr(0, scheme.size()), scheme)) {
        return false;
    }
    // Hash both sides first: the comparison then takes the same time whatever the lengths.
    const auto given = crypto::sha256(value.substr(scheme.size()));
    const auto expected = crypto::sha256(token_);
    return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool admin_router::ready() const {
    if (draining() || !pool_) return false;
    const auto snap = pool_->snapshot();
    return std::any_of(snap.begin(), snap.end(),
                       [](const auto& s) { return s.state.up && !s.state.drained; });
}

http::response<http::string_body> admin_router::handle(const request& req,
                                                       std::string* failure) const {
    return answer_or_internal_error(
        req, [&] { return route(req); }, failure);
}

http::response<http::string_body> admin_router::route(const request& req) const {
    std::string_view path = req.target();
    path = path.substr(0, path.find('?'));

    if (path == "/health" || path == "/health/live") {
        if (!is_get(req)) return method_not_allowed(req, "GET, HEAD");
        return make_response(req, http::status::ok, "text/plain", "OK\n");
    }
    if (path == "/health/ready") {
        if (!is_get(req)) return method_not_allowed(req, "GET, HEAD");
        if (ready()) return make_response(req, http::status::ok, "text/plain", "ready\n");
        return make_response(req, http::status::service_unavailable, "text/plain",
                             draining() ? "not ready: draining\n"
                                        : "not ready: no healthy backend\n");
    }

    if (!authorized(req)) {
        auto res = json_error(req, http::status::unauthorized, "missing or wrong bearer token");
        res.set(http::field::www_authenticate, R"(Bearer realm="s3ha-admin")");
        return res;
    }

    if (path == "/metrics") {
        if (!is_get(req)) return method_not_allowed(req, "GET, HEAD");
        if (!metrics_) return json_error(req, http::status::service_unavailable, "no metrics");
        metrics::scrape_state state;
        std::vector<upstream::backend_snapshot> snap;
        if (pool_) {
            snap = pool_->snapshot();
            state.backends = snap;
            state.steady_now = pool_->now();
        }
        state.wall_now = std::chrono::system_clock::now();
        state.draining = draining();
        return make_response(req, http::status::ok, metrics::proxy_metrics::content_type,
                             metrics_->serialize(state));
    }
    if (path == "/admin/backends") {
        if (req.method() != http::verb::get) return method_not_allowed(req, "GET");
        if (!pool_)
            return json_response(req, http::status::ok, {{"backends", nlohmann::json::array()}});
        const auto snap = pool_->snapshot();
        return json_response(
            req, http::status::ok,
            backends_json(snap, pool_->backends(), pool_->now(), std::chrono::system_clock::now()));
    }
    if (path == "/admin/failback") {
        if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
        if (!pool_) return json_error(req, http::status::service_unavailable, "no backend pool");
        pool_->request_failback();
        return json_response(req, http::status::ok, {{"failback", "requested"}});
    }
    constexpr std::string_view prefix = "/admin/backends/";
    if (path.starts_with(prefix)) {
        const auto rest = path.substr(prefix.size());
        const auto slash = rest.find('/');
        const auto action =
            slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (slash != std::string_view::npos && slash != 0 &&
            (action == "drain" || action == "enable")) {
            if (req.method() != http::verb::post) return method_not_allowed(req, "POST");
            const auto name = rest.substr(0, slash);
            const bool drain = action == "drain";
            if (!pool_ || !pool_->set_drained(name, drain)) {
                return json_error(req, http::status::not_found,
                                  "no backend named " + std::string(name));
            }
            return json_response(req, http::status::ok, {{"backend", name}, {"drained", drain}});
        }
    }
    return json_error(req, http::status::not_found, "not found");
}

} // namespace s3ha::admin
