#include "s3ha/upstream/backend_state.hpp"

#include <algorithm>

namespace s3ha::upstream {

using std::chrono::milliseconds;

std::string_view to_string(failure_kind k) {
    switch (k) {
    case failure_kind::connect_failed: return "connect_failed";
    case failure_kind::reset: return "reset";
    case failure_kind::timeout: return "timeout";
    case failure_kind::bad_status: return "bad_status";
    case failure_kind::check_failed: return "check_failed";
    }
    return "unknown";
}

backend_state::backend_state(const health_check_config& hc, steady_time now) : hc_(hc) {
    since_rep_.store(now.time_since_epoch().count(), k_relaxed);
}

void backend_state::set_up(bool up, steady_time now) {
    up_ = up;
    checked_ = true;
    since_rep_.store(now.time_since_epoch().count(), k_relaxed);
    up_flag_.store(up, std::memory_order_release);
    checked_flag_.store(true, std::memory_order_release);
}

transition backend_state::on_success(bool active, steady_time now) {
    if (!checked_) {
        successes_ = 1;
        failures_ = 0;
        set_up(true, now);
        return transition::went_up;
    }
    if (!up_ && !active) return transition::none; // see the header: only checks bring it up
    // Nor does real traffic cancel a failing health check (see the header).
    if (!active && has_checked_actively_ && !last_check_ok_) return transition::none;
    ++successes_;
    failures_ = 0;
    down_probe_failures_ = 0;
    if (!up_ && successes_ >= std::max(1U, hc_.rise)) {
        set_up(true, now);
        return transition::went_up;
    }
    return transition::none;
}

transition backend_state::on_failure(failure_kind kind, steady_time now) {
    ++failure_counts_[static_cast<std::size_t>(kind)];
    last_failure_rep_.store(now.time_since_epoch().count(), k_relaxed);
    ++failures_;
    successes_ = 0;
    if (!checked_) {
        set_up(false, now);
        return transition::went_down;
    }
    if (!up_) {
        ++down_probe_failures_;
        return transition::none;
    }
    if (failures_ >= std::max(1U, hc_.fall)) {
        down_probe_failures_ = 0;
        set_up(false, now);
        return transition::went_down;
    }
    return transition::none;
}

transition backend_state::record_check(bool ok, milliseconds latency, std::string_view detail,
                                       steady_time now) {
    std::lock_guard lock(mu_);
    last_check_ok_ = ok;
    has_checked_actively_ = true;
    last_check_latency_ = latency;
    last_check_detail_.assign(detail);
    return ok ? on_success(true, now) : on_failure(failure_kind::check_failed, now);
}

transition backend_state::record_success(steady_time now) {
    std::lock_guard lock(mu_);
    return on_success(false, now);
}

transition backend_state::record_failure(failure_kind kind, steady_time now) {
    std::lock_guard lock(mu_);
    return on_failure(kind, now);
}

milliseconds backend_state::next_check_delay(std::mt19937_64& rng) const {
    const auto interval = std::max(hc_.interval, milliseconds(1));
    const auto cap = std::max(hc_.max_backoff, interval);
    auto base = interval;
    {
        std::lock_guard lock(mu_);
        if (checked_ && !up_ && successes_ == 0) {
            // Double per failed probe; stop shifting once past the cap (no overflow).
            for (unsigned i = 0; i < down_probe_failures_ && base < cap; ++i)
                base *= 2;
            base = std::min(base, cap);
        }
    }
    const auto jitter_max = hc_.jitter.count() * base.count() / interval.count();
    if (jitter_max <= 0) return base;
    std::uniform_int_distribution<std::int64_t> dist(0, jitter_max);
    return base + milliseconds(dist(rng));
}

backend_state_view backend_state::view() const {
    std::lock_guard lock(mu_);
    backend_state_view v;
    v.checked = checked_;
    v.up = up_;
    v.since = since();
    v.last_check_ok = last_check_ok_;
    v.has_checked_actively = has_checked_actively_;
    v.last_check_latency = last_check_latency_;
    v.last_check_detail = last_check_detail_;
    v.consecutive_successes = successes_;
    v.consecutive_failures = failures_;
    v.in_flight = in_flight();
    v.drained = drained();
    v.failures = failure_counts_;
    return v;
}

} // namespace s3ha::upstream
