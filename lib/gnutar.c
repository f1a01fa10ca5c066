/* gnutar.c: the one GNU tar writer of libesximg (IMGDB.TGZ, `tgz` payloads).
 *
 * libarchive's gnutar format writes the GNU "old" header (magic "ustar  \0") that VMware's own
 * tgz files carry, with no pax headers.  The members are written in the caller's order with
 * owner root (0/0, "root"/"root") and one mtime, so the same members give the same bytes. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "esx_private.h"

static la_ssize_t gnutar_write_cb(struct archive *a, void *client, const void *buf, size_t n)
{
    (void)a;
    struct esx_buf *b = client;
    return esx_buf_append(b, buf, n, NULL) ? -1 : (la_ssize_t)n;
}

static const char *gnutar_error(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "";
}

static int gnutar_fill(struct archive_entry *e, const struct esx_tar_member *m, int64_t mtime,
                       struct esximg_err *err)
{
    bool is_dir = m->type == ESX_TAR_DIR;
    size_t len = strlen(m->path);
    if (len + (is_dir ? 1 : 0) > ESX_TAR_NAME_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': name longer than %u bytes",
                              m->path, ESX_TAR_NAME_MAX);
    if (m->type == ESX_TAR_SYMLINK && (!m->link || strlen(m->link) > ESX_TAR_NAME_MAX))
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': link target missing or "
                              "longer than %u bytes", m->path, ESX_TAR_NAME_MAX);
    char name[ESX_TAR_NAME_MAX + 2];
    snprintf(name, sizeof name, "%s%s", m->path, is_dir ? "/" : "");
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, name);
    if (m->type == ESX_TAR_SYMLINK) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_copy_symlink(e, m->link);
    } else {
        archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    }
    archive_entry_set_perm(e, (mode_t)(m->mode & 07777));
    archive_entry_set_size(e, m->type == ESX_TAR_FILE ? (la_int64_t)m->len : 0);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_copy_uname(e, "root");
    archive_entry_copy_gname(e, "root");
    return 0;
}

static int gnutar_member(struct archive *a, struct archive_entry *e,
                         const struct esx_tar_member *m, int64_t mtime, struct esximg_err *err)
{
    int rc = gnutar_fill(e, m, mtime, err);
    if (rc)
        return rc;
    if (archive_write_header(a, e) != ARCHIVE_OK)
        return esximg_err_set(err, ESXIMG_EIO, "member '%s': cannot write the header: %s",
                              m->path, gnutar_error(a));
    if (m->type == ESX_TAR_FILE && m->len &&
        archive_write_data(a, m->data, m->len) != (la_ssize_t)m->len)
        return esximg_err_set(err, ESXIMG_EIO, "member '%s': cannot write the data: %s",
                              m->path, gnutar_error(a));
    return 0;
}

int esx_gnutar_write(const struct esx_tar_member *members, size_t count, int64_t mtime,
                     struct esx_buf *out, struct esximg_err *err)
{
    if (mtime < 0 || mtime > ESX_TAR_MTIME_MAX)
        return esximg_err_set(err, ESXIMG_EINVAL, "mtime %lld does not fit a tar header",
                              (long long)mtime);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    int rc = 0;
    if (!a || !e) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    if (archive_write_set_format_gnutar(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_open(a, out, NULL, gnutar_write_cb, NULL) != ARCHIVE_OK) {
        rc = esximg_err_set(err, ESXIMG_EIO, "cannot start the tar writer: %s",
                            gnutar_error(a));
        goto out;
    }
    for (size_t i = 0; i < count && !rc; i++)
        rc = gnutar_member(a, e, &members[i], mtime, err);
    if (!rc && archive_write_close(a) != ARCHIVE_OK)
        rc = esximg_err_set(err, ESXIMG_EIO, "cannot finish the tar: %s", gnutar_error(a));
out:
    archive_entry_free(e);
    if (a)
        archive_write_free(a);
    return rc;
}
