// server.body_min_rate: a minimum data rate for request bodies, with the semantics of Apache
// mod_reqtimeout's MinRate (https://httpd.apache.org/docs/2.4/mod/mod_reqtimeout.html). A body
// gets server.body_read_timeout, plus one second for every body_min_rate bytes received, of
// time spent waiting for its bytes; body_read_timeout still bounds each single wait. Without it
// body_read_timeout is per read, and a client sending one byte just before each timeout holds a
// connection (and an upstream request) forever. Only the time s3ha waits for the client counts:
// time spent writing to a slow backend (the client is throttled by it then) or replaying the
// body to another one is not the client's doing.
// Thread affinity: none (a pure function).
#pragma once

#include <chrono>
#include <cstdint>

namespace s3ha::proxy {

/// The timeout of the next read of a request body: min(body_read_timeout, the time left);
/// zero once nothing is left (the client is too slow: 400 RequestTimeout). min_rate: bytes per
/// second, 0 = no minimum rate (always body_read_timeout). received: body bytes received so
/// far; waited: time spent waiting for them.
std::chrono::milliseconds body_read_allowance(std::chrono::milliseconds body_read_timeout,
                                              std::uint64_t min_rate, std::uint64_t received,
                                              std::chrono::steady_clock::duration waited) noexcept;

} // namespace s3ha::proxy
