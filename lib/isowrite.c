/* isowrite.c: writing an edited copy of an installer ISO over libisofs.
 *
 * The default is to grow the input as a new ISO 9660 session does (xorriso does the same to a
 * regular file): copy the input's bytes in the kernel, let libisofs produce an appendable
 * session that starts at the next free block (iso_write_opts_set_appendable, _set_ms_block)
 * and holds only the changed files, the new directory tree and the new boot catalog, and write
 * the volume descriptors libisofs leaves in the overwrite buffer (_set_overwrite_buf) over
 * blocks 16.. of the copy.  Unchanged files, boot images included, keep their blocks, so the
 * boot images are never patched (isolinux options cleared): ISOLINUX.BIN's boot info table
 * names block 16, its own block and its length, all unchanged.  Timing against a plain copy
 * and against a full rewrite is in bench/isowrite.sh.
 *
 * libisofs was set up by esximg_iso_open() (iso.c initialises it once, on first use), which
 * also gives the model of the input used to check the changes and to verify the output. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* struct burn_source comes from libisofs.h, as libburn is not used */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isohybrid.h"
#include "esximg/isowrite.h"
#include "esx_private.h"

#define IW_BLOCK ESXIMG_ISO_BLOCK
#define IW_VD_BLOCK 16u                     /* the first volume descriptor */
#define IW_HEAD_BLOCKS 32u                  /* libisofs' overwrite buffer: 64 KiB */
#define IW_COPY_CHUNK ((uint64_t)64 << 20)  /* copied between two progress calls */
#define IW_FS_ID 0x65736977u                /* get_id() of our content streams */
#define IW_PVD_DATES 813u                   /* four 17-byte volume dates in the PVD */
#define IW_PVD_DATES_LEN 68u
#define IW_MAX_LEVEL2_FILE 0xFFFFFFFFull    /* one extent: levels 1 and 2 */

/* ---- the changes, checked ---- */

struct iw_content {             /* one ADD or REPLACE; read by libisofs' writer thread */
    const uint8_t *data;        /* memory content, or NULL when fd >= 0 */
    int fd;
    uint64_t size;
    uint64_t pos;
    ino_t ino;                  /* unique: libisofs writes files of equal ids once */
    int read_errno;             /* the first read failure; -1 when the file ended early */
};

struct iw_change {
    const struct esximg_iso_change *c;
    char *path;                 /* REPLACE, REMOVE: the entry's path as recorded; ADD: as given */
    struct iw_content content;
};

struct iw_ctx {
    struct esximg_iso_wopts o;
    const char *in_path;
    const char *out_path;
    const struct esximg_iso *in; /* the input, as iso.c reads it: opts' or in_owned */
    struct esximg_iso *in_owned; /* the input when the caller gave none */
    int in_fd;
    uint64_t in_size;
    uint32_t ms_block;          /* first block of the new session; 0 for a full rewrite */
    struct iw_change *ch;
    size_t n;
    size_t new_dirs;
    IsoImage *image;
    uint8_t *head;              /* the overwrite buffer */
    uint8_t in_dates[IW_PVD_DATES_LEN];
    struct esximg_outfile *of;
    int out_fd;
    uint64_t out_size;
    uint64_t done;
};

/* Whether a new name fits the image as it stands, so that libisofs records it unchanged:
 * d-characters, 8.3 (level 1) or up to 30 characters (level 2 and 3) on a plain image;
 * printable ASCII up to 64 bytes (Joliet's limit) when Rock Ridge or Joliet names are used. */
static bool iw_name_fits(const struct esximg_iso *in, const char *name, size_t len, bool dir)
{
    if (in->iso_level == 0) {
        for (size_t i = 0; i < len; i++)
            if (name[i] < 0x20 || name[i] > 0x7e)
                return false;
        return len <= 64;
    }
    size_t base = 0, ext = 0;
    if (!esx_iso_name_parts(name, len, dir, &base, &ext))
        return false;
    if (in->iso_level == 1)
        return base >= 1 && base <= 8 && ext <= 3;
    return base + ext >= 1 && base + ext <= (dir ? 31u : 30u);
}

/* Syntax of a change's path: absolute, no empty, "." or ".." component, not too deep. */
static int iw_check_component(const char *path, const char *name, size_t n, bool dir,
                              struct esximg_err *err)
{
    (void)dir;
    if (n == 0 || (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
        return esximg_err_set(err, ESXIMG_EUNSAFE, "path '%s' has an empty, '.' or '..' "
                              "component", path);
    return 0;
}

static int iw_check_syntax(const char *path, struct esximg_err *err)
{
    return esx_iso_path_check(path, iw_check_component, err);
}

static bool iw_is_boot_file(const struct esximg_iso *in, const char *path)
{
    if (in->bootcat_path && strcmp(in->bootcat_path, path) == 0)
        return true;
    for (size_t i = 0; i < in->n_boots; i++)
        if (in->boots[i].path && strcmp(in->boots[i].path, path) == 0)
            return true;
    return false;
}

/* REPLACE and REMOVE: an existing file that is not part of El Torito. */
static int iw_check_existing(struct iw_ctx *x, struct iw_change *ch, struct esximg_err *err)
{
    const char *path = ch->c->iso_path;
    const struct esximg_iso_entry *e = esximg_iso_find(x->in, path);
    if (!e)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "file '%s' is not in the image", path);
    if (e->type != ESXIMG_ISO_FILE && e->type != ESXIMG_ISO_BOOTCAT)
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s' is not a regular file", e->path);
    if (e->type == ESXIMG_ISO_BOOTCAT || iw_is_boot_file(x->in, e->path))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "'%s' is part of El Torito booting: "
                              "it cannot be replaced or removed", e->path);
    if (!(ch->path = esx_strdup(e->path)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

/* ADD: nothing of that name in any case; each existing parent a directory; new names fit. */
static int iw_check_new(struct iw_ctx *x, struct iw_change *ch, struct esximg_err *err)
{
    const char *path = ch->c->iso_path;
    if (esximg_iso_find(x->in, path))
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s' is already in the image", path);
    size_t len = strlen(path);
    char *prefix = malloc(len + 1);
    if (!prefix)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = 0;
    bool parent_exists = true;
    for (const char *p = path + 1; *p; ) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool dir = end != NULL;
        memcpy(prefix, path, (size_t)(p - path) + n);
        prefix[(p - path) + n] = '\0';
        const struct esximg_iso_entry *e = parent_exists ? esximg_iso_find(x->in, prefix) : NULL;
        if (dir && e && e->type != ESXIMG_ISO_DIR) {
            rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s' is not a directory", e->path);
            break;
        }
        if (!e && !iw_name_fits(x->in, p, n, dir)) {
            rc = esximg_err_set(err, ESXIMG_EINVAL, "name '%.*s' of '%s' does not fit the "
                                "image's names (%s)", (int)n, p, path, x->in->iso_level == 1 ?
                                "ISO 9660 level 1: upper-case 8.3" : x->in->iso_level ?
                                "ISO 9660 d-characters, at most 30" :
                                "printable ASCII, at most 64 bytes");
            break;
        }
        parent_exists = e != NULL;
        p = end ? end + 1 : p + n;
    }
    free(prefix);
    if (!rc && !(ch->path = esx_strdup(path)))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return rc;
}

static int iw_open_content(struct iw_change *ch, size_t index, struct esximg_err *err)
{
    const struct esximg_iso_change *c = ch->c;
    struct iw_content *ct = &ch->content;
    ct->ino = (ino_t)index + 1;
    if (!c->src_path) {
        if (!c->data && c->len)
            return esximg_err_set(err, ESXIMG_EINVAL, "change of '%s' has no content",
                                  c->iso_path);
        ct->data = c->data ? c->data : (const uint8_t *)"";
        ct->size = c->len;
    } else {
        ct->fd = open(c->src_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        int rc = 0;
        if (ct->fd < 0 || fstat(ct->fd, &st) != 0)
            rc = esximg_err_sys(err, errno, "cannot open the content of '%s'", c->iso_path);
        else if (!S_ISREG(st.st_mode))
            rc = esximg_err_set(err, ESXIMG_EINVAL, "content of '%s' is not a regular file",
                                c->iso_path);
        if (rc) {
            esximg_err_file(err, c->src_path);
            return rc;
        }
        ct->size = (uint64_t)st.st_size;
    }
    if (ct->size > IW_MAX_LEVEL2_FILE)
        return esximg_err_set(err, ESXIMG_ELIMIT, "'%s' is %" PRIu64 " bytes: a file of 4 GiB "
                              "or more needs two extents, and ESXi's UEFI loader reads "
                              "single-extent files only", c->iso_path, ct->size);
    return 0;
}

static int iw_cmp_paths(const void *a, const void *b)
{
    const struct iw_change *ca = *(const struct iw_change *const *)a;
    const struct iw_change *cb = *(const struct iw_change *const *)b;
    return strcasecmp(ca->path, cb->path);
}

/* The same path named twice (in any case) is ambiguous. */
static int iw_check_duplicates(struct iw_ctx *x, struct esximg_err *err)
{
    if (x->n < 2)
        return 0;
    struct iw_change **sorted = esx_malloc_array(x->n, sizeof *sorted);
    if (!sorted)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->n; i++)
        sorted[i] = &x->ch[i];
    qsort(sorted, x->n, sizeof *sorted, iw_cmp_paths);
    int rc = 0;
    for (size_t i = 1; i < x->n && !rc; i++)
        if (strcasecmp(sorted[i - 1]->path, sorted[i]->path) == 0)
            rc = esximg_err_set(err, ESXIMG_EINVAL, "'%s' is changed twice", sorted[i]->path);
    free(sorted);
    return rc;
}

static int iw_check_changes(struct iw_ctx *x, const struct esximg_iso_change *changes,
                            struct esximg_err *err)
{
    if (x->n > ESX_MAX_ISO_ENTRIES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "more than %u changes", ESX_MAX_ISO_ENTRIES);
    if (x->n && !(x->ch = esx_malloc_array(x->n, sizeof *x->ch)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < x->n; i++)
        x->ch[i].content.fd = -1;
    for (size_t i = 0; i < x->n; i++) {
        struct iw_change *ch = &x->ch[i];
        ch->c = &changes[i];
        if (!ch->c->iso_path)
            return esximg_err_set(err, ESXIMG_EINVAL, "change %zu has no path", i + 1);
        int rc = iw_check_syntax(ch->c->iso_path, err);
        if (rc)
            return rc;
        switch (ch->c->kind) {
        case ESXIMG_ISO_ADD:
            rc = iw_check_new(x, ch, err);
            break;
        case ESXIMG_ISO_REPLACE:
        case ESXIMG_ISO_REMOVE:
            rc = iw_check_existing(x, ch, err);
            break;
        default:
            return esximg_err_set(err, ESXIMG_EINVAL, "change of '%s' has an unknown kind %d",
                                  ch->c->iso_path, (int)ch->c->kind);
        }
        if (!rc && ch->c->kind != ESXIMG_ISO_REMOVE)
            rc = iw_open_content(ch, i, err);
        if (rc)
            return rc;
    }
    return iw_check_duplicates(x, err);
}

/* ---- the limits of ESXi's UEFI loader ---- */

static uint64_t iw_dir_limit(const struct iw_ctx *x)
{
    return x->o.max_dir_record_offset ? x->o.max_dir_record_offset
                                      : ESXIMG_ISO_MAX_DIR_RECORD_OFFSET;
}

static bool iw_dropped(const struct iw_ctx *x, const char *path)
{
    for (size_t j = 0; j < x->n; j++)
        if (x->ch[j].c->kind != ESXIMG_ISO_ADD && strcmp(x->ch[j].path, path) == 0)
            return true;
    return false;
}

/* Before the output exists: no kept file of several extents, and, when growing, a new
 * session (where the new directory tree goes) that starts below the directory limit. */
static int iw_check_loader_limits(const struct iw_ctx *x, struct esximg_err *err)
{
    for (size_t i = 0; i < x->in->n_entries; i++) {
        const struct esximg_iso_entry *e = &x->in->entries[i];
        if ((e->extents > 1 || e->size > IW_MAX_LEVEL2_FILE) && !iw_dropped(x, e->path))
            return esximg_err_set(err, ESXIMG_ELIMIT, "'%s' of the input has %" PRIu32
                                  " extents (%" PRIu64 " bytes): ESXi's UEFI loader reads "
                                  "single-extent files only", e->path, e->extents, e->size);
    }
    uint64_t start = (uint64_t)x->ms_block * IW_BLOCK;
    if (!x->o.full_rewrite && start >= iw_dir_limit(x))
        return esximg_err_set(err, ESXIMG_ELIMIT, "the new directory tree would start at byte %"
                              PRIu64 ", after the input, at or beyond byte %" PRIu64 ": ESXi's "
                              "UEFI loader keeps directory record offsets in 32 bits (a full "
                              "rewrite puts the tree first)", start, iw_dir_limit(x));
    return 0;
}

/* The written output, read back: the same two limits, exactly. */
static int iw_verify_loader_limits(const struct iw_ctx *x, const struct esximg_iso *out,
                                   struct esximg_err *err)
{
    if (out->last_dir_record >= iw_dir_limit(x))
        return esximg_err_set(err, ESXIMG_ELIMIT, "directory '%s' has a record at byte %" PRIu64
                              ", at or beyond byte %" PRIu64 ": ESXi's UEFI loader keeps "
                              "directory record offsets in 32 bits", out->last_dir_record_dir,
                              out->last_dir_record, iw_dir_limit(x));
    for (size_t i = 0; i < out->n_entries; i++)
        if (out->entries[i].extents > 1)
            return esximg_err_set(err, ESXIMG_ELIMIT, "'%s' has %" PRIu32 " extents: ESXi's "
                                  "UEFI loader reads single-extent files only",
                                  out->entries[i].path, out->entries[i].extents);
    return 0;
}

/* ---- content streams for libisofs ---- */

static int iws_open(void *content)
{
    struct iw_content *ct = content;
    ct->pos = 0;
    return 1;
}

static int iws_close(void *content)
{
    (void)content;
    return 1;
}

/* Called by libisofs' writer thread.  libisofs fills a failed file with zeros and goes on, so
 * the failure is recorded here for the calling thread to report. */
static int iws_read(void *content, void *buf, size_t count)
{
    struct iw_content *ct = content;
    if (ct->pos >= ct->size)
        return 0;
    uint64_t left = ct->size - ct->pos;
    size_t n = count < left ? count : (size_t)left;
    if (n > INT_MAX)
        n = INT_MAX;
    if (ct->data) {
        memcpy(buf, ct->data + ct->pos, n);
        ct->pos += n;
        return (int)n;
    }
    size_t got = 0;
    int e = esx_pread_full(ct->fd, buf, n, ct->pos, &got);
    if (e || got == 0) {
        if (!ct->read_errno)
            ct->read_errno = e ? e : -1;
        return (int)ISO_FILE_READ_ERROR;
    }
    ct->pos += got;
    return (int)got;
}

static const struct esx_isostream_ops iw_stream_ops = {
    .open = iws_open,
    .close = iws_close,
    .read = iws_read,
};

/* ---- importing the input for writing ---- */

static int iw_import(struct iw_ctx *x, struct esximg_err *err)
{
    IsoDataSource *ds = NULL;
    IsoReadOpts *ropts = NULL;
    IsoReadImageFeatures *features = NULL;
    /* the descriptor stays the iw_ctx's: it is copied from after the import */
    struct esx_isosrc *src = calloc(1, sizeof *src);
    if (!src)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    src->fd = x->in_fd;
    src->len = x->in_size;
    int ret = esx_isosrc_wrap(src, &ds, err);
    if (ret)
        return ret;
    int rc = iso_read_opts_new(&ropts, 0);
    if (rc < 0) {
        ret = esx_iso_fail(err, rc, "cannot set up the ISO reader");
        goto out;
    }
    iso_read_opts_set_no_md5(ropts, 1);
    iso_read_opts_set_no_aaip(ropts, 1);
    iso_read_opts_set_ecma119_map(ropts, 1);    /* as iso.c: strip ";1", keep the case */
    if (x->o.full_rewrite)
        iso_read_opts_load_system_area(ropts, 1);   /* a growing copy keeps it verbatim */
    if ((rc = iso_image_new("esximg", &x->image)) < 0 ||
        (rc = iso_image_import(x->image, ds, ropts, &features)) < 0)
        ret = esx_iso_fail(err, rc, "cannot load the ISO 9660 image");
out:
    iso_read_image_features_destroy(features);
    iso_read_opts_free(ropts);
    iso_data_source_unref(ds);
    return ret;
}

/* ---- applying the changes to the libisofs tree ---- */

static int iw_node(struct iw_ctx *x, const char *path, IsoNode **node, struct esximg_err *err)
{
    int rc = iso_image_path_to_node(x->image, path, node);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot look a path up");
    if (rc == 0 || !*node)
        return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' is in the image but libisofs does "
                              "not find it", path);
    return 0;
}

/* A child of dir whose name equals `name` ignoring ASCII case, or NULL. */
static int iw_dir_find(IsoDir *dir, const char *name, size_t len, IsoNode **found,
                       struct esximg_err *err)
{
    IsoDirIter *iter = NULL;
    int rc = iso_dir_get_children(dir, &iter);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot list a directory");
    IsoNode *node;
    *found = NULL;
    while (iso_dir_iter_next(iter, &node) == 1) {
        const char *n = iso_node_get_name(node);
        if (n && strncasecmp(n, name, len) == 0 && n[len] == '\0') {
            *found = node;
            break;
        }
    }
    iso_dir_iter_free(iter);
    return 0;
}

static void iw_set_attrs(const struct iw_ctx *x, IsoNode *node, mode_t mode)
{
    time_t t = (time_t)x->o.mtime;
    iso_node_set_permissions(node, mode);
    iso_node_set_uid(node, 0);
    iso_node_set_gid(node, 0);
    iso_node_set_atime(node, t);
    iso_node_set_mtime(node, t);
    iso_node_set_ctime(node, t);
}

/* The parent directory of a new file, made (with its own parents) when missing. */
static int iw_parent(struct iw_ctx *x, const char *path, IsoDir **parent,
                     struct esximg_err *err)
{
    IsoDir *dir = iso_image_get_root(x->image);
    char name[ESX_MAX_PATH_BYTES];
    for (const char *p = path + 1;; ) {
        const char *end = strchr(p, '/');
        if (!end)
            break;
        size_t n = (size_t)(end - p);
        IsoNode *child = NULL;
        int rc = iw_dir_find(dir, p, n, &child, err);
        if (rc)
            return rc;
        if (child && iso_node_get_type(child) != LIBISO_DIR)
            return esximg_err_set(err, ESXIMG_EINVAL, "'%.*s' is not a directory",
                                  (int)(end - path), path);
        if (!child) {
            memcpy(name, p, n);
            name[n] = '\0';
            IsoDir *made = NULL;
            if ((rc = iso_image_add_new_dir(x->image, dir, name, &made)) < 0)
                return esx_iso_fail(err, rc, "cannot add a directory");
            iw_set_attrs(x, (IsoNode *)made, S_IFDIR | 0755);
            x->new_dirs++;
            child = (IsoNode *)made;
        }
        dir = (IsoDir *)child;
        p = end + 1;
    }
    *parent = dir;
    return 0;
}

static int iw_add_file(struct iw_ctx *x, struct iw_change *ch, IsoDir *dir, const char *name,
                       const IsoNode *like, struct esximg_err *err)
{
    IsoNode *clash = NULL;
    int rc = iw_dir_find(dir, name, strlen(name), &clash, err);
    if (rc)
        return rc;
    if (clash)
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s' is already in the image", ch->path);
    IsoStream *stream = NULL;
    if ((rc = esx_isostream_new(&iw_stream_ops, &ch->content, ch->content.size,
                                ch->content.ino, IW_FS_ID, &stream, err)))
        return rc;
    IsoFile *file = NULL;
    if ((rc = iso_image_add_new_file(x->image, dir, name, stream, &file)) < 0) {
        iso_stream_unref(stream);
        return esx_iso_fail(err, rc, "cannot add a file");
    }
    iw_set_attrs(x, (IsoNode *)file, like ? iso_node_get_permissions(like) : S_IFREG | 0444);
    if (like) {
        iso_node_set_uid((IsoNode *)file, iso_node_get_uid(like));
        iso_node_set_gid((IsoNode *)file, iso_node_get_gid(like));
        iso_node_set_hidden((IsoNode *)file, iso_node_get_hidden((IsoNode *)like));
    }
    return 0;
}

static int iw_apply_one(struct iw_ctx *x, struct iw_change *ch, struct esximg_err *err)
{
    IsoNode *old = NULL;
    IsoDir *dir = NULL;
    int rc;
    if (ch->c->kind == ESXIMG_ISO_ADD) {
        if ((rc = iw_parent(x, ch->path, &dir, err)))
            return rc;
        return iw_add_file(x, ch, dir, esx_path_base(ch->path), NULL, err);
    }
    if ((rc = iw_node(x, ch->path, &old, err)))
        return rc;
    if (ch->c->kind == ESXIMG_ISO_REMOVE) {
        if ((rc = iso_node_remove(old)) < 0)
            return esx_iso_fail(err, rc, "cannot remove a file");
        return 0;
    }
    /* REPLACE: the same name in the same directory, with new content */
    dir = iso_node_get_parent(old);
    char *name = esx_strdup(iso_node_get_name(old));
    if (!name || !dir) {
        free(name);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    iso_node_ref(old);          /* its attributes are copied after it left the tree */
    if ((rc = iso_node_remove(old)) < 0)
        rc = esx_iso_fail(err, rc, "cannot remove a file");
    else
        rc = iw_add_file(x, ch, dir, name, old, err);
    iso_node_unref(old);
    free(name);
    return rc;
}

static int iw_apply(struct iw_ctx *x, struct esximg_err *err)
{
    /* removals first, so that a replaced name is free again */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < x->n; i++) {
            bool add = x->ch[i].c->kind == ESXIMG_ISO_ADD;
            if (add != (pass == 1))
                continue;
            int rc = iw_apply_one(x, &x->ch[i], err);
            if (rc) {
                esximg_err_prefix(err, "change of '%s': ", x->ch[i].c->iso_path);
                return rc;
            }
        }
    return 0;
}

/* Growing: the boot images stay where they are and are not touched (a boot info table patched
 * anew would be the same, but libisofs would then write a patched copy at a new block).  A
 * full rewrite moves them, so their boot info tables are patched for the new blocks. */
static int iw_boot_setup(struct iw_ctx *x, struct esximg_err *err)
{
    if (!x->in->eltorito)
        return 0;   /* iso.c notes libisofs 1.5.4 misbehaving on images without a catalog */
    int n = 0;
    ElToritoBootImage **boots = NULL;
    IsoFile **nodes = NULL;
    int rc = iso_image_get_all_boot_imgs(x->image, &n, &boots, &nodes, 0);
    if (rc < 0)
        return esx_iso_fail(err, rc, "cannot read the El Torito boot entries");
    int ret = 0;
    if ((size_t)n != x->in->n_boots)
        ret = esximg_err_set(err, ESXIMG_EFORMAT, "libisofs sees %d El Torito entries, the "
                             "reader %zu", n, x->in->n_boots);
    for (int i = 0; !ret && i < n; i++) {
        int opts = x->o.full_rewrite && x->in->boots[i].boot_info_table ? 1 : 0;
        if ((rc = el_torito_set_isolinux_options(boots[i], opts, 0)) < 0)
            ret = esx_iso_fail(err, rc, "cannot set the El Torito options");
    }
    free(boots);
    free(nodes);
    return ret;
}

/* ---- writing ---- */

static int iw_wopts(const struct iw_ctx *x, IsoWriteOpts **out, struct esximg_err *err)
{
    const struct esximg_iso *in = x->in;
    /* a plain image keeps its level; Rock Ridge or Joliet images record their names there */
    int level = in->iso_level ? in->iso_level : 2;
    for (size_t i = 0; level < 3 && i < in->n_entries; i++)
        if (in->entries[i].size > IW_MAX_LEVEL2_FILE)
            level = 3;
    /* recording dates from the nodes: old entries keep theirs, new ones get o.mtime */
    const struct esx_iso_layout layout = {
        .level = level, .rockridge = in->rockridge, .joliet = in->joliet,
        .iso1999 = in->iso1999,
        .dir_rec_mtime = 1 | (in->joliet ? 2 : 0) | (in->iso1999 ? 4 : 0),
    };
    IsoWriteOpts *w = NULL;
    int rc = esx_iso_wopts_new(&layout, x->o.mtime, &w, err);
    if (rc)
        return rc;
    if ((rc = iso_write_opts_set_appendable(w, !x->o.full_rewrite)) < 0 ||
        (rc = iso_write_opts_set_ms_block(w, x->ms_block)) < 0 ||
        (rc = iso_write_opts_set_overwrite_buf(w, x->o.full_rewrite ? NULL : x->head)) < 0) {
        iso_write_opts_free(w);
        return esx_iso_fail(err, rc, "cannot set up the ISO writer");
    }
    *out = w;
    return 0;
}

static void iw_progress(struct iw_ctx *x, uint64_t add)
{
    x->done += add;
    if (x->o.progress)
        x->o.progress(x->done, x->out_size, x->o.progress_arg);
}

static int iw_pwrite(struct iw_ctx *x, const void *buf, size_t n, uint64_t off,
                     struct esximg_err *err)
{
    return esx_pwrite_output(x->out_fd, x->out_path, buf, n, off, err);
}

static int iw_input_shrank(const struct iw_ctx *x, uint64_t at, struct esximg_err *err)
{
    int rc = esximg_err_set(err, ESXIMG_EIO, "input ended after %" PRIu64 " of %" PRIu64
                            " bytes while being copied", at, x->in_size);
    esximg_err_file(err, x->in_path);
    return rc;
}

/* The input's bytes, in the kernel when it can (esx_copy_range), a piece at a time for the
 * progress callback. */
static int iw_copy_input(struct iw_ctx *x, struct esximg_err *err)
{
    int rc = 0;
    for (uint64_t done = 0; done < x->in_size; ) {
        uint64_t left = x->in_size - done, got = 0;
        bool reading = false;
        int e = esx_copy_range(x->in_fd, done, x->out_fd, done,
                               left < IW_COPY_CHUNK ? left : IW_COPY_CHUNK, &got, &reading);
        if (e) {
            rc = esximg_err_sys(err, e, reading ? "cannot read" :
                                "cannot copy the input to the output");
            esximg_err_file(err, reading ? x->in_path : x->out_path);
            return rc;
        }
        if (got == 0)
            return iw_input_shrank(x, done, err);
        done += got;
        iw_progress(x, got);
    }
    /* a session starts on a block boundary */
    uint64_t end = (uint64_t)x->ms_block * IW_BLOCK;
    if (end > x->in_size) {
        static const uint8_t zeros[IW_BLOCK];
        if ((rc = iw_pwrite(x, zeros, (size_t)(end - x->in_size), x->in_size, err)))
            return rc;
        iw_progress(x, end - x->in_size);
    }
    return rc;
}

/* Where the new session's bytes go: at `off` of the output. */
struct iw_sink {
    struct iw_ctx *x;
    uint64_t off;
};

static int iw_sink(void *arg, const uint8_t *buf, size_t n, uint64_t done,
                   struct esximg_err *err)
{
    struct iw_sink *s = arg;
    int rc = iw_pwrite(s->x, buf, n, s->off + done, err);
    if (!rc)
        iw_progress(s->x, n);
    return rc;
}

/* Takes `size` bytes from libisofs and writes them at `off`. */
static int iw_drain(struct iw_ctx *x, struct burn_source *bs, uint64_t off, uint64_t size,
                    struct esximg_err *err)
{
    struct iw_sink s = { x, off };
    return esx_iso_drain(bs, size, "the new session", iw_sink, &s, err);
}

static int iw_check_contents(const struct iw_ctx *x, struct esximg_err *err)
{
    for (size_t i = 0; i < x->n; i++) {
        const struct iw_content *ct = &x->ch[i].content;
        if (!ct->read_errno)
            continue;
        const struct esximg_iso_change *c = x->ch[i].c;
        int rc = ct->read_errno > 0 ?
            esximg_err_sys(err, ct->read_errno, "cannot read the content of '%s'", c->iso_path) :
            esximg_err_set(err, ESXIMG_EIO, "content of '%s' shrank while it was written",
                           c->iso_path);
        esximg_err_file(err, c->src_path);
        return rc;
    }
    return 0;
}

/* The last block of the volume descriptor set libisofs put in the overwrite buffer. */
static int iw_head_end(const struct iw_ctx *x, uint32_t *last, struct esximg_err *err)
{
    for (uint32_t b = IW_VD_BLOCK; b < IW_HEAD_BLOCKS; b++) {
        const uint8_t *vd = x->head + (size_t)b * IW_BLOCK;
        if (memcmp(vd + 1, "CD001", 5) != 0)
            break;
        if (vd[0] == 255) {
            *last = b;
            return 0;
        }
    }
    return esximg_err_set(err, ESXIMG_EFORMAT, "libisofs gave no volume descriptor set for "
                          "block 16");
}

/* The lowest block of any file data the new tree keeps from the input. */
static uint64_t iw_lowest_kept(const struct iw_ctx *x)
{
    uint64_t low = UINT64_MAX;
    for (size_t i = 0; i < x->in->n_entries; i++) {
        const struct esximg_iso_entry *e = &x->in->entries[i];
        if (e->type != ESXIMG_ISO_FILE || e->size == 0 || e->lba >= low)
            continue;
        bool dropped = false;
        for (size_t j = 0; j < x->n && !dropped; j++)
            dropped = x->ch[j].c->kind != ESXIMG_ISO_ADD && strcmp(x->ch[j].path, e->path) == 0;
        if (!dropped)
            low = e->lba;
    }
    return low;
}

/* Puts the input's volume dates into the primary volume descriptor at `lba` of the output. */
static int iw_patch_dates(struct iw_ctx *x, uint8_t *block, uint64_t lba,
                          struct esximg_err *err)
{
    uint8_t buf[IW_BLOCK];
    if (!block) {
        size_t got = 0;
        int e = esx_pread_full(x->out_fd, buf, IW_BLOCK, lba * IW_BLOCK, &got);
        if (e || got != IW_BLOCK) {
            int rc = esximg_err_sys(err, e ? e : EIO, "cannot read the output back");
            esximg_err_file(err, x->out_path);
            return rc;
        }
        block = buf;
    }
    if (block[0] != 1 || memcmp(block + 1, "CD001", 5) != 0)
        return block == buf ? 0 : esximg_err_set(err, ESXIMG_EFORMAT, "libisofs wrote no "
                                                 "primary volume descriptor at block 16");
    memcpy(block + IW_PVD_DATES, x->in_dates, IW_PVD_DATES_LEN);
    return block == buf ? iw_pwrite(x, buf, IW_BLOCK, lba * IW_BLOCK, err) : 0;
}

/* Growing: the new descriptors go over blocks 16.. of the copy, which held the old ones and
 * the old tree; the system area (blocks 0 to 15) stays the input's. */
static int iw_write_head(struct iw_ctx *x, struct esximg_err *err)
{
    uint32_t last = 0;
    int rc = iw_head_end(x, &last, err);
    if (rc)
        return rc;
    if (iw_lowest_kept(x) <= last)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "the new volume descriptors (blocks "
                              "16 to %" PRIu32 ") would overwrite file data kept from the input",
                              last);
    uint8_t *vds = x->head + (size_t)IW_VD_BLOCK * IW_BLOCK;
    if (x->o.keep_volume_dates) {
        if ((rc = iw_patch_dates(x, vds, IW_VD_BLOCK, err)) ||
            (rc = iw_patch_dates(x, NULL, (uint64_t)x->ms_block + IW_VD_BLOCK, err)))
            return rc;
    }
    return iw_pwrite(x, vds, (size_t)(last + 1 - IW_VD_BLOCK) * IW_BLOCK,
                     (uint64_t)IW_VD_BLOCK * IW_BLOCK, err);
}

static int iw_write(struct iw_ctx *x, struct esximg_err *err)
{
    IsoWriteOpts *w = NULL;
    struct burn_source *bs = NULL;
    int rc = iw_wopts(x, &w, err);
    if (rc)
        return rc;
    int irc = iso_image_create_burn_source(x->image, w, &bs);
    iso_write_opts_free(w);
    if (irc < 0)
        return esx_iso_fail(err, irc, "cannot start writing the image");
    off_t session = bs->get_size(bs);
    uint64_t base = (uint64_t)x->ms_block * IW_BLOCK;
    if (session <= 0 || (uint64_t)session % IW_BLOCK) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "libisofs announced a session of %lld bytes",
                            (long long)session);
        goto out;
    }
    x->out_size = base + (uint64_t)session;
    if (!x->o.full_rewrite && (rc = iw_copy_input(x, err)))
        goto out;
    if ((rc = iw_drain(x, bs, base, (uint64_t)session, err)))
        goto out;
    esx_iso_burn_free(bs, false);
    bs = NULL;
    if ((rc = iw_check_contents(x, err)))
        goto out;
    if (!x->o.full_rewrite)
        rc = iw_write_head(x, err);
    else if (x->o.keep_volume_dates)
        rc = iw_patch_dates(x, NULL, IW_VD_BLOCK, err);
out:
    esx_iso_burn_free(bs, true);
    return rc;
}

/* ---- checking the result ---- */

/* The first id or flavour property that differs between input and output, or NULL. */
static const char *iw_lost_property(const struct esximg_iso *a, const struct esximg_iso *b)
{
    if (strcmp(a->volume_id, b->volume_id) != 0)
        return "volume id";
    if (strcmp(a->system_id, b->system_id) != 0)
        return "system id";
    if (strcmp(a->application_id, b->application_id) != 0)
        return "application id";
    if (strcmp(a->publisher_id, b->publisher_id) != 0)
        return "publisher id";
    if (strcmp(a->data_preparer_id, b->data_preparer_id) != 0)
        return "data preparer id";
    if (strcmp(a->volset_id, b->volset_id) != 0)
        return "volume set id";
    if (a->rockridge != b->rockridge || a->joliet != b->joliet || a->iso1999 != b->iso1999)
        return "set of trees (Rock Ridge, Joliet, ISO 9660:1999)";
    if (a->eltorito != b->eltorito)
        return "El Torito catalog";
    if (a->iso_level != b->iso_level)
        return "ISO level of the names";
    return NULL;
}

static int iw_verify_boots(const struct iw_ctx *x, const struct esximg_iso *out,
                           struct esximg_err *err)
{
    const struct esximg_iso *in = x->in;
    if (out->n_boots != in->n_boots)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the output has %zu El Torito entries, the "
                              "input %zu", out->n_boots, in->n_boots);
    for (size_t i = 0; i < in->n_boots; i++) {
        const struct esximg_iso_boot *a = &in->boots[i], *b = &out->boots[i];
        bool same_path = (!a->path && !b->path) || (a->path && b->path &&
                                                     strcmp(a->path, b->path) == 0);
        if (a->platform_id != b->platform_id || a->emulation != b->emulation ||
            a->bootable != b->bootable || a->load_seg != b->load_seg ||
            a->load_size != b->load_size || !same_path ||
            a->boot_info_table != b->boot_info_table ||
            (!x->o.full_rewrite && a->lba != b->lba))
            return esximg_err_set(err, ESXIMG_EFORMAT, "El Torito entry %zu of the output "
                                  "differs from the input's (platform 0x%02x, block %" PRIu32
                                  ", %" PRIu32 " sectors, was 0x%02x, block %" PRIu32 ", %"
                                  PRIu32 ")", i + 1, b->platform_id, b->lba, b->load_size,
                                  a->platform_id, a->lba, a->load_size);
    }
    return 0;
}

static const struct iw_change *iw_change_of(const struct iw_ctx *x, const char *path)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->ch[i].path, path) == 0)
            return &x->ch[i];
    return NULL;
}

static int iw_verify_entries(const struct iw_ctx *x, const struct esximg_iso *out,
                             struct esximg_err *err)
{
    const struct esximg_iso *in = x->in;
    size_t want = in->n_entries + x->new_dirs;
    for (size_t i = 0; i < in->n_entries; i++) {
        const struct esximg_iso_entry *a = &in->entries[i];
        const struct iw_change *ch = iw_change_of(x, a->path);
        if (ch) {
            want--;     /* a replaced file comes back below */
            continue;
        }
        const struct esximg_iso_entry *b = esximg_iso_find(out, a->path);
        bool moved = b && a->type == ESXIMG_ISO_FILE && a->size && !x->o.full_rewrite &&
                     (b->lba != a->lba || b->extents != a->extents);
        if (!b || strcmp(a->path, b->path) != 0 || a->type != b->type ||
            (a->type == ESXIMG_ISO_FILE && a->size != b->size) || moved)
            return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' of the input is %s in the output",
                                  a->path, !b ? "missing" : moved ? "moved" : "changed");
    }
    for (size_t i = 0; i < x->n; i++) {
        const struct iw_change *ch = &x->ch[i];
        if (ch->c->kind == ESXIMG_ISO_REMOVE) {
            if (esximg_iso_find(out, ch->path))
                return esximg_err_set(err, ESXIMG_EFORMAT, "removed '%s' is still in the "
                                      "output", ch->path);
            continue;
        }
        want++;
        const struct esximg_iso_entry *b = esximg_iso_find(out, ch->path);
        if (!b || strcmp(b->path, ch->path) != 0 || b->type != ESXIMG_ISO_FILE ||
            b->size != ch->content.size)
            return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' is %s in the output", ch->path,
                                  b ? "recorded differently" : "missing");
    }
    if (out->n_entries != want)
        return esximg_err_set(err, ESXIMG_EFORMAT, "the output has %zu entries, %zu expected",
                              out->n_entries, want);
    return 0;
}

/* Reads the output back through iso.c and checks that it is the input with the changes. */
static int iw_verify(const struct iw_ctx *x, struct esximg_err *err)
{
    void *map = mmap(NULL, (size_t)x->out_size, PROT_READ, MAP_SHARED, x->out_fd, 0);
    if (map == MAP_FAILED) {
        int rc = esximg_err_sys(err, errno, "cannot map the output to check it");
        esximg_err_file(err, x->out_path);
        return rc;
    }
    struct esximg_iso *out = NULL;
    struct esximg_err e = {0};
    const char *lost = NULL;
    int rc = esximg_iso_open_memory(map, (size_t)x->out_size, NULL, &out, &e);
    if (rc)
        rc = esximg_err_set(err, (enum esximg_code)rc, "the output does not read back: %s",
                            e.msg);
    else if ((lost = iw_lost_property(x->in, out)))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "its %s differs from the input's", lost);
    else if ((uint64_t)out->volume_blocks * IW_BLOCK != x->out_size)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "the output claims %" PRIu32 " blocks but "
                            "holds %" PRIu64 " bytes", out->volume_blocks, x->out_size);
    else if (!(rc = iw_verify_boots(x, out, err)) && !(rc = iw_verify_entries(x, out, err)))
        rc = iw_verify_loader_limits(x, out, err);
    if (rc) {
        esximg_err_prefix(err, "written image failed its check: ");
        esximg_err_file(err, x->out_path);
    }
    esximg_iso_close(out);
    munmap(map, (size_t)x->out_size);
    return rc;
}

/* ---- the entry point ---- */

static int iw_open_input(struct iw_ctx *x, struct esximg_err *err)
{
    int rc = 0;
    if (x->o.input)
        x->in = x->o.input;
    else if ((rc = esximg_iso_open(x->in_path, NULL, &x->in_owned, err)))
        return rc;
    else
        x->in = x->in_owned;
    x->in_fd = open(x->in_path, O_RDONLY | O_CLOEXEC);
    struct stat st, ost;
    if (x->in_fd < 0 || fstat(x->in_fd, &st) != 0) {
        rc = esximg_err_sys(err, errno, "cannot open");
        esximg_err_file(err, x->in_path);
        return rc;
    }
    if (stat(x->out_path, &ost) == 0 && ost.st_dev == st.st_dev && ost.st_ino == st.st_ino)
        return esximg_err_set(err, ESXIMG_EINVAL, "the output '%s' is the input", x->out_path);
    x->in_size = (uint64_t)st.st_size;
    if (x->in_size != x->in->image_bytes) {
        rc = esximg_err_set(err, ESXIMG_EIO, "input changed while it was read");
        esximg_err_file(err, x->in_path);
        return rc;
    }
    uint64_t blocks = x->in_size / IW_BLOCK + (x->in_size % IW_BLOCK != 0);
    if (blocks > UINT32_MAX - 1024)
        return esximg_err_set(err, ESXIMG_ELIMIT, "input of %" PRIu64 " bytes is too large to "
                              "grow", x->in_size);
    x->ms_block = x->o.full_rewrite ? 0 : (uint32_t)blocks;
    uint8_t pvd[IW_BLOCK];
    size_t got = 0;
    int e = esx_pread_full(x->in_fd, pvd, IW_BLOCK, (uint64_t)IW_VD_BLOCK * IW_BLOCK, &got);
    if (e || got != IW_BLOCK || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "block 16 holds no primary volume descriptor");
        esximg_err_file(err, x->in_path);
        return rc;
    }
    memcpy(x->in_dates, pvd + IW_PVD_DATES, IW_PVD_DATES_LEN);
    return 0;
}

static void iw_ctx_free(struct iw_ctx *x)
{
    if (x->image)
        iso_image_unref(x->image);  /* before the contents its streams point at */
    for (size_t i = 0; x->ch && i < x->n; i++) {
        if (x->ch[i].content.fd >= 0)
            close(x->ch[i].content.fd);
        free(x->ch[i].path);
    }
    free(x->ch);
    esximg_outfile_abort(x->of);
    if (x->in_fd >= 0)
        close(x->in_fd);
    esximg_iso_close(x->in_owned);
    free(x->head);
}

int esximg_iso_write(const char *in_path, const struct esximg_iso_change *changes, size_t n,
                     const struct esximg_iso_wopts *opts, const char *out_path,
                     struct esximg_err *err)
{
    /* errors gather here, so that one without a file can be given the input's name */
    struct esximg_err e = {0};
    struct iw_ctx x = {.in_path = in_path, .out_path = out_path, .n = n, .in_fd = -1,
                       .out_fd = -1};
    if (opts)
        x.o = *opts;
    int rc = 0;
    if (!in_path || !out_path || (n && !changes)) {
        rc = esximg_err_set(&e, ESXIMG_EINVAL, "no input, output or changes");
        goto out;
    }
    if ((rc = iw_open_input(&x, &e)) || (rc = iw_check_changes(&x, changes, &e)) ||
        (rc = iw_check_loader_limits(&x, &e)))
        goto out;
    if (!x.o.full_rewrite && !(x.head = calloc(IW_HEAD_BLOCKS, IW_BLOCK))) {
        rc = esximg_err_set(&e, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = iw_import(&x, &e)) || (rc = iw_apply(&x, &e)) || (rc = iw_boot_setup(&x, &e)))
        goto out;
    if ((rc = esximg_outfile_open(out_path, x.o.mode ? x.o.mode : 0644, &x.of, &e)))
        goto out;
    x.out_fd = esximg_outfile_fd(x.of);
    if ((rc = iw_write(&x, &e)) || (rc = iw_verify(&x, &e)))
        goto out;
    if (x.o.hybrid && (rc = esximg_hybrid_apply(x.o.hybrid, x.out_fd, NULL, &e))) {
        esximg_err_file(&e, out_path);
        goto out;
    }
    rc = esximg_outfile_commit(x.of, &e);
    x.of = NULL;
out:
    if (rc && e.file[0] == '\0')
        esximg_err_file(&e, in_path);
    iw_ctx_free(&x);
    if (rc && err)
        *err = e;
    return rc;
}
