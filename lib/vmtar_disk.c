/* vmtar_disk.c: extraction of a vmtar archive to disk, kept apart from the format (vmtar.c)
 * as libarchive keeps archive_write_disk apart from its formats.
 *
 * Everything is opened relative to the target folder with the *at calls and O_NOFOLLOW, so no
 * symlink is followed and nothing is written outside the folder, whatever the names and link
 * targets of the archive say. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "esximg/vmtar.h"
#include "vmtar_private.h"

int esximg_vmtar_check_link(const char *name, const char *target, struct esximg_err *err)
{
    if (target[0] == '\0')
        return esximg_err_set(err, ESXIMG_EUNSAFE, "entry '%s': empty link target", name);
    if (target[0] == '/')
        return esximg_err_set(err, ESXIMG_EUNSAFE, "entry '%s': link target '%s' is absolute",
                              name, target);
    /* depth of the link's directory: its name's components but the last */
    long depth = 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n && !(n == 1 && p[0] == '.'))
            depth++;
        p += n;
        while (*p == '/')
            p++;
    }
    depth--;
    bool descended = false;
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            /* ".." after a name would climb out of wherever that name (maybe a link) led */
            if (descended || --depth < 0)
                return esximg_err_set(err, ESXIMG_EUNSAFE, "entry '%s': link target '%s' "
                                      "leaves the extracted tree", name, target);
        } else if (n && !(n == 1 && p[0] == '.')) {
            descended = true;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return 0;
}

struct vmtar_xctx {
    const struct esximg_vmtar *v;
    const struct esximg_vmtar_xopts *o;
    const char *dir;
    int rootfd;
    bool *selected;            /* per entry of v */
    size_t next;               /* streaming: the entries before this one are written */
    bool unordered;            /* streaming: the contents are not in the headers' order */
    int fd;                    /* streaming: the file being written, else -1 */
    uint64_t archive_len;      /* streaming: the decompressed length, measured first */
    uint64_t done, total;
};

/* A copy of `name` cut into components, "." and empty ones dropped. Returns the count. */
static size_t vmtar_components(char *copy, char **comps, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, "/", &save); tok && n < max;
         tok = strtok_r(NULL, "/", &save))
        if (strcmp(tok, "."))
            comps[n++] = tok;
    return n;
}

/* Opens (creating when missing) each directory of comps[0..n) under rootfd, refusing
 * symlinks and non-directories. Returns the descriptor of the last one in *fd. */
static int vmtar_open_dirs(const struct vmtar_xctx *x, const char *entry, char **comps,
                           size_t n, int *fd, struct esximg_err *err)
{
    int cur = x->rootfd;
    for (size_t i = 0; i < n; i++) {
        if (mkdirat(cur, comps[i], 0755) != 0 && errno != EEXIST) {
            int rc = esximg_err_sys(err, errno, "entry '%s': cannot create '%s'", entry,
                                    comps[i]);
            if (cur != x->rootfd)
                close(cur);
            return rc;
        }
        int next = openat(cur, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (cur != x->rootfd)
            close(cur);
        if (next < 0) {
            if (saved == ELOOP || saved == ENOTDIR)
                return esximg_err_set(err, ESXIMG_EUNSAFE, "entry '%s': '%s' is a symlink or "
                                      "not a directory", entry, comps[i]);
            return esximg_err_sys(err, saved, "entry '%s': cannot open '%s'", entry, comps[i]);
        }
        cur = next;
    }
    *fd = cur;
    return 0;
}

/* An existing non-directory at the leaf is replaced; a directory is an error. */
static int vmtar_clear_leaf(int dirfd, const char *leaf, const char *entry,
                            struct esximg_err *err)
{
    if (unlinkat(dirfd, leaf, 0) == 0 || errno == ENOENT)
        return 0;
    return esximg_err_sys(err, errno, "entry '%s': cannot replace the existing '%s'", entry,
                          leaf);
}

static int vmtar_file_create(const struct esximg_vmtar_entry *e, int dirfd, const char *leaf,
                             int *fd, struct esximg_err *err)
{
    int rc = vmtar_clear_leaf(dirfd, leaf, e->name, err);
    if (rc)
        return rc;
    *fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd < 0)
        return esximg_err_sys(err, errno, "entry '%s': cannot create", e->name);
    return 0;
}

static int vmtar_file_write(const struct esximg_vmtar_entry *e, int fd, const uint8_t *p,
                            uint64_t n, struct esximg_err *err)
{
    int e_write = n > SIZE_MAX ? EFBIG : esx_write_full(fd, p, (size_t)n);
    if (e_write)
        return esximg_err_sys(err, e_write, "entry '%s': cannot write", e->name);
    return 0;
}

/* Mode and time of a file written (rc 0), then closes it. */
static int vmtar_file_finish(const struct esximg_vmtar_entry *e, int fd, int rc,
                             struct esximg_err *err)
{
    struct timespec times[2] = {{(time_t)e->mtime, 0}, {(time_t)e->mtime, 0}};
    if (!rc && fchmod(fd, (mode_t)(e->mode & 01777)) != 0)
        rc = esximg_err_sys(err, errno, "entry '%s': cannot set the mode", e->name);
    else if (!rc && futimens(fd, times) != 0)
        rc = esximg_err_sys(err, errno, "entry '%s': cannot set the time", e->name);
    if (close(fd) != 0 && !rc)
        rc = esximg_err_sys(err, errno, "entry '%s': cannot write", e->name);
    return rc;
}

static void vmtar_extract_progress(struct vmtar_xctx *x, uint64_t n)
{
    x->done += n;
    if (x->o->progress)
        x->o->progress(x->o->progress_ctx, x->done, x->total);
}

/* A file with its content, or (open_fd not NULL) only created, its descriptor in *open_fd. */
static int vmtar_extract_file(struct vmtar_xctx *x, const struct esximg_vmtar_entry *e,
                              const uint8_t *content, int dirfd, const char *leaf, int *open_fd,
                              struct esximg_err *err)
{
    int fd;
    int rc = vmtar_file_create(e, dirfd, leaf, &fd, err);
    if (rc || open_fd) {
        if (!rc)
            *open_fd = fd;
        return rc;
    }
    rc = vmtar_file_finish(e, fd, vmtar_file_write(e, fd, content, e->size, err), err);
    vmtar_extract_progress(x, e->size);
    return rc;
}

static int vmtar_extract_link(const struct esximg_vmtar_entry *e, int dirfd, const char *leaf,
                              struct esximg_err *err)
{
    int rc = esximg_vmtar_check_link(e->name, e->linkname, err);
    if (!rc)
        rc = vmtar_clear_leaf(dirfd, leaf, e->name, err);
    if (!rc && symlinkat(e->linkname, dirfd, leaf) != 0)
        rc = esximg_err_sys(err, errno, "entry '%s': cannot create the symlink", e->name);
    struct timespec times[2] = {{(time_t)e->mtime, 0}, {(time_t)e->mtime, 0}};
    if (!rc)
        utimensat(dirfd, leaf, times, AT_SYMLINK_NOFOLLOW);   /* best effort, as tar does */
    return rc;
}

static int vmtar_extract_one(struct vmtar_xctx *x, const struct esximg_vmtar_entry *e,
                             const uint8_t *content, int *open_fd, struct esximg_err *err)
{
    char copy[ESX_MAX_PATH_BYTES + 1], *comps[ESX_MAX_PATH_BYTES / 2 + 1];
    int rc = esx_path_check(e->name, "entry", err);
    if (rc)
        return rc;
    snprintf(copy, sizeof copy, "%s", e->name);
    size_t n = vmtar_components(copy, comps, sizeof comps / sizeof comps[0]);
    bool is_dir = e->typeflag == ESXIMG_VMTAR_DIR;
    if (n == 0)
        return 0;                              /* "./": the target directory itself */
    int dirfd;
    rc = vmtar_open_dirs(x, e->name, comps, is_dir ? n : n - 1, &dirfd, err);
    if (rc)
        return rc;
    if (is_dir) {
        if (dirfd != x->rootfd)
            close(dirfd);
        return 0;                              /* its mode is set once its contents are in */
    }
    if (e->typeflag == ESXIMG_VMTAR_SYMLINK)
        rc = vmtar_extract_link(e, dirfd, comps[n - 1], err);
    else
        rc = vmtar_extract_file(x, e, content, dirfd, comps[n - 1], open_fd, err);
    if (dirfd != x->rootfd)
        close(dirfd);
    return rc;
}

/* Directory modes and times, deepest first, after everything is written into them. */
static int vmtar_finish_dirs(struct vmtar_xctx *x, struct esximg_err *err)
{
    const bool *selected = x->selected;
    for (size_t i = x->v->entry_count; i-- > 0;) {
        const struct esximg_vmtar_entry *e = &x->v->entries[i];
        char copy[ESX_MAX_PATH_BYTES + 1], *comps[ESX_MAX_PATH_BYTES / 2 + 1];
        if (!selected[i] || e->typeflag != ESXIMG_VMTAR_DIR)
            continue;
        snprintf(copy, sizeof copy, "%s", e->name);
        size_t n = vmtar_components(copy, comps, sizeof comps / sizeof comps[0]);
        if (n == 0)
            continue;
        int fd;
        int rc = vmtar_open_dirs(x, e->name, comps, n, &fd, err);
        if (rc)
            return rc;
        struct timespec times[2] = {{(time_t)e->mtime, 0}, {(time_t)e->mtime, 0}};
        if (fchmod(fd, (mode_t)(e->mode & 01777)) != 0)
            rc = esximg_err_sys(err, errno, "entry '%s': cannot set the mode", e->name);
        else if (futimens(fd, times) != 0)
            rc = esximg_err_sys(err, errno, "entry '%s': cannot set the time", e->name);
        close(fd);
        if (rc)
            return rc;
    }
    return 0;
}

/* "./a/b/" and "a/b" name the same thing */
static bool vmtar_name_under(const char *name, const char *path)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    size_t pn = strlen(path);
    while (pn > 0 && path[pn - 1] == '/')
        pn--;
    if (pn == 0 || (pn == 1 && path[0] == '.'))
        return true;
    return !strncmp(name, path, pn) && (name[pn] == '\0' || name[pn] == '/');
}

static int vmtar_select(const struct esximg_vmtar *v, const struct esximg_vmtar_xopts *o,
                        bool *selected, uint64_t *total, struct esximg_err *err)
{
    *total = 0;
    for (size_t i = 0; i < v->entry_count; i++)
        selected[i] = o->path_count == 0;
    for (size_t p = 0; p < o->path_count; p++) {
        bool matched = false;
        for (size_t i = 0; i < v->entry_count; i++)
            if (vmtar_name_under(v->entries[i].name, o->paths[p]))
                selected[i] = matched = true;
        if (!matched)
            return esximg_err_set(err, ESXIMG_ENOTFOUND, "'%s': not found in the archive",
                                  o->paths[p]);
    }
    for (size_t i = 0; i < v->entry_count; i++)
        if (selected[i])
            *total += v->entries[i].size;
    return 0;
}

/* Chooses the entries and checks every chosen name and link, so a hostile archive writes
 * nothing. */
static int vmtar_extract_plan(struct vmtar_xctx *x, const struct esximg_vmtar *v,
                              struct esximg_err *err)
{
    x->v = v;
    x->selected = esx_malloc_array(v->entry_count, sizeof *x->selected);
    if (!x->selected)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = vmtar_select(v, x->o, x->selected, &x->total, err);
    for (size_t i = 0; !rc && i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        if (!x->selected[i])
            continue;
        rc = esx_path_check(e->name, "entry", err);
        if (!rc && e->typeflag == ESXIMG_VMTAR_SYMLINK)
            rc = esximg_vmtar_check_link(e->name, e->linkname, err);
    }
    return rc;
}

/* The target directory, created when missing. */
static int vmtar_extract_open(struct vmtar_xctx *x, struct esximg_err *err)
{
    int rc;
    if (mkdir(x->dir, 0777) != 0 && errno != EEXIST) {
        rc = esximg_err_sys(err, errno, "cannot create the directory");
        esximg_err_file(err, x->dir);
        return rc;
    }
    x->rootfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x->rootfd < 0) {
        rc = esximg_err_sys(err, errno, "cannot open the directory");
        esximg_err_file(err, x->dir);
        return rc;
    }
    return 0;
}

static void vmtar_extract_close(struct vmtar_xctx *x)
{
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
    if (x->rootfd >= 0)
        close(x->rootfd);
    x->rootfd = -1;
    free(x->selected);
    x->selected = NULL;
}

int esximg_vmtar_extract(const struct esximg_vmtar *v, const char *dir,
                         const struct esximg_vmtar_xopts *o, struct esximg_err *err)
{
    static const struct esximg_vmtar_xopts defaults;
    struct vmtar_xctx x = {.o = o ? o : &defaults, .dir = dir, .rootfd = -1, .fd = -1};
    int rc = vmtar_extract_plan(&x, v, err);
    if (!rc)
        rc = vmtar_extract_open(&x, err);
    for (size_t i = 0; !rc && i < v->entry_count; i++)
        if (x.selected[i])
            rc = vmtar_extract_one(&x, &v->entries[i], v->entries[i].content, NULL, err);
    if (!rc)
        rc = vmtar_finish_dirs(&x, err);
    vmtar_extract_close(&x);
    return rc;
}

/* ------------------------------------------------------------------ extracting as a stream */

/* The chosen entries before `end` not written yet: none of them has a content to wait for. */
static int vmtar_extract_upto(struct vmtar_xctx *x, size_t end, struct esximg_err *err)
{
    int rc = 0;
    for (; !rc && x->next < end; x->next++)
        if (x->selected[x->next])
            rc = vmtar_extract_one(x, &x->v->entries[x->next], NULL, NULL, err);
    return rc;
}

/* Streaming keeps the archive's order of entries only when the contents follow it. */
static int vmtar_xs_headers(void *ctx, const struct esximg_vmtar *v, struct esximg_err *err)
{
    struct vmtar_xctx *x = ctx;
    /* as esximg_vmtar_read: every content inside the archive, so a truncated one writes
     * nothing */
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        uint64_t end;
        if (e->size && (esx_add_u64(e->offset, e->size, &end) || end > x->archive_len))
            return esximg_err_set(err, ESXIMG_EFORMAT, "entry '%s': content %" PRIu32 "+%"
                                  PRIu64 " lies outside the archive (%" PRIu64 " bytes)",
                                  e->name, e->offset, e->size, x->archive_len);
    }
    int rc = vmtar_extract_plan(x, v, err);
    if (rc)
        return rc;
    uint64_t end = 0;
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *e = &v->entries[i];
        if (!x->selected[i] || e->size == 0)
            continue;
        if (e->offset < end) {
            x->unordered = true;
            return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "entry '%s': content is not in "
                                  "the order of the headers", e->name);
        }
        end = (uint64_t)e->offset + e->size;
    }
    return vmtar_extract_open(x, err);
}

static bool vmtar_xs_want(void *ctx, const struct esximg_vmtar_entry *e)
{
    const struct vmtar_xctx *x = ctx;
    return x->selected[e - x->v->entries];
}

/* A piece of a file's content: the first creates the file, the last finishes it. */
static int vmtar_xs_piece(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *p,
                          size_t n, uint64_t at, struct esximg_err *err)
{
    struct vmtar_xctx *x = ctx;
    int rc = 0;
    if (at == 0) {
        size_t index = (size_t)(e - x->v->entries);
        rc = vmtar_extract_upto(x, index, err);
        if (!rc)
            rc = vmtar_extract_one(x, e, NULL, &x->fd, err);
        x->next = index + 1;
        if (rc)
            return rc;
    }
    if (x->fd < 0) {
        vmtar_extract_progress(x, n);       /* a name for the target itself: skipped */
        return 0;
    }
    rc = vmtar_file_write(e, x->fd, p, n, err);
    if (rc || at + n == e->size) {
        rc = vmtar_file_finish(e, x->fd, rc, err);
        x->fd = -1;
    }
    vmtar_extract_progress(x, n);
    return rc;
}

static int vmtar_fd_read(void *ctx, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    const int *fd = ctx;
    int e = esx_read_full(*fd, buf, n, got);
    return e ? esximg_err_sys(err, e, "cannot read") : 0;
}

/* The whole archive in memory, for contents out of the headers' order. */
static int vmtar_extract_whole(const char *path, const char *dir,
                               const struct esximg_vmtar_xopts *o, struct esximg_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_vmtar *v = NULL;
    int rc = esx_file_read(path, 0, &data, &len, err);
    if (!rc)
        rc = esximg_vmtar_read(data, len, &v, err);
    free(data);
    if (!rc)
        rc = esximg_vmtar_extract(v, dir, o, err);
    esximg_vmtar_free(v);
    return rc;
}

static bool vmtar_want_none(void *ctx, const struct esximg_vmtar_entry *e)
{
    (void)ctx;
    (void)e;
    return false;
}

/* The decompressed length of the archive: the size of a raw one; a gzip'd one is inflated
 * whole first (headers checked, gzip trailer checked), so that a truncated or corrupt archive
 * is refused before anything is written. Leaves fd at the start. */
static int vmtar_fd_measure(int fd, uint64_t *len, struct esximg_err *err)
{
    uint8_t magic[3];
    size_t magic_len = 0;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        return esximg_err_sys(err, errno, "cannot stat");
    if (esx_pread_full(fd, magic, sizeof magic, 0, &magic_len) == 0 &&
        magic_len == sizeof magic && esx_is_gzip(magic, sizeof magic)) {
        struct esximg_vmtar_source src = {.read = vmtar_fd_read, .ctx = &fd};
        struct esximg_vmtar_scan_opts so = {.want = vmtar_want_none};
        struct vmtar_scan_hooks hooks = {.to_end = true, .length = len};
        rc = esx_vmtar_scan_run(&src, &so, &hooks, NULL, err);
    } else {
        *len = (uint64_t)st.st_size;
    }
    if (!rc && lseek(fd, 0, SEEK_SET) != 0)
        rc = esximg_err_sys(err, errno, "cannot seek");
    return rc;
}

int esximg_vmtar_extract_file(const char *path, const char *dir,
                              const struct esximg_vmtar_xopts *o, struct esximg_err *err)
{
    static const struct esximg_vmtar_xopts defaults;
    struct vmtar_xctx x = {.o = o ? o : &defaults, .dir = dir, .rootfd = -1, .fd = -1};
    struct esximg_vmtar *v = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) {
        rc = esximg_err_sys(err, errno, "cannot open");
        esximg_err_file(err, path);
        return rc;
    }
    struct esximg_vmtar_source src = {.read = vmtar_fd_read, .ctx = &fd};
    struct esximg_vmtar_scan_opts so = {.want = vmtar_xs_want, .ctx = &x};
    static const struct vmtar_scan_hooks hooks = {.headers = vmtar_xs_headers,
                                                  .piece = vmtar_xs_piece};
    rc = vmtar_fd_measure(fd, &x.archive_len, err);
    if (!rc)
        rc = esx_vmtar_scan_run(&src, &so, &hooks, &v, err);
    close(fd);
    if (!rc)
        rc = vmtar_extract_upto(&x, v->entry_count, err);
    if (!rc)
        rc = vmtar_finish_dirs(&x, err);
    vmtar_extract_close(&x);
    esximg_vmtar_free(v);
    if (rc && x.unordered)
        rc = vmtar_extract_whole(path, dir, o, err);
    return rc;
}
