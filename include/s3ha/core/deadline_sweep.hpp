// Deadlines for plain TCP streams, checked by one periodic sweep per io_context instead of one
// timer per operation.
//
// beast::tcp_stream arms a timer for every read and write and cancels it when the operation
// completes: a timer-queue insert, a cancel and a completion of the cancelled wait per operation,
// about 3 % of the instructions of a small proxied GET (callgrind, bench/README.md). Here a
// deadline is a time stamp on the stream (setting it is a clock read); a sweep every k_tick
// closes the streams whose deadline has passed while an operation was pending, as tcp_stream's
// timer does. Deadlines are therefore enforced up to k_tick late, the coarse-timer trade-off
// that HAProxy and nginx make too; every configured timeout is much longer than k_tick.
//
// The sweep is an Asio service of the stream's io_context (use_service), so every io_context
// that runs streams (a worker's, the health checker's, a test's) has its own, on its own thread.
// Thread affinity: the thread that runs that io_context; nothing here is locked.
#pragma once

#include "s3ha/core/net.hpp"

#include <boost/intrusive/list.hpp>

#include <chrono>
#include <cstdint>

namespace s3ha {

/// The deadline of one stream. Owned by a reference count (the stream, and each of its pending
/// operations), so an operation that completes after its stream is gone still finds it.
struct stream_deadline {
    using clock = std::chrono::steady_clock;
    using link_mode = boost::intrusive::link_mode<boost::intrusive::auto_unlink>;

    boost::intrusive::list_member_hook<link_mode> hook; ///< in the sweep's list while armed
    tcp_socket* socket = nullptr; ///< what expiry closes; null once the stream is gone
    clock::time_point at = clock::time_point::max();
    std::uint32_t pending = 0; ///< operations in flight
    std::uint32_t refs = 0;
    bool expired = false; ///< the sweep closed the socket: pending operations report a timeout
};

// For boost::intrusive_ptr<stream_deadline>; not atomic: one thread (above).
inline void intrusive_ptr_add_ref(stream_deadline* d) noexcept {
    ++d->refs;
}
inline void intrusive_ptr_release(stream_deadline* d) noexcept {
    if (--d->refs == 0) delete d; // NOLINT(cppcoreguidelines-owning-memory)
}

class deadline_sweep : public net::execution_context::service {
public:
    using key_type = deadline_sweep;
    static net::execution_context::id id; // NOLINT(readability-identifier-naming): Asio's name

    /// How often the armed deadlines are checked: the most a timeout can be late.
    static constexpr std::chrono::milliseconds k_tick{50};

    explicit deadline_sweep(net::io_context& ctx);

    /// The deadline is now + timeout: once it has passed with an operation pending (also one
    /// started later), the next sweep closes d's socket.
    void arm(stream_deadline& d, std::chrono::milliseconds timeout);
    /// No deadline.
    static void disarm(stream_deadline& d) noexcept;

    /// An operation on d's socket starts (it ends in its completion handler: --d.pending).
    /// The sweep runs only while an armed stream has one pending, so an io_context with nothing
    /// to wait for still runs out of work, as with per-operation timers.
    void started(stream_deadline& d) {
        ++d.pending;
        if (!scheduled_ && d.hook.is_linked()) schedule();
    }

private:
    void shutdown() override;
    void schedule();
    void sweep();

    using list = boost::intrusive::list<
        stream_deadline,
        boost::intrusive::member_hook<stream_deadline, decltype(stream_deadline::hook),
                                      &stream_deadline::hook>,
        boost::intrusive::constant_time_size<false>>;

    list armed_;
    steady_timer timer_;
    bool scheduled_ = false;
    bool stopped_ = false;
};

} // namespace s3ha
