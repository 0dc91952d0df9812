// Shared by the fuzz targets (not a target itself): an oracle violation prints what failed and
// aborts, which libFuzzer records as a crash (with the input saved as the reproducer).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace s3ha::fuzz {

[[noreturn]] inline void oracle_failed(const char* file, int line, const char* expr,
                                       std::string_view detail) {
    std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, expr);
    if (!detail.empty()) {
        std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
    }
    std::abort();
}

} // namespace s3ha::fuzz

/// Checks an oracle; `detail` (a string_view-convertible expression) is evaluated only on failure.
#define S3HA_FUZZ_CHECK(cond, detail)                                                              \
    do {                                                                                           \
        if (!(cond)) ::s3ha::fuzz::oracle_failed(__FILE__, __LINE__, #cond, (detail));             \
    } while (false)
