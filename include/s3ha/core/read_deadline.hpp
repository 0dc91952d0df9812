// A deadline for one read that, when it passes, cancels the read but leaves the connection open.
// The stream's own deadline (any_stream::expires_after) closes the socket on expiry, which is right
// for upstream connections and idle clients, but a client that stalls in the middle of a request
// body is owed an answer: S3 sends 400 RequestTimeout, and so does s3ha, on the same
// connection, before closing it.
// Thread affinity: the worker thread that owns the stream.
#pragma once

#include "s3ha/core/any_stream.hpp"

#include <chrono>
#include <memory>

namespace s3ha {

class read_deadline {
public:
    /// Arms the deadline: after `timeout`, the stream's pending operations complete with
    /// net::error::operation_aborted and expired() turns true. Turns off the stream's own
    /// (closing) deadline for the operations started while this object lives.
    read_deadline(any_stream& stream, std::chrono::milliseconds timeout);
    /// Disarms it; a deadline that already passed cancels nothing more.
    ~read_deadline();
    read_deadline(const read_deadline&) = delete;
    read_deadline& operator=(const read_deadline&) = delete;

    /// True when the deadline passed (and cancelled the read).
    bool expired() const noexcept { return state_->expired; }
    /// The read's error as its caller should see it: beast::error::timeout when this deadline
    /// cancelled it, else ec.
    error_code error_of(const error_code& ec) const noexcept {
        if (ec == net::error::operation_aborted && expired()) return beast::error::timeout;
        return ec;
    }

private:
    // Shared with the timer's handler, which may run after this object is gone (it fired in the
    // same loop turn in which the read completed): then `armed` is false and it does nothing.
    struct state {
        bool armed = true;
        bool expired = false;
    };
    std::shared_ptr<state> state_;
    steady_timer timer_;
};

} // namespace s3ha
