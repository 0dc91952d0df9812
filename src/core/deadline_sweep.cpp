#include "s3ha/core/deadline_sweep.hpp"

namespace s3ha {

net::execution_context::id deadline_sweep::id;

deadline_sweep::deadline_sweep(net::io_context& ctx)
    : net::execution_context::service(ctx), timer_(ctx.get_executor()) {
}

void deadline_sweep::arm(stream_deadline& d, std::chrono::milliseconds timeout) {
    d.at = stream_deadline::clock::now() + timeout;
    d.expired = false;
    if (!d.hook.is_linked()) armed_.push_back(d);
    if (!scheduled_ && d.pending > 0) schedule();
}

void deadline_sweep::disarm(stream_deadline& d) noexcept {
    d.at = stream_deadline::clock::time_point::max();
    d.expired = false;
    d.hook.unlink();
}

void deadline_sweep::shutdown() {
    // The io_context is going away: its pending handlers are destroyed, not run.
    stopped_ = true;
    armed_.clear();
}

void deadline_sweep::schedule() {
    if (stopped_) return;
    scheduled_ = true;
    timer_.expires_after(k_tick);
    timer_.async_wait([this](const error_code& ec) {
        scheduled_ = false;
        if (!ec) sweep();
    });
}

void deadline_sweep::sweep() {
    const auto now = stream_deadline::clock::now();
    bool waiting = false;
    for (auto it = armed_.begin(); it != armed_.end();) {
        stream_deadline& d = *it;
        if (d.socket == nullptr) {
            it = armed_.erase(it);
        } else if (d.pending > 0 && d.at <= now) {
            // As tcp_stream does on expiry: close, so the pending operations complete (with
            // operation_aborted, reported as beast::error::timeout by any_stream).
            d.expired = true;
            d.at = stream_deadline::clock::time_point::max();
            it = armed_.erase(it);
            error_code ignored;
            d.socket->close(ignored); // NOLINT(bugprone-unused-return-value)
        } else {
            waiting = waiting || d.pending > 0;
            ++it;
        }
    }
    // Streams armed but idle stay listed: an operation they start later is still bounded.
    if (waiting) schedule();
}

} // namespace s3ha
