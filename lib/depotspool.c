/* depotspool.c: an offline bundle's VIBs spooled to files (esximg/depotspool.h).
 *
 * A .vib stored (method 0) in the bundle's own zip is read in place instead: its offset is
 * taken from the central directory and its local header, parsed here with every length
 * checked against the file and the next member, and anything unexpected (zip64, a name
 * twice, a local header that disagrees) only sends the member down the spooling path.
 *
 * libarchive reads the zip file by its central directory and inflates one member at a time
 * into a 64 KiB buffer; a VIB goes to a file of the caller's folder, which is then mapped and
 * parsed, so that memory use stays that of the headers and descriptors whatever the size of
 * the payloads.  The limits are those of depot.c (ESX_MAX_ZIP_ENTRIES members per zip,
 * ESX_MAX_DEPOT_BYTES inflated in all, ESX_MAX_GUNZIP_RATIO times each zip's size past
 * ESX_GUNZIP_RATIO_FLOOR), checked on the size a member claims before it is read and on the
 * bytes really inflated. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "depotmeta_private.h"
#include "esximg/depotspool.h"
#include "esx_private.h"

#define SPOOL_CHUNK ((size_t)64 << 10)
#define SPOOL_MAX_METADATA ((uint64_t)64 << 20)    /* a metadata zip, read whole */

struct spool_ctx {
    const char *dir;
    struct esximg_depot_spool *s;
    uint64_t max_bytes;
    uint64_t inflated;
};

/* A member of the bundle's own zip as its central directory records it. */
struct spool_cd_entry {
    char *name;
    uint64_t local_header;      /* offset of its local header */
    uint64_t size;              /* stored bytes, equal to its size when `stored` */
    uint64_t next_header;       /* where the next local header (or the directory) starts */
    bool stored;                /* method 0, not encrypted, sizes agree, no zip64 */
};

struct spool_zip {
    struct archive *a;
    const char *prefix;         /* path of a nested zip in the top one, or NULL */
    uint64_t budget;            /* most bytes it may inflate to */
    uint64_t inflated;
    unsigned depth;
    /* the top zip only: the file, read in place for its stored .vib members */
    const char *path;
    int fd;
    uint64_t file_size;
    struct spool_cd_entry *cd;  /* NULL: none is read in place */
    size_t cd_count;
};

static int spool_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static bool spool_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool spool_is_metadata(const char *name)
{
    const char *base = esx_path_base(name);
    return strcasecmp(base, "metadata.zip") == 0 || spool_ends_with(base, "-metadata.zip");
}

static uint64_t spool_budget(uint64_t zip_len)
{
    uint64_t budget;
    if (esx_mul_u64(zip_len, ESX_MAX_GUNZIP_RATIO, &budget))
        return UINT64_MAX;
    return budget < ESX_GUNZIP_RATIO_FLOOR ? ESX_GUNZIP_RATIO_FLOOR : budget;
}

static char *spool_member_path(const struct spool_zip *z, const char *name)
{
    return z->prefix ? esx_path_join(z->prefix, name) : esx_strdup(name);
}

static int spool_archive_error(struct archive *a, const char *what, struct esximg_err *err)
{
    const char *why = archive_error_string(a);
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s: %s", what, why ? why : "unknown reason");
}

/* ---- zips ---- */

static int spool_zip_open_file(struct spool_zip *z, const char *path, struct esximg_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return esximg_err_sys(err, errno, "cannot open");
    z->budget = spool_budget((uint64_t)st.st_size);
    if (!(z->a = archive_read_new()))
        return spool_nomem(err);
    if (archive_read_support_format_zip_seekable(z->a) != ARCHIVE_OK ||
        archive_read_open_filename(z->a, path, SPOOL_CHUNK) != ARCHIVE_OK)
        return spool_archive_error(z->a, "not a readable zip", err);
    return 0;
}

static int spool_zip_open_memory(struct spool_zip *z, const void *data, size_t len,
                                 struct esximg_err *err)
{
    z->budget = spool_budget(len);
    if (!(z->a = archive_read_new()))
        return spool_nomem(err);
    if (archive_read_support_format_zip_seekable(z->a) != ARCHIVE_OK ||
        archive_read_open_memory(z->a, data, len) != ARCHIVE_OK)
        return spool_archive_error(z->a, "not a readable zip", err);
    return 0;
}

/* The next regular member, or *name NULL at the end. */
static int spool_zip_next(struct spool_ctx *x, struct spool_zip *z, size_t *entries,
                          const char **name, struct archive_entry **entry,
                          struct esximg_err *err)
{
    for (;;) {
        struct archive_entry *e;
        int ar = archive_read_next_header(z->a, &e);
        if (ar == ARCHIVE_EOF) {
            *name = NULL;
            return 0;
        }
        if (ar < ARCHIVE_WARN)
            return spool_archive_error(z->a, "broken zip", err);
        if (++*entries > ESX_MAX_ZIP_ENTRIES)
            return esximg_err_set(err, ESXIMG_ELIMIT, "zip has more than %u members",
                                  ESX_MAX_ZIP_ENTRIES);
        const char *n = archive_entry_pathname(e);
        if (!n)
            n = archive_entry_pathname_utf8(e);
        if (!n || !*n) {
            esx_warn(&x->s->warnings, 0, NULL, "a member without a readable name was skipped");
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        *name = n;
        *entry = e;
        return 0;
    }
}

/* Most bytes the member may inflate to: `max`, the zip's ratio budget, the bundle's budget. */
static uint64_t spool_limit(const struct spool_ctx *x, const struct spool_zip *z, uint64_t max)
{
    uint64_t zip_left = z->budget - z->inflated, bundle_left = x->max_bytes - x->inflated;
    if (zip_left < max)
        max = zip_left;
    return bundle_left < max ? bundle_left : max;
}

/* A member read in place counts against the same limits as an inflated one. */
static int spool_count_stored(struct spool_ctx *x, struct spool_zip *z, uint64_t len,
                              struct esximg_err *err)
{
    uint64_t limit = spool_limit(x, z, UINT64_MAX);
    if (len > limit)
        return esximg_err_set(err, ESXIMG_ELIMIT, "inflates past the limit of %" PRIu64
                              " bytes (the member, its zip's ratio or the bundle's)", limit);
    z->inflated += len;
    x->inflated += len;
    return 0;
}

/* Inflates the current member to fd (or into *mem when fd < 0), hashing it when `digest`. */
static int spool_data(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                      uint64_t max, int fd, struct esx_buf *mem, struct esx_digest *digest,
                      uint64_t *written, struct esximg_err *err)
{
    uint64_t limit = spool_limit(x, z, max);
    if (archive_entry_is_encrypted(e))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "encrypted");
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        (uint64_t)archive_entry_size(e) > limit)
        return esximg_err_set(err, ESXIMG_ELIMIT, "inflates past the limit of %" PRIu64
                              " bytes (the member, its zip's ratio or the bundle's)", limit);
    uint8_t *chunk = malloc(SPOOL_CHUNK);
    if (!chunk)
        return spool_nomem(err);
    int rc = 0;
    uint64_t done = 0;
    for (;;) {
        la_ssize_t got = archive_read_data(z->a, chunk, SPOOL_CHUNK);
        if (got < 0) {
            rc = spool_archive_error(z->a, "cannot inflate", err);
            break;
        }
        if (got == 0)
            break;
        if ((uint64_t)got > limit - done) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "inflates past the limit of %" PRIu64
                                " bytes", limit);
            break;
        }
        if (fd >= 0) {
            int e2 = esx_pwrite_full(fd, chunk, (size_t)got, done);
            if (e2)
                rc = esximg_err_sys(err, e2, "cannot write its copy");
        } else {
            rc = esx_buf_append(mem, chunk, (size_t)got, err);
        }
        if (!rc && digest)
            rc = esx_digest_update(digest, chunk, (size_t)got, err);
        if (rc)
            break;
        done += (uint64_t)got;
    }
    free(chunk);
    z->inflated += done;
    x->inflated += done;
    *written = done;
    return rc;
}

/* The member into a new file of the folder: *path (to free). */
static int spool_to_file(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                         const char *ext, char **path, uint64_t *len, struct esximg_err *err)
{
    /* a unique name: several bundles may be spooled into one folder */
    char name[32];
    snprintf(name, sizeof name, "spool-XXXXXX.%s", ext);
    if (!(*path = esx_path_join(x->dir, name)))
        return spool_nomem(err);
    int fd = mkostemps(*path, (int)strlen(ext) + 1, O_CLOEXEC);
    if (fd < 0) {
        int rc = esximg_err_sys(err, errno, "cannot make a file in '%s'", x->dir);
        free(*path);
        *path = NULL;
        return rc;
    }
    int rc = spool_data(x, z, e, UINT64_MAX, fd, NULL, NULL, len, err);
    if (close(fd) != 0 && !rc)
        rc = esximg_err_sys(err, errno, "cannot write its copy");
    if (rc) {
        unlink(*path);
        free(*path);
        *path = NULL;
    }
    return rc;
}

/* ---- stored members, read in place ---- */

#define SPOOL_EOCD_LEN 22u
#define SPOOL_CD_ENTRY_LEN 46u
#define SPOOL_LOCAL_LEN 30u
#define SPOOL_MAX_COMMENT 65535u
#define SPOOL_MAX_CD ((uint64_t)64 << 20)   /* a central directory, read whole */

static uint16_t spool_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t spool_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void spool_cd_free(struct spool_zip *z)
{
    for (size_t i = 0; i < z->cd_count; i++)
        free(z->cd[i].name);
    free(z->cd);
    z->cd = NULL;
    z->cd_count = 0;
}

/* The end of central directory record: the last signature whose comment ends the file.
 * Returns false when there is none, or when the zip is split or zip64 (left to libarchive). */
static bool spool_find_eocd(const struct spool_zip *z, uint64_t *cd_off, uint64_t *cd_len,
                            size_t *count)
{
    uint64_t tail = z->file_size < SPOOL_EOCD_LEN + SPOOL_MAX_COMMENT
                        ? z->file_size : SPOOL_EOCD_LEN + SPOOL_MAX_COMMENT;
    if (tail < SPOOL_EOCD_LEN)
        return false;
    uint8_t *buf = malloc((size_t)tail);
    size_t got = 0;
    bool found = false;
    if (!buf || esx_pread_full(z->fd, buf, (size_t)tail, z->file_size - tail, &got) ||
        got != tail) {
        free(buf);
        return false;
    }
    for (size_t at = (size_t)tail - SPOOL_EOCD_LEN + 1; at-- > 0;) {
        const uint8_t *e = buf + at;
        if (spool_le32(e) != 0x06054b50u || at + SPOOL_EOCD_LEN + spool_le16(e + 20) != tail)
            continue;
        uint64_t eocd = z->file_size - tail + at;
        *count = spool_le16(e + 10);
        *cd_len = spool_le32(e + 12);
        *cd_off = spool_le32(e + 16);
        found = spool_le16(e + 4) == 0 && spool_le16(e + 6) == 0 &&
                spool_le16(e + 8) == *count && *count != 0xFFFF &&
                *cd_off != 0xFFFFFFFFu && *cd_len <= eocd && *cd_off <= eocd - *cd_len;
        break;
    }
    free(buf);
    return found;
}

/* One central directory entry at *at of `cd` (cd_len bytes); *at moves past it. */
static int spool_cd_parse_entry(const uint8_t *cd, size_t cd_len, size_t *at,
                                struct spool_cd_entry *out)
{
    const uint8_t *e = cd + *at;
    if (cd_len - *at < SPOOL_CD_ENTRY_LEN || spool_le32(e) != 0x02014b50u)
        return ESXIMG_EFORMAT;
    size_t name_len = spool_le16(e + 28);
    size_t var_len = name_len + spool_le16(e + 30) + spool_le16(e + 32);
    if (cd_len - *at - SPOOL_CD_ENTRY_LEN < var_len)
        return ESXIMG_EFORMAT;
    uint16_t flags = spool_le16(e + 8), method = spool_le16(e + 10);
    uint32_t csize = spool_le32(e + 20), usize = spool_le32(e + 24);
    uint32_t local = spool_le32(e + 42);
    if (!(out->name = malloc(name_len + 1)))
        return ESXIMG_ENOMEM;
    memcpy(out->name, e + SPOOL_CD_ENTRY_LEN, name_len);
    out->name[name_len] = '\0';
    out->local_header = local;
    out->size = csize;
    out->stored = method == 0 && !(flags & 1) && csize == usize && csize != 0xFFFFFFFFu &&
                  local != 0xFFFFFFFFu && strlen(out->name) == name_len;
    *at += SPOOL_CD_ENTRY_LEN + var_len;
    return 0;
}

static int spool_cd_cmp_offset(const void *a, const void *b)
{
    const struct spool_cd_entry *x = a, *y = b;
    return x->local_header < y->local_header ? -1 : x->local_header > y->local_header;
}

/* Each member's room: up to the next local header, or the directory for the last. */
static void spool_cd_bound(struct spool_zip *z, uint64_t cd_off)
{
    qsort(z->cd, z->cd_count, sizeof *z->cd, spool_cd_cmp_offset);
    for (size_t i = 0; i < z->cd_count; i++)
        z->cd[i].next_header = i + 1 < z->cd_count ? z->cd[i + 1].local_header : cd_off;
}

/* Reads the central directory of the top zip.  Whatever does not parse only means that no
 * member is read in place: libarchive, reading the same zip, reports what is wrong. */
static void spool_cd_read(struct spool_zip *z)
{
    uint64_t cd_off = 0, cd_len = 0;
    size_t count = 0;
    if (!spool_find_eocd(z, &cd_off, &cd_len, &count) || cd_len > SPOOL_MAX_CD ||
        count > ESX_MAX_ZIP_ENTRIES || !count)
        return;
    uint8_t *cd = malloc((size_t)cd_len);
    size_t got = 0, at = 0;
    if (!cd || !(z->cd = calloc(count, sizeof *z->cd)) ||
        esx_pread_full(z->fd, cd, (size_t)cd_len, cd_off, &got) || got != cd_len) {
        free(cd);
        spool_cd_free(z);
        return;
    }
    for (; z->cd_count < count; z->cd_count++)
        if (spool_cd_parse_entry(cd, (size_t)cd_len, &at, &z->cd[z->cd_count]))
            break;
    free(cd);
    if (z->cd_count != count || at != cd_len) {
        spool_cd_free(z);
        return;
    }
    spool_cd_bound(z, cd_off);
}

/* The central directory entry of `name` when it is the only one of that name. */
static const struct spool_cd_entry *spool_cd_find(const struct spool_zip *z, const char *name)
{
    const struct spool_cd_entry *hit = NULL;
    for (size_t i = 0; i < z->cd_count; i++)
        if (strcmp(z->cd[i].name, name) == 0) {
            if (hit)
                return NULL;    /* two members of one name: which one libarchive gave is unsure */
            hit = &z->cd[i];
        }
    return hit;
}

/* Where the bytes of a stored member start, from its local header: the same name, stored,
 * and the bytes within the room before the next member.  False: spool it instead. */
static bool spool_stored_offset(const struct spool_zip *z, const struct spool_cd_entry *c,
                                uint64_t *data_off)
{
    uint8_t h[SPOOL_LOCAL_LEN];
    size_t got = 0, name_len = strlen(c->name);
    if (c->next_header < c->local_header ||
        c->next_header - c->local_header < SPOOL_LOCAL_LEN ||
        esx_pread_full(z->fd, h, sizeof h, c->local_header, &got) || got != sizeof h)
        return false;
    if (spool_le32(h) != 0x04034b50u || spool_le16(h + 8) != 0 || (spool_le16(h + 6) & 1) ||
        spool_le16(h + 26) != name_len)
        return false;
    uint64_t off = c->local_header + SPOOL_LOCAL_LEN + name_len + spool_le16(h + 28);
    if (off > c->next_header || c->size > c->next_header - off || off > z->file_size ||
        c->size > z->file_size - off)
        return false;
    char *name = malloc(name_len + 1);
    bool same = name && !esx_pread_full(z->fd, name, name_len,
                                        c->local_header + SPOOL_LOCAL_LEN, &got) &&
                got == name_len && memcmp(name, c->name, name_len) == 0;
    free(name);
    *data_off = off;
    return same;
}

/* The member's place in the top zip when it can be read in place. */
static bool spool_in_place(const struct spool_zip *z, struct archive_entry *e,
                           const char *name, uint64_t *data_off, uint64_t *len)
{
    if (!z->cd || z->prefix)
        return false;
    const struct spool_cd_entry *c = spool_cd_find(z, name);
    if (!c || !c->stored || archive_entry_is_encrypted(e) ||
        (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
         (uint64_t)archive_entry_size(e) != c->size))
        return false;
    *len = c->size;
    return spool_stored_offset(z, c, data_off);
}

/* Opens the top zip for reads in place and reads its central directory. */
static int spool_zip_index(struct spool_zip *z, struct esximg_err *err)
{
    struct stat st;
    z->fd = open(z->path, O_RDONLY | O_CLOEXEC);
    if (z->fd < 0 || fstat(z->fd, &st) != 0)
        return esximg_err_sys(err, errno, "cannot open");
    if (!S_ISREG(st.st_mode))
        return 0;               /* a pipe or device: everything is spooled */
    z->file_size = (uint64_t)st.st_size;
    spool_cd_read(z);
    return 0;
}

/* ---- VIBs ---- */

static size_t spool_page_slack(uint64_t offset)
{
    return (size_t)(offset % (uint64_t)sysconf(_SC_PAGESIZE));
}

static void spool_vib_clear(struct esximg_spool_vib *v)
{
    esximg_vib_free(v->vib);
    if (v->bytes) {
        size_t slack = spool_page_slack(v->offset);
        munmap((void *)(v->bytes - slack), v->len + slack);
    }
    if (v->file && !v->in_place)
        unlink(v->file);
    free(v->file);
    free(v->member);
    free(v->vib_id);
    memset(v, 0, sizeof *v);
}

static int spool_map(struct esximg_spool_vib *v, uint64_t len, struct esximg_err *err)
{
    if (len > SIZE_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%" PRIu64 " bytes cannot be mapped", len);
    v->len = (size_t)len;
    if (!len)
        return esximg_err_set(err, ESXIMG_EFORMAT, "an empty file is no VIB");
    /* a stored member starts anywhere in the bundle: the map starts at its page */
    size_t slack = spool_page_slack(v->offset);
    if (v->len > SIZE_MAX - slack)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%" PRIu64 " bytes cannot be mapped", len);
    int fd = open(v->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esximg_err_sys(err, errno, "cannot open its copy");
    void *map = mmap(NULL, v->len + slack, PROT_READ, MAP_PRIVATE, fd,
                     (off_t)(v->offset - slack));
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return esximg_err_sys(err, e, "cannot map its copy");
    v->bytes = (const uint8_t *)map + slack;
    return 0;
}

/* The sha-256 of the whole .vib, read with pread (the map is left untouched: its pages would
 * count in the resident size); once. */
static int spool_vib_sha256(struct esximg_spool_vib *v, struct esximg_err *err)
{
    if (v->sha256[0])
        return 0;
    int fd = open(v->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esximg_err_sys(err, errno, "cannot open '%s'", v->file);
    struct esx_digest *d = NULL;
    uint8_t *chunk = malloc(SPOOL_CHUNK);
    int rc = chunk ? esx_digest_new(ESX_SHA256, &d, err) : spool_nomem(err);
    for (uint64_t done = 0; !rc && done < v->len;) {
        size_t want = v->len - done < SPOOL_CHUNK ? (size_t)(v->len - done) : SPOOL_CHUNK;
        size_t got = 0;
        int e = esx_pread_full(fd, chunk, want, v->offset + done, &got);
        if (e || got != want)
            rc = esximg_err_sys(err, e ? e : EIO, "cannot read '%s'", v->file);
        else
            rc = esx_digest_update(d, chunk, got, err);
        done += got;
    }
    if (!rc)
        rc = esx_digest_final_hex(d, v->sha256, err);
    esx_digest_free(d);
    free(chunk);
    close(fd);
    return rc;
}

/* The same id as an earlier VIB: dropped when the bytes are the same, else refused. */
static int spool_check_duplicate(struct spool_ctx *x, struct esximg_spool_vib *v, bool *dup,
                                 struct esximg_err *err)
{
    *dup = false;
    for (size_t i = 0; i < x->s->vib_count; i++) {
        struct esximg_spool_vib *o = &x->s->vibs[i];
        if (strcmp(o->vib_id, v->vib_id) != 0)
            continue;
        int rc = 0;
        if (o->len == v->len && !(rc = spool_vib_sha256(o, err)))
            rc = spool_vib_sha256(v, err);
        if (rc)
            return rc;
        if (o->len != v->len || strcmp(o->sha256, v->sha256) != 0)
            return esximg_err_set(err, ESXIMG_EFORMAT, "VIB '%s' is also '%s', with other "
                                  "bytes", v->vib_id, o->member);
        esx_warn(&x->s->warnings, 0, NULL, "member '%s': the same VIB as '%s', skipped",
                 v->member, o->member);
        *dup = true;
    }
    return 0;
}

static int spool_vib(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                     const char *name, struct esximg_err *err)
{
    struct esximg_spool_vib v = {0};
    uint64_t len = 0;
    bool dup = false;
    int rc = (v.member = spool_member_path(z, name)) ? 0 : spool_nomem(err);
    if (!rc && spool_in_place(z, e, name, &v.offset, &len)) {
        v.in_place = true;
        rc = spool_count_stored(x, z, len, err);
        if (!rc && !(v.file = esx_strdup(z->path)))
            rc = spool_nomem(err);
    } else if (!rc) {
        v.offset = 0;
        rc = spool_to_file(x, z, e, "vib", &v.file, &len, err);
    }
    if (!rc)
        rc = spool_map(&v, len, err);
    if (!rc)
        rc = esximg_vib_read(v.bytes, v.len, &v.vib, err);
    if (!rc && !(v.vib_id = esximg_descriptor_vib_id(v.vib->desc)))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "its descriptor lacks a vendor, type, name "
                            "or version");
    if (!rc)
        rc = spool_check_duplicate(x, &v, &dup, err);
    if (!rc && !dup) {
        struct esximg_spool_vib *grown = esx_realloc_array(x->s->vibs, x->s->vib_count + 1,
                                                           sizeof *grown);
        if (!grown) {
            rc = spool_nomem(err);
        } else {
            x->s->vibs = grown;
            x->s->vibs[x->s->vib_count++] = v;
            return 0;
        }
    }
    if (rc)
        esximg_err_prefix(err, "member '%s': ", v.member ? v.member : name);
    spool_vib_clear(&v);
    return rc;
}

/* ---- metadata: the components ---- */

static int spool_add_component(struct spool_ctx *x, char *member, struct esx_buf *xml)
{
    struct esximg_err e = {0};
    struct esximg_spool_component c = {.member = member};
    c.xml = (uint8_t *)esx_buf_take(xml, &c.len);
    if (!c.xml || esximg_bulletin_read(c.xml, c.len, &c.bulletin, &e)) {
        esx_warn(&x->s->warnings, 0, NULL, "member '%s' is skipped: %s", member,
                 c.xml ? e.msg : "out of memory");
        free(c.xml);
        free(member);
        return 0;
    }
    struct esximg_spool_component *grown = esx_realloc_array(x->s->components,
                                                             x->s->component_count + 1,
                                                             sizeof *grown);
    if (!grown) {
        esximg_bulletin_free(c.bulletin);
        free(c.xml);
        free(member);
        return ESXIMG_ENOMEM;
    }
    x->s->components = grown;
    x->s->components[x->s->component_count++] = c;
    return 0;
}

static bool spool_is_bulletin(const char *name)
{
    return strncmp(name, "bulletins/", 10) == 0 && spool_ends_with(name, ".xml") &&
           !strchr(name + 10, '/');
}

/* ---- metadata: the image documents (depotmeta.c) ---- */

static bool spool_fatal(int rc)
{
    return rc == ESXIMG_ENOMEM || rc == ESXIMG_ELIMIT;
}

/* A profiles/, baseimages/, addons/ or manifests/ member, or one not understood, into the
 * depot model.  As in depot.c, only a limit or out-of-memory stops the bundle; a document that
 * does not read is a warning and an entry of `unknowns`, for a build that needs it to fail by
 * its name ("... is in no depot") rather than build something else. */
static int spool_image_member(struct spool_ctx *x, struct spool_zip *z, struct archive_entry *e,
                              const char *prefix, const char *name, struct esximg_err *err)
{
    struct esximg_err local = {0};
    char *source = NULL;
    /* not esx_path_join: the name is shown as found, '..' and all */
    if (asprintf(&source, "%s/%s", prefix, name) < 0)
        return spool_nomem(err);
    int rc = esx_path_check(name, "member", &local);
    if (!rc && esx_depotmeta_classify(name) == ESX_DEPOTMETA_UNKNOWN) {
        const char *slash = strchr(name, '/');
        if (slash)
            rc = esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown folder '%.*s'",
                                (int)(slash - name), name);
        else
            rc = esximg_err_set(&local, ESXIMG_EUNSUPPORTED, "unknown file");
    }
    struct esx_buf data;
    esx_buf_init(&data, 0);
    uint64_t got = 0;
    if (!rc)
        rc = spool_data(x, z, e, ESX_MAX_JSON_BYTES, -1, &data, NULL, &got, &local);
    if (!rc)
        rc = esx_depotmeta_read(x->s->depot, source, name,
                                (const uint8_t *)(data.data ? data.data : ""), data.len,
                                &local);
    esx_buf_free(&data);
    if (rc && spool_fatal(rc)) {
        rc = esximg_err_set(err, local.code, "metadata '%s': %s", source, local.msg);
    } else if (rc) {
        esx_warn(&x->s->warnings, 0, NULL, "metadata '%s': %s", source, local.msg);
        rc = esx_depotmeta_unknown(x->s->depot, source, local.msg, err);
    }
    free(source);
    return rc;
}

/* Metadata that cannot be read only adds a warning, as in depot.c: the VIBs are the truth. */
static int spool_metadata(struct spool_ctx *x, struct spool_zip *top, struct archive_entry *e,
                          const char *name, struct esximg_err *err)
{
    struct esx_buf data;
    esx_buf_init(&data, 0);
    uint64_t len = 0;
    int rc = spool_data(x, top, e, SPOOL_MAX_METADATA, -1, &data, NULL, &len, err);
    char *prefix = spool_member_path(top, name);
    struct spool_zip z = {.prefix = prefix, .depth = top->depth + 1};
    struct esximg_err me = {0};
    size_t entries = 0;
    if (!rc && prefix && !spool_zip_open_memory(&z, data.data, data.len, &me)) {
        for (;;) {
            const char *n = NULL;
            struct archive_entry *me_e = NULL;
            if (spool_zip_next(x, &z, &entries, &n, &me_e, &me) || !n)
                break;
            if (!spool_is_bulletin(n)) {
                if (esx_depotmeta_classify(n) == ESX_DEPOTMETA_SKIP)
                    continue;
                if ((rc = spool_image_member(x, &z, me_e, prefix, n, err)))
                    break;
                continue;
            }
            struct esx_buf xml;
            esx_buf_init(&xml, 0);
            uint64_t got = 0;
            char *member = esx_path_join(prefix, n);
            if (!member || spool_data(x, &z, me_e, ESX_MAX_XML_BYTES, -1, &xml, NULL, &got,
                                      &me)) {
                free(member);
                esx_buf_free(&xml);
                break;
            }
            rc = spool_add_component(x, member, &xml);
            esx_buf_free(&xml);
            if (rc) {
                rc = spool_nomem(err);
                break;
            }
        }
    }
    if (!rc && me.code)
        esx_warn(&x->s->warnings, 0, NULL, "metadata '%s' is not read whole: %s",
                 prefix ? prefix : name, me.msg);
    if (z.a)
        archive_read_free(z.a);
    free(prefix);
    esx_buf_free(&data);
    return rc;
}

/* ---- the walk ---- */

static int spool_zip_walk(struct spool_ctx *x, struct spool_zip *z, struct esximg_err *err);

static int spool_nested(struct spool_ctx *x, struct spool_zip *top, struct archive_entry *e,
                        const char *name, struct esximg_err *err)
{
    char *prefix = spool_member_path(top, name);
    if (!prefix)
        return spool_nomem(err);
    if (top->depth + 1 > ESX_MAX_ZIP_DEPTH) {
        int rc = esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': a zip nested deeper than "
                                "%u levels", prefix, ESX_MAX_ZIP_DEPTH);
        free(prefix);
        return rc;
    }
    char *path = NULL;
    uint64_t len = 0;
    int rc = spool_to_file(x, top, e, "zip", &path, &len, err);
    struct spool_zip z = {.prefix = prefix, .depth = top->depth + 1};
    if (!rc && (rc = spool_zip_open_file(&z, path, err)))
        esximg_err_prefix(err, "member '%s': ", prefix);
    if (!rc)
        rc = spool_zip_walk(x, &z, err);
    if (z.a)
        archive_read_free(z.a);
    if (path)
        unlink(path);
    free(path);
    free(prefix);
    return rc;
}

static int spool_zip_walk(struct spool_ctx *x, struct spool_zip *z, struct esximg_err *err)
{
    size_t entries = 0;
    for (;;) {
        const char *name = NULL;
        struct archive_entry *e = NULL;
        int rc = spool_zip_next(x, z, &entries, &name, &e, err);
        if (rc || !name)
            return rc;
        if (spool_ends_with(name, ".vib"))
            rc = spool_vib(x, z, e, name, err);
        else if (spool_is_metadata(name))
            rc = spool_metadata(x, z, e, name, err);
        else if (spool_ends_with(name, ".zip"))
            rc = spool_nested(x, z, e, name, err);
        if (rc)
            return rc;
    }
}

/* ---- the depot model for the resolver ---- */

static int spool_model_vibs(struct esximg_depot_spool *s, struct esximg_err *err)
{
    struct esximg_depot *d = s->depot;
    if (!(d->vibs = calloc(s->vib_count + 1, sizeof *d->vibs)))
        return spool_nomem(err);
    for (size_t i = 0; i < s->vib_count; i++, d->vib_count++) {
        const struct esximg_spool_vib *v = &s->vibs[i];
        struct esximg_depot_vib *m = &d->vibs[i];
        const char *level = v->vib->desc->acceptance_level;
        m->acceptance = level ? esximg_acceptance_parse(level) : ESXIMG_ACCEPT_UNKNOWN;
        memcpy(m->sha256, v->sha256, sizeof m->sha256);
        m->len = v->len;
        if (!(m->path = esx_strdup(v->member)) || !(m->vib_id = esx_strdup(v->vib_id)))
            return spool_nomem(err);
    }
    return 0;
}

static char *spool_dup_or_null(const char *s)
{
    return s ? esx_strdup(s) : NULL;
}

/* The bulletin as a depot component; a second bulletin of one id is left out, as depot.c
 * keeps the first. */
static int spool_model_component(struct esximg_depot *d, const struct esximg_spool_component *c,
                                 struct esximg_err *err)
{
    const struct esximg_bulletin *b = c->bulletin;
    for (size_t i = 0; i < d->component_count; i++)
        if (strcmp(d->components[i].id, b->id) == 0)
            return 0;
    struct esximg_depot_component *k = &d->components[d->component_count++];
    k->id = esx_strdup(b->id);
    k->vendor = spool_dup_or_null(b->vendor);
    k->summary = spool_dup_or_null(b->summary);
    k->release_date = spool_dup_or_null(b->release_date);
    k->name = spool_dup_or_null(b->component_name);
    k->name_ui = spool_dup_or_null(b->component_ui_name);
    k->version = spool_dup_or_null(b->component_version);
    k->version_ui = spool_dup_or_null(b->component_ui_version);
    k->xml = malloc(c->len + 1);
    k->vib_ids = calloc(b->vib_count + 1, sizeof *k->vib_ids);
    if (!k->id || !k->xml || !k->vib_ids)
        return spool_nomem(err);
    memcpy(k->xml, c->xml, c->len);
    k->xml[c->len] = '\0';
    k->xml_len = c->len;
    for (size_t i = 0; i < b->vib_count; i++, k->vib_id_count++)
        if (!(k->vib_ids[i] = esx_strdup(b->vib_ids[i])))
            return spool_nomem(err);
    return 0;
}

/* After the walk: the VIBs and components into the model, then depotmeta.c's checks (two
 * base images of one version, profiles naming VIBs the bundle lacks), whose warnings join the
 * spool's. */
static int spool_model(struct esximg_depot_spool *s, struct esximg_err *err)
{
    struct esximg_depot *d = s->depot;
    int rc = spool_model_vibs(s, err);
    if (!rc && !(d->components = calloc(s->component_count + 1, sizeof *d->components)))
        rc = spool_nomem(err);
    for (size_t i = 0; i < s->component_count && !rc; i++)
        rc = spool_model_component(d, &s->components[i], err);
    d->kind = s->component_count || d->profile_count || d->base_image_count ||
                      d->addon_count || d->unknown_count
                  ? ESXIMG_DEPOT_VMWARE
                  : ESXIMG_DEPOT_PLAIN;
    if (!rc)
        rc = esx_depotmeta_finish(d, err);
    for (size_t i = 0; i < d->warnings.count; i++)
        esx_warn(&s->warnings, 0, NULL, "%s", d->warnings.items[i].msg);
    return rc;
}

int esximg_depot_spool(const char *zip_path, const char *dir, const struct esximg_spool_opts *o,
                       struct esximg_depot_spool **out, struct esximg_err *err)
{
    *out = NULL;
    struct esximg_err e = {0};
    struct spool_ctx x = {.dir = dir, .max_bytes = o && o->max_bytes ? o->max_bytes
                                                                   : ESX_MAX_DEPOT_BYTES};
    struct spool_zip z = {.path = zip_path, .fd = -1};
    int rc = (x.s = calloc(1, sizeof *x.s)) && (x.s->depot = calloc(1, sizeof *x.s->depot))
                 ? 0
                 : spool_nomem(&e);
    if (!rc && !(rc = spool_zip_open_file(&z, zip_path, &e)))
        rc = spool_zip_index(&z, &e);
    if (!rc)
        rc = spool_zip_walk(&x, &z, &e);
    if (z.a)
        archive_read_free(z.a);
    spool_cd_free(&z);
    if (z.fd >= 0)
        close(z.fd);
    if (!rc && !x.s->vib_count)
        rc = esximg_err_set(&e, ESXIMG_ENOTFOUND, "no VIB in the bundle");
    if (!rc)
        rc = spool_model(x.s, &e);
    if (rc) {
        esximg_depot_spool_free(x.s);
        esximg_err_file(&e, zip_path);
        if (err)
            *err = e;
        return rc;
    }
    *out = x.s;
    return 0;
}

void esximg_depot_spool_free(struct esximg_depot_spool *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->vib_count; i++)
        spool_vib_clear(&s->vibs[i]);
    free(s->vibs);
    for (size_t i = 0; i < s->component_count; i++) {
        free(s->components[i].member);
        free(s->components[i].xml);
        esximg_bulletin_free(s->components[i].bulletin);
    }
    free(s->components);
    esximg_depot_free(s->depot);
    esx_warnings_free(&s->warnings);
    free(s);
}
