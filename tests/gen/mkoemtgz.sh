#!/bin/sh
# mkoemtgz.sh [--extra REL]... [--evil NAME] OUT.tgz SRC
#
# Builds an ESXi-Customizer OEM .tgz (GNU tar, gzip'd) holding a driver's three files:
#   usr/lib/vmware/vmkmod/<module>
#   etc/vmware/<class>.map.d/<name>.map
#   usr/share/hwdata/<class>.pciids.d/<name>.ids   (when SRC has one)
# SRC is a folder laid out that way, or a .vib whose vgz payload holds those files (extracted
# with $ESXIMG, default `esximg`: `vib extract` then `vmtar x`). Other files of SRC are left
# out. The archive is reproducible: names sorted, owner root 0/0, mode 0644, mtime
# SOURCE_DATE_EPOCH (default 0), gzip without name or time.
#
# For the hostile tests:
#   --extra REL   also store a file REL (a one-line text) beside the three
#   --evil NAME   store the module a second time under the literal member NAME, e.g.
#                 ../../etc/evil (GNU tar's --transform; tar itself would strip the ../)
# Exit 0 written, 1 failed, 2 usage.
set -eu

extras=""
evil=""
while [ $# -gt 0 ]; do
    case $1 in
    --extra) [ $# -ge 2 ] || { echo "mkoemtgz: --extra needs a path" >&2; exit 2; }
             extras="$extras $2"; shift 2 ;;
    --evil)  [ $# -ge 2 ] || { echo "mkoemtgz: --evil needs a name" >&2; exit 2; }
             evil=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "mkoemtgz: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -ne 2 ]; then
    echo "usage: mkoemtgz.sh [--extra REL]... [--evil NAME] OUT.tgz SRC" >&2
    exit 2
fi
out=$1
src=$2
epoch=${SOURCE_DATE_EPOCH:-0}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mkoemtgz.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -d "$src" ]; then
    tree=$(cd "$src" && pwd)
elif [ -f "$src" ]; then
    esximg=${ESXIMG:-esximg}
    mkdir "$work/vib" "$work/tree"
    "$esximg" vib extract "$src" -C "$work/vib" >/dev/null
    for p in "$work"/vib/*; do
        case $(basename "$p") in descriptor.xml | sig.pkcs7) continue ;; esac
        "$esximg" vmtar x "$p" -C "$work/tree" -q >/dev/null 2>&1 || true
    done
    tree=$work/tree
else
    echo "mkoemtgz: $src: no such file or folder" >&2
    exit 1
fi

cd "$tree"
files=$(find usr/lib/vmware/vmkmod etc/vmware/*.map.d usr/share/hwdata/*.pciids.d \
    -type f 2>/dev/null | LC_ALL=C sort || true)
echo "$files" | grep -q '^usr/lib/vmware/vmkmod/' ||
    { echo "mkoemtgz: $src: no module under usr/lib/vmware/vmkmod/" >&2; exit 1; }
echo "$files" | grep -q '^etc/vmware/[a-z]*\.map\.d/' ||
    { echo "mkoemtgz: $src: no map under etc/vmware/*.map.d/" >&2; exit 1; }

# stage a copy so that modes and extra files do not touch SRC
mkdir -p "$work/stage"
for f in $files; do
    mkdir -p "$work/stage/$(dirname "$f")"
    cp "$f" "$work/stage/$f"
done
for x in $extras; do
    mkdir -p "$work/stage/$(dirname "$x")"
    echo "extra file $x" >"$work/stage/$x"
    files="$files
$x"
done
cd "$work/stage"
find . -exec touch -h -d "@$epoch" {} + 2>/dev/null || true
chmod -R u+rwX,go+rX,go-w .
files=$(echo "$files" | LC_ALL=C sort)

tar_opts="--format=gnu --owner=0 --group=0 --numeric-owner --mtime=@$epoch --mode=0644"
# shellcheck disable=SC2086
tar $tar_opts -cf "$work/oem.tar" $files
if [ -n "$evil" ]; then
    mod=$(echo "$files" | grep '^usr/lib/vmware/vmkmod/' | head -1)
    # shellcheck disable=SC2086
    tar $tar_opts -rf "$work/oem.tar" --transform "s|^.*\$|$evil|" "$mod"
fi
gzip -n -9 <"$work/oem.tar" >"$out.tmp"
mv "$out.tmp" "$out"
