#!/usr/bin/env bash
# Installs every system and npm package that building s3ha, its tests, its benchmarks and the
# demo need, on Debian 12 (bookworm), as root. Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive

apt_packages=(
    # build
    build-essential cmake pkg-config
    libboost1.74-dev libyaml-cpp-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libssl-dev
    zlib1g-dev nlohmann-json3-dev libpugixml-dev libjemalloc-dev catch2 libbenchmark-dev
    clang-format clang-tidy
    # fuzz targets (scripts/fuzz.sh): clang, libFuzzer and sanitizer runtimes, llvm-symbolizer
    clang libclang-rt-14-dev llvm
    # integration tests: real S3 servers and real S3 clients
    python3 python3-pytest python3-pytest-timeout python3-boto3 python3-requests python3-yaml
    awscli s3cmd rclone restic
    swift swift-proxy swift-account swift-container swift-object memcached
    nodejs npm curl ca-certificates procps openssl
    # TLS tests (openssl makes the test CA, HAProxy is the https backend); git for
    # scripts/lint.sh (git ls-files). The benchmark installs its own nginx and wrk (nginx would
    # start a service on port 80 here).
    haproxy git
    # container image test (buildah builds, podman + runc run) and deployment file checks
    buildah debootstrap podman prometheus runc
)

missing=()
for p in "${apt_packages[@]}"; do
    # npm/nodejs may come from elsewhere (e.g. a newer Node already on PATH): accept the commands.
    case "$p" in
        nodejs) command -v node >/dev/null && continue ;;
        npm) command -v npm >/dev/null && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "install-deps: apt-get install ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (s3rver, JS S3 clients) pinned by tests/integration/js/package-lock.json.
# A stamp (a copy of the lock npm ci installed from) tells whether node_modules is current;
# npm's own node_modules/.package-lock.json has another layout and never compares equal.
js=tests/integration/js
if [[ -f $js/package-lock.json ]]; then
    if ! cmp -s "$js/package-lock.json" "$js/node_modules/.s3ha-installed-lock.json" 2>/dev/null; then
        (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$js/package-lock.json" "$js/node_modules/.s3ha-installed-lock.json"
    fi
fi
echo "install-deps: ok"
