/* isosrc.c: the block source libisofs reads an ISO image through, for the reader (iso.c) and
 * the writer (isowrite.c).
 *
 * Blocks come from a file descriptor or a caller's buffer.  A failed read is recorded on the
 * source (which block, which errno, or past the end) because libisofs only answers with a
 * generic code: the reader turns the record into a message in our words. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
