#!/usr/bin/env bash
# Proves the README's test command on a machine with nothing installed by hand: debootstraps a
# minimal Debian 12 into DIR (default /var/tmp/s3ha-fresh), clones this repository's HEAD into it
# and runs `bash .ci/run` there in a chroot (host network, so apt and npm registries are reached
# as on the host). Needs root and debootstrap. Takes 10-20 minutes.
#   scripts/check-fresh-machine.sh [DIR]      (an existing DIR is reused: delete it for a clean run)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/var/tmp/s3ha-fresh}
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
         true)
mirror=${mirror:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
if [[ ! -x "$root/usr/bin/apt-get" ]]; then
    debootstrap --variant=minbase bookworm "$root" "$mirror"
fi

mounts=(proc sys dev dev/pts dev/shm) # dev/shm: podman (test_container) needs it
cleanup() {
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        mountpoint -q "$root/${mounts[i]}" && umount "$root/${mounts[i]}" || true
    done
}
trap cleanup EXIT
for m in "${mounts[@]}"; do
    mountpoint -q "$root/$m" || mount --bind "/$m" "$root/$m"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
fi
# What a machine image of this kind carries besides Debian: its extra CA certificates (a TLS
# intercepting egress proxy) and root's npm settings.
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp ~/.npmrc "$root/root/.npmrc" 2>/dev/null || true
# Its apt settings for the mirror (a snapshot whose Release files may be past Valid-Until).
cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/" 2>/dev/null || true

rm -rf "$root/root/work" && mkdir -p "$root/root/work"
git clone -q "$PWD" "$root/root/work/main"
[[ -d ../shared ]] && cp -r ../shared "$root/root/work/shared"

ca=/etc/ssl/certs/ca-certificates.crt
chroot "$root" /usr/bin/env -i HOME=/root CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=$ca NODE_EXTRA_CA_CERTS=$ca AWS_CA_BUNDLE=$ca REQUESTS_CA_BUNDLE=$ca \
    bash -c 'set -e; apt-get update -qq; apt-get install -y -qq git ca-certificates >/dev/null
             update-ca-certificates >/dev/null; cd /root/work/main; bash .ci/run'
echo "check-fresh-machine: .ci/run passed in a fresh Debian 12 chroot"
