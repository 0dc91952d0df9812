#include "s3ha/proxy/proxy_context.hpp"

#include <fmt/format.h>

namespace s3ha::proxy {

std::string proxy_context::new_request_id() {
    return fmt::format("{:08X}{:02X}{:06X}", request_id_prefix, worker_id & 0xffU, ++next_request);
}

std::string proxy_context::new_connection_id() {
    return fmt::format("w{}c{}", worker_id, ++next_connection);
}

} // namespace s3ha::proxy
