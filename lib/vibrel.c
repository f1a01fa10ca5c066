/* vibrel.c: version order, constraints and the relationship check of a set of VIBs.
 *
 * The rules, with where each comes from ([C] confirmed by real files, [D] documented by VMware,
 * [I] inferred: no source was found, chosen to fit the real data):
 *
 * 1. A VIB version is "<version>-<release>", split at the first '-' (the schema pattern
 *    `\w+(\.\w+)*-\w+(\.\w+)*` allows only one).  A string without '-' has no release.  The
 *    version parts are compared first, then the releases; no release sorts before any release
 *    ("1.0" < "1.0-1").  [D: VMware's "ESXi Installation and Setup" (6.7, PowerCLI SoftwareVersion
 *    object): Version is "the part of the version before the hyphen", Release the part after;
 *    the rest of the rule is I]
 * 2. Each side is split on '.' and compared part by part; when all shared parts are equal, the
 *    side with fewer parts sorts first ("1.0" < "1.0.1").  [I]
 * 3. Two parts that both start with a digit compare by the numeric value of their leading
 *    digits ("10" > "9", "045" = "45", "10vmw" > "4vmw"), then by the rest of the part, byte by
 *    byte ("045a" < "045b", "1" < "1a").  Any other pair compares byte by byte (unsigned), so an
 *    empty part sorts first and a part starting with a letter after every part starting with a
 *    digit ("napi" > "1").  [I: esximage's Version source was not found; a plain text
 *    comparison would put 6.7's "18vmw" releases before "2vmw" and 1.10 before 1.9]
 *    Rules 1-3 define a total preorder: reflexive, antisymmetric in sign and transitive (the
 *    fuzz target checks it); distinct strings may compare equal ("1.045" and "1.45").  A NULL
 *    version counts as "".
 * 4. A constraint whose version has no release compares the version part only: "esx-version
 *    <= 6.7.0" and "esx-version = 6.7.0" are met by esx-base's provide "esx-version
 *    6.7.0-0.0.8169922".  [C: three VMware 6.7.0 GA VIBs (cpu-microcode,
 *    esx-dvfilter-generic-fastpath, esx-xserver) carry exactly these constraints and install
 *    beside that esx-base; comparing the whole string would make them unmet]
 * 5. A constraint without a relation is met by any version, even none; one with a relation
 *    needs both versions and one of "<<", "<=", "=", ">=", ">>"; anything else never meets it.
 *    [D: relation list of vib.rng and of the PowerCLI SoftwareConstraint; I for the rest]
 * 6. A VIB meets a constraint through its own name and version, or through one of its provides
 *    with that provide's version (a provide without a version only meets constraints without a
 *    relation).  [D: PowerCLI SoftwareConstraint.MatchesProvide takes a package or a provide;
 *    C: vmkapi_*, com.vmware.driverAPI-* and esx-version are provides of esx-base]
 * 7. Depends are met by another VIB of the set; a conflicts constraint flags every other VIB
 *    meeting it, never the VIB itself.  [C: the 136 VIBs of 6.7.0 GA pass; I for self]
 * 8. `by` replaces `old` when one of by's replaces constraints is met by old (rule 6), or when
 *    both have the same name, whatever the versions: the caller decides on downgrades.
 *    [D: PowerCLI's Replaces property: "VIBs automatically replace VIBs with the same name but
 *    lower versions"; the version test is left to the caller, as vibrel.h says] */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/vibrel.h"

/* A counted piece of a version string. */
struct vibrel_span {
    const char *p;
    size_t n;
};

/* The two sides of a version, rule 1. */
struct vibrel_version {
    struct vibrel_span version;
    struct vibrel_span release;
    bool has_release;
};

/* The text of a problem names at most this many characters of one input field. */
#define VIBREL_QUOTE 49

/* ---------------------------------------------------------------- version order */

static bool vibrel_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static struct vibrel_version vibrel_split(const char *s)
{
    struct vibrel_version v = {.version = {s ? s : "", 0}};
    const char *dash = strchr(v.version.p, '-');
    if (!dash) {
        v.version.n = strlen(v.version.p);
        return v;
    }
    v.version.n = (size_t)(dash - v.version.p);
    v.release.p = dash + 1;
    v.release.n = strlen(v.release.p);
    v.has_release = true;
    return v;
}

static int vibrel_bytes_cmp(struct vibrel_span a, struct vibrel_span b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* Compares two runs of digits by value, without converting (they may be any length). */
static int vibrel_number_cmp(struct vibrel_span a, struct vibrel_span b)
{
    while (a.n > 1 && a.p[0] == '0') {
        a.p++;
        a.n--;
    }
    while (b.n > 1 && b.p[0] == '0') {
        b.p++;
        b.n--;
    }
    if (a.n != b.n)
        return a.n < b.n ? -1 : 1;
    return vibrel_bytes_cmp(a, b);
}

static size_t vibrel_digits(struct vibrel_span s)
{
    size_t n = 0;
    while (n < s.n && vibrel_is_digit(s.p[n]))
        n++;
    return n;
}

/* Rule 3. */
static int vibrel_part_cmp(struct vibrel_span a, struct vibrel_span b)
{
    size_t da = vibrel_digits(a), db = vibrel_digits(b);
    if (da == 0 || db == 0)
        return vibrel_bytes_cmp(a, b);
    int c = vibrel_number_cmp((struct vibrel_span){a.p, da}, (struct vibrel_span){b.p, db});
    if (c)
        return c;
    return vibrel_bytes_cmp((struct vibrel_span){a.p + da, a.n - da},
                            (struct vibrel_span){b.p + db, b.n - db});
}

/* The part of *rest up to the next '.', which is consumed; false once nothing is left. */
static bool vibrel_next_part(struct vibrel_span *rest, bool *more, struct vibrel_span *part)
{
    if (!*more)
        return false;
    const char *dot = rest->n ? memchr(rest->p, '.', rest->n) : NULL;
    part->p = rest->p;
    part->n = dot ? (size_t)(dot - rest->p) : rest->n;
    *more = dot != NULL;
    rest->p += dot ? part->n + 1 : part->n;
    rest->n -= dot ? part->n + 1 : part->n;
    return true;
}

/* Rule 2: "" is one empty part, like Python's "".split("."). */
static int vibrel_parts_cmp(struct vibrel_span a, struct vibrel_span b)
{
    bool more_a = true, more_b = true;
    for (;;) {
        struct vibrel_span pa = {0}, pb = {0};
        bool has_a = vibrel_next_part(&a, &more_a, &pa);
        bool has_b = vibrel_next_part(&b, &more_b, &pb);
        if (!has_a || !has_b)
            return has_a - has_b;
        int c = vibrel_part_cmp(pa, pb);
        if (c)
            return c;
    }
}

int esximg_version_cmp(const char *a, const char *b)
{
    struct vibrel_version va = vibrel_split(a), vb = vibrel_split(b);
    int c = vibrel_parts_cmp(va.version, vb.version);
    if (c)
        return c;
    if (!va.has_release || !vb.has_release)
        return (int)va.has_release - (int)vb.has_release;
    return vibrel_parts_cmp(va.release, vb.release);
}

/* ---------------------------------------------------------------- constraints */

bool esximg_constraint_version_ok(const struct esximg_constraint *c, const char *version)
{
    if (!c)
        return false;
    if (!c->relation)
        return true;
    if (!c->version || !version)
        return false;
    struct vibrel_version want = vibrel_split(c->version);
    int order = want.has_release ? esximg_version_cmp(version, c->version)
                                 : vibrel_parts_cmp(vibrel_split(version).version, want.version);
    if (strcmp(c->relation, "<<") == 0)
        return order < 0;
    if (strcmp(c->relation, "<=") == 0)
        return order <= 0;
    if (strcmp(c->relation, "=") == 0)
        return order == 0;
    if (strcmp(c->relation, ">=") == 0)
        return order >= 0;
    if (strcmp(c->relation, ">>") == 0)
        return order > 0;
    return false;
}

static bool vibrel_name_is(const char *name, const struct esximg_constraint *c)
{
    return name && strcmp(name, c->name) == 0;
}

bool esximg_vib_satisfies(const struct esximg_descriptor *d, const struct esximg_constraint *c)
{
    if (!d || !c || !c->name)
        return false;
    if (vibrel_name_is(d->name, c) && esximg_constraint_version_ok(c, d->version))
        return true;
    for (size_t i = 0; i < d->provides.count; i++) {
        const struct esximg_constraint *p = &d->provides.items[i];
        if (vibrel_name_is(p->name, c) && esximg_constraint_version_ok(c, p->version))
            return true;
    }
    return false;
}

bool esximg_vib_replaces(const struct esximg_descriptor *by, const struct esximg_descriptor *old)
{
    if (!by || !old)
        return false;
    if (by->name && old->name && strcmp(by->name, old->name) == 0)
        return true;
    for (size_t i = 0; i < by->replaces.count; i++)
        if (esximg_vib_satisfies(old, &by->replaces.items[i]))
            return true;
    return false;
}

/* ---------------------------------------------------------------- the check of a set */

static void vibrel_quote(const char *s, char out[VIBREL_QUOTE])
{
    if (!s)
        s = "?";
    esx_text_quote(s, strlen(s), out, VIBREL_QUOTE);
}

/* "name version" (or "name" alone) of a VIB or a provide, each field quoted. */
struct vibrel_label {
    char name[VIBREL_QUOTE];
    char version[VIBREL_QUOTE];
    const char *space;
};

static void vibrel_label_of(const char *name, const char *version, struct vibrel_label *l)
{
    vibrel_quote(name, l->name);
    vibrel_quote(version ? version : "", l->version);
    l->space = version ? " " : "";
}

/* "name", or "name relation version" */
struct vibrel_ctext {
    char name[VIBREL_QUOTE];
    char relation[VIBREL_QUOTE];
    char version[VIBREL_QUOTE];
    const char *space;
};

static void vibrel_ctext_of(const struct esximg_constraint *c, struct vibrel_ctext *t)
{
    vibrel_quote(c->name, t->name);
    vibrel_quote(c->relation ? c->relation : "", t->relation);
    vibrel_quote(c->relation ? (c->version ? c->version : "?") : "", t->version);
    t->space = c->relation ? " " : "";
}

/* The first VIB other than vibs[self] named like c or providing that name, for the message of
 * an unmet constraint: *provide is NULL when the VIB's own name matched; false when none. */
static bool vibrel_find_name(const struct esximg_descriptor *const *vibs, size_t count,
                             size_t self, const struct esximg_constraint *c, size_t *vib,
                             const struct esximg_constraint **provide)
{
    for (size_t j = 0; j < count; j++) {
        const struct esximg_descriptor *o = vibs[j];
        if (j == self || !o || o == vibs[self])
            continue;
        const struct esximg_constraint *found = NULL;
        bool named = vibrel_name_is(o->name, c);
        for (size_t i = 0; !named && !found && i < o->provides.count; i++)
            if (vibrel_name_is(o->provides.items[i].name, c))
                found = &o->provides.items[i];
        if (named || found) {
            *vib = j;
            *provide = found;
            return true;
        }
    }
    return false;
}

static int vibrel_unmet(const struct esximg_descriptor *const *vibs, size_t count, size_t self,
                        const struct esximg_constraint *c, struct esximg_warnings *problems,
                        struct esximg_err *err)
{
    struct vibrel_label who, by, what;
    struct vibrel_ctext need;
    vibrel_label_of(vibs[self]->name, vibs[self]->version, &who);
    vibrel_ctext_of(c, &need);
    size_t j;
    const struct esximg_constraint *p;
    if (!vibrel_find_name(vibs, count, self, c, &j, &p))
        return esx_warn(problems, 0, err, "'%s%s%s' depends on '%s%s%s%s%s', which no VIB "
                        "provides", who.name, who.space, who.version, need.name, need.space,
                        need.relation, need.space, need.version);
    /* the name is there, at a version that does not fit: say which */
    vibrel_label_of(vibs[j]->name, vibs[j]->version, &by);
    if (!p)
        return esx_warn(problems, 0, err, "'%s%s%s' depends on '%s%s%s%s%s', which no VIB "
                        "provides (found '%s%s%s')", who.name, who.space, who.version,
                        need.name, need.space, need.relation, need.space, need.version,
                        by.name, by.space, by.version);
    vibrel_label_of(p->name, p->version, &what);
    return esx_warn(problems, 0, err, "'%s%s%s' depends on '%s%s%s%s%s', which no VIB provides "
                    "(found '%s%s%s' from '%s%s%s')", who.name, who.space, who.version,
                    need.name, need.space, need.relation, need.space, need.version, what.name,
                    what.space, what.version, by.name, by.space, by.version);
}

static bool vibrel_met_by_other(const struct esximg_descriptor *const *vibs, size_t count,
                                size_t self, const struct esximg_constraint *c)
{
    for (size_t j = 0; j < count; j++)
        if (j != self && vibs[j] && vibs[j] != vibs[self] && esximg_vib_satisfies(vibs[j], c))
            return true;
    return false;
}

bool esximg_vibrel_met(const struct esximg_descriptor *const *vibs, size_t count, size_t self,
                       const struct esximg_constraint *c)
{
    return vibs && self < count && vibs[self] && c && vibrel_met_by_other(vibs, count, self, c);
}

static int vibrel_check_depends(const struct esximg_descriptor *const *vibs, size_t count,
                                size_t self, struct esximg_warnings *problems,
                                struct esximg_err *err)
{
    const struct esximg_constraint_list *l = &vibs[self]->depends;
    for (size_t i = 0; i < l->count; i++) {
        if (!l->items[i].name || vibrel_met_by_other(vibs, count, self, &l->items[i]))
            continue;
        int rc = vibrel_unmet(vibs, count, self, &l->items[i], problems, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int vibrel_check_conflicts(const struct esximg_descriptor *const *vibs, size_t count,
                                  size_t self, struct esximg_warnings *problems,
                                  struct esximg_err *err)
{
    const struct esximg_constraint_list *l = &vibs[self]->conflicts;
    for (size_t i = 0; i < l->count; i++) {
        const struct esximg_constraint *c = &l->items[i];
        for (size_t j = 0; c->name && j < count; j++) {
            if (j == self || !vibs[j] || vibs[j] == vibs[self] ||
                !esximg_vib_satisfies(vibs[j], c))
                continue;
            struct vibrel_label who, other;
            struct vibrel_ctext text;
            vibrel_label_of(vibs[self]->name, vibs[self]->version, &who);
            vibrel_label_of(vibs[j]->name, vibs[j]->version, &other);
            vibrel_ctext_of(c, &text);
            int rc = esx_warn(problems, 0, err, "'%s%s%s' conflicts with '%s%s%s' ('%s%s%s%s%s')",
                              who.name, who.space, who.version, other.name, other.space,
                              other.version, text.name, text.space, text.relation, text.space,
                              text.version);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int esximg_vibrel_check(const struct esximg_descriptor *const *vibs, size_t count,
                        struct esximg_warnings *problems, struct esximg_err *err)
{
    if ((!vibs && count) || !problems)
        return esximg_err_set(err, ESXIMG_EINVAL, "no VIB list or no problem list given");
    for (size_t i = 0; i < count; i++) {
        if (!vibs[i])
            continue;
        int rc = vibrel_check_depends(vibs, count, i, problems, err);
        if (!rc)
            rc = vibrel_check_conflicts(vibs, count, i, problems, err);
        if (rc)
            return rc;
    }
    return 0;
}
