/* esximg/imgedit.h: editing an installer image in one pass: VIBs added, replaced and removed,
 * boot options changed, and a new ISO written.
 *
 * esximg_edit_plan() reads the packages, decides every change and prepares every new byte
 * (payload modules, both BOOT.CFG copies, IMGDB.TGZ, /KS.CFG); esximg_edit_write() then hands
 * the changes to esximg_iso_write(), which copies the input and grows it, so that VMware's
 * modules and the boot images stay byte for byte where they were.
 *
 * What the plan does (see docs/edit.md):
 * - Packages: a .vib; an offline bundle or component .zip (every VIB, or those `selects`
 *   names); an ESXi-Customizer OEM .tgz (module, map and ids file), turned into a community
 *   VIB named after its module (version 1.0-1, vendor "custom", one vgz payload); a folder,
 *   whose .vib, .zip and .tgz files (not its subfolders) are taken in bytewise name order.
 *   The kind is found from the content, not the file name.
 * - A VIB whose name is already in the image replaces it; so does a VIB whose `replaces`
 *   names one.  `removes` takes names or vib-ids.  Removing a VIB drops its profile entry, its
 *   vibs/ xml (and .orig/.sig), its module files and their BOOT.CFG items, and its id from
 *   every bulletin's vibList (a bulletin left empty goes).  A VIB holding the BOOT.CFG kernel
 *   cannot be removed.
 * - Relationships (unless no_deps): every depends of the resulting image met, no conflicts,
 *   no added VIB replaced by one that stays.  Failures the input image already had are
 *   warnings; new ones are problems.  An added vmklinux driver on 7.0+ (it never loads) is a
 *   problem too, a warning under no_deps.
 * - Acceptance: the profile's level goes down to the lowest VIB level of the resulting image,
 *   with a warning naming the VIB (a problem under `strict`); `acceptance` sets it instead,
 *   and is a problem when a VIB is below it.  Removing the VIBs that held it down raises it to
 *   the lowest level of the VIBs left, at most partner.  Acceptance warnings are added only to
 *   a plan without problems.
 * - Machine: an added VIB with an ELF file built for another machine than the image's kernel
 *   (esximg_image_machine) is a problem, even with no_deps.
 * - Payloads added: only vgz, tgz and installer_vgz (others are refused); each must be one
 *   gzip member with nothing after it, of the size and sha-256 its descriptor gives.  Each
 *   becomes a module file named by esximage's 8.3 rule (esximg_modname_next) with a counter
 *   that no file of the input ISO and no payload file of the profile uses, never s, sb,
 *   esxcore or esxupdt, and goes into modules= right before imgdb.tgz (appended when there is
 *   none), the same in both BOOT.CFG copies.
 * - Database: the VIB's descriptor.xml bytes verbatim as vibs/<name>-<n>.xml (the Python 2
 *   hash rule on 5.x/6.x, the 64-bit rule on 7.0+), a profile entry mapping each payload to
 *   its module, on 7.0+ a bulletins/<component-id>.xml per added VIB (from the bundle's
 *   component when it has one, else a new component named and versioned after the VIB), the
 *   acceptance level, modifiedtime = the edit time; the rest is kept.  IMGDB.TGZ members get
 *   the edit time as mtime.
 * - 7.0+: a warning for an added vmklinux driver (depends on vmklinux_9 or
 *   com.vmware.driverAPI-*, or ships etc/vmware/driver.map.d/ files): it will never load.
 *
 * Problems (a relationship not met, acceptance refused) do not make esximg_edit_plan() fail:
 * they are listed in the plan, so that a dry run can show them, and esximg_edit_write()
 * refuses a plan that has any.  Failures to read or to make sense of an input do fail it. */
#ifndef ESXIMG_IMGEDIT_H
#define ESXIMG_IMGEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/image.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_hybrid;           /* esximg/isohybrid.h */

struct esximg_edit_opts {
    const char *const *adds;        /* package paths: .vib, .zip, OEM .tgz, or folders */
    size_t add_count;
    const char *const *selects;     /* names or vib-ids to take from bundles; none: all */
    size_t select_count;
    const char *const *removes;     /* VIB names or vib-ids */
    size_t remove_count;
    bool no_deps;                   /* skip the relationship check */
    const char *acceptance;         /* set the profile's level; NULL: lower it as needed */
    bool strict;                    /* refuse to lower the level instead */
    const char *const *kernelopts;  /* "KEY=VALUE" or "KEY" (add or replace), "-KEY" (remove) */
    size_t kernelopt_count;
    const char *ks_path;            /* a kickstart file to put on the image as /KS.CFG */
    /* The kickstart is checked against the edited image (esximg_ks_check): its problems
     * are problems of the plan, or only warnings with force_ks. */
    bool force_ks;
    const char *title;              /* BOOT.CFG title */
    const char *profile_name;       /* a new image profile name (renames its file) */
    /* The edit time (seconds since the epoch): profile modifiedtime, IMGDB.TGZ and ISO dates,
     * release date and member times of VIBs made from OEM .tgz files.  Without has_mtime it
     * is taken from the inputs: the latest of the input profile's modifiedtime and
     * creationtime and the release dates of the added VIBs (0 when none reads), so that the
     * same inputs give the same output. */
    bool has_mtime;
    int64_t mtime;
};

/* How the planned image is written: nothing here changes what the plan decided. */
struct esximg_edit_wopts {
    /* Called while the ISO is written (see esximg_iso_wopts). */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    /* Make the written image hybrid (esximg/isohybrid.h); borrowed for the call. */
    const struct esximg_hybrid *hybrid;
};

struct esximg_edit_state;           /* private: the prepared changes */

struct esximg_edit_plan {
    /* What the edit does, one line each, for people: VIBs added, replaced and removed,
     * modules added and removed, other files, BOOT.CFG lines removed ("-") and added ("+")
     * per copy, profile and database changes. */
    size_t line_count;
    char **lines;
    struct esximg_warnings warnings;    /* print them; they do not stop the edit */
    struct esximg_warnings problems;    /* any of them stops the edit */
    int64_t mtime;                      /* the edit time used */
    size_t vibs_added, vibs_replaced, vibs_removed;
    struct esximg_edit_state *state;
};

/* Plans the edit of `img`, as esximg_image_open() opened it.  img is only read, and must
 * outlive the plan: the write copies the ISO at img->path and reuses img->iso rather than
 * parse it again.  err->file names the package that failed. */
int esximg_edit_plan(struct esximg_image *img, const struct esximg_edit_opts *o,
                     struct esximg_edit_plan **out, struct esximg_err *err);

/* Writes the planned image to out_path (temporary file and rename: nothing is left on
 * failure; the input is never opened for writing).  wo may be NULL: no progress, not hybrid.
 * EINVAL when the plan has problems. */
int esximg_edit_write(const struct esximg_edit_plan *p, const char *out_path,
                      const struct esximg_edit_wopts *wo, struct esximg_err *err);

void esximg_edit_plan_free(struct esximg_edit_plan *p);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]" (a missing zone is UTC) into seconds
 * since the epoch.  EINVAL when it does not parse or lies before 1970. */
int esximg_edit_parse_time(const char *s, int64_t *out, struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
