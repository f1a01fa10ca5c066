/* isocreate.c: a new installer ISO from a list of files, over libisofs.
 *
 * A fresh libisofs image (iso_image_new) gets one node per file whose stream reads the
 * caller's content (memory, a byte range of a file, or the caller's callbacks) while
 * libisofs' writer thread asks for it, so no content is held here.  The image is plain ISO
 * 9660 level 1, as VMware's writer makes it (esxi-formats.md §5.1); the boot info table of
 * the BIOS image is patched by libisofs (el_torito_set_isolinux_options bit 0).
 *
 * Large byte ranges (the payloads of a build, read in place from the bundle) do not pass
 * through libisofs, which hands its output over 2 KiB at a time: their streams give libisofs
 * zeros of the right size, so that it lays them out, and the chunks of zeros it writes are
 * left as holes in the new output.  A thread started before libisofs hashes those ranges from
 * their files meanwhile; once libisofs is done, the output is read back through iso.c and
 * checked, which also gives each range's extent, and the kernel copies the range in
 * (copy_file_range).  The hash's verdict, and the files' sizes and dates (they were read
 * twice), are checked before the output is committed.  Boot images always go through
 * libisofs: it patches the BIOS one.  The bytes are the same either way. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isocreate.h"
#include "esximg/isohybrid.h"
#include "esx_private.h"

#define IC_BLOCK ESXIMG_ISO_BLOCK
/* libisofs asks for a file's bytes one 2 KiB block at a time: a range is read from its file
 * this much at a time, not with one pread per block */
#define IC_RANGE_CHUNK ((size_t)1 << 20)
/* the hasher reads a copied range this much at a time */
#define IC_HASH_CHUNK ((size_t)1 << 20)
/* copied between two progress calls and two nudges of the flusher */
#define IC_COPY_PIECE ((uint64_t)8 << 20)
#define IC_FS_ID 0x65736963u                /* get_id() of our content streams */
#define IC_MAX_FILE 0xFFFFFFFFull           /* one extent */
#define IC_BIOS_LOAD_SECTORS 4              /* VMware's writer and mkisofs -boot-load-size 4 */
#define IC_MAX_LOAD_SECTORS 0xFFFFu
#define IC_MAX_VOLUME_ID 32u
#define IC_MAX_SYSTEM_ID 32u
#define IC_MAX_APPLICATION_ID 128u

struct ic_content {             /* one file; read by libisofs' writer thread */
    const struct esximg_isoc_file *f;
    int fd;                     /* RANGE */
    uint64_t size;
    uint64_t pos;
    ino_t ino;                  /* unique: libisofs writes files of equal ids once */
    struct esx_digest *digest;  /* the bytes read so far, when the content has a sha256 */
    uint8_t *ahead;             /* RANGE: IC_RANGE_CHUNK bytes read from `ahead_pos` */
    uint64_t ahead_pos;
    size_t ahead_len;
    bool opened;                /* STREAM: the caller's open succeeded and close is due */
    bool failed;
    struct esximg_err err;      /* the first failure, for the calling thread to report */
    /* RANGE copied by the kernel: libisofs lays it out and writes zeros for it, its bytes are
     * copied into its extent (`lba`, from the read back) and hashed by the hasher thread */
    bool copied;
    uint32_t lba;
    struct stat st;             /* RANGE: the file as opened, to notice a change */
};

/* The thread that hashes the copied contents that have a sha-256 while the calling thread
 * has libisofs write the image and copies them in. */
struct ic_hasher {
    const struct ic_content *ct;
    size_t n;
    pthread_t thread;
    bool started;               /* a thread runs it: join it */
    bool finished;              /* joined, or run by the calling thread */
    atomic_bool stop;           /* the calling thread failed: give up */
    atomic_bool failed;         /* rc and err are set (read them after the join) */
    int rc;
    struct esximg_err err;
};

/* The thread that starts writing the copied bytes back to the disk while the copy goes on,
 * so that the fsync of the commit finds little left to wait for.  sync_file_range only starts
 * the writeback but blocks while the disk's queue is full: hence a thread of its own. */
struct ic_flusher {
    int fd;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    uint64_t copied;            /* under lock: bytes copied so far */
    bool end;                   /* under lock: no more copies */
};

struct ic_ctx {
    struct esximg_isoc_opts o;
    const char *out_path;
    const struct esximg_isoc_file *files;
    size_t n;
    struct ic_content *ct;
    size_t n_dirs;
    IsoImage *image;
    struct esximg_outfile *of;
    int out_fd;
    uint64_t out_size;
    uint64_t done;              /* bytes of the image taken from libisofs */
    uint64_t copy_bytes;        /* sizes of the copied contents */
    uint64_t copy_done;
    struct ic_hasher hash;
    struct ic_flusher flush;
};

/* ---- the files, checked ---- */

static int ic_check_name(const char *path, const char *name, size_t n, bool dir,
                         struct esximg_err *err)
{
    if (esx_iso_level1_name(name, n, dir))
        return 0;
    return esximg_err_set(err, ESXIMG_EINVAL, "name '%.*s' of '%s' is not an ISO 9660 level 1 "
                          "name (upper-case 8.3 d-characters)", (int)n, name, path);
}

static int ic_check_path(const char *path, struct esximg_err *err)
{
    if (!path)
        return esximg_err_set(err, ESXIMG_EINVAL, "a file has no path");
    return esx_iso_path_check(path, ic_check_name, err);
}

static int ic_check_id(const char *id, size_t max, const char *what, struct esximg_err *err)
{
    if (!id)
        return 0;
    size_t len = strnlen(id, max + 1);
    if (len > max)
        return esximg_err_set(err, ESXIMG_EINVAL, "%s '%.40s' is longer than %zu characters",
                              what, id, max);
    for (size_t i = 0; i < len; i++)
        if (id[i] < 0x20 || id[i] > 0x7e)
            return esximg_err_set(err, ESXIMG_EINVAL, "%s holds a character that is not "
                                  "printable ASCII", what);
    return 0;
}

static int ic_open_content(struct ic_content *ct, size_t index, struct esximg_err *err)
{
    const struct esximg_content *c = &ct->f->content;
    ct->ino = (ino_t)index + 1;
    switch (c->kind) {
    case ESXIMG_CONTENT_MEMORY:
        if (!c->data && c->len)
            return esximg_err_set(err, ESXIMG_EINVAL, "'%s' has no content", ct->f->iso_path);
        ct->size = c->len;
        break;
    case ESXIMG_CONTENT_RANGE: {
        struct stat st;
        int rc = 0;
        if (!c->path)
            return esximg_err_set(err, ESXIMG_EINVAL, "'%s' has no content file",
                                  ct->f->iso_path);
        ct->fd = open(c->path, O_RDONLY | O_CLOEXEC);
        if (ct->fd < 0 || fstat(ct->fd, &st) != 0)
            rc = esximg_err_sys(err, errno, "cannot open the content of '%s'", ct->f->iso_path);
        else if (!S_ISREG(st.st_mode))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "content of '%s' is not a regular file",
                                ct->f->iso_path);
        else if (c->offset > (uint64_t)st.st_size || c->size > (uint64_t)st.st_size - c->offset)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "content of '%s' (%" PRIu64 " bytes at %"
                                PRIu64 ") lies beyond the end of the file", ct->f->iso_path,
                                c->size, c->offset);
        if (rc) {
            esximg_err_file(err, c->path);
            return rc;
        }
        ct->size = c->size;
        ct->st = st;
        break;
    }
    case ESXIMG_CONTENT_STREAM:
        if (!c->ops || !c->ops->open || !c->ops->read)
            return esximg_err_set(err, ESXIMG_EINVAL, "'%s' has no stream callbacks",
                                  ct->f->iso_path);
        ct->size = c->size;
        break;
    default:
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s' has an unknown kind of content %d",
                              ct->f->iso_path, (int)c->kind);
    }
    if (ct->size > IC_MAX_FILE)
        return esximg_err_set(err, ESXIMG_ELIMIT, "'%s' is %" PRIu64 " bytes: a file of 4 GiB "
                              "or more needs two extents, and ESXi's UEFI loader reads "
                              "single-extent files only", ct->f->iso_path, ct->size);
    return 0;
}

static int ic_cmp_files(const void *a, const void *b)
{
    const struct esximg_isoc_file *fa = *(const struct esximg_isoc_file *const *)a;
    const struct esximg_isoc_file *fb = *(const struct esximg_isoc_file *const *)b;
    return strcmp(fa->iso_path, fb->iso_path);
}

/* Two files of one path, or a file that is also the parent directory of another. */
static int ic_check_clashes(const struct ic_ctx *x, struct esximg_err *err)
{
    if (x->n < 2)
        return 0;
    const struct esximg_isoc_file **sorted = esx_malloc_array(x->n, sizeof *sorted);
    if (!sorted)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->n; i++)
        sorted[i] = &x->files[i];
    qsort(sorted, x->n, sizeof *sorted, ic_cmp_files);
    int rc = 0;
    for (size_t i = 1; i < x->n && !rc; i++) {
        const char *a = sorted[i - 1]->iso_path, *b = sorted[i]->iso_path;
        size_t la = strlen(a);
        if (strcmp(a, b) == 0)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s' is given twice", a);
        else if (strncmp(a, b, la) == 0 && b[la] == '/')
            rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s' is a file and the directory of '%s'",
                                a, b);
    }
    free(sorted);
    return rc;
}

static bool ic_has_file(const struct ic_ctx *x, const char *path)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->files[i].iso_path, path) == 0)
            return true;
    return false;
}

static int ic_check_boot(const struct ic_ctx *x, struct esximg_err *err)
{
    const struct esximg_isoc_opts *o = &x->o;
    int rc;
    if ((rc = ic_check_id(o->volume_id, IC_MAX_VOLUME_ID, "volume id", err)) ||
        (rc = ic_check_id(o->system_id, IC_MAX_SYSTEM_ID, "system id", err)) ||
        (rc = ic_check_id(o->application_id, IC_MAX_APPLICATION_ID, "application id", err)))
        return rc;
    if ((o->bios_boot || o->efi_boot) && !o->boot_catalog)
        return esximg_err_set(err, ESXIMG_EINVAL, "boot images without a boot catalog");
    if (o->boot_catalog && !o->bios_boot)
        return esximg_err_set(err, ESXIMG_EINVAL, "a boot catalog needs a BIOS boot image");
    if (o->bios_boot && !ic_has_file(x, o->bios_boot))
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "BIOS boot image '%s' is not one of the "
                              "files", o->bios_boot);
    if (o->efi_boot && !ic_has_file(x, o->efi_boot))
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "UEFI boot image '%s' is not one of the "
                              "files", o->efi_boot);
    if (o->boot_catalog) {
        if ((rc = ic_check_path(o->boot_catalog, err)))
            return rc;
        if (ic_has_file(x, o->boot_catalog))
            return esximg_err_set(err, ESXIMG_EINVAL, "boot catalog '%s' is also one of the "
                                  "files", o->boot_catalog);
    }
    return 0;
}

/* The RANGE contents the kernel copies rather than libisofs: the large ones, never a boot
 * image (libisofs patches the BIOS image's boot info table as it writes it). */
static void ic_choose_copies(struct ic_ctx *x)
{
    uint64_t min = x->o.range_copy_min ? x->o.range_copy_min : ESXIMG_ISOC_RANGE_COPY_MIN;
    for (size_t i = 0; i < x->n; i++) {
        struct ic_content *ct = &x->ct[i];
        const char *path = ct->f->iso_path;
        ct->copied = ct->f->content.kind == ESXIMG_CONTENT_RANGE && ct->size > 0 &&
                     ct->size >= min &&
                     !(x->o.bios_boot && strcmp(path, x->o.bios_boot) == 0) &&
                     !(x->o.efi_boot && strcmp(path, x->o.efi_boot) == 0);
        if (ct->copied)
            x->copy_bytes += ct->size;
    }
}

static int ic_check_files(struct ic_ctx *x, struct esximg_err *err)
{
    if (x->n > ESX_MAX_ISO_ENTRIES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "more than %u files", ESX_MAX_ISO_ENTRIES);
    if (x->n && !(x->ct = calloc(x->n, sizeof *x->ct)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->n; i++) {
        x->ct[i].fd = -1;
        x->ct[i].f = &x->files[i];
    }
    for (size_t i = 0; i < x->n; i++) {
        int rc = ic_check_path(x->files[i].iso_path, err);
        if (!rc)
            rc = ic_open_content(&x->ct[i], i, err);
        if (rc)
            return rc;
    }
    int rc = ic_check_clashes(x, err);
    if (rc || (rc = ic_check_boot(x, err)))
        return rc;
    ic_choose_copies(x);
    return 0;
}

/* ---- content streams for libisofs ---- */

static void ic_stream_fail(struct ic_content *ct, const struct esximg_err *e, int sys_errno,
                           const char *why)
{
    if (ct->failed)
        return;
    ct->failed = true;
    if (e) {
        ct->err = *e;
        return;
    }
    if (sys_errno)
        esximg_err_sys(&ct->err, sys_errno, "cannot read the content of '%s'", ct->f->iso_path);
    else
        esximg_err_set(&ct->err, ESXIMG_EIO, "content of '%s' %s", ct->f->iso_path, why);
    if (ct->f->content.kind == ESXIMG_CONTENT_RANGE)
        esximg_err_file(&ct->err, ct->f->content.path);
}

static void ic_stream_close_caller(struct ic_content *ct)
{
    if (ct->opened && ct->f->content.ops->close)
        ct->f->content.ops->close(ct->f->content.arg);
    ct->opened = false;
}

/* A fresh hash at each open: libisofs may read a content more than once. */
static int ic_digest_restart(struct ic_content *ct)
{
    esx_digest_free(ct->digest);
    ct->digest = NULL;
    if (!ct->f->content.sha256 || ct->copied)   /* the hasher thread checks a copied one */
        return 0;
    struct esximg_err e = {0};
    if (esx_digest_new(ESX_SHA256, &ct->digest, &e)) {
        ic_stream_fail(ct, &e, 0, NULL);
        return (int)ISO_OUT_OF_MEM;
    }
    return 0;
}

static const char *ic_label(const struct ic_content *ct)
{
    return ct->f->content.label ? ct->f->content.label : ct->f->iso_path;
}

/* A content whose bytes hash to `got`, not to the sha-256 it must have. */
static int ic_mismatch(const struct ic_content *ct, const char *got, struct esximg_err *err)
{
    int rc = esximg_err_set(err, ESXIMG_EFORMAT, "%s: its bytes have the sha-256 %s, not %s as "
                            "its descriptor says", ic_label(ct), got, ct->f->content.sha256);
    if (ct->f->content.kind == ESXIMG_CONTENT_RANGE)
        esximg_err_file(err, ct->f->content.path);
    return rc;
}

/* A RANGE content whose file ended before its range while it was read. */
static int ic_shrank(const struct ic_content *ct, struct esximg_err *err)
{
    int rc = esximg_err_set(err, ESXIMG_EIO, "content of '%s' shrank while it was written",
                            ct->f->iso_path);
    esximg_err_file(err, ct->f->content.path);
    return rc;
}

/* Hashes what was read; at the end, compares with the sha-256 the content must have. */
static int ic_digest_check(struct ic_content *ct, const void *buf, size_t n)
{
    struct esximg_err e = {0};
    char got[65];
    if (!ct->digest)
        return 0;
    if (esx_digest_update(ct->digest, buf, n, &e) ||
        (ct->pos + n == ct->size && esx_digest_final_hex(ct->digest, got, &e))) {
        ic_stream_fail(ct, &e, 0, NULL);
        return (int)ISO_FILE_READ_ERROR;
    }
    if (ct->pos + n < ct->size)
        return 0;
    esx_digest_free(ct->digest);
    ct->digest = NULL;
    if (strcasecmp(got, ct->f->content.sha256) == 0)
        return 0;
    ic_mismatch(ct, got, &e);
    ic_stream_fail(ct, &e, 0, NULL);
    return (int)ISO_FILE_READ_ERROR;
}

static int ics_open(void *content)
{
    struct ic_content *ct = content;
    ct->pos = 0;
    int rc = ic_digest_restart(ct);
    if (rc < 0)
        return rc;
    if (ct->f->content.kind != ESXIMG_CONTENT_STREAM)
        return 1;
    ic_stream_close_caller(ct);
    struct esximg_err e = {0};
    if (ct->f->content.ops->open(ct->f->content.arg, &e)) {
        ic_stream_fail(ct, &e, 0, NULL);
        return (int)ISO_FILE_ERROR;
    }
    ct->opened = true;
    return 1;
}

static int ics_close(void *content)
{
    struct ic_content *ct = content;
    free(ct->ahead);            /* one file's buffer at a time */
    ct->ahead = NULL;
    ct->ahead_len = 0;
    if (ct->f->content.kind == ESXIMG_CONTENT_STREAM)
        ic_stream_close_caller(ct);
    return 1;
}

static int ics_read_stream(struct ic_content *ct, void *buf, size_t n)
{
    struct esximg_err e = {0};
    size_t got = 0;
    if (!ct->opened) {
        ic_stream_fail(ct, NULL, 0, "was read before it was opened");
        return (int)ISO_FILE_READ_ERROR;
    }
    if (ct->f->content.ops->read(ct->f->content.arg, buf, n, &got, &e)) {
        ic_stream_fail(ct, &e, 0, NULL);
        return (int)ISO_FILE_READ_ERROR;
    }
    if (got == 0 || got > n) {
        ic_stream_fail(ct, NULL, 0, got ? "came back longer than asked" :
                       "ended before its announced size");
        return (int)ISO_FILE_READ_ERROR;
    }
    return (int)got;
}

/* Up to n bytes of a range at ct->pos, from the read-ahead buffer, refilled as needed. */
static int ics_read_range(struct ic_content *ct, void *buf, size_t n)
{
    const struct esximg_content *c = &ct->f->content;
    if (!ct->ahead && !(ct->ahead = malloc(IC_RANGE_CHUNK))) {
        ic_stream_fail(ct, NULL, ENOMEM, NULL);
        return (int)ISO_OUT_OF_MEM;
    }
    if (ct->pos < ct->ahead_pos || ct->pos >= ct->ahead_pos + ct->ahead_len) {
        uint64_t left = ct->size - ct->pos;
        size_t want = left < IC_RANGE_CHUNK ? (size_t)left : IC_RANGE_CHUNK, done = 0;
        int e = esx_pread_full(ct->fd, ct->ahead, want, c->offset + ct->pos, &done);
        if (e || done == 0) {
            ic_stream_fail(ct, NULL, e, "shrank while it was written");
            return (int)ISO_FILE_READ_ERROR;
        }
        ct->ahead_pos = ct->pos;
        ct->ahead_len = done;
    }
    size_t at = (size_t)(ct->pos - ct->ahead_pos), have = ct->ahead_len - at;
    size_t take = n < have ? n : have;
    memcpy(buf, ct->ahead + at, take);
    return (int)take;
}

/* Called by libisofs' writer thread.  libisofs fills a failed file with zeros and goes on, so
 * the failure is recorded for the calling thread to report. */
static int ics_read(void *content, void *buf, size_t count)
{
    struct ic_content *ct = content;
    if (ct->pos >= ct->size)
        return 0;
    uint64_t left = ct->size - ct->pos;
    size_t n = count < left ? count : (size_t)left;
    if (n > INT_MAX)
        n = INT_MAX;
    if (ct->copied) {           /* a place holder: its bytes are copied in afterwards */
        memset(buf, 0, n);
        ct->pos += n;
        return (int)n;
    }
    int got = 0;
    const struct esximg_content *c = &ct->f->content;
    if (c->kind == ESXIMG_CONTENT_MEMORY) {
        memcpy(buf, (const uint8_t *)c->data + ct->pos, n);
        got = (int)n;
    } else if (c->kind == ESXIMG_CONTENT_RANGE) {
        if ((got = ics_read_range(ct, buf, n)) < 0)
            return got;
    } else if ((got = ics_read_stream(ct, buf, n)) < 0) {
        return got;
    }
    int rc = ic_digest_check(ct, buf, (size_t)got);
    if (rc < 0)
        return rc;
    ct->pos += (uint64_t)got;
    return got;
}

static const struct esx_isostream_ops ic_stream_ops = {
    .open = ics_open,
    .close = ics_close,
    .read = ics_read,
};

/* ---- the hasher thread ---- */

/* The sha-256 of one copied content, read from its file (no pass through libisofs), against
 * the one it must have. */
static int ic_hash_one(struct ic_hasher *h, const struct ic_content *ct, uint8_t *buf,
                       struct esximg_err *err)
{
    const struct esximg_content *c = &ct->f->content;
    struct esx_digest *d = NULL;
    int rc = esx_digest_new(ESX_SHA256, &d, err);
    (void)posix_fadvise(ct->fd, (off_t)c->offset, (off_t)ct->size, POSIX_FADV_SEQUENTIAL);
    for (uint64_t pos = 0; !rc && pos < ct->size; ) {
        if (atomic_load(&h->stop)) {
            rc = esximg_err_set(err, ESXIMG_EIO, "stopped");
            break;
        }
        uint64_t left = ct->size - pos;
        size_t want = left < IC_HASH_CHUNK ? (size_t)left : IC_HASH_CHUNK, got = 0;
        int e = esx_pread_full(ct->fd, buf, want, c->offset + pos, &got);
        if (e) {
            rc = esximg_err_sys(err, e, "cannot read the content of '%s'", ct->f->iso_path);
            esximg_err_file(err, c->path);
        } else if (got < want) {
            rc = ic_shrank(ct, err);
        } else {
            rc = esx_digest_update(d, buf, got, err);
        }
        pos += got;
    }
    char hex[65];
    if (!rc && !(rc = esx_digest_final_hex(d, hex, err)) && strcasecmp(hex, c->sha256) != 0)
        rc = ic_mismatch(ct, hex, err);
    esx_digest_free(d);
    return rc;
}

static void *ic_hash_main(void *arg)
{
    struct ic_hasher *h = arg;
    uint8_t *buf = malloc(IC_HASH_CHUNK);
    if (!buf)
        h->rc = esximg_err_set(&h->err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n && !h->rc; i++)
        if (h->ct[i].copied && h->ct[i].f->content.sha256)
            h->rc = ic_hash_one(h, &h->ct[i], buf, &h->err);
    free(buf);
    if (h->rc)
        atomic_store(&h->failed, true);
    return NULL;
}

/* Starts hashing the copied contents, before libisofs starts, so that the hash overlaps its
 * pass and the copy (it takes as long as both on its own).  Without a thread the contents are
 * hashed by ic_hash_finish. */
static void ic_hash_start(struct ic_ctx *x)
{
    struct ic_hasher *h = &x->hash;
    h->ct = x->ct;
    h->n = x->n;
    bool any = false;
    for (size_t i = 0; i < x->n; i++)
        any = any || (x->ct[i].copied && x->ct[i].f->content.sha256);
    if (!any) {
        h->finished = true;
        return;
    }
    h->started = pthread_create(&h->thread, NULL, ic_hash_main, h) == 0;
}

/* Waits for the hasher (cancel: asks it to give up first) and returns its result. */
static int ic_hash_finish(struct ic_hasher *h, bool cancel, struct esximg_err *err)
{
    if (!h->finished) {
        if (cancel)
            atomic_store(&h->stop, true);
        if (h->started)
            pthread_join(h->thread, NULL);
        else if (!cancel)
            ic_hash_main(h);
        h->finished = true;
    }
    if (h->rc && err)
        *err = h->err;
    return h->rc;
}

/* ---- the libisofs tree ---- */

static void ic_set_attrs(const struct ic_ctx *x, IsoNode *node, mode_t mode)
{
    time_t t = (time_t)x->o.mtime;
    iso_node_set_permissions(node, mode);
    iso_node_set_uid(node, 0);
    iso_node_set_gid(node, 0);
    iso_node_set_atime(node, t);
    iso_node_set_mtime(node, t);
    iso_node_set_ctime(node, t);
}

/* The directory `path` names up to its last '/', made with its parents when missing. */
static int ic_parent(struct ic_ctx *x, const char *path, IsoDir **parent, struct esximg_err *err)
{
    IsoDir *dir = iso_image_get_root(x->image);
    char name[ESX_MAX_PATH_BYTES];
    for (const char *p = path + 1;; ) {
        const char *end = strchr(p, '/');
        if (!end)
            break;
        size_t n = (size_t)(end - p);
        memcpy(name, p, n);
        name[n] = '\0';
        IsoNode *child = NULL;
        if (iso_dir_get_node(dir, name, &child) == 1) {
            if (iso_node_get_type(child) != LIBISO_DIR)
                return esximg_err_set(err, ESXIMG_EINVAL, "'%.*s' is not a directory",
                                      (int)(end - path), path);
        } else {
            IsoDir *made = NULL;
            int rc = iso_image_add_new_dir(x->image, dir, name, &made);
            if (rc < 0)
                return esx_iso_fail(err, rc, "cannot add a directory");
            ic_set_attrs(x, (IsoNode *)made, S_IFDIR | 0755);
            x->n_dirs++;
            child = (IsoNode *)made;
        }
        dir = (IsoDir *)child;
        p = end + 1;
    }
    *parent = dir;
    return 0;
}

static int ic_add_file(struct ic_ctx *x, struct ic_content *ct, struct esximg_err *err)
{
    IsoDir *dir = NULL;
    int rc = ic_parent(x, ct->f->iso_path, &dir, err);
    if (rc)
        return rc;
    IsoStream *stream = NULL;
    if ((rc = esx_isostream_new(&ic_stream_ops, ct, ct->size, ct->ino, IC_FS_ID, &stream, err)))
        return rc;
    IsoFile *file = NULL;
    rc = iso_image_add_new_file(x->image, dir, esx_path_base(ct->f->iso_path), stream, &file);
    if (rc < 0) {
        iso_stream_unref(stream);
        return esx_iso_fail(err, rc, "cannot add a file");
    }
    ic_set_attrs(x, (IsoNode *)file, S_IFREG | 0444);
    return 0;
}

static int ic_boot_setup(struct ic_ctx *x, struct esximg_err *err)
{
    if (!x->o.bios_boot)
        return 0;
    ElToritoBootImage *bios = NULL, *efi = NULL;
    int rc = iso_image_set_boot_image(x->image, x->o.bios_boot, ELTORITO_NO_EMUL,
                                      x->o.boot_catalog, &bios);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot set the BIOS boot image");
    el_torito_set_load_size(bios, IC_BIOS_LOAD_SECTORS);
    /* bit 0: patch the boot info table (ISOLINUX.BIN, esxi-formats.md §5.1) */
    if ((rc = el_torito_set_isolinux_options(bios, 1, 0)) < 0)
        return esx_iso_fail(err, rc, "cannot set the El Torito options");
    IsoNode *catalog = NULL;
    if (iso_image_path_to_node(x->image, x->o.boot_catalog, &catalog) == 1 && catalog)
        ic_set_attrs(x, catalog, S_IFREG | 0444);
    if (!x->o.efi_boot)
        return 0;
    if ((rc = iso_image_add_boot_image(x->image, x->o.efi_boot, ELTORITO_NO_EMUL, 0, &efi)) < 0)
        return esx_iso_fail(err, rc, "cannot add the UEFI boot image");
    el_torito_set_boot_platform_id(efi, 0xEF);
    /* the whole image, as mkisofs and xorriso -e count it; firmware reads the FAT by its BPB */
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->files[i].iso_path, x->o.efi_boot) == 0) {
            uint64_t sectors = (x->ct[i].size + 511) / 512;
            el_torito_set_load_size(efi, (int)(sectors > IC_MAX_LOAD_SECTORS ?
                                               IC_MAX_LOAD_SECTORS : sectors ? sectors : 1));
        }
    if ((rc = el_torito_set_isolinux_options(efi, 0, 0)) < 0)
        return esx_iso_fail(err, rc, "cannot set the El Torito options");
    return 0;
}

static int ic_build_tree(struct ic_ctx *x, struct esximg_err *err)
{
    int rc = iso_image_new(x->o.volume_id ? x->o.volume_id : "", &x->image);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot start an ISO image");
    iso_image_set_application_id(x->image, x->o.application_id ? x->o.application_id : "");
    iso_image_set_system_id(x->image, x->o.system_id ? x->o.system_id : "");
    iso_image_set_publisher_id(x->image, "");
    iso_image_set_data_preparer_id(x->image, "");
    ic_set_attrs(x, (IsoNode *)iso_image_get_root(x->image), S_IFDIR | 0755);
    for (size_t i = 0; i < x->n; i++)
        if ((rc = ic_add_file(x, &x->ct[i], err))) {
            esximg_err_prefix(err, "'%s': ", x->files[i].iso_path);
            return rc;
        }
    return ic_boot_setup(x, err);
}

/* ---- writing ---- */

/* VMware's form (esxi-formats.md §5.1): plain level 1, no Rock Ridge, Joliet or ISO 9660:1999,
 * every recording date o.mtime. */
static int ic_wopts(const struct ic_ctx *x, IsoWriteOpts **out, struct esximg_err *err)
{
    const struct esx_iso_layout plain = { .level = 1, .dir_rec_mtime = 1 };
    return esx_iso_wopts_new(&plain, x->o.mtime, out, err);
}

static int ic_pwrite(struct ic_ctx *x, const void *buf, size_t n, uint64_t off,
                     struct esximg_err *err)
{
    return esx_pwrite_output(x->out_fd, x->out_path, buf, n, off, err);
}

/* Progress over the whole call: taking the image from libisofs counts for the bytes it really
 * writes (all but the copied contents), copying for the rest. */
static void ic_progress(const struct ic_ctx *x)
{
    if (!x->o.progress)
        return;
    uint64_t written = x->out_size - x->copy_bytes, drained = x->done;
    if (x->copy_bytes && x->done < x->out_size)
        drained = (uint64_t)((double)x->done / (double)x->out_size * (double)written);
    if (drained > written)
        drained = written;
    x->o.progress(drained + x->copy_done, x->out_size, x->o.progress_arg);
}

static bool ic_all_zero(const uint8_t *buf, size_t n)
{
    return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

/* Takes the image from libisofs.  Its ring buffer reports a failed writer thread as an early
 * end, so the count and the final state are both checked.  The output is a new file of the
 * image's size: chunks of zeros (the copied contents' place holders, mostly) are left as
 * holes, which read as zeros. */
static int ic_sink(void *arg, const uint8_t *buf, size_t n, uint64_t done,
                   struct esximg_err *err)
{
    struct ic_ctx *x = arg;
    int rc = ic_all_zero(buf, n) ? 0 : ic_pwrite(x, buf, n, done, err);
    if (!rc) {
        x->done = done + n;
        ic_progress(x);
    }
    return rc;
}

static int ic_drain(struct ic_ctx *x, struct burn_source *bs, struct esximg_err *err)
{
    return esx_iso_drain(bs, x->out_size, "the image", ic_sink, x, err);
}

/* A content that failed while libisofs read it (libisofs wrote zeros in its place). */
static int ic_check_contents(const struct ic_ctx *x, struct esximg_err *err)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->ct[i].failed) {
            if (err)
                *err = x->ct[i].err;
            return x->ct[i].err.code ? (int)x->ct[i].err.code : ESXIMG_EIO;
        }
    return 0;
}

static int ic_write(struct ic_ctx *x, struct esximg_err *err)
{
    IsoWriteOpts *w = NULL;
    struct burn_source *bs = NULL;
    int rc = ic_wopts(x, &w, err);
    if (rc)
        return rc;
    int irc = iso_image_create_burn_source(x->image, w, &bs);
    iso_write_opts_free(w);
    if (irc < 0) {
        rc = ic_check_contents(x, err);
        return rc ? rc : esx_iso_fail(err, irc, "cannot start writing the image");
    }
    off_t size = bs->get_size(bs);
    if (size <= 0 || (uint64_t)size % IC_BLOCK) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "libisofs announced an image of %lld bytes",
                            (long long)size);
        goto out;
    }
    x->out_size = (uint64_t)size;
    if (ftruncate(x->out_fd, size) != 0) {
        rc = esximg_err_sys(err, errno, "cannot size the output");
        esximg_err_file(err, x->out_path);
        goto out;
    }
    if ((rc = ic_drain(x, bs, err)))
        goto out;
    esx_iso_burn_free(bs, false);
    bs = NULL;
    rc = ic_check_contents(x, err);
out:
    esx_iso_burn_free(bs, true);
    if (rc && ic_check_contents(x, NULL))
        rc = ic_check_contents(x, err);     /* the root cause, rather than libisofs' stop */
    return rc;
}

/* ---- checking the result ---- */

static const char *ic_id_or_empty(const char *id)
{
    return id ? id : "";
}

static int ic_verify_ids(const struct ic_ctx *x, const struct esximg_iso *out,
                         struct esximg_err *err)
{
    if (strcmp(out->volume_id, ic_id_or_empty(x->o.volume_id)) != 0 ||
        strcmp(out->application_id, ic_id_or_empty(x->o.application_id)) != 0 ||
        strcmp(out->system_id, ic_id_or_empty(x->o.system_id)) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "its ids ('%s', '%s', '%s') are not those "
                              "asked", out->volume_id, out->application_id, out->system_id);
    if (out->rockridge || out->joliet || out->iso1999 || (x->n && out->iso_level != 1))
        return esximg_err_set(err, ESXIMG_EFORMAT, "it is not plain ISO 9660 level 1");
    if ((uint64_t)out->volume_blocks * IC_BLOCK != x->out_size)
        return esximg_err_set(err, ESXIMG_EFORMAT, "it claims %" PRIu32 " blocks but holds %"
                              PRIu64 " bytes", out->volume_blocks, x->out_size);
    return 0;
}

static int ic_verify_boots(const struct ic_ctx *x, const struct esximg_iso *out,
                           struct esximg_err *err)
{
    size_t want = x->o.bios_boot ? 1u + (x->o.efi_boot != NULL) : 0u;
    if (out->n_boots != want || out->eltorito != (want > 0))
        return esximg_err_set(err, ESXIMG_EFORMAT, "it has %zu El Torito entries, %zu expected",
                              out->n_boots, want);
    if (!want)
        return 0;
    const struct esximg_iso_boot *b = &out->boots[0];
    if (b->platform_id != 0 || b->emulation != ESXIMG_ISO_NO_EMUL || !b->path ||
        strcmp(b->path, x->o.bios_boot) != 0 || !b->boot_info_table ||
        b->load_size != IC_BIOS_LOAD_SECTORS)
        return esximg_err_set(err, ESXIMG_EFORMAT, "its BIOS El Torito entry is not '%s', no "
                              "emulation, %d sectors, with a boot info table", x->o.bios_boot,
                              IC_BIOS_LOAD_SECTORS);
    if (!out->bootcat_path || strcmp(out->bootcat_path, x->o.boot_catalog) != 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "its boot catalog is not '%s'",
                              x->o.boot_catalog);
    if (want == 2 && (out->boots[1].platform_id != 0xEF || !out->boots[1].path ||
                      strcmp(out->boots[1].path, x->o.efi_boot) != 0 ||
                      out->boots[1].emulation != ESXIMG_ISO_NO_EMUL))
        return esximg_err_set(err, ESXIMG_EFORMAT, "its UEFI El Torito entry is not '%s', "
                              "platform 0xEF, no emulation", x->o.efi_boot);
    return 0;
}

/* Checks every file's record; keeps the extent of each copied content. */
static int ic_verify_entries(struct ic_ctx *x, const struct esximg_iso *out,
                             struct esximg_err *err)
{
    size_t want = x->n + x->n_dirs + (x->o.boot_catalog ? 1u : 0u);
    if (out->n_entries != want)
        return esximg_err_set(err, ESXIMG_EFORMAT, "it has %zu entries, %zu expected",
                              out->n_entries, want);
    uint64_t limit = x->o.max_dir_record_offset ? x->o.max_dir_record_offset
                                                : ESXIMG_ISO_MAX_DIR_RECORD_OFFSET;
    if (out->last_dir_record >= limit)
        return esximg_err_set(err, ESXIMG_ELIMIT, "directory '%s' has a record at byte %" PRIu64
                              ", at or beyond byte %" PRIu64 ": ESXi's UEFI loader keeps "
                              "directory record offsets in 32 bits", out->last_dir_record_dir,
                              out->last_dir_record, limit);
    for (size_t i = 0; i < x->n; i++) {
        const struct esximg_iso_entry *e = esximg_iso_find(out, x->files[i].iso_path);
        if (!e || strcmp(e->path, x->files[i].iso_path) != 0 || e->type != ESXIMG_ISO_FILE ||
            e->size != x->ct[i].size || e->extents > 1)
            return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' is %s", x->files[i].iso_path,
                                  e ? "recorded differently" : "missing");
        x->ct[i].lba = e->lba;
    }
    return 0;
}

static int ic_verify(struct ic_ctx *x, struct esximg_err *err)
{
    void *map = mmap(NULL, (size_t)x->out_size, PROT_READ, MAP_SHARED, x->out_fd, 0);
    if (map == MAP_FAILED) {
        int rc = esximg_err_sys(err, errno, "cannot map the output to check it");
        esximg_err_file(err, x->out_path);
        return rc;
    }
    struct esximg_iso *out = NULL;
    struct esximg_err e = {0};
    int rc = esximg_iso_open_memory(map, (size_t)x->out_size, NULL, &out, &e);
    if (rc)
        rc = esximg_err_set(err, (enum esximg_code)rc, "it does not read back: %s", e.msg);
    else if (!(rc = ic_verify_ids(x, out, err)) && !(rc = ic_verify_boots(x, out, err)))
        rc = ic_verify_entries(x, out, err);
    if (rc) {
        esximg_err_prefix(err, "written image failed its check: ");
        esximg_err_file(err, x->out_path);
    }
    esximg_iso_close(out);
    munmap(map, (size_t)x->out_size);
    return rc;
}

/* ---- copying the large contents in ---- */

static void *ic_flush_main(void *arg)
{
    struct ic_flusher *f = arg;
    uint64_t flushed = 0;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (f->copied == flushed && !f->end)
            pthread_cond_wait(&f->wake, &f->lock);
        if (f->end)
            break;              /* the commit's fsync writes the rest */
        flushed = f->copied;
        pthread_mutex_unlock(&f->lock);
        /* the whole file: only its dirty pages not yet under writeback are started; a
         * failure shows again at the commit's fsync */
        (void)sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Without a thread, the commit's fsync writes everything, as it would anyway. */
static void ic_flush_start(struct ic_flusher *f, int fd)
{
    f->fd = fd;
    if (pthread_mutex_init(&f->lock, NULL) != 0)
        return;
    if (pthread_cond_init(&f->wake, NULL) != 0) {
        pthread_mutex_destroy(&f->lock);
        return;
    }
    f->started = pthread_create(&f->thread, NULL, ic_flush_main, f) == 0;
    if (!f->started) {
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
    }
}

static void ic_flush_more(struct ic_flusher *f, uint64_t n)
{
    if (!f->started)
        return;
    pthread_mutex_lock(&f->lock);
    f->copied += n;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
}

static void ic_flush_finish(struct ic_flusher *f)
{
    if (!f->started)
        return;
    pthread_mutex_lock(&f->lock);
    f->end = true;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    f->started = false;
}

static int ic_copy_one(struct ic_ctx *x, const struct ic_content *ct, struct esximg_err *err)
{
    const struct esximg_content *c = &ct->f->content;
    uint64_t at = (uint64_t)ct->lba * IC_BLOCK, end = 0;
    if (ct->lba == 0 || esx_add_u64(at, ct->size, &end) || end > x->out_size) {
        int rc = esximg_err_set(err, ESXIMG_EFORMAT, "written image failed its check: '%s' has "
                                "no extent inside the image", ct->f->iso_path);
        esximg_err_file(err, x->out_path);
        return rc;
    }
    for (uint64_t done = 0; done < ct->size; ) {
        if (atomic_load(&x->hash.failed))
            return 0;           /* ic_hash_finish reports it */
        uint64_t left = ct->size - done, got = 0;
        bool reading = false;
        int e = esx_copy_range(ct->fd, c->offset + done, x->out_fd, at + done,
                               left < IC_COPY_PIECE ? left : IC_COPY_PIECE, &got, &reading);
        if (e) {
            int rc = esximg_err_sys(err, e, reading ? "cannot read the content of '%s'" :
                                    "cannot copy the content of '%s' into the output",
                                    ct->f->iso_path);
            esximg_err_file(err, reading ? c->path : x->out_path);
            return rc;
        }
        if (got == 0)
            return ic_shrank(ct, err);
        done += got;
        x->copy_done += got;
        ic_flush_more(&x->flush, got);
        ic_progress(x);
    }
    return 0;
}

/* The hasher read a copied file apart from the copy, so a file rewritten in between could
 * give the image bytes other than those hashed: its size and dates must be those it had when
 * it was opened.  A writer that restores the modification time, or writes within one tick of
 * the file system's clock without changing the size, goes unnoticed. */
static int ic_check_unchanged(const struct ic_ctx *x, struct esximg_err *err)
{
    for (size_t i = 0; i < x->n; i++) {
        const struct ic_content *ct = &x->ct[i];
        struct stat st;
        if (!ct->copied)
            continue;
        if (fstat(ct->fd, &st) == 0 && st.st_size == ct->st.st_size &&
            st.st_mtim.tv_sec == ct->st.st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == ct->st.st_mtim.tv_nsec &&
            st.st_ctim.tv_sec == ct->st.st_ctim.tv_sec &&
            st.st_ctim.tv_nsec == ct->st.st_ctim.tv_nsec)
            continue;
        int rc = esximg_err_set(err, ESXIMG_EIO, "content of '%s' changed while it was written",
                                ct->f->iso_path);
        esximg_err_file(err, ct->f->content.path);
        return rc;
    }
    return 0;
}

/* After libisofs: the copied contents into the extents the read back found, then the
 * hasher's verdict on them. */
static int ic_copy(struct ic_ctx *x, struct esximg_err *err)
{
    int rc = 0;
    if (x->copy_bytes)
        ic_flush_start(&x->flush, x->out_fd);
    for (size_t i = 0; i < x->n && !rc; i++)
        if (x->ct[i].copied)
            rc = ic_copy_one(x, &x->ct[i], err);
    ic_flush_finish(&x->flush);
    if (rc || (rc = ic_hash_finish(&x->hash, false, err)))
        return rc;
    return ic_check_unchanged(x, err);
}

/* ---- the entry point ---- */

static void ic_ctx_free(struct ic_ctx *x)
{
    ic_hash_finish(&x->hash, true, NULL);   /* before the contents it reads */
    if (x->image)
        iso_image_unref(x->image);  /* before the contents its streams point at */
    for (size_t i = 0; x->ct && i < x->n; i++) {
        if (x->ct[i].fd >= 0)
            close(x->ct[i].fd);
        if (x->ct[i].f->content.kind == ESXIMG_CONTENT_STREAM)
            ic_stream_close_caller(&x->ct[i]);
        esx_digest_free(x->ct[i].digest);
        free(x->ct[i].ahead);
    }
    free(x->ct);
    esximg_outfile_abort(x->of);
}

int esximg_iso_create(const struct esximg_isoc_file *files, size_t n,
                      const struct esximg_isoc_opts *opts, const char *out_path,
                      struct esximg_err *err)
{
    struct esximg_err e = {0};
    struct ic_ctx x = {.out_path = out_path, .files = files, .n = n, .out_fd = -1};
    if (opts)
        x.o = *opts;
    int rc = 0;
    if (!out_path || (n && !files)) {
        rc = esximg_err_set(&e, ESXIMG_EINVAL, "no output or no files");
        goto out;
    }
    if ((rc = esx_iso_lib_ready(&e)) || (rc = ic_check_files(&x, &e)))
        goto out;
    ic_hash_start(&x);
    if ((rc = ic_build_tree(&x, &e)))
        goto out;
    if ((rc = esximg_outfile_open(out_path, x.o.mode ? x.o.mode : 0644, &x.of, &e)))
        goto out;
    x.out_fd = esximg_outfile_fd(x.of);
    if ((rc = ic_write(&x, &e)) || (rc = ic_verify(&x, &e)) || (rc = ic_copy(&x, &e)))
        goto out;
    if (x.o.hybrid && (rc = esximg_hybrid_apply(x.o.hybrid, x.out_fd, NULL, &e))) {
        esximg_err_file(&e, out_path);
        goto out;
    }
    rc = esximg_outfile_commit(x.of, &e);
    x.of = NULL;
out:
    if (rc && e.file[0] == '\0' && out_path)
        esximg_err_file(&e, out_path);
    ic_ctx_free(&x);
    if (rc && err)
        *err = e;
    return rc;
}
