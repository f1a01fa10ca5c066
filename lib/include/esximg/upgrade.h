/* esximg/upgrade.h: what an upgrade (or a reinstall keeping the host's VIBs) to an installer
 * image does with the VIBs a running host has installed, and whether ESXi's installer would
 * accept the result (the rules and their sources: docs/upgrade-rules.md).
 *
 * Each host VIB is updated (the image has a newer version), the same, downgraded (the image's
 * is older), replaced (another image VIB's replaces names it) or kept (not in the image: it
 * stays on the upgraded host).  The kept VIBs' depends and conflicts are checked against the
 * image's VIBs plus the other kept host VIBs, with esximg's relationship rules (vibrel.h); an
 * unmet one is worded as ESXi's DependencyError words it. */
#ifndef ESXIMG_UPGRADE_H
#define ESXIMG_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"
#include "esximg/hostvibs.h"
#include "esximg/image.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_upgrade_fate {
    ESXIMG_UPGRADE_UPDATED = 0,   /* the image has a newer version: it takes its place */
    ESXIMG_UPGRADE_SAME,          /* the image has the same version */
    ESXIMG_UPGRADE_DOWNGRADED,    /* the image has an older version */
    ESXIMG_UPGRADE_REPLACED,      /* an image VIB of another name replaces it */
    ESXIMG_UPGRADE_KEPT,          /* not in the image: stays on the upgraded host */
};
#define ESXIMG_UPGRADE_FATES 5

enum esximg_upgrade_problem_kind {
    ESXIMG_UPGRADE_UNMET = 0,     /* a depends of a kept VIB that nothing meets */
    ESXIMG_UPGRADE_CONFLICT,      /* a kept VIB and another VIB, one conflicting with the other */
};

struct esximg_upgrade_vib {
    const struct esximg_hostvib *host;   /* borrowed from the host list */
    enum esximg_upgrade_fate fate;
    char *image_id;          /* the image VIB ID (component: bulletin id) taking its place,
                              * NULL when kept */
    char *image_version;     /* its version, NULL when kept */
    bool checked;            /* kept: its relations were read (vib get) and checked */
    bool vmklinux;           /* kept and a vmklinux driver (esximg_descriptor_is_vmklinux) */
    bool below_acceptance;   /* kept at a level below the image profile's */
    size_t problem_count;    /* problems naming it */
};

struct esximg_upgrade_problem {
    size_t vib;              /* index into vibs of the kept VIB concerned */
    enum esximg_upgrade_problem_kind kind;
    char *constraint;        /* "vmkapi_2_2_0_0", "esx-version >= 7.0.0" */
    char *other;             /* CONFLICT: the other VIB's id; else NULL */
    char *msg;               /* ESXi's wording: "VIB X requires Y, but the requirement cannot
                              * be satisfied within the ImageProfile." */
};

struct esximg_upgrade_report {
    enum esximg_hostvibs_form form;
    size_t vib_count;
    struct esximg_upgrade_vib *vibs;            /* in host order */
    size_t problem_count;
    struct esximg_upgrade_problem *problems;    /* by kept VIB, then depends, then conflicts */
    size_t fate_count[ESXIMG_UPGRADE_FATES];
    size_t unchecked;                           /* kept VIBs whose relations were not read */
    size_t below_acceptance;                    /* kept VIBs below the image's level */
    enum esximg_acceptance image_acceptance;    /* the image profile's level */
    enum esximg_acceptance host_acceptance;     /* the upgraded host's: the lowest of the
                                                 * image's and the kept VIBs' levels */
    bool fails;                                 /* a problem: the installer would refuse */
};

/* Judges each host VIB (or component) against the image.  A component list is matched with
 * the image's components (bulletins); its relations are never known. */
int esximg_upgrade_check(const struct esximg_image *img, const struct esximg_hostvibs *host,
                         struct esximg_upgrade_report **out, struct esximg_err *err);
void esximg_upgrade_report_free(struct esximg_upgrade_report *r);
/* "updated", "same", "downgraded", "replaced", "kept" */
const char *esximg_upgrade_fate_name(enum esximg_upgrade_fate f);
/* "unmet_dependency", "conflict" */
const char *esximg_upgrade_problem_name(enum esximg_upgrade_problem_kind k);

#ifdef __cplusplus
}
#endif
#endif
