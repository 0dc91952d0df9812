// Opening a connection to a backend: resolve, TCP connect and (https) the TLS handshake with SNI
// and certificate name verification, all within one deadline. Shared by the data path's
// connection pool and the health checker, so both reach a backend exactly the same way.
// Thread affinity: the executor's thread (one strand).
#pragma once

#include "s3ha/core/any_stream.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/upstream/backend.hpp"

#include <chrono>

namespace s3ha::upstream {

/// A new stream to b, connected and (https) handshaken within timeout; its deadline is reset
/// (expires_never) on success. Errors: upstream_timeout (the deadline passed),
/// upstream_connect_failed (resolve or connect failure), upstream_certificate_verify_failed (the
/// backend's certificate chain or name did not verify), upstream_tls_failed (any other TLS
/// handshake failure).
awaitable<result<any_stream>> connect(executor ex, const backend& b,
                                      std::chrono::milliseconds timeout);

} // namespace s3ha::upstream
