/* esximg/image.h: the model of an ESXi installer image (an ISO), built from its parts: the two
 * BOOT.CFG copies, the image database (IMGDB.TGZ: VIB descriptors and the image profile), the
 * El Torito boot entries and the boot modules; plus what its drivers claim.
 *
 * Opening reads only what every question needs (the ISO directory, the BOOT.CFG copies and
 * IMGDB.TGZ).  Driver maps and .ids files live inside the driver payload modules and are read
 * only by esximg_image_drivers(), and only from the payloads of VIBs whose file-list names a
 * map or an ids file. */
#ifndef ESXIMG_IMAGE_H
#define ESXIMG_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/bootcfg.h"
#include "esximg/drivermap.h"
#include "esximg/elf.h"
#include "esximg/err.h"
#include "esximg/imgdb.h"
#include "esximg/iso.h"
#include "esximg/pciids.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One VIB of the image: what the profile lists, joined with its descriptor in vibs/. */
struct esximg_image_vib {
    char *vib_id;
    const struct esximg_profile_vib *entry;  /* the profile's <vib>, NULL when not listed */
    char *xml_file;                          /* vibs/ file name, NULL when there is none */
    struct esximg_descriptor *desc;          /* parsed xml, NULL when there is none */
    enum esximg_acceptance acceptance;       /* from the descriptor */
    /* The signature a host keeps beside the xml: vibs/<xml_file>.orig (the descriptor bytes
     * exactly as signed) and .sig (sig.pkcs7); NULL when absent. Into `db`. */
    const struct esximg_imgdb_file *orig_xml;
    const struct esximg_imgdb_file *sig;
    bool is_signed;                          /* a .sig that is not empty */
    bool signature_broken;                   /* .orig or .sig missing, .orig of another VIB,
                                              * or (verified) .sig not signing .orig */
};

struct esximg_image {
    char *path;                              /* the file it was opened from (a copy) */
    struct esximg_iso *iso;
    struct esximg_bootcfg *bootcfg;          /* /BOOT.CFG (BIOS); NULL when absent */
    struct esximg_bootcfg *efi_bootcfg;      /* /EFI/BOOT/BOOT.CFG (UEFI); NULL when absent */
    char *imgdb_module;                      /* ISO path of the image database module */
    struct esximg_imgdb *db;                 /* NULL when the image has none */
    size_t vib_count;
    struct esximg_image_vib *vibs;           /* sorted bytewise by vib-id */
    char *version;                           /* "7.0.3" from esx-base (else BOOT.CFG build=) */
    char *build;                             /* "18644231", or NULL */
    unsigned major, minor;                   /* 0.0 when unknown */
    bool bios_boot;                          /* an El Torito entry for x86 BIOS */
    bool uefi_boot;                          /* an El Torito entry for UEFI (0xEF) */
    bool community_vibs;                     /* a VIB below partner: Secure Boot must be off */
    /* Consistency problems, found when the image is opened:
     * - a module named in BOOT.CFG (or its kernel) missing from the ISO;
     * - no BOOT.CFG, or the two copies differing;
     * - no image database or profile, a descriptor that does not parse;
     * - a VIB the profile lists without a vibs/ descriptor, or a descriptor it does not list;
     * - a boot-module payload (vgz, tgz, installer_vgz, vzstd, boot) the profile maps to no
     *   file, to a file missing from the ISO, or to one BOOT.CFG does not load;
     * - a module whose size (and, with verify_checksums, sha-256) differs from its
     *   descriptor;
     * - a vmklinux VIB (esximg_descriptor_is_vmklinux) on 7.0 or later: it never loads;
     * - what ESXi's boot loader reads otherwise than esximg (docs/boot-loader.md): a BOOT.CFG
     *   line that breaks one of its rules (esximg_bootcfg_check_loader), a last primary volume
     *   descriptor naming another tree than the first, a file of several extents, a directory
     *   record beyond 4 GiB;
     * - a signed VIB (a .orig or a .sig beside its xml) whose three files are not all there,
     *   whose .orig is not a descriptor of the same VIB, or (with verify_checksums) whose .sig
     *   does not sign its .orig. */
    struct esximg_warnings problems;        /* each a line of text (line 0) */
    /* Whether the image can boot with UEFI Secure Boot on: a UEFI boot entry, every VIB
     * signed and none community-supported, and each module named like a reserved one
     * (esximg_modname_reserved) loaded once and owned by a signed VIB under that payload
     * name. What prevents it, a line each (line 0). */
    bool secure_boot_ready;
    struct esximg_warnings secure_boot_blockers;
};

struct esximg_image_opts {
    /* Opening also hashes every payload module (sha-256 as stored) and compares it
     * with its descriptor: this reads the whole image. Sizes are always compared. */
    bool verify_checksums;
    /* Called while verify_checksums hashes the modules: bytes hashed out of all to hash (may
     * be NULL). */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
};

/* Opens an installer ISO read-only and builds the model. Fails only when the file is not an
 * ISO or cannot be read; an ISO that is not an ESXi image opens with problems recorded. */
int esximg_image_open(const char *path, const struct esximg_image_opts *o,
                      struct esximg_image **out, struct esximg_err *err);
void esximg_image_free(struct esximg_image *img);

/* Why a VIB keeps an image from booting with UEFI Secure Boot on ("is community-supported",
 * "is not signed", both), or NULL when it does not. */
const char *esximg_secure_boot_vib_blocker(enum esximg_acceptance acceptance, bool is_signed);

/* The VIB of that id or name, or NULL. */
const struct esximg_image_vib *esximg_image_find_vib(const struct esximg_image *img,
                                                     const char *id_or_name);
/* The ISO file a payload of a VIB is stored in ("/NE1000.V00"), or NULL. */
const struct esximg_iso_entry *esximg_image_payload_entry(const struct esximg_image *img,
                                                          const struct esximg_image_vib *v,
                                                          const char *payload_name);

/* Whether a VIB is a vmklinux driver: it depends on vmklinux_9 or com.vmware.driverAPI-*, or
 * ships etc/vmware/driver.map.d/ files.  ESXi 7.0 and later have no vmklinux: such a VIB never
 * loads there. */
bool esximg_vib_is_vmklinux(const struct esximg_descriptor *d);

/* The ELF machine (esximg/elf.h) the image's kernel modules must be built for.  Read from the
 * ELF header of the BOOT.CFG kernel (gunzipped): an x86 image's b.b00 is a 32-bit x86 ELF
 * (EM_386), whose modules are x86-64; an ESXi-Arm kernel is AArch64.  When the kernel is
 * missing or is no ELF, x86-64 is assumed (every ESXi release for x86 since 5.0 is x86-64)
 * and *from_kernel is false. */
int esximg_image_machine(const struct esximg_image *img, uint16_t *machine, bool *from_kernel,
                         struct esximg_err *err);

/* ---------------------------------------------------------------- drivers */

struct esximg_image_map {
    const struct esximg_image_vib *vib;      /* the VIB that ships it */
    char *module;                            /* ISO path of its payload module */
    char *path;                              /* path inside the payload */
    struct esximg_drivermap *map;
};

struct esximg_image_ids {
    const struct esximg_image_vib *vib;
    char *module;
    char *path;
    struct esximg_pciids *ids;
};

/* An ELF file of a driver VIB built for another machine than the image's kernel. */
struct esximg_image_foreign {
    const struct esximg_image_vib *vib;
    char *module;                            /* ISO path of its payload module */
    char *path;                              /* path inside the payload */
    uint16_t machine;                        /* its e_machine */
};

struct esximg_image_drivers {
    size_t map_count;
    struct esximg_image_map *maps;           /* by VIB order, then path */
    size_t ids_count;
    struct esximg_image_ids *ids;
    uint16_t machine;                        /* the image's (esximg_image_machine) */
    bool machine_from_kernel;                /* read from the kernel, not assumed */
    size_t foreign_count;                    /* the first foreign ELF file of each VIB */
    struct esximg_image_foreign *foreign;
    struct esximg_warnings problems;   /* payloads that could not be read (line 0) */
};

/* Reads the driver maps and .ids files of the image's driver payloads, and the ELF header of
 * every other file in them (typeflag 7 or starting with \x7fELF): a VIB with an ELF file built
 * for another machine is listed in `foreign`, and its maps claim nothing.  Boot payloads carry
 * no maps and are not read. */
int esximg_image_drivers(struct esximg_image *img, struct esximg_image_drivers **out,
                         struct esximg_err *err);
void esximg_image_drivers_free(struct esximg_image_drivers *d);

/* Names from the image's .ids files (borrowed), or NULL. */
const char *esximg_image_vendor_name(const struct esximg_image_drivers *d, uint16_t vendor);
const char *esximg_image_device_name(const struct esximg_image_drivers *d, uint16_t vendor,
                                     uint16_t device);

/* ---------------------------------------------------------------- host check */

enum esximg_hcl_verdict {
    ESXIMG_HCL_DRIVEN = 0,      /* a driver that loads on this image claims it */
    ESXIMG_HCL_WONT_LOAD,       /* only drivers that do not load claim it (vmklinux on 7.0
                                 * or later, modules built for another machine) */
    ESXIMG_HCL_NO_DRIVER,       /* nothing claims it */
};

enum esximg_hcl_kind {
    ESXIMG_HCL_OTHER = 0,
    ESXIMG_HCL_NETWORK,         /* PCI class 02xx */
    ESXIMG_HCL_STORAGE,         /* PCI class 01xx */
};

/* Why a claim's driver does not load. */
enum esximg_hcl_noload {
    ESXIMG_HCL_LOADS = 0,
    ESXIMG_HCL_NOLOAD_VMKLINUX,     /* a vmklinux map on 7.0 or later */
    ESXIMG_HCL_NOLOAD_FOREIGN,      /* its VIB holds an ELF file of another machine */
    ESXIMG_HCL_NOLOAD_DISABLED,     /* the host disabled its module (esxcli system module set
                                     * --enabled=false): it claims nothing */
};

struct esximg_hcl_claim {
    const char *driver;         /* borrowed from the drivers model */
    enum esximg_map_class map_class;
    const struct esximg_image_map *map;
    size_t line;
    bool loads;                 /* false for vmklinux on 7.0+ and for foreign modules */
    enum esximg_hcl_noload why_not;
    const struct esximg_image_foreign *foreign;     /* with NOLOAD_FOREIGN */
};

struct esximg_hcl_result {
    struct esximg_pci_device dev;
    enum esximg_hcl_kind kind;
    enum esximg_hcl_verdict verdict;
    const struct esximg_hcl_claim *winner;   /* into claims; NULL when nothing loads */
    enum esximg_map_rule rule;               /* why the winner won */
    bool inferred;                           /* the choice rested on an inferred rule */
    size_t claim_count;
    struct esximg_hcl_claim *claims;         /* best first */
    const char *vendor_name, *device_name;   /* from the image's .ids, NULL when unknown */
};

/* Decides which driver of the image claims the device, by ESXi's order (OEM > IHV > native >
 * vmklinux > fallback; vmklinux never on 7.0+; see docs/hcl-rules.md). */
int esximg_image_hcl(const struct esximg_image *img, const struct esximg_image_drivers *d,
                     const struct esximg_pci_device *dev, struct esximg_hcl_result *out,
                     struct esximg_err *err);
void esximg_hcl_result_clear(struct esximg_hcl_result *r);

/* The host's settings the check applies; a zero struct (or NULL) means none. */
struct esximg_hcl_opts {
    const char *const *disabled;    /* modules disabled on the host: their claims do not load */
    size_t disabled_count;
};

/* esximg_image_hcl, judging the image as on a host with those settings: on 6.x a disabled
 * native ne1000 hands 8086:10d3 to vmklinux e1000e when the image has it; on 7.0+ to nothing. */
int esximg_image_hcl_opts(const struct esximg_image *img, const struct esximg_image_drivers *d,
                          const struct esximg_pci_device *dev, const struct esximg_hcl_opts *o,
                          struct esximg_hcl_result *out, struct esximg_err *err);

/* ---------------------------------------------------------------- a running host's devices */

/* What happens to a device of a running host when it runs the image. */
enum esximg_hcl_transition {
    ESXIMG_HCL_NOW_UNKNOWN = 0, /* the host output does not say which driver it uses now */
    ESXIMG_HCL_KEEPS,           /* the same driver now and on the image */
    ESXIMG_HCL_CHANGES,         /* another driver on the image (e1000e vmklinux -> ne1000) */
    ESXIMG_HCL_GAINS,           /* no driver now, one on the image */
    ESXIMG_HCL_LOSES,           /* a driver now, none that loads on the image */
    ESXIMG_HCL_STAYS_WITHOUT,   /* no driver now, none on the image */
    ESXIMG_HCL_PASSTHROUGH,     /* passed through to a VM now (pciPassthru): the image's
                                 * drivers do not matter to it */
};

struct esximg_device_verdict {
    struct esximg_hcl_result image;     /* esximg_image_hcl_opts on the device's ids */
    bool kind_from_name;                /* no class given: the kind comes from its ESXi name
                                         * (vmnicN network, vmhbaN storage) */
    enum esximg_hcl_transition transition;
    const char *driver_now;             /* borrowed from the host device; NULL: none/unknown */
    const char *driver_then;            /* the image's winner, NULL when none loads */
    /* The image's claim by the driver the host uses now, when its maps list the device:
     * its class (e1000e: vmklinux) and why it does not load.  NULL otherwise. */
    const struct esximg_hcl_claim *now_claim;
    bool loses_needed;                  /* LOSES, and a network or storage controller */
};

struct esximg_host_device;

/* The verdict for one device of a running host (esximg/hostpci.h): which driver of the image
 * claims it with the host's disabled modules applied, and how that compares with the driver
 * the host uses now.  EINVAL for a device without ids (ESXi's plain lspci line). */
int esximg_image_device_verdict(const struct esximg_image *img,
                                const struct esximg_image_drivers *d,
                                const struct esximg_host_device *dev,
                                const char *const *disabled, size_t disabled_count,
                                struct esximg_device_verdict *out, struct esximg_err *err);
void esximg_device_verdict_clear(struct esximg_device_verdict *v);

#ifdef __cplusplus
}
#endif
#endif
