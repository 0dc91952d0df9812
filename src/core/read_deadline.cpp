#include "s3ha/core/read_deadline.hpp"

namespace s3ha {

read_deadline::read_deadline(any_stream& stream, std::chrono::milliseconds timeout)
    : state_(std::make_shared<state>()), timer_(stream.get_executor()) {
    stream.expires_never();
    timer_.expires_after(timeout);
    timer_.async_wait([s = state_, &stream](const error_code& ec) {
        if (ec || !s->armed) return;
        s->expired = true;
        error_code ignored;
        stream.tcp().socket().cancel(ignored); // NOLINT(bugprone-unused-return-value)
    });
}

read_deadline::~read_deadline() {
    state_->armed = false;
    timer_.cancel();
}

} // namespace s3ha
