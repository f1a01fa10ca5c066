/* modname.c: Python 2 hashes, urllib.quote, `vibs/` file names and 8.3 payload module names,
 * as VMware's esximage computes them (esxi-formats.md §3.2, §3.3, §5.4). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_private.h"
#include "esximg/modname.h"

#define MODNAME_SHORT_MAX 8u      /* bytes of the payload name kept */
#define MODNAME_COUNTER_MAX 0xffu /* two hex digits */

/* ---------------------------------------------------------------- Python 2 hashes */

int32_t esximg_modname_py2_hash(const void *s, size_t len)
{
    const unsigned char *p = s;
    if (len == 0)
        return 0;
    /* all arithmetic mod 2^32, as a 32-bit C long in CPython 2 */
    uint32_t x = (uint32_t)p[0] << 7;
    for (size_t i = 0; i < len; i++)
        x = (1000003u * x) ^ p[i];
    x ^= (uint32_t)len;
    int32_t h = (int32_t)x;
    return h == -1 ? -2 : h;
}

int32_t esximg_modname_py2_hash_pair(const void *a, size_t a_len, const void *b, size_t b_len)
{
    uint32_t x = 0x345678u, mult = 1000003u;
    int32_t items[2] = { esximg_modname_py2_hash(a, a_len), esximg_modname_py2_hash(b, b_len) };
    for (uint32_t left = 2; left-- > 0;) {
        x = (x ^ (uint32_t)items[1 - left]) * mult;
        mult += 82520u + left + left;
    }
    x += 97531u;
    int32_t h = (int32_t)x;
    return h == -1 ? -2 : h;
}

int esximg_modname_url_quote(const void *s, size_t len, char **out, struct esximg_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = s;
    size_t cap;
    if (esx_mul_size(len, 3, &cap) || esx_add_size(cap, 1, &cap))
        return esximg_err_set(err, ESXIMG_ELIMIT, "text to quote is too long");
    char *q = malloc(cap);
    if (!q)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        bool safe = esx_is_alnum((char)c) || c == '_' || c == '.' || c == '-';
        if (safe) {
            q[n++] = (char)c;
        } else {
            q[n++] = '%';
            q[n++] = hex[c >> 4];
            q[n++] = hex[c & 15];
        }
    }
    q[n] = '\0';
    *out = q;
    return 0;
}

/* ---------------------------------------------------------------- vibs/ file names */

static int modname_check_vib_name(const char *vib_name, struct esximg_err *err)
{
    if (!vib_name || !vib_name[0] || strchr(vib_name, '/') || strcmp(vib_name, ".") == 0 ||
        strcmp(vib_name, "..") == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "vib name '%s' cannot start a file name",
                              vib_name ? vib_name : "");
    return 0;
}

int esximg_modname_vib_xml(const char *vib_name, const char *vib_id, char **out,
                           struct esximg_err *err)
{
    int rc = modname_check_vib_name(vib_name, err);
    if (rc)
        return rc;
    if (!vib_id || !vib_id[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': empty vib-id", vib_name);
    char *name;
    int32_t h = esximg_modname_py2_hash(vib_id, strlen(vib_id));
    if (asprintf(&name, "%s-%" PRId32 ".xml", vib_name, h) < 0)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    *out = name;
    return 0;
}

static bool modname_in(const char *name, const char *const *used, size_t used_count)
{
    for (size_t i = 0; i < used_count; i++)
        if (used[i] && strcmp(used[i], name) == 0)
            return true;
    return false;
}

int esximg_modname_vib_xml64(const char *vib_name, const char *vib_id,
                             const char *const *used, size_t used_count, char **out,
                             struct esximg_err *err)
{
    int rc = modname_check_vib_name(vib_name, err);
    if (rc)
        return rc;
    if (!vib_id || !vib_id[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': empty vib-id", vib_name);
    char hex[65];
    rc = esx_digest_hex(ESX_SHA256, vib_id, strlen(vib_id), hex, err);
    if (rc)
        return rc;
    uint64_t u = 0;
    for (size_t i = 0; i < 16; i++) {
        char c = hex[i];
        u = (u << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    /* used_count + 1 tries always reach a free number */
    for (size_t tries = 0; tries <= used_count; tries++, u++) {
        int64_t n = u > INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
        char *name;
        if (asprintf(&name, "%s-%" PRId64 ".xml", vib_name, n) < 0)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        if (!modname_in(name, used, used_count)) {
            *out = name;
            return 0;
        }
        free(name);
    }
    return esximg_err_set(err, ESXIMG_ELIMIT, "vib '%s': no free file name", vib_name);
}

/* ---------------------------------------------------------------- module names */

/* payload name[:8], lower-cased, '-' -> '_' unless keep_dash; short must hold 9 bytes */
static void modname_short(const char *payload_name, bool keep_dash, char *short_name)
{
    size_t n = strnlen(payload_name, MODNAME_SHORT_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = payload_name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '-' && !keep_dash)
            c = '_';
        short_name[i] = c;
    }
    short_name[n] = '\0';
}

static bool modname_hexpair_eq(const char *s, unsigned counter)
{
    static const char hex[] = "0123456789abcdef";
    char a = s[0], b = s[1];
    if (a >= 'A' && a <= 'F')
        a = (char)(a - 'A' + 'a');
    if (b >= 'A' && b <= 'F')
        b = (char)(b - 'A' + 'a');
    return a == hex[(counter >> 4) & 15] && b == hex[counter & 15];
}

/* true when `name` is "<short>.?<counter as %02x>", ignoring case */
static bool modname_takes(const char *name, const char *short_name, size_t short_len,
                          unsigned counter)
{
    return strlen(name) == short_len + 4 && strncasecmp(name, short_name, short_len) == 0 &&
           name[short_len] == '.' && modname_hexpair_eq(name + short_len + 2, counter);
}

/* The set of names taken so far: the caller's (borrowed) plus those assigned (borrowed too). */
struct modname_used {
    const char *const *outer;
    size_t outer_count;
    const char **own;
    size_t own_count;
};

static bool modname_counter_free(const struct modname_used *u, const char *short_name,
                                 unsigned counter)
{
    size_t short_len = strlen(short_name);
    for (size_t i = 0; i < u->outer_count; i++)
        if (u->outer[i] && modname_takes(u->outer[i], short_name, short_len, counter))
            return false;
    for (size_t i = 0; i < u->own_count; i++)
        if (modname_takes(u->own[i], short_name, short_len, counter))
            return false;
    return true;
}

static int modname_pick(const struct modname_used *u, const char *short_name, const char *type,
                        char **out, struct esximg_err *err)
{
    for (unsigned counter = 0; counter <= MODNAME_COUNTER_MAX; counter++) {
        if (!modname_counter_free(u, short_name, counter))
            continue;
        char *name;
        if (asprintf(&name, "%s.%c%02x", short_name, type[0], counter) < 0)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        *out = name;
        return 0;
    }
    return esximg_err_set(err, ESXIMG_ELIMIT, "no free module name for '%s' (%u in use)",
                          short_name, MODNAME_COUNTER_MAX + 1);
}

static int modname_cmp_vib(const void *a, const void *b)
{
    const struct esximg_modname_vib *const *va = a, *const *vb = b;
    return strcmp((*va)->vib_id, (*vb)->vib_id);
}

static int modname_check_payload(const struct esximg_modname_vib *v,
                                 const struct esximg_modname_payload *p, struct esximg_err *err)
{
    if (!p->name || !p->name[0] || !p->type || !p->type[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "vib '%s': payload without name or type",
                              v->vib_id);
    return 0;
}

/* sorted view of the vibs, with the input checked: ids present and distinct */
static int modname_sorted(struct esximg_modname_vib *vibs, size_t vib_count,
                          struct esximg_modname_vib ***out, size_t *payload_total,
                          struct esximg_err *err)
{
    struct esximg_modname_vib **order = esx_malloc_array(vib_count ? vib_count : 1,
                                                         sizeof *order);
    if (!order)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < vib_count; i++) {
        if (!vibs[i].vib_id || (vibs[i].payload_count && !vibs[i].payloads)) {
            free(order);
            return esximg_err_set(err, ESXIMG_EINVAL, "vib %zu: no vib-id or payloads", i);
        }
        if (esx_add_size(total, vibs[i].payload_count, &total)) {
            free(order);
            return esximg_err_set(err, ESXIMG_ELIMIT, "too many payloads");
        }
        order[i] = &vibs[i];
    }
    qsort(order, vib_count, sizeof *order, modname_cmp_vib);
    for (size_t i = 1; i < vib_count; i++)
        if (strcmp(order[i - 1]->vib_id, order[i]->vib_id) == 0) {
            int rc = esximg_err_set(err, ESXIMG_EINVAL, "vib '%s' is listed twice",
                                    order[i]->vib_id);
            free(order);
            return rc;
        }
    *out = order;
    *payload_total = total;
    return 0;
}

/* explicit vfat-names go into the used set first: the generated names avoid them */
static int modname_seed_vfat(struct esximg_modname_vib **order, size_t vib_count,
                             struct modname_used *u, struct esximg_err *err)
{
    for (size_t i = 0; i < vib_count; i++)
        for (size_t j = 0; j < order[i]->payload_count; j++) {
            const struct esximg_modname_payload *p = &order[i]->payloads[j];
            int rc = modname_check_payload(order[i], p, err);
            if (rc)
                return rc;
            if (!p->vfat_name)
                continue;
            for (size_t k = 0; k < u->own_count; k++)
                if (strcasecmp(u->own[k], p->vfat_name) == 0)
                    return esximg_err_set(err, ESXIMG_EINVAL, "vfat-name '%s' is used twice",
                                          p->vfat_name);
            u->own[u->own_count++] = p->vfat_name;
        }
    return 0;
}

int esximg_modname_assign(struct esximg_modname_vib *vibs, size_t vib_count,
                          const struct esximg_modname_opts *opts, struct esximg_err *err)
{
    const struct esximg_modname_opts defaults = { 0 };
    if (!opts)
        opts = &defaults;
    if (vib_count && !vibs)
        return esximg_err_set(err, ESXIMG_EINVAL, "no vibs given");
    struct esximg_modname_vib **order = NULL;
    size_t total = 0;
    int rc = modname_sorted(vibs, vib_count, &order, &total, err);
    if (rc)
        return rc;
    /* own: every name in use; files: the results, in sorted (vib, payload) order */
    struct modname_used u = { NULL, 0, esx_malloc_array(total ? total : 1, sizeof(char *)), 0 };
    char **files = esx_malloc_array(total ? total : 1, sizeof *files);
    size_t nfiles = 0;
    if (!u.own || !files) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    rc = modname_seed_vfat(order, vib_count, &u, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < vib_count; i++)
        for (size_t j = 0; j < order[i]->payload_count; j++) {
            const struct esximg_modname_payload *p = &order[i]->payloads[j];
            if (p->vfat_name) {
                files[nfiles] = esx_strdup(p->vfat_name);
                if (!files[nfiles]) {
                    rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
                    goto out;
                }
                nfiles++;
                continue;
            }
            char short_name[MODNAME_SHORT_MAX + 1];
            modname_short(p->name, opts->keep_dash, short_name);
            rc = modname_pick(&u, short_name, p->type, &files[nfiles], err);
            if (rc) {
                esximg_err_prefix(err, "vib '%s': payload '%s': ", order[i]->vib_id, p->name);
                goto out;
            }
            u.own[u.own_count++] = files[nfiles++];
        }
    /* success: hand the names over */
    nfiles = 0;
    for (size_t i = 0; i < vib_count; i++)
        for (size_t j = 0; j < order[i]->payload_count; j++)
            order[i]->payloads[j].file = files[nfiles++];
    nfiles = 0;
out:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(u.own);
    free(order);
    return rc;
}

static bool modname_valid_short(const char *short_name, bool keep_dash)
{
    if (!short_name[0])
        return false;
    for (const char *c = short_name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                  (keep_dash && *c == '-');
        if (!ok)
            return false;
    }
    return true;
}

/* esx-boot's mboot/secure.c: these must be signed, and loaded once, under Secure Boot */
const char *const esximg_modname_reserved_names[ESXIMG_MODNAME_RESERVED_COUNT + 1] = {
    "s", "sb", "esxcore", "esxupdt", NULL};

const char *esximg_modname_reserved(const char *path)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    const char *dot = base ? strrchr(base, '.') : NULL;
    size_t n = base ? (dot ? (size_t)(dot - base) : strlen(base)) : 0;
    for (size_t i = 0; n && esximg_modname_reserved_names[i]; i++)
        if (strlen(esximg_modname_reserved_names[i]) == n &&
            strncasecmp(base, esximg_modname_reserved_names[i], n) == 0)
            return esximg_modname_reserved_names[i];
    return NULL;
}

int esximg_modname_next(const char *payload_name, const char *payload_type,
                        const char *const *used, size_t used_count,
                        const struct esximg_modname_opts *opts, char **out,
                        struct esximg_err *err)
{
    const struct esximg_modname_opts defaults = { 0 };
    if (!opts)
        opts = &defaults;
    if (!payload_name || !payload_type)
        return esximg_err_set(err, ESXIMG_EINVAL, "payload without name or type");
    char short_name[MODNAME_SHORT_MAX + 1];
    modname_short(payload_name, opts->keep_dash, short_name);
    if (!modname_valid_short(short_name, opts->keep_dash))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "payload '%s': module name '%s' is not a valid 8.3 name",
                              payload_name, short_name);
    char t = payload_type[0];
    if (!((t >= 'a' && t <= 'z') || (t >= '0' && t <= '9')))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "payload '%s': type '%s' cannot give a module extension",
                              payload_name, payload_type);
    if (!opts->allow_reserved && esximg_modname_reserved(short_name))
        return esximg_err_set(err, ESXIMG_EINVAL,
                              "payload '%s': module name '%s' is reserved for the base "
                              "system", payload_name, short_name);
    struct modname_used u = { used, used_count, NULL, 0 };
    int rc = modname_pick(&u, short_name, payload_type, out, err);
    if (rc)
        esximg_err_prefix(err, "payload '%s': ", payload_name);
    return rc;
}
