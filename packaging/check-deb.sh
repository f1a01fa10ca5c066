#!/usr/bin/env bash
# check-deb.sh: installs an esximg .deb on a fresh, minimal Debian 12 (bookworm) and runs it.
#
#   packaging/check-deb.sh [DEB] [CHROOT]
#
# DEB defaults to the newest build*/esximg_*.deb, made by
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
#       -DESXIMG_TESTS=OFF && cmake --build build-deb && (cd build-deb && cpack -G DEB)
# CHROOT (default /tmp/esximg-bookworm) is made with debootstrap --variant=minbase when it does
# not exist yet; the check then runs in a throw-away copy of it, so every run starts from the
# same fresh system. Needs root, network access to the Debian mirror (MIRROR, default
# http://deb.debian.org/debian), debootstrap, and python3 on the host to generate the test
# image. Not part of the CTest suite: it downloads packages and takes minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-$(ls -t "$here"/build*/esximg_*.deb 2>/dev/null | head -1)}
base=${2:-/tmp/esximg-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
[ -n "$deb" ] && [ -f "$deb" ] ||
    { echo "check-deb: no .deb (run cpack first, see above)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "check-deb: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "check-deb: apt-get install debootstrap" >&2; exit 2; }

t0=$(date +%s)
say() { printf '== [%4ss] %s\n' "$(($(date +%s) - t0))" "$*"; }

if [ ! -x "$base/usr/bin/apt-get" ]; then
    say "debootstrap bookworm into $base"
    debootstrap --variant=minbase bookworm "$base" "$mirror" >"$base.debootstrap.log" 2>&1 ||
        { tail -20 "$base.debootstrap.log"; exit 1; }
    say "debootstrap done"
fi

root=$(mktemp -d /tmp/esximg-debcheck.XXXXXX)
cleanup() {
    for m in proc dev/pts dev; do umount "$root/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
say "copy the fresh system to $root"
cp -a "$base/." "$root/"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

say "package: $(basename "$deb")"
dpkg-deb --field "$deb" Package Version Architecture Depends Installed-Size
cp "$deb" "$root/tmp/"
say "generate a test image on the host (tests/gen/mkesxiso.py)"
SOURCE_DATE_EPOCH=1700000000 python3 "$here/tests/gen/mkesxiso.py" --version 8.0 \
    -o "$root/tmp/sample.iso" >/dev/null

say "apt-get update"
in_root apt-get update -qq
say "apt install ./$(basename "$deb") (man-db too, to read the page)"
in_root sh -c "cd /tmp && apt-get install -y --no-install-recommends ./$(basename "$deb") man-db" \
    >"$root/tmp/apt.log" 2>&1 || { tail -30 "$root/tmp/apt.log"; exit 1; }
grep -E '^(Setting up|Unpacking|The following NEW)|newly installed' "$root/tmp/apt.log" || true

say "installed files"
in_root dpkg -L esximg | sort |
    grep -E 'bin/esximg|\.so|\.a$|\.pc$|include/esximg/esximg\.h|man1/esximg\.1|completions/'
in_root sh -c 'dpkg -L esximg | grep -c "/usr/share/man/man1/esximg.*\.1$"'
say "esximg --version; esximg --help"
in_root esximg --version
in_root esximg --help
say "esximg info /tmp/sample.iso"
in_root esximg info /tmp/sample.iso
say "esximg hcl /tmp/sample.iso --pci 8086:10d3/0200"
in_root esximg hcl /tmp/sample.iso --pci 8086:10d3/0200
say "man esximg (first lines), man esximg-edit (warnings checked)"
in_root sh -c 'MANWIDTH=80 man esximg 2>&1 | sed -n "1,6p;/^COMMANDS/,/^OPTIONS/p"'
in_root sh -c 'MANWIDTH=80 man --warnings=w esximg-edit 2>&1 >/dev/null | head'
in_root sh -c 'MANWIDTH=80 man esximg-edit | sed -n "1,8p"'
say "esximg edit: a map-only VIB added to the image, read back"
in_root esximg vib map-only --driver vmw_ahci --pci 8086:a102 -o /tmp/map.vib
in_root esximg edit /tmp/sample.iso -o /tmp/custom.iso --add /tmp/map.vib --title "esximg check"
in_root sh -c 'esximg info /tmp/custom.iso | grep -E "^(vibs|acceptance|problems):"'
say "the shared libraries it runs with"
in_root sh -c 'ldd /usr/bin/esximg /usr/lib/*/libesximg.so.0 | sed "s/ (0x.*//"'
say "bash completion"
in_root bash -c '. /usr/share/bash-completion/completions/esximg && complete -p esximg'
say "ok: $(basename "$deb") installs and runs on a fresh Debian 12"
