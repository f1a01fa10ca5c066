/* iso.c: reading an installer ISO over libisofs.
 *
 * libisofs imports the directory tree and the El Torito catalog; we copy what we need into the
 * plain model of esximg/iso.h and keep the libisofs image only to stream file contents.  Blocks
 * come from our own data source (isosrc.c: a file descriptor or a caller's buffer), which
 * records why a read failed so that a truncated image is reported in our words rather than as
 * a generic libisofs failure. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libisofs/libisofs.h>

#include "esximg/bootinfo.h"
#include "esximg/iso.h"
#include "esx_private.h"

/* ---- libisofs initialisation: the one process-wide state, set once ---- */

static pthread_once_t isor_once = PTHREAD_ONCE_INIT;
static int isor_init_status;

static void isor_init_once(void)
{
    static char never[] = "NEVER";
    static char tag[] = "libisofs";
    /* bit0: do not set up the locale from LC_* variables (lib/ never reads the environment) */
    isor_init_status = iso_init_with_flag(1);
    if (isor_init_status >= 0)
        iso_set_msgs_severities(never, never, tag);    /* never print, never queue */
}

int esx_iso_lib_ready(struct esximg_err *err)
{
    if (pthread_once(&isor_once, isor_init_once) != 0)
        return esximg_err_set(err, ESXIMG_EIO, "cannot initialise libisofs");
    if (isor_init_status < 0)
        return esximg_err_set(err, ESXIMG_EIO, "cannot initialise libisofs: %s",
                              iso_error_to_msg(isor_init_status));
    return 0;
}

/* ---- private state ---- */

struct esximg_iso_state {
    IsoImage *image;
    IsoDataSource *ds;
    struct esx_isosrc *src;     /* ds->data, for error messages */
    IsoNode **nodes;            /* parallel to iso->entries */
    size_t *by_name;            /* entry indexes sorted by path, ASCII case ignored */
};

/* A libisofs failure in our words, then libisofs' own, with the block that could not be read
 * when our source saw one. */
static int isor_fail(struct esximg_err *err, const struct esx_isosrc *src, int code,
                     const char *what)
{
    const char *why = iso_error_to_msg(code);
    if (code == (int)ISO_OUT_OF_MEM)
        return esximg_err_set(err, ESXIMG_ENOMEM, "%s: out of memory", what);
    if (src && src->failed && src->failed_errno)
        return esximg_err_sys(err, src->failed_errno, "%s: cannot read block %" PRIu32, what,
                              src->failed_lba);
    if (src && src->failed)
        return esximg_err_set(err, ESXIMG_EFORMAT,
                              "%s: block %" PRIu32 " lies past the end of the image (%" PRIu64
                              " bytes): the image is truncated (%s)", what, src->failed_lba,
                              src->len, why);
    return esximg_err_set(err, ESXIMG_EFORMAT, "%s: %s", what, why ? why : "libisofs error");
}

/* ---- building the model ---- */

/* A copy of an identifier without its trailing spaces; "" for NULL. */
static char *isor_ident(const char *s)
{
    if (!s)
        return esx_strdup("");
    size_t n = strnlen(s, 256);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return esx_strndup(s, n);
}

struct isor_walk {
    struct esximg_iso *iso;
    struct esximg_iso_state *st;
    size_t cap;
    uint64_t max_entries;
    unsigned max_depth;
    bool long_names;
    bool multi_extent;
};

static int walk_grow(struct isor_walk *w, struct esximg_err *err)
{
    if (w->iso->n_entries < w->cap)
        return 0;
    size_t cap = w->cap ? w->cap * 2 : 64;
    struct esximg_iso_entry *e = esx_realloc_array(w->iso->entries, cap, sizeof *e);
    if (!e)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    w->iso->entries = e;
    IsoNode **n = esx_realloc_array(w->st->nodes, cap, sizeof *n);
    if (!n)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    w->st->nodes = n;
    w->cap = cap;
    return 0;
}

static int walk_file_extents(struct isor_walk *w, IsoFile *file, struct esximg_iso_entry *e,
                             struct esximg_err *err)
{
    int count = 0;
    struct iso_file_section *sections = NULL;
    int rc = iso_file_get_old_image_sections(file, &count, &sections, 0);
    if (rc < 0)
        return isor_fail(err, w->st->src, rc, "cannot locate a file's data");
    if (rc == 1 && count > 0 && sections) {
        e->lba = sections[0].block;
        e->extents = (uint32_t)count;
        if (count > 1)
            w->multi_extent = true;
    }
    free(sections);
    off_t size = iso_file_get_size(file);
    e->size = size > 0 ? (uint64_t)size : 0;
    return 0;
}

static int walk_check_name(const char *name, const char *parent, struct esximg_err *err)
{
    size_t n = strnlen(name, ESX_MAX_PATH_BYTES);
    if (n == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "directory '%s': entry with an empty name",
                              parent[0] ? parent : "/");
    if (n >= ESX_MAX_PATH_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "directory '%s': name longer than %u bytes",
                              parent[0] ? parent : "/", ESX_MAX_PATH_BYTES);
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "directory '%s': unsafe entry name '%s'",
                              parent[0] ? parent : "/", name);
    return 0;
}

static int walk_dir(struct isor_walk *w, IsoDir *dir, const char *parent, unsigned depth,
                    struct esximg_err *err);

static int walk_node(struct isor_walk *w, IsoNode *node, const char *parent, unsigned depth,
                     struct esximg_err *err)
{
    const char *name = iso_node_get_name(node);
    int rc = walk_check_name(name ? name : "", parent, err);
    if (rc)
        return rc;
    if (w->iso->n_entries >= w->max_entries)
        return esximg_err_set(err, ESXIMG_ELIMIT, "more than %" PRIu64 " entries in the image",
                              w->max_entries);
    if ((rc = walk_grow(w, err)))
        return rc;
    size_t plen = strlen(parent), nlen = strlen(name);
    if (plen + 1 + nlen >= ESX_MAX_PATH_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "path '%s/%s' longer than %u bytes", parent,
                              name, ESX_MAX_PATH_BYTES);
    char *path = malloc(plen + nlen + 2);
    if (!path)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    memcpy(path, parent, plen);
    path[plen] = '/';
    memcpy(path + plen + 1, name, nlen + 1);

    struct esximg_iso_entry *e = &w->iso->entries[w->iso->n_entries];
    memset(e, 0, sizeof *e);
    e->path = path;
    e->depth = depth;
    w->st->nodes[w->iso->n_entries] = node;
    w->iso->n_entries++;

    enum IsoNodeType type = iso_node_get_type(node);
    if (!esx_iso_level1_name(name, strlen(name), type == LIBISO_DIR))
        w->long_names = true;
    switch (type) {
    case LIBISO_DIR:
        e->type = ESXIMG_ISO_DIR;
        if (depth >= w->max_depth)
            return esximg_err_set(err, ESXIMG_ELIMIT, "directory '%s' nested deeper than %u",
                                  path, w->max_depth);
        return walk_dir(w, (IsoDir *)node, path, depth + 1, err);
    case LIBISO_FILE:
        e->type = ESXIMG_ISO_FILE;
        return walk_file_extents(w, (IsoFile *)node, e, err);
    case LIBISO_SYMLINK:
        e->type = ESXIMG_ISO_SYMLINK;
        return 0;
    case LIBISO_BOOT:
        e->type = ESXIMG_ISO_BOOTCAT;
        return 0;
    default:
        e->type = ESXIMG_ISO_SPECIAL;
        return 0;
    }
}

static int walk_dir(struct isor_walk *w, IsoDir *dir, const char *parent, unsigned depth,
                    struct esximg_err *err)
{
    IsoDirIter *iter = NULL;
    int rc = iso_dir_get_children(dir, &iter);
    if (rc < 0)
        return isor_fail(err, w->st->src, rc, "cannot list a directory");
    IsoNode *node;
    int ret = 0;
    while ((rc = iso_dir_iter_next(iter, &node)) == 1) {
        if ((ret = walk_node(w, node, parent, depth, err)))
            goto out;
    }
    if (rc < 0)
        ret = isor_fail(err, w->st->src, rc, "cannot list a directory");
out:
    iso_dir_iter_free(iter);
    return ret;
}

/* The entry index of a libisofs node, or SIZE_MAX. */
static size_t isor_node_index(const struct esximg_iso *iso, const IsoNode *node)
{
    for (size_t i = 0; node && i < iso->n_entries; i++)
        if (iso->state->nodes[i] == node)
            return i;
    return SIZE_MAX;
}

static enum esximg_iso_emulation isor_emulation(ElToritoBootImage *b)
{
    enum eltorito_boot_media_type media = ELTORITO_NO_EMUL;
    if (el_torito_get_boot_media_type(b, &media) < 0)
        return ESXIMG_ISO_NO_EMUL;
    if (media == ELTORITO_FLOPPY_EMUL)
        return ESXIMG_ISO_FLOPPY_EMUL;
    if (media == ELTORITO_HARD_DISC_EMUL)
        return ESXIMG_ISO_HARD_DISK_EMUL;
    return ESXIMG_ISO_NO_EMUL;
}

static int isor_read_boot_entry(struct esximg_iso *iso, ElToritoBootImage *b, IsoFile *node,
                                struct esximg_iso_boot *out, struct esximg_err *err)
{
    int platform = el_torito_get_boot_platform_id(b);
    int seg = el_torito_get_load_seg(b);
    int size = el_torito_get_load_size(b);
    int opts = el_torito_get_isolinux_options(b, 0);
    out->platform_id = platform >= 0 ? (uint8_t)platform : 0;
    out->emulation = isor_emulation(b);
    out->bootable = el_torito_get_bootable(b) == 1;
    out->boot_info_table = opts >= 0 && (opts & 1);
    out->load_seg = seg >= 0 ? (uint16_t)seg : 0;
    out->load_size = size >= 0 ? (uint32_t)size : 0;
    size_t i = isor_node_index(iso, (IsoNode *)node);
    if (i != SIZE_MAX) {
        out->lba = iso->entries[i].lba;
        out->path = esx_strdup(iso->entries[i].path);
        if (!out->path)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    return 0;
}

static int isor_read_bootcat(struct esximg_iso *iso, struct esximg_err *err)
{
    IsoBoot *cat = NULL;
    uint32_t cat_lba = 0;
    char *cat_content = NULL;
    off_t cat_size = 0;
    int rc = iso_image_get_bootcat(iso->state->image, &cat, &cat_lba, &cat_content, &cat_size);
    free(cat_content);
    if (rc < 0)
        return isor_fail(err, iso->state->src, rc, "cannot read the El Torito boot catalog");
    if (rc != 1)
        return 0;
    iso->bootcat_lba = cat_lba;
    size_t i = isor_node_index(iso, (IsoNode *)cat);
    if (i == SIZE_MAX)
        return 0;
    iso->entries[i].lba = cat_lba;
    iso->entries[i].size = cat_size > 0 ? (uint64_t)cat_size : 0;
    iso->entries[i].extents = 1;
    if (!(iso->bootcat_path = esx_strdup(iso->entries[i].path)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int isor_read_boot(struct esximg_iso *iso, struct esximg_err *err)
{
    int n = 0;
    ElToritoBootImage **boots = NULL;
    IsoFile **nodes = NULL;
    if (!iso->eltorito)
        return 0;   /* iso_image_get_bootcat() of libisofs 1.5.4 crashes without a catalog */
    int rc = iso_image_get_all_boot_imgs(iso->state->image, &n, &boots, &nodes, 0);
    int ret = 0;
    if (rc < 0) {
        ret = isor_fail(err, iso->state->src, rc, "cannot read the El Torito boot entries");
        goto out;
    }
    if (rc != 1 || n <= 0 || !boots)
        goto out;
    if ((ret = isor_read_bootcat(iso, err)))
        goto out;
    iso->boots = esx_malloc_array((size_t)n, sizeof *iso->boots);
    if (!iso->boots) {
        ret = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        iso->n_boots++;
        if ((ret = isor_read_boot_entry(iso, boots[i], nodes ? nodes[i] : NULL,
                                        &iso->boots[i], err)))
            goto out;
    }
out:
    free(boots);
    free(nodes);
    return ret;
}

/* Whether a no-emulation boot image carries a boot info table that matches this image
 * (mkisofs -boot-info-table, esximg/bootinfo.h): PVD block 16, the image's own block, its
 * length and checksum. */
static bool isor_has_boot_info_table(struct esximg_iso *iso, const struct esximg_iso_boot *b)
{
    const struct esximg_iso_entry *e = b->path ? esximg_iso_find(iso, b->path) : NULL;
    if (!e || e->type != ESXIMG_ISO_FILE || e->size < 64 || e->size > ESX_MAX_BOOT_INFO_BYTES)
        return false;
    uint8_t *data = NULL;
    size_t len = 0;
    if (esximg_iso_read_file(iso, e->path, ESX_MAX_BOOT_INFO_BYTES, &data, &len, NULL) != 0)
        return false;
    struct esximg_bootinfo t;
    bool ok = esximg_bootinfo_matches(data, len) && !esximg_bootinfo_read(data, len, &t, NULL) &&
              t.pvd_block == ESXIMG_BOOTINFO_PVD_BLOCK && t.image_block == e->lba;
    free(data);
    return ok;
}

static void isor_check_boot_info_tables(struct esximg_iso *iso)
{
    for (size_t i = 0; i < iso->n_boots; i++)
        if (iso->boots[i].emulation == ESXIMG_ISO_NO_EMUL)
            iso->boots[i].boot_info_table |= isor_has_boot_info_table(iso, &iso->boots[i]);
}

static int isor_cmp_paths(const void *a, const void *b, void *arg)
{
    const struct esximg_iso_entry *e = arg;
    const char *pa = e[*(const size_t *)a].path, *pb = e[*(const size_t *)b].path;
    int c = strcasecmp(pa, pb);
    if (c)
        return c;
    c = strcmp(pa, pb);
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int isor_index(struct esximg_iso *iso, struct esximg_err *err)
{
    if (iso->n_entries == 0)
        return 0;
    size_t *idx = esx_malloc_array(iso->n_entries, sizeof *idx);
    if (!idx)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < iso->n_entries; i++)
        idx[i] = i;
    qsort_r(idx, iso->n_entries, sizeof *idx, isor_cmp_paths, iso->entries);
    iso->state->by_name = idx;
    return 0;
}

static int isor_read_ids(struct esximg_iso *iso)
{
    IsoImage *image = iso->state->image;
    iso->volume_id = isor_ident(iso_image_get_volume_id(image));
    iso->system_id = isor_ident(iso_image_get_system_id(image));
    iso->application_id = isor_ident(iso_image_get_application_id(image));
    iso->publisher_id = isor_ident(iso_image_get_publisher_id(image));
    iso->data_preparer_id = isor_ident(iso_image_get_data_preparer_id(image));
    iso->volset_id = isor_ident(iso_image_get_volset_id(image));
    if (!iso->volume_id || !iso->system_id || !iso->application_id || !iso->publisher_id ||
        !iso->data_preparer_id || !iso->volset_id)
        return ESXIMG_ENOMEM;
    return 0;
}

/* The boot catalog's block, from the El Torito boot record among the volume descriptors;
 * false when there is none (or the descriptors do not read: libisofs says why). */
static bool isor_bootcat_lba(IsoDataSource *ds, uint8_t *b, uint32_t *out)
{
    for (uint32_t lba = 16; lba < 16 + ESX_MAX_ISO_VOLUME_DESCRIPTORS; lba++) {
        if (!esx_isosrc_read(ds->data, lba, b) || memcmp(b + 1, "CD001", 5) || b[0] == 255)
            return false;
        if (b[0] == 0 && !memcmp(b + 7, "EL TORITO SPECIFICATION", 23)) {
            *out = esx_le32(b + 0x47);
            return true;
        }
    }
    return false;
}

/* A boot entry whose image starts on the boot catalog's own block makes libisofs 1.5.4 crash
 * in iso_image_import (it takes the catalog node for a file); such an image is refused before
 * libisofs sees it.  The catalog's first block is walked as El Torito lays it out: validation
 * entry, default entry, then section headers (0x90, last 0x91) each followed by its entries
 * and their extensions (0x44). */
static int isor_check_bootcat(IsoDataSource *ds, struct esximg_err *err)
{
    uint8_t *b = malloc(ESXIMG_ISO_BLOCK);
    uint32_t cat = 0;
    int rc = 0;
    if (!b)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!isor_bootcat_lba(ds, b, &cat) || !esx_isosrc_read(ds->data, cat, b))
        goto out;
    uint32_t bad = esx_le32(b + 32 + 8) == cat ? 1 : 0;
    for (size_t off = 64, entry = 2; !bad && off + 32 <= ESXIMG_ISO_BLOCK;) {
        uint8_t head = b[off];
        if (head != 0x90 && head != 0x91)
            break;
        unsigned n = (unsigned)b[off + 2] | (unsigned)b[off + 3] << 8;
        off += 32;
        for (unsigned i = 0; i < n && off + 32 <= ESXIMG_ISO_BLOCK; i++, entry++) {
            if (esx_le32(b + off + 8) == cat) {
                bad = (uint32_t)entry;
                break;
            }
            for (off += 32; off + 32 <= ESXIMG_ISO_BLOCK && b[off] == 0x44; off += 32)
                ;
        }
        if (head == 0x91)
            break;
    }
    if (bad)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "El Torito boot entry %" PRIu32 " loads its "
                            "image from block %" PRIu32 ", the boot catalog itself", bad, cat);
out:
    free(b);
    return rc;
}

static int isor_import(struct esximg_iso *iso, struct esximg_err *err)
{
    struct esximg_iso_state *st = iso->state;
    IsoReadOpts *ropts = NULL;
    IsoReadImageFeatures *features = NULL;
    int rc = isor_check_bootcat(st->ds, err);
    if (rc)
        return rc;
    rc = iso_read_opts_new(&ropts, 0);
    if (rc < 0)
        return isor_fail(err, NULL, rc, "cannot set up the ISO reader");
    iso_read_opts_set_no_md5(ropts, 1);
    iso_read_opts_set_no_aaip(ropts, 1);
    iso_read_opts_set_ecma119_map(ropts, 1);    /* strip ";1", keep the case */
    int ret = 0;
    rc = iso_image_new("esximg", &st->image);
    if (rc < 0) {
        ret = isor_fail(err, NULL, rc, "cannot set up the ISO reader");
        goto out;
    }
    st->src->failed = false;
    rc = iso_image_import(st->image, st->ds, ropts, &features);
    if (rc < 0) {
        ret = isor_fail(err, st->src, rc, "cannot load the ISO 9660 image");
        goto out;
    }
    iso->rockridge = features && iso_read_image_features_rr_loaded(features) == 1;
    iso->joliet = features && iso_read_image_features_has_joliet(features) == 1;
    iso->iso1999 = features && iso_read_image_features_has_iso1999(features) == 1;
    iso->eltorito = features && iso_read_image_features_has_eltorito(features) == 1;
    iso->volume_blocks = features ? iso_read_image_features_get_size(features) : 0;
out:
    iso_read_image_features_destroy(features);
    iso_read_opts_free(ropts);
    return ret;
}

/* ---- directory loops ----
 * libisofs follows directory records without remembering where it has been: a directory
 * whose record points back at itself or an ancestor makes iso_image_import recurse until the
 * stack runs out, and directories sharing one extent multiply the tree.  So the ISO 9660 and
 * Joliet trees are walked here first, on the raw records, and any directory extent met twice
 * is refused.  Anything else malformed is left for libisofs to report. */

struct isor_scan {
    struct esx_isosrc *src;
    uint64_t last_record;       /* byte offset of the highest directory record met */
    char last_record_dir[ESX_MAX_PATH_BYTES];
    uint32_t *seen;             /* open addressing, lba + 1, 0 = empty */
    size_t seen_cap, seen_n;
    uint64_t entries, max_entries;
    unsigned max_depth;
    char path[ESX_MAX_PATH_BYTES];
};

/* Adds lba to the set of directory extents; false when it was there already. */
static int scan_seen_add(struct isor_scan *sc, uint32_t lba, bool *fresh, struct esximg_err *err)
{
    if (sc->seen_n * 2 >= sc->seen_cap) {
        size_t cap = sc->seen_cap ? sc->seen_cap * 2 : 256;
        uint32_t *t = esx_malloc_array(cap, sizeof *t);
        if (!t)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        memset(t, 0, cap * sizeof *t);
        for (size_t i = 0; i < sc->seen_cap; i++) {
            if (!sc->seen[i])
                continue;
            size_t h = (sc->seen[i] * 2654435761u) & (cap - 1);
            while (t[h])
                h = (h + 1) & (cap - 1);
            t[h] = sc->seen[i];
        }
        free(sc->seen);
        sc->seen = t;
        sc->seen_cap = cap;
    }
    uint32_t key = lba + 1;     /* lba 0xffffffff cannot hold a directory: wraps to empty */
    size_t h = (key * 2654435761u) & (sc->seen_cap - 1);
    while (sc->seen[h] && sc->seen[h] != key)
        h = (h + 1) & (sc->seen_cap - 1);
    *fresh = sc->seen[h] == 0;
    if (*fresh) {
        sc->seen[h] = key;
        sc->seen_n++;
    }
    return 0;
}

static int scan_dir(struct isor_scan *sc, uint32_t lba, uint32_t size, size_t plen,
                    unsigned depth, bool joliet, struct esximg_err *err);

/* One directory record of a listing: descends into directories. */
static int scan_record(struct isor_scan *sc, const uint8_t *r, size_t plen, unsigned depth,
                       bool joliet, struct esximg_err *err)
{
    size_t nlen = r[32];
    const uint8_t *name = r + 33;
    /* libisofs leaks the node of a record whose name is empty once ";1" and a final '.' are
     * cut; the walk after it would refuse the name anyway */
    size_t shown = nlen;
    for (size_t i = 0; !joliet && i < nlen; i++)
        if (name[i] == ';') {
            shown = i;
            break;
        }
    if (!joliet && shown == 1 && name[0] == '.')
        shown = 0;
    if (shown == 0 || (joliet && nlen < 2))
        return esximg_err_set(err, ESXIMG_EFORMAT, "directory '%.*s': entry with an empty name",
                              plen ? (int)plen : 1, plen ? sc->path : "/");
    if (++sc->entries > sc->max_entries)
        return esximg_err_set(err, ESXIMG_ELIMIT, "more than %" PRIu64 " entries in the image",
                              sc->max_entries);
    if (!(r[25] & 2))
        return 0;
    /* the path, for messages: ASCII only, the low byte of each Joliet UCS-2 unit */
    size_t n = plen;
    if (n + 1 < sizeof sc->path)
        sc->path[n++] = '/';
    for (size_t i = joliet ? 1 : 0; i < nlen && n + 1 < sizeof sc->path; i += joliet ? 2 : 1)
        sc->path[n++] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
    sc->path[n] = '\0';
    if (depth >= sc->max_depth)
        return esximg_err_set(err, ESXIMG_ELIMIT, "directory '%s' nested deeper than %u",
                              sc->path, sc->max_depth);
    bool fresh = false;
    int rc = scan_seen_add(sc, esx_le32(r + 2), &fresh, err);
    if (rc)
        return rc;
    if (!fresh)
        return esximg_err_set(err, ESXIMG_EFORMAT, "directory '%s' points at block %" PRIu32
                              ", a directory already seen: a directory loop", sc->path,
                              esx_le32(r + 2));
    return scan_dir(sc, esx_le32(r + 2), esx_le32(r + 10), n, depth + 1, joliet, err);
}

/* How many bytes of a directory libisofs reads: the size its own "." record gives (its first
 * record), not the size in its parent's record.  Walking only the parent's size would leave
 * blocks unchecked whose records libisofs still follows: records there pointing twice at one
 * directory, level after level, make the imported tree grow exponentially. */
static uint32_t scan_dir_size(const uint8_t *first_block, uint32_t parent_size)
{
    if (first_block[0] < 34 || first_block[32] != 1 || first_block[33] != 0)
        return parent_size;
    uint32_t own = esx_le32(first_block + 10);
    return own > parent_size ? own : parent_size;
}

static int scan_dir(struct isor_scan *sc, uint32_t lba, uint32_t size, size_t plen,
                    unsigned depth, bool joliet, struct esximg_err *err)
{
    uint8_t block[ESXIMG_ISO_BLOCK];
    uint32_t blocks = size / ESXIMG_ISO_BLOCK + (size % ESXIMG_ISO_BLOCK != 0);
    unsigned records = 0;
    for (uint32_t b = 0; b < blocks; b++) {
        if (lba > UINT32_MAX - b || !esx_isosrc_read(sc->src, lba + b, block))
            return 0;           /* libisofs says what is wrong */
        if (b == 0) {
            uint32_t own = scan_dir_size(block, size);
            blocks = own / ESXIMG_ISO_BLOCK + (own % ESXIMG_ISO_BLOCK != 0);
        }
        size_t pos = 0;
        while (pos + 34 <= sizeof block && block[pos] != 0) {
            size_t len = block[pos];
            /* refused rather than left to libisofs: it reads such a record anyway and
             * would follow a directory this walk never saw */
            if (len < 34 || len > sizeof block - pos || 33u + block[pos + 32] > len)
                return esximg_err_set(err, ESXIMG_EFORMAT, "directory '%.*s': the record "
                                      "at byte %zu of block %" PRIu32 " is malformed "
                                      "(length %zu, name length %u)",
                                      plen ? (int)plen : 1, plen ? sc->path : "/", pos,
                                      lba + b, len, (unsigned)block[pos + 32]);
            sc->path[plen] = '\0';
            uint64_t at = (uint64_t)(lba + b) * ESXIMG_ISO_BLOCK + pos;
            if (!joliet && at >= sc->last_record) {     /* ESXi reads no Joliet tree */
                sc->last_record = at;
                snprintf(sc->last_record_dir, sizeof sc->last_record_dir, "%s",
                         plen ? sc->path : "/");
            }
            /* libisofs skips the first two records of a folder, whatever they are named, and
             * takes every later one as an entry: a "." or ".." further on is a folder to it */
            int rc = b == 0 && records < 2 ? 0 :
                     scan_record(sc, block + pos, plen, depth, joliet, err);
            if (rc)
                return rc;
            records++;
            pos += len;
        }
    }
    return 0;
}

/* Walks the directory tree of every primary and supplementary volume descriptor. */
static int isor_scan_loops(struct esx_isosrc *src, uint64_t max_entries, unsigned max_depth,
                           struct esximg_iso *iso, struct esximg_err *err)
{
    struct isor_scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    sc->src = src;
    sc->max_entries = max_entries;
    sc->max_depth = max_depth;
    uint8_t vd[ESXIMG_ISO_BLOCK];
    int rc = 0;
    for (uint32_t lba = 16; lba < 16 + 64; lba++) {
        if (!esx_isosrc_read(src, lba, vd) || memcmp(vd + 1, "CD001", 5) != 0 ||
            vd[0] == 255)
            break;
        if (vd[0] != 1 && vd[0] != 2)
            continue;
        free(sc->seen);
        sc->seen = NULL;
        sc->seen_cap = sc->seen_n = 0;
        sc->entries = 0;
        bool fresh;
        if ((rc = scan_seen_add(sc, esx_le32(vd + 156 + 2), &fresh, err)))
            break;
        sc->path[0] = '\0';
        rc = scan_dir(sc, esx_le32(vd + 156 + 2), esx_le32(vd + 156 + 10), 0, 1,
                      vd[0] == 2, err);
        if (rc)
            break;
    }
    src->failed = false;
    iso->last_dir_record = sc->last_record;
    iso->last_dir_record_dir = esx_strdup(sc->last_record_dir[0] ? sc->last_record_dir : "/");
    if (!rc && !iso->last_dir_record_dir)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    free(sc->seen);
    free(sc);
    return rc;
}

/* The run of volume descriptors ESXi's UEFI driver reads (esx-boot uefi/iso9660): from block
 * 16 until the terminator or an identifier that does not start "CD"; its last primary one
 * is the volume it mounts.  Differing means another root directory or volume size. */
static void isor_read_pvds(struct esx_isosrc *src, struct esximg_iso *iso)
{
    uint8_t vd[ESXIMG_ISO_BLOCK], first[ESXIMG_ISO_BLOCK];
    for (uint32_t lba = 16; lba < 16 + ESX_MAX_ISO_VOLUME_DESCRIPTORS; lba++) {
        if (!esx_isosrc_read(src, lba, vd) || memcmp(vd + 1, "CD", 2) != 0 || vd[0] == 255)
            break;
        if (vd[0] != 1)
            continue;
        if (iso->pvd_count++ == 0) {
            iso->first_pvd_block = lba;
            memcpy(first, vd, sizeof first);
        }
        iso->last_pvd_block = lba;
        /* volume space size (80) and the root record's extent and size (156 + 2, + 10) */
        iso->last_pvd_differs = memcmp(vd + 80, first + 80, 4) != 0 ||
                                memcmp(vd + 156 + 2, first + 156 + 2, 4) != 0 ||
                                memcmp(vd + 156 + 10, first + 156 + 10, 4) != 0;
    }
    src->failed = false;
}

static int isor_check_size(const struct esximg_iso *iso, struct esximg_err *err)
{
    uint64_t claimed = (uint64_t)iso->volume_blocks * ESXIMG_ISO_BLOCK;
    if (claimed > iso->image_bytes)
        return esximg_err_set(err, ESXIMG_EFORMAT,
                              "image is truncated: the volume claims %" PRIu32 " blocks (%"
                              PRIu64 " bytes) but holds %" PRIu64, iso->volume_blocks, claimed,
                              iso->image_bytes);
    return 0;
}

/* Loads the image from src (taken) into a new model. */
static int isor_load(struct esx_isosrc *src, const struct esximg_iso_ropts *opts,
                     struct esximg_iso **out, struct esximg_err *err)
{
    int rc = esx_iso_lib_ready(err);
    struct esximg_iso *iso = NULL;
    if (rc) {
        esx_isosrc_free(src);
        return rc;
    }
    IsoDataSource *ds = NULL;
    if ((rc = esx_isosrc_wrap(src, &ds, err)))
        return rc;
    iso = calloc(1, sizeof *iso);
    struct esximg_iso_state *st = calloc(1, sizeof *st);
    if (!iso || !st) {
        free(st);
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    iso->state = st;
    st->ds = ds;
    st->src = src;
    ds = NULL;
    iso->image_bytes = src->len;
    uint64_t max_entries = opts && opts->max_entries ? opts->max_entries : ESX_MAX_ISO_ENTRIES;
    unsigned max_depth = opts && opts->max_depth ? opts->max_depth : ESX_MAX_ISO_DEPTH;
    isor_read_pvds(src, iso);
    if ((rc = isor_scan_loops(src, max_entries, max_depth, iso, err)) ||
        (rc = isor_import(iso, err)))
        goto out;
    if ((rc = isor_read_ids(iso))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    struct isor_walk w = {
        .iso = iso, .st = st,
        .max_entries = max_entries,
        .max_depth = max_depth,
    };
    if ((rc = walk_dir(&w, iso_image_get_root(st->image), "", 1, err)))
        goto out;
    if (!iso->rockridge && !iso->joliet)
        iso->iso_level = w.multi_extent ? 3 : w.long_names ? 2 : 1;
    if ((rc = isor_read_boot(iso, err)) || (rc = isor_index(iso, err)) ||
        (rc = isor_check_size(iso, err)))
        goto out;
    isor_check_boot_info_tables(iso);
    *out = iso;
    iso = NULL;
out:
    if (ds)
        iso_data_source_unref(ds);
    esximg_iso_close(iso);
    return rc;
}

int esximg_iso_open(const char *path, const struct esximg_iso_ropts *opts,
                    struct esximg_iso **out, struct esximg_err *err)
{
    struct esx_isosrc *src = calloc(1, sizeof *src);
    if (!src) {
        int rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        esximg_err_file(err, path);
        return rc;
    }
    src->fd = open(path, O_RDONLY | O_CLOEXEC);
    src->owns_fd = true;
    if (src->fd < 0) {
        free(src);
        int rc = esximg_err_sys(err, errno, "cannot open");
        esximg_err_file(err, path);
        return rc;
    }
    struct stat st;
    if (fstat(src->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        bool regular = fstat(src->fd, &st) == 0;
        close(src->fd);
        free(src);
        int rc = regular ? esximg_err_set(err, ESXIMG_EINVAL, "not a regular file")
                         : esximg_err_sys(err, e, "cannot stat");
        esximg_err_file(err, path);
        return rc;
    }
    src->len = (uint64_t)st.st_size;
    int rc = isor_load(src, opts, out, err);
    if (rc)
        esximg_err_file(err, path);
    return rc;
}

int esximg_iso_open_memory(const void *data, size_t len, const struct esximg_iso_ropts *opts,
                           struct esximg_iso **out, struct esximg_err *err)
{
    if (!data && len)
        return esximg_err_set(err, ESXIMG_EINVAL, "no image bytes");
    struct esx_isosrc *src = calloc(1, sizeof *src);
    if (!src)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    static const uint8_t empty[1];
    src->fd = -1;
    src->mem = data ? data : empty;
    src->len = len;
    return isor_load(src, opts, out, err);
}

void esximg_iso_close(struct esximg_iso *iso)
{
    if (!iso)
        return;
    for (size_t i = 0; i < iso->n_entries; i++)
        free(iso->entries[i].path);
    free(iso->entries);
    for (size_t i = 0; i < iso->n_boots; i++)
        free(iso->boots[i].path);
    free(iso->boots);
    free(iso->bootcat_path);
    free(iso->last_dir_record_dir);
    free(iso->volume_id);
    free(iso->system_id);
    free(iso->application_id);
    free(iso->publisher_id);
    free(iso->data_preparer_id);
    free(iso->volset_id);
    struct esximg_iso_state *st = iso->state;
    if (st) {
        if (st->image)
            iso_image_unref(st->image);
        if (st->ds)
            iso_data_source_unref(st->ds);
        free(st->nodes);
        free(st->by_name);
        free(st);
    }
    free(iso);
}

/* ---- lookup and reading ---- */

const struct esximg_iso_entry *esximg_iso_find(const struct esximg_iso *iso, const char *path)
{
    if (!iso || !path || !iso->state || !iso->state->by_name)
        return NULL;
    while (*path == '/')
        path++;
    const size_t *idx = iso->state->by_name;
    size_t lo = 0, hi = iso->n_entries;
    while (lo < hi) {                   /* first entry not below path, case ignored */
        size_t mid = lo + (hi - lo) / 2;
        if (strcasecmp(iso->entries[idx[mid]].path + 1, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct esximg_iso_entry *first = NULL;
    for (size_t i = lo; i < iso->n_entries; i++) {
        const struct esximg_iso_entry *e = &iso->entries[idx[i]];
        if (strcasecmp(e->path + 1, path) != 0)
            break;
        if (strcmp(e->path + 1, path) == 0)
            return e;
        if (!first)
            first = e;
    }
    return first;
}

struct esximg_iso_reader {
    struct esximg_iso *iso;
    const struct esximg_iso_entry *entry;
    IsoStream *stream;
    uint64_t done;
};

int esximg_iso_reader_open(struct esximg_iso *iso, const char *path,
                           struct esximg_iso_reader **out, struct esximg_err *err)
{
    if (!iso || !path)
        return esximg_err_set(err, ESXIMG_EINVAL, "no image or path");
    const struct esximg_iso_entry *e = esximg_iso_find(iso, path);
    if (!e)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "file '%s' is not in the image", path);
    if (e->type != ESXIMG_ISO_FILE)
        return esximg_err_set(err, ESXIMG_EINVAL, "'%s' is not a file", e->path);
    IsoNode *node = iso->state->nodes[e - iso->entries];
    IsoStream *stream = iso_file_get_stream((IsoFile *)node);
    if (!stream)
        return esximg_err_set(err, ESXIMG_EFORMAT, "file '%s' has no content", e->path);
    struct esximg_iso_reader *r = calloc(1, sizeof *r);
    if (!r)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    iso->state->src->failed = false;
    int rc = iso_stream_open(stream);
    if (rc < 0) {
        free(r);
        char what[ESX_MAX_PATH_BYTES + 32];
        snprintf(what, sizeof what, "cannot open file '%s'", e->path);
        return isor_fail(err, iso->state->src, rc, what);
    }
    r->iso = iso;
    r->entry = e;
    r->stream = stream;
    *out = r;
    return 0;
}

int esximg_iso_reader_read(struct esximg_iso_reader *r, void *buf, size_t n, size_t *got,
                           struct esximg_err *err)
{
    const struct esximg_iso_entry *e = r->entry;
    uint64_t left = e->size - r->done;
    size_t want = n;
    if (want > left)
        want = (size_t)left;
    if (want > INT_MAX)
        want = INT_MAX;
    if (want == 0) {
        *got = 0;
        return 0;
    }
    r->iso->state->src->failed = false;
    int rc = iso_stream_read(r->stream, buf, want);
    char what[ESX_MAX_PATH_BYTES + 32];
    if (rc < 0) {
        snprintf(what, sizeof what, "cannot read file '%s'", e->path);
        return isor_fail(err, r->iso->state->src, rc, what);
    }
    if (rc == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "file '%s' ends after %" PRIu64 " of %"
                              PRIu64 " bytes", e->path, r->done, e->size);
    r->done += (uint64_t)rc;
    *got = (size_t)rc;
    return 0;
}

const struct esximg_iso_entry *esximg_iso_reader_entry(const struct esximg_iso_reader *r)
{
    return r ? r->entry : NULL;
}

void esximg_iso_reader_close(struct esximg_iso_reader *r)
{
    if (!r)
        return;
    iso_stream_close(r->stream);
    free(r);
}

int esximg_iso_read_file(struct esximg_iso *iso, const char *path, uint64_t max_bytes,
                         uint8_t **data, size_t *len, struct esximg_err *err)
{
    struct esximg_iso_reader *r = NULL;
    int rc = esximg_iso_reader_open(iso, path, &r, err);
    if (rc)
        return rc;
    uint8_t *buf = NULL;
    uint64_t size = r->entry->size;
    if (size > max_bytes || size >= SIZE_MAX) {
        rc = esximg_err_set(err, ESXIMG_ELIMIT, "file '%s' is %" PRIu64 " bytes, more than the "
                            "limit of %" PRIu64, r->entry->path, size, max_bytes);
        goto out;
    }
    if (!(buf = malloc((size_t)size + 1))) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    size_t done = 0;
    while (done < size) {
        size_t got = 0;
        if ((rc = esximg_iso_reader_read(r, buf + done, (size_t)size - done, &got, err)))
            goto out;
        done += got;
    }
    buf[done] = 0;
    *data = buf;
    *len = done;
    buf = NULL;
out:
    free(buf);
    esximg_iso_reader_close(r);
    return rc;
}
