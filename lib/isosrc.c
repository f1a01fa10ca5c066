/* isosrc.c: the libisofs glue the reader and the two writers share: the block source libisofs
 * reads an ISO image through (iso.c, isowrite.c), and the class of the content streams the
 * writers hand it (isowrite.c, isocreate.c).
 *
 * Blocks come from a file descriptor or a caller's buffer.  A failed read is recorded on the
 * source (which block, which errno, or past the end) because libisofs only answers with a
 * generic code: the reader turns the record into a message in our words. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "esximg/iso.h"
#include "esx_private.h"

bool esx_isosrc_read(struct esx_isosrc *src, uint32_t lba, uint8_t *block)
{
    uint64_t off = (uint64_t)lba * ESXIMG_ISO_BLOCK;
    int read_errno = 0;
    if (off > src->len || src->len - off < ESXIMG_ISO_BLOCK)
        goto failed;
    if (src->mem) {
        memcpy(block, src->mem + off, ESXIMG_ISO_BLOCK);
        return true;
    }
    size_t got = 0;
    read_errno = esx_pread_full(src->fd, block, ESXIMG_ISO_BLOCK, off, &got);
    if (!read_errno && got == ESXIMG_ISO_BLOCK)
        return true;
failed:
    src->failed = true;
    src->failed_lba = lba;
    src->failed_errno = read_errno;
    return false;
}

static int isosrc_open(IsoDataSource *ds)
{
    (void)ds;
    return 1;
}

static int isosrc_close(IsoDataSource *ds)
{
    (void)ds;
    return 1;
}

static int isosrc_read_block(IsoDataSource *ds, uint32_t lba, uint8_t *buffer)
{
    return esx_isosrc_read(ds->data, lba, buffer) ? 1 : (int)ISO_DATA_SOURCE_MISHAP;
}

static void isosrc_free(IsoDataSource *ds)
{
    esx_isosrc_free(ds->data);
}

void esx_isosrc_free(struct esx_isosrc *src)
{
    if (src && src->owns_fd && src->fd >= 0)
        close(src->fd);
    free(src);
}

int esx_isosrc_wrap(struct esx_isosrc *src, struct iso_data_source **out,
                    struct esximg_err *err)
{
    IsoDataSource *ds = calloc(1, sizeof *ds);
    if (!ds) {
        esx_isosrc_free(src);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    ds->version = 0;
    ds->refcount = 1;
    ds->open = isosrc_open;
    ds->close = isosrc_close;
    ds->read_block = isosrc_read_block;
    ds->free_data = isosrc_free;
    ds->data = src;
    *out = ds;
    return 0;
}

bool esx_iso_is_dchar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool esx_iso_name_parts(const char *name, size_t len, bool dir, size_t *base, size_t *ext)
{
    bool dot = false;
    *base = *ext = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.' && !dot && !dir) {
            dot = true;
            continue;
        }
        if (!esx_iso_is_dchar(name[i]))
            return false;
        if (dot)
            (*ext)++;
        else
            (*base)++;
    }
    return true;
}

bool esx_iso_level1_name(const char *name, size_t len, bool dir)
{
    size_t base, ext;
    return esx_iso_name_parts(name, len, dir, &base, &ext) && base >= 1 && base <= 8 &&
           ext <= 3;
}

int esx_iso_path_check(const char *path, esx_iso_name_check each, struct esximg_err *err)
{
    size_t len = strnlen(path, ESX_MAX_PATH_BYTES);
    if (len >= ESX_MAX_PATH_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "path longer than %u bytes",
                              ESX_MAX_PATH_BYTES);
    if (path[0] != '/')
        return esximg_err_set(err, ESXIMG_EINVAL, "path '%s' is not absolute", path);
    unsigned depth = 0;
    for (const char *p = path + 1;; ) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int rc = each(path, p, n, end != NULL, err);
        if (rc)
            return rc;
        if (++depth > ESX_MAX_ISO_DEPTH)
            return esximg_err_set(err, ESXIMG_ELIMIT, "path '%s' is nested deeper than %u",
                                  path, ESX_MAX_ISO_DEPTH);
        if (!end)
            return 0;
        p = end + 1;
    }
}

int esx_iso_fail(struct esximg_err *err, int code, const char *what)
{
    const char *why = iso_error_to_msg(code);
    if (code == (int)ISO_OUT_OF_MEM)
        return esximg_err_set(err, ESXIMG_ENOMEM, "%s: out of memory", what);
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s: %s", what, why ? why : "libisofs error");
}

/* ---- the writers' content streams ---- */

struct isostream {
    const struct esx_isostream_ops *ops;
    void *content;
    uint64_t size;
    ino_t ino;
    unsigned int fs_id;
};

static int isostream_open(IsoStream *s)
{
    const struct isostream *st = s->data;
    return st->ops->open(st->content);
}

static int isostream_close(IsoStream *s)
{
    const struct isostream *st = s->data;
    return st->ops->close(st->content);
}

static off_t isostream_get_size(IsoStream *s)
{
    const struct isostream *st = s->data;
    return (off_t)st->size;
}

static int isostream_read(IsoStream *s, void *buf, size_t count)
{
    const struct isostream *st = s->data;
    return st->ops->read(st->content, buf, count);
}

static int isostream_is_repeatable(IsoStream *s)
{
    (void)s;
    return 1;
}

static void isostream_get_id(IsoStream *s, unsigned int *fs_id, dev_t *dev_id, ino_t *ino_id)
{
    const struct isostream *st = s->data;
    *fs_id = st->fs_id;
    *dev_id = 0;
    *ino_id = st->ino;
}

static void isostream_free(IsoStream *s)
{
    free(s->data);              /* the content itself belongs to the writer */
}

static int isostream_update_size(IsoStream *s)
{
    (void)s;
    return 1;
}

static IsoStream *isostream_get_input_stream(IsoStream *s, int flag)
{
    (void)s;
    (void)flag;
    return NULL;
}

static int isostream_cmp_ino(IsoStream *a, IsoStream *b)
{
    ino_t ia = ((const struct isostream *)a->data)->ino;
    ino_t ib = ((const struct isostream *)b->data)->ino;
    return ia < ib ? -1 : ia > ib;
}

static IsoStreamIface isostream_class = {
    .version = 3,
    .type = {'u', 's', 'e', 'r'},
    .open = isostream_open,
    .close = isostream_close,
    .get_size = isostream_get_size,
    .read = isostream_read,
    .is_repeatable = isostream_is_repeatable,
    .get_id = isostream_get_id,
    .free = isostream_free,
    .update_size = isostream_update_size,
    .get_input_stream = isostream_get_input_stream,
    .cmp_ino = isostream_cmp_ino,
};

int esx_isostream_new(const struct esx_isostream_ops *ops, void *content, uint64_t size,
                      ino_t ino, unsigned int fs_id, struct iso_stream **out,
                      struct esximg_err *err)
{
    IsoStream *stream = calloc(1, sizeof *stream);
    struct isostream *st = calloc(1, sizeof *st);
    if (!stream || !st) {
        free(stream);
        free(st);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    *st = (struct isostream){.ops = ops, .content = content, .size = size, .ino = ino,
                             .fs_id = fs_id};
    stream->class = &isostream_class;
    stream->refcount = 1;
    stream->data = st;
    *out = stream;
    return 0;
}

/* ---- the writer options and the end of a burn source, shared by both writers */

int esx_iso_wopts_new(const struct esx_iso_layout *l, int64_t t, IsoWriteOpts **out,
                      struct esximg_err *err)
{
    IsoWriteOpts *w = NULL;
    int rc = iso_write_opts_new(&w, 0);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot set up the ISO writer");
    char no_uuid[1] = "";
    if ((rc = iso_write_opts_set_iso_level(w, l->level)) < 0 ||
        (rc = iso_write_opts_set_rockridge(w, l->rockridge)) < 0 ||
        (rc = iso_write_opts_set_joliet(w, l->joliet)) < 0 ||
        (rc = iso_write_opts_set_iso1999(w, l->iso1999)) < 0 ||
        (rc = iso_write_opts_set_relaxed_vol_atts(w, 1)) < 0 ||
        (rc = iso_write_opts_set_aaip(w, 0)) < 0 ||
        (rc = iso_write_opts_set_hardlinks(w, 0)) < 0 ||
        (rc = iso_write_opts_set_record_md5(w, 0, 0)) < 0 ||
        (rc = iso_write_opts_set_sort_files(w, 0)) < 0 ||
        (rc = iso_write_opts_set_dir_rec_mtime(w, l->dir_rec_mtime)) < 0 ||
        (rc = iso_write_opts_set_replace_timestamps(w, 0)) < 0 ||
        (rc = iso_write_opts_set_always_gmt(w, 1)) < 0 ||
        (rc = iso_write_opts_set_pvd_times(w, (time_t)t, (time_t)t, 0, 0, no_uuid)) < 0) {
        iso_write_opts_free(w);
        return esx_iso_fail(err, rc, "cannot set up the ISO writer");
    }
    *out = w;
    return 0;
}

void esx_iso_burn_free(struct burn_source *bs, bool cancel)
{
    if (!bs)
        return;
    if (cancel && bs->version >= 1 && bs->cancel)
        bs->cancel(bs);
    bs->free_data(bs);  /* waits for libisofs' writer thread */
    free(bs);
}

#define ISOSRC_DRAIN_CHUNK ((size_t)256 << 10)    /* bytes taken from libisofs at a time */

int esx_iso_drain(struct burn_source *bs, uint64_t size, const char *what, esx_iso_sink sink,
                  void *arg, struct esximg_err *err)
{
    uint8_t *buf = malloc(ISOSRC_DRAIN_CHUNK);
    if (!buf)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = 0;
    uint64_t done = 0;
    while (done < size) {
        uint64_t left = size - done;
        int want = left < ISOSRC_DRAIN_CHUNK ? (int)left : (int)ISOSRC_DRAIN_CHUNK;
        int got = bs->read_xt(bs, buf, want);
        if (got != want) {
            rc = esximg_err_set(err, ESXIMG_EIO, "libisofs stopped after %" PRIu64 " of %"
                                PRIu64 " bytes of %s", done, size, what);
            goto out;
        }
        if ((rc = sink(arg, buf, (size_t)got, done, err)))
            goto out;
        done += (uint64_t)got;
    }
    int extra = bs->read_xt(bs, buf, ESXIMG_ISO_BLOCK);
    int state = iso_ring_buffer_get_status(bs, NULL, NULL);
    if (extra != 0 || state != 2)
        rc = esximg_err_set(err, ESXIMG_EIO, "libisofs failed writing %s (state %d, %d bytes "
                            "more)", what, state, extra);
out:
    free(buf);
    return rc;
}
