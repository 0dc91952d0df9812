#include "s3ha/metrics/histogram_set.hpp"

#include <algorithm>
#include <stdexcept>

namespace s3ha::metrics {

histogram_set::histogram_set(std::vector<double> bounds, std::size_t series, std::size_t shards)
    : bounds_(std::move(bounds)), series_(series), stride_(bounds_.size() + 1),
      counts_(stride_ * series, shards), sums_(series, shards) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
        throw std::invalid_argument("histogram bounds must be strictly increasing");
    }
}

void histogram_set::observe(std::size_t series, double v) noexcept {
    // Prometheus buckets are "le" (less than or equal): the first bound >= v.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    const auto bucket = static_cast<std::size_t>(it - bounds_.begin());
    counts_.add(series * stride_ + bucket, 1);
    sums_.add(series, v);
}

histogram_set::reading histogram_set::read(std::size_t series) const {
    reading r;
    r.cumulative.resize(stride_);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < stride_; ++i) {
        total += counts_.sum(series * stride_ + i);
        r.cumulative[i] = total;
    }
    r.count = total;
    r.sum = sums_.sum(series);
    return r;
}

} // namespace s3ha::metrics
