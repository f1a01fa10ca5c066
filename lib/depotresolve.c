/* depotresolve.c: from a selection (an image profile, or a base image with an add-on and
 * components) to the VIBs of an image, across several depots read together, by the rules vLCM
 * and Image Builder follow (docs/depot-format.md, "resolving").  Everything returned points
 * into the depots. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "esximg/vibrel.h"

/* A component name and version asked for by one layer (strings borrowed). */
struct resolve_want {
    const char *name;
    const char *version;
    const char *origin;
};

struct resolve_ctx {
    struct esximg_depot *const *depots;
    size_t depot_count;
    struct esximg_depot_resolution *res;
    struct resolve_want *wants;
    size_t want_count;
};

static void resolve_warn(struct resolve_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void resolve_warn(struct resolve_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (esx_vwarn(&c->res->warnings, 0, NULL, fmt, ap))
        c->res->warnings.dropped++;
    va_end(ap);
}

/* ---------------------------------------------------------------- the wanted components */

static struct resolve_want *resolve_find_want(struct resolve_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->want_count; i++)
        if (strcmp(c->wants[i].name, name) == 0)
            return &c->wants[i];
    return NULL;
}

/* A later layer replaces a same-named component, unless it asks for an older version: the
 * newest counts, as vLCM refuses to downgrade a component of the base image. */
static int resolve_want(struct resolve_ctx *c, const char *name, const char *version,
                        const char *origin, struct esximg_err *err)
{
    struct resolve_want *w = resolve_find_want(c, name);
    if (w) {
        if (version && w->version && esximg_version_cmp(version, w->version) < 0) {
            resolve_warn(c, "%s '%s' %s is older than %s's %s, which is kept", origin, name,
                         version, w->origin, w->version);
            return 0;
        }
        w->version = version;
        w->origin = origin;
        return 0;
    }
    struct resolve_want *grown = esx_realloc_array(c->wants, c->want_count + 1, sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c->wants = grown;
    grown[c->want_count++] = (struct resolve_want){ name, version, origin };
    return 0;
}

static void resolve_unwant(struct resolve_ctx *c, const char *name)
{
    struct resolve_want *w = resolve_find_want(c, name);
    if (!w)
        return;
    size_t i = (size_t)(w - c->wants);
    memmove(&c->wants[i], &c->wants[i + 1], (c->want_count - i - 1) * sizeof *w);
    c->want_count--;
}

/* ---------------------------------------------------------------- finding documents */

/* The one release unit matching, across the depots: `match` says which. Two matches with
 * different bytes are EFORMAT naming both; equal copies (one depot given twice, a base image
 * repeated in an add-on depot) are one. */
static int resolve_unique(const struct esximg_depot_release *found,
                          const struct esximg_depot_release *cand, const char *what,
                          struct esximg_err *err)
{
    if (found->json_len == cand->json_len && memcmp(found->json, cand->json, cand->json_len) == 0)
        return 0;
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s '%s' and '%s' differ for version '%s'", what,
                          found->source, cand->source, cand->version);
}

static int resolve_base_image(struct resolve_ctx *c, const char *version,
                              const struct esximg_depot_release **out, struct esximg_err *err)
{
    const struct esximg_depot_release *found = NULL;
    for (size_t d = 0; d < c->depot_count; d++) {
        const struct esximg_depot *dp = c->depots[d];
        for (size_t i = 0; i < dp->base_image_count; i++) {
            const struct esximg_depot_release *b = &dp->base_images[i];
            if (strcmp(b->version, version) != 0 && strcmp(b->release_id, version) != 0)
                continue;
            if (found) {
                int rc = resolve_unique(found, b, "base images", err);
                if (rc)
                    return rc;
            } else {
                found = b;
            }
        }
    }
    if (!found)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "base image '%s' is in no depot", version);
    *out = found;
    return 0;
}

static int resolve_addon(struct resolve_ctx *c, const struct esximg_depot_pick *pick,
                         const struct esximg_depot_release **out, struct esximg_err *err)
{
    const struct esximg_depot_release *found = NULL;
    for (size_t d = 0; d < c->depot_count; d++) {
        const struct esximg_depot *dp = c->depots[d];
        for (size_t i = 0; i < dp->addon_count; i++) {
            const struct esximg_depot_release *a = &dp->addons[i];
            if (strcmp(a->name, pick->name) != 0 ||
                (pick->version && strcmp(a->version, pick->version) != 0))
                continue;
            if (found && strcmp(a->version, found->version) == 0) {
                int rc = resolve_unique(found, a, "add-ons", err);
                if (rc)
                    return rc;
            } else if (!found || esximg_version_cmp(a->version, found->version) > 0) {
                found = a;
            }
        }
    }
    if (!found)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "add-on '%s%s%s' is in no depot",
                              pick->name, pick->version ? ":" : "",
                              pick->version ? pick->version : "");
    *out = found;
    return 0;
}

/* "7.0.2" supports "7.0.2-0.0.17630552" and "7.0.2.1-...": equal, or a prefix ending at a
 * '.' or '-' boundary. */
static bool resolve_supports(const struct esximg_depot_release *addon, const char *base_version)
{
    if (addon->supported_count == 0)
        return true;     /* nothing stated: nothing to check */
    for (size_t i = 0; i < addon->supported_count; i++) {
        const char *s = addon->supported_base_versions[i];
        size_t n = strlen(s);
        if (strncmp(base_version, s, n) == 0 &&
            (base_version[n] == '\0' || base_version[n] == '.' || base_version[n] == '-'))
            return true;
    }
    return false;
}

/* The depot component of that name and version (NULL: the newest of the name). */
static const struct esximg_depot_component *resolve_component(struct resolve_ctx *c,
                                                              const char *name,
                                                              const char *version)
{
    const struct esximg_depot_component *found = NULL;
    for (size_t d = 0; d < c->depot_count; d++) {
        const struct esximg_depot *dp = c->depots[d];
        for (size_t i = 0; i < dp->component_count; i++) {
            const struct esximg_depot_component *k = &dp->components[i];
            if (!k->name || !k->version || strcmp(k->name, name) != 0)
                continue;
            if (version) {
                if (!found && strcmp(k->version, version) == 0)
                    found = k;
            } else if (!found || esximg_version_cmp(k->version, found->version) > 0) {
                found = k;
            }
        }
    }
    return found;
}

static const struct esximg_depot_vib *resolve_vib(struct resolve_ctx *c, const char *vib_id)
{
    for (size_t d = 0; d < c->depot_count; d++) {
        const struct esximg_depot *dp = c->depots[d];
        for (size_t i = 0; i < dp->vib_count; i++)
            if (strcmp(dp->vibs[i].vib_id, vib_id) == 0)
                return &dp->vibs[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- the result */

static int resolve_add_vib(struct resolve_ctx *c, const struct esximg_depot_vib *v,
                           struct esximg_err *err)
{
    struct esximg_depot_resolution *r = c->res;
    for (size_t i = 0; i < r->vib_count; i++)
        if (strcmp(r->vibs[i]->vib_id, v->vib_id) == 0)
            return 0;
    const struct esximg_depot_vib **grown = esx_realloc_array(r->vibs, r->vib_count + 1,
                                                               sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    r->vibs = grown;
    grown[r->vib_count++] = v;
    return 0;
}

static int resolve_add_component(struct resolve_ctx *c, const struct esximg_depot_component *k,
                                 const char *origin, struct esximg_err *err)
{
    struct esximg_depot_resolution *r = c->res;
    for (size_t i = 0; i < r->component_count; i++)
        if (strcmp(r->components[i].component->id, k->id) == 0)
            return 0;
    struct esximg_depot_chosen *grown = esx_realloc_array(r->components, r->component_count + 1,
                                                          sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    r->components = grown;
    grown[r->component_count++] = (struct esximg_depot_chosen){ k, origin };
    for (size_t i = 0; i < k->vib_id_count; i++) {
        const struct esximg_depot_vib *v = resolve_vib(c, k->vib_ids[i]);
        if (!v)
            return esximg_err_set(err, ESXIMG_ENOTFOUND,
                                  "vib '%s' of component '%s' is in no depot", k->vib_ids[i],
                                  k->id);
        int rc = resolve_add_vib(c, v, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int resolve_vib_cmp(const void *a, const void *b)
{
    const struct esximg_depot_vib *const *x = a, *const *y = b;
    return strcmp((*x)->vib_id, (*y)->vib_id);
}

static int resolve_chosen_cmp(const void *a, const void *b)
{
    const struct esximg_depot_chosen *x = a, *y = b;
    int n = strcmp(x->component->name ? x->component->name : "",
                   y->component->name ? y->component->name : "");
    return n ? n : strcmp(x->component->id, y->component->id);
}

static int resolve_strings(struct esximg_depot_resolution *r, const char *name,
                           const char *vendor, const char *description, struct esximg_err *err)
{
    r->profile_name = name ? esx_strdup(name) : NULL;
    r->profile_vendor = vendor ? esx_strdup(vendor) : NULL;
    r->profile_description = description ? esx_strdup(description) : NULL;
    if ((name && !r->profile_name) || (vendor && !r->profile_vendor) ||
        (description && !r->profile_description))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

/* The lowest acceptance level of the VIBs: an image is only as trusted as its least VIB. */
static enum esximg_acceptance resolve_acceptance(const struct esximg_depot_resolution *r)
{
    enum esximg_acceptance low = ESXIMG_ACCEPT_CERTIFIED;
    for (size_t i = 0; i < r->vib_count; i++)
        if (r->vibs[i]->acceptance < low)
            low = r->vibs[i]->acceptance;
    return r->vib_count ? low : ESXIMG_ACCEPT_UNKNOWN;
}

/* ---------------------------------------------------------------- (a) a profile */

/* Two profiles of one name are one when they list the same VIBs in the same order. */
static bool resolve_same_vibs(const struct esximg_profile *a, const struct esximg_profile *b)
{
    if (a->vib_count != b->vib_count)
        return false;
    for (size_t i = 0; i < a->vib_count; i++)
        if (strcmp(a->vibs[i].vib_id, b->vibs[i].vib_id) != 0)
            return false;
    return true;
}

static int resolve_profile(struct resolve_ctx *c, const char *name, struct esximg_err *err)
{
    const struct esximg_depot_profile *found = NULL;
    for (size_t d = 0; d < c->depot_count; d++) {
        for (size_t i = 0; i < c->depots[d]->profile_count; i++) {
            const struct esximg_depot_profile *p = &c->depots[d]->profiles[i];
            if (strcmp(p->profile->name, name) != 0)
                continue;
            if (!found)
                found = p;
            else if (!resolve_same_vibs(found->profile, p->profile))
                return esximg_err_set(err, ESXIMG_EFORMAT,
                                      "image profiles '%s' and '%s' of one name '%s' list other "
                                      "vibs", found->source, p->source, name);
        }
    }
    if (!found)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "image profile '%s' is in no depot", name);
    const struct esximg_profile *p = found->profile;
    c->res->profile = found;
    int rc = resolve_strings(c->res, p->name, p->creator, p->description, err);
    for (size_t i = 0; i < p->vib_count && !rc; i++) {
        const struct esximg_depot_vib *v = resolve_vib(c, p->vibs[i].vib_id);
        if (!v)
            return esximg_err_set(err, ESXIMG_ENOTFOUND,
                                  "vib '%s' of image profile '%s' is in no depot",
                                  p->vibs[i].vib_id, name);
        rc = resolve_add_vib(c, v, err);
    }
    /* the components whose VIBs are all in the profile, for the image database */
    for (size_t d = 0; d < c->depot_count && !rc; d++) {
        for (size_t k = 0; k < c->depots[d]->component_count && !rc; k++) {
            const struct esximg_depot_component *comp = &c->depots[d]->components[k];
            bool all = comp->vib_id_count > 0;
            for (size_t i = 0; i < comp->vib_id_count && all; i++)
                all = esximg_profile_find(p, comp->vib_ids[i]) != NULL;
            if (all)
                rc = resolve_add_component(c, comp, "profile", err);
        }
    }
    return rc;
}

/* Whether the result holds a release unit's component at the unit's version. */
static bool resolve_holds(const struct esximg_depot_resolution *r,
                          const struct esximg_release_component *want)
{
    for (size_t j = 0; j < r->component_count; j++) {
        const struct esximg_depot_component *have = r->components[j].component;
        if (have->name && have->version && !strcmp(have->name, want->name) &&
            !strcmp(have->version, want->version))
            return true;
    }
    return false;
}

/* The base image's components the result does not hold at the base image's version (an
 * add-on or a newer component replaced or removed them), as a host keeps them in
 * reservedComponents/: those a depot has. */
static int resolve_reserved(struct resolve_ctx *c, struct esximg_err *err)
{
    struct esximg_depot_resolution *r = c->res;
    const struct esximg_depot_release *b = r->base_image;
    for (size_t i = 0; i < b->component_count; i++) {
        const struct esximg_release_component *want = &b->components[i];
        const struct esximg_depot_component *k = resolve_holds(r, want) ? NULL
                                                 : resolve_component(c, want->name,
                                                                     want->version);
        if (!k)
            continue;
        const struct esximg_depot_component **grown =
            esx_realloc_array(r->reserved, r->reserved_count + 1, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        r->reserved = grown;
        grown[r->reserved_count++] = k;
    }
    return 0;
}

/* The base image a profile is made of: one whose components are all in the result at their
 * versions (the newest such), as a host installed from a VMware ISO reports one. */
static const struct esximg_depot_release *resolve_profile_base(const struct resolve_ctx *c)
{
    const struct esximg_depot_release *best = NULL;
    for (size_t d = 0; d < c->depot_count; d++) {
        for (size_t i = 0; i < c->depots[d]->base_image_count; i++) {
            const struct esximg_depot_release *b = &c->depots[d]->base_images[i];
            bool all = b->component_count > 0;
            for (size_t k = 0; all && k < b->component_count; k++)
                all = resolve_holds(c->res, &b->components[k]);
            if (all && (!best || esximg_version_cmp(b->version, best->version) > 0))
                best = b;
        }
    }
    return best;
}

/* ---------------------------------------------------------------- (b) base image and more */

static int resolve_layers(struct resolve_ctx *c, const struct esximg_depot_selection *sel,
                          struct esximg_err *err)
{
    struct esximg_depot_resolution *r = c->res;
    int rc = resolve_base_image(c, sel->base_image, &r->base_image, err);
    for (size_t i = 0; !rc && i < r->base_image->component_count; i++)
        rc = resolve_want(c, r->base_image->components[i].name,
                          r->base_image->components[i].version, "base image", err);
    if (!rc && sel->addon)
        rc = resolve_addon(c, sel->addon, &r->addon, err);
    if (!rc && r->addon && !resolve_supports(r->addon, r->base_image->version))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "add-on '%s' does not support base image version '%s'",
                              r->addon->release_id, r->base_image->version);
    for (size_t i = 0; !rc && r->addon && i < r->addon->removed_count; i++)
        resolve_unwant(c, r->addon->removed_components[i]);
    for (size_t i = 0; !rc && r->addon && i < r->addon->component_count; i++)
        rc = resolve_want(c, r->addon->components[i].name, r->addon->components[i].version,
                          "add-on", err);
    for (size_t i = 0; !rc && i < sel->component_count; i++) {
        const struct esximg_depot_pick *pick = &sel->components[i];
        const char *version = pick->version;
        /* checked here: an older version than a lower layer's would only be a warning
         * below, and one no depot has must not pass as that */
        if (version && !resolve_component(c, pick->name, version))
            return esximg_err_set(err, ESXIMG_ENOTFOUND,
                                  "component '%s' version '%s' is in no depot", pick->name,
                                  version);
        if (!version) {
            const struct esximg_depot_component *newest = resolve_component(c, pick->name, NULL);
            if (!newest)
                return esximg_err_set(err, ESXIMG_ENOTFOUND, "component '%s' is in no depot",
                                      pick->name);
            version = newest->version;
        }
        rc = resolve_want(c, pick->name, version, "component", err);
    }
    for (size_t i = 0; !rc && i < c->want_count; i++) {
        const struct resolve_want *w = &c->wants[i];
        const struct esximg_depot_component *k = resolve_component(c, w->name, w->version);
        if (!k)
            return esximg_err_set(err, ESXIMG_ENOTFOUND,
                                  "component '%s' version '%s' (%s) is in no depot", w->name,
                                  w->version, w->origin);
        rc = resolve_add_component(c, k, w->origin, err);
    }
    if (!rc)
        rc = resolve_reserved(c, err);
    if (rc)
        return rc;
    /* the profile a host shows for an add-on image is named after the add-on's releaseID */
    const struct esximg_depot_release *top = r->addon ? r->addon : r->base_image;
    return resolve_strings(r, top->release_id, top->vendor,
                           top->description ? top->description : top->summary, err);
}

/* ---------------------------------------------------------------- public */

int esximg_depot_resolve(struct esximg_depot *const *depots, size_t n,
                         const struct esximg_depot_selection *sel,
                         struct esximg_depot_resolution **out, struct esximg_err *err)
{
    if (!sel || (n && !depots) || (!sel->profile == !sel->base_image))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "give either an image profile or a base image version");
    if (sel->profile && (sel->addon || sel->component_count))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "an image profile takes no add-on and no components");
    struct resolve_ctx c = { .depots = depots, .depot_count = n };
    if (!(c.res = calloc(1, sizeof *c.res)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = sel->profile ? resolve_profile(&c, sel->profile, err) : resolve_layers(&c, sel, err);
    if (!rc && sel->profile)
        c.res->base_image = resolve_profile_base(&c);
    free(c.wants);
    if (rc) {
        esximg_depot_resolution_free(c.res);
        return rc;
    }
    struct esximg_depot_resolution *r = c.res;
    if (r->vib_count)
        qsort(r->vibs, r->vib_count, sizeof *r->vibs, resolve_vib_cmp);
    if (r->component_count)
        qsort(r->components, r->component_count, sizeof *r->components, resolve_chosen_cmp);
    r->acceptance = resolve_acceptance(r);
    *out = r;
    return 0;
}

void esximg_depot_resolution_free(struct esximg_depot_resolution *r)
{
    if (!r)
        return;
    free(r->vibs);
    free(r->components);
    free(r->reserved);
    free(r->profile_name);
    free(r->profile_vendor);
    free(r->profile_description);
    esx_warnings_free(&r->warnings);
    free(r);
}
