/* vmtar.c: VMware's vmtar archives: sniff, read, write, build from a tree (extraction to disk
 * is vmtar_disk.c).
 *
 * Layout (esxi-formats.md 1.4): every 512-byte header first, a zero block, then the contents at
 * the absolute offsets of header bytes 496..499. Nothing in the file is trusted: each offset and
 * size is checked against the archive and against the other contents before it is used. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "esximg/vmtar.h"
#include "vmtar_private.h"

/* ---- field offsets and sizes of a header ---- */
#define VMTAR_BLOCK      512u
#define VMTAR_NAME       0
#define VMTAR_NAME_LEN   100
#define VMTAR_MODE       100
#define VMTAR_UID        108
#define VMTAR_GID        116
#define VMTAR_SIZE       124
#define VMTAR_MTIME      136
#define VMTAR_CHKSUM     148
#define VMTAR_TYPE       156
#define VMTAR_LINK       157
#define VMTAR_MAGIC      257
#define VMTAR_UNAME      265
#define VMTAR_OWNER_LEN  32
#define VMTAR_GNAME      297
#define VMTAR_DEVMAJOR   329
#define VMTAR_DEVMINOR   337
#define VMTAR_PREFIX     345
#define VMTAR_PREFIX_LEN 151
#define VMTAR_OFFSET     496
#define VMTAR_TEXTOFF    500
#define VMTAR_TEXTPGS    504
#define VMTAR_FIXUPPGS   508

/* the largest values the octal fields hold with their final NUL */
#define VMTAR_MAX_OCT7   07777777u
#define VMTAR_MAX_OCT11  077777777777u

/* signature trailer: u32 schema, sig, u32 siglen, u32 magic (esx-boot mboot/secure.c) */
#define VMTAR_SIG_MAGIC  0x1abe11edu
#define VMTAR_SIG_MAX    65536u

static const uint8_t vmtar_magic[8] = {'v', 'i', 's', 'o', 'r', ' ', ' ', '\0'};

/* ------------------------------------------------------------------------------- sniffing */

int esximg_vmtar_sniff(const uint8_t *head, size_t n)
{
    if (n < VMTAR_MAGIC + 8)
        return ESXIMG_TAR_UNKNOWN;
    const uint8_t *m = head + VMTAR_MAGIC;
    if (!memcmp(m, "visor ", 6))
        return ESXIMG_TAR_VMTAR;
    if (!memcmp(m, "ustar  \0", 8))
        return ESXIMG_TAR_GNU;
    if (!memcmp(m, "ustar\0", 6))
        return ESXIMG_TAR_USTAR;
    return ESXIMG_TAR_UNKNOWN;
}

/* The first block of the (decompressed) data: at most 512 bytes inflated. */
static size_t vmtar_head(const uint8_t *data, size_t len, uint8_t *head, bool *gzipped)
{
    size_t have = 0;
    struct esx_gzstream *s;
    *gzipped = esx_is_gzip(data, len);
    if (!*gzipped) {
        have = len < VMTAR_BLOCK ? len : VMTAR_BLOCK;
        memcpy(head, data, have);
        return have;
    }
    if (esx_gzstream_open(data, len, &s, NULL))
        return 0;
    while (have < VMTAR_BLOCK) {
        size_t got;
        if (esx_gzstream_read(s, head + have, VMTAR_BLOCK - have, &got, NULL) || got == 0)
            break;
        have += got;
    }
    esx_gzstream_close(s);
    return have;
}

int esximg_vmtar_sniff_data(const uint8_t *data, size_t len, bool *gzipped)
{
    uint8_t head[VMTAR_BLOCK];
    bool gz;
    size_t have = vmtar_head(data, len, head, &gz);
    if (gzipped)
        *gzipped = gz;
    return esximg_vmtar_sniff(head, have);
}

const char *esximg_tar_format_name(int format)
{
    switch (format) {
    case ESXIMG_TAR_VMTAR: return "vmtar";
    case ESXIMG_TAR_USTAR: return "POSIX ustar";
    case ESXIMG_TAR_GNU: return "GNU tar";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------------- header format */

static uint64_t vmtar_align(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* `digits` octal digits, zero-padded, then a NUL */
static void vmtar_put_octal(uint8_t *f, size_t digits, uint64_t v)
{
    for (size_t i = digits; i-- > 0; v >>= 3)
        f[i] = (uint8_t)('0' + (v & 7));
    f[digits] = '\0';
}

/* Sums of the header with the checksum field counted as spaces, as unsigned and as signed
 * chars (VMware's vmtar uses the latter). */
static void vmtar_sums(const uint8_t *h, int64_t *usum, int64_t *ssum)
{
    int64_t u = 0, s = 0;
    for (size_t i = 0; i < VMTAR_BLOCK; i++) {
        uint8_t b = (i >= VMTAR_CHKSUM && i < VMTAR_CHKSUM + 8) ? ' ' : h[i];
        u += b;
        s += b >= 0x80 ? (int64_t)b - 256 : b;
    }
    *usum = u;
    *ssum = s;
}

static bool vmtar_type_known(char t)
{
    return t == ESXIMG_VMTAR_FILE || t == ESXIMG_VMTAR_OLDFILE || t == ESXIMG_VMTAR_DIR ||
           t == ESXIMG_VMTAR_SHARED || t == ESXIMG_VMTAR_SYMLINK;
}

/* Formats the header of `e` with content at `offset`, the way VMware's vmtar does. */
static int vmtar_format_hdr(const struct esximg_vmtar_entry *e, uint32_t offset,
                            bool signed_sum, uint8_t *h, struct esximg_err *err)
{
    size_t name_len = strlen(e->name), link_len = e->linkname ? strlen(e->linkname) : 0;
    size_t uname_len = e->uname ? strlen(e->uname) : 0;
    size_t gname_len = e->gname ? strlen(e->gname) : 0;
    if (name_len == 0 || name_len > ESXIMG_VMTAR_NAME_MAX || link_len > ESXIMG_VMTAR_NAME_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': name or link target is longer "
                              "than the %u bytes vmtar allows", e->name, ESXIMG_VMTAR_NAME_MAX);
    if (uname_len > VMTAR_OWNER_LEN || gname_len > VMTAR_OWNER_LEN)
        return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': owner name is longer than %d "
                              "bytes", e->name, VMTAR_OWNER_LEN);
    if (e->mode > VMTAR_MAX_OCT7 || e->uid > VMTAR_MAX_OCT7 || e->gid > VMTAR_MAX_OCT7 ||
        e->devmajor > VMTAR_MAX_OCT7 || e->devminor > VMTAR_MAX_OCT7 ||
        e->size > VMTAR_MAX_OCT11 || e->mtime > VMTAR_MAX_OCT11)
        return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': a number does not fit its "
                              "header field", e->name);
    if (!vmtar_type_known(e->typeflag))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "entry '%s': unsupported type '%c'",
                              e->name, e->typeflag);
    memset(h, 0, VMTAR_BLOCK);
    memcpy(h + VMTAR_NAME, e->name, name_len);
    vmtar_put_octal(h + VMTAR_MODE, 7, e->mode);
    vmtar_put_octal(h + VMTAR_UID, 7, e->uid);
    vmtar_put_octal(h + VMTAR_GID, 7, e->gid);
    vmtar_put_octal(h + VMTAR_SIZE, 11, e->size);
    vmtar_put_octal(h + VMTAR_MTIME, 11, e->mtime);
    h[VMTAR_TYPE] = (uint8_t)e->typeflag;
    if (link_len)
        memcpy(h + VMTAR_LINK, e->linkname, link_len);
    memcpy(h + VMTAR_MAGIC, vmtar_magic, sizeof vmtar_magic);
    if (uname_len)
        memcpy(h + VMTAR_UNAME, e->uname, uname_len);
    if (gname_len)
        memcpy(h + VMTAR_GNAME, e->gname, gname_len);
    if (e->dev_digits) {
        vmtar_put_octal(h + VMTAR_DEVMAJOR, 7, e->devmajor);
        vmtar_put_octal(h + VMTAR_DEVMINOR, 7, e->devminor);
    }
    esx_put_le32(h + VMTAR_OFFSET, offset);
    esx_put_le32(h + VMTAR_TEXTOFF, e->text_offset);
    esx_put_le32(h + VMTAR_TEXTPGS, e->text_pages);
    esx_put_le32(h + VMTAR_FIXUPPGS, e->fixup_pages);
    int64_t usum, ssum;
    vmtar_sums(h, &usum, &ssum);
    /* a header full of high bytes can sum negative as signed chars: "%06o" cannot say that,
     * and readers accept the unsigned sum too */
    int64_t sum = signed_sum && ssum >= 0 ? ssum : usum;
    vmtar_put_octal(h + VMTAR_CHKSUM, 6, (uint64_t)sum);
    h[VMTAR_CHKSUM + 7] = ' ';
    return 0;
}

/* ---------------------------------------------------------------------------------- read */

struct vmtar_rctx {
    const uint8_t *data;
    size_t len;
    uint64_t headers_end;      /* entries * 512 */
    struct esximg_vmtar *v;
    size_t signed_only;        /* headers whose sums differ and that used the signed one */
    size_t unsigned_only;
};

/* A content range, for the overlap and gap checks. */
struct vmtar_range {
    uint64_t off, end;
    size_t index;
};

static int vmtar_append_slot(struct esximg_vmtar *v, struct esximg_vmtar_entry **slot,
                             struct esximg_err *err)
{
    if (v->entry_count >= ESX_MAX_ARCHIVE_ENTRIES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "archive has more than %u entries "
                              "(ESX_MAX_ARCHIVE_ENTRIES)", ESX_MAX_ARCHIVE_ENTRIES);
    if (v->entry_count == v->entry_cap) {
        size_t cap = v->entry_cap ? v->entry_cap * 2 : 64;
        struct esximg_vmtar_entry *grown = esx_realloc_array(v->entries, cap, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for %zu entries", cap);
        v->entries = grown;
        v->entry_cap = cap;
    }
    *slot = &v->entries[v->entry_count];
    memset(*slot, 0, sizeof **slot);
    return 0;
}

static void vmtar_entry_release(struct esximg_vmtar_entry *e)
{
    free(e->name);
    free(e->uname);
    free(e->gname);
    free(e->linkname);
    free(e->source);
    if (e->content_owned)
        free((void *)(uintptr_t)e->content);
    memset(e, 0, sizeof *e);
}

/* A NUL-terminated text field: `need_nul` refuses one that fills the field. */
static int vmtar_field_text(const uint8_t *f, size_t n, bool need_nul, char **out)
{
    const uint8_t *nul = memchr(f, '\0', n);
    if (!nul && need_nul)
        return ESXIMG_EFORMAT;
    *out = esx_strndup((const char *)f, nul ? (size_t)(nul - f) : n);
    return *out ? 0 : ESXIMG_ENOMEM;
}

static int vmtar_field_u32(const uint8_t *h, size_t off, size_t n, uint32_t *out)
{
    uint64_t v;
    if (!esx_parse_octal((const char *)h + off, n, &v) || v > UINT32_MAX)
        return ESXIMG_EFORMAT;
    *out = (uint32_t)v;
    return 0;
}

static int vmtar_parse_strings(const uint8_t *h, size_t index, struct esximg_vmtar_entry *e,
                               struct esximg_err *err)
{
    int rc = vmtar_field_text(h + VMTAR_NAME, VMTAR_NAME_LEN, true, &e->name);
    if (rc == ESXIMG_EFORMAT)
        return esximg_err_set(err, rc, "header %zu: name has no NUL within %d bytes", index,
                              VMTAR_NAME_LEN);
    if (!rc) {
        rc = vmtar_field_text(h + VMTAR_LINK, VMTAR_NAME_LEN, true, &e->linkname);
        if (rc == ESXIMG_EFORMAT)
            return esximg_err_set(err, rc, "entry '%s': link target has no NUL within %d "
                                  "bytes", e->name, VMTAR_NAME_LEN);
    }
    if (!rc)
        rc = vmtar_field_text(h + VMTAR_UNAME, VMTAR_OWNER_LEN, false, &e->uname);
    if (!rc)
        rc = vmtar_field_text(h + VMTAR_GNAME, VMTAR_OWNER_LEN, false, &e->gname);
    if (rc)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading header %zu", index);
    return esx_path_check(e->name, "entry", err);
}

static int vmtar_parse_numbers(const uint8_t *h, struct esximg_vmtar_entry *e,
                               struct esximg_err *err)
{
    const char *bad = NULL;
    if (vmtar_field_u32(h, VMTAR_MODE, 8, &e->mode))
        bad = "mode";
    else if (vmtar_field_u32(h, VMTAR_UID, 8, &e->uid))
        bad = "uid";
    else if (vmtar_field_u32(h, VMTAR_GID, 8, &e->gid))
        bad = "gid";
    else if (!esx_parse_octal((const char *)h + VMTAR_SIZE, 12, &e->size))
        bad = "size";
    else if (!esx_parse_octal((const char *)h + VMTAR_MTIME, 12, &e->mtime))
        bad = "mtime";
    if (bad)
        return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': %s field is not an octal "
                              "number", e->name, bad);
    /* all NUL (VIB Author, 5.x-6.x) or octal digits (7.0 ISO modules): keep which */
    static const uint8_t nul16[16];
    if (memcmp(h + VMTAR_DEVMAJOR, nul16, 16) != 0) {
        if (vmtar_field_u32(h, VMTAR_DEVMAJOR, 8, &e->devmajor) ||
            vmtar_field_u32(h, VMTAR_DEVMINOR, 8, &e->devminor))
            return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': device number field is "
                                  "not an octal number", e->name);
        e->dev_digits = true;
    }
    e->offset = esx_le32(h + VMTAR_OFFSET);
    e->text_offset = esx_le32(h + VMTAR_TEXTOFF);
    e->text_pages = esx_le32(h + VMTAR_TEXTPGS);
    e->fixup_pages = esx_le32(h + VMTAR_FIXUPPGS);
    return 0;
}

static int vmtar_check_type(const uint8_t *h, const struct esximg_vmtar_entry *e,
                            struct esximg_err *err)
{
    char t = e->typeflag;
    if (t == 'L' || t == 'K')
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "entry '%s': GNU long names are not "
                              "supported (vmtar names have at most 99 bytes)", e->name);
    if (!vmtar_type_known(t))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "entry '%s': unsupported entry type "
                              "'%c' (hard links, devices and fifos are refused)", e->name,
                              (t >= 0x20 && t < 0x7f) ? t : '?');
    if ((t == ESXIMG_VMTAR_DIR || t == ESXIMG_VMTAR_SYMLINK) && e->size != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': a %s with %" PRIu64
                              " bytes of content", e->name,
                              t == ESXIMG_VMTAR_DIR ? "directory" : "symlink", e->size);
    if (t == ESXIMG_VMTAR_SYMLINK && e->linkname[0] == '\0')
        return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': symlink without a target",
                              e->name);
    for (size_t i = VMTAR_PREFIX; i < VMTAR_PREFIX + VMTAR_PREFIX_LEN; i++)
        if (h[i])
            return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "entry '%s': the prefix field "
                                  "is not supported", e->name);
    return 0;
}

static int vmtar_parse_hdr(struct vmtar_rctx *c, const uint8_t *h, size_t index,
                           struct esximg_err *err)
{
    if (memcmp(h + VMTAR_MAGIC, "visor ", 6) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "header %zu: no 'visor ' magic", index);
    uint64_t stored;
    if (!esx_parse_octal((const char *)h + VMTAR_CHKSUM, 8, &stored))
        return esximg_err_set(err, ESXIMG_EFORMAT, "header %zu: checksum field is not an "
                              "octal number", index);
    int64_t usum, ssum;
    vmtar_sums(h, &usum, &ssum);
    if ((int64_t)stored != usum && (int64_t)stored != ssum)
        return esximg_err_set(err, ESXIMG_ECHECKSUM, "header %zu: checksum %06" PRIo64
                              " matches neither sum (%06" PRIo64 " unsigned, %06" PRIo64
                              " signed)", index, stored, (uint64_t)usum,
                              (uint64_t)(ssum < 0 ? 0 : ssum));
    struct esximg_vmtar_entry *e;
    int rc = vmtar_append_slot(c->v, &e, err);
    if (rc)
        return rc;
    c->v->entry_count++;     /* counted now so that free releases what is parsed */
    e->signed_checksum = (int64_t)stored != usum;
    if (usum != ssum)
        e->signed_checksum ? c->signed_only++ : c->unsigned_only++;
    e->typeflag = (char)h[VMTAR_TYPE];
    rc = vmtar_parse_strings(h, index, e, err);
    if (!rc)
        rc = vmtar_parse_numbers(h, e, err);
    if (!rc)
        rc = vmtar_check_type(h, e, err);
    if (rc)
        return rc;
    uint8_t again[VMTAR_BLOCK];
    e->canonical = !vmtar_format_hdr(e, e->offset, e->signed_checksum, again, NULL) &&
                   !memcmp(again, h, VMTAR_BLOCK);
    return 0;
}

static int vmtar_range_cmp(const void *a, const void *b)
{
    const struct vmtar_range *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool vmtar_all_zero(const uint8_t *p, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++)
        if (p[i])
            return false;
    return true;
}

/* Every content inside the archive, after the end-of-headers block, none overlapping.
 * Sets data_start/data_end and whether the bytes between contents are all zero. */
static int vmtar_check_contents(struct vmtar_rctx *c, struct vmtar_range *ranges,
                                size_t *range_count, bool *zero_gaps, struct esximg_err *err)
{
    struct esximg_vmtar *v = c->v;
    size_t n = 0;
    uint64_t first_allowed = c->headers_end + VMTAR_BLOCK;
    for (size_t i = 0; i < v->entry_count; i++) {
        struct esximg_vmtar_entry *e = &v->entries[i];
        uint64_t end;
        if (e->size == 0)
            continue;
        if (e->offset < first_allowed)
            return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': content offset %" PRIu32
                                  " lies inside the header area (which ends at %" PRIu64 ")",
                                  e->name, e->offset, first_allowed);
        if (esx_add_u64(e->offset, e->size, &end) || end > c->len)
            return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': content %" PRIu32 "+%"
                                  PRIu64 " lies outside the archive (%zu bytes)", e->name,
                                  e->offset, e->size, c->len);
        e->content = c->data + e->offset;
        ranges[n++] = (struct vmtar_range){e->offset, end, i};
    }
    qsort(ranges, n, sizeof *ranges, vmtar_range_cmp);
    uint64_t pos = c->headers_end;
    *zero_gaps = true;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ranges[i].off < ranges[i - 1].end)
            return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': content overlaps the "
                                  "content of '%s'", v->entries[ranges[i].index].name,
                                  v->entries[ranges[i - 1].index].name);
        if (*zero_gaps && !vmtar_all_zero(c->data, pos, ranges[i].off))
            *zero_gaps = false;
        pos = ranges[i].end;
    }
    v->layout.data_start = n ? ranges[0].off : first_allowed;
    v->layout.data_end = n ? ranges[n - 1].end : first_allowed;
    if (*zero_gaps && !n)
        *zero_gaps = vmtar_all_zero(c->data, c->headers_end, first_allowed);
    *range_count = n;
    return 0;
}

/* A module signature at the very end: u32 schema, sig, u32 siglen, u32 0x1ABE11ED. */
static size_t vmtar_signature_len(const uint8_t *p, uint64_t from, size_t len)
{
    if (len < from + 12 || esx_le32(p + len - 4) != VMTAR_SIG_MAGIC)
        return 0;
    uint32_t siglen = esx_le32(p + len - 8);
    if (siglen > VMTAR_SIG_MAX || (uint64_t)siglen + 12 > len - from)
        return 0;
    return (size_t)siglen + 12;
}

static uint32_t vmtar_offsets_alignment(const struct vmtar_range *r, size_t n)
{
    for (uint32_t a = 4096; a >= 512; a /= 2) {
        size_t i = 0;
        while (i < n && r[i].off % a == 0)
            i++;
        if (i == n)
            return a;
    }
    return 0;
}

/* The alignment of one entry's content: shared ('7') entries may have their own. */
static uint32_t vmtar_entry_alignment(const struct esximg_vmtar_entry *e, uint32_t a,
                                      uint32_t shared)
{
    return e->typeflag == ESXIMG_VMTAR_SHARED && shared ? shared : a;
}

/* Where the writer would put the contents with these alignments, compared with what was
 * read. */
static bool vmtar_offsets_canonical(const struct esximg_vmtar *v, uint64_t headers_end,
                                    uint32_t a, uint32_t shared)
{
    uint64_t pos = headers_end + VMTAR_BLOCK;
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        if (e->size == 0) {
            if (e->offset != 0)
                return false;
            continue;
        }
        if (e->offset != vmtar_align(pos, vmtar_entry_alignment(e, a, shared)))
            return false;
        pos = (uint64_t)e->offset + e->size;
    }
    return true;
}

/* The 6.5 Fling's vmtar puts files on 512-byte blocks and shared files on 4096-byte pages. */
static bool vmtar_detect_shared_alignment(struct esximg_vmtar *v, uint64_t headers_end)
{
    for (uint32_t a = 512; a < 4096; a *= 2)
        if (vmtar_offsets_canonical(v, headers_end, a, 4096)) {
            v->layout.alignment = a;
            v->layout.shared_alignment = 4096;
            return true;
        }
    return false;
}

static void vmtar_inexact(struct esximg_vmtar_layout *l, const char *why)
{
    if (l->exact) {
        l->exact = false;
        l->inexact_why = why;
    }
}

/* Alignment, checksum style, padding, trailer, and whether a rewrite gives the same bytes. */
static void vmtar_detect_layout(struct vmtar_rctx *c, const struct vmtar_range *ranges,
                                size_t range_count, bool zero_gaps)
{
    struct esximg_vmtar *v = c->v;
    struct esximg_vmtar_layout *l = &v->layout;
    l->exact = true;
    l->headers_end = c->headers_end;
    uint64_t body_from = l->data_end;
    size_t sig = vmtar_signature_len(c->data, body_from, c->len);
    uint64_t body_end = c->len - sig;
    if (!vmtar_all_zero(c->data, body_from, body_end)) {
        sig = 0;                 /* unknown bytes: kept whole as the trailer */
        body_end = body_from;
    }
    l->signature_trailer = sig > 0;
    v->trailer = c->data + body_end;
    v->trailer_len = c->len - body_end;
    if (range_count) {
        l->alignment = vmtar_offsets_alignment(ranges, range_count);
        l->padding = body_end - l->data_end;
    } else {
        /* no contents: the writer fills zeros up to the aligned data start */
        for (uint32_t a = 4096; a >= 512 && !l->alignment; a /= 2)
            if (vmtar_align(c->headers_end + VMTAR_BLOCK, a) == body_end)
                l->alignment = a;
        if (l->alignment)
            l->data_start = l->data_end = body_end;
        l->padding = body_end - l->data_end;
    }
    l->padded_to_512 = l->padding > 0 && l->padding < VMTAR_BLOCK && body_end % VMTAR_BLOCK == 0;
    size_t noncanonical = 0;
    for (size_t i = 0; i < v->entry_count; i++)
        noncanonical += !v->entries[i].canonical;
    /* only a header whose two sums differ tells which one its writer used */
    l->signed_checksums = c->signed_only > 0 && c->unsigned_only == 0;
    l->mixed_checksums = c->signed_only > 0 && c->unsigned_only > 0;
    if (l->alignment == 0)
        vmtar_inexact(l, range_count ? "content offsets are not 512-byte aligned"
                                     : "the zeros after the headers end at no alignment");
    else if (!vmtar_offsets_canonical(v, c->headers_end, l->alignment, 0) &&
             !vmtar_detect_shared_alignment(v, c->headers_end))
        vmtar_inexact(l, "content offsets are not where the writer places them");
    if (noncanonical)
        vmtar_inexact(l, "some headers are not formatted as VMware's vmtar writes them");
    if (!zero_gaps)
        vmtar_inexact(l, "non-zero bytes between the headers and contents");
    if (l->padding && !l->padded_to_512)
        vmtar_inexact(l, "zero padding after the contents is not to a 512-byte multiple");
}

static int vmtar_parse(struct vmtar_rctx *c, struct esximg_err *err)
{
    struct vmtar_range *ranges = NULL;
    int rc = 0;
    for (size_t index = 0;; index++) {
        uint64_t pos = (uint64_t)index * VMTAR_BLOCK;
        if (pos > c->len || c->len - pos < VMTAR_BLOCK) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "archive is truncated: header %zu ends "
                                "past its %zu bytes (no end-of-headers block)", index, c->len);
            goto out;
        }
        if (c->data[pos] == '\0') {
            c->headers_end = pos;
            break;
        }
        rc = vmtar_parse_hdr(c, c->data + pos, index, err);
        if (rc)
            goto out;
    }
    ranges = esx_malloc_array(c->v->entry_count, sizeof *ranges);
    if (!ranges) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory checking %zu entries",
                            c->v->entry_count);
        goto out;
    }
    size_t range_count = 0;
    bool zero_gaps = false;
    rc = vmtar_check_contents(c, ranges, &range_count, &zero_gaps, err);
    if (rc)
        goto out;
    vmtar_detect_layout(c, ranges, range_count, zero_gaps);
out:
    free(ranges);
    return rc;
}

/* The decompressed archive, refusing what is not a vmtar before inflating all of it. */
static int vmtar_load(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                      bool *gzipped, struct esximg_err *err)
{
    uint8_t head[VMTAR_BLOCK];
    size_t have = vmtar_head(data, len, head, gzipped);
    int format = esximg_vmtar_sniff(head, have);
    if (format == ESXIMG_TAR_USTAR || format == ESXIMG_TAR_GNU)
        return esximg_err_set(err, ESXIMG_EFORMAT, "is a %s, not a vmtar",
                              esximg_tar_format_name(format));
    /* an archive without entries starts with the zero end-of-headers block */
    if (format != ESXIMG_TAR_VMTAR && !(have == VMTAR_BLOCK && vmtar_all_zero(head, 0, have)))
        return esximg_err_set(err, ESXIMG_EFORMAT, "not a vmtar (no 'visor ' magic at offset "
                              "257%s)", *gzipped ? " of the decompressed data" : "");
    if (*gzipped)
        return esx_gunzip(data, len, ESX_MAX_GUNZIP_BYTES, false, out, out_len, err);
    *out = malloc(len ? len : 1);
    if (!*out)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory copying %zu bytes", len);
    memcpy(*out, data, len);
    *out_len = len;
    return 0;
}

int esximg_vmtar_read(const void *data, size_t len, struct esximg_vmtar **out,
                      struct esximg_err *err)
{
    struct esximg_vmtar *v = calloc(1, sizeof *v);
    int rc = 0;
    if (!v) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    rc = vmtar_load(data, len, &v->archive, &v->archive_len, &v->gzipped, err);
    if (rc)
        goto out;
    struct vmtar_rctx c = {.data = v->archive, .len = v->archive_len, .v = v};
    rc = vmtar_parse(&c, err);
    if (rc)
        goto out;
    *out = v;
    v = NULL;
out:
    esximg_vmtar_free(v);
    return rc;
}

/* --------------------------------------------------------------------------------- scan */

/* A vmtar read as a stream: the compressed (or raw) bytes come from a source, are inflated
 * as they are needed, and the inflating stops after the last wanted content. */
struct vmtar_stream {
    const struct esximg_vmtar_source *src;
    z_stream z;
    bool gzipped, z_ready, src_end, z_end;
    uint8_t in[65536];
    size_t in_len, in_pos;    /* raw mode: bytes of `in` not handed out yet */
    uint64_t produced;        /* decompressed bytes handed out */
    uint64_t max_bytes;
};

static int vmtar_stream_refill(struct vmtar_stream *s, struct esximg_err *err)
{
    size_t got = 0;
    int rc = s->src->read(s->src->ctx, s->in, sizeof s->in, &got, err);
    if (rc)
        return rc;
    s->in_len = got;
    s->in_pos = 0;
    s->src_end = got == 0;
    return 0;
}

/* Up to n decompressed bytes; *got 0 only at the end of the archive. */
static int vmtar_stream_read(struct vmtar_stream *s, uint8_t *buf, size_t n, size_t *got,
                             struct esximg_err *err)
{
    *got = 0;
    while (*got == 0 && n > 0) {
        if (s->in_pos == s->in_len && !s->src_end && !s->z_end) {
            int rc = vmtar_stream_refill(s, err);
            if (rc)
                return rc;
        }
        if (!s->gzipped) {
            size_t take = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
            memcpy(buf, s->in + s->in_pos, take);
            s->in_pos += take;
            *got = take;
            if (take == 0)
                break;
            continue;
        }
        if (s->z_end)
            break;
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        s->z.next_out = buf;
        s->z.avail_out = n > (1u << 30) ? (1u << 30) : (uInt)n;
        uInt before_in = s->z.avail_in, before_out = s->z.avail_out;
        int zrc = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos += before_in - s->z.avail_in;
        *got = before_out - s->z.avail_out;
        if (zrc == Z_STREAM_END)
            s->z_end = true;
        else if (zrc == Z_BUF_ERROR && s->src_end)
            return esximg_err_set(err, ESXIMG_EFORMAT, "gzip data is truncated");
        else if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return esximg_err_set(err, ESXIMG_EFORMAT, "gzip data is corrupt: %s",
                                  s->z.msg ? s->z.msg : "inflate failed");
    }
    s->produced += *got;
    if (s->produced > s->max_bytes)
        return esximg_err_set(err, ESXIMG_ELIMIT, "archive inflates past the limit of %llu "
                              "bytes", (unsigned long long)s->max_bytes);
    /* a bomb: far more output than any real payload gives for its input (as esx_gunzip) */
    uint64_t ratio_cap;
    if (s->gzipped && s->produced > ESX_GUNZIP_RATIO_FLOOR &&
        (esx_mul_u64((uint64_t)s->z.total_in, ESX_MAX_GUNZIP_RATIO, &ratio_cap) ||
         s->produced > ratio_cap))
        return esximg_err_set(err, ESXIMG_ELIMIT, "gzip data inflates more than %u times its "
                              "size (a bomb?)", ESX_MAX_GUNZIP_RATIO);
    return 0;
}

/* Exactly n bytes (buf NULL: skip them). */
static int vmtar_stream_take(struct vmtar_stream *s, uint8_t *buf, uint64_t n,
                             struct esximg_err *err)
{
    uint8_t scratch[16384];
    while (n > 0) {
        size_t want = n > sizeof scratch ? sizeof scratch : (size_t)n;
        size_t got;
        int rc = vmtar_stream_read(s, buf ? buf : scratch, want, &got, err);
        if (rc)
            return rc;
        if (got == 0)
            return esximg_err_set(err, ESXIMG_EFORMAT, "archive is truncated at byte %llu",
                                  (unsigned long long)s->produced);
        if (buf)
            buf += got;
        n -= got;
    }
    return 0;
}

static int vmtar_stream_open(struct vmtar_stream *s, struct esximg_err *err)
{
    int rc = vmtar_stream_refill(s, err);
    if (rc)
        return rc;
    s->gzipped = esx_is_gzip(s->in, s->in_len);
    if (!s->gzipped)
        return 0;
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
        return esximg_err_set(err, ESXIMG_ENOMEM, "cannot start zlib");
    s->z_ready = true;
    return 0;
}

static int vmtar_scan_cmp(const void *a, const void *b)
{
    const struct esximg_vmtar_entry *x = *(const struct esximg_vmtar_entry *const *)a;
    const struct esximg_vmtar_entry *y = *(const struct esximg_vmtar_entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The headers, up to and including the end-of-headers block. */
static int vmtar_scan_headers(struct vmtar_stream *s, struct vmtar_rctx *c,
                              struct esximg_err *err)
{
    uint8_t h[VMTAR_BLOCK];
    for (size_t index = 0;; index++) {
        int rc = vmtar_stream_take(s, h, VMTAR_BLOCK, err);
        if (rc)
            return rc;
        int format = index == 0 ? esximg_vmtar_sniff(h, VMTAR_BLOCK) : ESXIMG_TAR_VMTAR;
        if (format == ESXIMG_TAR_USTAR || format == ESXIMG_TAR_GNU)
            return esximg_err_set(err, ESXIMG_EFORMAT, "is a %s, not a vmtar",
                                  esximg_tar_format_name(format));
        /* an archive without entries starts with the zero end-of-headers block */
        if (h[0] == '\0' && (index > 0 || vmtar_all_zero(h, 0, VMTAR_BLOCK))) {
            c->headers_end = (uint64_t)index * VMTAR_BLOCK;
            return 0;
        }
        if (format != ESXIMG_TAR_VMTAR)
            return esximg_err_set(err, ESXIMG_EFORMAT, "not a vmtar (no 'visor ' magic at "
                                  "offset 257)");
        if (index >= ESX_MAX_ARCHIVE_ENTRIES)
            return esximg_err_set(err, ESXIMG_ELIMIT, "more than %u entries",
                                  ESX_MAX_ARCHIVE_ENTRIES);
        rc = vmtar_parse_hdr(c, h, index, err);
        if (rc)
            return rc;
    }
}

#define VMTAR_PIECE (1u << 20)

/* One content handed to hooks->piece as it is inflated. */
static int vmtar_scan_pieces(struct vmtar_stream *s, const struct esximg_vmtar_entry *e,
                             const struct vmtar_scan_hooks *hooks, void *ctx, uint8_t *buf,
                             struct esximg_err *err)
{
    for (uint64_t at = 0; at < e->size;) {
        size_t n = e->size - at > VMTAR_PIECE ? VMTAR_PIECE : (size_t)(e->size - at);
        int rc = vmtar_stream_take(s, buf, n, err);
        if (!rc)
            rc = hooks->piece(ctx, e, buf, n, at, err);
        if (rc)
            return rc;
        at += n;
    }
    return 0;
}



/* The wanted contents in offset order, each read once and handed to take() (or in pieces). */
static int vmtar_scan_contents(struct vmtar_stream *s, const struct vmtar_rctx *c,
                               const struct esximg_vmtar_scan_opts *o,
                               const struct vmtar_scan_hooks *hooks, struct esximg_err *err)
{
    const struct esximg_vmtar *v = c->v;
    const struct esximg_vmtar_entry **wanted = esx_malloc_array(v->entry_count + 1,
                                                                 sizeof *wanted);
    if (!wanted)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < v->entry_count; i++)
        if (v->entries[i].size && o->want(o->ctx, &v->entries[i]))
            wanted[n++] = &v->entries[i];
    qsort(wanted, n, sizeof *wanted, vmtar_scan_cmp);
    uint64_t pos = c->headers_end + VMTAR_BLOCK;     /* where the stream is */
    uint64_t claimed = pos;     /* the end of the last content: the next may not start before */
    uint8_t *piece_buf = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct esximg_vmtar_entry *e = wanted[i];
        /* the same rule as the whole-archive reader: contents after the headers, apart */
        if (e->offset < claimed) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': content at %" PRIu32
                                " overlaps the headers or another content", e->name, e->offset);
            break;
        }
        if (hooks && hooks->piece) {
            if (!piece_buf && !(piece_buf = malloc(VMTAR_PIECE))) {
                rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
                break;
            }
            rc = vmtar_stream_take(s, NULL, e->offset - pos, err);
            if (!rc)
                rc = vmtar_scan_pieces(s, e, hooks, o->ctx, piece_buf, err);
            pos = claimed = (uint64_t)e->offset + e->size;
            continue;
        }
        uint64_t len = e->size;
        if (o->head_only && o->head_only(o->ctx, e) && len > o->head_bytes)
            len = o->head_bytes;
        uint8_t *content = malloc(len ? (size_t)len : 1);
        if (!content) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for %" PRIu64 " bytes",
                                len);
            break;
        }
        rc = vmtar_stream_take(s, NULL, e->offset - pos, err);
        if (!rc)
            rc = vmtar_stream_take(s, content, (size_t)len, err);
        if (!rc)
            rc = o->take(o->ctx, e, content, err);
        free(content);
        pos = (uint64_t)e->offset + len;
        claimed = (uint64_t)e->offset + e->size;
    }
    free(piece_buf);
    free(wanted);
    return rc;
}

#define VMTAR_DRAIN (256u << 10)

/* Inflates what is left, so the gzip trailer is checked, and refuses bytes after the member. */
static int vmtar_stream_drain(struct vmtar_stream *s, struct esximg_err *err)
{
    /* large: inflate runs its fast loop on big output buffers */
    uint8_t *scratch = malloc(VMTAR_DRAIN);
    if (!scratch)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t got = 1; got > 0;) {
        int rc = vmtar_stream_read(s, scratch, VMTAR_DRAIN, &got, err);
        if (rc) {
            free(scratch);
            return rc;
        }
    }
    free(scratch);
    if (!s->gzipped)
        return 0;
    if (!s->z_end)
        return esximg_err_set(err, ESXIMG_EFORMAT, "gzip data is truncated");
    uint64_t extra = s->in_len - s->in_pos;
    while (!s->src_end) {
        int rc = vmtar_stream_refill(s, err);
        if (rc)
            return rc;
        extra += s->in_len;
    }
    if (extra)
        return esximg_err_set(err, ESXIMG_EFORMAT, "%llu bytes follow the gzip member",
                              (unsigned long long)extra);
    return 0;
}

/* esximg_vmtar_scan; *keep (when not NULL) gets the model of the headers on success. */
int esx_vmtar_scan_run(const struct esximg_vmtar_source *src,
                       const struct esximg_vmtar_scan_opts *o,
                       const struct vmtar_scan_hooks *hooks, struct esximg_vmtar **keep,
                       struct esximg_err *err)
{
    struct vmtar_stream *s = calloc(1, sizeof *s);
    struct esximg_vmtar *v = calloc(1, sizeof *v);
    int rc = 0;
    if (!s || !v) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    s->src = src;
    s->max_bytes = o->max_bytes ? o->max_bytes : ESX_MAX_GUNZIP_BYTES;
    struct vmtar_rctx c = {.v = v};
    rc = vmtar_stream_open(s, err);
    if (!rc)
        rc = vmtar_scan_headers(s, &c, err);
    v->gzipped = s->gzipped;
    v->layout.headers_end = c.headers_end;
    if (!rc && hooks && hooks->headers)
        rc = hooks->headers(o->ctx, v, err);
    if (!rc)
        rc = vmtar_scan_contents(s, &c, o, hooks, err);
    if (!rc && hooks && hooks->to_end)
        rc = vmtar_stream_drain(s, err);
    if (!rc && hooks && hooks->length)
        *hooks->length = s->produced;
    if (!rc && keep) {
        *keep = v;
        v = NULL;
    }
out:
    if (s && s->z_ready)
        inflateEnd(&s->z);
    free(s);
    esximg_vmtar_free(v);
    return rc;
}

int esximg_vmtar_scan(const struct esximg_vmtar_source *src,
                      const struct esximg_vmtar_scan_opts *o, struct esximg_err *err)
{
    return esx_vmtar_scan_run(src, o, NULL, NULL, err);
}

const struct esximg_vmtar_entry *esximg_vmtar_find(const struct esximg_vmtar *v,
                                                   const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < v->entry_count; i++) {
        const char *en = v->entries[i].name;
        if (!strcmp(en, name) || (!strncmp(en, name, n) && en[n] == '/' && en[n + 1] == '\0'))
            return &v->entries[i];
    }
    return NULL;
}

/* --------------------------------------------------------------------------------- write */

void esximg_vmtar_layout_wopts(const struct esximg_vmtar *v, struct esximg_vmtar_wopts *o)
{
    memset(o, 0, sizeof *o);
    o->alignment = v->layout.alignment ? v->layout.alignment : 4096;
    o->shared_alignment = v->layout.shared_alignment;
    o->signed_checksums = v->layout.signed_checksums;
    o->per_entry_checksums = true;
    o->pad_to_512 = v->layout.padded_to_512;
    o->keep_trailer = true;
    o->gzip = v->gzipped;
}

static bool vmtar_alignment_ok(uint32_t a)
{
    return a == 512 || a == 1024 || a == 2048 || a == 4096;
}

static int vmtar_check_wopts(const struct esximg_vmtar_wopts *o, uint32_t *alignment,
                             struct esximg_err *err)
{
    uint32_t a = o->alignment ? o->alignment : 4096;
    if (!vmtar_alignment_ok(a))
        return esximg_err_set(err, ESXIMG_EINVAL, "alignment %" PRIu32 " is not 512, 1024, "
                              "2048 or 4096", a);
    if (o->shared_alignment && !vmtar_alignment_ok(o->shared_alignment))
        return esximg_err_set(err, ESXIMG_EINVAL, "shared alignment %" PRIu32 " is not 512, "
                              "1024, 2048 or 4096", o->shared_alignment);
    if (o->gzip_level < 0 || o->gzip_level > 9)
        return esximg_err_set(err, ESXIMG_EINVAL, "gzip level %d is not 1..9", o->gzip_level);
    *alignment = a;
    return 0;
}

/* Offsets of every content (0 when empty) and the end of the body. */
static int vmtar_place(const struct esximg_vmtar *v, uint32_t a, uint32_t shared,
                       uint32_t *offsets, uint64_t *body_end, struct esximg_err *err)
{
    uint64_t pos = vmtar_align((uint64_t)v->entry_count * VMTAR_BLOCK + VMTAR_BLOCK, a);
    uint64_t end = pos;
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        offsets[i] = 0;
        if (e->size == 0)
            continue;
        pos = vmtar_align(pos, vmtar_entry_alignment(e, a, shared));
        if (pos > UINT32_MAX || esx_add_u64(pos, e->size, &end) || end > (uint64_t)SIZE_MAX / 2)
            return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': content offset passes "
                                  "the 4 GiB a vmtar header can hold", e->name);
        offsets[i] = (uint32_t)pos;
        pos = end;
    }
    *body_end = end;
    return 0;
}

static int vmtar_fill(const struct esximg_vmtar *v, const struct esximg_vmtar_wopts *o,
                      const uint32_t *offsets, uint8_t *buf, struct esximg_err *err)
{
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        bool use_signed = o->signed_checksums || (o->per_entry_checksums && e->signed_checksum);
        if (e->size && !e->content)
            return esximg_err_set(err, ESXIMG_EINVAL, "entry '%s': no content for its %" PRIu64
                                  " bytes", e->name, e->size);
        int rc = vmtar_format_hdr(e, offsets[i], use_signed, buf + i * VMTAR_BLOCK, err);
        if (rc)
            return rc;
        if (e->size)
            memcpy(buf + offsets[i], e->content, (size_t)e->size);
    }
    return 0;
}

int esximg_vmtar_write(const struct esximg_vmtar *v, const struct esximg_vmtar_wopts *o,
                       uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    static const struct esximg_vmtar_wopts defaults;
    uint32_t *offsets = NULL;
    uint8_t *buf = NULL;
    uint32_t a = 4096;
    uint64_t body_end = 0, total;
    int rc;
    if (!o)
        o = &defaults;
    rc = vmtar_check_wopts(o, &a, err);
    if (rc)
        goto out;
    offsets = esx_malloc_array(v->entry_count, sizeof *offsets);
    if (!offsets) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for %zu entries",
                            v->entry_count);
        goto out;
    }
    rc = vmtar_place(v, a, o->shared_alignment, offsets, &body_end, err);
    if (rc)
        goto out;
    if (o->pad_to_512)
        body_end = vmtar_align(body_end, VMTAR_BLOCK);
    total = body_end + (o->keep_trailer ? v->trailer_len : 0);
    buf = calloc((size_t)total, 1);
    if (!buf) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for %" PRIu64 " bytes", total);
        goto out;
    }
    rc = vmtar_fill(v, o, offsets, buf, err);
    if (rc)
        goto out;
    if (o->keep_trailer && v->trailer_len)
        memcpy(buf + body_end, v->trailer, v->trailer_len);
    if (o->gzip) {
        uint8_t *gz;
        size_t gz_len;
        rc = esx_gzip(buf, (size_t)total, o->gzip_level ? o->gzip_level : 9, &gz, &gz_len, err);
        if (rc)
            goto out;
        free(buf);
        buf = gz;
        total = gz_len;
    }
    *out = buf;
    *out_len = (size_t)total;
    buf = NULL;
out:
    free(offsets);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------- writing as a stream */

#define VMTAR_CHUNK (1u << 20)

/* Where esximg_vmtar_write_file puts the archive: raw bytes gathered in `out`, or deflated
 * into it, and written out whenever it fills. */
struct vmtar_sink {
    struct esximg_outfile *of;
    z_stream z;
    gz_header gh;              /* zlib keeps a pointer to it until the header is written */
    bool gzip, z_ready;
    uint8_t *out;              /* VMTAR_CHUNK bytes */
    size_t out_len;
    uint8_t *in;               /* VMTAR_CHUNK bytes read from a source file */
    uint64_t pos;              /* archive (decompressed) bytes put so far */
    const struct esximg_vmtar_wopts *o;
    uint64_t done, total;      /* content bytes, for the progress callback */
};

static int vmtar_sink_flush(struct vmtar_sink *s, struct esximg_err *err)
{
    int rc = s->out_len ? esximg_outfile_write(s->of, s->out, s->out_len, err) : 0;
    s->out_len = 0;
    return rc;
}

/* Deflates n <= VMTAR_CHUNK bytes (flush Z_NO_FLUSH or Z_FINISH). The deflate stream does not
 * depend on how its input is cut, so the bytes are esx_gzip's. */
static int vmtar_sink_deflate(struct vmtar_sink *s, const uint8_t *p, size_t n, int flush,
                              struct esximg_err *err)
{
    s->z.next_in = (Bytef *)(uintptr_t)p;
    s->z.avail_in = (uInt)n;
    for (;;) {
        if (s->out_len == VMTAR_CHUNK) {
            int rc = vmtar_sink_flush(s, err);
            if (rc)
                return rc;
        }
        s->z.next_out = s->out + s->out_len;
        s->z.avail_out = (uInt)(VMTAR_CHUNK - s->out_len);
        int zrc = deflate(&s->z, flush);
        s->out_len = VMTAR_CHUNK - s->z.avail_out;
        if (zrc == Z_STREAM_ERROR)
            return esximg_err_set(err, ESXIMG_EINVAL, "zlib could not compress the data");
        if (flush == Z_FINISH ? zrc == Z_STREAM_END
                              : s->z.avail_in == 0 && s->out_len < VMTAR_CHUNK)
            return 0;
    }
}

static int vmtar_sink_put(struct vmtar_sink *s, const uint8_t *p, uint64_t n,
                          struct esximg_err *err)
{
    s->pos += n;
    while (n > 0) {
        size_t take = n > VMTAR_CHUNK - (s->gzip ? 0 : s->out_len)
                          ? VMTAR_CHUNK - (s->gzip ? 0 : s->out_len) : (size_t)n;
        int rc = 0;
        if (s->gzip) {
            rc = vmtar_sink_deflate(s, p, take, Z_NO_FLUSH, err);
        } else {
            memcpy(s->out + s->out_len, p, take);
            s->out_len += take;
            if (s->out_len == VMTAR_CHUNK)
                rc = vmtar_sink_flush(s, err);
        }
        if (rc)
            return rc;
        p += take;
        n -= take;
    }
    return 0;
}

/* Zeros up to archive offset `to`. */
static int vmtar_sink_zeros(struct vmtar_sink *s, uint64_t to, struct esximg_err *err)
{
    static const uint8_t zeros[4096];
    while (s->pos < to) {
        uint64_t n = to - s->pos > sizeof zeros ? sizeof zeros : to - s->pos;
        int rc = vmtar_sink_put(s, zeros, n, err);
        if (rc)
            return rc;
    }
    return 0;
}

static void vmtar_sink_progress(struct vmtar_sink *s, uint64_t n)
{
    s->done += n;
    if (s->o->progress)
        s->o->progress(s->o->progress_ctx, s->done, s->total);
}

static int vmtar_source_changed(const struct esximg_vmtar_entry *e, struct esximg_err *err)
{
    int rc = esximg_err_set(err, ESXIMG_EINVAL, "entry '%s': the file changed since it was "
                            "listed (it no longer has %" PRIu64 " bytes)", e->name, e->size);
    esximg_err_file(err, e->source);
    return rc;
}

/* The content of `e` from its source file, refusing one that is not `size` bytes now. */
static int vmtar_sink_source(struct vmtar_sink *s, const struct esximg_vmtar_entry *e,
                             struct esximg_err *err)
{
    int fd = open(e->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;
    struct stat st;
    if (fd < 0) {
        rc = esximg_err_sys(err, errno, "entry '%s': cannot open", e->name);
        esximg_err_file(err, e->source);
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->size)
        rc = vmtar_source_changed(e, err);
    for (uint64_t left = e->size; !rc;) {
        /* one byte past the size too: a file that grew is refused */
        size_t want = left > VMTAR_CHUNK ? VMTAR_CHUNK : (size_t)left + (left < VMTAR_CHUNK);
        size_t got = 0;
        int read_errno = esx_read_full(fd, s->in, want, &got);
        if (read_errno) {
            rc = esximg_err_sys(err, read_errno, "entry '%s': cannot read", e->name);
            esximg_err_file(err, e->source);
        } else if ((uint64_t)got > left || (got == 0 && left > 0)) {
            rc = vmtar_source_changed(e, err);
        } else if (got == 0) {
            break;
        } else {
            rc = vmtar_sink_put(s, s->in, (uint64_t)got, err);
            left -= (uint64_t)got;
            vmtar_sink_progress(s, (uint64_t)got);
        }
    }
    close(fd);
    return rc;
}

static int vmtar_sink_entries(struct vmtar_sink *s, const struct esximg_vmtar *v,
                              const uint32_t *offsets, struct esximg_err *err)
{
    uint8_t h[VMTAR_BLOCK];
    const struct esximg_vmtar_wopts *o = s->o;
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        bool use_signed = o->signed_checksums || (o->per_entry_checksums && e->signed_checksum);
        if (e->size && !e->content && !e->source)
            return esximg_err_set(err, ESXIMG_EINVAL, "entry '%s': no content for its %" PRIu64
                                  " bytes", e->name, e->size);
        int rc = vmtar_format_hdr(e, offsets[i], use_signed, h, err);
        if (!rc)
            rc = vmtar_sink_put(s, h, VMTAR_BLOCK, err);
        if (rc)
            return rc;
        s->total += e->size;
    }
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        int rc = 0;
        if (e->size == 0)
            continue;
        rc = vmtar_sink_zeros(s, offsets[i], err);
        if (!rc && e->content) {
            rc = vmtar_sink_put(s, e->content, e->size, err);
            vmtar_sink_progress(s, e->size);
        } else if (!rc) {
            rc = vmtar_sink_source(s, e, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int vmtar_sink_open(struct vmtar_sink *s, const char *path, struct esximg_err *err)
{
    s->out = malloc(VMTAR_CHUNK);
    s->in = malloc(VMTAR_CHUNK);
    if (!s->out || !s->in)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (s->gzip) {
        int level = s->o->gzip_level ? s->o->gzip_level : 9;
        /* esx_gzip's parameters and header: mtime 0, no name, OS byte 255 */
        if (deflateInit2(&s->z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return esximg_err_set(err, ESXIMG_ENOMEM, "cannot start zlib");
        s->z_ready = true;
        memset(&s->gh, 0, sizeof s->gh);
        s->gh.os = 255;
        deflateSetHeader(&s->z, &s->gh);
    }
    return esximg_outfile_open(path, 0644, &s->of, err);
}

int esximg_vmtar_write_file(const struct esximg_vmtar *v, const struct esximg_vmtar_wopts *o,
                            const char *path, struct esximg_err *err)
{
    static const struct esximg_vmtar_wopts defaults;
    struct vmtar_sink s = {.o = o ? o : &defaults, .gzip = o && o->gzip};
    uint32_t *offsets = NULL;
    uint32_t a = 4096;
    uint64_t body_end = 0;
    int rc = vmtar_check_wopts(s.o, &a, err);
    if (rc)
        goto out;
    offsets = esx_malloc_array(v->entry_count, sizeof *offsets);
    if (!offsets) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for %zu entries",
                            v->entry_count);
        goto out;
    }
    rc = vmtar_place(v, a, s.o->shared_alignment, offsets, &body_end, err);
    if (!rc)
        rc = vmtar_sink_open(&s, path, err);
    /* the headers, the end-of-headers block, the contents at their offsets */
    if (!rc)
        rc = vmtar_sink_entries(&s, v, offsets, err);
    if (!rc)
        rc = vmtar_sink_zeros(&s, vmtar_align((uint64_t)v->entry_count * VMTAR_BLOCK +
                                              VMTAR_BLOCK, a), err);
    if (!rc && s.o->pad_to_512)
        rc = vmtar_sink_zeros(&s, vmtar_align(body_end, VMTAR_BLOCK), err);
    if (!rc && s.o->keep_trailer && v->trailer_len)
        rc = vmtar_sink_put(&s, v->trailer, v->trailer_len, err);
    if (!rc && s.gzip)
        rc = vmtar_sink_deflate(&s, NULL, 0, Z_FINISH, err);
    if (!rc)
        rc = vmtar_sink_flush(&s, err);
    if (!rc) {
        rc = esximg_outfile_commit(s.of, err);
        s.of = NULL;
    }
out:
    esximg_outfile_abort(s.of);
    if (s.z_ready)
        deflateEnd(&s.z);
    free(s.out);
    free(s.in);
    free(offsets);
    return rc;
}

/* ------------------------------------------------------------------------------ building */

int esximg_vmtar_new(struct esximg_vmtar **out, struct esximg_err *err)
{
    struct esximg_vmtar *v = calloc(1, sizeof *v);
    if (!v)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    v->layout.alignment = 4096;
    v->layout.exact = true;
    *out = v;
    return 0;
}

static int vmtar_copy_strings(struct esximg_vmtar_entry *d, const struct esximg_vmtar_entry *e)
{
    d->name = esx_strdup(e->name);
    d->linkname = esx_strdup(e->linkname ? e->linkname : "");
    d->uname = esx_strdup(e->uname ? e->uname : "");
    d->gname = esx_strdup(e->gname ? e->gname : "");
    return d->name && d->linkname && d->uname && d->gname ? 0 : ESXIMG_ENOMEM;
}

/* An entry whose content is `data` (copied) or, when `source` is set, that file's. */
static int vmtar_add(struct esximg_vmtar *v, const struct esximg_vmtar_entry *e,
                     const void *data, const char *source, struct esximg_err *err)
{
    struct esximg_vmtar_entry d;
    uint8_t probe[VMTAR_BLOCK];
    int rc = esx_path_check(e->name, "entry", err);
    if (rc)
        return rc;
    /* formatting once checks every field fits */
    rc = vmtar_format_hdr(e, 0, false, probe, err);
    if (rc)
        return rc;
    if ((e->typeflag == ESXIMG_VMTAR_DIR || e->typeflag == ESXIMG_VMTAR_SYMLINK) && e->size)
        return esximg_err_set(err, ESXIMG_EINVAL, "entry '%s': only files have content",
                              e->name);
    if (e->typeflag == ESXIMG_VMTAR_SYMLINK && (!e->linkname || !e->linkname[0]))
        return esximg_err_set(err, ESXIMG_EINVAL, "entry '%s': symlink without a target",
                              e->name);
    if (e->size > SIZE_MAX / 2)
        return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': content too large", e->name);
    d = *e;
    d.name = d.linkname = d.uname = d.gname = NULL;
    d.content = NULL;
    d.content_owned = false;
    d.source = NULL;
    d.canonical = true;
    d.offset = 0;
    if (vmtar_copy_strings(&d, e)) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory adding '%s'", e->name);
        goto out;
    }
    if (d.size && source) {
        d.source = esx_strdup(source);
        if (!d.source) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory adding '%s'", e->name);
            goto out;
        }
    } else if (d.size) {
        uint8_t *copy = malloc((size_t)d.size);
        if (!copy) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory for the %" PRIu64
                                " bytes of '%s'", d.size, e->name);
            goto out;
        }
        memcpy(copy, data, (size_t)d.size);
        d.content = copy;
        d.content_owned = true;
    }
    struct esximg_vmtar_entry *slot;
    rc = vmtar_append_slot(v, &slot, err);
    if (rc)
        goto out;
    *slot = d;
    v->entry_count++;
    return 0;
out:
    vmtar_entry_release(&d);
    return rc;
}

int esximg_vmtar_add_entry(struct esximg_vmtar *v, const struct esximg_vmtar_entry *e,
                           const void *data, struct esximg_err *err)
{
    return vmtar_add(v, e, data, NULL, err);
}

static struct esximg_vmtar_entry vmtar_template(const char *name, char type,
                                                const struct esximg_vmtar_attrs *a)
{
    static const struct esximg_vmtar_attrs none;
    if (!a)
        a = &none;
    return (struct esximg_vmtar_entry){
        .name = (char *)(uintptr_t)name,
        .typeflag = type,
        .mode = a->mode,
        .uid = a->uid,
        .gid = a->gid,
        .uname = (char *)(uintptr_t)(a->uname ? a->uname : "root"),
        .gname = (char *)(uintptr_t)(a->gname ? a->gname : "root"),
        .mtime = a->mtime,
    };
}

int esximg_vmtar_add_dir(struct esximg_vmtar *v, const char *name,
                         const struct esximg_vmtar_attrs *a, struct esximg_err *err)
{
    size_t n = strlen(name);
    char *slashed = malloc(n + 2);
    if (!slashed)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    memcpy(slashed, name, n + 1);
    if (n == 0 || name[n - 1] != '/')
        memcpy(slashed + n, "/", 2);
    struct esximg_vmtar_entry e = vmtar_template(slashed, ESXIMG_VMTAR_DIR, a);
    int rc = esximg_vmtar_add_entry(v, &e, NULL, err);
    free(slashed);
    return rc;
}

int esximg_vmtar_add_file(struct esximg_vmtar *v, const char *name,
                          const struct esximg_vmtar_attrs *a, const void *data, size_t len,
                          struct esximg_err *err)
{
    struct esximg_vmtar_entry e = vmtar_template(name, ESXIMG_VMTAR_FILE, a);
    e.size = len;
    return esximg_vmtar_add_entry(v, &e, data, err);
}

int esximg_vmtar_add_symlink(struct esximg_vmtar *v, const char *name, const char *target,
                             const struct esximg_vmtar_attrs *a, struct esximg_err *err)
{
    struct esximg_vmtar_entry e = vmtar_template(name, ESXIMG_VMTAR_SYMLINK, a);
    e.linkname = (char *)(uintptr_t)target;
    return esximg_vmtar_add_entry(v, &e, NULL, err);
}

struct vmtar_sort_item {
    struct esximg_vmtar_entry e;
    size_t index;
};

static int vmtar_sort_cmp(const void *a, const void *b)
{
    const struct vmtar_sort_item *x = a, *y = b;
    int c = strcmp(x->e.name, y->e.name);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

void esximg_vmtar_sort(struct esximg_vmtar *v)
{
    size_t n = v->entry_count;
    struct vmtar_sort_item *items = esx_malloc_array(n, sizeof *items);
    if (!items) {
        /* no memory for the copy: an in-place insertion sort keeps the promise */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(v->entries[j - 1].name,
                                               v->entries[j].name) > 0; j--) {
                struct esximg_vmtar_entry t = v->entries[j];
                v->entries[j] = v->entries[j - 1];
                v->entries[j - 1] = t;
            }
        return;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = (struct vmtar_sort_item){v->entries[i], i};
    qsort(items, n, sizeof *items, vmtar_sort_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && !strcmp(v->entries[kept - 1].name, items[i].e.name))
            vmtar_entry_release(&items[i].e);
        else
            v->entries[kept++] = items[i].e;
    }
    v->entry_count = kept;
    free(items);
}

/* ---------------------------------------------------------------------- building: a tree */

struct vmtar_walk {
    struct esximg_vmtar *v;
    const char *root;
    const struct esximg_vmtar_topts *o;
    uint64_t done, total;
    bool counting;             /* first pass: sizes only */
};

static struct esximg_vmtar_attrs vmtar_tree_attrs(const struct vmtar_walk *w, mode_t mode)
{
    return (struct esximg_vmtar_attrs){
        .mode = (uint32_t)(mode & 07777),
        .uid = w->o->uid,
        .gid = w->o->gid,
        .uname = w->o->uname,
        .gname = w->o->gname,
        .mtime = w->o->mtime,
    };
}

static int vmtar_walk_path(struct vmtar_walk *w, const char *rel, struct esximg_err *err);

static int vmtar_walk_dir(struct vmtar_walk *w, const char *rel, const char *full,
                          const struct stat *st, struct esximg_err *err)
{
    int rc = 0;
    if (rel[0] && !w->counting) {
        struct esximg_vmtar_attrs a = vmtar_tree_attrs(w, st->st_mode);
        rc = esximg_vmtar_add_dir(w->v, rel, &a, err);
        if (rc)
            return rc;
    }
    DIR *d = opendir(full);
    if (!d) {
        rc = esximg_err_sys(err, errno, "cannot open the directory");
        esximg_err_file(err, full);
        return rc;
    }
    for (struct dirent *de; !rc && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *child = rel[0] ? esx_path_join(rel, de->d_name) : esx_strdup(de->d_name);
        if (!child) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        rc = vmtar_walk_path(w, child, err);
        free(child);
    }
    closedir(d);
    return rc;
}

static int vmtar_walk_file(struct vmtar_walk *w, const char *rel, const char *full,
                           const struct stat *st, struct esximg_err *err)
{
    if (w->counting) {
        w->total += (uint64_t)st->st_size;
        return 0;
    }
    struct esximg_vmtar_attrs a = vmtar_tree_attrs(w, st->st_mode);
    if (w->o->by_reference) {
        struct esximg_vmtar_entry e = vmtar_template(rel, ESXIMG_VMTAR_FILE, &a);
        e.size = (uint64_t)st->st_size;
        return vmtar_add(w->v, &e, NULL, full, err);
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esx_file_read(full, ESX_MAX_FILE_BYTES, &data, &len, err);
    if (rc)
        return rc;      /* esx_file_read named the file */
    rc = esximg_vmtar_add_file(w->v, rel, &a, data, len, err);
    free(data);
    w->done += len;
    if (!rc && w->o->progress)
        w->o->progress(w->o->progress_ctx, w->done, w->total);
    return rc;
}

static int vmtar_walk_link(struct vmtar_walk *w, const char *rel, const char *full,
                           const struct stat *st, struct esximg_err *err)
{
    char target[ESXIMG_VMTAR_NAME_MAX + 2];
    if (w->counting)
        return 0;
    ssize_t n = readlink(full, target, sizeof target);
    if (n < 0) {
        int rc = esximg_err_sys(err, errno, "cannot read the link");
        esximg_err_file(err, full);
        return rc;
    }
    if ((size_t)n >= sizeof target - 1)
        return esximg_err_set(err, ESXIMG_ELIMIT, "entry '%s': link target is longer than "
                              "%u bytes", rel, ESXIMG_VMTAR_NAME_MAX);
    target[n] = '\0';
    struct esximg_vmtar_attrs a = vmtar_tree_attrs(w, st->st_mode);
    return esximg_vmtar_add_symlink(w->v, rel, target, &a, err);
}

static int vmtar_walk_path(struct vmtar_walk *w, const char *rel, struct esximg_err *err)
{
    struct stat st;
    int rc;
    if (strlen(rel) > ESXIMG_VMTAR_NAME_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "'%s': name is longer than the %u bytes "
                              "vmtar allows", rel, ESXIMG_VMTAR_NAME_MAX);
    char *full = rel[0] ? esx_path_join(w->root, rel) : esx_strdup(w->root);
    if (!full)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (lstat(full, &st) != 0) {
        rc = esximg_err_sys(err, errno, "cannot stat");
        esximg_err_file(err, full);
    } else if (S_ISDIR(st.st_mode)) {
        rc = vmtar_walk_dir(w, rel, full, &st, err);
    } else if (S_ISREG(st.st_mode)) {
        rc = vmtar_walk_file(w, rel, full, &st, err);
    } else if (S_ISLNK(st.st_mode)) {
        rc = vmtar_walk_link(w, rel, full, &st, err);
    } else {
        rc = esximg_err_set(err, ESXIMG_EUNSUPPORTED, "'%s': not a regular file, directory "
                            "or symlink", rel);
    }
    free(full);
    return rc;
}

/* "./a//b/" -> "a/b"; "." and "" -> "" (the whole root) */
static char *vmtar_tree_name(const char *path)
{
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    while (path[0] == '/' && path[1] != '\0')
        path++;
    if (!strcmp(path, "."))
        path = "";
    char *name = esx_strdup(path);
    if (!name)
        return NULL;
    size_t n = strlen(name);
    while (n > 0 && name[n - 1] == '/')
        name[--n] = '\0';
    return name;
}

/* The parents of `name` ("a/b/c" adds "a/" and "a/b/"), with their modes from disk. */
static int vmtar_tree_parents(struct vmtar_walk *w, const char *name, struct esximg_err *err)
{
    int rc = 0;
    for (const char *slash = strchr(name, '/'); !rc && slash; slash = strchr(slash + 1, '/')) {
        char *parent = esx_strndup(name, (size_t)(slash - name));
        char *full = parent ? esx_path_join(w->root, parent) : NULL;
        struct stat st;
        if (!full) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        } else if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s': not a directory", parent);
            esximg_err_file(err, full);
        } else {
            struct esximg_vmtar_attrs a = vmtar_tree_attrs(w, st.st_mode);
            rc = esximg_vmtar_add_dir(w->v, parent, &a, err);
        }
        free(parent);
        free(full);
    }
    return rc;
}

int esximg_vmtar_add_tree(struct esximg_vmtar *v, const char *root,
                          const char *const *paths, size_t path_count,
                          const struct esximg_vmtar_topts *o, struct esximg_err *err)
{
    static const struct esximg_vmtar_topts defaults;
    struct vmtar_walk w = {.v = v, .root = root, .o = o ? o : &defaults};
    int rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        w.counting = pass == 0;
        for (size_t i = 0; i < path_count && !rc; i++) {
            char *name = vmtar_tree_name(paths[i]);
            if (!name)
                return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            if (name[0])
                rc = esx_path_check(name, "path", err);
            if (!rc && name[0] && !w.counting)
                rc = vmtar_tree_parents(&w, name, err);
            if (!rc)
                rc = vmtar_walk_path(&w, name, err);
            free(name);
        }
    }
    if (!rc)
        esximg_vmtar_sort(v);
    return rc;
}

/* ---------------------------------------------------------------------------------- free */

void esximg_vmtar_free(struct esximg_vmtar *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->entry_count; i++)
        vmtar_entry_release(&v->entries[i]);
    free(v->entries);
    free(v->archive);
    free(v);
}
