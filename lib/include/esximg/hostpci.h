/* esximg/hostpci.h: a host's PCI devices as a running host prints them, with the driver the
 * host uses now when the output says so.  The form is detected from the content:
 *
 *   pciutils lspci (Linux)     every form of esximg/lspci.h
 *   ESXi lspci                 0000:04:00.0 Network controller Ethernet controller: Intel ...
 *                              [vmnic0]   (no ids; the [vmnicN] name may be missing)
 *   ESXi lspci -v              the line above, then "Class 0200: 8086:1533" (indented or not)
 *   ESXi lspci -n              0000:31:00.0 Class 0200: 8086:1521 [vmnic4]
 *   ESXi lspci -p              0000:31:00.0 8086:1521 103c:8157 255/   /     D V igbn  vmnic4
 *                              with or without its "Segm:Bu:De.F ..." header; the Module
 *                              column is the driver now, empty when none
 *   vmkchdev -l                0000:01:00.0 8086:1528 1028:1f61 vmkernel vmnic0
 *                              (the owner, not the driver: the driver stays unknown)
 *   esxcli hardware pci list   blocks of "Key: Value" (ids with 0x), one per device, 5.x to
 *                              8.x fields; "Module Name" is the driver now ("None": none)
 *
 * ESXi 5.x prints addresses in decimal with a 3-digit bus (000:014:00.0 is bus 0x0e); every
 * slot is normalised to "ssss:bb:dd.f" in hex.  Outputs cut by grep (`--` separators, a block
 * without its first lines) and values in markdown bold (`**vmnic0**`) read.  A line that is
 * none of these is a warning naming it. */
#ifndef ESXIMG_HOSTPCI_H
#define ESXIMG_HOSTPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/pciids.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_hostpci_form {
    ESXIMG_HOSTPCI_LINUX = 0,       /* pciutils lspci */
    ESXIMG_HOSTPCI_ESXI_LSPCI,      /* ESXi lspci, lspci -v, lspci -n */
    ESXIMG_HOSTPCI_ESXI_LSPCI_P,    /* ESXi lspci -p */
    ESXIMG_HOSTPCI_VMKCHDEV,        /* vmkchdev -l */
    ESXIMG_HOSTPCI_ESXCLI,          /* esxcli hardware pci list */
};

/* The module name ESXi gives a device passed through to a virtual machine. */
#define ESXIMG_HOSTPCI_PASSTHRU "pciPassthru"

struct esximg_host_device {
    size_t line;                /* 1-based line where the device starts */
    enum esximg_hostpci_form form;
    char *slot;                 /* ESXi forms: normalised "ssss:bb:dd.f", lower-case hex;
                                 * pciutils lspci: as printed ("00:19.0"); NULL when the
                                 * output does not give it (an esxcli block cut by grep) */
    struct esximg_pci_device pci;
    bool has_ids;               /* vendor and device known (ESXi's plain lspci prints none) */
    char *vmkernel_name;        /* "vmnic0", "vmhba1", or NULL */
    char *name;                 /* what the host calls it, or NULL */
    /* The driver the host uses now: the module name, NULL when the host uses none.  Only
     * meaningful when driver_known (esxcli's Module Name, the Module column of lspci -p). */
    char *driver;
    bool driver_known;
    char *owner;                /* vmkchdev's owner or esxcli's Current Owner, or NULL */
};

struct esximg_hostpci {
    enum esximg_hostpci_form form;          /* of the first file read */
    size_t device_count;
    struct esximg_host_device *devices;     /* in input order */
    struct esximg_warnings warnings;        /* lines not read, with their number */
};

/* Options of esximg_hostpci_read; NULL means defaults (there are none yet). */
struct esximg_hostpci_ropts {
    int reserved;
};

/* Reads any form above.  EFORMAT when nothing is recognised (no device); ELIMIT/EFORMAT as
 * the other text readers for size, line length and NUL bytes. */
int esximg_hostpci_read(const void *data, size_t len, const struct esximg_hostpci_ropts *o,
                        struct esximg_hostpci **out, struct esximg_err *err);

/* Adds the devices of `from` to `into`: a device of a slot `into` already has fills only what
 * `into` lacks (ids, class, prog-if, subsystem, names, the driver now); others are appended.
 * So `lspci -p` (drivers, no class) and `lspci -n` (classes) of one host make one list. */
int esximg_hostpci_merge(struct esximg_hostpci *into, const struct esximg_hostpci *from,
                         struct esximg_err *err);
void esximg_hostpci_free(struct esximg_hostpci *h);

/* "linux lspci", "esxi lspci", "esxi lspci -p", "vmkchdev -l", "esxcli hardware pci list" */
const char *esximg_hostpci_form_name(enum esximg_hostpci_form form);

/* Normalises a slot as printed ("00:19.0", "0000:00:19.0", ESXi 5.x "000:014:00.0" or
 * "014:00.0" in decimal) to "ssss:bb:dd.f" (out holds 20 bytes).  False when it is none. */
bool esximg_hostpci_slot(const char *s, size_t n, char out[20]);

#ifdef __cplusplus
}
#endif
#endif
