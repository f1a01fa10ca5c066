/* imgrebase.c: an installer image moved to the VMware VIBs of a newer patch or update depot,
 * the user's added VIBs kept (esximg/imgrebase.h says the rules; docs/edit.md why). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_limits.h"
#include "esx_private.h"
#include "esximg/bootcfg.h"
#include "esximg/depot.h"
#include "esximg/depotset.h"
#include "esximg/imgbuild.h"
#include "esximg/imgrebase.h"
#include "esximg/iso.h"
#include "esximg/vibrel.h"

/* ---------------------------------------------------------------- the selection rules */

static size_t rebase_find_name(const struct esximg_descriptor *const *list, size_t n,
                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && list[i]->name && !strcmp(list[i]->name, name))
            return i;
    return SIZE_MAX;
}

static enum esximg_rebase_action rebase_compare(const struct esximg_descriptor *mine,
                                                const struct esximg_descriptor *theirs)
{
    int c = esximg_version_cmp(theirs->version, mine->version);
    return c > 0 ? ESXIMG_REBASE_UPDATE : c == 0 ? ESXIMG_REBASE_SAME : ESXIMG_REBASE_DOWNGRADE;
}

int esximg_rebase_select(const struct esximg_descriptor *const *image, size_t ni,
                         const struct esximg_descriptor *const *depot, size_t nd,
                         bool allow_downgrade, struct esximg_rebase_choice **out, size_t *n,
                         struct esximg_warnings *problems, struct esximg_err *err)
{
    struct esximg_rebase_choice *c = calloc(ni + nd + 1, sizeof *c);
    if (!c)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < ni; i++) {
        if (!image[i] || !image[i]->name)
            continue;
        size_t d = rebase_find_name(depot, nd, image[i]->name);
        enum esximg_rebase_action a = d == SIZE_MAX ? ESXIMG_REBASE_KEEP
                                                    : rebase_compare(image[i], depot[d]);
        c[count++] = (struct esximg_rebase_choice){a, i, d};
        if (a == ESXIMG_REBASE_DOWNGRADE && !allow_downgrade)
            rc = esx_warn(problems, 0, err, "'%s': the image has %s, the depot %s: taking it "
                          "is a downgrade (--allow-downgrade takes it)", image[i]->name,
                          image[i]->version, depot[d]->version);
    }
    for (size_t d = 0; !rc && d < nd; d++)
        if (depot[d] && depot[d]->name && rebase_find_name(image, ni, depot[d]->name) == SIZE_MAX)
            c[count++] = (struct esximg_rebase_choice){ESXIMG_REBASE_ADD, SIZE_MAX, d};
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    *n = count;
    return 0;
}

static bool rebase_warning_in(const struct esximg_warnings *w, const char *msg)
{
    for (size_t i = 0; i < w->count; i++)
        if (!strcmp(w->items[i].msg, msg))
            return true;
    return false;
}

/* The same hint `edit` gives: ESXi provides one vmkapi_incompat_X per update, so a driver
 * that depends on another update's was built for that update. */
static const char *rebase_relation_hint(const char *msg)
{
    return strstr(msg, "depends on 'vmkapi_incompat_") ? ": the VIB is built for another ESXi "
                                                         "update" : "";
}

int esximg_rebase_check_relations(const struct esximg_descriptor *const *before, size_t nb,
                                  const struct esximg_descriptor *const *after, size_t na,
                                  struct esximg_warnings *warnings,
                                  struct esximg_warnings *problems, struct esximg_err *err)
{
    struct esximg_warnings wb = {0}, wa = {0};
    int rc = esximg_vibrel_check(before, nb, &wb, err);
    if (!rc)
        rc = esximg_vibrel_check(after, na, &wa, err);
    for (size_t i = 0; !rc && i < wa.count; i++) {
        const char *msg = wa.items[i].msg;
        if (rebase_warning_in(&wb, msg))
            rc = esx_warn(warnings, 0, err, "%s (already so in the input image)", msg);
        else
            rc = esx_warn(problems, 0, err, "%s%s (--no-deps skips this check)", msg,
                          rebase_relation_hint(msg));
    }
    if (!rc && wa.dropped)
        rc = esx_warn(problems, 0, err, "%zu more relationship failures (--no-deps skips this "
                      "check)", wa.dropped);
    esx_warnings_free(&wb);
    esx_warnings_free(&wa);
    return rc;
}

/* ---------------------------------------------------------------- the plan */

struct esximg_rebase_state {
    struct esximg_depot_set *depots;                /* spooled into o->work_dir */
    struct esximg_depot_resolution *res;            /* borrows from the depots' models */
    const struct esximg_spool_vib **depot_vibs;     /* res->vibs order, borrowed */
    const struct esximg_descriptor **image_descs;   /* img->vibs order, NULL without one */
    const struct esximg_descriptor **depot_descs;   /* res->vibs order */
    struct esximg_rebase_choice *choices;
    size_t choice_count;
    struct esximg_imgbuild_vib *vibs;
    struct esximg_content *contents;
    struct esximg_imgbuild_component *comps;
    size_t comp_count;
    char **kernelopts;
    size_t kernelopt_count;
    char *title;
    uint8_t *ks;
    size_t ks_len;
    int64_t mtime;
    char *addon_id;             /* the image's add-on record, kept: its releaseID */
    struct esximg_imgbuild *build;
};

static int rebase_line(struct esximg_rebase_plan *p, struct esximg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rebase_line(struct esximg_rebase_plan *p, struct esximg_err *err, const char *fmt, ...)
{
    char **grown = realloc(p->lines, (p->line_count + 1) * sizeof *grown);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    p->lines = grown;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&p->lines[p->line_count], fmt, ap);
    va_end(ap);
    if (n < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    p->line_count++;
    return 0;
}

static int rebase_read_depots(struct esximg_rebase_state *st, const struct esximg_rebase_opts *o,
                              struct esximg_err *err)
{
    if (!o->depot_count)
        return esximg_err_set(err, ESXIMG_EINVAL, "no depot given");
    if (!o->work_dir)
        return esximg_err_set(err, ESXIMG_EINVAL, "no work folder given for the depots");
    int rc = esximg_depot_set_new(o->work_dir, &st->depots, err);
    for (size_t i = 0; !rc && i < o->depot_count; i++)
        rc = esximg_depot_set_add(st->depots, o->depots[i], err);
    return rc;
}

/* The text after the last '-' of a profile name: "standard", "no-tools" keeps only "tools". */
static const char *rebase_profile_flavour(const char *name)
{
    const char *dash = strrchr(name, '-');
    return dash ? dash + 1 : name;
}

/* Which profile of the depots: the image's name, else the same flavour, else the only one. */
static const char *rebase_pick_profile(const struct esximg_rebase_state *st, const char *mine)
{
    const char *same_flavour = NULL, *any = NULL;
    size_t names = 0;
    for (size_t i = 0; i < st->depots->count; i++)
        for (size_t k = 0; k < st->depots->models[i]->profile_count; k++) {
            const char *name = st->depots->models[i]->profiles[k].profile->name;
            if (mine && !strcmp(name, mine))
                return name;
            if (mine && !same_flavour &&
                !strcmp(rebase_profile_flavour(name), rebase_profile_flavour(mine)))
                same_flavour = name;
            if (!any || strcmp(any, name))
                names++;
            any = name;
        }
    return same_flavour ? same_flavour : names == 1 ? any : NULL;
}

static const struct esximg_depot_release *rebase_newest_base(const struct esximg_rebase_state *st)
{
    const struct esximg_depot_release *best = NULL;
    for (size_t i = 0; i < st->depots->count; i++)
        for (size_t k = 0; k < st->depots->models[i]->base_image_count; k++) {
            const struct esximg_depot_release *r = &st->depots->models[i]->base_images[k];
            if (!best || esximg_version_cmp(r->version, best->version) > 0)
                best = r;
        }
    return best;
}

static int rebase_resolve(struct esximg_rebase_state *st, const struct esximg_image *img,
                          struct esximg_rebase_plan *p, struct esximg_err *err)
{
    const char *mine = img->db && img->db->profile ? img->db->profile->name : NULL;
    struct esximg_depot_selection sel = {0};
    bool any_profile = false;
    for (size_t i = 0; i < st->depots->count; i++)
        any_profile |= st->depots->models[i]->profile_count > 0;
    const struct esximg_depot_release *base = NULL;
    if (any_profile) {
        if (!(sel.profile = rebase_pick_profile(st, mine)))
            return esximg_err_set(err, ESXIMG_EINVAL, "the depots hold several image profiles, "
                                  "none named like the image's '%s' or of its kind",
                                  mine ? mine : "(none)");
    } else if ((base = rebase_newest_base(st))) {
        sel.base_image = base->version;
    } else {
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "the depots hold no image profile and no "
                              "base image: a patch or update depot of VMware has them");
    }
    int rc = esximg_depot_resolve(st->depots->models, st->depots->count, &sel, &st->res, err);
    if (!rc)
        rc = esximg_depot_set_pick(st->depots, st->res, &st->depot_vibs, err);
    if (rc)
        return rc;
    if (asprintf(&p->depot_set, "%s %s", any_profile ? "profile" : "base image",
                 any_profile ? sel.profile : base->release_id ? base->release_id
                                                              : base->version) < 0) {
        p->depot_set = NULL;
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    return 0;
}

static int rebase_descs(struct esximg_rebase_state *st, const struct esximg_image *img,
                        struct esximg_err *err)
{
    st->image_descs = calloc(img->vib_count + 1, sizeof *st->image_descs);
    st->depot_descs = calloc(st->res->vib_count + 1, sizeof *st->depot_descs);
    if (!st->image_descs || !st->depot_descs)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < img->vib_count; i++)
        st->image_descs[i] = img->vibs[i].desc;
    for (size_t i = 0; i < st->res->vib_count; i++)
        st->depot_descs[i] = st->depot_vibs[i]->vib->desc;
    return 0;
}

static const char *const rebase_action_words[] = {
    [ESXIMG_REBASE_KEEP] = "keep", [ESXIMG_REBASE_SAME] = "same",
    [ESXIMG_REBASE_UPDATE] = "update", [ESXIMG_REBASE_DOWNGRADE] = "downgrade",
    [ESXIMG_REBASE_ADD] = "add",
};

static int rebase_describe(struct esximg_rebase_plan *p, struct esximg_err *err)
{
    const struct esximg_rebase_state *st = p->state;
    int rc = rebase_line(p, err, "depot set: %s", p->depot_set);
    for (size_t i = 0; !rc && i < st->choice_count; i++) {
        const struct esximg_rebase_choice *c = &st->choices[i];
        const struct esximg_descriptor *mine = c->image != SIZE_MAX ? st->image_descs[c->image]
                                                                    : NULL;
        const struct esximg_descriptor *theirs = c->depot != SIZE_MAX
                                                     ? st->depot_descs[c->depot] : NULL;
        const struct esximg_descriptor *named = mine ? mine : theirs;
        size_t *counter[] = {&p->kept, &p->same, &p->updated, &p->downgraded, &p->added};
        (*counter[c->action])++;
        rc = rebase_line(p, err, "%-9s %s %s%s%s", rebase_action_words[c->action], named->name,
                         mine ? mine->version : "", mine && theirs ? " -> " : "",
                         theirs ? theirs->version : "");
        if (!strcmp(named->name, "esx-base")) {
            free(p->old_version);
            free(p->new_version);
            p->old_version = mine ? esx_strdup(mine->version) : NULL;
            p->new_version = esx_strdup(theirs ? theirs->version : mine->version);
        }
    }
    return rc;
}

/* The set after the rebase, for the relationship check. */
static int rebase_check(struct esximg_rebase_plan *p, const struct esximg_image *img,
                        struct esximg_err *err)
{
    struct esximg_rebase_state *st = p->state;
    const struct esximg_descriptor **after = calloc(st->choice_count + 1, sizeof *after);
    if (!after)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t na = 0;
    for (size_t i = 0; i < st->choice_count; i++) {
        const struct esximg_rebase_choice *c = &st->choices[i];
        after[na++] = c->action == ESXIMG_REBASE_KEEP ? st->image_descs[c->image]
                                                      : st->depot_descs[c->depot];
    }
    int rc = esximg_rebase_check_relations(st->image_descs, img->vib_count, after, na,
                                           &p->warnings, &p->problems, err);
    free(after);
    return rc;
}

static bool rebase_is_module(const char *type)
{
    static const char *const types[] = {"boot", "vgz", "tgz", "installer_vgz", "vzstd"};
    for (size_t i = 0; type && i < sizeof types / sizeof *types; i++)
        if (!strcmp(type, types[i]))
            return true;
    return false;
}

static const struct esximg_imgdb_file *rebase_db_file(const struct esximg_imgdb *db,
                                                      const char *xml_file)
{
    for (size_t i = 0; xml_file && i < db->vib_count; i++) {
        const char *slash = strrchr(db->vibs[i].path, '/');
        if (!strcmp(slash ? slash + 1 : db->vibs[i].path, xml_file))
            return &db->vibs[i];
    }
    return NULL;
}

/* A kept VIB: its descriptor and signature from IMGDB.TGZ, its modules from the input ISO. */
static int rebase_kept_vib(struct esximg_rebase_plan *p, const struct esximg_image *img,
                           const struct esximg_image_vib *v, struct esximg_content *contents,
                           struct esximg_imgbuild_vib *out, struct esximg_err *err)
{
    const struct esximg_imgdb_file *xml = v->orig_xml ? v->orig_xml
                                                      : rebase_db_file(img->db, v->xml_file);
    if (!xml || !xml->data)
        return esx_warn(&p->problems, 0, err, "'%s': its descriptor is not in the image "
                        "database: it cannot be kept", v->vib_id);
    for (size_t j = 0; j < v->desc->payload_count; j++) {
        const struct esximg_payload *pl = &v->desc->payloads[j];
        const struct esximg_iso_entry *e = rebase_is_module(pl->type)
                                               ? esximg_image_payload_entry(img, v, pl->name)
                                               : NULL;
        if (e && e->extents > 1)
            return esx_warn(&p->problems, 0, err, "'%s': module %s is stored in %u extents: "
                            "it cannot be read as one range", v->vib_id, e->path, e->extents);
        if (!e)
            return esx_warn(&p->problems, 0, err, "'%s': payload '%s' (%s) is not a module of "
                            "the image: a VIB the depot does not hold can be kept only with "
                            "module payloads", v->vib_id, pl->name, pl->type ? pl->type : "?");
        contents[j] = (struct esximg_content){.kind = ESXIMG_CONTENT_RANGE, .path = img->path,
                                              .offset = (uint64_t)e->lba * 2048,
                                              .size = e->size};
    }
    bool signed_ok = v->orig_xml && v->sig && v->sig->data;
    *out = (struct esximg_imgbuild_vib){
        .descriptor = xml->data, .descriptor_len = xml->len,
        .sig = signed_ok ? v->sig->data : NULL, .sig_len = signed_ok ? v->sig->len : 0,
        .payloads = contents, .payload_count = v->desc->payload_count, .source = img->path};
    return 0;
}

static int rebase_vibs(struct esximg_rebase_plan *p, const struct esximg_image *img,
                       struct esximg_err *err)
{
    struct esximg_rebase_state *st = p->state;
    size_t total = 0;
    for (size_t i = 0; i < st->choice_count; i++) {
        const struct esximg_rebase_choice *c = &st->choices[i];
        total += (c->action == ESXIMG_REBASE_KEEP ? st->image_descs[c->image]
                                                  : st->depot_descs[c->depot])->payload_count;
    }
    st->vibs = calloc(st->choice_count + 1, sizeof *st->vibs);
    st->contents = calloc(total + 1, sizeof *st->contents);
    if (!st->vibs || !st->contents)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < st->choice_count; i++) {
        const struct esximg_rebase_choice *c = &st->choices[i];
        if (c->action == ESXIMG_REBASE_KEEP)
            rc = rebase_kept_vib(p, img, &img->vibs[c->image], st->contents + at, &st->vibs[i],
                                 err);
        else
            rc = esximg_depot_set_imgbuild_vib(st->depot_vibs[c->depot], st->contents + at,
                                               &st->vibs[i], err);
        at += st->vibs[i].payload_count;
    }
    return rc;
}

/* The depot set's components, then the image's bulletins of other ids (a kept VIB's own);
 * the builder keeps those whose VIBs are all in the image. */
static int rebase_components(struct esximg_rebase_state *st, const struct esximg_image *img,
                             struct esximg_err *err)
{
    int rc = esximg_depot_set_imgbuild_components(st->res, img->db->bulletin_count, &st->comps,
                                                  NULL, err);
    if (rc)
        return rc;
    st->comp_count = st->res->component_count;
    for (size_t i = 0; i < img->db->bulletin_count; i++) {
        const struct esximg_imgdb_file *f = &img->db->bulletins[i];
        const char *slash = strrchr(f->path, '/');
        const char *base = slash ? slash + 1 : f->path;
        bool known = false;
        for (size_t k = 0; !known && k < st->res->component_count; k++) {
            const char *id = st->res->components[k].component->id;
            size_t idlen = id ? strlen(id) : 0;
            known = id && !strncmp(base, id, idlen) && !strcmp(base + idlen, ".xml");
        }
        if (!known && f->data)
            st->comps[st->comp_count++] = (struct esximg_imgbuild_component){f->data, f->len};
    }
    return 0;
}

static bool rebase_stock_option(const char *opt, bool has_ks)
{
    return !strcmp(opt, "cdromBoot") || !strcmp(opt, "runweasel") ||
           (has_ks && !strcasecmp(opt, "ks=cdrom:/KS.CFG"));
}

/* What the input's BOOT.CFG says beyond VMware's stock: its title and kernel options, and its
 * kickstart. */
static int rebase_boot_options(struct esximg_rebase_state *st, const struct esximg_image *img,
                               struct esximg_err *err)
{
    if (esximg_iso_find(img->iso, "/KS.CFG")) {
        int rc = esximg_iso_read_file(img->iso, "/KS.CFG", ESX_MAX_TEXT_BYTES, &st->ks,
                                      &st->ks_len, err);
        if (rc)
            return rc;
    }
    if (!img->bootcfg)
        return 0;
    struct esximg_err ignored = {0};
    char *title = NULL, *opts = NULL;
    if (!esximg_bootcfg_get(img->bootcfg, "title", &title, &ignored) &&
        strcmp(title, "Loading ESXi installer"))
        st->title = title;
    else
        free(title);
    if (esximg_bootcfg_get(img->bootcfg, "kernelopt", &opts, &ignored))
        return 0;
    size_t words = 1;
    for (const char *s = opts; *s; s++)
        words += *s == ' ' || *s == '\t';
    if (!(st->kernelopts = calloc(words, sizeof *st->kernelopts))) {
        free(opts);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    char *save = NULL;
    for (char *w = strtok_r(opts, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        if (!rebase_stock_option(w, st->ks != NULL) && st->kernelopt_count < words)
            st->kernelopts[st->kernelopt_count++] = esx_strdup(w);
    free(opts);
    for (size_t i = 0; i < st->kernelopt_count; i++)
        if (!st->kernelopts[i])
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int rebase_build(struct esximg_rebase_plan *p, const struct esximg_image *img,
                        const struct esximg_rebase_opts *o, struct esximg_err *err)
{
    struct esximg_rebase_state *st = p->state;
    int rc = rebase_vibs(p, img, err);
    if (!rc)
        rc = rebase_components(st, img, err);
    if (!rc)
        rc = rebase_boot_options(st, img, err);
    if (rc || p->problems.count)
        return rc;
    /* the new base image replaces the image's record; an add-on's stays with its VIBs */
    struct esximg_imgbuild_release base_rec;
    const struct esximg_imgdb_file *addon = esximg_imgdb_find_release(img->db,
                                                                      ESXIMG_IMGDB_ADDONS);
    if (addon && !(st->addon_id = esximg_imgdb_release_id(addon)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    const struct esximg_imgbuild_release addon_rec = {
        st->addon_id, addon ? addon->data : NULL, addon ? addon->len : 0};
    const struct esximg_imgbuild_opts bo = {
        .profile_name = o->profile_name ? o->profile_name : img->db->profile->name,
        .kernelopts = (const char *const *)st->kernelopts,
        .kernelopt_count = st->kernelopt_count, .title = st->title, .ks = st->ks,
        .ks_len = st->ks_len, .mtime = o->mtime,
        .base_image = esximg_depot_set_imgbuild_release(st->res->base_image, &base_rec),
        .addon = addon ? &addon_rec : NULL};
    return esximg_imgbuild_plan(st->vibs, st->choice_count, st->comps, st->comp_count, &bo,
                                &st->build, err);
}

/* What reading a depot or resolving its set warned of, as `build` says it: in the plan's
 * warnings, after the depot's path when there is one. */
static int rebase_pass_warnings(struct esximg_rebase_plan *p, const char *depot,
                                const struct esximg_warnings *w, struct esximg_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < w->count; i++)
        rc = esx_warn(&p->warnings, 0, err, "%s%s%s", depot ? depot : "", depot ? ": " : "",
                      w->items[i].msg);
    return rc;
}

int esximg_rebase_plan(const struct esximg_image *img, const struct esximg_rebase_opts *o,
                       struct esximg_rebase_plan **out, struct esximg_err *err)
{
    *out = NULL;
    if (!img->db || !img->db->profile)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the image has no image database or "
                              "profile to move");
    struct esximg_rebase_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->state = calloc(1, sizeof *p->state))) {
        free(p);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    struct esximg_rebase_state *st = p->state;
    st->mtime = o->mtime;
    int rc = rebase_read_depots(st, o, err);
    for (size_t i = 0; !rc && i < st->depots->count; i++)
        rc = rebase_pass_warnings(p, o->depots[i], &st->depots->spools[i]->warnings, err);
    if (!rc)
        rc = rebase_resolve(st, img, p, err);
    if (!rc)
        rc = rebase_pass_warnings(p, NULL, &st->res->warnings, err);
    if (!rc)
        rc = rebase_descs(st, img, err);
    if (!rc)
        rc = esximg_rebase_select(st->image_descs, img->vib_count, st->depot_descs,
                                  st->res->vib_count, o->allow_downgrade, &st->choices,
                                  &st->choice_count, &p->problems, err);
    if (!rc)
        rc = rebase_describe(p, err);
    if (!rc && !o->no_deps)
        rc = rebase_check(p, img, err);
    if (!rc && !p->problems.count)
        rc = rebase_build(p, img, o, err);
    if (rc) {
        esximg_rebase_plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int esximg_rebase_write(const struct esximg_rebase_plan *p, const char *out_path,
                        void (*progress)(uint64_t done, uint64_t total, void *arg),
                        void *progress_arg, struct esximg_err *err)
{
    if (p->problems.count || p->problems.dropped || !p->state->build)
        return esximg_err_set(err, ESXIMG_EINVAL, "the rebase has problems: nothing written");
    const struct esximg_imgbuild_wopts wo = {.mtime = p->state->mtime, .progress = progress,
                                             .progress_arg = progress_arg};
    return esximg_imgbuild_write(p->state->build, &wo, out_path, err);
}

static void rebase_state_free(struct esximg_rebase_state *st)
{
    if (!st)
        return;
    esximg_imgbuild_free(st->build);
    free(st->addon_id);
    esximg_depot_resolution_free(st->res);
    free(st->depot_vibs);
    esximg_depot_set_free(st->depots);
    free(st->image_descs);
    free(st->depot_descs);
    free(st->choices);
    free(st->vibs);
    free(st->contents);
    free(st->comps);
    for (size_t i = 0; i < st->kernelopt_count; i++)
        free(st->kernelopts[i]);
    free(st->kernelopts);
    free(st->title);
    free(st->ks);
    free(st);
}

void esximg_rebase_plan_free(struct esximg_rebase_plan *p)
{
    if (!p)
        return;
    rebase_state_free(p->state);
    for (size_t i = 0; i < p->line_count; i++)
        free(p->lines[i]);
    free(p->lines);
    esx_warnings_free(&p->warnings);
    esx_warnings_free(&p->problems);
    free(p->depot_set);
    free(p->old_version);
    free(p->new_version);
    free(p);
}
