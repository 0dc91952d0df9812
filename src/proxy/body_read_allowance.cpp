#include "s3ha/proxy/body_read_allowance.hpp"

#include <algorithm>
#include <limits>

namespace s3ha::proxy {

std::chrono::milliseconds body_read_allowance(std::chrono::milliseconds body_read_timeout,
                                              std::uint64_t min_rate, std::uint64_t received,
                                              std::chrono::steady_clock::duration waited) noexcept {
    using std::chrono::milliseconds;
    if (min_rate == 0) return body_read_timeout;
    // received * 1000 cannot overflow below 18 PB; the clamp only keeps it defined beyond.
    constexpr std::uint64_t k_max = std::numeric_limits<std::int64_t>::max() / 2;
    const std::uint64_t earned_ms =
        std::min(received, k_max / 1000) * 1000 / min_rate; // 1 s per min_rate bytes
    const auto total =
        body_read_timeout.count() + static_cast<std::int64_t>(std::min(earned_ms, k_max));
    const auto left =
        total - std::chrono::duration_cast<milliseconds>(std::max(waited, waited.zero())).count();
    if (left <= 0) return milliseconds::zero();
    return std::min(body_read_timeout, milliseconds(left));
}

} // namespace s3ha::proxy
