#include "s3ha/upstream/pool.hpp"

#include "s3ha/core/log_scope.hpp"

#include <algorithm>

namespace s3ha::upstream {

pool::pool(std::vector<std::shared_ptr<const backend>> backends, const routing_config& routing,
           std::shared_ptr<spdlog::logger> log, bool json_log, std::uint64_t seed, clock_fn now)
    : backends_(std::move(backends)), routing_(routing), log_(std::move(log)), json_log_(json_log),
      now_(std::move(now)), policy_(make_selection_policy(routing_, seed)) {
    const auto t = now_();
    states_.reserve(backends_.size());
    for (const auto& b : backends_)
        states_.push_back(std::make_unique<backend_state>(b->config().health_check, t));
    candidates_.resize(backends_.size());
}

const backend* pool::select(unsigned attempt, std::span<const std::size_t> tried) {
    const auto t = now_();
    auto was_tried = [&](std::size_t i) {
        return std::find(tried.begin(), tried.end(), i) != tried.end();
    };
    // Optimistic start: only while no backend has a verdict of "up".
    bool any_up = false;
    for (const auto& s : states_)
        any_up = any_up || s->up();

    std::lock_guard lock(mu_);
    bool any_usable = false;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const auto& s = *states_[i];
        const auto& cfg = backends_[i]->config();
        auto& c = candidates_[i];
        c.priority = cfg.priority;
        c.weight = cfg.weight;
        c.in_flight = s.in_flight();
        c.up_since = s.since();
        const bool healthy = s.up() || (!any_up && !s.checked());
        c.usable = healthy && !s.drained() && !was_tried(i);
        any_usable = any_usable || c.usable;
    }
    if (any_usable) {
        const auto i = policy_->pick(candidates_, {t, attempt});
        return i ? backends_[*i].get() : nullptr;
    }
    if (!routing_.try_unhealthy_when_all_down) return nullptr;
    // Everything is down: the backend whose last failure is oldest is the likeliest to be back.
    std::optional<std::size_t> pick;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const auto& s = *states_[i];
        if (s.drained() || was_tried(i)) continue;
        if (!pick || s.last_failure() < states_[*pick]->last_failure()) pick = i;
    }
    return pick ? backends_[*pick].get() : nullptr;
}

void pool::report_success(const backend& b) {
    const auto t = states_.at(b.index())->record_success(now_());
    log_transition(b.index(), t, "a request succeeded");
}

void pool::report_failure(const backend& b, failure_kind kind) {
    const auto t = states_.at(b.index())->record_failure(kind, now_());
    if (t != transition::none) {
        log_transition(b.index(), t, std::string("request failure: ").append(to_string(kind)));
    }
}

bool pool::is_failure_status(unsigned status) const noexcept {
    const auto& s = routing_.passive_failure_statuses;
    return std::find(s.begin(), s.end(), status) != s.end();
}

void pool::record_check(std::size_t index, bool ok, std::chrono::milliseconds latency,
                        std::string_view detail) {
    const auto t = states_.at(index)->record_check(ok, latency, detail, now_());
    if (t != transition::none) {
        log_transition(index, t, std::string("health check: ").append(detail));
    }
}

bool pool::set_drained(std::string_view name, bool on) {
    for (std::size_t i = 0; i < backends_.size(); ++i) {
        if (backends_[i]->name() != name) continue;
        if (states_[i]->drained() != on) {
            states_[i]->set_drained(on);
            log_scope(log_.get(), json_log_, "-", {})
                .warn("backend {} {} by the operator", name, on ? "drained" : "undrained");
        }
        return true;
    }
    return false;
}

void pool::request_failback() {
    std::lock_guard lock(mu_);
    policy_->request_failback();
}

std::vector<backend_snapshot> pool::snapshot() const {
    std::optional<std::size_t> active;
    {
        std::lock_guard lock(mu_);
        active = policy_->active();
    }
    const bool failover = routing_.policy == routing_policy::failover;
    std::vector<backend_snapshot> out;
    out.reserve(backends_.size());
    for (std::size_t i = 0; i < backends_.size(); ++i) {
        backend_snapshot s;
        s.name = backends_[i]->name();
        s.state = states_[i]->view();
        s.active = failover ? (active && *active == i) : (s.state.up && !s.state.drained);
        out.push_back(std::move(s));
    }
    return out;
}

void pool::log_transition(std::size_t index, transition t, std::string_view why) const {
    if (t == transition::none) return;
    const auto v = states_[index]->view();
    log_scope log(log_.get(), json_log_, "-", {});
    if (t == transition::went_up) {
        log.warn("backend {} is up ({} consecutive successes; {})", backends_[index]->name(),
                 v.consecutive_successes, why);
    } else {
        log.warn("backend {} is down ({} consecutive failures; {})", backends_[index]->name(),
                 v.consecutive_failures, why);
    }
}

const backend* request_selector::select(unsigned attempt) {
    if (attempt == 0) tried_.clear();
    const backend* b = pool_.select(attempt, {tried_.data(), tried_.size()});
    if (b != nullptr) tried_.push_back(b->index());
    return b;
}

} // namespace s3ha::upstream
