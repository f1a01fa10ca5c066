/* imgexport.c: an image's VIBs rebuilt from its database and modules, as an offline bundle.
 *
 * The descriptor is the database's vibs/ copy verbatim: the .orig of a signed VIB (the bytes
 * its sig.pkcs7 signs), else the .xml.  An ISO's copies carry no host-only
 * element; a database copied from a host may carry <installdate>: it is kept as it is (the
 * descriptor may be signed, so it is never re-serialised, and esximg_vib_read and esxcli both
 * accept it). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/bootinfo.h"
#include "esximg/depot.h"
#include "esximg/imgbuild.h"
#include "esximg/imgexport.h"

/* The descriptor a signed VIB was signed over: the database's .orig when there is one (a
 * host's .xml may be re-serialised), else the .xml. A signature that does not sign it would
 * make a VIB that esxcli refuses: refused here instead. */
static int export_descriptor(const struct esximg_image_vib *v, const struct esximg_imgdb_file *xml,
                             const struct esximg_imgdb_file **desc, struct esximg_err *err)
{
    *desc = v->orig_xml ? v->orig_xml : xml;
    if (!v->is_signed)
        return 0;
    char *why = NULL;
    int rc = esx_sig_signs(v->sig->data, v->sig->len, (*desc)->data ? (*desc)->data : (void *)"",
                           (*desc)->len, &why, err);
    if (!rc && why)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "VIB '%s': vibs/%s.sig does not sign its "
                            "descriptor (vibs/%s%s): %s", v->vib_id, v->xml_file, v->xml_file,
                            v->orig_xml ? ".orig" : "", why);
    free(why);
    return rc;
}

/* Reads the rebuilt VIB back and checks every payload's size and checksums. */
static int export_check(const char *vib_id, const uint8_t *bytes, size_t len,
                        struct esximg_err *err)
{
    struct esximg_vib *vib = NULL;
    struct esximg_vib_verify_result *r = NULL;
    struct esximg_err why = {0};
    int rc = esximg_vib_read(bytes, len, &vib, &why);
    if (rc) {
        rc = esximg_err_set(err, rc, "rebuilt VIB '%s' does not read: %s", vib_id, why.msg);
        goto out;
    }
    rc = esximg_vib_verify(vib, NULL, &r, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < r->check_count; i++) {
        const struct esximg_vib_check *c = &r->checks[i];
        if (!c->ok && !c->skipped) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT,
                                "VIB '%s': payload '%s' %s is %s, its descriptor says %s",
                                vib_id, c->payload, c->what, c->actual ? c->actual : "?",
                                c->expected ? c->expected : "?");
            goto out;
        }
    }
out:
    esximg_vib_verify_result_free(r);
    esximg_vib_free(vib);
    return rc;
}

static void export_members_free(struct esximg_vib_wmember *m, uint8_t **bufs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(m);
}

#define EXPORT_BOOT_ISO_BIOS "boot_iso_bios"

static bool export_is_boot_iso_bios(const struct esximg_payload *p)
{
    return p->type && !strcmp(p->type, EXPORT_BOOT_ISO_BIOS);
}

/* The ISO file a payload comes from: the one the profile maps it to; for the BIOS boot image
 * (boot_iso_bios, isolinux.bin), whose profile name (e.g. isolinux.b00) is no ISO file, the
 * image of the El Torito no-emulation entry for x86 BIOS; for the other loader, upgrade and
 * text payloads, the file where an installer keeps them (esxi-formats.md 5.3, the placement
 * esximg build uses). */
static const struct esximg_iso_entry *export_payload_entry(const struct esximg_image *img,
                                                           const struct esximg_image_vib *v,
                                                           const struct esximg_payload *p)
{
    const struct esximg_iso_entry *e = esximg_image_payload_entry(img, v, p->name);
    if (e || !img->iso)
        return e;
    if (!export_is_boot_iso_bios(p)) {
        char *path = NULL;
        if (esximg_imgbuild_payload_path(p->type, p->name, &path, NULL) != 0)
            return NULL;
        e = esximg_iso_find(img->iso, path);
        free(path);
        return e;
    }
    for (size_t i = 0; i < img->iso->n_boots; i++) {
        const struct esximg_iso_boot *b = &img->iso->boots[i];
        if (b->platform_id == 0 && b->emulation == ESXIMG_ISO_NO_EMUL && b->path)
            return esximg_iso_find(img->iso, b->path);
    }
    return NULL;
}

/* The plain sha-256 a descriptor gives a payload, or NULL. */
static const char *export_payload_sha256(const struct esximg_payload *p)
{
    for (size_t i = 0; i < p->checksum_count; i++)
        if (p->checksums[i].type && !strcmp(p->checksums[i].type, "sha-256") &&
            !p->checksums[i].verify_process && p->checksums[i].value)
            return p->checksums[i].value;
    return NULL;
}

static int export_sha256_is(const uint8_t *data, size_t len, const char *want, bool *same,
                            struct esximg_err *err)
{
    char hex[65];
    int rc = esx_digest_hex(ESX_SHA256, data, len, hex, err);
    if (!rc)
        *same = !strcasecmp(hex, want);
    return rc;
}

/* Puts into `copy` the first known form (esximg_bootinfo_forms) whose bytes have the
 * sha-256 `want`; *found says whether one had.  A form the image is too short or too long
 * for is a reason, in `why`. */
static int export_try_forms(const uint8_t *on_iso, uint8_t *copy, size_t len, const char *want,
                            bool *found, char *why, size_t why_len, struct esximg_err *err)
{
    size_t n = 0;
    const struct esximg_bootinfo_form *forms = esximg_bootinfo_forms(&n);
    *found = false;
    for (size_t i = 0; i < n && !*found; i++) {
        struct esximg_err form_err = {0};
        memcpy(copy, on_iso, len);
        if (esximg_bootinfo_unpatch(copy, len, &forms[i], &form_err)) {
            snprintf(why, why_len, "%s", form_err.msg);
            return 0;
        }
        int rc = export_sha256_is(copy, len, want, found, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The names of the known forms, for a message: "syslinux-checksumiso, syslinux-asm". */
static void export_form_names(char *out, size_t out_len)
{
    size_t n = 0, used = 0;
    const struct esximg_bootinfo_form *forms = esximg_bootinfo_forms(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n && used < out_len; i++) {
        int w = snprintf(out + used, out_len - used, "%s%s", i ? ", " : "", forms[i].name);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* The BIOS boot image as its VIB holds it.  An ISO written with -boot-info-table rewrites
 * its bytes 8-63 (esxi-formats.md 5.1), so the image's copy is taken as it is when its
 * sha-256 is the descriptor's, else each known build form of those bytes is tried.  None
 * matching: ENOTFOUND, naming the file and why, so that the VIB is left out rather than given
 * with a payload esxcli would refuse. */
static int export_recover_boot_image(const struct esximg_image_vib *v,
                                     const struct esximg_payload *p, const char *iso_path,
                                     uint8_t *bytes, size_t len, struct esximg_err *err)
{
    const char *want = export_payload_sha256(p);
    if (!want)
        return 0;           /* nothing to choose by: export_check judges what it can */
    if (p->has_size && p->size != len)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "VIB '%s': payload '%s' (%s) cannot be "
                              "recovered from '%s': the image's copy has %zu bytes, the "
                              "descriptor says %llu", v->vib_id, p->name, p->type, iso_path,
                              len, (unsigned long long)p->size);
    bool same = false;
    int rc = export_sha256_is(bytes, len, want, &same, err);
    if (rc || same)
        return rc;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    char why[512] = "";
    rc = export_try_forms(bytes, copy, len, want, &same, why, sizeof why, err);
    if (!rc && same)
        memcpy(bytes, copy, len);
    free(copy);
    if (rc || same)
        return rc;
    if (!why[0]) {
        char names[256];
        export_form_names(names, sizeof names);
        snprintf(why, sizeof why, "%s, and no known original form of its boot info table "
                 "(%s) has the descriptor's sha-256",
                 esximg_bootinfo_matches(bytes, len) ? "the image's copy holds a boot info "
                 "table" : "the image's copy differs from it and holds no boot info table",
                 names);
    }
    return esximg_err_set(err, ESXIMG_ENOTFOUND, "VIB '%s': payload '%s' (%s) cannot be "
                          "recovered from '%s': %s", v->vib_id, p->name, p->type, iso_path, why);
}

/* The ISO bytes of every payload, in descriptor order. */
static int export_payloads(struct esximg_image *img, const struct esximg_image_vib *v,
                           struct esximg_vib_wmember *m, uint8_t **bufs,
                           struct esximg_err *err)
{
    const struct esximg_descriptor *d = v->desc;
    for (size_t i = 0; i < d->payload_count; i++) {
        const struct esximg_payload *p = &d->payloads[i];
        const struct esximg_iso_entry *e = export_payload_entry(img, v, p);
        if (!e && esx_payload_is_module(p->type))
            return esximg_err_set(err, ESXIMG_EFORMAT,
                                  "VIB '%s': boot module payload '%s' is not on the image",
                                  v->vib_id, p->name);
        if (!e)
            return esximg_err_set(err, ESXIMG_ENOTFOUND,
                                  "VIB '%s': payload '%s' (%s) is not on the image", v->vib_id,
                                  p->name, p->type ? p->type : "no type");
        size_t len = 0;
        int rc = esximg_iso_read_file(img->iso, e->path, ESX_MAX_DEPOT_BYTES, &bufs[i], &len,
                                      err);
        if (!rc && export_is_boot_iso_bios(p))
            rc = export_recover_boot_image(v, p, e->path, bufs[i], len, err);
        if (rc)
            return rc;
        m[i] = (struct esximg_vib_wmember){.name = p->name, .data = bufs[i], .len = len};
    }
    return 0;
}

int esximg_export_vib(struct esximg_image *img, const struct esximg_image_vib *v,
                      uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    if (!v->desc || !v->xml_file || !img->db)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "VIB '%s' has no descriptor", v->vib_id);
    const struct esximg_imgdb_file *xml = esximg_imgdb_find_vib_xml(img->db, v->xml_file);
    if (!xml)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "VIB '%s' has no descriptor", v->vib_id);
    if (!v->entry && v->desc->payload_count)
        return esximg_err_set(err, ESXIMG_ENOTFOUND,
                              "VIB '%s' is not in the profile: its payloads have no files",
                              v->vib_id);
    size_t n = v->desc->payload_count;
    struct esximg_vib_wmember *m = esx_malloc_array(n ? n : 1, sizeof *m);
    uint8_t **bufs = calloc(n ? n : 1, sizeof *bufs);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = 0;
    if (!m || !bufs) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    rc = export_payloads(img, v, m, bufs, err);
    if (rc)
        goto out;
    const struct esximg_imgdb_file *desc = NULL, *sig = v->sig;
    rc = export_descriptor(v, xml, &desc, err);
    if (rc)
        goto out;
    rc = esximg_vib_write(desc->data ? (const void *)desc->data : "", desc->len,
                          sig && sig->data ? (const void *)sig->data : "", sig ? sig->len : 0,
                          m, n, &bytes, &len, err);
    if (rc)
        goto out;
    rc = export_check(v->vib_id, bytes, len, err);
    if (rc)
        goto out;
    *out = bytes;
    *out_len = len;
    bytes = NULL;
out:
    free(bytes);
    export_members_free(m, bufs, n);
    return rc;
}

void esximg_export_result_free(struct esximg_export_result *r)
{
    if (!r)
        return;
    free(r->zip);
    esx_warnings_free(&r->warnings);
    free(r);
}

/* "7.0.*" from an image version "7.0.3": bundles made for an image apply to its whole update
 * line, the way community bundles write "7.0.0" or "5.*".  NULL when the version has no
 * "<major>.<minor>" prefix of digits. */
static char *export_platform(const char *version)
{
    if (!version)
        return NULL;
    size_t n = strspn(version, "0123456789");
    if (n == 0 || n > 4 || version[n] != '.')
        return NULL;
    size_t m = strspn(version + n + 1, "0123456789");
    if (m == 0 || m > 4)
        return NULL;
    char *p = malloc(n + 1 + m + 3);
    if (p) {
        memcpy(p, version, n + 1 + m);
        memcpy(p + n + 1 + m, ".*", 3);
    }
    return p;
}

/* Progress in permille of the whole: the first half rebuilds the VIBs, the second
 * compresses the bundle. */
#define EXPORT_HALF 1000u

static void export_zip_progress(uint64_t done, uint64_t total, void *arg)
{
    const struct esximg_export_opts *o = arg;
    uint64_t part = total ? (done < total ? done : total) * EXPORT_HALF / total : EXPORT_HALF;
    o->progress(EXPORT_HALF + part, 2 * EXPORT_HALF, o->progress_arg);
}

static void export_vib_progress(const struct esximg_export_opts *o, size_t done, size_t total)
{
    if (o->progress)
        o->progress(total ? (uint64_t)done * EXPORT_HALF / total : EXPORT_HALF,
                    2 * EXPORT_HALF, o->progress_arg);
}

static void export_note_vib(const struct esximg_export_opts *o, const char *vib_id,
                            size_t len)
{
    if (!o->note)
        return;
    char msg[600];
    snprintf(msg, sizeof msg, "vib '%s' rebuilt (%zu bytes)", vib_id, len);
    o->note(msg, o->note_arg);
}

/* What the bundle carries of the image's database besides the VIBs, so that it is a depot
 * of the image: its components, and when every VIB was exported (`whole`), its image profile
 * and its base image and add-on records (docs/depot-format.md). */
static int export_release(struct esximg_depot_meta *m, const struct esximg_imgdb *db,
                          const char *folder, struct esximg_err *err)
{
    const struct esximg_imgdb_file *f = esximg_imgdb_find_release(db, folder);
    char *id = f ? esximg_imgdb_release_id(f) : NULL;
    int rc = !f ? 0 : !id ? esximg_err_set(err, ESXIMG_ENOMEM, "out of memory")
                  : esximg_depot_meta_add_release(m, folder, id, f->data, f->len, err);
    free(id);
    return rc;
}

static int export_meta(const struct esximg_image *img, bool whole, struct esximg_depot_meta *m,
                       struct esximg_err *err)
{
    const struct esximg_imgdb *db = img->db;
    int rc = 0;
    for (size_t i = 0; db && !rc && i < db->bulletin_count; i++)
        rc = esximg_depot_meta_add_component(m, db->bulletins[i].path, db->bulletins[i].data,
                                             db->bulletins[i].len, err);
    if (!db || !whole || rc)
        return rc;
    if (db->profile && db->profile_file)
        rc = esximg_depot_meta_add_profile(m, db->profile, db->profile_file, err);
    if (!rc)
        rc = export_release(m, db, ESXIMG_IMGDB_BASE_IMAGES, err);
    if (!rc)
        rc = export_release(m, db, ESXIMG_IMGDB_ADDONS, err);
    return rc;
}

/* Where the rebuilt VIBs are kept for the writer: in memory (bufs), or each in a file of
 * the work folder (paths), so that only the one being rebuilt is in memory. */
struct export_kept {
    const char *work_dir;           /* NULL: in memory */
    uint8_t **bufs;
    char **paths;
    struct esximg_depot_input *in;
    size_t count;
};

static void export_kept_free(struct export_kept *k)
{
    for (size_t i = 0; i < k->count; i++) {
        free(k->bufs[i]);
        if (k->paths[i])
            unlink(k->paths[i]);
        free(k->paths[i]);
    }
    free(k->bufs);
    free(k->paths);
    free(k->in);
}

/* The VIB just rebuilt (`bytes`, taken) as the next input of the bundle.  Its file is not
 * fsync'd: it is read back by this process and removed, never a result. */
static int export_keep(struct export_kept *k, uint8_t *bytes, size_t len, struct esximg_err *err)
{
    size_t i = k->count++;
    k->bufs[i] = bytes;
    k->in[i] = (struct esximg_depot_input){.data = bytes, .len = len};
    if (!k->work_dir)
        return 0;
    if (asprintf(&k->paths[i], "%s/vib-%zu.vib", k->work_dir, i) < 0) {
        k->paths[i] = NULL;
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    int fd = open(k->paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int e = fd < 0 ? errno : esx_write_full(fd, bytes, len);
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (fd < 0) {       /* not made: nothing to remove */
        free(k->paths[i]);
        k->paths[i] = NULL;
    }
    if (e)
        return esximg_err_sys(err, e, "cannot keep a rebuilt VIB in '%s'", k->work_dir);
    free(k->bufs[i]);
    k->bufs[i] = NULL;
    k->in[i] = (struct esximg_depot_input){.len = len, .path = k->paths[i]};
    return 0;
}

/* An error of writing the bundle names the output (`path`, when the writer named no other
 * file), even where the caller named the image in `err` already. */
static void export_err_output(struct esximg_err *err, const struct esximg_err *own,
                              const char *path)
{
    if (!err)
        return;
    char caller_file[sizeof err->file];
    memcpy(caller_file, err->file, sizeof caller_file);
    *err = *own;
    esximg_err_file(err, path);
    esximg_err_file(err, caller_file);
}

/* esximg_image_export and esximg_image_export_file: the bundle in r->zip (path NULL), else
 * written to path with the VIBs kept in work_dir. */
static int export_image(struct esximg_image *img, const struct esximg_export_opts *o,
                        const char *path, const char *work_dir,
                        struct esximg_export_result **out, struct esximg_err *err)
{
    struct esximg_depot_meta meta = {0};
    static const struct esximg_export_opts none = {0};
    if (!o)
        o = &none;
    struct esximg_export_result *r = calloc(1, sizeof *r);
    size_t cap = img->vib_count ? img->vib_count : 1;
    struct export_kept kept = {.work_dir = work_dir, .bufs = calloc(cap, sizeof *kept.bufs),
                               .paths = calloc(cap, sizeof *kept.paths),
                               .in = esx_malloc_array(cap, sizeof *kept.in)};
    char *platform = NULL;
    int rc = 0;
    if (!r || !kept.bufs || !kept.paths || !kept.in) {
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        struct esximg_err one = {0};
        uint8_t *bytes = NULL;
        size_t len = 0;
        export_vib_progress(o, i, img->vib_count);
        rc = esximg_export_vib(img, v, &bytes, &len, &one);
        if (rc == ESXIMG_ENOTFOUND) {
            rc = esx_warn(&r->warnings, 0, err, "%s: not exported", one.msg);
            if (rc)
                goto out;
            r->skipped_count++;
            continue;
        }
        if (rc) {
            rc = esximg_err_set(err, (enum esximg_code)rc, "%s", one.msg);
            goto out;
        }
        struct esximg_err own = {0};
        if ((rc = export_keep(&kept, bytes, len, &own))) {
            export_err_output(err, &own, path);
            goto out;
        }
        r->vib_count++;
        export_note_vib(o, v->vib_id, len);
    }
    export_vib_progress(o, img->vib_count, img->vib_count);
    if (r->vib_count == 0) {
        rc = esximg_err_set(err, ESXIMG_ENOTFOUND, "the image has no VIB that can be exported");
        goto out;
    }
    /* a profile naming a VIB the bundle lacks could not be built from it */
    if (r->skipped_count && img->db && img->db->profile &&
        (rc = esx_warn(&r->warnings, 0, err, "the image profile, base image and add-on are "
                       "not written: %zu VIB%s left out", r->skipped_count,
                       r->skipped_count == 1 ? " was" : "s were")))
        goto out;
    if ((rc = export_meta(img, r->skipped_count == 0, &meta, err)))
        goto out;
    platform = o->platform_version ? NULL : export_platform(img->version);
    struct esximg_depot_wopts w = {
        .vendor_name = o->vendor_name, .vendor_code = o->vendor_code, .mtime = o->mtime,
        .platform_version = o->platform_version ? o->platform_version : platform,
        .progress = o->progress ? export_zip_progress : NULL, .progress_arg = (void *)o,
        .note = o->note, .note_arg = o->note_arg,
    };
    esximg_depot_meta_apply(&meta, &w);
    struct esximg_err own = {0};
    rc = path ? esximg_depot_write_file(kept.in, r->vib_count, &w, path, 0644, &own)
              : esximg_depot_write(kept.in, r->vib_count, &w, &r->zip, &r->zip_len, &own);
    if (rc) {
        export_err_output(err, &own, path);
        goto out;
    }
    *out = r;
    r = NULL;
out:
    export_kept_free(&kept);
    free(platform);
    esximg_depot_meta_free(&meta);
    esximg_export_result_free(r);
    return rc;
}

int esximg_image_export(struct esximg_image *img, const struct esximg_export_opts *o,
                        struct esximg_export_result **out, struct esximg_err *err)
{
    return export_image(img, o, NULL, NULL, out, err);
}

int esximg_image_export_file(struct esximg_image *img, const struct esximg_export_opts *o,
                             const char *path, const char *work_dir,
                             struct esximg_export_result **out, struct esximg_err *err)
{
    if (!path || !work_dir)
        return esximg_err_set(err, ESXIMG_EINVAL, "no output or work folder");
    return export_image(img, o, path, work_dir, out, err);
}
