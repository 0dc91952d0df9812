// A backend at run time: its configuration plus what the data path derives from it once (the
// Host header, the TLS client context with verification, the signing parameters). Built at
// start-up and shared read-only by all workers.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/net.hpp"
#include "s3ha/sigv4/signer.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace s3ha::upstream {

class backend {
public:
    /// Throws std::runtime_error when the TLS context cannot be set up (e.g. an unreadable
    /// ca_file): a start-up error.
    backend(backend_config cfg, std::size_t index);

    const backend_config& config() const noexcept { return cfg_; }
    const std::string& name() const noexcept { return cfg_.name; }
    /// Position in the configuration (stable id for per-worker tables such as the pool).
    std::size_t index() const noexcept { return index_; }
    bool is_https() const noexcept { return cfg_.endpoint.is_https(); }
    /// The Host header the backend is signed for, e.g. "127.0.0.1:9000".
    const std::string& host_header() const noexcept { return signing_.host; }
    /// SNI and the name the certificate must carry (tls.server_name or the endpoint host).
    const std::string& tls_server_name() const noexcept { return server_name_; }
    /// The client TLS context (https only); SSL_CTX is safe to share between threads.
    net::ssl::context* tls_context() const noexcept { return tls_.get(); }
    const sigv4::signing_params& signing() const noexcept { return signing_; }

private:
    backend_config cfg_;
    std::size_t index_;
    std::string server_name_;
    sigv4::signing_params signing_;
    std::unique_ptr<net::ssl::context> tls_;
};

/// The runtime backends of a configuration, in configuration order.
std::vector<std::shared_ptr<const backend>> make_backends(const s3ha::config& cfg);

} // namespace s3ha::upstream
