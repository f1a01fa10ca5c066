/* image.c: the installer image model: an ISO's BOOT.CFG copies, image database, VIBs, boot
 * entries and driver maps, joined, checked, and asked which driver claims a device. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_private.h"
#include "esximg/elf.h"
#include "esximg/hostpci.h"
#include "esximg/image.h"
#include "esximg/vmtar.h"
#include "image_private.h"

/* ---------------------------------------------------------------- problems */

/* A problem is a warning without a line; ENOMEM is the only failure (err is set by the
 * caller, which knows whether one is at hand). */
__attribute__((format(printf, 2, 3)))
static int image_problem(struct esximg_warnings *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(p, 0, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---------------------------------------------------------------- opening */

static int image_check(struct esximg_image *img, const struct esximg_image_opts *o,
                       struct esximg_err *err);

/* Reads an ISO file into a parsed BOOT.CFG; *out stays NULL when the file is absent, and when
 * it is too big or does not parse: that is a problem of the image, not a failure to open it. */
static int image_read_bootcfg(struct esximg_image *img, const char *iso_path,
                              struct esximg_bootcfg **out, struct esximg_err *err)
{
    if (!esximg_iso_find(img->iso, iso_path))
        return 0;
    uint8_t *data;
    size_t len;
    struct esximg_err cfg_err = {0};
    int rc = esximg_iso_read_file(img->iso, iso_path, ESX_MAX_BOOTCFG_BYTES, &data, &len, &cfg_err);
    if (!rc) {
        rc = esximg_bootcfg_read(data, len, NULL, out, &cfg_err);
        free(data);
    }
    if (rc == ESXIMG_EFORMAT || rc == ESXIMG_ELIMIT) {
        *out = NULL;
        if (image_problem(&img->problems, "%s: %s", iso_path, cfg_err.msg))
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        return 0;
    }
    if (rc && err) {
        *err = cfg_err;
        esximg_err_prefix(err, "'%s': ", iso_path);
    }
    return rc;
}

/* The ISO path of the image database: the modules= item named imgdb.tgz, else /IMGDB.TGZ. */
static char *image_imgdb_path(const struct esximg_image *img)
{
    const struct esximg_iso_entry *e = esximg_iso_find(img->iso, "/IMGDB.TGZ");
    return e ? esx_strdup(e->path) : NULL;
}

static int image_vib_cmp(const void *a, const void *b)
{
    const struct esximg_image_vib *x = a, *y = b;
    return strcmp(x->vib_id, y->vib_id);
}

static struct esximg_image_vib *image_vib_by_id(struct esximg_image *img, const char *id)
{
    for (size_t i = 0; i < img->vib_count; i++)
        if (!strcmp(img->vibs[i].vib_id, id))
            return &img->vibs[i];
    return NULL;
}

static int image_vib_append(struct esximg_image *img, const char *vib_id,
                            struct esximg_image_vib **out)
{
    struct esximg_image_vib *grown =
        esx_realloc_array(img->vibs, img->vib_count + 1, sizeof *img->vibs);
    if (!grown)
        return ESXIMG_ENOMEM;
    img->vibs = grown;
    struct esximg_image_vib *v = &img->vibs[img->vib_count];
    memset(v, 0, sizeof *v);
    if (!(v->vib_id = esx_strdup(vib_id)))
        return ESXIMG_ENOMEM;
    img->vib_count++;
    *out = v;
    return 0;
}

/* Joins the profile's viblist with the parsed vibs/ descriptors. A descriptor that does
 * not parse is a problem, not a failure: the image is still worth inspecting. */
static int image_load_vibs(struct esximg_image *img, struct esximg_err *err)
{
    const struct esximg_imgdb *db = img->db;
    for (size_t i = 0; i < db->vib_count; i++) {
        const struct esximg_imgdb_file *f = &db->vibs[i];
        const char *file = esx_path_base(f->path);
        struct esximg_descriptor *d;
        struct esximg_err xml_err = {0};
        if (esximg_descriptor_read(f->data, f->len, &d, &xml_err)) {
            if (image_problem(&img->problems, "vibs/%s: %s", file, xml_err.msg))
                return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            continue;
        }
        char *id = esximg_descriptor_vib_id(d);
        struct esximg_image_vib *v = id ? image_vib_by_id(img, id) : NULL;
        int rc = 0;
        if (!id)
            rc = ESXIMG_ENOMEM;
        else if (v && v->desc)
            rc = image_problem(&img->problems, "vibs/%s: a second descriptor of '%s'", file, id);
        else if (!v)
            rc = image_vib_append(img, id, &v);
        if (rc || (v && v->desc)) {
            free(id);
            esximg_descriptor_free(d);
            if (rc)
                return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            continue;
        }
        free(id);
        v->desc = d;
        v->acceptance = esximg_acceptance_parse(d->acceptance_level);
        if (!(v->xml_file = esx_strdup(file)))
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    const struct esximg_profile *p = db->profile;
    for (size_t i = 0; p && i < p->vib_count; i++) {
        struct esximg_image_vib *v = image_vib_by_id(img, p->vibs[i].vib_id);
        if (!v && image_vib_append(img, p->vibs[i].vib_id, &v))
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    if (img->vib_count)
        qsort(img->vibs, img->vib_count, sizeof *img->vibs, image_vib_cmp);
    /* entries point into the profile; set after the sort */
    for (size_t i = 0; i < img->vib_count; i++)
        img->vibs[i].entry = p ? esximg_profile_find(p, img->vibs[i].vib_id) : NULL;
    return 0;
}

/* "7.0.3-0.20.19193900" -> version "7.0.3", build "19193900". */
static int image_set_version(struct esximg_image *img, const char *full, bool from_esx_base)
{
    size_t dash = strcspn(full, "-");
    img->version = esx_strndup(full, dash);
    if (!img->version)
        return ESXIMG_ENOMEM;
    const char *dot = strrchr(full, '.');
    if (from_esx_base && full[dash] && dot && dot > full + dash) {
        if (!(img->build = esx_strdup(dot + 1)))
            return ESXIMG_ENOMEM;
    } else if (!from_esx_base && full[dash]) {
        const char *last = strrchr(full + dash, '.');
        if (last && !(img->build = esx_strdup(last + 1)))
            return ESXIMG_ENOMEM;
    }
    unsigned major = 0, minor = 0;
    if (sscanf(img->version, "%u.%u", &major, &minor) == 2) {
        img->major = major;
        img->minor = minor;
    }
    return 0;
}

static int image_find_version(struct esximg_image *img)
{
    const struct esximg_image_vib *base = esximg_image_find_vib(img, "esx-base");
    if (base && base->desc && base->desc->version)
        return image_set_version(img, base->desc->version, true);
    char *build = NULL;
    if (img->bootcfg && esximg_bootcfg_get(img->bootcfg, "build", &build, NULL) == 0 &&
        build[0]) {
        int rc = image_set_version(img, build, false);
        free(build);
        return rc;
    }
    free(build);
    return 0;
}

static void image_find_boot(struct esximg_image *img)
{
    for (size_t i = 0; i < img->iso->n_boots; i++) {
        if (img->iso->boots[i].platform_id == 0x00)
            img->bios_boot = true;
        else if (img->iso->boots[i].platform_id == 0xEF)
            img->uefi_boot = true;
    }
}

static int image_load(struct esximg_image *img, struct esximg_err *err)
{
    int rc = image_read_bootcfg(img, "/BOOT.CFG", &img->bootcfg, err);
    if (!rc)
        rc = image_read_bootcfg(img, "/EFI/BOOT/BOOT.CFG", &img->efi_bootcfg, err);
    if (rc)
        return rc;
    image_find_boot(img);
    img->imgdb_module = image_imgdb_path(img);
    if (img->imgdb_module) {
        uint8_t *data = NULL;
        size_t len = 0;
        struct esximg_err db_err = {0};
        rc = esximg_iso_read_file(img->iso, img->imgdb_module, ESX_MAX_IMGDB_BYTES, &data, &len,
                                  &db_err);
        if (rc && rc != ESXIMG_ELIMIT) {
            if (err)
                *err = db_err;
            return rc;
        }
        /* too big to be an image database: a problem of the image, like one that is not a tgz */
        if ((rc || esximg_imgdb_read(data, len, &img->db, &db_err)) &&
            image_problem(&img->problems, "%s: %s", img->imgdb_module, db_err.msg)) {
            free(data);
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        }
        free(data);
    }
    if (img->db) {
        rc = image_load_vibs(img, err);
        if (rc)
            return rc;
        esx_image_find_signatures(img);
    }
    for (size_t i = 0; i < img->vib_count; i++)
        if (img->vibs[i].desc && img->vibs[i].acceptance < ESXIMG_ACCEPT_PARTNER)
            img->community_vibs = true;
    return image_find_version(img) ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory") : 0;
}

int esximg_image_open(const char *path, const struct esximg_image_opts *o,
                      struct esximg_image **out, struct esximg_err *err)
{
    struct esximg_image *img = calloc(1, sizeof *img);
    if (!img)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = (img->path = esx_strdup(path)) ? 0
             : esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc)
        rc = esximg_iso_open(path, NULL, &img->iso, err);
    if (!rc)
        rc = image_load(img, err);
    if (!rc)
        rc = image_check(img, o, err);
    if (rc) {
        esximg_err_file(err, path);
        esximg_image_free(img);
        return rc;
    }
    *out = img;
    return 0;
}

void esximg_image_free(struct esximg_image *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->vib_count; i++) {
        free(img->vibs[i].vib_id);
        free(img->vibs[i].xml_file);
        esximg_descriptor_free(img->vibs[i].desc);
    }
    free(img->vibs);
    esximg_imgdb_free(img->db);
    esximg_bootcfg_free(img->bootcfg);
    esximg_bootcfg_free(img->efi_bootcfg);
    esximg_iso_close(img->iso);
    free(img->path);
    free(img->imgdb_module);
    free(img->version);
    free(img->build);
    esx_warnings_free(&img->problems);
    esx_warnings_free(&img->secure_boot_blockers);
    free(img);
}

const struct esximg_image_vib *esximg_image_find_vib(const struct esximg_image *img,
                                                     const char *id_or_name)
{
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        if (!strcmp(v->vib_id, id_or_name) ||
            (v->desc && v->desc->name && !strcmp(v->desc->name, id_or_name)))
            return v;
    }
    return NULL;
}

const struct esximg_iso_entry *esximg_image_payload_entry(const struct esximg_image *img,
                                                          const struct esximg_image_vib *v,
                                                          const char *payload_name)
{
    if (!v->entry)
        return NULL;
    for (size_t i = 0; i < v->entry->payload_count; i++)
        if (!strcmp(v->entry->payloads[i].payload_name, payload_name))
            return esximg_iso_find(img->iso, v->entry->payloads[i].file);
    return NULL;
}

/* ---------------------------------------------------------------- checks */

bool esx_payload_is_module(const char *type)
{
    static const char *const types[] = {"vgz", "tgz", "installer_vgz", "vzstd", "boot", NULL};
    for (size_t i = 0; type && types[i]; i++)
        if (!strcmp(type, types[i]))
            return true;
    return false;
}

static bool image_bootcfg_loads(const struct esximg_bootcfg_modules *mods, const char *kernel,
                                const char *file)
{
    if (kernel && esximg_bootcfg_module_is(kernel, file))
        return true;
    for (size_t i = 0; mods && i < mods->count; i++)
        if (esximg_bootcfg_module_is(mods->items[i].path, file))
            return true;
    return false;
}

static int image_check_bootcfg(struct esximg_image *img, struct esximg_bootcfg_modules **mods,
                               char **kernel, struct esximg_err *err)
{
    struct esximg_warnings *p = &img->problems;
    /* an unreadable copy is already a problem: do not also call it missing */
    if (!img->bootcfg) {
        if (esximg_iso_find(img->iso, "/BOOT.CFG"))
            return 0;
        return image_problem(p, "no /BOOT.CFG on the image");
    }
    if (!img->efi_bootcfg && img->uefi_boot && !esximg_iso_find(img->iso, "/EFI/BOOT/BOOT.CFG"))
        if (image_problem(p, "no /EFI/BOOT/BOOT.CFG although the image boots on UEFI"))
            return ESXIMG_ENOMEM;
    if (img->efi_bootcfg) {
        char *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        int rc = esximg_bootcfg_write(img->bootcfg, &a, &alen, err);
        if (!rc)
            rc = esximg_bootcfg_write(img->efi_bootcfg, &b, &blen, err);
        bool differ = !rc && (alen != blen || memcmp(a, b, alen) != 0);
        free(a);
        free(b);
        if (rc)
            return rc;
        if (differ && image_problem(p, "/BOOT.CFG and /EFI/BOOT/BOOT.CFG differ"))
            return ESXIMG_ENOMEM;
    }
    int rc = esximg_bootcfg_modules_get(img->bootcfg, mods, err);
    if (rc)
        return rc;
    if (esximg_bootcfg_get(img->bootcfg, "kernel", kernel, NULL) != 0) {
        *kernel = NULL;
        if (image_problem(p, "/BOOT.CFG has no kernel= line"))
            return ESXIMG_ENOMEM;
    } else if (!esximg_iso_find(img->iso, *kernel) &&
               image_problem(p, "kernel '%s' in /BOOT.CFG is missing from the ISO", *kernel)) {
        return ESXIMG_ENOMEM;
    }
    for (size_t i = 0; i < (*mods)->count; i++) {
        const char *m = (*mods)->items[i].path;
        if (!esximg_iso_find(img->iso, m) &&
            image_problem(p, "module '%s' in /BOOT.CFG is missing from the ISO", m))
            return ESXIMG_ENOMEM;
    }
    return 0;
}

/* What verify_checksums hashes, for the progress callback. */
struct image_verify {
    const struct esximg_image_opts *o;
    uint64_t done, total;
};

/* The sha-256 of an ISO file as stored, read in chunks. */
static int image_hash_file(struct esximg_image *img, const char *path, char hex[65],
                           struct image_verify *pv, struct esximg_err *err)
{
    struct esximg_iso_reader *r;
    struct esx_digest *d = NULL;
    int rc = esximg_iso_reader_open(img->iso, path, &r, err);
    if (rc)
        return rc;
    rc = esx_digest_new(ESX_SHA256, &d, err);
    uint8_t *buf = rc ? NULL : malloc(1 << 20);
    if (!rc && !buf)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t got = 1; !rc && got;) {
        rc = esximg_iso_reader_read(r, buf, 1 << 20, &got, err);
        if (!rc)
            rc = esx_digest_update(d, buf, got, err);
        pv->done += got;
        if (!rc && pv->o->progress)
            pv->o->progress(pv->done < pv->total ? pv->done : pv->total, pv->total,
                            pv->o->progress_arg);
    }
    if (!rc)
        rc = esx_digest_final_hex(d, hex, err);
    free(buf);
    esx_digest_free(d);
    esximg_iso_reader_close(r);
    return rc;
}

static const char *image_plain_sha256(const struct esximg_payload *pl)
{
    for (size_t i = 0; i < pl->checksum_count; i++)
        if (!strcmp(pl->checksums[i].type, "sha-256") && !pl->checksums[i].verify_process)
            return pl->checksums[i].value;
    return NULL;
}

/* The module file the profile maps a payload to, or NULL. */
static const char *image_payload_file(const struct esximg_image_vib *v,
                                      const struct esximg_payload *pl)
{
    const char *file = NULL;
    for (size_t i = 0; v->entry && i < v->entry->payload_count; i++)
        if (!strcmp(v->entry->payloads[i].payload_name, pl->name))
            file = v->entry->payloads[i].file;
    return file;
}

static int image_check_payload(struct esximg_image *img, const struct esximg_image_vib *v,
                               const struct esximg_payload *pl,
                               const struct esximg_bootcfg_modules *mods, const char *kernel,
                               struct image_verify *pv, struct esximg_err *err)
{
    struct esximg_warnings *p = &img->problems;
    const struct esximg_image_opts *o = pv->o;
    const char *file = image_payload_file(v, pl);
    if (!file)
        return image_problem(p, "payload '%s' of '%s' has no module in the profile", pl->name,
                             v->vib_id);
    const struct esximg_iso_entry *e = esximg_iso_find(img->iso, file);
    if (!e)
        return image_problem(p, "module '%s' of '%s' is missing from the ISO", file,
                             v->vib_id);
    if (!image_bootcfg_loads(mods, kernel, file))
        return image_problem(p, "module '%s' of '%s' is not loaded by /BOOT.CFG", file,
                             v->vib_id);
    if (pl->has_size && pl->size != e->size)
        return image_problem(p, "module '%s' of '%s' is %llu bytes, its descriptor says %llu",
                             file, v->vib_id, (unsigned long long)e->size,
                             (unsigned long long)pl->size);
    const char *want = image_plain_sha256(pl);
    if (!o || !o->verify_checksums || !want)
        return 0;
    char got[65];
    int rc = image_hash_file(img, e->path, got, pv, err);
    if (rc)
        return rc;
    if (strcasecmp(got, want))
        return image_problem(p, "module '%s' of '%s': sha-256 %s, its descriptor says %s",
                             file, v->vib_id, got, want);
    return 0;
}

/* The bytes verify_checksums will hash: the modules image_check_payload hashes. */
static uint64_t image_verify_total(const struct esximg_image *img)
{
    uint64_t total = 0;
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        for (size_t j = 0; v->desc && v->entry && j < v->desc->payload_count; j++) {
            const struct esximg_payload *pl = &v->desc->payloads[j];
            const char *file = image_payload_file(v, pl);
            const struct esximg_iso_entry *e = file ? esximg_iso_find(img->iso, file) : NULL;
            if (e && esx_payload_is_module(pl->type) && image_plain_sha256(pl) &&
                esx_add_u64(total, e->size, &total))
                return UINT64_MAX;
        }
    }
    return total;
}

static int image_check_vibs(struct esximg_image *img, const struct esximg_bootcfg_modules *mods,
                            const char *kernel, const struct esximg_image_opts *o,
                            struct esximg_err *err)
{
    static const struct esximg_image_opts none = {0};
    struct image_verify pv = {.o = o ? o : &none};
    if (pv.o->verify_checksums && pv.o->progress && img->db) {
        pv.total = image_verify_total(img);
        pv.o->progress(0, pv.total, pv.o->progress_arg);
    }
    struct esximg_warnings *p = &img->problems;
    if (!img->db)   /* an unreadable one is already a problem */
        return img->imgdb_module ? 0
                                 : image_problem(p, "no image database (IMGDB.TGZ) on the image");
    if (!img->db->profile && image_problem(p, "no image profile in %s", img->imgdb_module))
        return ESXIMG_ENOMEM;
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        int rc = 0;
        if (!v->desc)
            rc = image_problem(p, "VIB '%s' is in the profile but has no descriptor in vibs/",
                               v->vib_id);
        else if (!v->entry && img->db->profile)
            rc = image_problem(p, "VIB '%s' has a descriptor (vibs/%s) but is not in the "
                               "profile", v->vib_id, v->xml_file);
        else if (img->major >= 7 && esximg_descriptor_is_vmklinux(v->desc))
            rc = image_problem(p, "VIB '%s' is a vmklinux driver: ESXi %u.%u has no vmklinux, it "
                               "will never load", v->vib_id, img->major, img->minor);
        for (size_t j = 0; !rc && v->desc && v->entry && j < v->desc->payload_count; j++)
            if (esx_payload_is_module(v->desc->payloads[j].type))
                rc = image_check_payload(img, v, &v->desc->payloads[j], mods, kernel, &pv,
                                         err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The rules of ESXi's boot loader (bootcfg.h) broken by one BOOT.CFG copy. */
static int image_check_loader_cfg(struct esximg_image *img, const struct esximg_bootcfg *cfg,
                                  const char *name, struct esximg_err *err)
{
    struct esximg_bootcfg_violations *v = NULL;
    int rc = cfg ? esximg_bootcfg_check_loader(cfg, &v, err) : 0;
    for (size_t i = 0; !rc && v && i < v->count; i++)
        rc = image_problem(&img->problems, "%s line %zu: %s", name, v->items[i].line,
                           v->items[i].msg);
    esximg_bootcfg_violations_free(v);
    return rc;
}

/* What ESXi's loader reads differently from libisofs: both BOOT.CFG copies against mboot's
 * rules, the primary volume descriptor it mounts (the last), files of several extents and
 * directory records beyond 4 GiB (esx-boot uefi/iso9660). */
static int image_check_loader(struct esximg_image *img, struct esximg_err *err)
{
    const struct esximg_iso *iso = img->iso;
    struct esximg_warnings *p = &img->problems;
    int rc = image_check_loader_cfg(img, img->bootcfg, "/BOOT.CFG", err);
    if (!rc)
        rc = image_check_loader_cfg(img, img->efi_bootcfg, "/EFI/BOOT/BOOT.CFG", err);
    if (!rc && iso->pvd_count > 1 && iso->last_pvd_differs)
        rc = image_problem(p, "%" PRIu32 " primary volume descriptors name different trees: "
                           "ESXi's UEFI loader mounts the last (block %" PRIu32 "), libisofs "
                           "and esximg read the first (block %" PRIu32 ")", iso->pvd_count,
                           iso->last_pvd_block, iso->first_pvd_block);
    for (size_t i = 0; !rc && i < iso->n_entries; i++)
        if (iso->entries[i].extents > 1)
            rc = image_problem(p, "file '%s' has %" PRIu32 " extents (%" PRIu64 " bytes): "
                               "ESXi's UEFI loader reads single-extent files only",
                               iso->entries[i].path, iso->entries[i].extents,
                               iso->entries[i].size);
    if (!rc && iso->last_dir_record >= ESXIMG_ISO_MAX_DIR_RECORD_OFFSET)
        rc = image_problem(p, "directory '%s' has a record at byte %" PRIu64 ", at or beyond "
                           "4 GiB: ESXi's UEFI loader keeps record offsets in 32 bits and may "
                           "confuse it", iso->last_dir_record_dir, iso->last_dir_record);
    return rc;
}

static int image_check(struct esximg_image *img, const struct esximg_image_opts *o,
                       struct esximg_err *err)
{
    /* open may have recorded unreadable parts: keep those, redo the rest */
    struct esximg_bootcfg_modules *mods = NULL;
    char *kernel = NULL;
    int rc = image_check_bootcfg(img, &mods, &kernel, err);
    if (!rc)
        rc = image_check_vibs(img, mods, kernel, o, err);
    if (!rc)
        rc = image_check_loader(img, err);
    if (!rc)
        rc = esx_image_check_signatures(img, o && o->verify_checksums, mods, err);
    esximg_bootcfg_modules_free(mods);
    free(kernel);
    if (rc == ESXIMG_ENOMEM && err && err->code != ESXIMG_ENOMEM)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return rc;
}

/* ---------------------------------------------------------------- drivers */

/* Map and ids files by where ESXi looks for them. */
static bool image_is_map_path(const char *path)
{
    return fnmatch("etc/vmware/*.map.d/*", path, FNM_PATHNAME) == 0;
}

static bool image_is_ids_path(const char *path)
{
    return fnmatch("usr/share/hwdata/*.pciids.d/*", path, FNM_PATHNAME) == 0;
}

static const char *image_strip_root(const char *path)
{
    while (path[0] == '/' || (path[0] == '.' && path[1] == '/'))
        path += path[0] == '/' ? 1 : 2;
    return path;
}

/* Where one payload's driver files go, and what it was read from. */
struct image_payload_ctx {
    struct esximg_image_drivers *d;
    const struct esximg_image_vib *vib;
    const char *module;
    size_t remaining;           /* driver files the file-list names and not yet read */
    bool want_maps;             /* read map and ids files (else only ELF headers) */
    uint16_t machine;           /* the image's: other ELF machines are foreign */
    char *foreign_path;         /* the first foreign ELF file, NULL while there is none */
    uint16_t foreign_machine;
};

static bool image_is_map_path(const char *path);
static bool image_is_ids_path(const char *path);
static const char *image_strip_root(const char *path);

static bool image_is_driver_file(const struct image_payload_ctx *c, const char *name)
{
    const char *path = image_strip_root(name);
    return c->want_maps && (image_is_map_path(path) || image_is_ids_path(path));
}

/* An ELF header (the first bytes of a file): the first one of another machine is kept. */
static int image_take_elf(struct image_payload_ctx *c, const char *name, const uint8_t *head,
                          size_t len, struct esximg_err *err)
{
    uint16_t machine;
    if (c->foreign_path || !esximg_elf_sniff(head, len) ||
        esximg_elf_machine(head, len, &machine, NULL) || machine == c->machine)
        return 0;
    if (!(c->foreign_path = esx_strdup(image_strip_root(name))))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    c->foreign_machine = machine;
    return 0;
}

static int image_add_map(struct image_payload_ctx *c, const char *path, const uint8_t *data,
                         size_t len, struct esximg_err *err)
{
    struct esximg_drivermap_ropts ro = {.path = path};
    struct esximg_drivermap *map;
    struct esximg_err perr = {0};
    if (esximg_drivermap_read(data, len, &ro, &map, &perr))
        return image_problem(&c->d->problems, "%s: '%s': %s", c->module, path, perr.msg);
    struct esximg_image_map *grown =
        esx_realloc_array(c->d->maps, c->d->map_count + 1, sizeof *c->d->maps);
    if (!grown) {
        esximg_drivermap_free(map);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    c->d->maps = grown;
    struct esximg_image_map *m = &c->d->maps[c->d->map_count++];
    m->vib = c->vib;
    m->map = map;
    m->module = esx_strdup(c->module);
    m->path = esx_strdup(path);
    if (!m->module || !m->path)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int image_add_ids(struct image_payload_ctx *c, const char *path, const uint8_t *data,
                         size_t len, struct esximg_err *err)
{
    struct esximg_pciids *ids;
    struct esximg_err perr = {0};
    if (esximg_pciids_read(data, len, NULL, &ids, &perr))
        return image_problem(&c->d->problems, "%s: '%s': %s", c->module, path, perr.msg);
    struct esximg_image_ids *grown =
        esx_realloc_array(c->d->ids, c->d->ids_count + 1, sizeof *c->d->ids);
    if (!grown) {
        esximg_pciids_free(ids);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    c->d->ids = grown;
    struct esximg_image_ids *m = &c->d->ids[c->d->ids_count++];
    m->vib = c->vib;
    m->ids = ids;
    m->module = esx_strdup(c->module);
    m->path = esx_strdup(path);
    if (!m->module || !m->path)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int image_take_file(struct image_payload_ctx *c, const char *name, const uint8_t *data,
                           size_t len, struct esximg_err *err)
{
    const char *path = image_strip_root(name);
    if (!image_is_driver_file(c, name))
        return image_take_elf(c, name, data, len, err);
    if (c->remaining > 0)
        c->remaining--;
    if (image_is_map_path(path))
        return image_add_map(c, path, data, len, err);
    if (image_is_ids_path(path))
        return image_add_ids(c, path, data, len, err);
    return 0;
}

/* A payload module read as a stream from the ISO: the first bytes, kept to sniff the format,
 * then the rest as the reader gives it. */
struct image_module_stream {
    struct esximg_iso_reader *reader;   /* NULL: the bytes are in mem */
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    uint8_t head[65536];
    size_t head_len, head_pos;
    uint8_t block[65536];       /* libarchive's read buffer */
    struct esximg_err err;      /* what went wrong under libarchive */
};

static int image_stream_read(void *ctx, void *buf, size_t n, size_t *got,
                             struct esximg_err *err)
{
    struct image_module_stream *m = ctx;
    if (m->head_pos < m->head_len) {
        size_t take = m->head_len - m->head_pos < n ? m->head_len - m->head_pos : n;
        memcpy(buf, m->head + m->head_pos, take);
        m->head_pos += take;
        *got = take;
        return 0;
    }
    if (m->reader)
        return esximg_iso_reader_read(m->reader, buf, n, got, err);
    size_t take = m->mem_len - m->mem_pos < n ? m->mem_len - m->mem_pos : n;
    memcpy(buf, m->mem + m->mem_pos, take);
    m->mem_pos += take;
    *got = take;
    return 0;
}

/* The first bytes of the payload into head (enough to sniff the format, even through gzip). */
static int image_stream_head(struct image_module_stream *m, struct esximg_err *err)
{
    while (m->head_len < sizeof m->head) {
        size_t got = 0;
        int rc = m->reader ? esximg_iso_reader_read(m->reader, m->head + m->head_len,
                                                    sizeof m->head - m->head_len, &got, err)
                           : 0;
        if (!m->reader) {
            got = m->mem_len - m->mem_pos < sizeof m->head - m->head_len
                      ? m->mem_len - m->mem_pos : sizeof m->head - m->head_len;
            memcpy(m->head + m->head_len, m->mem + m->mem_pos, got);
            m->mem_pos += got;
        }
        if (rc)
            return rc;
        if (got == 0)
            break;
        m->head_len += got;
    }
    return 0;
}

static la_ssize_t image_archive_read(struct archive *a, void *ctx, const void **buf)
{
    struct image_module_stream *m = ctx;
    size_t got = 0;
    if (image_stream_read(m, m->block, sizeof m->block, &got, &m->err)) {
        archive_set_error(a, EIO, "%s", m->err.msg);
        return -1;
    }
    *buf = m->block;
    return (la_ssize_t)got;
}

static bool image_is_file_type(char typeflag)
{
    return typeflag == ESXIMG_VMTAR_FILE || typeflag == ESXIMG_VMTAR_OLDFILE ||
           typeflag == ESXIMG_VMTAR_SHARED;
}

/* Map and ids files whole; of every other file (kernel modules are typeflag 7, but an ELF
 * file may be stored as a plain file too) the ELF header only. */
static bool image_wants(void *ctx, const struct esximg_vmtar_entry *e)
{
    if (image_is_driver_file(ctx, e->name))
        return e->size <= ESX_MAX_TEXT_BYTES;
    return image_is_file_type(e->typeflag);
}

static bool image_head_only(void *ctx, const struct esximg_vmtar_entry *e)
{
    return !image_is_driver_file(ctx, e->name);
}

static int image_take_entry(void *ctx, const struct esximg_vmtar_entry *e,
                            const uint8_t *content, struct esximg_err *err)
{
    size_t len = (size_t)e->size;
    if (image_head_only(ctx, e) && len > ESXIMG_ELF_HEAD)
        len = ESXIMG_ELF_HEAD;
    return image_take_file(ctx, e->name, content, len, err);
}

/* A vmtar payload: its headers come first, so only the map and ids contents are inflated. */
static int image_scan_vmtar(struct image_payload_ctx *c, struct image_module_stream *m,
                            struct esximg_err *err)
{
    struct esximg_vmtar_source src = {.read = image_stream_read, .ctx = m};
    struct esximg_vmtar_scan_opts o = {.want = image_wants, .take = image_take_entry, .ctx = c,
                                       .max_bytes = ESX_MAX_DRIVER_PAYLOAD_BYTES,
                                       .head_only = image_head_only,
                                       .head_bytes = ESXIMG_ELF_HEAD};
    struct esximg_err perr = {0};
    int rc = esximg_vmtar_scan(&src, &o, &perr);
    if (rc == ESXIMG_ENOMEM) {
        *err = perr;
        return rc;
    }
    return rc ? image_problem(&c->d->problems, "%s: %s", c->module, perr.msg) : 0;
}

/* A gzip'd GNU or POSIX tar payload, through libarchive, up to the last driver file. */
static int image_scan_tar(struct image_payload_ctx *c, struct image_module_stream *m,
                          struct esximg_err *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    archive_read_support_filter_gzip(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open(a, m, NULL, image_archive_read, NULL) != ARCHIVE_OK) {
        rc = image_problem(&c->d->problems, "%s: %s", c->module, archive_error_string(a));
        archive_read_free(a);
        return rc;
    }
    struct archive_entry *ae;
    int ar = ARCHIVE_EOF;
    /* every entry is looked at: an ELF file may come after the last map */
    while (!rc && (ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(ae);
        int64_t size = archive_entry_size(ae);
        if (!name || archive_entry_filetype(ae) != AE_IFREG || size < 0)
            continue;
        if (!image_is_driver_file(c, name)) {
            uint8_t head[ESXIMG_ELF_HEAD];
            la_ssize_t got = archive_read_data(a, head, sizeof head);
            if (got > 0)
                rc = image_take_elf(c, name, head, (size_t)got, err);
            continue;
        }
        if ((uint64_t)size > ESX_MAX_TEXT_BYTES)
            continue;
        uint8_t *buf = malloc((size_t)size + 1);
        if (!buf) {
            rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
            break;
        }
        la_ssize_t got = archive_read_data(a, buf, (size_t)size);
        if (got != (la_ssize_t)size)
            rc = image_problem(&c->d->problems, "%s: '%s': %s", c->module, name,
                               got < 0 ? archive_error_string(a) : "entry is truncated");
        else
            rc = image_take_file(c, name, buf, (size_t)size, err);
        free(buf);
    }
    if (!rc && ar != ARCHIVE_EOF && ar != ARCHIVE_OK)
        rc = image_problem(&c->d->problems, "%s: %s", c->module, archive_error_string(a));
    archive_read_free(a);
    return rc;
}

/* Boot payloads (the kernel, jumpstrt, useropts, features, ...) are loaded by the boot loader
 * as they are: they carry no driver maps, and esx-base has several of them. */
static bool image_payload_has_files(const char *type)
{
    return strcmp(type, "boot") != 0;
}

/* One payload from the ISO (img) or from memory (data, len when img is NULL). */
static int image_scan_payload(struct esximg_image *img, const uint8_t *data, size_t len,
                              struct image_payload_ctx *c, const char *type,
                              struct esximg_err *err)
{
    if (!image_payload_has_files(type))
        return 0;
    if (strcmp(type, "vgz") && strcmp(type, "tgz") && strcmp(type, "installer_vgz"))
        return image_problem(&c->d->problems, "%s: payload type '%s' is not read for driver "
                             "maps", c->module, type);
    struct image_module_stream *m = calloc(1, sizeof *m);
    if (!m)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    m->mem = data;
    m->mem_len = len;
    int rc = img ? esximg_iso_reader_open(img->iso, c->module, &m->reader, err) : 0;
    if (!rc)
        rc = image_stream_head(m, err);
    if (!rc) {
        int format = esximg_vmtar_sniff_data(m->head, m->head_len, NULL);
        if (format == ESXIMG_TAR_VMTAR)
            rc = image_scan_vmtar(c, m, err);
        else if (format == ESXIMG_TAR_GNU || format == ESXIMG_TAR_USTAR)
            rc = image_scan_tar(c, m, err);
        else
            rc = image_problem(&c->d->problems, "%s: neither a vmtar nor a tar", c->module);
    }
    esximg_iso_reader_close(m->reader);
    free(m);
    return rc;
}

/* How many map and ids files a descriptor's file-list names: the tar reader stops there. */
static size_t image_driver_file_count(const struct esximg_descriptor *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->file_count; i++) {
        const char *f = image_strip_root(d->files[i]);
        n += image_is_map_path(f) || image_is_ids_path(f);
    }
    return n;
}

/* Records the first foreign ELF file of a VIB. */
static int image_add_foreign(struct esximg_image_drivers *d, struct image_payload_ctx *c,
                             struct esximg_err *err)
{
    for (size_t i = 0; i < d->foreign_count; i++)
        if (d->foreign[i].vib == c->vib)
            return 0;
    struct esximg_image_foreign *grown =
        esx_realloc_array(d->foreign, d->foreign_count + 1, sizeof *d->foreign);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    d->foreign = grown;
    struct esximg_image_foreign *f = &d->foreign[d->foreign_count++];
    f->vib = c->vib;
    f->machine = c->foreign_machine;
    f->path = c->foreign_path;
    c->foreign_path = NULL;
    if (!(f->module = esx_strdup(c->module)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

int esximg_image_drivers(struct esximg_image *img, struct esximg_image_drivers **out,
                         struct esximg_err *err)
{
    struct esximg_image_drivers *d = calloc(1, sizeof *d);
    if (!d)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = esximg_image_machine(img, &d->machine, &d->machine_from_kernel, err);
    for (size_t i = 0; !rc && i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        if (!v->desc || !v->entry || image_driver_file_count(v->desc) == 0)
            continue;
        for (size_t j = 0; !rc && j < v->desc->payload_count; j++) {
            const struct esximg_payload *pl = &v->desc->payloads[j];
            const struct esximg_iso_entry *e = esximg_image_payload_entry(img, v, pl->name);
            if (!e)
                continue;   /* already a problem of the image */
            struct image_payload_ctx c = {.d = d, .vib = v, .module = e->path,
                                          .remaining = image_driver_file_count(v->desc),
                                          .want_maps = true, .machine = d->machine};
            rc = image_scan_payload(img, NULL, 0, &c, pl->type, err);
            if (!rc && c.foreign_path)
                rc = image_add_foreign(d, &c, err);
            free(c.foreign_path);
        }
    }
    if (rc == ESXIMG_ENOMEM && err && err->code != ESXIMG_ENOMEM)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (rc) {
        esximg_image_drivers_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void esximg_image_drivers_free(struct esximg_image_drivers *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->map_count; i++) {
        esximg_drivermap_free(d->maps[i].map);
        free(d->maps[i].module);
        free(d->maps[i].path);
    }
    free(d->maps);
    for (size_t i = 0; i < d->ids_count; i++) {
        esximg_pciids_free(d->ids[i].ids);
        free(d->ids[i].module);
        free(d->ids[i].path);
    }
    free(d->ids);
    for (size_t i = 0; i < d->foreign_count; i++) {
        free(d->foreign[i].module);
        free(d->foreign[i].path);
    }
    free(d->foreign);
    esx_warnings_free(&d->problems);
    free(d);
}

int esx_payload_foreign_elf(const uint8_t *data, size_t len, const char *type,
                            uint16_t machine, char **path, uint16_t *found,
                            struct esximg_err *err)
{
    struct esximg_image_drivers scratch = {0};
    struct image_payload_ctx c = {.d = &scratch, .module = "payload", .machine = machine};
    int rc = image_scan_payload(NULL, data, len, &c, type, err);
    esx_warnings_free(&scratch.problems);   /* unreadable payloads are the caller's to judge */
    if (rc) {
        free(c.foreign_path);
        return rc;
    }
    *path = c.foreign_path;
    *found = c.foreign_machine;
    return 0;
}

/* The first bytes of a module, gunzipped when it is a gzip member. */
static int image_module_head(const struct esximg_image *img, const char *path, uint8_t *head,
                             size_t *len, struct esximg_err *err)
{
    struct image_module_stream *m = calloc(1, sizeof *m);
    if (!m)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    int rc = esximg_iso_reader_open(img->iso, path, &m->reader, err);
    if (!rc)
        rc = image_stream_head(m, err);
    esximg_iso_reader_close(m->reader);
    *len = 0;
    if (!rc && esx_is_gzip(m->head, m->head_len)) {
        struct esx_gzstream *z = NULL;
        /* a truncated member is fine: only its first bytes are inflated */
        if (!esx_gzstream_open(m->head, m->head_len, &z, NULL)) {
            for (size_t got = 1; got && *len < ESXIMG_ELF_HEAD;) {
                if (esx_gzstream_read(z, head + *len, ESXIMG_ELF_HEAD - *len, &got, NULL))
                    break;
                *len += got;
            }
        }
        esx_gzstream_close(z);
    } else if (!rc) {
        *len = m->head_len < ESXIMG_ELF_HEAD ? m->head_len : ESXIMG_ELF_HEAD;
        memcpy(head, m->head, *len);
    }
    free(m);
    return rc;
}

int esximg_image_machine(const struct esximg_image *img, uint16_t *machine, bool *from_kernel,
                         struct esximg_err *err)
{
    *machine = ESXIMG_EM_X86_64;
    *from_kernel = false;
    char *kernel = NULL;
    if (!img->bootcfg || esximg_bootcfg_get(img->bootcfg, "kernel", &kernel, NULL) != 0) {
        free(kernel);
        return 0;
    }
    const struct esximg_iso_entry *e = esximg_iso_find(img->iso, kernel);
    free(kernel);
    if (!e)
        return 0;   /* already a problem of the image */
    uint8_t head[ESXIMG_ELF_HEAD];
    size_t len = 0;
    int rc = image_module_head(img, e->path, head, &len, err);
    uint16_t m;
    if (rc || esximg_elf_machine(head, len, &m, NULL))
        return rc == ESXIMG_ENOMEM ? rc : 0;
    /* an x86 boot kernel is 32-bit (EM_386); the vmkernel and its modules are x86-64 */
    *machine = m == ESXIMG_EM_386 ? ESXIMG_EM_X86_64 : m;
    *from_kernel = true;
    return 0;
}

const char *esximg_image_vendor_name(const struct esximg_image_drivers *d, uint16_t vendor)
{
    for (size_t i = 0; i < d->ids_count; i++) {
        const char *n = esximg_pciids_vendor_name(d->ids[i].ids, vendor);
        if (n)
            return n;
    }
    return NULL;
}

const char *esximg_image_device_name(const struct esximg_image_drivers *d, uint16_t vendor,
                                     uint16_t device)
{
    for (size_t i = 0; i < d->ids_count; i++) {
        const char *n = esximg_pciids_device_name(d->ids[i].ids, vendor, device);
        if (n)
            return n;
    }
    return NULL;
}

/* ---------------------------------------------------------------- host check */

static enum esximg_hcl_kind image_device_kind(const struct esximg_pci_device *dev)
{
    if (!dev->has_class)
        return ESXIMG_HCL_OTHER;
    if (dev->class_code >> 8 == 0x02)
        return ESXIMG_HCL_NETWORK;
    if (dev->class_code >> 8 == 0x01)
        return ESXIMG_HCL_STORAGE;
    return ESXIMG_HCL_OTHER;
}

/* vmklinux was removed in 7.0: its drivers never load there. */
static bool image_class_loads(const struct esximg_image *img, enum esximg_map_class cls)
{
    return cls != ESXIMG_MAP_VMKLINUX || img->major == 0 || img->major < 7;
}

static const struct esximg_image_map *image_map_of(const struct esximg_image_drivers *d,
                                                   const struct esximg_drivermap *map)
{
    for (size_t i = 0; i < d->map_count; i++)
        if (d->maps[i].map == map)
            return &d->maps[i];
    return NULL;
}

static const struct esximg_image_foreign *image_foreign_of(const struct esximg_image_drivers *d,
                                                           const struct esximg_image_map *m)
{
    for (size_t i = 0; m && i < d->foreign_count; i++)
        if (d->foreign[i].vib == m->vib)
            return &d->foreign[i];
    return NULL;
}

static bool image_module_disabled(const struct esximg_hcl_opts *o, const char *driver)
{
    for (size_t i = 0; o && i < o->disabled_count; i++)
        if (strcmp(o->disabled[i], driver) == 0)
            return true;
    return false;
}

int esximg_image_hcl(const struct esximg_image *img, const struct esximg_image_drivers *d,
                     const struct esximg_pci_device *dev, struct esximg_hcl_result *out,
                     struct esximg_err *err)
{
    return esximg_image_hcl_opts(img, d, dev, NULL, out, err);
}

int esximg_image_hcl_opts(const struct esximg_image *img, const struct esximg_image_drivers *d,
                          const struct esximg_pci_device *dev, const struct esximg_hcl_opts *o,
                          struct esximg_hcl_result *out, struct esximg_err *err)
{
    memset(out, 0, sizeof *out);
    out->dev = *dev;
    out->kind = image_device_kind(dev);
    out->vendor_name = esximg_image_vendor_name(d, dev->vendor);
    out->device_name = esximg_image_device_name(d, dev->vendor, dev->device);
    const struct esximg_drivermap **maps = esx_malloc_array(d->map_count + 1, sizeof *maps);
    if (!maps)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->map_count; i++)
        maps[i] = d->maps[i].map;
    struct esximg_map_match *all = NULL;
    int rc = esximg_drivermap_match(maps, d->map_count, dev, &all, err);
    free(maps);
    if (rc)
        return rc;
    out->claims = esx_malloc_array(all->claim_count + 1, sizeof *out->claims);
    if (!out->claims) {
        esximg_map_match_free(all);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    /* the winner among the drivers that can load; vmklinux and foreign claims stay listed */
    struct esximg_map_match loadable = {.claims = esx_malloc_array(all->claim_count + 1,
                                                                   sizeof *all->claims)};
    if (!loadable.claims) {
        esximg_map_match_free(all);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < all->claim_count; i++) {
        const struct esximg_map_claim *c = &all->claims[i];
        struct esximg_hcl_claim *h = &out->claims[out->claim_count++];
        h->driver = c->entry->driver;
        h->map_class = c->map_class;
        h->map = image_map_of(d, c->map);
        h->line = c->entry->line;
        h->foreign = image_foreign_of(d, h->map);
        if (h->foreign)
            h->why_not = ESXIMG_HCL_NOLOAD_FOREIGN;
        else if (!image_class_loads(img, c->map_class))
            h->why_not = ESXIMG_HCL_NOLOAD_VMKLINUX;
        else if (image_module_disabled(o, h->driver))
            h->why_not = ESXIMG_HCL_NOLOAD_DISABLED;
        h->loads = h->why_not == ESXIMG_HCL_LOADS;
        if (h->loads)
            loadable.claims[loadable.claim_count++] = *c;
    }
    struct esximg_map_winner w;
    esximg_drivermap_pick(&loadable, &w);
    out->rule = w.rule;
    out->inferred = w.inferred;
    if (w.claim) {
        out->verdict = ESXIMG_HCL_DRIVEN;
        for (size_t i = 0; i < out->claim_count; i++)
            if (out->claims[i].loads && out->claims[i].line == w.claim->entry->line &&
                out->claims[i].driver == w.claim->entry->driver)
                out->winner = &out->claims[i];
    } else {
        out->verdict = out->claim_count ? ESXIMG_HCL_WONT_LOAD : ESXIMG_HCL_NO_DRIVER;
    }
    free(loadable.claims);
    esximg_map_match_free(all);
    return 0;
}

void esximg_hcl_result_clear(struct esximg_hcl_result *r)
{
    free(r->claims);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- a running host's devices */

/* ESXi names uplinks vmnicN and storage adapters vmhbaN: the kind when no class was given. */
static enum esximg_hcl_kind image_kind_from_name(const char *vmkernel_name)
{
    if (!vmkernel_name)
        return ESXIMG_HCL_OTHER;
    if (strncmp(vmkernel_name, "vmnic", 5) == 0)
        return ESXIMG_HCL_NETWORK;
    if (strncmp(vmkernel_name, "vmhba", 5) == 0)
        return ESXIMG_HCL_STORAGE;
    return ESXIMG_HCL_OTHER;
}

static enum esximg_hcl_transition image_transition(const struct esximg_host_device *dev,
                                                   const char *then)
{
    const char *now = dev->driver;
    if (!dev->driver_known)
        return ESXIMG_HCL_NOW_UNKNOWN;
    if (now && strcmp(now, ESXIMG_HOSTPCI_PASSTHRU) == 0)
        return ESXIMG_HCL_PASSTHROUGH;
    if (now && then)
        return strcmp(now, then) == 0 ? ESXIMG_HCL_KEEPS : ESXIMG_HCL_CHANGES;
    if (now)
        return ESXIMG_HCL_LOSES;
    return then ? ESXIMG_HCL_GAINS : ESXIMG_HCL_STAYS_WITHOUT;
}

int esximg_image_device_verdict(const struct esximg_image *img,
                                const struct esximg_image_drivers *d,
                                const struct esximg_host_device *dev,
                                const char *const *disabled, size_t disabled_count,
                                struct esximg_device_verdict *out, struct esximg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!dev->has_ids)
        return esximg_err_set(err, ESXIMG_EINVAL, "device '%s': no PCI ids",
                              dev->slot ? dev->slot : "?");
    struct esximg_hcl_opts o = {.disabled = disabled, .disabled_count = disabled_count};
    int rc = esximg_image_hcl_opts(img, d, &dev->pci, &o, &out->image, err);
    if (rc)
        return rc;
    if (!dev->pci.has_class) {
        out->image.kind = image_kind_from_name(dev->vmkernel_name);
        out->kind_from_name = out->image.kind != ESXIMG_HCL_OTHER;
    }
    out->driver_now = dev->driver_known ? dev->driver : NULL;
    out->driver_then = out->image.winner ? out->image.winner->driver : NULL;
    for (size_t i = 0; out->driver_now && i < out->image.claim_count && !out->now_claim; i++)
        if (strcmp(out->image.claims[i].driver, out->driver_now) == 0)
            out->now_claim = &out->image.claims[i];
    out->transition = image_transition(dev, out->driver_then);
    out->loses_needed = out->transition == ESXIMG_HCL_LOSES &&
                        (out->image.kind == ESXIMG_HCL_NETWORK ||
                         out->image.kind == ESXIMG_HCL_STORAGE);
    return 0;
}

void esximg_device_verdict_clear(struct esximg_device_verdict *v)
{
    esximg_hcl_result_clear(&v->image);
    memset(v, 0, sizeof *v);
}
