/* io.c: the I/O primitives behind esximg/io.h: whole-file reads, and outputs written through a
 * temporary file and a rename. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/io.h"

/* One call moves at most this much: read and write may refuse counts above SSIZE_MAX, and Linux
 * moves at most about 2 GiB at once anyway. */
#define IO_CALL_MAX ((size_t)1 << 30)
#define IO_COPY_BUF ((size_t)1 << 20)      /* esx_copy_range when the kernel cannot copy */

/* off < 0: at the file position. */
static int io_read_loop(int fd, uint8_t *buf, size_t n, int64_t off, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < IO_CALL_MAX ? n - done : IO_CALL_MAX;
        ssize_t r = off < 0 ? read(fd, buf + done, want) :
                    pread(fd, buf + done, want, (off_t)((uint64_t)off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *got = done;
            return errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

static int io_write_loop(int fd, const uint8_t *buf, size_t n, int64_t off)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < IO_CALL_MAX ? n - done : IO_CALL_MAX;
        ssize_t put = off < 0 ? write(fd, buf + done, want) :
                      pwrite(fd, buf + done, want, (off_t)((uint64_t)off + done));
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0)
            return errno;
        if (put == 0)
            return ENOSPC;
        done += (size_t)put;
    }
    return 0;
}

int esx_pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
    if (off > INT64_MAX)
        return EINVAL;
    return io_read_loop(fd, buf, n, (int64_t)off, got);
}

int esx_read_full(int fd, void *buf, size_t n, size_t *got)
{
    return io_read_loop(fd, buf, n, -1, got);
}

int esx_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
    if (off > INT64_MAX)
        return EINVAL;
    return io_write_loop(fd, buf, n, (int64_t)off);
}

int esx_pwrite_output(int fd, const char *path, const void *buf, size_t n, uint64_t off,
                      struct esximg_err *err)
{
    int e = esx_pwrite_full(fd, buf, n, off);
    if (!e)
        return 0;
    int rc = esximg_err_sys(err, e, "cannot write the output");
    esximg_err_file(err, path);
    return rc;
}

int esx_write_full(int fd, const void *buf, size_t n)
{
    return io_write_loop(fd, buf, n, -1);
}

/* copy_file_range errors that mean "not between these files" (other file systems, kernels
 * without it, special files) rather than a failed transfer: the copy goes on by read and write. */
static bool io_kernel_refused(int e)
{
    return e == ENOSYS || e == EXDEV || e == EINVAL || e == EOPNOTSUPP || e == ETXTBSY ||
           e == EPERM;
}

/* The read and write copy, through a buffer of IO_COPY_BUF bytes. */
static int io_copy_by_buffer(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off,
                             uint64_t n, uint64_t *got, bool *reading)
{
    uint8_t *buf = malloc(IO_COPY_BUF);
    if (!buf)
        return ENOMEM;
    int e = 0;
    uint64_t done = 0;
    while (done < n) {
        size_t want = n - done < IO_COPY_BUF ? (size_t)(n - done) : IO_COPY_BUF, in = 0;
        if ((e = esx_pread_full(in_fd, buf, want, in_off + done, &in))) {
            *reading = true;
            break;
        }
        if (in && (e = esx_pwrite_full(out_fd, buf, in, out_off + done)))
            break;
        done += in;
        if (in < want)
            break;
    }
    free(buf);
    *got = done;
    return e;
}

int esx_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off, uint64_t n,
                   uint64_t *got, bool *reading)
{
    *got = 0;
    *reading = false;
    if (in_off > INT64_MAX || out_off > INT64_MAX || n > INT64_MAX - in_off ||
        n > INT64_MAX - out_off)
        return EINVAL;
    loff_t in_pos = (loff_t)in_off, out_pos = (loff_t)out_off;
    while ((uint64_t)(in_pos - (loff_t)in_off) < n) {
        uint64_t left = n - (uint64_t)(in_pos - (loff_t)in_off);
        size_t want = left < IO_CALL_MAX ? (size_t)left : IO_CALL_MAX;
        ssize_t moved = copy_file_range(in_fd, &in_pos, out_fd, &out_pos, want, 0);
        if (moved < 0 && errno == EINTR)
            continue;
        if (moved < 0 && io_kernel_refused(errno)) {
            uint64_t done = (uint64_t)(in_pos - (loff_t)in_off), rest = 0;
            int e = io_copy_by_buffer(in_fd, (uint64_t)in_pos, out_fd, (uint64_t)out_pos,
                                      n - done, &rest, reading);
            *got = done + rest;
            return e;
        }
        if (moved < 0) {
            *got = (uint64_t)(in_pos - (loff_t)in_off);
            return errno;
        }
        if (moved == 0)
            break;
    }
    *got = (uint64_t)(in_pos - (loff_t)in_off);
    return 0;
}

/* An input opened for reading, with what fstat says of it; a directory is refused.  *fd is
 * -1 when the open failed, else the caller closes it. */
static int io_open_input(const char *path, int *fd, struct stat *st, struct esximg_err *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return esximg_err_sys(err, errno, "cannot open");
    if (fstat(*fd, st) != 0)
        return esximg_err_sys(err, errno, "cannot stat");
    if (S_ISDIR(st->st_mode))
        return esximg_err_set(err, ESXIMG_EINVAL, "is a directory");
    return 0;
}

int esx_file_read(const char *path, uint64_t max, uint8_t **data, size_t *len,
                  struct esximg_err *err)
{
    uint8_t *bytes = NULL;
    struct stat st;
    int fd = -1;
    int rc = io_open_input(path, &fd, &st, err);
    if (rc)
        goto out;
    if (max == 0)
        max = ESX_MAX_FILE_BYTES;
    /* read by chunks: st_size is a hint only (pipes, files that change under us) */
    size_t used = 0, cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    if (cap > max + 1)
        cap = (size_t)max + 1;
    bytes = malloc(cap);
    if (!bytes) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading %zu bytes", cap);
        goto out;
    }
    for (;;) {
        if (used == cap) {
            if (cap > max) {
                rc = esximg_err_set(err, ESXIMG_ELIMIT, "file is larger than %llu bytes",
                                    (unsigned long long)max);
                goto out;
            }
            size_t grown_cap = cap * 2 > max + 1 ? (size_t)max + 1 : cap * 2;
            uint8_t *grown = realloc(bytes, grown_cap);
            if (!grown) {
                rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory reading the file");
                goto out;
            }
            bytes = grown;
            cap = grown_cap;
        }
        size_t want = cap - used, got = 0;
        int e = esx_read_full(fd, bytes + used, want, &got);
        if (e) {
            rc = esximg_err_sys(err, e, "cannot read");
            goto out;
        }
        used += got;
        if (got < want)
            break;
    }
    if (used > max) {
        rc = esximg_err_set(err, ESXIMG_ELIMIT, "file is larger than %llu bytes",
                            (unsigned long long)max);
        goto out;
    }
    *data = bytes;
    *len = used;
    bytes = NULL;
out:
    if (rc)
        esximg_err_file(err, path);
    free(bytes);
    if (fd >= 0)
        close(fd);
    return rc;
}

int esximg_file_read(const char *path, uint64_t max_bytes, uint8_t **data, size_t *len,
                     struct esximg_err *err)
{
    return esx_file_read(path, max_bytes, data, len, err);
}

int esximg_file_size(const char *path, uint64_t max_bytes, uint64_t *size,
                     struct esximg_err *err)
{
    struct stat st;
    int fd = -1;
    int rc = io_open_input(path, &fd, &st, err);
    uint64_t max = max_bytes ? max_bytes : ESX_MAX_FILE_BYTES;
    if (!rc && !S_ISREG(st.st_mode))
        rc = esximg_err_set(err, ESXIMG_EINVAL, "is not a regular file");
    if (!rc && (uint64_t)st.st_size > max)
        rc = esximg_err_set(err, ESXIMG_ELIMIT, "file is larger than %llu bytes",
                            (unsigned long long)max);
    if (fd >= 0)
        close(fd);
    if (rc)
        esximg_err_file(err, path);
    else
        *size = (uint64_t)st.st_size;
    return rc;
}

struct esximg_outfile {
    int fd;
    char *target;
    char *tmp;
    unsigned mode;
};

int esximg_outfile_open(const char *path, unsigned mode, struct esximg_outfile **out,
                        struct esximg_err *err)
{
    if (!path || !*path || strcmp(path, "-") == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "no output file name");
    struct esximg_outfile *of = calloc(1, sizeof *of);
    if (!of)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    of->fd = -1;
    of->mode = mode ? mode : 0644;
    of->target = esx_strdup(path);
    /* beside the target, so that the rename stays on one file system */
    char *copy = esx_strdup(path);
    const char *dir = copy ? dirname(copy) : NULL;
    if (of->target && dir) {
        size_t n = strlen(dir) + strlen(esx_path_base(path)) + 16;
        of->tmp = malloc(n);
        if (of->tmp)
            snprintf(of->tmp, n, "%s/.%s.XXXXXX", dir, esx_path_base(path));
    }
    free(copy);
    if (!of->tmp) {
        esximg_outfile_abort(of);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    of->fd = mkostemp(of->tmp, O_CLOEXEC);
    if (of->fd < 0) {
        int e = errno;
        free(of->tmp);
        of->tmp = NULL;
        esximg_outfile_abort(of);
        int rc = esximg_err_sys(err, e, "cannot create a temporary file beside the output");
        esximg_err_file(err, path);
        return rc;
    }
    *out = of;
    return 0;
}

int esximg_outfile_fd(const struct esximg_outfile *of)
{
    return of->fd;
}

int esximg_outfile_write(struct esximg_outfile *of, const void *data, size_t len,
                         struct esximg_err *err)
{
    int e = esx_write_full(of->fd, data, len);
    if (e) {
        int rc = esximg_err_sys(err, e, "cannot write");
        esximg_err_file(err, of->target);
        return rc;
    }
    return 0;
}

static void outfile_sync_dir(const char *target)
{
    char *copy = esx_strdup(target);
    if (!copy)
        return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(copy);
}

int esximg_outfile_commit(struct esximg_outfile *of, struct esximg_err *err)
{
    int rc = 0;
    /* mkostemp made it 0600; give it the mode asked for, less the umask */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(of->fd, (mode_t)of->mode & ~mask) != 0)
        rc = esximg_err_sys(err, errno, "cannot set the mode of the output");
    else if (fsync(of->fd) != 0)
        rc = esximg_err_sys(err, errno, "cannot flush the output to disk");
    else if (close(of->fd) != 0) {
        of->fd = -1;
        rc = esximg_err_sys(err, errno, "cannot close the output");
    } else {
        of->fd = -1;
        if (rename(of->tmp, of->target) != 0)
            rc = esximg_err_sys(err, errno, "cannot rename the temporary file to the output");
        else {
            free(of->tmp);
            of->tmp = NULL;
            outfile_sync_dir(of->target);
        }
    }
    if (rc)
        esximg_err_file(err, of->target);
    esximg_outfile_abort(of);
    return rc;
}

void esximg_outfile_abort(struct esximg_outfile *of)
{
    if (!of)
        return;
    if (of->fd >= 0)
        close(of->fd);
    if (of->tmp)
        unlink(of->tmp);
    free(of->tmp);
    free(of->target);
    free(of);
}

int esximg_file_write(const char *path, const void *data, size_t len, unsigned mode,
                      struct esximg_err *err)
{
    struct esximg_outfile *of;
    int rc = esximg_outfile_open(path, mode, &of, err);
    if (rc)
        return rc;
    rc = esximg_outfile_write(of, data, len, err);
    if (rc) {
        esximg_outfile_abort(of);
        return rc;
    }
    return esximg_outfile_commit(of, err);
}
