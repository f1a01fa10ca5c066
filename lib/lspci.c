/* lspci.c: host PCI device lists (lspci -n, -nn, -mm, -vmm output) and --pci arguments. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/lspci.h"

/* ---------------------------------------------------------------- small field parsers */

/* "hhhh:hhhh" exactly */
static bool lspci_pair(const char *s, size_t n, uint16_t *a, uint16_t *b)
{
    uint32_t x, y;
    if (n != 9 || s[4] != ':' || !esx_parse_hex(s, 4, &x) || !esx_parse_hex(s + 5, 4, &y))
        return false;
    *a = (uint16_t)x;
    *b = (uint16_t)y;
    return true;
}

/* "hex" (n digits) or "Name [hex]": the value and the name (length 0 when none). */
static bool lspci_named(const char *s, size_t n, size_t digits, uint32_t *value,
                        const char **name, size_t *name_len)
{
    esx_trim(&s, &n);
    *name = s;
    *name_len = 0;
    if (n == digits)
        return esx_parse_hex(s, digits, value);
    if (n < digits + 3 || s[n - 1] != ']' || s[n - digits - 2] != '[' ||
        !esx_is_blank(s[n - digits - 3]) || !esx_parse_hex(s + n - digits - 1, digits, value))
        return false;
    *name_len = n - digits - 2;
    esx_trim(name, name_len);
    return true;
}

/* "Name [hhhh:hhhh]" or "hhhh:hhhh": the ids and the name (length 0 when none). */
static bool lspci_named_pair(const char *s, size_t n, uint16_t *a, uint16_t *b,
                             const char **name, size_t *name_len)
{
    esx_trim(&s, &n);
    *name = s;
    *name_len = 0;
    if (lspci_pair(s, n, a, b))
        return true;
    if (n < 11 || s[n - 1] != ']' || s[n - 11] != '[' || !lspci_pair(s + n - 10, 9, a, b))
        return false;
    *name_len = n - 11;
    esx_trim(name, name_len);
    return true;
}

/* The length of a slot "[dddd:]bb:dd.f" at the start of s (domain of 4 to 8 hex digits), or 0.
 * It must be followed by a blank or the end. */
static size_t lspci_slot(const char *s, size_t n)
{
    size_t start = 0, hex = 0;
    uint32_t v;
    while (hex < n && hex < 9 && esx_hex_value(s[hex]) >= 0)
        hex++;
    if (hex >= 4 && hex <= 8 && hex < n && s[hex] == ':')
        start = hex + 1;
    if (n - start < 7 || !esx_parse_hex(s + start, 2, &v) || s[start + 2] != ':' ||
        !esx_parse_hex(s + start + 3, 2, &v) || s[start + 5] != '.' ||
        s[start + 6] < '0' || s[start + 6] > '7')
        return 0;
    size_t end = start + 7;
    if (end < n && !esx_is_blank(s[end]))
        return 0;
    return end;
}

static bool lspci_starts(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(s, word, w) == 0;
}

/* ---------------------------------------------------------------- read context */

struct lspci_rctx {
    struct esximg_lspci *l;
    size_t cap;
    struct esximg_lspci_device *open;   /* the device that indented or block lines extend */
    bool in_block;                      /* open is a -vmm block */
    bool block_vendor, block_device, block_svendor, block_sdevice;
};

static int lspci_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading lspci output");
}

static void lspci_device_clear(struct esximg_lspci_device *d)
{
    free(d->slot);
    free(d->class_name);
    free(d->name);
    free(d->vendor_name);
    free(d->device_name);
    free(d->subvendor_name);
    free(d->subdevice_name);
    memset(d, 0, sizeof *d);
}

/* A copy of n bytes into *slot (replacing it); nothing when n is 0. */
static int lspci_keep(char **slot, const char *s, size_t n, struct esximg_err *err)
{
    if (n == 0)
        return 0;
    char *copy = esx_strndup(s, n);
    if (!copy)
        return lspci_nomem(err);
    free(*slot);
    *slot = copy;
    return 0;
}

static int lspci_warn(struct lspci_rctx *c, size_t line, const char *why, const char *s,
                      size_t n, struct esximg_err *err)
{
    char quoted[64];
    esx_text_quote(s, n, quoted, sizeof quoted);
    return esx_warn(&c->l->warnings, line, err, "%s: '%s' (skipped)", why, quoted);
}

/* A new device slot at the end of the list. */
static int lspci_new_device(struct lspci_rctx *c, size_t line, const char *slot, size_t slot_len,
                            struct esximg_err *err)
{
    struct esximg_lspci *l = c->l;
    if (l->device_count == c->cap) {
        size_t want = c->cap ? c->cap * 2 : 16;
        struct esximg_lspci_device *grown = esx_realloc_array(l->devices, want, sizeof *grown);
        if (!grown)
            return lspci_nomem(err);
        l->devices = grown;
        c->cap = want;
    }
    struct esximg_lspci_device *d = &l->devices[l->device_count];
    memset(d, 0, sizeof *d);
    d->line = line;
    int rc = lspci_keep(&d->slot, slot, slot_len, err);
    if (rc)
        return rc;
    l->device_count++;
    c->open = d;
    return 0;
}

/* Drops the last device (one that turned out incomplete). */
static void lspci_drop_last(struct lspci_rctx *c)
{
    lspci_device_clear(&c->l->devices[--c->l->device_count]);
    c->open = NULL;
}

/* ---------------------------------------------------------------- -vmm blocks */

static int lspci_close_block(struct lspci_rctx *c, struct esximg_err *err)
{
    if (!c->in_block)
        return 0;
    c->in_block = false;
    struct esximg_lspci_device *d = c->open;
    if (!d)
        return 0;
    d->pci.has_subsys = c->block_svendor && c->block_sdevice;
    if (c->block_vendor && c->block_device)
        return 0;
    size_t line = d->line;
    lspci_drop_last(c);
    return esx_warn(&c->l->warnings, line, err,
                    "block without a vendor or device id (skipped)");
}

static int lspci_open_block(struct lspci_rctx *c, size_t line, const char *slot, size_t slot_len,
                            struct esximg_err *err)
{
    int rc = lspci_close_block(c, err);
    if (!rc)
        rc = lspci_new_device(c, line, slot, slot_len, err);
    if (rc)
        return rc;
    c->in_block = true;
    c->block_vendor = c->block_device = c->block_svendor = c->block_sdevice = false;
    return 0;
}

static const char *const lspci_block_keys[] = {
    "Slot", "Class", "Vendor", "Device", "SVendor", "SDevice", "Rev", "ProgIf",
    "PhySlot", "NUMANode", "IOMMUGroup", "Driver", "Module", "Kernel driver", "Kernel modules",
};

/* The key of a "Key:<blank>value" line when it is a block key, else NULL. */
static const char *lspci_block_key(const char *s, size_t n, const char **value, size_t *value_len)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return NULL;
    size_t key_len = (size_t)(colon - s);
    for (size_t i = 0; i < sizeof lspci_block_keys / sizeof lspci_block_keys[0]; i++) {
        const char *k = lspci_block_keys[i];
        if (strlen(k) != key_len || memcmp(k, s, key_len) != 0)
            continue;
        *value = colon + 1;
        *value_len = n - key_len - 1;
        esx_trim(value, value_len);
        return k;
    }
    return NULL;
}

/* One "Key: value" of a block whose value names an id of `digits` hex digits. */
static int lspci_block_id(struct lspci_rctx *c, const struct esx_line *ln, const char *key,
                          const char *v, size_t vn, struct esximg_err *err)
{
    static const struct {
        const char *key;
        size_t digits;
    } forms[] = {{"Class", 4}, {"Vendor", 4}, {"Device", 4}, {"SVendor", 4}, {"SDevice", 4},
                 {"Rev", 2}, {"ProgIf", 2}};
    struct esximg_lspci_device *d = c->open;
    size_t k = 0;
    while (k < sizeof forms / sizeof forms[0] && strcmp(forms[k].key, key) != 0)
        k++;
    if (k == sizeof forms / sizeof forms[0])
        return 0;       /* PhySlot, NUMANode, Driver, ...: not ours */
    uint32_t id;
    const char *name;
    size_t name_len;
    if (!lspci_named(v, vn, forms[k].digits, &id, &name, &name_len))
        return lspci_warn(c, ln->number, "bad id in block line", ln->p, ln->len, err);
    char **names[] = {&d->class_name, &d->vendor_name, &d->device_name, &d->subvendor_name,
                      &d->subdevice_name, NULL, NULL};
    switch (k) {
    case 0: d->pci.class_code = (uint16_t)id; d->pci.has_class = true; break;
    case 1: d->pci.vendor = (uint16_t)id; c->block_vendor = true; break;
    case 2: d->pci.device = (uint16_t)id; c->block_device = true; break;
    case 3: d->pci.subvendor = (uint16_t)id; c->block_svendor = true; break;
    case 4: d->pci.subdevice = (uint16_t)id; c->block_sdevice = true; break;
    case 5: d->revision = (uint8_t)id; d->has_revision = true; break;
    default: d->pci.progif = (uint8_t)id; d->pci.has_progif = true; break;
    }
    return names[k] ? lspci_keep(names[k], name, name_len, err) : 0;
}

static int lspci_block_line(struct lspci_rctx *c, const struct esx_line *ln, const char *key,
                            const char *v, size_t vn, struct esximg_err *err)
{
    size_t slot_len = lspci_slot(v, vn);
    bool is_slot = !strcmp(key, "Slot") ||
                   (!strcmp(key, "Device") && slot_len == vn && (!c->in_block || !c->open ||
                                                                 !c->open->slot));
    if (is_slot) {
        if (slot_len != vn)
            return lspci_warn(c, ln->number, "bad slot", ln->p, ln->len, err);
        if (c->in_block && c->open && !c->open->slot)
            return lspci_keep(&c->open->slot, v, vn, err);
        return lspci_open_block(c, ln->number, v, vn, err);
    }
    if (!c->in_block) {
        int rc = lspci_open_block(c, ln->number, NULL, 0, err);
        if (rc)
            return rc;
    }
    return lspci_block_id(c, ln, key, v, vn, err);
}

/* ---------------------------------------------------------------- -n / -nn lines */

/* Parses " (rev xx)" and " (prog-if xx[ [name]])" suffixes; *end is where they start. */
static bool lspci_suffixes(struct esximg_lspci_device *d, const char *s, size_t n, size_t *end)
{
    *end = n;
    static const char *const marks[] = {" (rev ", " (prog-if "};
    for (size_t m = 0; m < 2; m++) {
        const char *at = memmem(s, n, marks[m], strlen(marks[m]));
        if (!at)
            continue;
        size_t off = (size_t)(at - s) + strlen(marks[m]);
        uint32_t v;
        if (n - off < 3 || !esx_parse_hex(s + off, 2, &v) || (s[off + 2] != ')' &&
                                                              s[off + 2] != ' '))
            return false;
        if (m == 0) {
            d->revision = (uint8_t)v;
            d->has_revision = true;
        } else {
            d->pci.progif = (uint8_t)v;
            d->pci.has_progif = true;
        }
        if ((size_t)(at - s) < *end)
            *end = (size_t)(at - s);
    }
    return true;
}

/* After the slot of a -n / -nn line: "[Class ]cccc: vvvv:dddd ..." or
 * "Class name [cccc]: Vendor Device [vvvv:dddd] ...". */
static bool lspci_plain(struct esximg_lspci_device *d, const char *s, size_t n, bool *nomem)
{
    const char *colon = memmem(s, n, ": ", 2);
    if (!colon)
        return false;
    const char *head = s, *tail = colon + 2, *name;
    size_t head_len = (size_t)(colon - s), tail_len = n - head_len - 2, name_len, end;
    uint32_t cls;
    if (lspci_starts(head, head_len, "Class ") && head_len == 10) {
        head += 6;
        head_len -= 6;
    }
    if (!lspci_named(head, head_len, 4, &cls, &name, &name_len))
        return false;
    d->pci.class_code = (uint16_t)cls;
    d->pci.has_class = true;
    if (name_len && !(d->class_name = esx_strndup(name, name_len)))
        return !(*nomem = true);
    if (!lspci_suffixes(d, tail, tail_len, &end))
        return false;
    if (!lspci_named_pair(tail, end, &d->pci.vendor, &d->pci.device, &name, &name_len))
        return false;
    if (name_len && !(d->name = esx_strndup(name, name_len)))
        return !(*nomem = true);
    return true;
}

/* ---------------------------------------------------------------- -mm lines */

/* The next "quoted" field of an -mm line; false at the end. */
static bool lspci_quoted(const char *s, size_t n, size_t *pos, const char **field, size_t *len,
                         bool *bad)
{
    while (*pos < n && esx_is_blank(s[*pos]))
        (*pos)++;
    if (*pos == n || s[*pos] != '"')
        return false;
    const char *close = memchr(s + *pos + 1, '"', n - *pos - 1);
    if (!close) {
        *bad = true;
        return false;
    }
    *field = s + *pos + 1;
    *len = (size_t)(close - *field);
    *pos = (size_t)(close - s) + 1;
    return true;
}

/* Options between the quoted fields: -rXX, -pXX. */
static bool lspci_mm_options(struct esximg_lspci_device *d, const char *s, size_t n, size_t *pos)
{
    for (;;) {
        while (*pos < n && esx_is_blank(s[*pos]))
            (*pos)++;
        if (*pos + 1 >= n || s[*pos] != '-')
            return true;
        char opt = s[*pos + 1];
        uint32_t v;
        if ((opt != 'r' && opt != 'p') || n - *pos < 4 || !esx_parse_hex(s + *pos + 2, 2, &v) ||
            (n - *pos > 4 && !esx_is_blank(s[*pos + 4])))
            return false;
        if (opt == 'r') {
            d->revision = (uint8_t)v;
            d->has_revision = true;
        } else {
            d->pci.progif = (uint8_t)v;
            d->pci.has_progif = true;
        }
        *pos += 4;
    }
}

/* After the slot of an -mm line: "class" "vendor" "device" [-rXX] [-pXX] ["svendor"
 * "sdevice"], each field "hex" or "Name [hex]"; empty subsystem fields mean none. */
static bool lspci_mm(struct esximg_lspci_device *d, const char *s, size_t n, bool *nomem)
{
    size_t pos = 0, count = 0;
    const char *f, *name;
    size_t fn, name_len;
    bool bad = false, no_subsys = false;
    uint32_t ids[5];
    char **names[] = {&d->class_name, &d->vendor_name, &d->device_name, &d->subvendor_name,
                      &d->subdevice_name};
    while (count < 5 && !no_subsys) {
        if (count == 3 && !lspci_mm_options(d, s, n, &pos))
            return false;
        if (!lspci_quoted(s, n, &pos, &f, &fn, &bad))
            break;
        if (count >= 3 && fn == 0) {
            no_subsys = true;   /* "" "": the device has no subsystem ids */
            break;
        }
        if (!lspci_named(f, fn, 4, &ids[count], &name, &name_len))
            return false;
        if (name_len && !(*names[count] = esx_strndup(name, name_len)))
            return !(*nomem = true);
        count++;
    }
    if (bad || count < 3 || (count == 4 && !no_subsys))
        return false;
    d->pci.class_code = (uint16_t)ids[0];
    d->pci.has_class = true;
    d->pci.vendor = (uint16_t)ids[1];
    d->pci.device = (uint16_t)ids[2];
    if (count == 5) {
        d->pci.subvendor = (uint16_t)ids[3];
        d->pci.subdevice = (uint16_t)ids[4];
        d->pci.has_subsys = true;
    }
    return true;
}

static int lspci_device_line(struct lspci_rctx *c, const struct esx_line *ln, const char *s,
                             size_t n, size_t slot_len, struct esximg_err *err)
{
    int rc = lspci_close_block(c, err);
    if (!rc)
        rc = lspci_new_device(c, ln->number, s, slot_len, err);
    if (rc)
        return rc;
    const char *rest = s + slot_len;
    size_t rest_len = n - slot_len;
    esx_trim(&rest, &rest_len);
    bool nomem = false;
    bool ok = rest_len && rest[0] == '"' ? lspci_mm(c->open, rest, rest_len, &nomem)
                                         : lspci_plain(c->open, rest, rest_len, &nomem);
    if (ok)
        return 0;
    lspci_drop_last(c);
    if (nomem)
        return lspci_nomem(err);
    return lspci_warn(c, ln->number, "bad device line", ln->p, ln->len, err);
}

/* An indented line under a -v device: only "Subsystem:" matters. */
static int lspci_indented(struct lspci_rctx *c, const struct esx_line *ln, const char *s,
                          size_t n, struct esximg_err *err)
{
    if (!c->open || c->in_block)
        return lspci_warn(c, ln->number, "indented line outside a device", ln->p, ln->len, err);
    if (!lspci_starts(s, n, "Subsystem:"))
        return 0;
    struct esximg_lspci_device *d = c->open;
    const char *name;
    size_t name_len;
    if (!lspci_named_pair(s + 10, n - 10, &d->pci.subvendor, &d->pci.subdevice, &name,
                          &name_len))
        return lspci_warn(c, ln->number, "bad subsystem line", ln->p, ln->len, err);
    d->pci.has_subsys = true;
    return lspci_keep(&d->subdevice_name, name, name_len, err);
}

static int lspci_line(struct lspci_rctx *c, const struct esx_line *ln, struct esximg_err *err)
{
    const char *s = ln->p, *value;
    size_t n = ln->len, value_len;
    bool indented = n && esx_is_blank(s[0]);
    esx_trim(&s, &n);
    if (n == 0)
        return lspci_close_block(c, err);
    if (s[0] == '#')
        return 0;
    const char *key = lspci_block_key(s, n, &value, &value_len);
    if (key && (!indented || c->in_block))
        return lspci_block_line(c, ln, key, value, value_len, err);
    if (indented)
        return lspci_indented(c, ln, s, n, err);
    size_t slot_len = lspci_slot(s, n);
    if (slot_len)
        return lspci_device_line(c, ln, s, n, slot_len, err);
    return lspci_warn(c, ln->number, "not an lspci line", ln->p, ln->len, err);
}

int esximg_lspci_read(const void *data, size_t len, const struct esximg_lspci_ropts *o,
                      struct esximg_lspci **out, struct esximg_err *err)
{
    (void)o;
    struct lspci_rctx c = {0};
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "lspci output", err);
    if (rc)
        goto out;
    c.l = calloc(1, sizeof *c.l);
    if (!c.l) {
        rc = lspci_nomem(err);
        goto out;
    }
    struct esx_line line = {0};
    size_t pos = 0;
    while (!rc && esx_text_next(data, len, &pos, &line))
        rc = lspci_line(&c, &line, err);
    if (!rc)
        rc = lspci_close_block(&c, err);
    if (!rc && c.l->device_count == 0)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no device found in lspci output");
    if (rc)
        goto out;
    *out = c.l;
    c.l = NULL;
out:
    esximg_lspci_free(c.l);
    return rc;
}

void esximg_lspci_free(struct esximg_lspci *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->device_count; i++)
        lspci_device_clear(&l->devices[i]);
    free(l->devices);
    esx_warnings_free(&l->warnings);
    free(l);
}

/* ---------------------------------------------------------------- --pci */

int esximg_pci_device_parse(const char *s, struct esximg_pci_device *dev,
                            struct esximg_err *err)
{
    struct esximg_pci_device d = {0};
    size_t n = s ? strlen(s) : 0;
    const char *slash = s ? memchr(s, '/', n) : NULL;
    size_t ids_len = slash ? (size_t)(slash - s) : n;
    uint32_t cls = 0;
    bool ok = ids_len == 9 || ids_len == 19;
    ok = ok && lspci_pair(s, 9, &d.vendor, &d.device);
    if (ok && ids_len == 19) {
        ok = s[9] == ':' && lspci_pair(s + 10, 9, &d.subvendor, &d.subdevice);
        d.has_subsys = true;
    }
    if (ok && slash) {
        size_t cls_len = n - ids_len - 1;
        ok = (cls_len == 4 || cls_len == 6) && esx_parse_hex(slash + 1, cls_len, &cls);
        d.has_class = true;
        d.has_progif = cls_len == 6;
        d.class_code = (uint16_t)(cls_len == 6 ? cls >> 8 : cls);
        d.progif = (uint8_t)(cls_len == 6 ? cls & 0xff : 0);
    }
    if (!ok) {
        char quoted[64];
        esx_text_quote(s ? s : "", n, quoted, sizeof quoted);
        return esximg_err_set(err, ESXIMG_EINVAL, "pci id '%s' is not "
                              "VVVV:DDDD[:SSSS:ssss][/CCCC[PP]]", quoted);
    }
    *dev = d;
    return 0;
}
