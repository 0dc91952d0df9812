#include "s3ha/upstream/backend.hpp"

#include <stdexcept>

namespace s3ha::upstream {

backend::backend(backend_config cfg, std::size_t index)
    : cfg_(std::move(cfg)), index_(index),
      server_name_(cfg_.tls.server_name.empty() ? cfg_.endpoint.host : cfg_.tls.server_name),
      signing_{cfg_.access_key, cfg_.secret_key, cfg_.region, cfg_.endpoint.host_header()} {
    if (!cfg_.endpoint.is_https()) return;
    tls_ = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                      net::ssl::context::no_tlsv1_1);
    if (!cfg_.tls.verify) {
        tls_->set_verify_mode(net::ssl::verify_none);
        return;
    }
    error_code ec;
    if (cfg_.tls.ca_file.empty()) {
        tls_->set_default_verify_paths(ec);
    } else {
        tls_->load_verify_file(cfg_.tls.ca_file, ec);
    }
    if (ec) {
        throw std::runtime_error("backend " + cfg_.name +
                                 ": cannot load CA certificates: " + ec.message());
    }
    tls_->set_verify_mode(net::ssl::verify_peer);
}

std::vector<std::shared_ptr<const backend>> make_backends(const s3ha::config& cfg) {
    std::vector<std::shared_ptr<const backend>> out;
    out.reserve(cfg.backends.size());
    for (std::size_t i = 0; i < cfg.backends.size(); ++i)
        out.push_back(std::make_shared<const backend>(cfg.backends[i], i));
    return out;
}

} // namespace s3ha::upstream
