#include "s3ha/upstream/selection_policy.hpp"

#include "s3ha/upstream/failover_policy.hpp"

#include <random>
#include <vector>

namespace s3ha::upstream {

namespace {

class round_robin_policy final : public selection_policy {
public:
    std::optional<std::size_t> pick(std::span<const candidate> all,
                                    const selection_context& /*ctx*/) override {
        const auto n = all.size();
        for (std::size_t k = 0; k < n; ++k) {
            const auto i = (next_ + k) % n;
            if (all[i].usable) {
                next_ = (i + 1) % n;
                return i;
            }
        }
        return std::nullopt;
    }

private:
    std::size_t next_ = 0;
};

class random_policy final : public selection_policy {
public:
    explicit random_policy(std::uint64_t seed) : rng_(seed) {}

    std::optional<std::size_t> pick(std::span<const candidate> all,
                                    const selection_context& /*ctx*/) override {
        std::size_t usable = 0;
        for (const auto& c : all)
            usable += c.usable ? 1 : 0;
        if (usable == 0) return std::nullopt;
        auto k = std::uniform_int_distribution<std::size_t>(0, usable - 1)(rng_);
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (all[i].usable && k-- == 0) return i;
        }
        return std::nullopt; // unreachable
    }

private:
    std::mt19937_64 rng_;
};

// Smooth weighted round robin (nginx ngx_http_upstream_get_peer): every pick adds each usable
// backend's weight to its current weight, takes the largest and subtracts the total from it.
class weighted_policy final : public selection_policy {
public:
    std::optional<std::size_t> pick(std::span<const candidate> all,
                                    const selection_context& /*ctx*/) override {
        current_.resize(all.size(), 0);
        std::int64_t total = 0;
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (!all[i].usable) continue;
            const auto w = static_cast<std::int64_t>(std::max(1U, all[i].weight));
            current_[i] += w;
            total += w;
            if (!best || current_[i] > current_[*best]) best = i;
        }
        if (best) current_[*best] -= total;
        return best;
    }

private:
    std::vector<std::int64_t> current_;
};

class least_requests_policy final : public selection_policy {
public:
    explicit least_requests_policy(std::uint64_t seed) : rng_(seed) {}

    std::optional<std::size_t> pick(std::span<const candidate> all,
                                    const selection_context& /*ctx*/) override {
        usable_.clear();
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (all[i].usable) usable_.push_back(i);
        }
        if (usable_.empty()) return std::nullopt;
        if (usable_.size() == 1) return usable_.front();
        const auto n = usable_.size();
        const auto a = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
        auto b = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng_);
        if (b >= a) ++b; // a distinct second choice
        const auto ia = usable_[a];
        const auto ib = usable_[b];
        return all[ib].in_flight < all[ia].in_flight ? ib : ia;
    }

private:
    std::mt19937_64 rng_;
    std::vector<std::size_t> usable_; // scratch, reused
};

} // namespace

std::unique_ptr<selection_policy> make_selection_policy(const routing_config& routing,
                                                        std::uint64_t seed) {
    switch (routing.policy) {
    case routing_policy::failover:
        return std::make_unique<failover_policy>(routing.failback, routing.failback_stable_period);
    case routing_policy::round_robin: return std::make_unique<round_robin_policy>();
    case routing_policy::random: return std::make_unique<random_policy>(seed);
    case routing_policy::weighted: return std::make_unique<weighted_policy>();
    case routing_policy::least_requests: return std::make_unique<least_requests_policy>(seed);
    }
    return std::make_unique<failover_policy>(routing.failback, routing.failback_stable_period);
}

} // namespace s3ha::upstream
