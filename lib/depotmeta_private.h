/* depotmeta_private.h: the full-depot members of a metadata zip (lib/depotmeta.c), for the
 * bundle reader (lib/depot.c). */
#ifndef DEPOTMETA_PRIVATE_H
#define DEPOTMETA_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "esximg/depot.h"

enum esx_depotmeta_member {
    ESX_DEPOTMETA_SKIP = 0,   /* read elsewhere (vibs/, bulletins/) or not needed */
    ESX_DEPOTMETA_PROFILE,    /* profiles/<file> */
    ESX_DEPOTMETA_RELEASE,    /* baseimages/, addons/, manifests/ <file> */
    ESX_DEPOTMETA_UNKNOWN,    /* anything else: recorded, named */
};

/* What a member of a metadata zip is, from its name alone. */
enum esx_depotmeta_member esx_depotmeta_classify(const char *name);

/* Parses a profiles/ or release-unit member (`source` names it in messages) into `d`.
 * EFORMAT for a document that does not read; ENOMEM. */
int esx_depotmeta_read(struct esximg_depot *d, const char *source, const char *name,
                       const uint8_t *data, size_t len, struct esximg_err *err);

/* Records a member that is not understood, with the reason (copied). */
int esx_depotmeta_unknown(struct esximg_depot *d, const char *source, const char *reason,
                          struct esximg_err *err);

/* After the whole bundle: two base images of one version (EFORMAT naming both), two add-ons
 * of one name and version (EFORMAT), and a warning for each profile vib-id the bundle lacks. */
int esx_depotmeta_finish(struct esximg_depot *d, struct esximg_err *err);

void esx_depotmeta_free(struct esximg_depot *d);

#endif
