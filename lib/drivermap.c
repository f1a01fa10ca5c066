/* drivermap.c: driver map files and the choice of the driver that claims a PCI device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/drivermap.h"

#define DRIVERMAP_PCI_ID_LEN 22

static const struct drivermap_dir {
    const char *prefix;         /* "<prefix>.map.d", "<prefix>.pciids.d" */
    enum esximg_map_class map_class;
    const char *name;
} drivermap_dirs[] = {
    {"oem", ESXIMG_MAP_OEM, "oem"},
    {"ihv", ESXIMG_MAP_IHV, "ihv"},
    {"default", ESXIMG_MAP_NATIVE, "native"},
    {"driver", ESXIMG_MAP_VMKLINUX, "vmklinux"},
    {"fallback", ESXIMG_MAP_FALLBACK, "fallback"},
};
#define DRIVERMAP_DIR_COUNT (sizeof drivermap_dirs / sizeof drivermap_dirs[0])

enum esximg_map_class esximg_map_class_from_path(const char *path)
{
    const char *last = path ? strrchr(path, '/') : NULL;
    if (!last)
        return ESXIMG_MAP_UNKNOWN;
    const char *dir = last;
    while (dir > path && dir[-1] != '/')
        dir--;
    size_t dir_len = (size_t)(last - dir);
    for (size_t i = 0; i < DRIVERMAP_DIR_COUNT; i++) {
        size_t n = strlen(drivermap_dirs[i].prefix);
        if (dir_len <= n || memcmp(dir, drivermap_dirs[i].prefix, n) != 0)
            continue;
        const char *suffix = dir + n;
        size_t suffix_len = dir_len - n;
        if ((suffix_len == 6 && !memcmp(suffix, ".map.d", 6)) ||
            (suffix_len == 9 && !memcmp(suffix, ".pciids.d", 9)))
            return drivermap_dirs[i].map_class;
    }
    return ESXIMG_MAP_UNKNOWN;
}

const char *esximg_map_class_name(enum esximg_map_class c)
{
    for (size_t i = 0; i < DRIVERMAP_DIR_COUNT; i++)
        if (drivermap_dirs[i].map_class == c)
            return drivermap_dirs[i].name;
    return "unknown";
}

/* ---------------------------------------------------------------- read */

struct drivermap_rctx {
    struct esximg_drivermap *map;
    const struct esximg_drivermap_ropts *o;
    size_t entries_cap;
};

/* A malformed line: a warning, or the error in strict mode. */
static int drivermap_bad(struct drivermap_rctx *c, const struct esx_line *l, const char *why,
                         struct esximg_err *err)
{
    char quoted[64];
    esx_text_quote(l->p, l->len, quoted, sizeof quoted);
    if (c->o && c->o->strict)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%s in map line %zu '%s'", why, l->number,
                              quoted);
    return esx_warn(&c->map->warnings, l->number, err, "%s in line '%s' (skipped)", why,
                    quoted);
}

static void drivermap_entry_clear(struct esximg_map_entry *e)
{
    free(e->regtype);
    free(e->bus);
    free(e->id);
    free(e->driver);
    free(e->class_name);
    for (size_t i = 0; i < e->extra_count; i++) {
        free(e->extras[i].key);
        free(e->extras[i].value);
    }
    free(e->extras);
    memset(e, 0, sizeof *e);
}

/* The native form: 22 characters of hex or '.', kept lower case. */
static bool drivermap_native_id(const char *id, size_t n, char *pattern)
{
    if (n != DRIVERMAP_PCI_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        int d = esx_hex_value(id[i]);
        if (id[i] != '.' && d < 0)
            return false;
        pattern[i] = id[i] == '.' ? '.' : "0123456789abcdef"[d];
    }
    pattern[n] = '\0';
    return true;
}

/* "hhhh:hhhh" */
static bool drivermap_pair(const char *s, size_t n, char *out8)
{
    uint32_t a, b;
    if (n != 9 || s[4] != ':' || !esx_parse_hex(s, 4, &a) || !esx_parse_hex(s + 5, 4, &b))
        return false;
    for (size_t i = 0; i < 4; i++) {
        out8[i] = "0123456789abcdef"[(a >> (12 - 4 * i)) & 15];
        out8[4 + i] = "0123456789abcdef"[(b >> (12 - 4 * i)) & 15];
    }
    return true;
}

/* The vmklinux form "VVVV:DDDD SSSS:ssss" (blanks between the halves); 0000:0000 is any. */
static bool drivermap_linux_id(const char *id, size_t n, char *pattern)
{
    if (n < 9)
        return false;
    const char *sub = id + 9;
    size_t sub_len = n - 9;
    if (!sub_len || !esx_is_blank(*sub))
        return false;
    esx_trim(&sub, &sub_len);
    if (!drivermap_pair(id, 9, pattern) || !drivermap_pair(sub, sub_len, pattern + 8))
        return false;
    if (!memcmp(pattern + 8, "00000000", 8))
        memset(pattern + 8, '.', 8);
    memset(pattern + 16, '.', 6);
    pattern[DRIVERMAP_PCI_ID_LEN] = '\0';
    return true;
}

/* Stores one key=value field in the entry; a why-string when it cannot. */
static const char *drivermap_field(struct esximg_map_entry *e, const char *key, size_t key_len,
                                   const char *value, size_t value_len, bool *nomem)
{
    static const char *const names[] = {"regtype", "bus", "id", "driver", "class"};
    char **slots[] = {&e->regtype, &e->bus, &e->id, &e->driver, &e->class_name};
    char *copy = esx_strndup(value, value_len);
    if (!copy) {
        *nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) != key_len || memcmp(names[i], key, key_len) != 0)
            continue;
        if (*slots[i]) {
            free(copy);
            return "repeated key";
        }
        *slots[i] = copy;
        return NULL;
    }
    char *key_copy = esx_strndup(key, key_len);
    /* capacity is the next power of two: doubling keeps a long line linear */
    size_t n = e->extra_count;
    struct esximg_map_kv *grown = e->extras;
    if (key_copy && (n & (n - 1)) == 0)
        grown = esx_realloc_array(e->extras, n ? n * 2 : 2, sizeof *e->extras);
    if (!key_copy || !grown) {
        free(key_copy);
        free(copy);
        *nomem = true;
        return NULL;
    }
    e->extras = grown;
    e->extras[e->extra_count].key = key_copy;
    e->extras[e->extra_count].value = copy;
    e->extra_count++;
    return NULL;
}

/* Splits the line into fields; a why-string for a malformed line. */
static const char *drivermap_fields(struct esximg_map_entry *e, const char *p, size_t n,
                                    bool *nomem)
{
    size_t i = 0;
    while (i <= n) {
        const char *comma = i < n ? memchr(p + i, ',', n - i) : NULL;
        size_t end = comma ? (size_t)(comma - p) : n;
        const char *field = p + i;
        size_t field_len = end - i;
        esx_trim(&field, &field_len);
        const char *eq = memchr(field, '=', field_len);
        if (!eq)
            return field_len ? "field without '='" : "empty field";
        const char *key = field, *value = eq + 1;
        size_t key_len = (size_t)(eq - field), value_len = field_len - key_len - 1;
        esx_trim(&key, &key_len);
        esx_trim(&value, &value_len);
        if (!key_len)
            return "field without a key";
        const char *why = drivermap_field(e, key, key_len, value, value_len, nomem);
        if (why || *nomem)
            return why;
        i = end + 1;
    }
    return NULL;
}

/* Checks the parsed fields and fills the PCI pattern; a why-string when malformed. */
static const char *drivermap_check(struct esximg_map_entry *e)
{
    if (!e->regtype || !*e->regtype)
        return "missing regtype=";
    if (!e->bus || !*e->bus)
        return "missing bus=";
    if (!e->id || !*e->id)
        return "missing id=";
    if (!e->driver || !*e->driver)
        return "missing driver=";
    if (!esx_mem_ieq(e->bus, strlen(e->bus), "pci"))
        return NULL;
    size_t n = strlen(e->id);
    if (!drivermap_native_id(e->id, n, e->pci_pattern) &&
        !drivermap_linux_id(e->id, n, e->pci_pattern)) {
        e->pci_pattern[0] = '\0';
        return "pci id is neither 22 hex-or-'.' characters nor VVVV:DDDD SSSS:ssss";
    }
    return NULL;
}

static int drivermap_line(struct drivermap_rctx *c, const struct esx_line *l,
                          struct esximg_err *err)
{
    const char *p = l->p;
    size_t n = l->len;
    esx_trim(&p, &n);
    if (n == 0 || p[0] == '#')
        return 0;
    struct esximg_drivermap *m = c->map;
    if (m->entry_count == c->entries_cap) {
        size_t want = c->entries_cap ? c->entries_cap * 2 : 16;
        struct esximg_map_entry *grown = esx_realloc_array(m->entries, want, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading a map");
        m->entries = grown;
        c->entries_cap = want;
    }
    struct esximg_map_entry *e = &m->entries[m->entry_count];
    memset(e, 0, sizeof *e);
    e->line = l->number;
    bool nomem = false;
    const char *why = drivermap_fields(e, p, n, &nomem);
    if (!why && !nomem)
        why = drivermap_check(e);
    if (nomem || why) {
        drivermap_entry_clear(e);
        return nomem ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading a map")
                     : drivermap_bad(c, l, why, err);
    }
    m->entry_count++;
    return 0;
}

int esximg_drivermap_read(const void *data, size_t len, const struct esximg_drivermap_ropts *o,
                          struct esximg_drivermap **out, struct esximg_err *err)
{
    struct drivermap_rctx c = {.o = o};
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "map", err);
    if (rc)
        goto out;
    c.map = calloc(1, sizeof *c.map);
    if (!c.map || (o && o->path && !(c.map->path = esx_strdup(o->path)))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading a map");
        goto out;
    }
    c.map->map_class = esximg_map_class_from_path(o ? o->path : NULL);
    struct esx_line line = {0};
    size_t pos = 0;
    while (!rc && esx_text_next(data, len, &pos, &line))
        rc = drivermap_line(&c, &line, err);
    if (rc)
        goto out;
    *out = c.map;
    c.map = NULL;
out:
    esximg_drivermap_free(c.map);
    return rc;
}

void esximg_drivermap_free(struct esximg_drivermap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->entry_count; i++)
        drivermap_entry_clear(&m->entries[i]);
    free(m->entries);
    free(m->path);
    esx_warnings_free(&m->warnings);
    free(m);
}

/* ---------------------------------------------------------------- matching */

bool esximg_map_entry_matches(const struct esximg_map_entry *e,
                              const struct esximg_pci_device *dev, bool *progif_assumed)
{
    char id[23];
    bool assumed = false;
    if (e->pci_pattern[0] == '\0')
        return false;
    esximg_pci_device_id22(dev, id);
    for (size_t i = 0; i < DRIVERMAP_PCI_ID_LEN; i++) {
        char want = e->pci_pattern[i];
        if (want == '.')
            continue;
        if (id[i] == '.' && i >= 20) {
            assumed = true;     /* prog-if not given: the rest decides */
            continue;
        }
        if (id[i] != want)
            return false;
    }
    if (progif_assumed)
        *progif_assumed = assumed;
    return true;
}

static unsigned drivermap_specificity(const char *pattern)
{
    unsigned fixed = 0;
    for (size_t i = 0; pattern[i]; i++)
        fixed += pattern[i] != '.';
    return fixed;
}

struct drivermap_ranked {
    struct esximg_map_claim claim;
    size_t order;               /* collection order: map, then line */
};

static int drivermap_rank_cmp(const void *pa, const void *pb)
{
    const struct drivermap_ranked *a = pa, *b = pb;
    if (a->claim.map_class != b->claim.map_class)
        return a->claim.map_class < b->claim.map_class ? -1 : 1;
    if (a->claim.specificity != b->claim.specificity)
        return a->claim.specificity > b->claim.specificity ? -1 : 1;
    int by_name = strcmp(a->claim.entry->driver, b->claim.entry->driver);
    if (by_name)
        return by_name;
    return a->order < b->order ? -1 : a->order > b->order;
}

int esximg_drivermap_match(const struct esximg_drivermap *const *maps, size_t map_count,
                           const struct esximg_pci_device *dev, struct esximg_map_match **out,
                           struct esximg_err *err)
{
    struct drivermap_ranked *ranked = NULL;
    size_t count = 0, cap = 0;
    struct esximg_map_match *m = calloc(1, sizeof *m);
    int rc = m ? 0 : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory matching a device");
    for (size_t i = 0; i < map_count && !rc; i++) {
        for (size_t j = 0; j < maps[i]->entry_count && !rc; j++) {
            const struct esximg_map_entry *e = &maps[i]->entries[j];
            bool assumed = false;
            if (!esximg_map_entry_matches(e, dev, &assumed))
                continue;
            if (count == cap) {
                size_t want = cap ? cap * 2 : 8;
                struct drivermap_ranked *grown = esx_realloc_array(ranked, want, sizeof *grown);
                if (!grown) {
                    rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory matching a device");
                    break;
                }
                ranked = grown;
                cap = want;
            }
            ranked[count] = (struct drivermap_ranked){
                .claim = {maps[i], e, maps[i]->map_class, drivermap_specificity(e->pci_pattern),
                          assumed},
                .order = count,
            };
            count++;
        }
    }
    if (rc)
        goto out;
    if (count)
        qsort(ranked, count, sizeof *ranked, drivermap_rank_cmp);
    m->claims = esx_malloc_array(count, sizeof *m->claims);
    if (!m->claims) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory matching a device");
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        m->claims[i] = ranked[i].claim;
    m->claim_count = count;
    *out = m;
    m = NULL;
out:
    free(ranked);
    esximg_map_match_free(m);
    return rc;
}

void esximg_map_match_free(struct esximg_map_match *m)
{
    if (!m)
        return;
    free(m->claims);
    free(m);
}

static bool drivermap_order_inferred(enum esximg_map_class c)
{
    return c == ESXIMG_MAP_IHV || c == ESXIMG_MAP_UNKNOWN;
}

void esximg_drivermap_pick(const struct esximg_map_match *m, struct esximg_map_winner *w)
{
    memset(w, 0, sizeof *w);
    if (!m || m->claim_count == 0)
        return;
    const struct esximg_map_claim *win = &m->claims[0], *runner = NULL;
    w->claim = win;
    for (size_t i = 1; i < m->claim_count && !runner; i++)
        if (strcmp(m->claims[i].entry->driver, win->entry->driver) != 0)
            runner = &m->claims[i];
    if (!runner) {
        w->rule = ESXIMG_MAP_RULE_ONE_DRIVER;
        return;
    }
    if (runner->map_class != win->map_class) {
        w->rule = ESXIMG_MAP_RULE_CLASS;
        w->inferred = drivermap_order_inferred(win->map_class) ||
                      drivermap_order_inferred(runner->map_class);
        return;
    }
    w->rule = runner->specificity != win->specificity ? ESXIMG_MAP_RULE_SPECIFICITY
                                                      : ESXIMG_MAP_RULE_DRIVER_NAME;
    w->inferred = true;
}

/* One field of a 22-character pattern: its characters, or "*" when all are '.'. */
static void drivermap_id_field(const char *p, size_t n, char *out)
{
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= p[i] != '.';
    if (any) {
        memcpy(out, p, n);
        out[n] = '\0';
    } else {
        strcpy(out, "*");
    }
}

void esximg_map_entry_id_text(const struct esximg_map_entry *e, char *out, size_t n)
{
    if (n == 0)
        return;
    if (e->pci_pattern[0] == '\0') {
        snprintf(out, n, "%s:%s", e->bus ? e->bus : "?", e->id ? e->id : "?");
        return;
    }
    const char *p = e->pci_pattern;
    char vendor[5], device[5], subv[5], subd[5], cls[7];
    drivermap_id_field(p, 4, vendor);
    drivermap_id_field(p + 4, 4, device);
    drivermap_id_field(p + 8, 4, subv);
    drivermap_id_field(p + 12, 4, subd);
    drivermap_id_field(p + 16, 6, cls);
    bool has_subsys = strcmp(subv, "*") || strcmp(subd, "*");
    bool has_class = strcmp(cls, "*") != 0;
    snprintf(out, n, "%s:%s%s%s%s%s%s", vendor, device, has_subsys ? ":" : "",
             has_subsys ? subv : "", has_subsys ? ":" : "", has_subsys ? subd : "",
             has_class ? "/" : "");
    size_t used = strlen(out);
    if (has_class && used < n)
        snprintf(out + used, n - used, "%s", cls);
}
