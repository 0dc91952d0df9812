// routing.policy failover (see selection_policy.hpp): one active backend, failback auto after a
// stable period, or manual on operator request.
#pragma once

#include "s3ha/upstream/selection_policy.hpp"

#include <chrono>

namespace s3ha::upstream {

class failover_policy final : public selection_policy {
public:
    failover_policy(failback_mode mode, std::chrono::milliseconds stable_period)
        : mode_(mode), stable_period_(stable_period) {}

    /// attempt 0: the active backend (taking over or failing back as described); a retry
    /// (attempt > 0): the best usable backend, without moving the active one (a single failed
    /// request is not a reason to switch; `fall` failures are).
    std::optional<std::size_t> pick(std::span<const candidate> all,
                                    const selection_context& ctx) override;
    void request_failback() override { failback_requested_ = true; }
    std::optional<std::size_t> active() const override { return active_; }

private:
    failback_mode mode_;
    std::chrono::milliseconds stable_period_;
    std::optional<std::size_t> active_;
    bool failback_requested_ = false;
};

} // namespace s3ha::upstream
