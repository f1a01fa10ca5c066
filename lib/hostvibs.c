/* hostvibs.c: esxcli software vib list / vib get / component list output (see hostvibs.h).
 *
 * The table forms are cut on the dash line esxcli prints under the header: each run of '-'
 * starts a column, and a field runs from its column's start to the next column's start (the
 * last to the end of the line).  esxcli sizes each column to its widest value plus two
 * blanks (real 6.7, 7.0 and 8.0 outputs in the samples differ in the Version, Vendor and
 * Acceptance Level widths), so a field never crosses into the next column; a row whose byte
 * before a column start is not a blank does not fit the table and is a warning. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/hostvibs.h"

/* Columns of one table; more are refused (esxcli prints at most 8). */
#define HOSTVIBS_MAX_COLUMNS 16

enum hostvibs_col {
    COL_OTHER = 0,
    COL_NAME,
    COL_VERSION,
    COL_VENDOR,
    COL_ACCEPTANCE,
    COL_DATE,
    COL_PLATFORMS,
    COL_DISPLAY_NAME,
    COL_DISPLAY_VERSION,
};

static const struct {
    const char *header;
    enum hostvibs_col col;
} hostvibs_headers[] = {
    {"Name", COL_NAME},
    {"Version", COL_VERSION},
    {"Vendor", COL_VENDOR},
    {"Acceptance Level", COL_ACCEPTANCE},
    {"Install Date", COL_DATE},
    {"Release Date", COL_DATE},
    {"Platforms", COL_PLATFORMS},
    {"Display Name", COL_DISPLAY_NAME},
    {"Display Version", COL_DISPLAY_VERSION},
};

/* The columns of headerless rows, by their count: vib list (5, 6), component list (7, 8). */
static const enum hostvibs_col hostvibs_list_cols[] = {
    COL_NAME, COL_VERSION, COL_VENDOR, COL_ACCEPTANCE, COL_DATE, COL_PLATFORMS,
};
static const enum hostvibs_col hostvibs_component_cols[] = {
    COL_NAME, COL_DISPLAY_NAME, COL_VERSION, COL_DISPLAY_VERSION, COL_VENDOR, COL_DATE,
    COL_ACCEPTANCE, COL_PLATFORMS,
};

struct hostvibs_span {
    const char *p;
    size_t n;
};

struct hostvibs_rctx {
    struct esximg_hostvibs *h;
    size_t cap;
    bool form_known;
    /* table: column starts from the dash line (when one was seen) and their meaning */
    size_t ncols;
    size_t col_start[HOSTVIBS_MAX_COLUMNS];
    enum hostvibs_col cols[HOSTVIBS_MAX_COLUMNS];
    bool have_dashes;
    bool have_header;
    struct esx_line header;     /* the last header line seen (into the input) */
    /* vib get: the record being filled */
    struct esximg_hostvib *open;
};

static int hostvibs_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading esxcli output");
}

static int hostvibs_warn(struct hostvibs_rctx *c, const struct esx_line *ln, const char *why,
                         struct esximg_err *err)
{
    char quoted[64];
    esx_text_quote(ln->p, ln->len, quoted, sizeof quoted);
    return esx_warn(&c->h->warnings, ln->number, err, "%s: '%s' (skipped)", why, quoted);
}

static void hostvibs_vib_clear(struct esximg_hostvib *v)
{
    free(v->id);
    esximg_descriptor_free(v->desc);
    free(v->acceptance_text);
    free(v->date);
    free(v->platforms);
    free(v->display_name);
    free(v->display_version);
    memset(v, 0, sizeof *v);
}

/* A copy of n bytes into *slot (replacing it); NULL when n is 0. */
static int hostvibs_keep(char **slot, const char *s, size_t n, struct esximg_err *err)
{
    char *copy = NULL;
    if (n && !(copy = esx_strndup(s, n)))
        return hostvibs_nomem(err);
    free(*slot);
    *slot = copy;
    return 0;
}

static bool hostvibs_has_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (esx_is_blank(s[i]))
            return true;
    return false;
}

static bool hostvibs_span_is(struct hostvibs_span s, const char *word)
{
    return strlen(word) == s.n && memcmp(s.p, word, s.n) == 0;
}

/* A new, empty entry at the end of the list, with its descriptor. */
static int hostvibs_new(struct hostvibs_rctx *c, size_t line, struct esximg_hostvib **out,
                        struct esximg_err *err)
{
    struct esximg_hostvibs *h = c->h;
    if (h->count == c->cap) {
        size_t want = c->cap ? c->cap * 2 : 64;
        struct esximg_hostvib *grown = esx_realloc_array(h->vibs, want, sizeof *grown);
        if (!grown)
            return hostvibs_nomem(err);
        h->vibs = grown;
        c->cap = want;
    }
    struct esximg_hostvib *v = &h->vibs[h->count];
    memset(v, 0, sizeof *v);
    if (!(v->desc = calloc(1, sizeof *v->desc)))
        return hostvibs_nomem(err);
    v->line = line;
    h->count++;
    *out = v;
    return 0;
}

/* Drops the last entry (one that turned out unreadable). */
static void hostvibs_drop_last(struct hostvibs_rctx *c)
{
    hostvibs_vib_clear(&c->h->vibs[--c->h->count]);
}

static int hostvibs_set_acceptance(struct esximg_hostvib *v, const char *s, size_t n,
                                   struct esximg_err *err)
{
    int rc = hostvibs_keep(&v->acceptance_text, s, n, err);
    if (rc)
        return rc;
    v->acceptance = esximg_acceptance_parse(v->acceptance_text);
    if (v->acceptance == ESXIMG_ACCEPT_UNKNOWN)
        return 0;
    return hostvibs_keep(&v->desc->acceptance_level, esximg_acceptance_name(v->acceptance),
                         strlen(esximg_acceptance_name(v->acceptance)), err);
}

/* ---------------------------------------------------------------- tables */

/* A dash line: runs of '-' separated by blanks, starting at column 0. */
static bool hostvibs_is_dashes(const char *s, size_t n)
{
    if (n == 0 || s[0] != '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '-' && !esx_is_blank(s[i]) && s[i] != '\r')
            return false;
    return true;
}

/* Splits s on runs of two or more blanks (fields trimmed); false when there are too many. */
static bool hostvibs_split_wide(const char *s, size_t n, struct hostvibs_span *f,
                                size_t *count)
{
    size_t k = 0, i = 0;
    esx_trim(&s, &n);
    while (i < n) {
        size_t start = i;
        while (i < n && !(esx_is_blank(s[i]) && i + 1 < n && esx_is_blank(s[i + 1])))
            i++;
        if (k == HOSTVIBS_MAX_COLUMNS)
            return false;
        f[k] = (struct hostvibs_span){s + start, i - start};
        esx_trim(&f[k].p, &f[k].n);
        k++;
        while (i < n && esx_is_blank(s[i]))
            i++;
    }
    *count = k;
    return true;
}

/* Cuts a row at the dash line's column starts; false when it does not fit them. */
static bool hostvibs_split_columns(const struct hostvibs_rctx *c, const char *s, size_t n,
                                   struct hostvibs_span *f)
{
    for (size_t i = 0; i < c->ncols; i++) {
        size_t start = c->col_start[i];
        size_t end = i + 1 < c->ncols ? c->col_start[i + 1] : n;
        if (start > n)
            start = n;
        if (end > n)
            end = n;
        if (start > 0 && start < n && !esx_is_blank(s[start - 1]))
            return false;
        f[i] = (struct hostvibs_span){s + start, end - start};
        esx_trim(&f[i].p, &f[i].n);
    }
    return true;
}

static enum hostvibs_col hostvibs_header_col(struct hostvibs_span s)
{
    for (size_t i = 0; i < sizeof hostvibs_headers / sizeof hostvibs_headers[0]; i++)
        if (hostvibs_span_is(s, hostvibs_headers[i].header))
            return hostvibs_headers[i].col;
    return COL_OTHER;
}

/* A header line: its first field is "Name" and another is "Version". */
static bool hostvibs_is_header(const char *s, size_t n)
{
    struct hostvibs_span f[HOSTVIBS_MAX_COLUMNS];
    size_t k;
    if (!hostvibs_split_wide(s, n, f, &k) || k < 2 || !hostvibs_span_is(f[0], "Name"))
        return false;
    for (size_t i = 1; i < k; i++)
        if (hostvibs_span_is(f[i], "Version"))
            return true;
    return false;
}

static void hostvibs_set_form(struct hostvibs_rctx *c, enum esximg_hostvibs_form form)
{
    if (c->form_known)
        return;
    c->h->form = form;
    c->form_known = true;
}

/* Names the columns from the header fields; the form follows from "Display Name". */
static void hostvibs_name_columns(struct hostvibs_rctx *c, const struct hostvibs_span *f,
                                  size_t k)
{
    bool component = false;
    c->ncols = k;
    for (size_t i = 0; i < k; i++) {
        c->cols[i] = hostvibs_header_col(f[i]);
        component = component || c->cols[i] == COL_DISPLAY_NAME;
    }
    hostvibs_set_form(c, component ? ESXIMG_HOSTVIBS_COMPONENT_LIST : ESXIMG_HOSTVIBS_VIB_LIST);
}

static int hostvibs_header_line(struct hostvibs_rctx *c, const struct esx_line *ln)
{
    struct hostvibs_span f[HOSTVIBS_MAX_COLUMNS];
    size_t k = 0;
    hostvibs_split_wide(ln->p, ln->len, f, &k);
    hostvibs_name_columns(c, f, k);
    c->header = *ln;
    c->have_header = true;
    c->have_dashes = false;
    return 0;
}

/* The dash line: the column starts; the header above it is cut at them too, so that a
 * header name is read where its column is. */
static int hostvibs_dash_line(struct hostvibs_rctx *c, const struct esx_line *ln,
                              struct esximg_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < ln->len; i++) {
        if (ln->p[i] != '-' || (i > 0 && ln->p[i - 1] == '-'))
            continue;
        if (k == HOSTVIBS_MAX_COLUMNS)
            return hostvibs_warn(c, ln, "too many columns", err);
        c->col_start[k++] = i;
    }
    if (!c->have_header)
        return hostvibs_warn(c, ln, "dash line without a header above it", err);
    c->ncols = k;
    struct hostvibs_span f[HOSTVIBS_MAX_COLUMNS];
    if (!hostvibs_split_columns(c, c->header.p, c->header.len, f))
        return hostvibs_warn(c, &c->header, "header does not fit its dash line", err);
    hostvibs_name_columns(c, f, k);
    c->have_dashes = true;
    return 0;
}

/* Columns for a headerless row of k fields, or false. */
static bool hostvibs_guess_columns(struct hostvibs_rctx *c, size_t k)
{
    bool list = (k == 5 || k == 6) &&
                (!c->form_known || c->h->form == ESXIMG_HOSTVIBS_VIB_LIST);
    bool comp = (k == 7 || k == 8) &&
                (!c->form_known || c->h->form == ESXIMG_HOSTVIBS_COMPONENT_LIST);
    if (!list && !comp)
        return false;
    const enum hostvibs_col *cols = list ? hostvibs_list_cols : hostvibs_component_cols;
    for (size_t i = 0; i < k; i++)
        c->cols[i] = cols[i];
    c->ncols = k;
    hostvibs_set_form(c, list ? ESXIMG_HOSTVIBS_VIB_LIST : ESXIMG_HOSTVIBS_COMPONENT_LIST);
    return true;
}

static int hostvibs_set_field(struct esximg_hostvib *v, enum hostvibs_col col,
                              struct hostvibs_span f, struct esximg_err *err)
{
    switch (col) {
    case COL_NAME:
        return hostvibs_keep(&v->desc->name, f.p, f.n, err);
    case COL_VERSION:
        return hostvibs_keep(&v->desc->version, f.p, f.n, err);
    case COL_VENDOR:
        return hostvibs_keep(&v->desc->vendor, f.p, f.n, err);
    case COL_ACCEPTANCE:
        return hostvibs_set_acceptance(v, f.p, f.n, err);
    case COL_DATE:
        return hostvibs_keep(&v->date, f.p, f.n, err);
    case COL_PLATFORMS:
        return hostvibs_keep(&v->platforms, f.p, f.n, err);
    case COL_DISPLAY_NAME:
        return hostvibs_keep(&v->display_name, f.p, f.n, err);
    case COL_DISPLAY_VERSION:
        return hostvibs_keep(&v->display_version, f.p, f.n, err);
    case COL_OTHER:
        break;
    }
    return 0;
}

/* Why a filled row cannot be used, or NULL. */
static const char *hostvibs_row_problem(const struct esximg_hostvib *v)
{
    const struct esximg_descriptor *d = v->desc;
    if (!d->name || !d->version)
        return "row without a name or a version";
    if (hostvibs_has_blank(d->name, strlen(d->name)) ||
        hostvibs_has_blank(d->version, strlen(d->version)))
        return "name or version holds a blank";
    if (v->acceptance_text && v->acceptance == ESXIMG_ACCEPT_UNKNOWN)
        return "unknown acceptance level";
    return NULL;
}

static int hostvibs_table_row(struct hostvibs_rctx *c, const struct esx_line *ln,
                              struct esximg_err *err)
{
    struct hostvibs_span f[HOSTVIBS_MAX_COLUMNS];
    size_t k = c->ncols;
    if (c->have_dashes) {
        if (!hostvibs_split_columns(c, ln->p, ln->len, f))
            return hostvibs_warn(c, ln, "row does not fit the columns of the dash line", err);
    } else if (!hostvibs_split_wide(ln->p, ln->len, f, &k) ||
               (c->have_header ? k != c->ncols : !hostvibs_guess_columns(c, k))) {
        return hostvibs_warn(c, ln, "not a row of esxcli software vib or component list", err);
    }
    struct esximg_hostvib *v;
    int rc = hostvibs_new(c, ln->number, &v, err);
    for (size_t i = 0; !rc && i < k; i++)
        rc = hostvibs_set_field(v, c->cols[i], f[i], err);
    if (rc)
        return rc;
    const char *why = hostvibs_row_problem(v);
    if (!why)
        return 0;
    hostvibs_drop_last(c);
    return hostvibs_warn(c, ln, why, err);
}

static int hostvibs_table_line(struct hostvibs_rctx *c, const struct esx_line *ln,
                               struct esximg_err *err)
{
    if (hostvibs_is_dashes(ln->p, ln->len))
        return hostvibs_dash_line(c, ln, err);
    if (hostvibs_is_header(ln->p, ln->len))
        return hostvibs_header_line(c, ln);
    if (esx_is_blank(ln->p[0]))
        return hostvibs_warn(c, ln, "not a row of esxcli software vib or component list", err);
    return hostvibs_table_row(c, ln, err);
}

/* ---------------------------------------------------------------- vib get */

/* One "name" or "name REL version" item of a relation list. */
static int hostvibs_constraint(struct hostvibs_span item, struct esximg_constraint *out,
                               bool *ok, struct esximg_err *err)
{
    struct hostvibs_span w[4];
    size_t k = 0, i = 0;
    *ok = false;
    while (i < item.n) {
        while (i < item.n && esx_is_blank(item.p[i]))
            i++;
        size_t start = i;
        while (i < item.n && !esx_is_blank(item.p[i]))
            i++;
        if (i == start)
            break;
        if (k == 4)
            return 0;
        w[k++] = (struct hostvibs_span){item.p + start, i - start};
    }
    static const char *const relations[] = {"<<", "<=", "=", ">=", ">>"};
    bool rel_ok = false;
    for (size_t r = 0; k == 3 && r < sizeof relations / sizeof relations[0]; r++)
        rel_ok = rel_ok || hostvibs_span_is(w[1], relations[r]);
    if (k != 1 && !rel_ok)
        return 0;
    memset(out, 0, sizeof *out);
    int rc = hostvibs_keep(&out->name, w[0].p, w[0].n, err);
    if (!rc && k == 3)
        rc = hostvibs_keep(&out->relation, w[1].p, w[1].n, err);
    if (!rc && k == 3)
        rc = hostvibs_keep(&out->version, w[2].p, w[2].n, err);
    if (rc) {
        free(out->name);
        free(out->relation);
        return rc;
    }
    *ok = true;
    return 0;
}

static void hostvibs_constraints_free(struct esximg_constraint_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].relation);
        free(l->items[i].version);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* "a, b >= 1.0, c": replaces the list; *ok false when an item does not read. */
static int hostvibs_relations(const char *s, size_t n, struct esximg_constraint_list *l,
                              bool *ok, struct esximg_err *err)
{
    size_t items = n ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        items += s[i] == ',';
    hostvibs_constraints_free(l);
    *ok = true;
    if (items == 0)
        return 0;
    if (!(l->items = esx_malloc_array(items, sizeof *l->items)))
        return hostvibs_nomem(err);
    size_t start = 0;
    for (size_t i = 0; i <= n && *ok; i++) {
        if (i < n && s[i] != ',')
            continue;
        struct hostvibs_span item = {s + start, i - start};
        esx_trim(&item.p, &item.n);
        start = i + 1;
        if (item.n == 0)
            continue;
        int rc = hostvibs_constraint(item, &l->items[l->count], ok, err);
        if (rc)
            return rc;
        if (*ok)
            l->count++;
    }
    return 0;
}

/* "Key: Value" of an indented line: false when there is no ':'. */
static bool hostvibs_key_value(const char *s, size_t n, struct hostvibs_span *key,
                               struct hostvibs_span *value)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return false;
    *key = (struct hostvibs_span){s, (size_t)(colon - s)};
    *value = (struct hostvibs_span){colon + 1, n - (size_t)(colon - s) - 1};
    esx_trim(&key->p, &key->n);
    esx_trim(&value->p, &value->n);
    return true;
}

static struct esximg_constraint_list *hostvibs_relation_list(struct esximg_descriptor *d,
                                                            struct hostvibs_span key)
{
    if (hostvibs_span_is(key, "Depends"))
        return &d->depends;
    if (hostvibs_span_is(key, "Conflicts"))
        return &d->conflicts;
    if (hostvibs_span_is(key, "Replaces"))
        return &d->replaces;
    if (hostvibs_span_is(key, "Provides"))
        return &d->provides;
    return NULL;
}

static int hostvibs_get_field(struct hostvibs_rctx *c, const struct esx_line *ln,
                              struct esximg_err *err)
{
    const char *s = ln->p;
    size_t n = ln->len;
    struct hostvibs_span key, value;
    esx_trim(&s, &n);
    if (!c->open)
        return hostvibs_warn(c, ln, "field outside a VIB record", err);
    if (!hostvibs_key_value(s, n, &key, &value))
        return hostvibs_warn(c, ln, "not a 'Key: Value' line", err);
    struct esximg_hostvib *v = c->open;
    struct esximg_descriptor *d = v->desc;
    struct esximg_constraint_list *rel = hostvibs_relation_list(d, key);
    if (rel) {
        bool ok;
        int rc = hostvibs_relations(value.p, value.n, rel, &ok, err);
        if (rc)
            return rc;
        v->has_relations = true;
        return ok ? 0 : hostvibs_warn(c, ln, "relation that does not read", err);
    }
    if (hostvibs_span_is(key, "Name"))
        return hostvibs_keep(&d->name, value.p, value.n, err);
    if (hostvibs_span_is(key, "Version"))
        return hostvibs_keep(&d->version, value.p, value.n, err);
    if (hostvibs_span_is(key, "Vendor"))
        return hostvibs_keep(&d->vendor, value.p, value.n, err);
    if (hostvibs_span_is(key, "Type"))
        return hostvibs_keep(&d->type, value.p, value.n, err);
    if (hostvibs_span_is(key, "Acceptance Level"))
        return hostvibs_set_acceptance(v, value.p, value.n, err);
    if (hostvibs_span_is(key, "Creation Date"))
        return hostvibs_keep(&v->date, value.p, value.n, err);
    if (hostvibs_span_is(key, "Platforms"))
        return hostvibs_keep(&v->platforms, value.p, value.n, err);
    return 0;
}

/* Ends the open record: dropped, with a warning, when it cannot be used. */
static int hostvibs_close_record(struct hostvibs_rctx *c, struct esximg_err *err)
{
    struct esximg_hostvib *v = c->open;
    if (!v)
        return 0;
    c->open = NULL;
    const char *why = hostvibs_row_problem(v);
    if (!why)
        return 0;
    char quoted[64];
    esx_text_quote(v->id, strlen(v->id), quoted, sizeof quoted);
    size_t line = v->line;
    hostvibs_drop_last(c);
    return esx_warn(&c->h->warnings, line, err, "VIB record '%s': %s (skipped)", quoted,
                    strcmp(why, "row without a name or a version") == 0
                        ? "no Name or no Version field" : why);
}

static int hostvibs_get_line(struct hostvibs_rctx *c, const struct esx_line *ln,
                             struct esximg_err *err)
{
    if (esx_is_blank(ln->p[0]))
        return hostvibs_get_field(c, ln, err);
    int rc = hostvibs_close_record(c, err);
    if (rc)
        return rc;
    const char *s = ln->p;
    size_t n = ln->len;
    esx_trim(&s, &n);
    if (hostvibs_has_blank(s, n))
        return hostvibs_warn(c, ln, "not a VIB ID line of esxcli software vib get", err);
    struct esximg_hostvib *v;
    if ((rc = hostvibs_new(c, ln->number, &v, err)) ||
        (rc = hostvibs_keep(&v->id, s, n, err)))
        return rc;
    c->open = v;
    return 0;
}

/* ---------------------------------------------------------------- the reader */

/* vib get when an indented "Name:" line comes before any dash line. */
static enum esximg_hostvibs_form hostvibs_sniff(const char *data, size_t len)
{
    struct esx_line ln = {0};
    size_t pos = 0;
    while (esx_text_next(data, len, &pos, &ln)) {
        if (hostvibs_is_dashes(ln.p, ln.len))
            break;
        const char *s = ln.p;
        size_t n = ln.len;
        bool indented = n && esx_is_blank(s[0]);
        esx_trim(&s, &n);
        if (indented && n > 5 && memcmp(s, "Name:", 5) == 0)
            return ESXIMG_HOSTVIBS_VIB_GET;
    }
    return ESXIMG_HOSTVIBS_VIB_LIST;
}

int esximg_hostvibs_read(const void *data, size_t len, struct esximg_hostvibs **out,
                         struct esximg_err *err)
{
    struct hostvibs_rctx c = {0};
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "esxcli output", err);
    if (rc)
        return rc;
    if (!(c.h = calloc(1, sizeof *c.h)))
        return hostvibs_nomem(err);
    bool get = hostvibs_sniff(data, len) == ESXIMG_HOSTVIBS_VIB_GET;
    if (get)
        hostvibs_set_form(&c, ESXIMG_HOSTVIBS_VIB_GET);
    struct esx_line line = {0};
    size_t pos = 0;
    while (!rc && esx_text_next(data, len, &pos, &line)) {
        const char *s = line.p;
        size_t n = line.len;
        esx_trim(&s, &n);
        if (n == 0)
            continue;
        rc = get ? hostvibs_get_line(&c, &line, err) : hostvibs_table_line(&c, &line, err);
    }
    if (!rc && get)
        rc = hostvibs_close_record(&c, err);
    if (!rc && c.h->count == 0)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no VIB or component found in esxcli output "
                            "(esxcli software vib list, vib get or component list)");
    if (!rc) {
        *out = c.h;
        return 0;
    }
    esximg_hostvibs_free(c.h);
    return rc;
}

void esximg_hostvibs_free(struct esximg_hostvibs *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        hostvibs_vib_clear(&h->vibs[i]);
    free(h->vibs);
    esx_warnings_free(&h->warnings);
    free(h);
}

const char *esximg_hostvibs_form_name(enum esximg_hostvibs_form f)
{
    switch (f) {
    case ESXIMG_HOSTVIBS_VIB_LIST:
        return "vib list";
    case ESXIMG_HOSTVIBS_VIB_GET:
        return "vib get";
    case ESXIMG_HOSTVIBS_COMPONENT_LIST:
        return "component list";
    }
    return "unknown";
}
