// The build's identity (s3ha --version, s3ha_build_info). Defined in one source file, so a new
// commit recompiles that file only.
#pragma once

#include <string_view>

namespace s3ha {

/// The project version from CMakeLists.txt, e.g. "0.1.0".
std::string_view build_version() noexcept;
/// `git describe --always --dirty` at configure time (or -DS3HA_GIT_COMMIT=...); "unknown"
/// outside a git checkout.
std::string_view build_commit() noexcept;

} // namespace s3ha
