/* imgsign.c: the signed VIBs of an installer image, and whether it can boot with UEFI Secure
 * Boot on.
 *
 * A host keeps three files per VIB in its database: vibs/<file>.xml, <file>.xml.orig (the
 * descriptor bytes exactly as signed; the .xml may be a re-serialised copy) and <file>.xml.sig
 * (the VIB's sig.pkcs7). A VIB with neither .orig nor .sig is unsigned as far as the image
 * tells; one with only one of them, or whose .orig describes another VIB, has lost part of its
 * signature. Under Secure Boot, ESXi's loader (esx-boot, mboot/secure.c) verifies every module
 * and demands that the base modules named s, sb, esxcore and esxupdt are signed and loaded once;
 * a community-supported or unsigned VIB cannot be verified, so such an image boots only with
 * Secure Boot off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esx_private.h"
#include "esximg/modname.h"
#include "image_private.h"

/* A problem or a blocker: a line of text without a line number; ENOMEM the only failure. */
#define imgsign_note(w, ...) esx_warn((w), 0, NULL, __VA_ARGS__)

const char *esximg_secure_boot_vib_blocker(enum esximg_acceptance acceptance, bool is_signed)
{
    bool community = acceptance < ESXIMG_ACCEPT_PARTNER;
    if (community && !is_signed)
        return "is community-supported and not signed";
    if (community)
        return "is community-supported";
    return is_signed ? NULL : "is not signed";
}

void esx_image_find_signatures(struct esximg_image *img)
{
    for (size_t i = 0; img->db && i < img->vib_count; i++) {
        struct esximg_image_vib *v = &img->vibs[i];
        if (!v->xml_file)
            continue;
        v->orig_xml = esximg_imgdb_find_vib_orig(img->db, v->xml_file);
        v->sig = esximg_imgdb_find_vib_sig(img->db, v->xml_file);
        v->is_signed = v->sig && !esx_sig_is_empty(v->sig->data, v->sig->len);
    }
}

/* The .orig must be a descriptor of the same VIB as the .xml. */
static int imgsign_check_orig(struct esximg_image *img, const struct esximg_image_vib *v)
{
    struct esximg_descriptor *d = NULL;
    struct esximg_err why = {0};
    if (esximg_descriptor_read(v->orig_xml->data, v->orig_xml->len, &d, &why))
        return imgsign_note(&img->problems, "VIB '%s': vibs/%s.orig does not read: %s",
                            v->vib_id, v->xml_file, why.msg);
    char *id = esximg_descriptor_vib_id(d);
    int rc = 0;
    if (!id || strcmp(id, v->vib_id))
        rc = imgsign_note(&img->problems, "VIB '%s': vibs/%s.orig describes '%s', another VIB",
                          v->vib_id, v->xml_file, id ? id : "?");
    free(id);
    esximg_descriptor_free(d);
    return rc;
}

static int imgsign_check_sig(struct esximg_image *img, const struct esximg_image_vib *v,
                             struct esximg_err *err)
{
    char *why = NULL;
    int rc = esx_sig_signs(v->sig->data, v->sig->len, v->orig_xml->data, v->orig_xml->len, &why,
                           err);
    if (!rc && why)
        rc = imgsign_note(&img->problems, "VIB '%s': vibs/%s.sig does not sign vibs/%s.orig (%s)",
                          v->vib_id, v->xml_file, v->xml_file, why);
    free(why);
    return rc;
}

static int imgsign_check_vib(struct esximg_image *img, struct esximg_image_vib *v, bool verify,
                             struct esximg_err *err)
{
    if (!v->desc || !v->xml_file || (!v->orig_xml && !v->sig))
        return 0;
    size_t before = img->problems.count + img->problems.dropped;
    int rc = 0;
    if (!v->orig_xml)
        rc = imgsign_note(&img->problems, "VIB '%s' is signed (vibs/%s.sig) but vibs/%s.orig, "
                          "the descriptor as signed, is missing", v->vib_id, v->xml_file,
                          v->xml_file);
    else if (!v->sig)
        rc = imgsign_note(&img->problems, "VIB '%s' has vibs/%s.orig but no vibs/%s.sig, its "
                          "signature", v->vib_id, v->xml_file, v->xml_file);
    else
        rc = imgsign_check_orig(img, v);
    if (!rc && verify && v->is_signed && v->orig_xml)
        rc = imgsign_check_sig(img, v, err);
    v->signature_broken = img->problems.count + img->problems.dropped > before;
    return rc;
}

/* The VIB whose payload `reserved` is the module at path, or NULL. */
static const struct esximg_image_vib *imgsign_owner(const struct esximg_image *img,
                                                    const char *path, const char *reserved)
{
    for (size_t i = 0; i < img->vib_count; i++) {
        const struct esximg_profile_vib *e = img->vibs[i].entry;
        for (size_t j = 0; e && j < e->payload_count; j++)
            if (!strcmp(e->payloads[j].payload_name, reserved) &&
                esximg_bootcfg_module_is(path, e->payloads[j].file))
                return &img->vibs[i];
    }
    return NULL;
}

static size_t imgsign_reserved_count(const struct esximg_bootcfg_modules *mods,
                                     const char *reserved)
{
    size_t n = 0;
    for (size_t i = 0; i < mods->count; i++)
        n += esximg_modname_reserved(mods->items[i].path) == reserved;
    return n;
}

static int imgsign_check_module(struct esximg_image *img,
                                const struct esximg_bootcfg_modules *mods, size_t i)
{
    struct esximg_warnings *w = &img->secure_boot_blockers;
    const char *path = mods->items[i].path;
    const char *reserved = esximg_modname_reserved(path);
    if (!reserved)
        return 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const struct esximg_image_vib *owner = imgsign_owner(img, path, reserved);
    if (strncmp(base, reserved, strlen(reserved)))
        return imgsign_note(w, "module '%s' is named like the reserved '%s' in another case: the "
                            "loader would not check it", path, reserved);
    if (imgsign_reserved_count(mods, reserved) > 1)
        return imgsign_note(w, "module '%s' is one of several named like the reserved '%s': the "
                            "loader takes each only once", path, reserved);
    if (!owner || !owner->is_signed)
        return imgsign_note(w, "module '%s' is named like the reserved '%s' but is not the '%s' "
                            "payload of a signed VIB", path, reserved, reserved);
    return 0;
}

static int imgsign_secure_boot(struct esximg_image *img, const struct esximg_bootcfg_modules *mods)
{
    struct esximg_warnings *w = &img->secure_boot_blockers;
    int rc = img->uefi_boot ? 0 : imgsign_note(w, "the image has no UEFI boot entry");
    if (!rc && !img->db)
        rc = imgsign_note(w, "the image has no readable image database: its VIBs are unknown");
    for (size_t i = 0; !rc && i < img->vib_count; i++) {
        const struct esximg_image_vib *v = &img->vibs[i];
        const char *why = !v->desc               ? "has no descriptor"
                          : v->signature_broken ? "has a broken signature (see the problems)"
                          : esximg_secure_boot_vib_blocker(v->acceptance, v->is_signed);
        if (why)
            rc = imgsign_note(w, "VIB '%s' %s", v->vib_id, why);
    }
    for (size_t i = 0; !rc && mods && i < mods->count; i++)
        rc = imgsign_check_module(img, mods, i);
    img->secure_boot_ready = !rc && w->count == 0 && w->dropped == 0;
    return rc;
}

int esx_image_check_signatures(struct esximg_image *img, bool verify,
                               const struct esximg_bootcfg_modules *mods, struct esximg_err *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < img->vib_count; i++)
        rc = imgsign_check_vib(img, &img->vibs[i], verify, err);
    if (!rc)
        rc = imgsign_secure_boot(img, mods);
    if (rc == ESXIMG_ENOMEM && err && err->code != ESXIMG_ENOMEM)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return rc;
}
