#!/usr/bin/env bash
# The whole s3ha test suite, from a fresh Debian 12 machine (as root):
#   install dependencies -> build -> style gates -> unit tests (ctest) -> integration tests (pytest
#   against real S3 servers and real S3 clients).
# Options: S3HA_SKIP_LINT=1 skips the style gates; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh
if [[ "${S3HA_SKIP_LINT:-0}" != 1 ]]; then
    bash scripts/lint.sh build
fi

echo "== unit tests (ctest)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "== integration tests (pytest, real S3 servers)"
# Debian's python3 (with python3-boto3 and python3-pytest); clients get a clean environment from
# the harness, but CA-bundle variables from the caller must not leak into anything.
env -u AWS_CA_BUNDLE -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u AWS_PROFILE \
    S3HA_BIN="$PWD/build/s3ha" \
    /usr/bin/python3 -m pytest tests/integration -p no:cacheprovider -ra "$@"
