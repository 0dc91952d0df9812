#!/usr/bin/env bash
# Proves the README's test command on a machine with nothing installed by hand: debootstraps a
# minimal Debian 12 into DIR (default /var/tmp/s3ha-fresh), clones this repository's HEAD into it
# and runs `bash .ci/run` there as the root of a mount namespace of its own (host network, so apt
# and npm registries are reached as on the host). Needs root, debootstrap and util-linux's unshare
# and pivot_root. Takes 40-50 minutes on the 2-core VM (about 10 of them debootstrap and apt).
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

# The fresh system runs as the root of a mount namespace of its own (unshare + pivot_root into
# $root, below), not merely chrooted: runc enters a container's mount namespace for
# `podman exec` (the image's HEALTHCHECK in test_container) and, from a chroot, landed in the
# host's root instead. pivot_root needs $root to be a mount point: a bind of it onto itself, made
# first so that the others lie on it. sys and dev recursively: runc needs the cgroup mounts
# under /sys/fs/cgroup, podman /dev/shm.
mounts=(proc sys dev)
cleanup() {
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        mountpoint -q "$root/${mounts[i]}" && umount -R "$root/${mounts[i]}" || true
    done
    mountpoint -q "$root" && umount "$root" || true
}
trap cleanup EXIT
mountpoint -q "$root" || mount --bind "$root" "$root"
for m in "${mounts[@]}"; do
    mountpoint -q "$root/$m" || mount --rbind "/$m" "$root/$m"
done
mkdir -p "$root/.host"
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
# In a private mount namespace: pivot_root to $root, then drop the host's tree (/.host).
unshare --mount --propagation private -- bash -c \
    'cd "$1" && pivot_root . .host && cd / &&
     exec /usr/sbin/chroot / /bin/bash -c "umount -l /.host && exec \"\$@\"" _ "${@:2}"' \
    _ "$root" /usr/bin/env -i HOME=/root CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=$ca NODE_EXTRA_CA_CERTS=$ca AWS_CA_BUNDLE=$ca REQUESTS_CA_BUNDLE=$ca \
    bash -c 'set -e; apt-get update -qq; apt-get install -y -qq git ca-certificates >/dev/null
             update-ca-certificates >/dev/null; cd /root/work/main; bash .ci/run'
echo "check-fresh-machine: .ci/run passed on a fresh Debian 12 root"
