/* esximg/pciids.h: PCI devices and the `.ids` files that name them.
 *
 * ESXi ships pci.ids-syntax files beside its driver maps (usr/share/hwdata/<class>.pciids.d/):
 *     8086  Intel Corporation                     vendor: 4 hex, blanks, name
 *     \t105e  82571EB Gigabit Ethernet Controller   device: one TAB, 4 hex, blanks, name
 *     \t\t8086 005e  PRO/1000 PT Dual Port ...     subsystem: two TABs, 4+4 hex, blanks, name
 * with '#' comments and blank lines.  They only give names; the maps (drivermap.h) decide which
 * driver binds.  The reader also takes the full pci.ids, skipping its class section (`C xx`). */
#ifndef ESXIMG_PCIIDS_H
#define ESXIMG_PCIIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A PCI function as a driver map sees it.  Fields whose flag is false are unknown: the matcher
 * (drivermap.h) lets only entries that leave them wildcarded claim the device. */
struct esximg_pci_device {
    uint16_t vendor, device;
    uint16_t subvendor, subdevice;  /* valid when has_subsys */
    uint16_t class_code;            /* base class << 8 | subclass, valid when has_class */
    uint8_t progif;                 /* programming interface, valid when has_progif */
    bool has_subsys, has_class, has_progif;
};

/* The device as the 22 lower-case hex characters of a native map id
 * (VVVVDDDDSSSSssssCCCCPP), unknown fields as '.'. */
void esximg_pci_device_id22(const struct esximg_pci_device *dev, char out[23]);

struct esximg_pciids_subsys {
    uint16_t subvendor, subdevice;
    char *name;
};

struct esximg_pciids_device {
    uint16_t id;
    char *name;
    size_t subsys_count;
    struct esximg_pciids_subsys *subsys;
};

struct esximg_pciids_vendor {
    uint16_t id;
    char *name;
    size_t device_count;
    struct esximg_pciids_device *devices;
};

struct esximg_pciids {
    size_t vendor_count;
    struct esximg_pciids_vendor *vendors;   /* in file order */
    /* Lines that fit no form (bad hex, a device before any vendor, a deeper indent): skipped. */
    struct esximg_warnings warnings;
};

/* Options of esximg_pciids_read; NULL means defaults. */
struct esximg_pciids_ropts {
    bool strict;    /* a line that fits no form is an error (EFORMAT), not a warning */
};

/* Parses a .ids file.  Blanks between the ids and the name may be one space or several, or a
 * TAB; a '\r' before the '\n', no final newline and an empty file are fine.  Refuses more than
 * ESX_MAX_TEXT_BYTES or ESX_MAX_TEXT_LINES, a line over ESX_MAX_LINE_BYTES (ELIMIT) and a NUL
 * byte (EFORMAT). */
int esximg_pciids_read(const void *data, size_t len, const struct esximg_pciids_ropts *o,
                       struct esximg_pciids **out, struct esximg_err *err);
void esximg_pciids_free(struct esximg_pciids *ids);

/* Names, borrowed from ids (the first one when an id is listed twice), or NULL. */
const char *esximg_pciids_vendor_name(const struct esximg_pciids *ids, uint16_t vendor);
const char *esximg_pciids_device_name(const struct esximg_pciids *ids, uint16_t vendor,
                                      uint16_t device);
const char *esximg_pciids_subsys_name(const struct esximg_pciids *ids, uint16_t vendor,
                                      uint16_t device, uint16_t subvendor, uint16_t subdevice);

#ifdef __cplusplus
}
#endif
#endif
