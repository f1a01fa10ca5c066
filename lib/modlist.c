/* modlist.c: `esxcli system module list` output: which kernel modules a host has disabled. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/modlist.h"

static int modlist_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading the module list");
}

static bool modlist_bool(const char *s, size_t n, bool *value)
{
    if (esx_mem_ieq(s, n, "true"))
        return (*value = true);
    if (esx_mem_ieq(s, n, "false"))
        return !(*value = false);
    return false;
}

/* Up to `max` blank-separated tokens of the line; the count found (max + 1 when more). */
static size_t modlist_tokens(const char *s, size_t n, const char **tok, size_t *len, size_t max)
{
    size_t count = 0, pos = 0;
    while (pos < n) {
        while (pos < n && esx_is_blank(s[pos]))
            pos++;
        if (pos == n)
            break;
        if (count == max)
            return max + 1;
        tok[count] = s + pos;
        while (pos < n && !esx_is_blank(s[pos]))
            pos++;
        len[count] = (size_t)(s + pos - tok[count]);
        count++;
    }
    return count;
}

static bool modlist_is_header(const char *s, size_t n)
{
    if (memmem(s, n, "Is Loaded", 9) && memmem(s, n, "Is Enabled", 10))
        return true;
    for (size_t i = 0; i < n; i++)      /* the dash line under it */
        if (s[i] != '-' && !esx_is_blank(s[i]))
            return false;
    return true;
}

static int modlist_line(struct esximg_modlist *m, size_t *cap, const struct esx_line *ln,
                        struct esximg_err *err)
{
    const char *s = ln->p, *tok[3];
    size_t n = ln->len, len[3];
    esx_trim(&s, &n);
    if (n == 0 || modlist_is_header(s, n))
        return 0;
    bool loaded, enabled;
    if (modlist_tokens(s, n, tok, len, 3) != 3 || !modlist_bool(tok[1], len[1], &loaded) ||
        !modlist_bool(tok[2], len[2], &enabled)) {
        char quoted[64];
        esx_text_quote(ln->p, ln->len, quoted, sizeof quoted);
        return esx_warn(&m->warnings, ln->number, err, "not a module list row: '%s' (skipped)",
                        quoted);
    }
    if (m->count == *cap) {
        size_t want = *cap ? *cap * 2 : 64;
        struct esximg_module_state *grown = esx_realloc_array(m->modules, want, sizeof *grown);
        if (!grown)
            return modlist_nomem(err);
        m->modules = grown;
        *cap = want;
    }
    struct esximg_module_state *row = &m->modules[m->count];
    row->name = esx_strndup(tok[0], len[0]);
    if (!row->name)
        return modlist_nomem(err);
    row->line = ln->number;
    row->loaded = loaded;
    row->enabled = enabled;
    m->count++;
    return 0;
}

int esximg_modlist_read(const void *data, size_t len, struct esximg_modlist **out,
                        struct esximg_err *err)
{
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "module list", err);
    if (rc)
        return rc;
    struct esximg_modlist *m = calloc(1, sizeof *m);
    if (!m)
        return modlist_nomem(err);
    struct esx_line line = {0};
    size_t pos = 0, cap = 0;
    while (!rc && esx_text_next(data, len, &pos, &line))
        rc = modlist_line(m, &cap, &line, err);
    if (!rc && m->count == 0)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no module found: not the output of "
                            "esxcli system module list");
    if (rc) {
        esximg_modlist_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void esximg_modlist_free(struct esximg_modlist *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        free(m->modules[i].name);
    free(m->modules);
    esx_warnings_free(&m->warnings);
    free(m);
}
