/* esximg/hostvibs.h: what a running ESXi host says it has installed, as esxcli prints it.
 *
 * Accepted forms (one per input, recognised from the content):
 *   esxcli software vib list        a table: "Name  Version  Vendor  Acceptance Level
 *                                   Install Date" (8.0 adds "Platforms"), a dash line under
 *                                   the header; column widths vary from host to host, so the
 *                                   columns are cut where the dash line's runs start.  Rows
 *                                   without a header (grep'd output) are split on runs of two
 *                                   or more blanks, the columns named by their count (5 or 6).
 *   esxcli software component list  the same with "Name  Display Name  Version  Display
 *                                   Version  Vendor  Release Date  Acceptance Level
 *                                   [Platforms]" (7 or 8 columns when headerless).
 *   esxcli software vib get         records: the VIB ID alone on a line, then indented
 *                                   "Key: Value" lines (Name, Version, Type, Vendor, Acceptance
 *                                   Level, Depends, Conflicts, Replaces, Provides, ...); the
 *                                   relation lists are comma-separated "name" or
 *                                   "name REL version" items.
 * A line that cannot be read is a warning naming it; an input with no VIB or component is
 * EFORMAT. */
#ifndef ESXIMG_HOSTVIBS_H
#define ESXIMG_HOSTVIBS_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_hostvibs_form {
    ESXIMG_HOSTVIBS_VIB_LIST = 0,     /* esxcli software vib list */
    ESXIMG_HOSTVIBS_VIB_GET,          /* esxcli software vib get */
    ESXIMG_HOSTVIBS_COMPONENT_LIST,   /* esxcli software component list */
};

/* One installed VIB (or component, for a component list). */
struct esximg_hostvib {
    size_t line;                /* 1-based line where it starts */
    char *id;                   /* vib get: the record's first line (the VIB ID), else NULL */
    /* name, version, vendor, type (vib get only), acceptance_level (descriptor spelling:
     * "community", ...) and, from vib get, depends, conflicts, replaces and provides.  A
     * component list fills name, version and vendor with the component's. */
    struct esximg_descriptor *desc;
    enum esximg_acceptance acceptance;
    char *acceptance_text;      /* as printed ("CommunitySupported"), NULL when absent */
    char *date;                 /* Install Date (vib list), Release Date (component list) */
    char *platforms;            /* 8.0+ Platforms column or field, else NULL */
    char *display_name;         /* component list only */
    char *display_version;      /* component list only */
    bool has_relations;         /* vib get: the relation fields were printed */
};

struct esximg_hostvibs {
    enum esximg_hostvibs_form form;
    size_t count;
    struct esximg_hostvib *vibs;          /* in input order */
    struct esximg_warnings warnings;      /* lines skipped, with their number */
};

/* Reads esxcli output.  EFORMAT when nothing is found; ELIMIT/EFORMAT as the other text
 * readers for size, line length and NUL bytes. */
int esximg_hostvibs_read(const void *data, size_t len, struct esximg_hostvibs **out,
                         struct esximg_err *err);
void esximg_hostvibs_free(struct esximg_hostvibs *h);
/* "vib list", "vib get", "component list" */
const char *esximg_hostvibs_form_name(enum esximg_hostvibs_form f);

#ifdef __cplusplus
}
#endif
#endif
