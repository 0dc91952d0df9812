#include "s3ha/upstream/backend_selector.hpp"

namespace s3ha::upstream {

first_backend::first_backend(std::vector<std::shared_ptr<const backend>> backends)
    : backends_(std::move(backends)) {
}

const backend* first_backend::select(unsigned /*attempt*/) {
    return backends_.empty() ? nullptr : backends_.front().get();
}

} // namespace s3ha::upstream
