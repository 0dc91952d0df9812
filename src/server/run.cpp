#include "s3ha/server/run.hpp"

#include "s3ha/server/server.hpp"

namespace s3ha {

int run_server(std::shared_ptr<const config> cfg) { // NOLINT(performance-unnecessary-value-param)
    server s(std::move(cfg));
    return s.run();
}

} // namespace s3ha
