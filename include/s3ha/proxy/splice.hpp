// Moving a body between two plain TCP sockets with splice(2) through a pipe: the bytes stay in
// the kernel, never copied through a user-space buffer. Large response bodies use it (relay.cpp,
// upstream -> downstream). Request bodies do not: splicing them measured ~10 % slower than the
// buffered path on 1 GiB PUTs (bench/README.md). Every wait for one side has its deadline, as
// the buffered relay's reads and writes do.
// https://man7.org/linux/man-pages/man2/splice.2.html
// Thread affinity: the worker thread of the session that owns both streams.
#pragma once

#include "s3ha/core/any_stream.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace s3ha::proxy {

/// Bodies from this size on are spliced (plain TCP on both sides): below it, setting up a pipe
/// costs more than the copies it saves.
inline constexpr std::uint64_t k_splice_min_body = std::uint64_t{1} << 20;

/// A non-blocking pipe for splice(2), closed on destruction.
class splice_pipe {
public:
    /// Creates the pipe and tries to grow it to 1 MiB; ok() is false when pipe2(2) failed.
    splice_pipe();
    splice_pipe(const splice_pipe&) = delete;
    splice_pipe& operator=(const splice_pipe&) = delete;
    ~splice_pipe();

    bool ok() const noexcept { return read_ >= 0; }
    int read_end() const noexcept { return read_; }
    int write_end() const noexcept { return write_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    int read_ = -1;
    int write_ = -1;
    std::size_t capacity_ = 0;
};

/// What splice_exact did. At most one of the errors is set; neither once all n bytes arrived.
struct splice_result {
    std::uint64_t received = 0; ///< bytes taken from `from` (some may still be in the pipe)
    std::uint64_t sent = 0;     ///< bytes written to `to`
    error_code from_error;      ///< reading failed: its error, http::error::partial_message
                                ///< when `from` ended early, beast::error::timeout
    error_code to_error;        ///< writing failed: its error, beast::error::timeout
};

/// Moves exactly n bytes from `from` to `to` through `pipe` (empty, ok()), never reading past
/// them. Plain TCP streams only (not is_tls()), nothing of the n bytes buffered in user space,
/// no other operation pending on either stream. from_timeout bounds each wait for `from` to
/// send, to_timeout each wait for `to` to take bytes. On an error the pipe may keep bytes: it
/// is not reusable then.
awaitable<splice_result> splice_exact(any_stream& from, any_stream& to, std::uint64_t n,
                                      const splice_pipe& pipe,
                                      std::chrono::milliseconds from_timeout,
                                      std::chrono::milliseconds to_timeout);

} // namespace s3ha::proxy
