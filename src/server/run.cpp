// Placeholder until the server wiring lands (another branch implements run_server).
#include "s3ha/server/run.hpp"

#include <iostream>

namespace s3ha {

int run_server(std::shared_ptr<const config> cfg) { // NOLINT(performance-unnecessary-value-param)
    (void)cfg;
    std::cerr << "s3ha: configuration loaded; proxy server not built yet\n";
    return 2;
}

} // namespace s3ha
