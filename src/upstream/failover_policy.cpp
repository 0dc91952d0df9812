#include "s3ha/upstream/failover_policy.hpp"

namespace s3ha::upstream {

namespace {

// Lower priority number first, then configuration order.
bool better(std::span<const candidate> all, std::size_t a, std::size_t b) {
    return all[a].priority < all[b].priority || (all[a].priority == all[b].priority && a < b);
}

std::optional<std::size_t> best_usable(std::span<const candidate> all) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].usable && (!best || better(all, i, *best))) best = i;
    }
    return best;
}

} // namespace

std::optional<std::size_t> failover_policy::pick(std::span<const candidate> all,
                                                 const selection_context& ctx) {
    const auto best = best_usable(all);
    if (!best) return std::nullopt;
    if (ctx.attempt > 0) return best;

    if (!active_ || *active_ >= all.size() || !all[*active_].usable) {
        active_ = best; // take over
        failback_requested_ = false;
        return active_;
    }
    if (mode_ == failback_mode::manual) {
        if (failback_requested_) {
            active_ = best;
            failback_requested_ = false;
        }
        return active_;
    }
    // Automatic failback: the best backend that beats the active one and has stayed up for the
    // whole stable period. up_since restarts at every up transition, so a flapping backend
    // never qualifies.
    std::optional<std::size_t> back;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& c = all[i];
        if (!c.usable || c.priority >= all[*active_].priority) continue;
        if (ctx.now - c.up_since < stable_period_) continue;
        if (!back || better(all, i, *back)) back = i;
    }
    if (back) active_ = back;
    return active_;
}

} // namespace s3ha::upstream
