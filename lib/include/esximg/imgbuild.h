/* esximg/imgbuild.h: a whole ESXi installer made from a set of VIBs.
 *
 * esximg_imgbuild_plan() lays out the installer that VMware's Image Builder makes of an image
 * profile (esxi-formats.md §4, §5, docs/build.md):
 * - boot, vgz, tgz, installer_vgz and vzstd payloads become boot modules named by the 8.3 rule
 *   (esximg_modname_assign: sorted vib-id order, vfat-name kept, shared counters), listed in
 *   BOOT.CFG in esximage's boot order (§4.4): boot payloads by boot-order (the lowest is the
 *   kernel), then the other modules of non-overlay VIBs in vib-id order with the boot-order
 *   100 ones moved to the front, then overlay VIBs' modules, then /imgdb.tgz and /imgpayld.tgz;
 * - boot_iso_bios -> /ISOLINUX.BIN (El Torito BIOS image), boot_com32_bios -> the root,
 *   eltorito_image_efi -> /EFIBOOT.IMG (El Torito UEFI image), boot_loader_efi ->
 *   /EFI/BOOT/<NAME>, upgrade -> /UPGRADE/<NAME>, text -> the root, each name upper-cased and
 *   8.3 (a name that is not is EINVAL naming it; fatBootSector, which the installer writes to
 *   disks and which no ISO holds, goes only into IMGPAYLD.TGZ);
 * - /BOOT.CFG and /EFI/BOOT/BOOT.CFG (the same bytes), /ISOLINUX.CFG in VMware's form,
 *   /IMGDB.TGZ (the image profile, vibs/ descriptors with .orig/.sig for signed VIBs, on 7.0
 *   and later bulletins/ for the components), /IMGPAYLD.TGZ (var/db/payloads/<type>/<name> of
 *   every payload that is not a boot module, as esximage's PayloadTar writes it), and /KS.CFG
 *   when a kickstart is given.
 * Payload contents are not read to plan (only IMGPAYLD.TGZ reads the non-module payloads,
 * which are small): the plan's files borrow the callers' content sources, which must outlive
 * it.  esximg_imgbuild_write() writes the plan as an ISO (esximg/isocreate.h);
 * esximg_imgbuild_write_pxe() as a PXE folder. */
#ifndef ESXIMG_IMGBUILD_H
#define ESXIMG_IMGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/isocreate.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_hybrid;

/* One VIB: its descriptor.xml bytes, its sig.pkcs7 bytes (len 0 when unsigned) and one
 * content per payload of the descriptor, in descriptor order, each of exactly the payload's
 * size.  All borrowed. */
struct esximg_imgbuild_vib {
    const void *descriptor;
    size_t descriptor_len;
    const void *sig;
    size_t sig_len;
    const struct esximg_content *payloads;
    size_t payload_count;
    const char *source;     /* where the VIB came from, for messages (may be NULL) */
};

/* A component's bulletin (bulletins/<id>.xml of a depot), borrowed.  On 7.0 and later the
 * database holds each one whose VIBs are all in the image; a VIB that none of them names gets
 * a bulletin of its own, named and versioned after it, as `edit` makes one. */
struct esximg_imgbuild_component {
    const void *xml;
    size_t len;
};

/* A release unit (7.0 and later) the image is made of: its releaseID and its JSON document
 * as the depot holds it, both borrowed; written to the database (esximg/imgdb.h). */
struct esximg_imgbuild_release {
    const char *release_id;
    const void *json;
    size_t len;
};

struct esximg_imgbuild_opts {
    const char *profile_name;   /* required: the profile, the volume id, the boot menu */
    const char *creator;        /* NULL: the esx-base VIB's vendor */
    const char *description;    /* NULL: none */
    const char *acceptance;     /* NULL: the lowest level of the VIBs */
    /* kernel options, each "KEY=VALUE" or "KEY" (added or replaced) or "-KEY" (removed),
     * applied in order to the stock ones: "cdromBoot runweasel" (6.7, 7.0), "runweasel
     * cdromBoot" (8.0), "runweasel" (before 6.7) */
    const char *const *kernelopts;
    size_t kernelopt_count;
    const char *title;          /* BOOT.CFG title=; NULL: "Loading ESXi installer" */
    const void *ks;             /* a kickstart: /KS.CFG and ks=cdrom:/KS.CFG; NULL: none */
    size_t ks_len;
    int64_t mtime;              /* every date (SOURCE_DATE_EPOCH) */
    /* 7.0 and later: the base image and add-on chosen (NULL: none), kept in IMGDB.TGZ as
     * baseimages/<releaseID>.json and addons/<releaseID>.json; ignored before 7.0 */
    const struct esximg_imgbuild_release *base_image;
    const struct esximg_imgbuild_release *addon;
    /* 7.0 and later: the base image's components the image does not hold (an add-on replaced
     * or removed them), kept as reservedComponents/<id>.xml as a host keeps them [I] */
    const struct esximg_imgbuild_component *reserved;
    size_t reserved_count;
};

struct esximg_imgbuild_state;   /* private: what the plan owns */

struct esximg_imgbuild {
    size_t file_count;
    struct esximg_isoc_file *files;     /* every file of the image, sorted by path */
    const char *bios_boot;              /* "/ISOLINUX.BIN", or NULL without that payload */
    const char *efi_boot;               /* "/EFIBOOT.IMG", or NULL */
    char *volume_id;                    /* the profile name, upper case, 32 at most */
    char *version;                      /* esx-base's version ("7.0.2-0.0.17630552") */
    unsigned major;                     /* 7 for 7.0.2; 0 when unknown */
    size_t module_count;                /* BOOT.CFG order: modules[0] is the kernel */
    char **modules;                     /* "/b.b00", ... */
    char *kernelopt;                    /* the kernel options written */
    char *bootcfg;                      /* BOOT.CFG as written (NUL-terminated) */
    size_t bootcfg_len;
    struct esximg_imgbuild_state *state;
};

/* Plans the installer of `n` VIBs (see above).  EINVAL: no VIB, two VIBs of one id or one
 * name, a payload count or size that disagrees with the descriptor, a payload name that does
 * not fit its place, two payloads on one path (naming both), no boot payload; EFORMAT: a
 * descriptor or bulletin that does not read; and what the BOOT.CFG loader check refuses. */
int esximg_imgbuild_plan(const struct esximg_imgbuild_vib *vibs, size_t n,
                         const struct esximg_imgbuild_component *components, size_t nc,
                         const struct esximg_imgbuild_opts *opts, struct esximg_imgbuild **out,
                         struct esximg_err *err);
void esximg_imgbuild_free(struct esximg_imgbuild *b);

struct esximg_imgbuild_wopts {
    unsigned mode;              /* 0: 0644 */
    int64_t mtime;
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    const struct esximg_hybrid *hybrid;     /* esximg/isohybrid.h; NULL: a plain ISO */
    /* PXE: BOOT.CFG prefix= (the folder as the TFTP or HTTP server names it); NULL: the base
     * name of the output folder */
    const char *pxe_prefix;
};

/* Writes the plan as an installer ISO (esximg_iso_create, application id "ESXIMAGE"). */
int esximg_imgbuild_write(const struct esximg_imgbuild *b, const struct esximg_imgbuild_wopts *o,
                          const char *out_path, struct esximg_err *err);

/* Writes the plan as a PXE folder, laid out as VMware's PXE guide does: every module and
 * loader file at the top with a lower-case name, the UEFI loader also as mboot.efi, and
 * boot.cfg with prefix=<pxe_prefix> and module paths without their leading '/'.  The folder
 * is made beside out_dir under a temporary name and renamed to it when complete; out_dir must
 * not exist.  Every file and the folder are dated o->mtime. */
int esximg_imgbuild_write_pxe(const struct esximg_imgbuild *b,
                              const struct esximg_imgbuild_wopts *o, const char *out_dir,
                              struct esximg_err *err);

/* Where an installer image keeps a payload that is not a boot module (the placement above):
 * "/ISOLINUX.BIN", "/EFI/BOOT/BOOTX64.EFI", "/UPGRADE/PRECHECK.PY", ... (malloc'd).
 * ENOTFOUND for a boot module type, a disk-only payload (fatBootSector) or a type without a
 * place; EINVAL for a name that is not 8.3. */
int esximg_imgbuild_payload_path(const char *type, const char *name, char **out,
                                 struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
