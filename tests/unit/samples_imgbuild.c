/* samples_imgbuild.c: the installer layout (lib/imgbuild.c) of the 136 real descriptors of
 * the ESXi 6.7 GA host database (ljvblfz__ESXi/var/db/esximg/vibs), each payload a stream of
 * zeros of its size: every payload finds its place (the real loader, upgrade and text payload
 * names are 8.3), the profile maps every payload to the file VMware's own profile maps it to,
 * BOOT.CFG loads every module payload once, in esximage's order, and IMGPAYLD.TGZ holds the
 * other payloads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/imgbuild.h"
#include "esximg/imgdb.h"
#include "esximg/vib.h"
#include "testutil.h"

#define DB_DIR "ljvblfz__ESXi/var/db/esximg"
#define PROFILE_FILE DB_DIR "/profiles/ESXi-6.7.0-8169922-standard452839153"
#define PROFILE_NAME "ESXi-6.7.0-8169922-standard"

struct zeros {
    uint64_t pos;
};

static int zeros_open(void *arg, struct esximg_err *err)
{
    (void)err;
    ((struct zeros *)arg)->pos = 0;
    return 0;
}

static int zeros_read(void *arg, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    (void)arg;
    (void)err;
    memset(buf, 0, n);
    *got = n;
    return 0;
}

static const struct esximg_content_ops zero_ops = {zeros_open, zeros_read, NULL};

struct sample {
    size_t n;
    char **paths;
    uint8_t **xml;
    size_t *xml_len;
    struct esximg_descriptor **desc;
    struct esximg_content **contents;
    struct zeros *streams;
    struct esximg_imgbuild_vib *in;
    struct esximg_profile *profile;     /* VMware's */
    struct esximg_imgbuild *b;
};

static void load(struct sample *s)
{
    char *dir = tu_sample_path(DB_DIR "/vibs");
    s->n = tu_find_files(dir, ".xml", &s->paths);
    free(dir);
    assert_int_equal(s->n, 136);
    s->xml = calloc(s->n, sizeof *s->xml);
    s->xml_len = calloc(s->n, sizeof *s->xml_len);
    s->desc = calloc(s->n, sizeof *s->desc);
    s->contents = calloc(s->n, sizeof *s->contents);
    s->in = calloc(s->n, sizeof *s->in);
    s->streams = calloc(s->n, sizeof *s->streams);
    assert_true(s->xml && s->xml_len && s->desc && s->contents && s->in && s->streams);
    for (size_t i = 0; i < s->n; i++) {
        tu_read_file(s->paths[i], &s->xml[i], &s->xml_len[i]);
        assert_int_equal(esximg_descriptor_read(s->xml[i], s->xml_len[i], &s->desc[i], NULL),
                         0);
        const struct esximg_descriptor *d = s->desc[i];
        s->contents[i] = calloc(d->payload_count + 1, sizeof **s->contents);
        assert_non_null(s->contents[i]);
        for (size_t j = 0; j < d->payload_count; j++)
            s->contents[i][j] = (struct esximg_content){.kind = ESXIMG_CONTENT_STREAM,
                                                        .size = d->payloads[j].size,
                                                        .ops = &zero_ops,
                                                        .arg = &s->streams[i]};
        s->in[i] = (struct esximg_imgbuild_vib){s->xml[i], s->xml_len[i], NULL, 0,
                                                s->contents[i], d->payload_count, s->paths[i]};
    }
    char *pf = tu_sample_path(PROFILE_FILE);
    uint8_t *px = NULL;
    size_t plen = 0;
    tu_read_file(pf, &px, &plen);
    assert_int_equal(esximg_profile_read(px, plen, &s->profile, NULL), 0);
    free(px);
    free(pf);
    const struct esximg_imgbuild_opts o = {.profile_name = PROFILE_NAME, .mtime = 1523000000};
    struct esximg_err err = {0};
    if (esximg_imgbuild_plan(s->in, s->n, NULL, 0, &o, &s->b, &err))
        fail_msg("plan: %s", err.msg);
}

static void unload(struct sample *s)
{
    esximg_imgbuild_free(s->b);
    esximg_profile_free(s->profile);
    for (size_t i = 0; i < s->n; i++) {
        free(s->xml[i]);
        esximg_descriptor_free(s->desc[i]);
        free(s->contents[i]);
    }
    free(s->xml);
    free(s->xml_len);
    free(s->desc);
    free(s->contents);
    free(s->in);
    free(s->streams);
    tu_free_list(s->paths, s->n);
}

static const struct esximg_isoc_file *file_of(const struct esximg_imgbuild *b, const char *p)
{
    for (size_t i = 0; i < b->file_count; i++)
        if (strcmp(b->files[i].iso_path, p) == 0)
            return &b->files[i];
    return NULL;
}

static void built_profile_maps_as_vmware(void **state)
{
    (void)state;
    struct sample s = {0};
    load(&s);
    const struct esximg_isoc_file *f = file_of(s.b, "/IMGDB.TGZ");
    assert_non_null(f);
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_read(f->content.data, f->content.len, &db, NULL), 0);
    assert_int_equal(db->profile->vib_count, s.profile->vib_count);
    size_t payloads = 0;
    for (size_t i = 0; i < s.profile->vib_count; i++) {
        const struct esximg_profile_vib *want = &s.profile->vibs[i];
        const struct esximg_profile_vib *got = esximg_profile_find(db->profile, want->vib_id);
        if (!got)
            fail_msg("'%s' is not in the built profile", want->vib_id);
        assert_int_equal(got->payload_count, want->payload_count);
        for (size_t j = 0; j < want->payload_count; j++, payloads++) {
            bool found = false;
            for (size_t k = 0; k < got->payload_count && !found; k++)
                found = !strcmp(got->payloads[k].payload_name, want->payloads[j].payload_name) &&
                        !strcmp(got->payloads[k].file, want->payloads[j].file);
            if (!found)
                fail_msg("'%s' payload '%s': VMware names it '%s'", want->vib_id,
                         want->payloads[j].payload_name, want->payloads[j].file);
        }
    }
    assert_int_equal(payloads, 168);
    /* every descriptor in vibs/ under the name VMware's database gives it (6.x hash) */
    for (size_t i = 0; i < s.n; i++)
        assert_non_null(esximg_imgdb_find_vib_xml(db, strrchr(s.paths[i], '/') + 1));
    esximg_imgdb_free(db);
    unload(&s);
}

static void built_boot_cfg_loads_every_module_in_order(void **state)
{
    (void)state;
    struct sample s = {0};
    load(&s);
    /* by boot-order (the microcode's 200 and 201 after procfs' 101, as the real 6.7 U2
       BOOT.CFG of esxi-formats.md §4.3 has them), then the boot-order 100 vgz payloads */
    static const char *const head[] = {"/b.b00", "/jumpstrt.gz", "/useropts.gz",
                                       "/features.gz", "/k.b00", "/chardevs.b00", "/user.b00",
                                       "/procfs.b00", "/uc_intel.b00", "/uc_amd.b00",
                                       "/vmx.v00", "/vim.v00", "/sb.v00", "/s.v00"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        assert_string_equal(s.b->modules[i], head[i]);
    assert_string_equal(s.b->modules[s.b->module_count - 2], "/imgdb.tgz");
    assert_string_equal(s.b->modules[s.b->module_count - 1], "/imgpayld.tgz");
    assert_string_equal(s.b->modules[s.b->module_count - 3], "/xorg.v00");  /* overlay */
    /* each module payload of VMware's profile is loaded once, and is a file of the image */
    size_t modules = 0;
    for (size_t i = 0; i < s.n; i++)
        for (size_t j = 0; j < s.desc[i]->payload_count; j++) {
            const struct esximg_payload *p = &s.desc[i]->payloads[j];
            bool module = !strcmp(p->type, "boot") || !strcmp(p->type, "vgz") ||
                          !strcmp(p->type, "tgz") || !strcmp(p->type, "installer_vgz");
            if (!module)
                continue;
            modules++;
        }
    assert_int_equal(s.b->module_count, modules + 2);
    for (size_t i = 0; i < s.b->module_count; i++) {
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(s.b->modules[k], s.b->modules[i]);
        char upper[64];
        size_t len = strlen(s.b->modules[i]);
        assert_true(len < sizeof upper);
        for (size_t k = 0; k <= len; k++)
            upper[k] = (char)(s.b->modules[i][k] >= 'a' && s.b->modules[i][k] <= 'z' ?
                              s.b->modules[i][k] - 32 : s.b->modules[i][k]);
        assert_non_null(file_of(s.b, upper));
    }
    /* the loaders in their places; boot info and El Torito images from esx-base */
    static const char *const loaders[] = {"/ISOLINUX.BIN", "/MBOOT.C32", "/MENU.C32",
                                          "/SAFEBOOT.C32", "/EFIBOOT.IMG",
                                          "/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/BOOTIA32.EFI",
                                          "/UPGRADE/PRECHECK.PY", "/UPGRADE/ESXIMAGE.ZIP",
                                          "/UPGRADE/METADATA.XML", "/README", "/OSL.TXT"};
    for (size_t i = 0; i < sizeof loaders / sizeof *loaders; i++)
        if (!file_of(s.b, loaders[i]))
            fail_msg("'%s' is not planned", loaders[i]);
    assert_string_equal(s.b->bios_boot, "/ISOLINUX.BIN");
    assert_string_equal(s.b->efi_boot, "/EFIBOOT.IMG");
    assert_string_equal(s.b->kernelopt, "cdromBoot runweasel");
    unload(&s);
}

/* The real 7.0 GA esx-base alone: its 7.0 loader payloads in their places (fatBootSector only
 * in IMGPAYLD.TGZ), the 7.0 database (bulletins, 64-bit vibs/ names). */
static void built_70_esx_base_places_its_loaders(void **state)
{
    (void)state;
    char *path = tu_sample_path("eturra__learnpythonin2hours/samples/esximg/vibs/"
                                "esx-base-699708918229420497.xml");
    uint8_t *xml = NULL;
    size_t len = 0;
    tu_read_file(path, &xml, &len);
    struct esximg_descriptor *d = NULL;
    assert_int_equal(esximg_descriptor_read(xml, len, &d, NULL), 0);
    struct zeros z = {0};
    struct esximg_content *c = calloc(d->payload_count, sizeof *c);
    assert_non_null(c);
    for (size_t j = 0; j < d->payload_count; j++)
        c[j] = (struct esximg_content){.kind = ESXIMG_CONTENT_STREAM,
                                       .size = d->payloads[j].size, .ops = &zero_ops, .arg = &z};
    const struct esximg_imgbuild_vib in = {xml, len, NULL, 0, c, d->payload_count, path};
    const struct esximg_imgbuild_opts o = {.profile_name = "ESXi-7.0.0-15843807-base",
                                           .mtime = 1586000000};
    struct esximg_imgbuild *b = NULL;
    struct esximg_err err = {0};
    if (esximg_imgbuild_plan(&in, 1, NULL, 0, &o, &b, &err))
        fail_msg("plan: %s", err.msg);
    static const char *const want[] = {"/ISOLINUX.BIN", "/MBOOT.C32", "/MENU.C32",
                                       "/SAFEBOOT.C32", "/LDLINUX.SYS", "/EFIBOOT.IMG",
                                       "/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/SAFEBOOT.EFI",
                                       "/UPGRADE/GPTMBR.BIN", "/UPGRADE/PREP.PY", "/README",
                                       "/OSL.TXT", "/B.B00", "/TPM.V00", "/BTLDR.V00"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!file_of(b, want[i]))
            fail_msg("'%s' is not planned", want[i]);
    for (size_t i = 0; i < b->file_count; i++)
        assert_null(strstr(b->files[i].iso_path, "FATBOOT"));
    assert_int_equal(b->major, 7);
    /* its six boot payloads, then the boot-order 100 vgz ones as esxi-formats.md §4.4 says */
    static const char *const order[] = {"/b.b00", "/jumpstrt.gz", "/useropts.gz",
                                        "/features.gz", "/k.b00", "/procfs.b00", "/vmx.v00",
                                        "/vim.v00", "/tpm.v00", "/sb.v00", "/s.v00",
                                        "/btldr.v00", "/imgdb.tgz", "/imgpayld.tgz"};
    assert_int_equal(b->module_count, sizeof order / sizeof *order);
    for (size_t i = 0; i < b->module_count; i++)
        assert_string_equal(b->modules[i], order[i]);
    const struct esximg_isoc_file *f = file_of(b, "/IMGDB.TGZ");
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_read(f->content.data, f->content.len, &db, NULL), 0);
    assert_int_equal(db->bulletin_count, 1);
    assert_non_null(strstr(db->bulletins[0].path, "esx-base_7.0.0-1.0.15843807.xml"));
    esximg_imgdb_free(db);
    esximg_imgbuild_free(b);
    esximg_descriptor_free(d);
    free(c);
    free(xml);
    free(path);
}

int main(void)
{
    if (!tu_samples_dir())
        return tu_require_samples("samples_imgbuild");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(built_profile_maps_as_vmware),
        cmocka_unit_test(built_boot_cfg_loads_every_module_in_order),
        cmocka_unit_test(built_70_esx_base_places_its_loaders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
