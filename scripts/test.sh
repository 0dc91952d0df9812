#!/usr/bin/env bash
# The whole s3ha test suite, from a fresh Debian 12 machine (as root):
#   install dependencies -> build -> style gates -> unit tests (ctest) -> fuzz targets (20 s each,
#   scripts/fuzz.sh) -> integration tests (pytest against real S3 servers and real S3 clients).
# Options: S3HA_SKIP_LINT=1 skips the style gates, S3HA_SKIP_FUZZ=1 the fuzz targets; extra
# arguments go to pytest.
#
# scripts/test.sh --sanitize [PYTEST ARGS]: instead, builds s3ha and the unit tests with
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) in build-asan/ (no jemalloc),
# runs the unit tests and a slice of the integration tests against that binary; any sanitizer
# report fails (the harness checks s3ha's log). No lint, no normal build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --sanitize ]]; then
    shift
    bash scripts/install-deps.sh
    build_dir=build-asan
    echo "== sanitizer build ($build_dir: ASan + UBSan, no jemalloc)"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DS3HA_SANITIZE=ON \
        -DS3HA_USE_JEMALLOC=OFF -DS3HA_BUILD_BENCH=OFF > "$build_dir.cmake.log" 2>&1 ||
        { cat "$build_dir.cmake.log"; exit 1; }
    cmake --build "$build_dir" --target s3ha s3ha_unit_tests -j"$(nproc)"
    # Every report is fatal; LeakSanitizer runs at each exit. The harness passes these to s3ha.
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    symbolizer=$(command -v llvm-symbolizer || true)
    [[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer

    echo "== unit tests (sanitized)"
    "$build_dir/s3ha_unit_tests" "[unit]"

    echo "== integration tests (sanitized s3ha)"
    # The data path end to end: authentication and the trust boundary's attacks, aws-chunked
    # streaming, the limits (body rate, chunk budget, connection limit, admin input), the HTTP
    # server's edge cases, the SDK operations (multipart, presigned, listings) and multipart
    # pinning (the upload-id rewriting).
    slice=()
    for t in proxy_auth trust_boundary limits proxy_streaming proxy_server proxy_sdk multipart_pinning; do
        [[ -f tests/integration/test_$t.py ]] && slice+=("tests/integration/test_$t.py")
    done
    env -u AWS_CA_BUNDLE -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u AWS_PROFILE \
        S3HA_BIN="$PWD/$build_dir/s3ha" \
        /usr/bin/python3 -m pytest -p no:cacheprovider -ra -m "not slow" "${slice[@]}" "$@"
    exit 0
fi

bash scripts/install-deps.sh
bash scripts/build.sh
if [[ "${S3HA_SKIP_LINT:-0}" != 1 ]]; then
    bash scripts/lint.sh build
fi

echo "== unit tests (ctest)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

if [[ "${S3HA_SKIP_FUZZ:-0}" != 1 ]]; then
    echo "== fuzz targets (scripts/fuzz.sh, 20 s each)"
    bash scripts/fuzz.sh 20
fi

echo "== integration tests (pytest, real S3 servers)"
# Debian's python3 (with python3-boto3 and python3-pytest); clients get a clean environment from
# the harness, but CA-bundle variables from the caller must not leak into anything.
env -u AWS_CA_BUNDLE -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u AWS_PROFILE \
    S3HA_BIN="$PWD/build/s3ha" \
    /usr/bin/python3 -m pytest tests/integration -p no:cacheprovider -ra "$@"
