#include "s3ha/core/build_info.hpp"

namespace s3ha {

// S3HA_VERSION and S3HA_GIT_COMMIT are compile definitions of this file only (CMakeLists.txt).
std::string_view build_version() noexcept {
    return S3HA_VERSION;
}

std::string_view build_commit() noexcept {
    return S3HA_GIT_COMMIT;
}

} // namespace s3ha
