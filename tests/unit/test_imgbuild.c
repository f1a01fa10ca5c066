/* test_imgbuild.c: the installer layout of a set of VIBs (lib/imgbuild.c): where each payload
 * type goes, module names, BOOT.CFG order, ISOLINUX.CFG, the database, the written ISO as
 * lib/image.c sees it, and the PXE folder.  The VIBs are made here: descriptors with every
 * loader payload type, which the VIB authoring code does not write. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "esximg/bootcfg.h"
#include "esximg/image.h"
#include "esximg/imgbuild.h"
#include "esximg/imgdb.h"
#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/modname.h"
#include "testutil.h"

#define EPOCH 1600000000
#define MAX_PAYLOADS 16

struct tpayload {
    const char *name;
    const char *type;
    const char *boot_order;     /* NULL: none */
    const char *vfat;           /* NULL: none */
    size_t size;
};

struct tvib {
    const char *vendor;
    const char *name;
    const char *version;
    bool overlay;
    bool sign;
    size_t n;
    struct tpayload p[MAX_PAYLOADS];
    /* made by make_vib */
    char *xml;
    uint8_t *bytes[MAX_PAYLOADS];
    struct esximg_content contents[MAX_PAYLOADS];
};

static struct tvib esx_base = {
    .vendor = "VMware", .name = "esx-base", .version = "7.0.2-0.0.17630552", .sign = true,
    .n = 15, .p = {
        {"b", "boot", "10", NULL, 3000},
        {"k", "boot", "50", NULL, 5000},
        {"jumpstrt", "boot", "47", "jumpstrt.gz", 20},
        {"s", "vgz", "100", NULL, 7000},
        {"sb", "vgz", "100", NULL, 6000},
        {"btldr", "vgz", NULL, NULL, 900},
        {"isolinux.bin", "boot_iso_bios", NULL, NULL, 4096},
        {"mboot.c32", "boot_com32_bios", NULL, NULL, 1000},
        {"menu.c32", "boot_com32_bios", NULL, NULL, 800},
        {"fatBootSector", "boot_com32_bios", NULL, NULL, 512},
        {"efiboot.img", "eltorito_image_efi", NULL, NULL, 65536},
        {"BOOTx64.EFI", "boot_loader_efi", NULL, NULL, 2000},
        {"metadata.xml", "upgrade", NULL, NULL, 300},
        {"README", "text", NULL, NULL, 100},
        {"osl.txt", "text", NULL, NULL, 150},
    }};
static struct tvib ne1000 = {.vendor = "VMW", .name = "ne1000",
                             .version = "0.8.3-4vmw.702.0.0.17630552", .n = 1,
                             .p = {{"ne1000", "vgz", NULL, NULL, 1234}}};
static struct tvib xorg = {.vendor = "VMware", .name = "xorg", .version = "1.0-1",
                           .overlay = true, .n = 1, .p = {{"xorg", "vgz", NULL, NULL, 555}}};

static const char ne1000_bulletin[] =
    "<bulletin><id>Intel-ne1000_0.8.3-4vmw.702.0.0.17630552</id><vendor>VMware</vendor>"
    "<summary>ne1000</summary><componentNameSpec name=\"Intel-ne1000\" uiString=\"ne1000\"/>"
    "<componentVersionSpec version=\"0.8.3-4vmw.702.0.0.17630552\" uiString=\"0.8.3\"/>"
    "<releaseDate>2021-03-09T00:00:00</releaseDate><vibList>"
    "<vibID>VMW_bootbank_ne1000_0.8.3-4vmw.702.0.0.17630552</vibID></vibList></bulletin>";
/* names a VIB the image does not hold: left out */
static const char absent_bulletin[] =
    "<bulletin><id>Other_1.0</id><vendor>X</vendor><vibList><vibID>X_bootbank_other_1.0"
    "</vibID></vibList></bulletin>";

static void make_vib(struct tvib *v, unsigned seed)
{
    char buf[8192];
    size_t at = (size_t)snprintf(buf, sizeof buf, "<vib version=\"5.0\"><type>bootbank</type>"
                                 "<name>%s</name><version>%s</version><vendor>%s</vendor>"
                                 "<summary>%s</summary><release-date>2021-03-09T00:00:00"
                                 "</release-date><acceptance-level>%s</acceptance-level>"
                                 "<overlay>%s</overlay><payloads>", v->name, v->version,
                                 v->vendor, v->name, v->overlay ? "community" : "partner",
                                 v->overlay ? "true" : "false");
    for (size_t i = 0; i < v->n; i++) {
        const struct tpayload *p = &v->p[i];
        at += (size_t)snprintf(buf + at, sizeof buf - at, "<payload name=\"%s\" type=\"%s\"",
                               p->name, p->type);
        if (p->boot_order)
            at += (size_t)snprintf(buf + at, sizeof buf - at, " boot-order=\"%s\"",
                                   p->boot_order);
        if (p->vfat)
            at += (size_t)snprintf(buf + at, sizeof buf - at, " vfat-name=\"%s\"", p->vfat);
        at += (size_t)snprintf(buf + at, sizeof buf - at, " size=\"%zu\"/>", p->size);
        free(v->bytes[i]);
        v->bytes[i] = malloc(p->size);
        assert_non_null(v->bytes[i]);
        for (size_t k = 0; k < p->size; k++)
            v->bytes[i][k] = (uint8_t)(k * 13u + i + seed);
        if (strcmp(p->type, "boot_iso_bios") == 0)
            memset(v->bytes[i] + 8, 0, 56);     /* room for the boot info table */
        v->contents[i] = (struct esximg_content){.kind = ESXIMG_CONTENT_MEMORY,
                                                 .data = v->bytes[i], .len = p->size};
    }
    snprintf(buf + at, sizeof buf - at, "</payloads></vib>");
    free(v->xml);
    v->xml = strdup(buf);
    assert_non_null(v->xml);
}

static void free_vib(struct tvib *v)
{
    free(v->xml);
    v->xml = NULL;
    for (size_t i = 0; i < v->n; i++) {
        free(v->bytes[i]);
        v->bytes[i] = NULL;
    }
}

static struct esximg_imgbuild_vib input_of(const struct tvib *v)
{
    static const char sig[] = "not really PKCS#7";
    return (struct esximg_imgbuild_vib){v->xml, strlen(v->xml), v->sign ? sig : NULL,
                                        v->sign ? sizeof sig - 1 : 0, v->contents, v->n,
                                        v->name};
}

struct fixture {
    char *dir;
    struct esximg_imgbuild_vib in[3];
    struct esximg_imgbuild_component comps[2];
    struct esximg_imgbuild_opts o;
};

static const char *const kernelopts[] = {"autoPartition=TRUE", "-cdromBoot"};
static const char ks[] = "vmaccepteula\n";

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    make_vib(&esx_base, 1);
    make_vib(&ne1000, 2);
    make_vib(&xorg, 3);
    fx->in[0] = input_of(&xorg);
    fx->in[1] = input_of(&esx_base);
    fx->in[2] = input_of(&ne1000);
    fx->comps[0] = (struct esximg_imgbuild_component){ne1000_bulletin, strlen(ne1000_bulletin)};
    fx->comps[1] = (struct esximg_imgbuild_component){absent_bulletin, strlen(absent_bulletin)};
    fx->o = (struct esximg_imgbuild_opts){
        .profile_name = "ESXi-7.0U2a-test-standard", .description = "built in a test",
        .kernelopts = kernelopts, .kernelopt_count = 2, .title = "Test installer",
        .ks = ks, .ks_len = sizeof ks - 1, .mtime = EPOCH,
    };
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    free_vib(&esx_base);
    free_vib(&ne1000);
    free_vib(&xorg);
    return 0;
}

static struct esximg_imgbuild *plan(struct fixture *fx)
{
    struct esximg_imgbuild *b = NULL;
    struct esximg_err err = {0};
    int rc = esximg_imgbuild_plan(fx->in, 3, fx->comps, 2, &fx->o, &b, &err);
    if (rc)
        fail_msg("plan: %s", err.msg);
    return b;
}

static const struct esximg_isoc_file *file_of(const struct esximg_imgbuild *b, const char *p)
{
    for (size_t i = 0; i < b->file_count; i++)
        if (strcmp(b->files[i].iso_path, p) == 0)
            return &b->files[i];
    return NULL;
}

static void expect_payload_at(const struct esximg_imgbuild *b, const char *path,
                              const struct tvib *v, size_t payload)
{
    const struct esximg_isoc_file *f = file_of(b, path);
    if (!f)
        fail_msg("'%s' is not planned", path);
    assert_int_equal(f->content.kind, ESXIMG_CONTENT_MEMORY);
    assert_ptr_equal(f->content.data, v->bytes[payload]);
}

static void imgbuild_places_every_payload_type(void **state)
{
    struct fixture *fx = *state;
    struct esximg_imgbuild *b = plan(fx);
    expect_payload_at(b, "/B.B00", &esx_base, 0);
    expect_payload_at(b, "/K.B00", &esx_base, 1);
    expect_payload_at(b, "/JUMPSTRT.GZ", &esx_base, 2);
    expect_payload_at(b, "/S.V00", &esx_base, 3);
    expect_payload_at(b, "/SB.V00", &esx_base, 4);
    expect_payload_at(b, "/BTLDR.V00", &esx_base, 5);
    expect_payload_at(b, "/ISOLINUX.BIN", &esx_base, 6);
    expect_payload_at(b, "/MBOOT.C32", &esx_base, 7);
    expect_payload_at(b, "/MENU.C32", &esx_base, 8);
    expect_payload_at(b, "/EFIBOOT.IMG", &esx_base, 10);
    expect_payload_at(b, "/EFI/BOOT/BOOTX64.EFI", &esx_base, 11);
    expect_payload_at(b, "/UPGRADE/METADATA.XML", &esx_base, 12);
    expect_payload_at(b, "/README", &esx_base, 13);
    expect_payload_at(b, "/OSL.TXT", &esx_base, 14);
    expect_payload_at(b, "/NE1000.V00", &ne1000, 0);
    expect_payload_at(b, "/XORG.V00", &xorg, 0);
    static const char *const generated[] = {"/BOOT.CFG", "/EFI/BOOT/BOOT.CFG", "/ISOLINUX.CFG",
                                            "/IMGDB.TGZ", "/IMGPAYLD.TGZ", "/KS.CFG"};
    for (size_t i = 0; i < sizeof generated / sizeof *generated; i++)
        assert_non_null(file_of(b, generated[i]));
    assert_int_equal(b->file_count, 16 + 6);    /* fatBootSector is no file of the ISO */
    for (size_t i = 1; i < b->file_count; i++)
        assert_true(strcmp(b->files[i - 1].iso_path, b->files[i].iso_path) < 0);
    assert_string_equal(b->bios_boot, "/ISOLINUX.BIN");
    assert_string_equal(b->efi_boot, "/EFIBOOT.IMG");
    assert_string_equal(b->volume_id, "ESXI-7.0U2A-TEST-STANDARD");
    assert_int_equal(b->major, 7);
    esximg_imgbuild_free(b);
}

static void imgbuild_orders_boot_cfg(void **state)
{
    struct fixture *fx = *state;
    struct esximg_imgbuild *b = plan(fx);
    static const char *const want[] = {"/b.b00", "/jumpstrt.gz", "/k.b00", "/sb.v00", "/s.v00",
                                       "/ne1000.v00", "/btldr.v00", "/xorg.v00", "/imgdb.tgz",
                                       "/imgpayld.tgz"};
    assert_int_equal(b->module_count, sizeof want / sizeof *want);
    for (size_t i = 0; i < b->module_count; i++)
        assert_string_equal(b->modules[i], want[i]);
    assert_string_equal(b->bootcfg,
                        "bootstate=0\ntitle=Test installer\ntimeout=5\nprefix=\n"
                        "kernel=/b.b00\nkernelopt=runweasel autoPartition=TRUE ks=cdrom:/KS.CFG\n"
                        "modules=/jumpstrt.gz --- /k.b00 --- /sb.v00 --- /s.v00 --- /ne1000.v00"
                        " --- /btldr.v00 --- /xorg.v00 --- /imgdb.tgz --- /imgpayld.tgz\n"
                        "build=7.0.2-0.0.17630552\nupdated=0\n");
    const struct esximg_isoc_file *bios = file_of(b, "/BOOT.CFG");
    const struct esximg_isoc_file *efi = file_of(b, "/EFI/BOOT/BOOT.CFG");
    assert_int_equal(bios->content.len, efi->content.len);
    assert_memory_equal(bios->content.data, efi->content.data, bios->content.len);
    const struct esximg_isoc_file *iso = file_of(b, "/ISOLINUX.CFG");
    static const char isolinux[] =
        "DEFAULT menu.c32\nMENU TITLE ESXi-7.0U2a-test-standard Boot Menu\nNOHALT 1\nPROMPT 0\n"
        "TIMEOUT 80\nLABEL install\n  KERNEL mboot.c32\n  APPEND -c boot.cfg\n"
        "  MENU LABEL ESXi-7.0U2a-test-standard ^Installer\nLABEL hddboot\n  LOCALBOOT 0x80\n"
        "  MENU LABEL ^Boot from local disk\n";
    assert_int_equal(iso->content.len, sizeof isolinux - 1);
    assert_memory_equal(iso->content.data, isolinux, sizeof isolinux - 1);
    esximg_imgbuild_free(b);
}

static const struct esximg_profile_vib *profile_vib(const struct esximg_profile *p,
                                                    const char *id)
{
    const struct esximg_profile_vib *v = esximg_profile_find(p, id);
    if (!v)
        fail_msg("'%s' is not in the profile", id);
    return v;
}

static void imgbuild_writes_the_database(void **state)
{
    struct fixture *fx = *state;
    struct esximg_imgbuild *b = plan(fx);
    const struct esximg_isoc_file *f = file_of(b, "/IMGDB.TGZ");
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_read(f->content.data, f->content.len, &db, NULL), 0);
    const struct esximg_profile *p = db->profile;
    assert_non_null(p);
    assert_string_equal(p->name, "ESXi-7.0U2a-test-standard");
    assert_string_equal(p->creator, "VMware");
    assert_string_equal(p->description, "built in a test");
    assert_string_equal(p->acceptance_level, "community");     /* xorg's */
    assert_int_equal(p->vib_count, 3);
    const struct esximg_profile_vib *base = profile_vib(p, "VMware_bootbank_esx-base_"
                                                           "7.0.2-0.0.17630552");
    assert_int_equal(base->payload_count, esx_base.n);
    assert_string_equal(base->payloads[2].payload_name, "jumpstrt");
    assert_string_equal(base->payloads[2].file, "jumpstrt.gz");
    assert_string_equal(base->payloads[7].file, "mboot.c3.b00");
    const struct esximg_profile_vib *nic = profile_vib(p, "VMW_bootbank_ne1000_"
                                                          "0.8.3-4vmw.702.0.0.17630552");
    assert_string_equal(nic->payloads[0].file, "ne1000.v00");
    assert_int_equal(db->vib_count, 3);
    /* the signed esx-base's descriptor as signed and its signature, beside its xml */
    bool signed_kept = false;
    for (size_t i = 0; i < db->vib_count; i++)
        if (strstr(db->vibs[i].path, "/esx-base-"))
            signed_kept = esximg_imgdb_find_vib_orig(db, strrchr(db->vibs[i].path, '/') + 1) &&
                          esximg_imgdb_find_vib_sig(db, strrchr(db->vibs[i].path, '/') + 1);
    assert_true(signed_kept);
    /* the given component, and one of its own for each VIB it does not name */
    assert_int_equal(db->bulletin_count, 3);
    bool given = false;
    for (size_t i = 0; i < db->bulletin_count; i++)
        given = given || (strstr(db->bulletins[i].path, "Intel-ne1000_0.8.3") &&
                          db->bulletins[i].len == strlen(ne1000_bulletin) &&
                          !memcmp(db->bulletins[i].data, ne1000_bulletin, db->bulletins[i].len));
    assert_true(given);
    esximg_imgdb_free(db);
    esximg_imgbuild_free(b);
}

/* A 6.x image: the 6.x kernel options, vibs/ names by the Python 2 hash, no bulletins. */
static void imgbuild_lays_out_a_6x_image(void **state)
{
    struct fixture *fx = *state;
    esx_base.version = "6.7.0-0.0.8169922";
    make_vib(&esx_base, 1);
    fx->in[1] = input_of(&esx_base);
    struct esximg_imgbuild *b = plan(fx);
    assert_int_equal(b->major, 6);
    assert_non_null(strstr(b->bootcfg, "\nkernelopt=runweasel autoPartition=TRUE "
                                       "ks=cdrom:/KS.CFG\n"));
    assert_non_null(strstr(b->bootcfg, "\nbuild=6.7.0-0.0.8169922\n"));
    const struct esximg_isoc_file *f = file_of(b, "/IMGDB.TGZ");
    struct esximg_imgdb *db = NULL;
    assert_int_equal(esximg_imgdb_read(f->content.data, f->content.len, &db, NULL), 0);
    assert_int_equal(db->bulletin_count, 0);
    char *want = NULL;
    assert_int_equal(esximg_modname_vib_xml("esx-base", "VMware_bootbank_esx-base_"
                                            "6.7.0-0.0.8169922", &want, NULL), 0);
    assert_non_null(esximg_imgdb_find_vib_xml(db, want));
    free(want);
    esximg_imgdb_free(db);
    esximg_imgbuild_free(b);
    esx_base.version = "7.0.2-0.0.17630552";
    make_vib(&esx_base, 1);
    fx->in[1] = input_of(&esx_base);
}

static void expect_plan_fails(struct fixture *fx, const char *words1, const char *words2)
{
    struct esximg_imgbuild *b = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_imgbuild_plan(fx->in, 3, NULL, 0, &fx->o, &b, &err), ESXIMG_EINVAL);
    assert_null(b);
    if (!strstr(err.msg, words1) || (words2 && !strstr(err.msg, words2)))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, words1, words2 ? words2 : "");
}

static void imgbuild_refuses_bad_payload_names(void **state)
{
    struct fixture *fx = *state;
    esx_base.p[13].name = "LongReadme.text";
    make_vib(&esx_base, 1);
    fx->in[1] = input_of(&esx_base);
    expect_plan_fails(fx, "'LongReadme.text'", "not an 8.3 name");
    /* two payloads on one path, both named */
    esx_base.p[13].name = "OSL.TXT";
    make_vib(&esx_base, 1);
    fx->in[1] = input_of(&esx_base);
    expect_plan_fails(fx, "payload 'OSL.TXT' of 'VMware_bootbank_esx-base",
                      "both go to '/OSL.TXT'");
    esx_base.p[13].name = "README";
    make_vib(&esx_base, 1);
    fx->in[1] = input_of(&esx_base);
    /* a content whose size is not its payload's */
    ne1000.contents[0].len--;
    expect_plan_fails(fx, "'ne1000' is 1233 bytes", NULL);
    ne1000.contents[0].len++;
}

static void imgbuild_writes_an_image_info_accepts(void **state)
{
    struct fixture *fx = *state;
    struct esximg_imgbuild *b = plan(fx);
    char *out = tu_path_join(fx->dir, "built.iso");
    char *again = tu_path_join(fx->dir, "again.iso");
    const struct esximg_imgbuild_wopts wo = {.mtime = EPOCH};
    struct esximg_err err = {0};
    if (esximg_imgbuild_write(b, &wo, out, &err))
        fail_msg("write: %s", err.msg);
    esximg_imgbuild_free(b);
    struct esximg_image *img = NULL;
    assert_int_equal(esximg_image_open(out, NULL, &img, &err), 0);
    for (size_t i = 0; i < img->problems.count; i++)
        print_error("problem: %s\n", img->problems.items[i].msg);
    assert_int_equal(img->problems.count, 0);
    assert_int_equal(img->vib_count, 3);
    assert_true(img->bios_boot);
    assert_true(img->uefi_boot);
    assert_int_equal(img->major, 7);
    assert_string_equal(img->iso->volume_id, "ESXI-7.0U2A-TEST-STANDARD");
    assert_string_equal(img->iso->application_id, "ESXIMAGE");
    esximg_image_free(img);
    /* the same VIBs, given in another order, give the same bytes */
    struct esximg_imgbuild_vib t = fx->in[0];
    fx->in[0] = fx->in[2];
    fx->in[2] = t;
    b = plan(fx);
    assert_int_equal(esximg_imgbuild_write(b, &wo, again, NULL), 0);
    esximg_imgbuild_free(b);
    uint8_t *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    tu_read_file(out, &da, &la);
    tu_read_file(again, &db, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
    free(out);
    free(again);
}

static void imgbuild_writes_a_pxe_folder(void **state)
{
    struct fixture *fx = *state;
    struct esximg_imgbuild *b = plan(fx);
    char *out = tu_path_join(fx->dir, "pxe");
    const struct esximg_imgbuild_wopts wo = {.mtime = EPOCH, .pxe_prefix = "http://h/esxi"};
    struct esximg_err err = {0};
    if (esximg_imgbuild_write_pxe(b, &wo, out, &err))
        fail_msg("pxe: %s", err.msg);
    static const char *const want[] = {"b.b00", "k.b00", "jumpstrt.gz", "s.v00", "sb.v00",
                                       "btldr.v00", "ne1000.v00", "xorg.v00", "imgdb.tgz",
                                       "imgpayld.tgz", "mboot.c32", "menu.c32", "bootx64.efi",
                                       "mboot.efi", "readme", "osl.txt", "ks.cfg", "boot.cfg"};
    char **names = NULL;
    size_t n = tu_find_files(out, "", &names);
    assert_int_equal(n, sizeof want / sizeof *want);
    tu_free_list(names, n);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = tu_path_join(out, want[i]);
        struct stat st;
        if (stat(p, &st) != 0)
            fail_msg("'%s' is missing", want[i]);
        free(p);
    }
    char *cfg_path = tu_path_join(out, "boot.cfg");
    uint8_t *cfg = NULL;
    size_t len = 0;
    tu_read_file(cfg_path, &cfg, &len);
    assert_non_null(strstr((char *)cfg, "\nprefix=http://h/esxi\n"));
    assert_non_null(strstr((char *)cfg, "\nkernel=b.b00\n"));
    assert_non_null(strstr((char *)cfg, "\nmodules=jumpstrt.gz --- k.b00 --- "));
    assert_non_null(strstr((char *)cfg, " ks=http://h/esxi/ks.cfg"));
    struct stat st;
    assert_int_equal(stat(cfg_path, &st), 0);
    assert_int_equal(st.st_mtime, EPOCH);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mtime, EPOCH);
    free(cfg);
    free(cfg_path);
    /* an existing folder is refused and left alone */
    assert_int_equal(esximg_imgbuild_write_pxe(b, &wo, out, &err), ESXIMG_EINVAL);
    esximg_imgbuild_free(b);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imgbuild_places_every_payload_type),
        cmocka_unit_test(imgbuild_orders_boot_cfg),
        cmocka_unit_test(imgbuild_writes_the_database),
        cmocka_unit_test(imgbuild_lays_out_a_6x_image),
        cmocka_unit_test(imgbuild_refuses_bad_payload_names),
        cmocka_unit_test(imgbuild_writes_an_image_info_accepts),
        cmocka_unit_test(imgbuild_writes_a_pxe_folder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
