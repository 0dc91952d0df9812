#!/usr/bin/env bash
# Style gates from STYLE.md: clang-format on every C++ file, clang-tidy on every s3ha_core source.
# Usage: scripts/lint.sh [BUILD_DIR]   (BUILD_DIR must hold compile_commands.json; default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp')
echo "lint: clang-format --dry-run on ${#files[@]} files"
clang-format --dry-run --Werror "${files[@]}"

mapfile -t sources < <(git ls-files -- 'src/*.cpp')
echo "lint: clang-tidy on ${#sources[@]} sources"
run-clang-tidy -quiet -p "$build_dir" -j "$(nproc)" "${sources[@]/#/$PWD/}" > "$build_dir/clang-tidy.log" 2>&1 || {
    grep -E "error:|warning:" "$build_dir/clang-tidy.log" | sort -u | head -50
    echo "lint: clang-tidy failed (full log: $build_dir/clang-tidy.log)"
    exit 1
}
echo "lint: ok"
