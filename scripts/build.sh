#!/usr/bin/env bash
# Configures and builds s3ha, its unit tests and benchmarks in BUILD_DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" > "$build_dir.cmake.log" 2>&1 ||
    { cat "$build_dir.cmake.log"; exit 1; }
cmake --build "$build_dir" -j"$(nproc)"
