/* esximg/depotspool.h: the VIBs of an offline bundle spooled to files, for large depots.
 *
 * esximg_depot_read() holds a bundle and its inflated VIBs in memory: right for driver
 * bundles, too much for a full ESXi depot of several hundred MiB.  esximg_depot_spool() reads
 * the zip file sequentially instead.  A `.vib` member stored (method 0) in the bundle's own
 * zip (esximg_depot_write stores them) is not copied: its place in the bundle is found from
 * the zip's central directory and local header (bounds-checked), and `file` is the bundle,
 * `offset` where the .vib starts.  Any other `.vib` member (deflated, or in a nested bundle)
 * is written to a file of its own in a folder the caller gives (a unique name of its own,
 * never the member's name).  Either way the .vib is mapped read-only and read with
 * esximg_vib_read: only the pages of its ar headers and descriptor are touched, and the
 * payloads stay on disk for a writer to read by offset (esximg/isocreate.h
 * ESXIMG_CONTENT_RANGE at `offset` + the payload's place in `bytes`).  A stored member is not
 * checked by a zip CRC: a writer should check each payload against its descriptor's sha-256
 * (esximg_content.sha256).  The metadata zips' `bulletins/<id>.xml` are read as components,
 * and their `profiles/`, `baseimages/`, `addons/` and `manifests/` (lib/depotmeta.c) into a
 * model of the depot without VIB bytes (`depot`), for esximg_depot_resolve; two base images of
 * one version are EFORMAT, a document past the limits ELIMIT, one that does not read a
 * warning and an entry of `depot->unknowns`.
 * A bundle zip nested in the bundle (6.5 Fling downloads) is spooled to the folder too and
 * read the same way, ESX_MAX_ZIP_DEPTH levels deep (deeper is ELIMIT).
 *
 * The limits of esximg_depot_read apply: members, the inflated bytes of the bundle and the
 * ratio of each zip.  The same VIB id twice is kept once when the bytes are the same (a
 * warning; sizes are compared first, the sha-256 of both only when they are equal), else
 * EFORMAT.  The metadata's checksums are not compared here (`esximg depot ls`
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
    char *file;             /* the spooled copy in the folder, or the bundle itself (in_place) */
    uint64_t offset;        /* where the .vib starts in `file` (0 for a spooled copy) */
    bool in_place;          /* a stored member of the bundle, read where it is: never removed */
    const uint8_t *bytes;   /* the .vib, mapped read-only (len 0: NULL) */
    size_t len;
    char sha256[65];        /* of the whole .vib: computed only when another VIB has its id
                             * and its size ("" until then) */
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
