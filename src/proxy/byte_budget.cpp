#include "s3ha/proxy/byte_budget.hpp"

namespace s3ha::proxy {

bool byte_budget::try_reserve(std::uint64_t n) noexcept {
    if (n > limit_ || held_ > limit_ - n) return false;
    held_ += n;
    return true;
}

void byte_budget::release(std::uint64_t n) noexcept {
    held_ = n > held_ ? 0 : held_ - n;
}

} // namespace s3ha::proxy
