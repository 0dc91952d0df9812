// The proxy server's entry point, called by main once the configuration is valid.
#pragma once

#include "s3ha/config/config.hpp"

#include <memory>
#include <string>

namespace s3ha {

/// Runs the proxy with cfg (loaded from config_path, which SIGHUP reloads) until it is told to
/// stop (SIGTERM/SIGINT); returns the process exit status. Blocks the calling thread.
int run_server(std::shared_ptr<const config> cfg, std::string config_path);

} // namespace s3ha
