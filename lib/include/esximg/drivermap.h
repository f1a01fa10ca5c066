/* esximg/drivermap.h: driver map files (etc/vmware/<class>.map.d/NAME.map) and which driver
 * claims a PCI device.
 *
 * A map line is comma-separated key=value pairs, e.g.
 *     regtype=native,bus=pci,id=8086105e8086005e......,driver=ne1000
 *     regtype=linux,bus=pci,id=8086:10d3 0000:0000,driver=e1000e,class=network
 *     regtype=native,bus=acpi,id=PNP0D10,driver=vmkusb
 *     regtype=native,bus=logical,id=com.vmware.uplink,driver=vmkernel
 * Native PCI ids are 22 characters VVVVDDDDSSSSssssCCCCPP (vendor, device, subsystem vendor and
 * device, class base+sub, prog-if), each a hex digit or '.' (any).  vmklinux ids are
 * `VVVV:DDDD SSSS:ssss`, where a subsystem of 0000:0000 means any [inferred: every generic
 * entry uses it]. */
#ifndef ESXIMG_DRIVERMAP_H
#define ESXIMG_DRIVERMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"
#include "esximg/pciids.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The map directory, in priority order: a lower value wins (see esximg_drivermap_pick). */
enum esximg_map_class {
    ESXIMG_MAP_OEM = 0,     /* oem.map.d: OEM overrides */
    ESXIMG_MAP_IHV,         /* ihv.map.d: IHV/async native drivers */
    ESXIMG_MAP_NATIVE,      /* default.map.d: VMware inbox native drivers */
    ESXIMG_MAP_VMKLINUX,    /* driver.map.d: vmklinux drivers, which never load on 7.0+ */
    ESXIMG_MAP_FALLBACK,    /* fallback.map.d: claims what nothing else claims */
    ESXIMG_MAP_UNKNOWN,     /* any other place: ranked last */
};

/* The class of a map (or .ids) file from its path: the directory holding it, e.g.
 * "etc/vmware/default.map.d/ne1000.map" -> NATIVE, ".../driver.pciids.d/x.ids" -> VMKLINUX. */
enum esximg_map_class esximg_map_class_from_path(const char *path);
/* "oem", "ihv", "native", "vmklinux", "fallback", "unknown" */
const char *esximg_map_class_name(enum esximg_map_class c);

/* A key=value of a line other than regtype, bus, id, driver and class. */
struct esximg_map_kv {
    char *key;
    char *value;
};

struct esximg_map_entry {
    size_t line;                /* 1-based line in its file */
    char *regtype;              /* "native", "linux", ... as written */
    char *bus;                  /* "pci", "acpi", "logical", ... as written */
    char *id;                   /* as written */
    char *driver;
    char *class_name;           /* vmklinux `class=` (network, storage), or NULL */
    size_t extra_count;
    struct esximg_map_kv *extras;
    /* bus=pci only: the id as 22 lower-case characters of hex or '.', vmklinux ids converted
     * (subsystem 0000:0000 -> "........", class and prog-if "......"); "" for other buses. */
    char pci_pattern[23];
};

struct esximg_drivermap {
    char *path;                 /* as given in the read options, or NULL */
    enum esximg_map_class map_class;  /* from the path; callers may change it */
    size_t entry_count;
    struct esximg_map_entry *entries;
    /* Malformed lines, skipped: a field without '=', a repeated key, a missing regtype, bus,
     * id or driver, a bus=pci id that is not 22 hex-or-'.' characters nor VVVV:DDDD SSSS:ssss. */
    struct esximg_warnings warnings;
};

/* Options of esximg_drivermap_read; NULL means defaults. */
struct esximg_drivermap_ropts {
    const char *path;           /* recorded, and gives map_class (else UNKNOWN) */
    bool strict;                /* a malformed line is an error (EFORMAT), not a warning */
};

/* Parses one map file.  Blank lines, '#' comments, a '\r' before '\n', an empty file and no
 * final newline are fine; blanks around a line and around each field are ignored.  Refuses
 * more than ESX_MAX_TEXT_BYTES or ESX_MAX_TEXT_LINES, a line over ESX_MAX_LINE_BYTES (ELIMIT)
 * and a NUL byte (EFORMAT). */
int esximg_drivermap_read(const void *data, size_t len, const struct esximg_drivermap_ropts *o,
                          struct esximg_drivermap **out, struct esximg_err *err);
void esximg_drivermap_free(struct esximg_drivermap *m);

/* The entry's id for people: bus=pci patterns as "VVVV:DDDD[:SSSS:ssss][/CCCCPP]" with a
 * field of all '.' written as a star (a class-only id reads: star, colon, star, then
 * "/010802"), other buses as "bus:id".
 * Writes at most n bytes, NUL included. */
void esximg_map_entry_id_text(const struct esximg_map_entry *e, char *out, size_t n);

/* ---------------------------------------------------------------- matching */

/* True when a bus=pci entry claims the device: every non-'.' character of its pattern equals
 * the device's hex digit there.  A field the device does not know (has_subsys, has_class false)
 * fails any non-'.' character in it; an unknown prog-if matches and sets *progif_assumed.
 * Entries of other buses (acpi, logical, ...) never claim a PCI device. */
bool esximg_map_entry_matches(const struct esximg_map_entry *e,
                              const struct esximg_pci_device *dev, bool *progif_assumed);

struct esximg_map_claim {
    const struct esximg_drivermap *map;
    const struct esximg_map_entry *entry;
    enum esximg_map_class map_class;
    unsigned specificity;       /* non-'.' characters of the pattern, 4..22 */
    bool progif_assumed;        /* the entry names a prog-if the device did not give */
};

/* Every entry of the maps that claims the device, best first: class priority, then
 * specificity (more fixed characters first), then driver name (bytewise), then map order and
 * line. */
struct esximg_map_match {
    size_t claim_count;
    struct esximg_map_claim *claims;
};

int esximg_drivermap_match(const struct esximg_drivermap *const *maps, size_t map_count,
                           const struct esximg_pci_device *dev, struct esximg_map_match **out,
                           struct esximg_err *err);
void esximg_map_match_free(struct esximg_map_match *m);

/* Why the winner won. */
enum esximg_map_rule {
    ESXIMG_MAP_RULE_NONE = 0,       /* nothing claims the device */
    ESXIMG_MAP_RULE_ONE_DRIVER,     /* every claim names the same driver */
    ESXIMG_MAP_RULE_CLASS,          /* a higher map class */
    ESXIMG_MAP_RULE_SPECIFICITY,    /* same class, more fixed id characters */
    ESXIMG_MAP_RULE_DRIVER_NAME,    /* same class and specificity: the first driver name */
};

struct esximg_map_winner {
    const struct esximg_map_claim *claim;  /* into the match; NULL when nothing claims it */
    enum esximg_map_rule rule;
    /* The choice rested on an undocumented rule: the runner-up (the best claim of another
     * driver) is in the same class (the tie rules are inferred), or the winner or runner-up
     * is an ihv or unknown map (their place in the order is inferred from the directory
     * names).  OEM > native > vmklinux is stated by VMware; fallback last by the Fling. */
    bool inferred;
};

/* Picks the driver ESXi would bind: OEM > IHV > native (default.map.d) > vmklinux
 * (driver.map.d) > fallback > unknown, then the tie rules of esximg_map_match.  Whether a
 * vmklinux driver can load at all (not on 7.0+) is the caller's business: see map_class.
 * Nor does it know drivers disabled on the host. */
void esximg_drivermap_pick(const struct esximg_map_match *m, struct esximg_map_winner *w);

#ifdef __cplusplus
}
#endif
#endif
