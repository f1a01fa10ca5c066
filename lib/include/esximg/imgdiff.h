/* esximg/imgdiff.h: what differs between two installer images or offline bundles.
 *
 * VIBs are compared by name: added, removed, version changed (with the direction by
 * esximg_version_cmp), acceptance level changed, vendor changed.  When a side holds several VIBs of one name
 * (a bundle may), the highest version stands for the name.  When both sides are images, the
 * profile acceptance level, the base image and add-on records of the database (by releaseID),
 * the /BOOT.CFG title, kernelopt tokens and modules are compared too (modules by file name,
 * case ignored, a leading '/' ignored). */
#ifndef ESXIMG_IMGDIFF_H
#define ESXIMG_IMGDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_diff_source {
    ESXIMG_DIFF_IMAGE = 0,      /* an installer ISO */
    ESXIMG_DIFF_BUNDLE,         /* an offline bundle (zip) */
};

enum esximg_diff_kind {
    ESXIMG_DIFF_VIB_ADDED = 0,      /* name, new (version) */
    ESXIMG_DIFF_VIB_REMOVED,        /* name, old (version) */
    ESXIMG_DIFF_VIB_VERSION,        /* name, old, new, order */
    ESXIMG_DIFF_VIB_ACCEPTANCE,     /* name, old, new */
    ESXIMG_DIFF_PROFILE_ACCEPTANCE, /* old, new (NULL when absent) */
    ESXIMG_DIFF_TITLE,              /* old, new (NULL when absent) */
    ESXIMG_DIFF_KERNELOPT_ADDED,    /* name: the token */
    ESXIMG_DIFF_KERNELOPT_REMOVED,
    ESXIMG_DIFF_MODULE_ADDED,       /* name: the module as B's BOOT.CFG writes it */
    ESXIMG_DIFF_MODULE_REMOVED,     /* name: as A's BOOT.CFG writes it */
    ESXIMG_DIFF_VIB_VENDOR,         /* name, old, new (vendor; NULL when absent) */
    ESXIMG_DIFF_BASE_IMAGE,         /* old, new: releaseIDs of the base image records (7.0+;
                                     * NULL when absent) */
    ESXIMG_DIFF_ADDON,              /* old, new: of the add-on records */
};

struct esximg_diff_item {
    enum esximg_diff_kind kind;
    char *name;                 /* VIB name, token or module; NULL for profile, base image,
                                 * add-on and title */
    char *old_value;            /* NULL when not applicable */
    char *new_value;
    char *vib_id_old, *vib_id_new;  /* for VIB items, NULL when not applicable */
    int order;                  /* VIB_VERSION: >0 upgrade, <0 downgrade, 0 equal order */
};

struct esximg_diff {
    enum esximg_diff_source a_source, b_source;
    size_t a_vib_count, b_vib_count;
    size_t count;
    struct esximg_diff_item *items;     /* VIBs by name, then profile, base image, add-on,
                                         * title, kernelopt, modules */
};

/* The kind of a file by its content: an ISO 9660 "CD001" at byte 32769, or a zip local header
 * "PK\3\4" at 0.  EFORMAT when neither. */
int esximg_diff_sniff(const char *path, enum esximg_diff_source *out, struct esximg_err *err);

/* Compares two files (images or bundles, by content).  err->file names the file that failed. */
int esximg_diff_files(const char *a, const char *b, struct esximg_diff **out,
                      struct esximg_err *err);
void esximg_diff_free(struct esximg_diff *d);

/* "vib_added", "vib_removed", "vib_version", "vib_acceptance", "profile_acceptance", "title",
 * "kernelopt_added", "kernelopt_removed", "module_added", "module_removed", "vib_vendor",
 * "base_image", "addon" */
const char *esximg_diff_kind_name(enum esximg_diff_kind k);
/* "image", "bundle" */
const char *esximg_diff_source_name(enum esximg_diff_source s);

#ifdef __cplusplus
}
#endif
#endif
