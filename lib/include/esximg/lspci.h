/* esximg/lspci.h: a host's PCI device list as pciutils' lspci prints it, and one
 * `--pci VVVV:DDDD[:SSSS:ssss][/CCCC[PP]]` argument.
 *
 * Accepted forms, mixed freely, one device per line or block:
 *   lspci -n      00:19.0 0200: 8086:15b8 (rev 31)            ("0000:" domain, "Class " ok)
 *   lspci -nn     00:19.0 Ethernet controller [0200]: Intel Corporation ... [8086:15b8] (rev 31)
 *   either with -v: a "(prog-if 30 [XHCI])" suffix and an indented "Subsystem: 8086:2070" (or
 *                 "Subsystem: Intel Corporation ... [8086:2070]") line; other indented lines
 *                 are skipped
 *   lspci -mmn / -mmnn    00:19.0 "0200" "8086" "15b8" -r31 -p00 "8086" "2070"
 *                         (each quoted field may be "Name [hex]")
 *   lspci -vmmn / -vmmnn  blank-line separated blocks of "Slot:", "Class:", "Vendor:",
 *                 "Device:", "SVendor:", "SDevice:", "Rev:", "ProgIf:" (value "hex" or
 *                 "Name [hex]"); other keys are skipped.
 * Ids must be exactly 4 hex digits (2 for rev and prog-if). */
#ifndef ESXIMG_LSPCI_H
#define ESXIMG_LSPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/pciids.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_lspci_device {
    size_t line;                /* 1-based line where the device starts */
    char *slot;                 /* "00:19.0" or "0000:00:19.0" as printed */
    struct esximg_pci_device pci;
    uint8_t revision;
    bool has_revision;
    /* Names lspci printed (-nn, -mmnn, -vmmnn), else NULL.  A -nn line prints vendor and
     * device as one text: that goes to `name`, with vendor_name and device_name NULL; the
     * name of a -v "Subsystem:" line goes to subdevice_name. */
    char *class_name;
    char *name;
    char *vendor_name, *device_name, *subvendor_name, *subdevice_name;
};

struct esximg_lspci {
    size_t device_count;
    struct esximg_lspci_device *devices;   /* in input order */
    /* Lines that are no device line nor part of a block, blocks without vendor or device id:
     * skipped, with their line number. */
    struct esximg_warnings warnings;
};

/* Options of esximg_lspci_read; NULL means defaults (there are none yet). */
struct esximg_lspci_ropts {
    int reserved;
};

/* Parses lspci output.  EFORMAT when no device is found; ELIMIT/EFORMAT as the other text
 * readers for size, line length and NUL bytes. */
int esximg_lspci_read(const void *data, size_t len, const struct esximg_lspci_ropts *o,
                      struct esximg_lspci **out, struct esximg_err *err);
void esximg_lspci_free(struct esximg_lspci *l);

/* Parses one `VVVV:DDDD[:SSSS:ssss][/CCCC[PP]]` (4 hex digits each, either case; CCCC the
 * class base and subclass, PP the prog-if).  EINVAL for anything else. */
int esximg_pci_device_parse(const char *s, struct esximg_pci_device *dev,
                            struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
