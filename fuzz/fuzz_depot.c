/* fuzz_depot.c: esximg_depot_read on arbitrary bytes (capped at 1 MiB, with a 64 MiB inflate
 * budget so a bomb costs little), then a walk of every field of the model, and for a full
 * depot a resolution of its first profile, or first base image and add-on.
 *
 * A zip's CRCs stop nearly every mutation of its members, so input that does not start with
 * "PK" is taken as members to zip here (stored, CRCs right): records split by "@@1@", each
 * "<name>\n<bytes>"; a member named *.zip whose bytes do not start with "PK" is itself built
 * the same way from records split by "@@2@".  Raw zips still reach the zip reader itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "esximg/depot.h"

#define FUZZ_MAX_INPUT ((size_t)1 << 20)
#define FUZZ_MAX_MEMBERS 64

static uint8_t *fuzz_zip(const uint8_t *data, size_t size, int depth, size_t *out_len);

static int fuzz_add(struct archive *a, const uint8_t *rec, size_t n, int depth)
{
    const uint8_t *nl = memchr(rec, '\n', n);
    if (!nl || nl == rec || memchr(rec, '\0', (size_t)(nl - rec)))
        return 0;             /* libarchive's writer fails for good on an empty name */
    char name[256];
    size_t name_len = (size_t)(nl - rec) < sizeof name - 1 ? (size_t)(nl - rec) : sizeof name - 1;
    memcpy(name, rec, name_len);
    name[name_len] = '\0';
    const uint8_t *body = nl + 1;
    size_t body_len = n - (size_t)(body - rec);
    uint8_t *built = NULL;
    if (depth == 1 && name_len > 4 && memcmp(name + name_len - 4, ".zip", 4) == 0 &&
        !(body_len >= 2 && body[0] == 'P' && body[1] == 'K')) {
        built = fuzz_zip(body, body_len, 2, &body_len);
        if (!built)
            return -1;
        body = built;
    }
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)body_len);
    int rc = archive_write_header(a, e) == ARCHIVE_OK &&
                     archive_write_data(a, body, body_len) == (la_ssize_t)body_len
                 ? 0
                 : -1;
    archive_entry_free(e);
    free(built);
    return rc;
}

static uint8_t *fuzz_zip(const uint8_t *data, size_t size, int depth, size_t *out_len)
{
    const char *sep = depth == 1 ? "@@1@" : "@@2@";
    size_t cap = 2 * size + 256 * FUZZ_MAX_MEMBERS + 4096, used = 0;
    uint8_t *buf = malloc(cap);
    struct archive *a = archive_write_new();
    if (!buf || !a || archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_set_options(a, "zip:compression=store") != ARCHIVE_OK ||
        archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
        goto fail;
    for (int members = 0; size > 0 && members < FUZZ_MAX_MEMBERS; members++) {
        const uint8_t *end = memmem(data, size, sep, 4);
        size_t n = end ? (size_t)(end - data) : size;
        if (fuzz_add(a, data, n, depth) != 0)
            goto fail;
        size_t step = end ? n + 4 : n;
        data += step;
        size -= step;
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        goto fail;
    archive_write_free(a);
    *out_len = used;
    return buf;
fail:
    if (a)
        archive_write_free(a);
    free(buf);
    return NULL;
}

static size_t fuzz_sink;

static void fuzz_touch(const char *s)
{
    if (s)
        fuzz_sink += strlen(s);
}

static void fuzz_walk(const struct esximg_depot *d)
{
    fuzz_touch(esximg_depot_kind_name(d->kind));
    fuzz_touch(d->vendor_name);
    fuzz_touch(d->vendor_code);
    for (size_t i = 0; i < d->meta_url_count; i++) {
        fuzz_touch(d->meta_urls[i].product_id);
        fuzz_touch(d->meta_urls[i].version);
        fuzz_touch(d->meta_urls[i].url);
    }
    for (size_t i = 0; i < d->vib_count; i++) {
        const struct esximg_depot_vib *v = &d->vibs[i];
        fuzz_touch(v->path);
        fuzz_touch(v->container);
        fuzz_touch(v->vib_id);
        fuzz_touch(v->sha256);
        fuzz_touch(v->meta_path);
        fuzz_touch(v->meta_checksum);
        fuzz_touch(esximg_depot_check_name(v->check));
        fuzz_touch(v->vib->desc->name);
        fuzz_touch(v->vib->desc->version);
        fuzz_touch(esximg_acceptance_name(v->acceptance));
        if (v->len)
            fuzz_sink += v->bytes[v->len - 1];
        for (size_t c = 0; c < v->component_count; c++)
            fuzz_touch(d->components[v->components[c]].id);
        char *name = NULL;
        if (esximg_depot_vib_filename(v, &name, NULL) == 0) {
            fuzz_touch(name);
            free(name);
        }
        if (esximg_depot_find(d, v->vib_id) == NULL)
            abort();          /* every VIB must be found by its own id */
    }
    for (size_t i = 0; i < d->component_count; i++) {
        const struct esximg_depot_component *c = &d->components[i];
        fuzz_touch(c->id);
        fuzz_touch(c->name);
        fuzz_touch(c->version);
        fuzz_touch(c->name_ui);
        fuzz_touch(c->version_ui);
        for (size_t k = 0; k < c->vib_id_count; k++)
            fuzz_touch(c->vib_ids[k]);
    }
    for (size_t i = 0; i < d->warnings.count; i++)
        fuzz_touch(d->warnings.items[i].msg);
}

static void fuzz_walk_release(const struct esximg_depot_release *r)
{
    fuzz_touch(r->source);
    fuzz_touch(r->release_id);
    fuzz_touch(r->version);           /* required: never NULL on the model */
    if (!r->version || !r->release_id)
        abort();
    fuzz_touch(r->name);
    fuzz_touch(r->vendor);
    for (size_t i = 0; i < r->component_count; i++) {
        fuzz_touch(r->components[i].name);
        fuzz_touch(r->components[i].version);
    }
    for (size_t i = 0; i < r->removed_count; i++)
        fuzz_touch(r->removed_components[i]);
    for (size_t i = 0; i < r->supported_count; i++)
        fuzz_touch(r->supported_base_versions[i]);
    if (r->json_len)
        fuzz_sink += (uint8_t)r->json[r->json_len - 1];
}

/* The full-depot members, then a resolution of what the depot offers: a profile, and a base
 * image with its first add-on. */
static void fuzz_walk_full(struct esximg_depot *d)
{
    for (size_t i = 0; i < d->profile_count; i++)
        fuzz_touch(d->profiles[i].profile->name);
    for (size_t i = 0; i < d->base_image_count; i++)
        fuzz_walk_release(&d->base_images[i]);
    for (size_t i = 0; i < d->addon_count; i++)
        fuzz_walk_release(&d->addons[i]);
    for (size_t i = 0; i < d->manifest_count; i++)
        fuzz_walk_release(&d->manifests[i]);
    for (size_t i = 0; i < d->unknown_count; i++) {
        fuzz_touch(d->unknowns[i].path);
        fuzz_touch(d->unknowns[i].reason);
    }
    struct esximg_depot *const depots[2] = { d, d };
    struct esximg_depot_pick addon = {0};
    struct esximg_depot_selection sel = {0};
    if (d->profile_count)
        sel.profile = d->profiles[0].profile->name;
    else if (d->base_image_count)
        sel.base_image = d->base_images[0].version;
    else
        return;
    if (sel.base_image && d->addon_count) {
        addon.name = d->addons[0].name;
        sel.addon = &addon;
    }
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_resolve(depots, 2, &sel, &r, &err) == 0) {
        for (size_t i = 0; i < r->vib_count; i++)
            fuzz_touch(r->vibs[i]->vib_id);
        for (size_t i = 0; i + 1 < r->vib_count; i++)
            if (strcmp(r->vibs[i]->vib_id, r->vibs[i + 1]->vib_id) >= 0)
                abort();      /* sorted, each once */
        fuzz_touch(r->profile_name);
        esximg_depot_resolution_free(r);
    } else if (r != NULL || err.msg[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    uint8_t *built = NULL;
    if (!(size >= 2 && data[0] == 'P' && data[1] == 'K')) {
        size_t built_len = 0;
        built = fuzz_zip(data, size, 1, &built_len);
        if (!built)
            return 0;
        data = built;
        size = built_len;
    }
    struct esximg_depot_opts o = { .max_bytes = (uint64_t)64 << 20 };
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_read(data, size, &o, &d, &err) == 0) {
        fuzz_walk(d);
        fuzz_walk_full(d);
        esximg_depot_free(d);
    } else if (d != NULL || err.code == 0 || err.msg[0] == '\0') {
        abort();              /* a failure sets the error and leaves the out-param alone */
    }
    free(built);
    return 0;
}
