/* bootcfg.c: BOOT.CFG read, verbatim write-back and the edits an image customizer needs
 * (modules list, kernelopt tokens, plain values), each touching only the text it changes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_private.h"
#include "esximg/bootcfg.h"
#include "esximg/modname.h"

#define BOOTCFG_MODULE_SEP     "---"
#define BOOTCFG_DEFAULT_SEP    " --- "

/* Keys of mboot (esx-boot mboot/config.c), safeboot and esximage, and whether mboot reads them
 * as integers (a non-decimal value there is a syntax error that stops the boot). */
static const struct bootcfg_known_key {
    const char *name;
    bool integer;
} bootcfg_known_keys[] = {
    {"kernel", false},     {"kernelopt", false},  {"modules", false},
    {"title", false},      {"prefix", false},     {"nobootif", true},
    {"timeout", true},     {"noquirks", true},    {"norts", true},
    {"crypto", false},     {"runtimewd", true},   {"tftpblksize", true},
    {"acpitables", false}, {"runtimewdtimeout", true}, {"skip", true},
    {"errtimeout", true},  {"bootstate", true},   {"updated", true},
    {"build", false},      {"quickboot", true},
};

/* The order in which esximage writes its keys: where an absent key is added. */
static const char *const bootcfg_key_order[] = {
    "bootstate", "title", "timeout", "prefix", "kernel", "kernelopt", "modules", "build",
    "updated",
};
#define BOOTCFG_KEY_ORDER_COUNT (sizeof bootcfg_key_order / sizeof bootcfg_key_order[0])

/* A span [start, end) of a value; for module items `mid` ends the path, for kernel options
 * it ends the key. */
struct bootcfg_span {
    size_t start, mid, end;
};

struct bootcfg_spans {
    size_t count;
    struct bootcfg_span *items;
};

/* ---------------------------------------------------------------- lines */

/* Classifies a line and finds its key and value spans. */
static void bootcfg_classify(struct esximg_bootcfg_line *l)
{
    const char *t = l->text;
    size_t first = 0;
    l->key_off = l->key_len = l->value_off = l->value_len = 0;
    while (first < l->len && esx_is_blank(t[first]))
        first++;
    if (first == l->len) {
        l->kind = ESXIMG_BOOTCFG_BLANK;
        return;
    }
    if (t[first] == '#') {
        l->kind = ESXIMG_BOOTCFG_COMMENT;
        return;
    }
    const char *eq = memchr(t + first, '=', l->len - first);
    size_t key_end = eq ? (size_t)(eq - t) : 0;
    while (key_end > first && esx_is_blank(t[key_end - 1]))
        key_end--;
    if (!eq || key_end == first) {
        l->kind = ESXIMG_BOOTCFG_OTHER;
        return;
    }
    l->kind = ESXIMG_BOOTCFG_KEYVAL;
    l->key_off = first;
    l->key_len = key_end - first;
    size_t after_eq = (size_t)(eq - t) + 1;
    const char *v = t + after_eq;
    size_t n = l->len - after_eq;
    esx_trim(&v, &n);
    /* an empty value sits right after '=', so that setting it keeps the blanks and '\r' */
    l->value_off = n ? (size_t)(v - t) : after_eq;
    l->value_len = n;
}

static int bootcfg_line_init(struct esximg_bootcfg_line *l, const char *text, size_t len,
                             struct esximg_err *err)
{
    l->text = esx_strndup(text, len);
    if (!l->text)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory keeping a boot.cfg line");
    l->len = len;
    bootcfg_classify(l);
    return 0;
}

static bool bootcfg_key_is(const struct esximg_bootcfg_line *l, const char *key)
{
    return l->kind == ESXIMG_BOOTCFG_KEYVAL &&
           esx_mem_ieq(l->text + l->key_off, l->key_len, key);
}

#define BOOTCFG_KNOWN_COUNT (sizeof bootcfg_known_keys / sizeof bootcfg_known_keys[0])

/* The index of the line's key in bootcfg_known_keys, or BOOTCFG_KNOWN_COUNT. */
static size_t bootcfg_known(const struct esximg_bootcfg_line *l)
{
    size_t i = 0;
    while (i < BOOTCFG_KNOWN_COUNT && !bootcfg_key_is(l, bootcfg_known_keys[i].name))
        i++;
    return i;
}

/* mboot's is_number: an optional '-' (errtimeout defaults to -1), then decimal digits; empty
 * is 0, and so is a lone '-' (is_number accepts it and atoi gives 0) */
static bool bootcfg_is_number(const char *s, size_t n)
{
    size_t i = n && s[0] == '-' ? 1 : 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Records the warnings of line `index`; seen[] marks the known keys met so far. */
static int bootcfg_check_line(struct esximg_bootcfg *c, size_t index, bool *seen,
                              struct esximg_err *err)
{
    const struct esximg_bootcfg_line *l = &c->lines[index];
    char quoted[64];
    if (l->kind == ESXIMG_BOOTCFG_OTHER) {
        esx_text_quote(l->text, l->len, quoted, sizeof quoted);
        return esx_warn(&c->warnings, index + 1, err,
                        "line '%s' is not key=value (ignored by the boot loader)", quoted);
    }
    if (l->kind != ESXIMG_BOOTCFG_KEYVAL)
        return 0;
    esx_text_quote(l->text + l->key_off, l->key_len, quoted, sizeof quoted);
    size_t known = bootcfg_known(l);
    if (known == BOOTCFG_KNOWN_COUNT)
        return esx_warn(&c->warnings, index + 1, err,
                        "unknown key '%s' (ignored by the boot loader)", quoted);
    if (bootcfg_known_keys[known].integer &&
        !bootcfg_is_number(l->text + l->value_off, l->value_len))
        return esx_warn(&c->warnings, index + 1, err,
                        "key '%s': value is not a decimal number (a boot loader syntax error)",
                        quoted);
    if (seen[known])
        return esx_warn(&c->warnings, index + 1, err,
                        "key '%s' repeated (the last one counts)", quoted);
    seen[known] = true;
    return 0;
}

/* ---------------------------------------------------------------- read */

int esximg_bootcfg_read(const void *data, size_t len, const struct esximg_bootcfg_ropts *o,
                        struct esximg_bootcfg **out, struct esximg_err *err)
{
    (void)o;
    struct esximg_bootcfg *c = NULL;
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "boot.cfg", err);
    if (rc)
        goto out;
    c = calloc(1, sizeof *c);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += ((const char *)data)[i] == '\n';
    if (c)
        c->lines = esx_malloc_array(lines, sizeof *c->lines);
    if (!c || !c->lines) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading boot.cfg");
        goto out;
    }
    struct esx_line line = {0};
    size_t pos = 0;
    while (esx_text_next(data, len, &pos, &line)) {
        rc = bootcfg_line_init(&c->lines[c->line_count], line.p, line.len, err);
        if (rc)
            goto out;
        c->line_count++;
        c->final_newline = line.newline;
        if (line.number == 1)
            c->crlf = line.newline && line.len && line.p[line.len - 1] == '\r';
    }
    bool seen[BOOTCFG_KNOWN_COUNT] = {false};
    for (size_t i = 0; i < c->line_count; i++)
        if ((rc = bootcfg_check_line(c, i, seen, err)))
            goto out;
    *out = c;
    c = NULL;
out:
    esximg_bootcfg_free(c);
    return rc;
}

/* ---------------------------------------------------------------- write */

int esximg_bootcfg_write(const struct esximg_bootcfg *c, char **data, size_t *len,
                         struct esximg_err *err)
{
    struct esx_buf b;
    int rc = 0;
    esx_buf_init(&b, 0);
    for (size_t i = 0; i < c->line_count && !rc; i++) {
        rc = esx_buf_append(&b, c->lines[i].text, c->lines[i].len, err);
        if (!rc && (i + 1 < c->line_count || c->final_newline))
            rc = esx_buf_append(&b, "\n", 1, err);
    }
    if (!rc && !b.data)
        rc = esx_buf_append(&b, "", 0, err);
    if (rc)
        goto out;
    *data = esx_buf_take(&b, len);
out:
    esx_buf_free(&b);
    return rc;
}

void esximg_bootcfg_free(struct esximg_bootcfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->line_count; i++)
        free(c->lines[i].text);
    free(c->lines);
    esx_warnings_free(&c->warnings);
    free(c);
}

/* ---------------------------------------------------------------- keys */

long esximg_bootcfg_find(const struct esximg_bootcfg *c, const char *key)
{
    for (size_t i = c->line_count; i-- > 0;)
        if (bootcfg_key_is(&c->lines[i], key))
            return (long)i;
    return -1;
}

static long bootcfg_find_first(const struct esximg_bootcfg *c, const char *key)
{
    for (size_t i = 0; i < c->line_count; i++)
        if (bootcfg_key_is(&c->lines[i], key))
            return (long)i;
    return -1;
}

int esximg_bootcfg_get(const struct esximg_bootcfg *c, const char *key, char **value,
                       struct esximg_err *err)
{
    long i = esximg_bootcfg_find(c, key);
    if (i < 0)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "key '%s' not in boot.cfg", key);
    const struct esximg_bootcfg_line *l = &c->lines[i];
    char *copy = esx_strndup(l->text + l->value_off, l->value_len);
    if (!copy)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading key '%s'", key);
    *value = copy;
    return 0;
}

static bool bootcfg_has_any(const char *s, const char *bytes)
{
    return strpbrk(s, bytes) != NULL;
}

static int bootcfg_check_key(const char *key, struct esximg_err *err)
{
    if (!key || !*key || key[0] == '#' || bootcfg_has_any(key, "= \t\r\n\v\f"))
        return esximg_err_set(err, ESXIMG_EINVAL, "key '%s' is not a boot.cfg key",
                              key ? key : "");
    return 0;
}

/* Replaces the value span of line `index` with `value` (n bytes). */
static int bootcfg_replace_value(struct esximg_bootcfg *c, size_t index, const char *value,
                                 size_t n, struct esximg_err *err)
{
    struct esximg_bootcfg_line *l = &c->lines[index];
    size_t tail = l->len - l->value_off - l->value_len, total;
    if (esx_add_size(l->value_off, n, &total) || esx_add_size(total, tail, &total) ||
        total > ESX_MAX_LINE_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "boot.cfg line %zu would exceed %u bytes",
                              index + 1, ESX_MAX_LINE_BYTES);
    char *text = malloc(total + 1);
    if (!text)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory editing boot.cfg");
    memcpy(text, l->text, l->value_off);
    memcpy(text + l->value_off, value, n);
    memcpy(text + l->value_off + n, l->text + l->value_off + l->value_len, tail);
    text[total] = '\0';
    free(l->text);
    l->text = text;
    l->len = total;
    bootcfg_classify(l);
    return 0;
}

/* Where a new line for `key` goes (see esximg_bootcfg_set). */
static size_t bootcfg_new_line_place(const struct esximg_bootcfg *c, const char *key)
{
    size_t rank = BOOTCFG_KEY_ORDER_COUNT;
    for (size_t i = 0; i < BOOTCFG_KEY_ORDER_COUNT; i++)
        if (!strcasecmp(key, bootcfg_key_order[i]))
            rank = i;
    if (rank == BOOTCFG_KEY_ORDER_COUNT)
        return c->line_count;
    for (size_t j = rank; j-- > 0;) {
        long at = esximg_bootcfg_find(c, bootcfg_key_order[j]);
        if (at >= 0)
            return (size_t)at + 1;
    }
    for (size_t j = rank + 1; j < BOOTCFG_KEY_ORDER_COUNT; j++) {
        long at = bootcfg_find_first(c, bootcfg_key_order[j]);
        if (at >= 0)
            return (size_t)at;
    }
    return c->line_count;
}

static int bootcfg_add_line(struct esximg_bootcfg *c, const char *key, const char *value,
                            size_t n, struct esximg_err *err)
{
    struct esx_buf b;
    int rc;
    if (c->line_count >= ESX_MAX_TEXT_LINES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "boot.cfg would exceed %u lines",
                              ESX_MAX_TEXT_LINES);
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    if ((rc = esx_buf_printf(&b, err, "%s=", key)) || (rc = esx_buf_append(&b, value, n, err)) ||
        (c->crlf && (rc = esx_buf_append(&b, "\r", 1, err))))
        goto out;
    struct esximg_bootcfg_line *grown = esx_realloc_array(c->lines, c->line_count + 1,
                                                          sizeof *c->lines);
    if (!grown) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory editing boot.cfg");
        goto out;
    }
    c->lines = grown;
    size_t at = bootcfg_new_line_place(c, key);
    struct esximg_bootcfg_line l = {0};
    l.text = esx_buf_take(&b, &l.len);
    bootcfg_classify(&l);
    memmove(&c->lines[at + 1], &c->lines[at], (c->line_count - at) * sizeof *c->lines);
    c->lines[at] = l;
    if (c->line_count++ == 0)
        c->final_newline = true;
out:
    esx_buf_free(&b);
    return rc;
}

static int bootcfg_set_n(struct esximg_bootcfg *c, const char *key, const char *value, size_t n,
                         struct esximg_err *err)
{
    long at = esximg_bootcfg_find(c, key);
    if (at < 0)
        return bootcfg_add_line(c, key, value, n, err);
    return bootcfg_replace_value(c, (size_t)at, value, n, err);
}

int esximg_bootcfg_set(struct esximg_bootcfg *c, const char *key, const char *value,
                       struct esximg_err *err)
{
    int rc = bootcfg_check_key(key, err);
    if (rc)
        return rc;
    if (!value || bootcfg_has_any(value, "\r\n"))
        return esximg_err_set(err, ESXIMG_EINVAL, "value of key '%s' holds a line break", key);
    const char *v = value;
    size_t n = strlen(value);
    esx_trim(&v, &n);
    return bootcfg_set_n(c, key, v, n, err);
}

/* ---------------------------------------------------------------- spans in a value */

static int bootcfg_span_add(struct bootcfg_spans *s, size_t start, size_t mid, size_t end,
                            struct esximg_err *err)
{
    /* capacity is the next power of two: doubling keeps a long value linear */
    if ((s->count & (s->count - 1)) == 0) {
        size_t want = s->count ? s->count * 2 : 1;
        struct bootcfg_span *grown = esx_realloc_array(s->items, want, sizeof *s->items);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory splitting a boot.cfg value");
        s->items = grown;
    }
    s->items[s->count++] = (struct bootcfg_span){start, mid, end};
    return 0;
}

static const char *bootcfg_find_sep(const char *v, size_t from, size_t n)
{
    return from < n ? memmem(v + from, n - from, BOOTCFG_MODULE_SEP, 3) : NULL;
}

/* Splits a modules value like mboot's find_next_mod/parse_modules. */
static int bootcfg_split_modules(const char *v, size_t n, struct bootcfg_spans *s,
                                 struct esximg_err *err)
{
    size_t i = 0;
    while (i < n) {
        if (esx_is_blank(v[i])) {
            i++;
            continue;
        }
        const char *sep = bootcfg_find_sep(v, i, n);
        if (sep == v + i) {
            i += 3;
            continue;
        }
        size_t end = sep ? (size_t)(sep - v) : n;
        size_t next = sep ? end + 3 : n;
        while (end > i && esx_is_blank(v[end - 1]))
            end--;
        size_t mid = i;
        while (mid < end && !esx_is_blank(v[mid]))
            mid++;
        int rc = bootcfg_span_add(s, i, mid, end, err);
        if (rc)
            return rc;
        i = next;
    }
    return 0;
}

/* Splits a kernelopt value into blank-separated tokens (mid ends the key). */
static int bootcfg_split_tokens(const char *v, size_t n, struct bootcfg_spans *s,
                                struct esximg_err *err)
{
    size_t i = 0;
    while (i < n) {
        if (esx_is_blank(v[i])) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < n && !esx_is_blank(v[end]))
            end++;
        const char *eq = memchr(v + i, '=', end - i);
        int rc = bootcfg_span_add(s, i, eq ? (size_t)(eq - v) : end, end, err);
        if (rc)
            return rc;
        i = end;
    }
    return 0;
}

/* The value of `key` (a pointer into the line) and its length; an absent key is empty. */
static const char *bootcfg_value(const struct esximg_bootcfg *c, const char *key, size_t *n)
{
    long at = esximg_bootcfg_find(c, key);
    if (at < 0) {
        *n = 0;
        return "";
    }
    *n = c->lines[at].value_len;
    return c->lines[at].text + c->lines[at].value_off;
}

/* ---------------------------------------------------------------- modules= */

void esximg_bootcfg_modules_free(struct esximg_bootcfg_modules *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->items[i].path);
        free(m->items[i].args);
    }
    free(m->items);
    free(m);
}

int esximg_bootcfg_modules_get(const struct esximg_bootcfg *c,
                               struct esximg_bootcfg_modules **out, struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esximg_bootcfg_modules *m = calloc(1, sizeof *m);
    size_t n;
    const char *v = bootcfg_value(c, "modules", &n);
    int rc = m ? bootcfg_split_modules(v, n, &s, err)
               : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing modules");
    if (rc)
        goto out;
    m->items = esx_malloc_array(s.count, sizeof *m->items);
    if (!m->items) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing modules");
        goto out;
    }
    for (; m->count < s.count; m->count++) {
        const struct bootcfg_span *sp = &s.items[m->count];
        const char *args = v + sp->mid;
        size_t args_len = sp->end - sp->mid;
        esx_trim(&args, &args_len);
        struct esximg_bootcfg_module *item = &m->items[m->count];
        item->path = esx_strndup(v + sp->start, sp->mid - sp->start);
        item->args = args_len ? esx_strndup(args, args_len) : NULL;
        if (!item->path || (args_len && !item->args)) {
            m->count++;
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing modules");
            goto out;
        }
    }
    *out = m;
    m = NULL;
out:
    free(s.items);
    esximg_bootcfg_modules_free(m);
    return rc;
}

static int bootcfg_check_module(const char *path, const char *args, struct esximg_err *err)
{
    if (!path || !*path || bootcfg_has_any(path, " \t\r\n\v\f") || strstr(path, "---"))
        return esximg_err_set(err, ESXIMG_EINVAL, "module path '%s' cannot be listed in "
                              "boot.cfg", path ? path : "");
    if (args && (bootcfg_has_any(args, "\r\n") || strstr(args, "---")))
        return esximg_err_set(err, ESXIMG_EINVAL, "options of module '%s' cannot be listed in "
                              "boot.cfg", path);
    return 0;
}

/* `path [args]`, the path given the leading-'/' style `slash` (-1: as given). */
static int bootcfg_module_text(struct esx_buf *b, const char *path, const char *args, int slash,
                               struct esximg_err *err)
{
    int rc;
    if (slash == 1 && path[0] != '/')
        rc = esx_buf_append(b, "/", 1, err);
    else if (slash == 0 && path[0] == '/' && path[1] != '\0')
        path++, rc = 0;
    else
        rc = 0;
    if (!rc)
        rc = esx_buf_puts(b, path, err);
    const char *a = args ? args : "";
    size_t an = strlen(a);
    esx_trim(&a, &an);
    if (!rc && an) {
        rc = esx_buf_append(b, " ", 1, err);
        if (!rc)
            rc = esx_buf_append(b, a, an, err);
    }
    return rc;
}

/* The separator text the list uses before item k (k >= 1), else between its first two items,
 * else the default. */
static void bootcfg_sep(const char *v, const struct bootcfg_spans *s, size_t k,
                        const char **sep, size_t *sep_len)
{
    if (s->count >= 2) {
        size_t at = k >= 1 && k < s->count ? k : 1;
        *sep = v + s->items[at - 1].end;
        *sep_len = s->items[at].start - s->items[at - 1].end;
        return;
    }
    *sep = BOOTCFG_DEFAULT_SEP;
    *sep_len = strlen(BOOTCFG_DEFAULT_SEP);
}

int esximg_bootcfg_modules_set(struct esximg_bootcfg *c,
                               const struct esximg_bootcfg_module *items, size_t count,
                               struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    size_t n;
    const char *v = bootcfg_value(c, "modules", &n);
    const char *sep;
    size_t sep_len;
    int rc = bootcfg_split_modules(v, n, &s, err);
    if (rc)
        goto out;
    bootcfg_sep(v, &s, 1, &sep, &sep_len);
    /* the value is about to be replaced: copy the separator out of it */
    char sep_copy[64];
    if (sep_len >= sizeof sep_copy || esx_has_nul(sep, sep_len)) {
        sep = BOOTCFG_DEFAULT_SEP;
        sep_len = strlen(sep);
    }
    memcpy(sep_copy, sep, sep_len);
    for (size_t i = 0; i < count && !rc; i++) {
        rc = bootcfg_check_module(items[i].path, items[i].args, err);
        if (!rc && i)
            rc = esx_buf_append(&b, sep_copy, sep_len, err);
        if (!rc)
            rc = bootcfg_module_text(&b, items[i].path, items[i].args, -1, err);
    }
    if (!rc)
        rc = bootcfg_set_n(c, "modules", b.data ? b.data : "", b.len, err);
out:
    free(s.items);
    esx_buf_free(&b);
    return rc;
}

bool esximg_bootcfg_module_is(const char *path, const char *name)
{
    const char *a = esx_path_base(path), *b = esx_path_base(name);
    return *a && !strcasecmp(a, b);
}

/* Builds a new modules value: `head` bytes of the old one, the text in `mid`, the rest. */
static int bootcfg_splice(struct esximg_bootcfg *c, const char *v, size_t n, size_t at,
                          const struct esx_buf *mid, struct esximg_err *err)
{
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    int rc = esx_buf_append(&b, v, at, err);
    if (!rc)
        rc = esx_buf_append(&b, mid->data, mid->len, err);
    if (!rc)
        rc = esx_buf_append(&b, v + at, n - at, err);
    if (!rc)
        rc = bootcfg_set_n(c, "modules", b.data, b.len, err);
    esx_buf_free(&b);
    return rc;
}

int esximg_bootcfg_module_insert_before(struct esximg_bootcfg *c, const char *before,
                                        const char *path, const char *args,
                                        struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esx_buf ins;
    esx_buf_init(&ins, ESX_MAX_LINE_BYTES);
    size_t n;
    const char *v = bootcfg_value(c, "modules", &n);
    int rc = bootcfg_check_module(path, args, err);
    if (!rc)
        rc = bootcfg_split_modules(v, n, &s, err);
    if (rc)
        goto out;
    size_t k = 0;
    for (; k < s.count; k++) {
        char *item = esx_strndup(v + s.items[k].start, s.items[k].mid - s.items[k].start);
        if (!item) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory editing modules");
            goto out;
        }
        bool hit = esximg_bootcfg_module_is(item, before);
        free(item);
        if (hit)
            break;
    }
    if (k == s.count) {
        rc = esximg_err_set(err, ESXIMG_ENOTFOUND, "module '%s' not in the modules list",
                            before);
        goto out;
    }
    const char *sep;
    size_t sep_len;
    bootcfg_sep(v, &s, k, &sep, &sep_len);
    if (!(rc = bootcfg_module_text(&ins, path, args, v[s.items[k].start] == '/', err)))
        rc = esx_buf_append(&ins, sep, sep_len, err);
    if (!rc)
        rc = bootcfg_splice(c, v, n, s.items[k].start, &ins, err);
out:
    free(s.items);
    esx_buf_free(&ins);
    return rc;
}

int esximg_bootcfg_module_append(struct esximg_bootcfg *c, const char *path, const char *args,
                                 struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esx_buf ins;
    esx_buf_init(&ins, ESX_MAX_LINE_BYTES);
    size_t n;
    const char *v = bootcfg_value(c, "modules", &n);
    int rc = bootcfg_check_module(path, args, err);
    if (!rc)
        rc = bootcfg_split_modules(v, n, &s, err);
    if (rc)
        goto out;
    if (s.count == 0) {
        struct esximg_bootcfg_module only = {(char *)path, (char *)args};
        rc = esximg_bootcfg_modules_set(c, &only, 1, err);
        goto out;
    }
    const struct bootcfg_span *last = &s.items[s.count - 1];
    const char *sep;
    size_t sep_len;
    bootcfg_sep(v, &s, s.count - 1, &sep, &sep_len);
    if (!(rc = esx_buf_append(&ins, sep, sep_len, err)))
        rc = bootcfg_module_text(&ins, path, args, v[last->start] == '/', err);
    if (!rc)
        rc = bootcfg_splice(c, v, n, last->end, &ins, err);
out:
    free(s.items);
    esx_buf_free(&ins);
    return rc;
}

/* True when the item path of span sp names `name`. */
static int bootcfg_span_is(const char *v, const struct bootcfg_span *sp, const char *name,
                           bool *hit, struct esximg_err *err)
{
    char *item = esx_strndup(v + sp->start, sp->mid - sp->start);
    if (!item)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory editing modules");
    *hit = esximg_bootcfg_module_is(item, name);
    free(item);
    return 0;
}

/* Keeps the value text outside the dropped items: what leads the first item, each kept item
 * with the separator before it (none before the first kept one), what trails the last. */
static int bootcfg_rebuild(const char *v, size_t n, const struct bootcfg_spans *s,
                           const bool *drop, struct esx_buf *b, struct esximg_err *err)
{
    int rc = esx_buf_append(b, v, s->count ? s->items[0].start : n, err);
    bool any = false;
    for (size_t k = 0; k < s->count && !rc; k++) {
        if (drop[k])
            continue;
        size_t from = any && k ? s->items[k - 1].end : s->items[k].start;
        rc = esx_buf_append(b, v + from, s->items[k].end - from, err);
        any = true;
    }
    if (!rc && s->count)
        rc = esx_buf_append(b, v + s->items[s->count - 1].end, n - s->items[s->count - 1].end,
                            err);
    return rc;
}

int esximg_bootcfg_module_remove(struct esximg_bootcfg *c, const char *name,
                                 struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esx_buf b;
    bool *drop = NULL;
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    size_t n, hits = 0;
    const char *v = bootcfg_value(c, "modules", &n);
    int rc = bootcfg_split_modules(v, n, &s, err);
    if (rc)
        goto out;
    drop = esx_malloc_array(s.count, sizeof *drop);
    if (!drop) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory editing modules");
        goto out;
    }
    for (size_t k = 0; k < s.count && !rc; k++) {
        rc = bootcfg_span_is(v, &s.items[k], name, &drop[k], err);
        hits += drop[k];
    }
    if (!rc && hits == 0)
        rc = esximg_err_set(err, ESXIMG_ENOTFOUND, "module '%s' not in the modules list", name);
    if (!rc)
        rc = bootcfg_rebuild(v, n, &s, drop, &b, err);
    if (!rc)
        rc = bootcfg_set_n(c, "modules", b.data, b.len, err);
out:
    free(drop);
    free(s.items);
    esx_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- kernelopt= */

void esximg_bootcfg_options_free(struct esximg_bootcfg_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++) {
        free(o->items[i].key);
        free(o->items[i].value);
    }
    free(o->items);
    free(o);
}

int esximg_bootcfg_kernelopt_get(const struct esximg_bootcfg *c,
                                 struct esximg_bootcfg_options **out, struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esximg_bootcfg_options *o = calloc(1, sizeof *o);
    size_t n;
    const char *v = bootcfg_value(c, "kernelopt", &n);
    int rc = o ? bootcfg_split_tokens(v, n, &s, err)
               : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing kernel options");
    if (rc)
        goto out;
    o->items = esx_malloc_array(s.count, sizeof *o->items);
    if (!o->items) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing kernel options");
        goto out;
    }
    for (; o->count < s.count; o->count++) {
        const struct bootcfg_span *sp = &s.items[o->count];
        struct esximg_bootcfg_option *opt = &o->items[o->count];
        bool has_value = sp->mid < sp->end;
        opt->key = esx_strndup(v + sp->start, sp->mid - sp->start);
        opt->value = has_value ? esx_strndup(v + sp->mid + 1, sp->end - sp->mid - 1) : NULL;
        if (!opt->key || (has_value && !opt->value)) {
            o->count++;
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory listing kernel options");
            goto out;
        }
    }
    *out = o;
    o = NULL;
out:
    free(s.items);
    esximg_bootcfg_options_free(o);
    return rc;
}

static bool bootcfg_token_is(const char *v, const struct bootcfg_span *sp, const char *key)
{
    return esx_mem_ieq(v + sp->start, sp->mid - sp->start, key);
}

/* Rewrites kernelopt: the first token with `key` becomes `repl` (NULL: removed too), the
 * others with `key` are removed with the blanks before them (after them, for a first token),
 * `repl` is appended when no token has the key; *hits counts the tokens found. */
static int bootcfg_kernelopt_edit(struct esximg_bootcfg *c, const char *key, const char *repl,
                                  size_t *hits, struct esximg_err *err)
{
    struct bootcfg_spans s = {0};
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_LINE_BYTES);
    size_t n;
    bool emitted = false;
    const char *v = bootcfg_value(c, "kernelopt", &n);
    int rc = bootcfg_split_tokens(v, n, &s, err);
    *hits = 0;
    if (!rc && s.count)
        rc = esx_buf_append(&b, v, s.items[0].start, err);
    for (size_t k = 0; k < s.count && !rc; k++) {
        const struct bootcfg_span *sp = &s.items[k];
        bool hit = bootcfg_token_is(v, sp, key);
        bool keep = !hit || (repl && *hits == 0);
        *hits += hit;
        if (!keep)
            continue;
        if (emitted)
            rc = esx_buf_append(&b, v + s.items[k - 1].end, sp->start - s.items[k - 1].end, err);
        if (!rc)
            rc = hit ? esx_buf_puts(&b, repl, err)
                     : esx_buf_append(&b, v + sp->start, sp->end - sp->start, err);
        emitted = true;
    }
    if (!rc && repl && *hits == 0) {
        if (emitted)
            rc = esx_buf_append(&b, " ", 1, err);
        if (!rc)
            rc = esx_buf_puts(&b, repl, err);
    }
    if (!rc && s.count)
        rc = esx_buf_append(&b, v + s.items[s.count - 1].end, n - s.items[s.count - 1].end, err);
    if (!rc && (*hits || repl))
        rc = bootcfg_set_n(c, "kernelopt", b.data ? b.data : "", b.len, err);
    free(s.items);
    esx_buf_free(&b);
    return rc;
}

int esximg_bootcfg_kernelopt_set(struct esximg_bootcfg *c, const char *key, const char *value,
                                 struct esximg_err *err)
{
    if (!key || !*key || bootcfg_has_any(key, "= \t\r\n\v\f") ||
        (value && bootcfg_has_any(value, " \t\r\n\v\f")))
        return esximg_err_set(err, ESXIMG_EINVAL, "kernel option '%s' cannot be written in "
                              "boot.cfg", key ? key : "");
    struct esx_buf tok;
    size_t hits;
    esx_buf_init(&tok, ESX_MAX_LINE_BYTES);
    int rc = value ? esx_buf_printf(&tok, err, "%s=%s", key, value) : esx_buf_puts(&tok, key, err);
    if (!rc)
        rc = bootcfg_kernelopt_edit(c, key, tok.data, &hits, err);
    esx_buf_free(&tok);
    return rc;
}

int esximg_bootcfg_kernelopt_remove(struct esximg_bootcfg *c, const char *key,
                                    struct esximg_err *err)
{
    size_t hits;
    int rc = bootcfg_kernelopt_edit(c, key, NULL, &hits, err);
    if (!rc && hits == 0)
        rc = esximg_err_set(err, ESXIMG_ENOTFOUND, "kernel option '%s' not in kernelopt", key);
    return rc;
}

/* ---------------------------------------------------------------- the loader's rules */

/* The first entries of bootcfg_known_keys are mboot's own table (esx-boot mboot/config.c), in
 * its order: a key written as a prefix resolves to the first of them it begins. */
#define BOOTCFG_MBOOT_KEY_COUNT 16u

/* Base names (extension dropped) that Secure Boot requires signed and unique (esx-boot
 * mboot/secure.c, schema 4; compared case-sensitively): esximg_modname_reserved_names. */
#define BOOTCFG_SECURE_NAME_COUNT ESXIMG_MODNAME_RESERVED_COUNT

/* A line as mboot sees it: blanks merged, the key before the first '=', its known key. */
struct bootcfg_mline {
    char *text;             /* merged (malloc'd); NULL for lines mboot skips */
    size_t key_len;         /* the key, from text[0], a blank before '=' included */
    const char *value;      /* into text: after '=' and one blank */
    size_t known;           /* index into bootcfg_known_keys, or BOOTCFG_MBOOT_KEY_COUNT */
};

struct bootcfg_lcheck {
    const struct esximg_bootcfg *c;
    struct bootcfg_mline *m;
    size_t winner[BOOTCFG_MBOOT_KEY_COUNT];    /* line of each key's last occurrence, + 1 */
    struct esximg_bootcfg_violations *v;
};

/* mboot's str_merge_spaces: blanks at the ends dropped, each run of them made one space. */
static char *bootcfg_merge_blanks(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t j = 0;
    bool blank = true;
    for (size_t i = 0; out && i < n; i++) {
        if (esx_is_blank(s[i])) {
            if (!blank)
                out[j++] = ' ';
            blank = true;
        } else {
            out[j++] = s[i];
            blank = false;
        }
    }
    if (out && j && out[j - 1] == ' ')
        j--;
    if (out)
        out[j] = '\0';
    return out;
}

/* The first mboot key that `key` (n bytes) begins, ignoring case; an empty key begins
 * "kernel" (mboot compares zero characters). */
static size_t bootcfg_mboot_key(const char *key, size_t n)
{
    for (size_t i = 0; i < BOOTCFG_MBOOT_KEY_COUNT; i++)
        if (n <= strlen(bootcfg_known_keys[i].name) &&
            !strncasecmp(key, bootcfg_known_keys[i].name, n))
            return i;
    return BOOTCFG_MBOOT_KEY_COUNT;
}

__attribute__((format(printf, 6, 7)))
static int bootcfg_violation(struct bootcfg_lcheck *k, enum esximg_bootcfg_rule rule,
                             size_t line, uint64_t limit, uint64_t actual, const char *fmt, ...)
{
    struct esximg_bootcfg_violations *v = k->v;
    struct esximg_bootcfg_violation *grown = esx_realloc_array(v->items, v->count + 1,
                                                               sizeof *v->items);
    if (!grown)
        return ESXIMG_ENOMEM;
    v->items = grown;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct esximg_bootcfg_violation *it = &v->items[v->count];
    *it = (struct esximg_bootcfg_violation){rule, line, limit, actual, esx_strdup(msg)};
    if (!it->msg)
        return ESXIMG_ENOMEM;
    v->count++;
    return 0;
}

/* Reads line i as mboot does and checks its key and value. */
static int bootcfg_check_mline(struct bootcfg_lcheck *k, size_t i)
{
    const struct esximg_bootcfg_line *l = &k->c->lines[i];
    struct bootcfg_mline *m = &k->m[i];
    m->known = BOOTCFG_MBOOT_KEY_COUNT;
    if (l->kind == ESXIMG_BOOTCFG_BLANK || l->kind == ESXIMG_BOOTCFG_COMMENT)
        return 0;
    if (!(m->text = bootcfg_merge_blanks(l->text, l->len)))
        return ESXIMG_ENOMEM;
    const char *eq = strchr(m->text, '=');
    if (!eq)
        return 0;                           /* no separator: mboot ignores the line */
    m->key_len = (size_t)(eq - m->text);
    m->value = eq + 1 + (eq[1] == ' ');
    char key[64];
    esx_text_quote(m->text, m->key_len, key, sizeof key);
    if (m->key_len && m->text[m->key_len - 1] == ' ') {
        size_t meant = bootcfg_mboot_key(m->text, m->key_len - 1);
        if (meant == BOOTCFG_MBOOT_KEY_COUNT)
            return 0;
        return bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_KEY_BLANK, i + 1, 0, 0,
                                 "key '%s' has a blank before '=': mboot compares the blank "
                                 "too and ignores the line (meant for '%s')", key,
                                 bootcfg_known_keys[meant].name);
    }
    m->known = bootcfg_mboot_key(m->text, m->key_len);
    if (m->known == BOOTCFG_MBOOT_KEY_COUNT)
        return 0;
    k->winner[m->known] = i + 1;
    const char *name = bootcfg_known_keys[m->known].name;
    int rc = 0;
    if (m->key_len == 0)
        rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_KEY_PREFIX, i + 1, 0, 0, "a line with "
                               "an empty key is read by mboot as '%s'", name);
    else if (m->key_len != strlen(name))
        rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_KEY_PREFIX, i + 1, 0, 0, "key '%s' is "
                               "not a full key name: mboot matches keys as prefixes and "
                               "reads it as '%s'", key, name);
    char value[64];
    size_t vlen = strlen(m->value);
    esx_text_quote(m->value, vlen, value, sizeof value);
    if (!rc && bootcfg_known_keys[m->known].integer && vlen &&
        !bootcfg_is_number(m->value, vlen))
        rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_NOT_INTEGER, i + 1, 0, 0, "integer key "
                               "'%s' has the value '%s', not -?digits: mboot's whole parse "
                               "fails and the boot stops", name, value);
    const char *hash = vlen && m->value[0] == '#' ? m->value : strstr(m->value, " #");
    if (hash && hash[0] == ' ')
        hash++;
    if (!rc && hash)
        rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_INLINE_COMMENT, i + 1, 0, 0, "value of "
                               "'%s' holds '#' after a blank, at character %zu: mboot has no "
                               "inline comments, the '#' and what follows are part of the "
                               "value", name, (size_t)(hash - m->value) + 1);
    return rc;
}

/* The value mboot keeps for key index `known` (empty: none), and its line (0: none). */
static const char *bootcfg_mboot_value(const struct bootcfg_lcheck *k, size_t known,
                                       size_t *line)
{
    *line = k->winner[known];
    return *line ? k->m[*line - 1].value : "";
}

/* The length of a path as mboot's make_path builds it: a relative one under `prefix`. */
static size_t bootcfg_path_length(const char *prefix, const char *path, size_t n)
{
    bool absolute = n && (path[0] == '/' || path[0] == '\\' || memmem(path, n, "://", 3));
    return absolute || !prefix[0] ? n : strlen(prefix) + 1 + n;
}

/* The base name of a path without its extension, as esx-boot mboot/secure.c cuts it. */
static void bootcfg_stem(const char *path, size_t n, const char **stem, size_t *len)
{
    size_t from = n;
    while (from > 0 && path[from - 1] != '/' && path[from - 1] != '\\')
        from--;
    size_t to = n;
    while (to > from && path[to - 1] != '.')
        to--;
    *stem = path + from;
    *len = to > from ? to - 1 - from : n - from;
}

/* The Secure Boot name rule for one loaded file; seen[] counts the exact names met. */
static int bootcfg_check_secure_name(struct bootcfg_lcheck *k, size_t line, const char *path,
                                     size_t n, unsigned *seen)
{
    const char *stem;
    size_t len;
    bootcfg_stem(path, n, &stem, &len);
    char quoted[64];
    esx_text_quote(path, n, quoted, sizeof quoted);
    for (size_t i = 0; i < BOOTCFG_SECURE_NAME_COUNT; i++) {
        const char *want = esximg_modname_reserved_names[i];
        if (!esx_mem_ieq(stem, len, want))
            continue;
        if (memcmp(stem, want, len) != 0)
            return bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME, line, 0, 0,
                                     "module '%s' is named '%s' in another case: Secure Boot "
                                     "compares names case-sensitively and would not check its "
                                     "signature", quoted, want);
        if (seen[i]++)
            return bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME, line, 0, 0,
                                     "module '%s' is a second module named '%s': Secure Boot "
                                     "stops the boot on a duplicate", quoted, want);
    }
    return 0;
}

/* The kernel command line and the Secure Boot name of the kernel. */
static int bootcfg_check_kernel(struct bootcfg_lcheck *k, const char *prefix, unsigned *seen)
{
    size_t line, opt_line;
    const char *kernel = bootcfg_mboot_value(k, 0, &line);
    const char *opts = bootcfg_mboot_value(k, 1, &opt_line);
    if (!line || !kernel[0])
        return 0;
    size_t path_len = strcspn(kernel, " ");
    size_t total = bootcfg_path_length(prefix, kernel, strlen(kernel));
    if (opts[0])
        total += 1 + strlen(opts);
    int rc = 0;
    if (total >= ESXIMG_BOOTCFG_MAX_KERNEL_CMDLINE)
        rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_KERNEL_LENGTH, opt_line ? opt_line : line,
                               ESXIMG_BOOTCFG_MAX_KERNEL_CMDLINE, total, "kernel path and "
                               "kernelopt make a command line of %zu characters: mboot's limit "
                               "is %u (it must stay below)", total,
                               ESXIMG_BOOTCFG_MAX_KERNEL_CMDLINE);
    return rc ? rc : bootcfg_check_secure_name(k, line, kernel, path_len, seen);
}

/* Each module's "path options" string and Secure Boot name. */
static int bootcfg_check_modules(struct bootcfg_lcheck *k, const char *prefix, unsigned *seen)
{
    size_t line;
    const char *v = bootcfg_mboot_value(k, 2, &line);
    struct bootcfg_spans s = {0};
    struct esximg_err split_err = {0};
    int rc = bootcfg_split_modules(v, strlen(v), &s, &split_err);
    for (size_t i = 0; !rc && i < s.count; i++) {
        const struct bootcfg_span *sp = &s.items[i];
        size_t path_len = sp->mid - sp->start;
        size_t total = bootcfg_path_length(prefix, v + sp->start, path_len) +
                       (sp->end - sp->mid);
        char quoted[64];
        esx_text_quote(v + sp->start, path_len, quoted, sizeof quoted);
        if (total >= ESXIMG_BOOTCFG_MAX_MODULE_STRING)
            rc = bootcfg_violation(k, ESXIMG_BOOTCFG_RULE_MODULE_LENGTH, line,
                                   ESXIMG_BOOTCFG_MAX_MODULE_STRING, total, "module '%s' "
                                   "(item %zu): path and options are %zu characters: mboot's "
                                   "limit is %u (it must stay below)", quoted, i + 1, total,
                                   ESXIMG_BOOTCFG_MAX_MODULE_STRING);
        if (!rc)
            rc = bootcfg_check_secure_name(k, line, v + sp->start, path_len, seen);
    }
    free(s.items);
    return rc ? ESXIMG_ENOMEM : 0;
}

static int bootcfg_violation_cmp(const void *a, const void *b)
{
    const struct esximg_bootcfg_violation *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line ? 1 : (int)x->rule - (int)y->rule;
}

void esximg_bootcfg_violations_free(struct esximg_bootcfg_violations *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i].msg);
    free(v->items);
    free(v);
}

int esximg_bootcfg_check_loader(const struct esximg_bootcfg *c,
                                struct esximg_bootcfg_violations **out, struct esximg_err *err)
{
    struct bootcfg_lcheck k = {.c = c};
    k.v = calloc(1, sizeof *k.v);
    k.m = calloc(c->line_count + 1, sizeof *k.m);
    int rc = k.v && k.m ? 0 : ESXIMG_ENOMEM;
    for (size_t i = 0; !rc && i < c->line_count; i++)
        rc = bootcfg_check_mline(&k, i);
    unsigned seen[BOOTCFG_SECURE_NAME_COUNT] = {0};
    size_t prefix_line;
    const char *prefix = rc ? "" : bootcfg_mboot_value(&k, 4, &prefix_line);
    if (!rc)
        rc = bootcfg_check_kernel(&k, prefix, seen);
    if (!rc)
        rc = bootcfg_check_modules(&k, prefix, seen);
    for (size_t i = 0; k.m && i < c->line_count; i++)
        free(k.m[i].text);
    free(k.m);
    if (rc) {
        esximg_bootcfg_violations_free(k.v);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory checking boot.cfg");
    }
    if (k.v->count > 1)
        qsort(k.v->items, k.v->count, sizeof *k.v->items, bootcfg_violation_cmp);
    *out = k.v;
    return 0;
}

static bool bootcfg_violation_in(const struct esximg_bootcfg_violations *v,
                                 const struct esximg_bootcfg_violation *x)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i].rule == x->rule && !strcmp(v->items[i].msg, x->msg))
            return true;
    return false;
}

int esximg_bootcfg_check_edit(const char *before, size_t before_len,
                              const struct esximg_bootcfg *after, const char *name,
                              struct esximg_err *err)
{
    struct esximg_bootcfg *old = NULL;
    struct esximg_bootcfg_violations *was = NULL, *now = NULL;
    int rc = esximg_bootcfg_read(before, before_len, NULL, &old, err);
    if (!rc)
        rc = esximg_bootcfg_check_loader(old, &was, err);
    if (!rc)
        rc = esximg_bootcfg_check_loader(after, &now, err);
    for (size_t i = 0; !rc && i < now->count; i++) {
        const struct esximg_bootcfg_violation *x = &now->items[i];
        if (bootcfg_violation_in(was, x))
            continue;
        bool length = x->rule == ESXIMG_BOOTCFG_RULE_MODULE_LENGTH ||
                      x->rule == ESXIMG_BOOTCFG_RULE_KERNEL_LENGTH;
        rc = esximg_err_set(err, length ? ESXIMG_ELIMIT : ESXIMG_EINVAL,
                            "%s line %zu breaks a rule of ESXi's boot loader: %s", name, x->line,
                            x->msg);
    }
    esximg_bootcfg_violations_free(was);
    esximg_bootcfg_violations_free(now);
    esximg_bootcfg_free(old);
    return rc;
}
