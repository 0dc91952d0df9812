#include "s3ha/proxy/replay_buffer.hpp"

#include <utility>

namespace s3ha::proxy {

replay_buffer::replay_buffer(replay_budget& budget, std::uint64_t max_size,
                             std::optional<std::uint64_t> expected_size)
    : budget_(&budget), max_size_(max_size), keeping_(max_size > 0) {
    if (!keeping_ || !expected_size) return;
    // A known length is admitted whole or not at all, so a body never fills half the budget and
    // then has to be dropped.
    if (*expected_size > max_size_ || !budget_->try_reserve(*expected_size)) {
        keeping_ = false;
        return;
    }
    reserved_ = *expected_size;
    data_.reserve(static_cast<std::size_t>(reserved_));
}

replay_buffer::~replay_buffer() {
    if (budget_ != nullptr) budget_->release(reserved_);
}

replay_buffer::replay_buffer(replay_buffer&& o) noexcept
    : budget_(std::exchange(o.budget_, nullptr)), max_size_(o.max_size_),
      reserved_(std::exchange(o.reserved_, 0)), appended_(o.appended_), keeping_(o.keeping_),
      data_(std::move(o.data_)) {
}

replay_buffer& replay_buffer::operator=(replay_buffer&& o) noexcept {
    if (this != &o) {
        if (budget_ != nullptr) budget_->release(reserved_);
        budget_ = std::exchange(o.budget_, nullptr);
        max_size_ = o.max_size_;
        reserved_ = std::exchange(o.reserved_, 0);
        appended_ = o.appended_;
        keeping_ = o.keeping_;
        data_ = std::move(o.data_);
    }
    return *this;
}

void replay_buffer::append(std::string_view bytes) {
    appended_ += bytes.size();
    if (!keeping_) return;
    if (appended_ > max_size_) {
        give_up();
        return;
    }
    if (appended_ > reserved_) {
        if (!budget_->try_reserve(appended_ - reserved_)) {
            give_up();
            return;
        }
        reserved_ = appended_;
    }
    data_.append(bytes);
}

void replay_buffer::give_up() noexcept {
    keeping_ = false;
    std::string().swap(data_);
    if (budget_ != nullptr) budget_->release(reserved_);
    reserved_ = 0;
}

} // namespace s3ha::proxy
