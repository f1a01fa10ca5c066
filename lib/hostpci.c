/* hostpci.c: a running host's PCI devices, from ESXi's lspci (-v, -n, -p), vmkchdev -l,
 * esxcli hardware pci list, or pciutils lspci (read by lspci.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/hostpci.h"
#include "esximg/lspci.h"

/* esxcli block fields kept; any other "Key: value" inside a block is a field esximg does not
 * need (IRQ, Flags, Slot Description, ...: they vary from 5.x to 8.x). */
enum hostpci_field {
    HF_ADDRESS, HF_VMKNAME, HF_VENDOR_NAME, HF_DEVICE_NAME, HF_OWNER, HF_VENDOR, HF_DEVICE,
    HF_SUBVENDOR, HF_SUBDEVICE, HF_CLASS, HF_PROGIF, HF_MODULE, HF_OTHER,
};

static const struct {
    const char *key;
    enum hostpci_field field;
} hostpci_esxcli_keys[] = {
    {"Address", HF_ADDRESS},         {"VMkernel Name", HF_VMKNAME},
    {"Vendor Name", HF_VENDOR_NAME}, {"Device Name", HF_DEVICE_NAME},
    {"Current Owner", HF_OWNER},     {"Vendor ID", HF_VENDOR},
    {"Device ID", HF_DEVICE},        {"SubVendor ID", HF_SUBVENDOR},
    {"SubDevice ID", HF_SUBDEVICE},  {"Device Class", HF_CLASS},
    {"Programming Interface", HF_PROGIF}, {"Module Name", HF_MODULE},
};

struct hostpci_rctx {
    struct esximg_hostpci *h;
    size_t cap;
    struct esximg_host_device *open;    /* the device a following line may complete */
    bool in_block;                      /* open is an esxcli block */
    unsigned block_seen;                /* bit per enum hostpci_field */
    size_t module_col, name_col;        /* lspci -p header columns, 0 when no header */
};

static int hostpci_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading host PCI devices");
}

/* ---------------------------------------------------------------- small field parsers */

static bool hostpci_digits(const char *s, size_t n, bool hex, uint32_t *value)
{
    uint64_t v;
    if (hex)
        return n >= 1 && n <= 8 && esx_parse_hex(s, n, value);
    if (n < 1 || n > 8 || !esx_parse_decimal(s, n, &v))
        return false;
    *value = (uint32_t)v;
    return true;
}

bool esximg_hostpci_slot(const char *s, size_t n, char out[20])
{
    /* [seg:]bus:dev.fn, right to left */
    if (n < 6 || s[n - 2] != '.' || s[n - 1] < '0' || s[n - 1] > '7')
        return false;
    const char *bus_colon = NULL, *seg_colon = NULL;
    for (size_t i = n - 2; i-- > 0;) {
        if (s[i] != ':')
            continue;
        if (!bus_colon)
            bus_colon = s + i;
        else if (!seg_colon)
            seg_colon = s + i;
        else
            return false;
    }
    if (!bus_colon)
        return false;
    const char *bus = seg_colon ? seg_colon + 1 : s;
    size_t bus_len = (size_t)(bus_colon - bus), dev_len = (size_t)(s + n - 2 - bus_colon - 1);
    size_t seg_len = seg_colon ? (size_t)(seg_colon - s) : 0;
    /* ESXi 5.x prints a 3-digit decimal bus, and then a decimal device too */
    bool hex = bus_len == 2;
    uint32_t seg = 0, bus_v, dev_v;
    if ((bus_len != 2 && bus_len != 3) || dev_len != 2 ||
        !hostpci_digits(bus, bus_len, hex, &bus_v) ||
        !hostpci_digits(bus_colon + 1, dev_len, hex, &dev_v) || bus_v > 0xff || dev_v > 0x1f)
        return false;
    if (seg_colon && (seg_len < 3 || seg_len > 8 || !hostpci_digits(s, seg_len, hex ||
                                                                     seg_len > 4, &seg)))
        return false;
    if (seg_colon && hex && seg_len < 4)
        return false;
    snprintf(out, 20, "%04x:%02x:%02x.%c", seg, bus_v, dev_v, s[n - 1]);
    return true;
}

/* "hhhh:hhhh" exactly */
static bool hostpci_pair(const char *s, size_t n, uint16_t *a, uint16_t *b)
{
    uint32_t x, y;
    if (n != 9 || s[4] != ':' || !esx_parse_hex(s, 4, &x) || !esx_parse_hex(s + 5, 4, &y))
        return false;
    *a = (uint16_t)x;
    *b = (uint16_t)y;
    return true;
}

/* The next blank-separated token at or after *pos; false at the end. */
static bool hostpci_token(const char *s, size_t n, size_t *pos, const char **tok, size_t *len)
{
    while (*pos < n && esx_is_blank(s[*pos]))
        (*pos)++;
    if (*pos == n)
        return false;
    *tok = s + *pos;
    while (*pos < n && !esx_is_blank(s[*pos]))
        (*pos)++;
    *len = (size_t)(s + *pos - *tok);
    return true;
}

/* An esxcli number: "0x8086" (up to `digits` hex digits) or exactly `digits` bare hex. */
static bool hostpci_hexval(const char *s, size_t n, size_t digits, uint32_t *value)
{
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return n - 2 <= digits && esx_parse_hex(s + 2, n - 2, value);
    return n == digits && esx_parse_hex(s, n, value);
}

/* A name ESXi gives a device: vmnic0, vmhba32, vmgfx0, or an SR-IOV PF_0.202.0_VF_1. */
static bool hostpci_is_vmkname(const char *s, size_t n)
{
    if (n >= 3 && memcmp(s, "PF_", 3) == 0 && memmem(s, n, "_VF_", 4))
        return true;
    size_t i = 2;
    if (n < 4 || s[0] != 'v' || s[1] != 'm')
        return false;
    while (i < n && s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i == 2 || i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Drops markdown bold around a pasted value: "**vmnic0**" -> "vmnic0". */
static void hostpci_unbold(const char **s, size_t *n)
{
    if (*n >= 4 && memcmp(*s, "**", 2) == 0 && memcmp(*s + *n - 2, "**", 2) == 0) {
        *s += 2;
        *n -= 4;
        esx_trim(s, n);
    }
}

/* ---------------------------------------------------------------- the device list */

static void hostpci_device_clear(struct esximg_host_device *d)
{
    free(d->slot);
    free(d->vmkernel_name);
    free(d->name);
    free(d->driver);
    free(d->owner);
    memset(d, 0, sizeof *d);
}

/* A copy of n bytes into *field, replacing it; n == 0 leaves it. */
static int hostpci_keep(char **field, const char *s, size_t n, struct esximg_err *err)
{
    if (n == 0)
        return 0;
    char *copy = esx_strndup(s, n);
    if (!copy)
        return hostpci_nomem(err);
    free(*field);
    *field = copy;
    return 0;
}

static int hostpci_warn(struct hostpci_rctx *c, size_t line, const char *why, const char *s,
                        size_t n, struct esximg_err *err)
{
    char quoted[64];
    esx_text_quote(s, n, quoted, sizeof quoted);
    return esx_warn(&c->h->warnings, line, err, "%s: '%s' (skipped)", why, quoted);
}

static int hostpci_append(struct esximg_hostpci *h, size_t *cap, struct esximg_host_device **out,
                          struct esximg_err *err)
{
    if (h->device_count == *cap) {
        size_t want = *cap ? *cap * 2 : 16;
        struct esximg_host_device *grown = esx_realloc_array(h->devices, want, sizeof *grown);
        if (!grown)
            return hostpci_nomem(err);
        h->devices = grown;
        *cap = want;
    }
    *out = &h->devices[h->device_count++];
    memset(*out, 0, sizeof **out);
    return 0;
}

/* A new device; `slot` (normalised) may be NULL. */
static int hostpci_new_device(struct hostpci_rctx *c, size_t line, enum esximg_hostpci_form form,
                              const char *slot, struct esximg_err *err)
{
    struct esximg_host_device *d = NULL;
    int rc = hostpci_append(c->h, &c->cap, &d, err);
    if (rc)
        return rc;
    d->line = line;
    d->form = form;
    c->open = d;
    return slot ? hostpci_keep(&d->slot, slot, strlen(slot), err) : 0;
}

static void hostpci_drop_last(struct hostpci_rctx *c)
{
    hostpci_device_clear(&c->h->devices[--c->h->device_count]);
    c->open = NULL;
}

/* ---------------------------------------------------------------- esxcli hardware pci list */

static int hostpci_close_block(struct hostpci_rctx *c, struct esximg_err *err)
{
    if (!c->in_block)
        return 0;
    c->in_block = false;
    struct esximg_host_device *d = c->open;
    c->open = NULL;
    if (!d || (c->block_seen & (1u << HF_VENDOR) && c->block_seen & (1u << HF_DEVICE)))
        return 0;
    size_t line = d->line;
    c->open = d;
    hostpci_drop_last(c);
    return esx_warn(&c->h->warnings, line, err, "block without a vendor or device id (skipped)");
}

static int hostpci_open_block(struct hostpci_rctx *c, size_t line, const char *slot,
                              struct esximg_err *err)
{
    int rc = hostpci_close_block(c, err);
    if (!rc)
        rc = hostpci_new_device(c, line, ESXIMG_HOSTPCI_ESXCLI, slot, err);
    if (rc)
        return rc;
    c->in_block = true;
    c->block_seen = 0;
    return 0;
}

/* "Key: value" with a key of words (letters, digits, blanks, parentheses); *field is
 * HF_OTHER for a key esximg does not need.  False when the line is no such pair. */
static bool hostpci_key(const char *s, size_t n, enum hostpci_field *field, const char **value,
                        size_t *value_len)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s || s[0] < 'A' || s[0] > 'Z')
        return false;
    size_t key_len = (size_t)(colon - s);
    for (size_t i = 0; i < key_len; i++) {
        char k = s[i];
        if (!esx_is_alnum(k) && k != ' ' && k != '(' && k != ')' && k != '-' && k != '/')
            return false;
    }
    if (key_len + 1 < n && !esx_is_blank(colon[1]))
        return false;
    *value = colon + 1;
    *value_len = n - key_len - 1;
    esx_trim(value, value_len);
    hostpci_unbold(value, value_len);
    *field = HF_OTHER;
    for (size_t i = 0; i < sizeof hostpci_esxcli_keys / sizeof hostpci_esxcli_keys[0]; i++) {
        const char *k = hostpci_esxcli_keys[i].key;
        if (strlen(k) == key_len && memcmp(k, s, key_len) == 0)
            *field = hostpci_esxcli_keys[i].field;
    }
    return true;
}

static int hostpci_block_id(struct esximg_host_device *d, enum hostpci_field f, const char *v,
                            size_t vn, bool *bad)
{
    uint32_t id;
    size_t digits = f == HF_PROGIF ? 2 : 4;
    if (vn == 0 && f == HF_CLASS)
        return 0;       /* an output cut after "Device Class:" */
    if (!hostpci_hexval(v, vn, digits, &id)) {
        *bad = true;
        return 0;
    }
    switch (f) {
    case HF_VENDOR: d->pci.vendor = (uint16_t)id; break;
    case HF_DEVICE: d->pci.device = (uint16_t)id; break;
    case HF_SUBVENDOR: d->pci.subvendor = (uint16_t)id; break;
    case HF_SUBDEVICE: d->pci.subdevice = (uint16_t)id; break;
    case HF_CLASS: d->pci.class_code = (uint16_t)id; d->pci.has_class = true; break;
    default: d->pci.progif = (uint8_t)id; d->pci.has_progif = true; break;
    }
    return 0;
}

static int hostpci_block_line(struct hostpci_rctx *c, const struct esx_line *ln,
                              enum hostpci_field f, const char *v, size_t vn,
                              struct esximg_err *err)
{
    int rc = 0;
    char slot[20];
    if (f == HF_OTHER)
        return c->in_block ? 0 : hostpci_warn(c, ln->number, "field outside a device block",
                                              ln->p, ln->len, err);
    /* a field seen twice starts the next device (blocks pasted without a blank line) */
    if (!c->in_block || (c->block_seen & (1u << f)))
        rc = hostpci_open_block(c, ln->number, NULL, err);
    if (rc)
        return rc;
    c->block_seen |= 1u << f;
    struct esximg_host_device *d = c->open;
    bool bad = false;
    switch (f) {
    case HF_ADDRESS:
        if (!esximg_hostpci_slot(v, vn, slot))
            return hostpci_warn(c, ln->number, "bad address", ln->p, ln->len, err);
        return hostpci_keep(&d->slot, slot, strlen(slot), err);
    case HF_VMKNAME:
        return hostpci_keep(&d->vmkernel_name, v, vn, err);
    case HF_VENDOR_NAME:
        return d->name ? 0 : hostpci_keep(&d->name, v, vn, err);
    case HF_DEVICE_NAME:
        return hostpci_keep(&d->name, v, vn, err);      /* the device's own name wins */
    case HF_OWNER:
        return hostpci_keep(&d->owner, v, vn, err);
    case HF_MODULE:
        d->driver_known = true;
        return vn == 0 || esx_mem_ieq(v, vn, "None") ? 0 : hostpci_keep(&d->driver, v, vn, err);
    default:
        hostpci_block_id(d, f, v, vn, &bad);
        if (bad)
            return hostpci_warn(c, ln->number, "bad id in block line", ln->p, ln->len, err);
        if (f == HF_VENDOR || f == HF_DEVICE)
            d->has_ids = (c->block_seen & (1u << HF_VENDOR)) &&
                         (c->block_seen & (1u << HF_DEVICE));
        if (f == HF_SUBVENDOR || f == HF_SUBDEVICE)
            d->pci.has_subsys = (c->block_seen & (1u << HF_SUBVENDOR)) &&
                                (c->block_seen & (1u << HF_SUBDEVICE));
        return 0;
    }
}

/* ---------------------------------------------------------------- lspci -p, vmkchdev -l */

/* The Module and Name columns from the -p header positions (the line as printed). */
static int hostpci_p_columns(struct hostpci_rctx *c, const struct esx_line *ln,
                             struct esximg_host_device *d, struct esximg_err *err)
{
    const char *s = ln->p;
    size_t n = ln->len;
    const char *module = s + c->module_col, *name = s + c->name_col;
    size_t module_len = n > c->name_col ? c->name_col - c->module_col : n - c->module_col;
    size_t name_len = n > c->name_col ? n - c->name_col : 0;
    esx_trim(&module, &module_len);
    esx_trim(&name, &name_len);
    d->driver_known = true;
    int rc = hostpci_keep(&d->driver, module, module_len, err);
    return rc ? rc : hostpci_keep(&d->vmkernel_name, name, name_len, err);
}

/* After "vvvv:dddd ssss:ssss" of a -p line: "ISA/irq/Vect P M [Module] [Name]".  Without the
 * header, a lone last token is the name when it looks like one (vmnic2), else the module. */
static int hostpci_p_line(struct hostpci_rctx *c, const struct esx_line *ln, const char *s,
                          size_t n, size_t pos, struct esximg_err *err)
{
    struct esximg_host_device *d = c->open;
    d->form = ESXIMG_HOSTPCI_ESXI_LSPCI_P;
    size_t at = (size_t)(s - ln->p) + pos;
    if (c->module_col && at <= c->module_col && c->module_col < ln->len &&
        esx_is_blank(ln->p[c->module_col - 1]))
        return hostpci_p_columns(c, ln, d, err);
    const char *tok, *rest[3];
    size_t len, rest_len[3], count = 0, flags = 0, save;
    for (save = pos; hostpci_token(s, n, &pos, &tok, &len) && memchr(tok, '/', len); save = pos)
        ;
    pos = save;
    while (hostpci_token(s, n, &pos, &tok, &len)) {
        if (len == 1 && flags < 2 && count == 0) {
            flags++;
            continue;
        }
        if (count == 2)
            return hostpci_warn(c, ln->number, "too many columns in lspci -p line", ln->p,
                                ln->len, err);
        rest[count] = tok;
        rest_len[count++] = len;
    }
    d->driver_known = true;
    if (count == 1 && hostpci_is_vmkname(rest[0], rest_len[0]))
        return hostpci_keep(&d->vmkernel_name, rest[0], rest_len[0], err);
    int rc = count ? hostpci_keep(&d->driver, rest[0], rest_len[0], err) : 0;
    return rc || count < 2 ? rc : hostpci_keep(&d->vmkernel_name, rest[1], rest_len[1], err);
}

/* After the ids of a vmkchdev -l line: "owner [name]". */
static int hostpci_vmkchdev_line(struct hostpci_rctx *c, const struct esx_line *ln,
                                 const char *s, size_t n, size_t pos, struct esximg_err *err)
{
    struct esximg_host_device *d = c->open;
    d->form = ESXIMG_HOSTPCI_VMKCHDEV;
    const char *owner, *name;
    size_t owner_len, name_len;
    if (!hostpci_token(s, n, &pos, &owner, &owner_len))
        return 0;
    int rc = hostpci_keep(&d->owner, owner, owner_len, err);
    /* a device passed through to a VM is the passthrough module's, whatever the image has */
    if (!rc && esx_mem_ieq(owner, owner_len, "passthru")) {
        d->driver_known = true;
        rc = hostpci_keep(&d->driver, ESXIMG_HOSTPCI_PASSTHRU,
                          strlen(ESXIMG_HOSTPCI_PASSTHRU), err);
    }
    if (!rc && hostpci_token(s, n, &pos, &name, &name_len))
        rc = hostpci_keep(&d->vmkernel_name, name, name_len, err);
    if (!rc && hostpci_token(s, n, &pos, &name, &name_len))
        rc = hostpci_warn(c, ln->number, "too many columns in vmkchdev line", ln->p, ln->len,
                          err);
    return rc;
}

/* ---------------------------------------------------------------- ESXi lspci lines */

/* "Class cccc: vvvv:dddd" at s; *used is its length. */
static bool hostpci_class_ids(const char *s, size_t n, struct esximg_pci_device *pci,
                              size_t *used)
{
    uint32_t cls;
    if (n < 21 || memcmp(s, "Class ", 6) != 0 || !esx_parse_hex(s + 6, 4, &cls) ||
        s[10] != ':' || !esx_is_blank(s[11]))
        return false;
    size_t pos = 11;
    const char *tok;
    size_t len;
    if (!hostpci_token(s, n, &pos, &tok, &len) ||
        !hostpci_pair(tok, len, &pci->vendor, &pci->device))
        return false;
    pci->class_code = (uint16_t)cls;
    pci->has_class = true;
    *used = pos;
    return true;
}

/* A trailing "[vmnic0]": its name and where it starts. */
static bool hostpci_tail_name(const char *s, size_t n, const char **name, size_t *name_len,
                              size_t *start)
{
    if (n < 3 || s[n - 1] != ']')
        return false;
    size_t open = n - 1;
    while (open > 0 && s[open - 1] != '[')
        open--;
    if (open == 0)
        return false;
    *name = s + open;
    *name_len = n - 1 - open;
    *start = open - 1;
    return *name_len > 0;
}

/* After the slot of an ESXi lspci -n line: "Class cccc: vvvv:dddd [name]". */
static int hostpci_n_line(struct hostpci_rctx *c, const struct esx_line *ln, const char *s,
                          size_t n, struct esximg_err *err)
{
    struct esximg_host_device *d = c->open;
    size_t used, start;
    const char *name, *rest;
    size_t name_len, rest_len;
    hostpci_class_ids(s, n, &d->pci, &used);
    d->has_ids = true;
    rest = s + used;
    rest_len = n - used;
    esx_trim(&rest, &rest_len);
    if (rest_len == 0)
        return 0;
    if (!hostpci_tail_name(rest, rest_len, &name, &name_len, &start) || start != 0)
        return hostpci_warn(c, ln->number, "bad lspci -n line", ln->p, ln->len, err);
    return hostpci_keep(&d->vmkernel_name, name, name_len, err);
}

/* After the slot of ESXi's plain lspci line: "Class names: Vendor Device [vmnic0]".  It has no
 * ids: a "Class cccc: vvvv:dddd" line (lspci -v) or another file gives them. */
static int hostpci_plain_line(struct hostpci_rctx *c, const char *s, size_t n,
                              struct esximg_err *err)
{
    struct esximg_host_device *d = c->open;
    const char *colon = memmem(s, n, ": ", 2);
    const char *name = colon + 2, *vmk;
    size_t name_len = n - (size_t)(name - s), vmk_len, start;
    if (hostpci_tail_name(name, name_len, &vmk, &vmk_len, &start) &&
        hostpci_is_vmkname(vmk, vmk_len)) {
        int rc = hostpci_keep(&d->vmkernel_name, vmk, vmk_len, err);
        if (rc)
            return rc;
        name_len = start;
    }
    esx_trim(&name, &name_len);
    return hostpci_keep(&d->name, name, name_len, err);
}

static int hostpci_slot_line(struct hostpci_rctx *c, const struct esx_line *ln, const char *s,
                             size_t n, const char *slot_tok, size_t slot_len,
                             struct esximg_err *err)
{
    char slot[20];
    if (!esximg_hostpci_slot(slot_tok, slot_len, slot))
        return hostpci_warn(c, ln->number, "bad slot", ln->p, ln->len, err);
    size_t pos = (size_t)(slot_tok + slot_len - s);
    const char *rest = s + pos, *tok1, *tok2;
    size_t rest_len = n - pos, len1, len2;
    esx_trim(&rest, &rest_len);
    if (rest_len == 0)
        return hostpci_open_block(c, ln->number, slot, err);   /* esxcli's block title */
    int rc = hostpci_close_block(c, err);
    if (!rc)
        rc = hostpci_new_device(c, ln->number, ESXIMG_HOSTPCI_ESXI_LSPCI, slot, err);
    if (rc)
        return rc;
    struct esximg_host_device *d = c->open;
    size_t p = 0, used;
    struct esximg_pci_device probe = {0};
    if (hostpci_token(rest, rest_len, &p, &tok1, &len1) &&
        hostpci_pair(tok1, len1, &d->pci.vendor, &d->pci.device) &&
        hostpci_token(rest, rest_len, &p, &tok2, &len2) &&
        hostpci_pair(tok2, len2, &d->pci.subvendor, &d->pci.subdevice)) {
        d->has_ids = d->pci.has_subsys = true;
        size_t after = p;
        const char *next;
        size_t next_len;
        if (hostpci_token(rest, rest_len, &after, &next, &next_len) &&
            memchr(next, '/', next_len))
            return hostpci_p_line(c, ln, rest, rest_len, p, err);
        return hostpci_vmkchdev_line(c, ln, rest, rest_len, p, err);
    }
    if (hostpci_class_ids(rest, rest_len, &probe, &used))
        return hostpci_n_line(c, ln, rest, rest_len, err);
    if (memmem(rest, rest_len, ": ", 2))
        return hostpci_plain_line(c, rest, rest_len, err);
    hostpci_drop_last(c);
    return hostpci_warn(c, ln->number, "not a host PCI device line", ln->p, ln->len, err);
}

/* "Class cccc: vvvv:dddd" under a plain lspci line (lspci -v). */
static int hostpci_class_line(struct hostpci_rctx *c, const struct esx_line *ln, const char *s,
                              size_t n, struct esximg_err *err)
{
    struct esximg_host_device *d = c->open;
    struct esximg_pci_device pci = {0};
    size_t used;
    hostpci_class_ids(s, n, &pci, &used);
    if (!d || c->in_block || d->has_ids || used != n)
        return hostpci_warn(c, ln->number, "class line without its device line", ln->p,
                            ln->len, err);
    d->pci = pci;
    d->has_ids = true;
    return 0;
}

/* "Segm:Bu:De.F Vend:Dvid Subv:Subd ISA/irq/Vect P M Module       Name" */
static bool hostpci_p_header(struct hostpci_rctx *c, const struct esx_line *ln)
{
    const char *s = ln->p;
    size_t n = ln->len;
    if (n < 12 || memcmp(s, "Segm:Bu:De.F", 12) != 0)
        return false;
    const char *module = memmem(s, n, " Module", 7), *name = memmem(s, n, " Name", 5);
    if (module && name && name > module) {
        c->module_col = (size_t)(module - s) + 1;
        c->name_col = (size_t)(name - s) + 1;
    }
    return true;
}

static int hostpci_line(struct hostpci_rctx *c, const struct esx_line *ln, struct esximg_err *err)
{
    const char *s = ln->p, *value, *tok = NULL;
    size_t n = ln->len, value_len, tok_len = 0, pos = 0, used;
    enum hostpci_field field;
    struct esximg_pci_device probe = {0};
    esx_trim(&s, &n);
    if (n == 0 || (n == 2 && memcmp(s, "--", 2) == 0))     /* grep -A/-B puts "--" between */
        return hostpci_close_block(c, err);
    if (hostpci_p_header(c, ln))
        return 0;
    hostpci_token(s, n, &pos, &tok, &tok_len);
    char slot[20];
    if (esximg_hostpci_slot(tok, tok_len, slot) || (tok_len >= 7 && tok_len <= 17 &&
                                                   tok[tok_len - 2] == '.' &&
                                                   memchr(tok, ':', tok_len) &&
                                                   !memchr(tok, ' ', tok_len) && tok_len != n))
        return hostpci_slot_line(c, ln, s, n, tok, tok_len, err);
    if (hostpci_class_ids(s, n, &probe, &used)) {
        int rc = hostpci_close_block(c, err);      /* no esxcli block holds such a line */
        return rc ? rc : hostpci_class_line(c, ln, s, n, err);
    }
    if (hostpci_key(s, n, &field, &value, &value_len))
        return hostpci_block_line(c, ln, field, value, value_len, err);
    return hostpci_warn(c, ln->number, "not a host PCI line", ln->p, ln->len, err);
}

/* ---------------------------------------------------------------- pciutils lspci */

static int hostpci_from_lspci(const struct esximg_lspci *l, struct esximg_hostpci **out,
                              struct esximg_err *err)
{
    struct esximg_hostpci *h = calloc(1, sizeof *h);
    size_t cap = 0;
    int rc = h ? 0 : hostpci_nomem(err);
    for (size_t i = 0; !rc && i < l->device_count; i++) {
        const struct esximg_lspci_device *ld = &l->devices[i];
        struct esximg_host_device *d = NULL;
        const char *name = ld->name ? ld->name : ld->device_name;
        if ((rc = hostpci_append(h, &cap, &d, err)) != 0)
            break;
        d->line = ld->line;
        d->form = ESXIMG_HOSTPCI_LINUX;
        d->pci = ld->pci;
        d->has_ids = true;
        /* pciutils slots stay as printed ("00:19.0"), as `hcl --lspci` always showed them */
        if (ld->slot)
            rc = hostpci_keep(&d->slot, ld->slot, strlen(ld->slot), err);
        if (!rc && name)
            rc = hostpci_keep(&d->name, name, strlen(name), err);
    }
    for (size_t i = 0; !rc && i < l->warnings.count; i++)
        rc = esx_warn(&h->warnings, l->warnings.items[i].line, err, "%s",
                      l->warnings.items[i].msg);
    if (rc) {
        esximg_hostpci_free(h);
        return rc;
    }
    h->warnings.dropped += l->warnings.dropped;
    *out = h;
    return 0;
}

/* ---------------------------------------------------------------- read */

static int hostpci_read_esxi(const void *data, size_t len, struct esximg_hostpci **out,
                             struct esximg_err *err)
{
    struct hostpci_rctx c = {0};
    c.h = calloc(1, sizeof *c.h);
    int rc = c.h ? 0 : hostpci_nomem(err);
    struct esx_line line = {0};
    size_t pos = 0;
    while (!rc && esx_text_next(data, len, &pos, &line))
        rc = hostpci_line(&c, &line, err);
    if (!rc)
        rc = hostpci_close_block(&c, err);
    if (!rc && c.h->device_count == 0)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no PCI device found: not the output of "
                            "lspci, vmkchdev -l or esxcli hardware pci list");
    if (rc) {
        esximg_hostpci_free(c.h);
        return rc;
    }
    c.h->form = c.h->devices[0].form;
    *out = c.h;
    return 0;
}

static size_t hostpci_with_ids(const struct esximg_hostpci *h)
{
    size_t count = 0;
    for (size_t i = 0; i < h->device_count; i++)
        count += h->devices[i].has_ids;
    return count;
}

int esximg_hostpci_read(const void *data, size_t len, const struct esximg_hostpci_ropts *o,
                        struct esximg_hostpci **out, struct esximg_err *err)
{
    (void)o;
    int rc = esx_text_check(data, len, ESX_MAX_TEXT_BYTES, "host PCI device list", err);
    if (rc)
        return rc;
    /* both readers run; the one that finds more devices with ids (then fewer unreadable lines)
     * says which form it was: pciutils' and ESXi's lines share their first columns */
    struct esximg_lspci *linux_l = NULL;
    struct esximg_hostpci *esxi = NULL, *linux_h = NULL;
    struct esximg_err esxi_err = {0};
    int linux_rc = esximg_lspci_read(data, len, NULL, &linux_l, NULL);
    if (!linux_rc) {
        rc = hostpci_from_lspci(linux_l, &linux_h, err);
        esximg_lspci_free(linux_l);
        if (rc)
            return rc;
    }
    int esxi_rc = hostpci_read_esxi(data, len, &esxi, &esxi_err);
    if (esxi_rc == ESXIMG_ENOMEM || (esxi_rc && !linux_h)) {
        esximg_hostpci_free(linux_h);
        if (err)
            *err = esxi_err;
        return esxi_rc;
    }
    bool esxi_wins = esxi && (!linux_h || hostpci_with_ids(esxi) > hostpci_with_ids(linux_h) ||
                              (hostpci_with_ids(esxi) == hostpci_with_ids(linux_h) &&
                               esxi->warnings.count < linux_h->warnings.count));
    *out = esxi_wins ? esxi : linux_h;
    esximg_hostpci_free(esxi_wins ? linux_h : esxi);
    return 0;
}

/* ---------------------------------------------------------------- merge */

static int hostpci_copy_text(char **into, const char *from, struct esximg_err *err)
{
    return *into || !from ? 0 : hostpci_keep(into, from, strlen(from), err);
}

static int hostpci_fill(struct esximg_host_device *d, const struct esximg_host_device *f,
                        struct esximg_err *err)
{
    if (!d->has_ids && f->has_ids) {
        d->pci.vendor = f->pci.vendor;
        d->pci.device = f->pci.device;
        d->has_ids = true;
    }
    if (!d->pci.has_class && f->pci.has_class) {
        d->pci.class_code = f->pci.class_code;
        d->pci.has_class = true;
    }
    if (!d->pci.has_progif && f->pci.has_progif) {
        d->pci.progif = f->pci.progif;
        d->pci.has_progif = true;
    }
    if (!d->pci.has_subsys && f->pci.has_subsys) {
        d->pci.subvendor = f->pci.subvendor;
        d->pci.subdevice = f->pci.subdevice;
        d->pci.has_subsys = true;
    }
    int rc = hostpci_copy_text(&d->vmkernel_name, f->vmkernel_name, err);
    if (!rc)
        rc = hostpci_copy_text(&d->name, f->name, err);
    if (!rc)
        rc = hostpci_copy_text(&d->owner, f->owner, err);
    if (!rc && !d->driver_known && f->driver_known) {
        d->driver_known = true;
        rc = hostpci_copy_text(&d->driver, f->driver, err);
    }
    return rc;
}

int esximg_hostpci_merge(struct esximg_hostpci *into, const struct esximg_hostpci *from,
                         struct esximg_err *err)
{
    size_t cap = into->device_count, first_new = into->device_count;
    for (size_t i = 0; i < from->device_count; i++) {
        const struct esximg_host_device *f = &from->devices[i];
        struct esximg_host_device *d = NULL;
        for (size_t k = 0; f->slot && k < first_new && !d; k++)
            if (into->devices[k].slot && strcmp(into->devices[k].slot, f->slot) == 0)
                d = &into->devices[k];
        int rc = 0;
        if (d && d->has_ids && f->has_ids &&
            (d->pci.vendor != f->pci.vendor || d->pci.device != f->pci.device))
            rc = esx_warn(&into->warnings, f->line, err, "slot %s: %04x:%04x here, %04x:%04x "
                          "before (the first is kept)", f->slot, f->pci.vendor, f->pci.device,
                          d->pci.vendor, d->pci.device);
        if (!rc && !d) {
            rc = hostpci_append(into, &cap, &d, err);
            if (!rc) {
                d->line = f->line;
                d->form = f->form;
                rc = hostpci_copy_text(&d->slot, f->slot, err);
            }
        }
        if (!rc)
            rc = hostpci_fill(d, f, err);
        if (rc)
            return rc;
    }
    return 0;
}

void esximg_hostpci_free(struct esximg_hostpci *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->device_count; i++)
        hostpci_device_clear(&h->devices[i]);
    free(h->devices);
    esx_warnings_free(&h->warnings);
    free(h);
}

const char *esximg_hostpci_form_name(enum esximg_hostpci_form form)
{
    switch (form) {
    case ESXIMG_HOSTPCI_ESXI_LSPCI: return "esxi lspci";
    case ESXIMG_HOSTPCI_ESXI_LSPCI_P: return "esxi lspci -p";
    case ESXIMG_HOSTPCI_VMKCHDEV: return "vmkchdev -l";
    case ESXIMG_HOSTPCI_ESXCLI: return "esxcli hardware pci list";
    default: return "linux lspci";
    }
}
