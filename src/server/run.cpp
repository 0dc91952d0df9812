#include "s3ha/server/run.hpp"

#include "s3ha/server/server.hpp"

namespace s3ha {

// NOLINTNEXTLINE(performance-unnecessary-value-param)
int run_server(std::shared_ptr<const config> cfg, std::string config_path) {
    server s(std::move(cfg), std::move(config_path));
    return s.run();
}

} // namespace s3ha
