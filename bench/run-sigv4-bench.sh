#!/bin/sh
# Builds the SigV4 micro-benchmarks in Release (build-bench/) and runs them.
# Usage: bench/run-sigv4-bench.sh [extra Google Benchmark flags, e.g. --benchmark_repetitions=5]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DS3HA_BUILD_TESTS=OFF \
    -DS3HA_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build-bench" -j2 --target sigv4_bench
exec "$root/build-bench/sigv4_bench" --benchmark_min_time=0.5 "$@"
