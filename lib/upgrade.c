/* upgrade.c: a running host's VIBs judged against an installer image (see upgrade.h; the
 * rules, each with its source, are in docs/upgrade-rules.md). */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/upgrade.h"
#include "esximg/vibrel.h"

/* What one host VIB is set against: the image VIB or component of the same name. */
struct upgrade_match {
    const char *id;
    const char *version;
};

struct upgrade_ctx {
    const struct esximg_image *img;
    const struct esximg_hostvibs *host;
    struct esximg_upgrade_report *r;
    size_t problem_cap;
    /* component lists: the image's bulletins */
    size_t bulletin_count;
    struct esximg_bulletin **bulletins;
    /* the set the kept VIBs are checked in: the image's VIBs, then the kept host VIBs */
    const struct esximg_descriptor **set;
    const char **set_ids;
    size_t *set_vib;          /* for a kept host VIB: its index in r->vibs, else SIZE_MAX */
    size_t set_count;
    size_t image_count;
};

static int upgrade_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory judging the host's VIBs");
}

static int upgrade_dup(char **slot, const char *s, struct esximg_err *err)
{
    if (!s)
        return 0;
    if (!(*slot = esx_strdup(s)))
        return upgrade_nomem(err);
    return 0;
}

/* ---------------------------------------------------------------- fates */

static bool upgrade_same_name(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool upgrade_find_vib(const struct esximg_image *img, const struct esximg_descriptor *h,
                             struct upgrade_match *m)
{
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_descriptor *d = img->vibs[i].desc;
        if (d && upgrade_same_name(d->name, h->name)) {
            *m = (struct upgrade_match){img->vibs[i].vib_id, d->version};
            return true;
        }
    }
    return false;
}

/* An image VIB of another name whose replaces the host VIB meets (vibrel.h rule). */
static bool upgrade_find_replacer(const struct esximg_image *img,
                                  const struct esximg_descriptor *h, struct upgrade_match *m)
{
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_descriptor *d = img->vibs[i].desc;
        if (d && !upgrade_same_name(d->name, h->name) && esximg_vib_replaces(d, h)) {
            *m = (struct upgrade_match){img->vibs[i].vib_id, d->version};
            return true;
        }
    }
    return false;
}

static bool upgrade_find_component(const struct upgrade_ctx *c,
                                   const struct esximg_descriptor *h, struct upgrade_match *m)
{
    for (size_t i = 0; i < c->bulletin_count; i++) {
        const struct esximg_bulletin *b = c->bulletins[i];
        if (b->component_name && upgrade_same_name(b->component_name, h->name)) {
            *m = (struct upgrade_match){b->id, b->component_version};
            return true;
        }
    }
    return false;
}

static int upgrade_judge(struct upgrade_ctx *c, const struct esximg_hostvib *hv,
                         struct esximg_upgrade_vib *v, struct esximg_err *err)
{
    const struct esximg_descriptor *h = hv->desc;
    struct upgrade_match m = {0};
    v->host = hv;
    bool component = c->host->form == ESXIMG_HOSTVIBS_COMPONENT_LIST;
    if (component ? upgrade_find_component(c, h, &m) : upgrade_find_vib(c->img, h, &m)) {
        int order = esximg_version_cmp(m.version, h->version);
        v->fate = order > 0 ? ESXIMG_UPGRADE_UPDATED
                  : order == 0 ? ESXIMG_UPGRADE_SAME : ESXIMG_UPGRADE_DOWNGRADED;
    } else if (!component && upgrade_find_replacer(c->img, h, &m)) {
        v->fate = ESXIMG_UPGRADE_REPLACED;
    } else {
        v->fate = ESXIMG_UPGRADE_KEPT;
        v->checked = hv->has_relations;
        v->vmklinux = esximg_descriptor_is_vmklinux(h);
    }
    int rc = upgrade_dup(&v->image_id, m.id, err);
    if (!rc)
        rc = upgrade_dup(&v->image_version, m.version, err);
    return rc;
}

/* ---------------------------------------------------------------- acceptance */

static void upgrade_acceptance(struct esximg_upgrade_report *r, const struct esximg_image *img)
{
    const struct esximg_profile *p = img->db ? img->db->profile : NULL;
    r->image_acceptance = esximg_acceptance_parse(p ? p->acceptance_level : NULL);
    r->host_acceptance = r->image_acceptance;
    for (size_t i = 0; i < r->vib_count; i++) {
        struct esximg_upgrade_vib *v = &r->vibs[i];
        enum esximg_acceptance a = v->host->acceptance;
        if (v->fate != ESXIMG_UPGRADE_KEPT || a == ESXIMG_ACCEPT_UNKNOWN)
            continue;
        if (r->image_acceptance != ESXIMG_ACCEPT_UNKNOWN && a < r->image_acceptance) {
            v->below_acceptance = true;
            r->below_acceptance++;
        }
        if (r->host_acceptance == ESXIMG_ACCEPT_UNKNOWN || a < r->host_acceptance)
            r->host_acceptance = a;
    }
}

/* ---------------------------------------------------------------- relations */

/* "name" or "name REL version", malloc'd. */
static char *upgrade_constraint_text(const struct esximg_constraint *k)
{
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    int rc = k->relation ? esx_buf_printf(&b, NULL, "%s %s %s", k->name, k->relation,
                                          k->version ? k->version : "")
                         : esx_buf_puts(&b, k->name, NULL);
    if (rc) {
        esx_buf_free(&b);
        return NULL;
    }
    return esx_buf_take(&b, NULL);
}

static int upgrade_add_problem(struct upgrade_ctx *c, size_t vib,
                               enum esximg_upgrade_problem_kind kind,
                               const struct esximg_constraint *k, const char *other,
                               struct esximg_err *err)
{
    struct esximg_upgrade_report *r = c->r;
    if (r->problem_count == c->problem_cap) {
        size_t want = c->problem_cap ? c->problem_cap * 2 : 8;
        struct esximg_upgrade_problem *grown =
            esx_realloc_array(r->problems, want, sizeof *grown);
        if (!grown)
            return upgrade_nomem(err);
        r->problems = grown;
        c->problem_cap = want;
    }
    struct esximg_upgrade_problem *p = &r->problems[r->problem_count];
    memset(p, 0, sizeof *p);
    const struct esximg_hostvib *hv = r->vibs[vib].host;
    const char *who = hv->id ? hv->id : hv->desc->name;
    struct esx_buf msg;
    esx_buf_init(&msg, ESX_MAX_LINE_BYTES);
    int rc = 0;
    if (!(p->constraint = upgrade_constraint_text(k)))
        rc = upgrade_nomem(err);
    if (!rc && kind == ESXIMG_UPGRADE_UNMET)
        rc = esx_buf_printf(&msg, err, "VIB %s requires %s, but the requirement cannot be "
                            "satisfied within the ImageProfile.", who, p->constraint);
    else if (!rc)
        rc = esx_buf_printf(&msg, err, "VIB %s conflicts with %s (%s).", who, other,
                            p->constraint);
    if (!rc)
        rc = upgrade_dup(&p->other, other, err);
    if (rc) {
        free(p->constraint);
        free(p->other);
        esx_buf_free(&msg);
        return rc;
    }
    p->msg = esx_buf_take(&msg, NULL);
    p->vib = vib;
    p->kind = kind;
    r->problem_count++;
    r->vibs[vib].problem_count++;
    return 0;
}

/* The image's VIBs, then every kept host VIB (the unchecked ones still meet depends by
 * name). */
static int upgrade_build_set(struct upgrade_ctx *c, struct esximg_err *err)
{
    size_t most = c->img->vib_count + c->r->vib_count;
    c->set = esx_malloc_array(most ? most : 1, sizeof *c->set);
    c->set_ids = esx_malloc_array(most ? most : 1, sizeof *c->set_ids);
    c->set_vib = esx_malloc_array(most ? most : 1, sizeof *c->set_vib);
    if (!c->set || !c->set_ids || !c->set_vib)
        return upgrade_nomem(err);
    for (size_t i = 0; i < c->img->vib_count; i++) {
        if (!c->img->vibs[i].desc)
            continue;
        c->set[c->set_count] = c->img->vibs[i].desc;
        c->set_ids[c->set_count] = c->img->vibs[i].vib_id;
        c->set_vib[c->set_count++] = SIZE_MAX;
    }
    c->image_count = c->set_count;
    for (size_t i = 0; i < c->r->vib_count; i++) {
        const struct esximg_upgrade_vib *v = &c->r->vibs[i];
        if (v->fate != ESXIMG_UPGRADE_KEPT)
            continue;
        c->set[c->set_count] = v->host->desc;
        c->set_ids[c->set_count] = v->host->id ? v->host->id : v->host->desc->name;
        c->set_vib[c->set_count++] = i;
    }
    return 0;
}

static int upgrade_check_depends(struct upgrade_ctx *c, size_t self, struct esximg_err *err)
{
    const struct esximg_constraint_list *l = &c->set[self]->depends;
    for (size_t i = 0; i < l->count; i++) {
        if (!l->items[i].name || esximg_vibrel_met(c->set, c->set_count, self, &l->items[i]))
            continue;
        int rc = upgrade_add_problem(c, c->set_vib[self], ESXIMG_UPGRADE_UNMET, &l->items[i],
                                     NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Conflicts both ways: the kept VIB's against the others, and the others' against it. */
static int upgrade_check_conflicts(struct upgrade_ctx *c, size_t self, struct esximg_err *err)
{
    for (size_t j = 0; j < c->set_count; j++) {
        if (j == self)
            continue;
        const struct esximg_constraint_list *mine = &c->set[self]->conflicts;
        const struct esximg_constraint_list *theirs = &c->set[j]->conflicts;
        for (size_t i = 0; i < mine->count; i++) {
            if (!mine->items[i].name || !esximg_vib_satisfies(c->set[j], &mine->items[i]))
                continue;
            int rc = upgrade_add_problem(c, c->set_vib[self], ESXIMG_UPGRADE_CONFLICT,
                                         &mine->items[i], c->set_ids[j], err);
            if (rc)
                return rc;
        }
        /* a checked kept VIB's own conflicts are reported from its side */
        if (c->set_vib[j] != SIZE_MAX && c->r->vibs[c->set_vib[j]].checked)
            continue;
        for (size_t i = 0; i < theirs->count; i++) {
            if (!theirs->items[i].name || !esximg_vib_satisfies(c->set[self], &theirs->items[i]))
                continue;
            int rc = upgrade_add_problem(c, c->set_vib[self], ESXIMG_UPGRADE_CONFLICT,
                                         &theirs->items[i], c->set_ids[j], err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int upgrade_check_relations(struct upgrade_ctx *c, struct esximg_err *err)
{
    int rc = upgrade_build_set(c, err);
    for (size_t s = c->image_count; !rc && s < c->set_count; s++) {
        if (!c->r->vibs[c->set_vib[s]].checked)
            continue;
        rc = upgrade_check_depends(c, s, err);
        if (!rc)
            rc = upgrade_check_conflicts(c, s, err);
    }
    return rc;
}

/* ---------------------------------------------------------------- the check */

static int upgrade_read_bulletins(struct upgrade_ctx *c, struct esximg_err *err)
{
    const struct esximg_imgdb *db = c->img->db;
    if (!db || db->bulletin_count == 0)
        return 0;
    if (!(c->bulletins = esx_malloc_array(db->bulletin_count, sizeof *c->bulletins)))
        return upgrade_nomem(err);
    for (size_t i = 0; i < db->bulletin_count; i++) {
        struct esximg_bulletin *b;
        /* a bulletin that does not read matches nothing; info reports the image's problems */
        if (db->bulletins[i].data &&
            esximg_bulletin_read(db->bulletins[i].data, db->bulletins[i].len, &b, NULL) == 0)
            c->bulletins[c->bulletin_count++] = b;
    }
    return 0;
}

static void upgrade_ctx_clear(struct upgrade_ctx *c)
{
    for (size_t i = 0; i < c->bulletin_count; i++)
        esximg_bulletin_free(c->bulletins[i]);
    free(c->bulletins);
    free(c->set);
    free(c->set_ids);
    free(c->set_vib);
}

int esximg_upgrade_check(const struct esximg_image *img, const struct esximg_hostvibs *host,
                         struct esximg_upgrade_report **out, struct esximg_err *err)
{
    if (!img || !host || !out)
        return esximg_err_set(err, ESXIMG_EINVAL, "no image or no host VIB list given");
    struct upgrade_ctx c = {.img = img, .host = host};
    int rc = 0;
    if (!(c.r = calloc(1, sizeof *c.r)) ||
        !(c.r->vibs = esx_malloc_array(host->count ? host->count : 1, sizeof *c.r->vibs))) {
        rc = upgrade_nomem(err);
        goto out;
    }
    c.r->form = host->form;
    if (host->form == ESXIMG_HOSTVIBS_COMPONENT_LIST && (rc = upgrade_read_bulletins(&c, err)))
        goto out;
    for (size_t i = 0; i < host->count && !rc; i++) {
        struct esximg_upgrade_vib *v = &c.r->vibs[i];
        memset(v, 0, sizeof *v);
        c.r->vib_count++;
        rc = upgrade_judge(&c, &host->vibs[i], v, err);
        if (!rc) {
            c.r->fate_count[v->fate]++;
            c.r->unchecked += v->fate == ESXIMG_UPGRADE_KEPT && !v->checked;
        }
    }
    if (!rc)
        rc = upgrade_check_relations(&c, err);
    if (rc)
        goto out;
    upgrade_acceptance(c.r, img);
    c.r->fails = c.r->problem_count > 0;
    *out = c.r;
    c.r = NULL;
out:
    upgrade_ctx_clear(&c);
    esximg_upgrade_report_free(c.r);
    return rc;
}

void esximg_upgrade_report_free(struct esximg_upgrade_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->vib_count; i++) {
        free(r->vibs[i].image_id);
        free(r->vibs[i].image_version);
    }
    free(r->vibs);
    for (size_t i = 0; i < r->problem_count; i++) {
        free(r->problems[i].constraint);
        free(r->problems[i].other);
        free(r->problems[i].msg);
    }
    free(r->problems);
    free(r);
}

const char *esximg_upgrade_fate_name(enum esximg_upgrade_fate f)
{
    static const char *const names[ESXIMG_UPGRADE_FATES] = {
        "updated", "same", "downgraded", "replaced", "kept",
    };
    return (unsigned)f < ESXIMG_UPGRADE_FATES ? names[f] : "unknown";
}

const char *esximg_upgrade_problem_name(enum esximg_upgrade_problem_kind k)
{
    return k == ESXIMG_UPGRADE_UNMET ? "unmet_dependency" : "conflict";
}
