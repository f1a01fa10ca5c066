#!/bin/sh
# boot-check.sh ISO EXPECTED_TEXT bios|uefi|usb-bios|usb-uefi|disk-bios|sercon-bios [LOG]
#
# Boots ISO headless in QEMU (TCG unless BOOT_CHECK_ACCEL says otherwise) from the CD drive
# (bios, uefi), for usb-bios and usb-uefi as a USB stick (usb-storage on an xHCI
# controller, the raw file as its disk, the only boot device), or for disk-bios as an IDE
# hard disk (whose geometry SeaBIOS reports for CHS reads), for sercon-bios from the CD drive
# with SeaBIOS copying the screen to the serial log (a loader that writes to the screen only,
# as ESXi's menu.c32 and mboot.c32 do: README.md); writes go to a snapshot; and
# waits until the serial console shows EXPECTED_TEXT (a fixed string, matched on one line after
# carriage returns and terminal escape sequences are removed, and also across line breaks, as a
# console may wrap long lines). The test images made by
# mkesxiso.py print BOOT.CFG on the serial console: isolinux through mboot.c32 (BIOS), GRUB
# (UEFI). The serial log is kept in LOG when given.
#
# Exit: 0 text seen, 1 not seen before the timeout (the log is printed), 2 usage,
# 77 qemu or the OVMF firmware is missing.
# Environment: BOOT_CHECK_TIMEOUT (seconds, default 60), BOOT_CHECK_ACCEL (tcg, kvm, ...),
# OVMF_FD (firmware image for uefi), BOOT_CHECK_COUNT (how many times the text must appear,
# default 1; the UEFI loader prints /EFI/BOOT/BOOT.CFG and /BOOT.CFG, so 2 checks both).
set -u

case "${3:-}" in
    bios|uefi|usb-bios|usb-uefi|disk-bios|sercon-bios) ;;
    *) echo "usage: boot-check.sh ISO EXPECTED_TEXT bios|uefi|usb-bios|usb-uefi|disk-bios|sercon-bios [LOG]" >&2
       exit 2 ;;
esac
iso=$1
want=$2
mode=$3
log=${4:-}
timeout_s=${BOOT_CHECK_TIMEOUT:-60}
count=${BOOT_CHECK_COUNT:-1}
accel=${BOOT_CHECK_ACCEL:-tcg}

qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
    echo "skipped: qemu-system-x86_64 is not installed"
    exit 77
fi
[ -r "$iso" ] || { echo "boot-check: $iso: cannot read" >&2; exit 2; }

fw=""
if [ "$mode" = uefi ] || [ "$mode" = usb-uefi ]; then
    for f in ${OVMF_FD:-} /usr/share/ovmf/OVMF.fd /usr/share/qemu/OVMF.fd \
             /usr/share/OVMF/OVMF.fd; do
        if [ -n "$f" ] && [ -r "$f" ]; then fw=$f; break; fi
    done
    if [ -z "$fw" ]; then
        echo "skipped: no OVMF firmware (set OVMF_FD)"
        exit 77
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/boot-check.XXXXXX")
raw=$work/serial.raw
clean=$work/serial.txt
: >"$raw"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# the CD is attached read-only, the stick as a snapshot: a boot never changes the image
set -- -machine pc -accel "$accel" -m 256 -display none -monitor none -no-reboot
if [ "$mode" = sercon-bios ]; then
    # SeaBIOS's sercon mirrors the int 10h screen output to the I/O port that the fw_cfg
    # file etc/sercon-port holds (a little-endian integer): 0x2f8 is COM2, the second -serial
    printf '\370\002' >"$work/sercon-port"
    set -- "$@" -fw_cfg "name=etc/sercon-port,file=$work/sercon-port" -serial null \
        -serial "file:$raw"
else
    set -- "$@" -serial "file:$raw"
fi
case "$mode" in
    usb-*) set -- "$@" -device qemu-xhci,id=xhci \
               -drive "if=none,id=stick,format=raw,file=$iso,snapshot=on" \
               -device usb-storage,bus=xhci.0,drive=stick,bootindex=1 ;;
    disk-bios) set -- "$@" -drive "file=$iso,format=raw,if=ide,index=0,snapshot=on" -boot c ;;
    *) set -- "$@" -drive "file=$iso,media=cdrom,readonly=on,if=ide,index=2" -boot d ;;
esac
[ -n "$fw" ] && set -- "$@" -bios "$fw"
"$qemu" "$@" >"$work/qemu.out" 2>&1 &
pid=$!

tidy() {
    # remove CRs and ANSI/VT100 escape sequences that firmware and GRUB emit
    tr -d '\r' <"$raw" | sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$clean"
}

seen() {
    # occurrences of the text, line breaks ignored (a console may wrap a long line)
    n=$(tr -d '\n' <"$clean" | grep -oF -- "$want" | wc -l)
    [ "$n" -ge "$count" ]
}

start=$(date +%s)
found=1
while :; do
    tidy
    if seen; then
        found=0
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        # qemu stopped by itself (GRUB halts): look one last time
        wait "$pid" 2>/dev/null
        pid=""
        tidy
        seen && found=0
        break
    fi
    now=$(date +%s)
    [ $((now - start)) -ge "$timeout_s" ] && break
    sleep 0.5
done
end=$(date +%s)
[ -n "$log" ] && cp "$clean" "$log"
if [ "$found" -eq 0 ]; then
    echo "boot-check: $mode: found after $((end - start)) s"
    exit 0
fi
echo "boot-check: $mode: '$want' not seen $count time(s) on the serial console within" \
    "${timeout_s} s" >&2
echo "--- serial log:" >&2
tail -40 "$clean" >&2
echo "--- qemu:" >&2
tail -5 "$work/qemu.out" >&2
exit 1
