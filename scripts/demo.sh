#!/usr/bin/env bash
# The s3ha demo, from a fresh Debian 12 machine (as root): installs what it needs, builds s3ha,
# and shows it working on the example configuration.
# (The proxy data path arrives with the data-path issue; until then the demo validates the
# example configuration and shows the command line.)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh
echo
./build/s3ha --version
echo
./build/s3ha --help
echo
./build/s3ha --check-config config/s3ha.example.yaml
