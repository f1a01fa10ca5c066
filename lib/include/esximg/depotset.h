/* esximg/depotset.h: the depots an image is built from, spooled into one work folder, and
 * the VIBs a resolution picks from them made ready for the image writer.
 *
 * `esximg build` and `esximg edit --base` read their depots so (esximg/depotspool.h): each
 * depot's metadata model goes to esximg_depot_resolve, and the VIBs' bytes stay on disk (a
 * .vib stored in the depot's zip is read in place, any other is spooled to the folder), so
 * that memory does not grow with the depots.  A VIB given to the image writer carries its
 * payloads as ESXIMG_CONTENT_RANGE contents of the depot or spooled file: they are read only
 * while the image is written, and checked there against the descriptor's sha-256. */
#ifndef ESXIMG_DEPOTSET_H
#define ESXIMG_DEPOTSET_H

#include <stddef.h>

#include "esximg/depot.h"
#include "esximg/depotspool.h"
#include "esximg/err.h"
#include "esximg/imgbuild.h"
#include "esximg/isocreate.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_depot_set {
    char *dir;                              /* the work folder (the caller's, a copy) */
    size_t count;
    struct esximg_depot_spool **spools;     /* in the order added */
    struct esximg_depot **models;           /* spools[i]->depot, for esximg_depot_resolve */
};

/* An empty set whose depots will be spooled into `dir`, an existing folder the caller owns
 * and removes (after esximg_depot_set_free, which removes the files spooled to it). */
int esximg_depot_set_new(const char *dir, struct esximg_depot_set **out,
                         struct esximg_err *err);

/* Spools the depot at zip_path (esximg_depot_spool, default limits) and adds it to the set;
 * its warnings are s->spools[s->count - 1]->warnings.  err->file names the depot. */
int esximg_depot_set_add(struct esximg_depot_set *s, const char *zip_path,
                         struct esximg_err *err);

/* The spooled VIBs that the resolution's descriptor-only entries stand for, in its order:
 * *out (to free; the VIBs borrowed from the set).  The resolution must have been made from
 * s->models; a VIB found in none is EINVAL naming it. */
int esximg_depot_set_pick(const struct esximg_depot_set *s,
                          const struct esximg_depot_resolution *res,
                          const struct esximg_spool_vib ***out, struct esximg_err *err);

/* A spooled VIB as the image writer takes it: its descriptor and signature borrowed from the
 * VIB, and one RANGE content per payload of its descriptor, in `contents` (room for
 * v->vib->desc->payload_count, filled here), each the payload's member in v->file.  EFORMAT
 * names a payload without a member. */
int esximg_depot_set_imgbuild_vib(const struct esximg_spool_vib *v,
                                  struct esximg_content *contents,
                                  struct esximg_imgbuild_vib *out, struct esximg_err *err);

/* The resolution's components (bulletins) as the image writer takes them, borrowed from the
 * depots: *out holds res->component_count of them in its order, then room for `extra` more
 * the caller adds; *reserved (when reserved is not NULL) its res->reserved_count reserved
 * ones.  Both to free. */
int esximg_depot_set_imgbuild_components(const struct esximg_depot_resolution *res,
                                         size_t extra, struct esximg_imgbuild_component **out,
                                         struct esximg_imgbuild_component **reserved,
                                         struct esximg_err *err);

/* A release unit (base image, add-on) as the image writer takes it, in *out, borrowed from
 * the depot; returns out, or NULL when r is NULL. */
const struct esximg_imgbuild_release *esximg_depot_set_imgbuild_release(
    const struct esximg_depot_release *r, struct esximg_imgbuild_release *out);

/* Frees the spools, which removes the files they spooled (never the depots, nor the folder).
 * NULL does nothing. */
void esximg_depot_set_free(struct esximg_depot_set *s);

#ifdef __cplusplus
}
#endif
#endif
