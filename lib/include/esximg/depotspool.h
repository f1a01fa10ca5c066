/* esximg/depotspool.h: the VIBs of an offline bundle spooled to files, for large depots.
 *
 * esximg_depot_read() holds a bundle and its inflated VIBs in memory: right for driver
 * bundles, too much for a full ESXi depot of several hundred MiB.  esximg_depot_spool() reads
 * the zip file sequentially instead, writes each `.vib` member to a file of its own in a
 * folder the caller gives (a unique name of its own, never the member's name), maps it read-only
 * and reads it with esximg_vib_read: only the pages of its ar headers and descriptor are
 * touched, and the payloads stay on disk for a writer to read by offset (esximg/isocreate.h
 * ESXIMG_CONTENT_RANGE).  The metadata zips' `bulletins/<id>.xml` are read as components,
 * and their `profiles/`, `baseimages/`, `addons/` and `manifests/` (lib/depotmeta.c) into a
 * model of the depot without VIB bytes (`depot`), for esximg_depot_resolve; two base images of
 * one version are EFORMAT, a document past the limits ELIMIT, one that does not read a
 * warning and an entry of `depot->unknowns`.
 * A bundle zip nested in the bundle (6.5 Fling downloads) is spooled to the folder too and
 * read the same way, ESX_MAX_ZIP_DEPTH levels deep (deeper is ELIMIT).
 *
 * The limits of esximg_depot_read apply: members, the inflated bytes of the bundle and the
 * ratio of each zip.  The same VIB id twice is kept once when the bytes are the same (a
 * warning), else EFORMAT.  The metadata's checksums are not compared here (`esximg depot ls`
 * does).  Memory use does not grow with the size of the VIBs. */
#ifndef ESXIMG_DEPOTSPOOL_H
#define ESXIMG_DEPOTSPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/depot.h"
#include "esximg/err.h"
#include "esximg/imgdb.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_spool_vib {
    char *member;           /* member path; in a nested bundle "<inner.zip>/<path>" */
    char *file;             /* the spooled copy in the folder */
    const uint8_t *bytes;   /* the copy, mapped read-only (len 0: NULL) */
    size_t len;
    char sha256[65];        /* of the whole .vib */
    struct esximg_vib *vib; /* parsed; borrows `bytes` */
    char *vib_id;
};

struct esximg_spool_component {
    char *member;           /* "metadata.zip/bulletins/<id>.xml" */
    uint8_t *xml;           /* the bulletin's bytes (NUL added) */
    size_t len;
    struct esximg_bulletin *bulletin;
};

struct esximg_depot_spool {
    size_t vib_count;
    struct esximg_spool_vib *vibs;              /* in zip order */
    size_t component_count;
    struct esximg_spool_component *components;  /* in zip order */
    /* The depot's metadata as a model for esximg_depot_resolve: its components, image
     * profiles, base images, add-ons, manifests and members not understood, and one
     * descriptor-only entry per VIB of `vibs`, at the same index (path, vib_id and acceptance
     * set; no bytes, no parsed VIB).  Owned by the spool. */
    struct esximg_depot *depot;
    struct esximg_warnings warnings;
};

struct esximg_spool_opts {
    uint64_t max_bytes;     /* inflated bytes of the whole bundle; 0: ESX_MAX_DEPOT_BYTES */
};

/* Spools the bundle at zip_path into `dir` (an existing folder the caller owns and removes;
 * the files are removed by esximg_depot_spool_free).  ENOTFOUND when it holds no VIB; a VIB
 * that does not read is EFORMAT naming its member.  err->file names the bundle. */
int esximg_depot_spool(const char *zip_path, const char *dir, const struct esximg_spool_opts *o,
                       struct esximg_depot_spool **out, struct esximg_err *err);

/* Unmaps and removes the spooled files.  NULL does nothing. */
void esximg_depot_spool_free(struct esximg_depot_spool *s);

#ifdef __cplusplus
}
#endif
#endif
