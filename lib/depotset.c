/* depotset.c: the depots an image is built from, spooled into one work folder, and their
 * VIBs as the image writer takes them (esximg/depotset.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depotset.h"

static int depotset_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

int esximg_depot_set_new(const char *dir, struct esximg_depot_set **out,
                         struct esximg_err *err)
{
    *out = NULL;
    struct esximg_depot_set *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = esx_strdup(dir))) {
        free(s);
        return depotset_nomem(err);
    }
    *out = s;
    return 0;
}

int esximg_depot_set_add(struct esximg_depot_set *s, const char *zip_path,
                         struct esximg_err *err)
{
    struct esximg_depot_spool **spools = esx_realloc_array(s->spools, s->count + 1,
                                                           sizeof *spools);
    if (!spools)
        return depotset_nomem(err);
    s->spools = spools;
    struct esximg_depot **models = esx_realloc_array(s->models, s->count + 1, sizeof *models);
    if (!models)
        return depotset_nomem(err);
    s->models = models;
    struct esximg_depot_spool *spool = NULL;
    int rc = esximg_depot_spool(zip_path, s->dir, NULL, &spool, err);
    if (rc)
        return rc;
    s->spools[s->count] = spool;
    s->models[s->count] = spool->depot;
    s->count++;
    return 0;
}

/* The spool keeps its model's VIBs at the same indexes as its own. */
static const struct esximg_spool_vib *depotset_spooled(const struct esximg_depot_set *s,
                                                       const struct esximg_depot_vib *v)
{
    for (size_t i = 0; i < s->count; i++) {
        const struct esximg_depot *d = s->models[i];
        if (d->vib_count && v >= d->vibs && v < d->vibs + d->vib_count)
            return &s->spools[i]->vibs[v - d->vibs];
    }
    return NULL;
}

int esximg_depot_set_pick(const struct esximg_depot_set *s,
                          const struct esximg_depot_resolution *res,
                          const struct esximg_spool_vib ***out, struct esximg_err *err)
{
    const struct esximg_spool_vib **vibs = calloc(res->vib_count + 1, sizeof *vibs);
    if (!vibs)
        return depotset_nomem(err);
    for (size_t i = 0; i < res->vib_count; i++) {
        if (!(vibs[i] = depotset_spooled(s, res->vibs[i]))) {
            free(vibs);
            return esximg_err_set(err, ESXIMG_EINVAL, "VIB '%s' of the selection is in no "
                                  "depot", res->vibs[i]->vib_id);
        }
    }
    *out = vibs;
    return 0;
}

int esximg_depot_set_imgbuild_vib(const struct esximg_spool_vib *v,
                                  struct esximg_content *contents,
                                  struct esximg_imgbuild_vib *out, struct esximg_err *err)
{
    const struct esximg_vib *vib = v->vib;
    for (size_t j = 0; j < vib->desc->payload_count; j++) {
        size_t len = 0;
        const uint8_t *data = esximg_vib_member_data(vib, vib->desc->payloads[j].name, &len);
        if (!data)
            return esximg_err_set(err, ESXIMG_EFORMAT, "%s: payload '%s' has no member",
                                  v->member, vib->desc->payloads[j].name);
        /* the member's place in the mapped .vib is its place in the file, past v->offset */
        contents[j] = (struct esximg_content){
            .kind = ESXIMG_CONTENT_RANGE, .path = v->file,
            .offset = v->offset + (uint64_t)(data - v->bytes), .size = len};
    }
    *out = (struct esximg_imgbuild_vib){
        .descriptor = vib->descriptor_bytes, .descriptor_len = vib->descriptor_len,
        .sig = vib->sig, .sig_len = vib->sig_len, .payloads = contents,
        .payload_count = vib->desc->payload_count, .source = v->member};
    return 0;
}

/* A bulletin of a depot as the image writer takes it. */
static struct esximg_imgbuild_component depotset_bulletin(const struct esximg_depot_component *k)
{
    return (struct esximg_imgbuild_component){k->xml, k->xml_len};
}

int esximg_depot_set_imgbuild_components(const struct esximg_depot_resolution *res,
                                         size_t extra, struct esximg_imgbuild_component **out,
                                         struct esximg_imgbuild_component **reserved,
                                         struct esximg_err *err)
{
    *out = calloc(res->component_count + extra + 1, sizeof **out);
    if (!*out)
        return depotset_nomem(err);
    for (size_t i = 0; i < res->component_count; i++)
        (*out)[i] = depotset_bulletin(res->components[i].component);
    if (!reserved)
        return 0;
    if (!(*reserved = calloc(res->reserved_count + 1, sizeof **reserved))) {
        free(*out);
        *out = NULL;
        return depotset_nomem(err);
    }
    for (size_t i = 0; i < res->reserved_count; i++)
        (*reserved)[i] = depotset_bulletin(res->reserved[i]);
    return 0;
}

const struct esximg_imgbuild_release *esximg_depot_set_imgbuild_release(
    const struct esximg_depot_release *r, struct esximg_imgbuild_release *out)
{
    if (!r)
        return NULL;
    *out = (struct esximg_imgbuild_release){r->release_id, r->json, r->json_len};
    return out;
}

void esximg_depot_set_free(struct esximg_depot_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        esximg_depot_spool_free(s->spools[i]);
    free(s->spools);
    free(s->models);
    free(s->dir);
    free(s);
}
