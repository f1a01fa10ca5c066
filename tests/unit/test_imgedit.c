/* test_imgedit.c: one-pass image edits (lib/imgedit.c) on 6.7 and 7.0 images that
 * tests/gen/mkesxiso.py builds at test time, with VIBs built here by esximg_vibauthor_build.
 * Each edited image is opened again with esximg_image_open, which must find no problem.
 * Without xorriso, grub-mkimage, mtools or isolinux the image tests skip. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/esximg.h"
#include "testutil.h"

#define EPOCH TU_GEN_EPOCH           /* the generated images' dates */
#define EDIT_TIME 1700000000            /* 2023-11-14T22:13:20Z */
#define EDIT_DATE "2023-11-14T22:13:20.000000+00:00"

struct fixture {
    char *dir;
    char *iso67, *iso70, *iso70_differ;
    char *out;          /* outputs go here; checked for leftovers */
};

/* ---------------------------------------------------------------- helpers */

static int setup(void **state)
{
    if (!tu_have_image_tools())
        return 0;   /* the image tests skip */
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = tu_mkdtemp();
    fx->iso67 = tu_path_join(fx->dir, "esx67.iso");
    fx->iso70 = tu_path_join(fx->dir, "esx70.iso");
    fx->iso70_differ = tu_path_join(fx->dir, "differ.iso");
    fx->out = tu_path_join(fx->dir, "out");
    bool ok = tu_make_esx_iso("6.7", "", fx->iso67) && tu_make_esx_iso("7.0", "", fx->iso70) &&
              tu_make_esx_iso("7.0", "--break bootcfg-differ", fx->iso70_differ);
    if (!ok || mkdir(fx->out, 0755) != 0) {
        tu_rmtree(fx->dir);
        free(fx->dir);
        free(fx->iso67);
        free(fx->iso70);
        free(fx->iso70_differ);
        free(fx->out);
        free(fx);
        return 0;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx)
        return 0;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->iso67);
    free(fx->iso70);
    free(fx->iso70_differ);
    free(fx->out);
    free(fx);
    return 0;
}

/* What a test VIB looks like. */
struct vib_spec {
    const char *name, *version, *vendor, *acceptance, *payload;
    const char *const *depends;
    size_t depends_count;
    const char *const *conflicts;
    size_t conflicts_count;
    const char *const *replaces;
    size_t replaces_count;
    const char *map_dir;        /* "default" or "driver" */
};

static void build_vib(const struct vib_spec *s, uint8_t **out, size_t *out_len)
{
    struct esximg_err err = {0};
    struct esximg_descriptor *d = NULL;
    const struct esximg_vibauthor_fields f = {
        .name = s->name, .version = s->version ? s->version : "1.0-1",
        .vendor = s->vendor ? s->vendor : "custom",
        .acceptance = s->acceptance ? s->acceptance : "community",
        .summary = "test driver", .release_date = "2021-01-02T03:04:05.000000+00:00",
        .depends = s->depends, .depends_count = s->depends_count,
        .conflicts = s->conflicts, .conflicts_count = s->conflicts_count,
        .replaces = s->replaces, .replaces_count = s->replaces_count,
    };
    char map_path[128], map_text[128], mod_path[128];
    snprintf(map_path, sizeof map_path, "etc/vmware/%s.map.d/%s.map",
             s->map_dir ? s->map_dir : "default", s->name);
    snprintf(map_text, sizeof map_text, "regtype=native,bus=pci,id=10ec8168..............,"
             "driver=%s\n", s->name);
    snprintf(mod_path, sizeof mod_path, "usr/lib/vmware/vmkmod/%s", s->name);
    const struct esximg_vibauthor_entry entries[] = {
        {.path = map_path, .kind = ESXIMG_VIBAUTHOR_FILE, .data = map_text,
         .len = strlen(map_text)},
        {.path = mod_path, .kind = ESXIMG_VIBAUTHOR_FILE, .data = s->name,
         .len = strlen(s->name)},
    };
    char payload[16];
    snprintf(payload, sizeof payload, "%.8s", s->payload ? s->payload : s->name);
    const struct esximg_vibauthor_payload p = {
        .name = payload, .type = "vgz", .entries = entries, .entry_count = 2,
    };
    const struct esximg_vibauthor_opts o = {.mtime = EPOCH};
    if (esximg_vibauthor_descriptor_new(&d, &err) || esximg_vibauthor_apply(d, &f, &err) ||
        esximg_vibauthor_build(d, &p, 1, &o, out, out_len, &err))
        fail_msg("building '%s': %s", s->name, err.msg);
    esximg_descriptor_free(d);
}

static void write_file(const char *path, const void *data, size_t len)
{
    struct esximg_err err = {0};
    if (esximg_file_write(path, data, len, 0644, &err))
        fail_msg("writing '%s': %s", path, err.msg);
}

/* Builds the VIB into dir/<file>; returns the path. */
static char *vib_file(const struct fixture *fx, const char *file, const struct vib_spec *s)
{
    uint8_t *bytes;
    size_t len;
    build_vib(s, &bytes, &len);
    char *path = tu_path_join(fx->dir, file);
    write_file(path, bytes, len);
    free(bytes);
    return path;
}

static struct esximg_image *open_image(const char *path)
{
    struct esximg_err err = {0};
    struct esximg_image *img = NULL;
    if (esximg_image_open(path, NULL, &img, &err))
        fail_msg("opening '%s': %s", path, err.msg);
    return img;
}

/* The images of the plans alive, which must outlive them: plan_free() frees both. */
static struct planned {
    struct esximg_edit_plan *plan;
    struct esximg_image *img;
} planned[8];

static void plan_free(struct esximg_edit_plan *p)
{
    for (size_t i = 0; p && i < sizeof planned / sizeof *planned; i++)
        if (planned[i].plan == p) {
            esximg_edit_plan_free(p);
            esximg_image_free(planned[i].img);
            planned[i] = (struct planned){0};
            return;
        }
    fail_msg("plan %p was not made by plan_ok", (void *)p);
}

/* Plans the edit; fails the test on an error. */
static struct esximg_edit_plan *plan_ok(const char *iso, const struct esximg_edit_opts *o)
{
    size_t slot = 0;
    while (slot < sizeof planned / sizeof *planned && planned[slot].plan)
        slot++;
    if (slot == sizeof planned / sizeof *planned)
        fail_msg("more than %zu plans alive", slot);
    struct esximg_image *img = open_image(iso);
    struct esximg_err err = {0};
    struct esximg_edit_plan *p = NULL;
    if (esximg_edit_plan(img, o, &p, &err))
        fail_msg("plan: %s: %s", err.file, err.msg);
    planned[slot] = (struct planned){.plan = p, .img = img};
    return p;
}

/* The planning error code; err gets the message. */
static int plan_fails(const char *iso, const struct esximg_edit_opts *o, struct esximg_err *err)
{
    struct esximg_image *img = open_image(iso);
    struct esximg_edit_plan *p = NULL;
    int rc = esximg_edit_plan(img, o, &p, err);
    esximg_image_free(img);
    assert_null(p);
    return rc;
}

static bool has_line(const struct esximg_edit_plan *p, const char *text)
{
    for (size_t i = 0; i < p->line_count; i++)
        if (strstr(p->lines[i], text))
            return true;
    return false;
}

static bool has_warning(const struct esximg_warnings *w, const char *text)
{
    for (size_t i = 0; i < w->count; i++)
        if (strstr(w->items[i].msg, text))
            return true;
    return false;
}

struct write_progress {
    size_t calls;
    uint64_t done, total;
};

static void on_write_progress(uint64_t done, uint64_t total, void *arg)
{
    struct write_progress *pr = arg;
    pr->calls++;
    pr->done = done;
    pr->total = total;
}

/* Plans, writes out/<name> (its progress must reach the end) and opens it; the image must
 * have no problem. */
static struct esximg_image *edit_ok(const struct fixture *fx, const char *iso,
                                    const struct esximg_edit_opts *o, const char *name,
                                    struct esximg_edit_plan **plan_out)
{
    struct esximg_edit_plan *p = plan_ok(iso, o);
    assert_int_equal(p->problems.count, 0);
    char *out = tu_path_join(fx->out, name);
    struct esximg_err err = {0};
    struct write_progress pr = {0};
    const struct esximg_edit_wopts wo = {.progress = on_write_progress, .progress_arg = &pr};
    if (esximg_edit_write(p, out, &wo, &err))
        fail_msg("write: %s: %s", err.file, err.msg);
    assert_true(pr.calls > 0);
    assert_true(pr.total > 0);
    assert_true(pr.done == pr.total);
    struct esximg_image *img = open_image(out);
    for (size_t i = 0; i < img->problems.count; i++)
        print_error("problem: %s\n", img->problems.items[i].msg);
    assert_int_equal(img->problems.count, 0);
    free(out);
    if (plan_out)
        *plan_out = p;
    else
        plan_free(p);
    return img;
}

static char *iso_text(struct esximg_image *img, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct esximg_err err = {0};
    if (esximg_iso_read_file(img->iso, path, 1 << 24, &data, &len, &err))
        fail_msg("reading '%s': %s", path, err.msg);
    return (char *)data;
}

static char *cfg_value(const struct esximg_bootcfg *c, const char *key)
{
    char *v = NULL;
    if (esximg_bootcfg_get(c, key, &v, NULL))
        return NULL;
    return v;
}

/* The module item just before imgdb.tgz in modules= is `file`, in both copies. */
static void assert_before_imgdb(const struct esximg_image *img, const char *file)
{
    const struct esximg_bootcfg *cfgs[2] = {img->bootcfg, img->efi_bootcfg};
    for (size_t k = 0; k < 2; k++) {
        assert_non_null(cfgs[k]);
        struct esximg_bootcfg_modules *m = NULL;
        assert_int_equal(esximg_bootcfg_modules_get(cfgs[k], &m, NULL), 0);
        size_t at = m->count;
        for (size_t i = 0; i < m->count; i++)
            if (esximg_bootcfg_module_is(m->items[i].path, "imgdb.tgz"))
                at = i;
        assert_true(at > 0 && at < m->count);
        if (!esximg_bootcfg_module_is(m->items[at - 1].path, file))
            fail_msg("'%s' comes before imgdb.tgz, not '%s'", m->items[at - 1].path, file);
        esximg_bootcfg_modules_free(m);
    }
}

static bool bootcfg_loads(const struct esximg_bootcfg *c, const char *file)
{
    struct esximg_bootcfg_modules *m = NULL;
    assert_int_equal(esximg_bootcfg_modules_get(c, &m, NULL), 0);
    bool found = false;
    for (size_t i = 0; i < m->count; i++)
        found = found || esximg_bootcfg_module_is(m->items[i].path, file);
    esximg_bootcfg_modules_free(m);
    return found;
}

static const struct esximg_imgdb_file *find_db_file(const struct esximg_imgdb_file *files,
                                                    size_t n, const char *base)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(esx_path_base(files[i].path), base))
            return &files[i];
    return NULL;
}

static void sha256_file(const char *path, char out[65])
{
    uint8_t *data = NULL;
    size_t len = 0;
    tu_read_file(path, &data, &len);
    assert_int_equal(esx_digest_hex(ESX_SHA256, data, len, out, NULL), 0);
    free(data);
}

/* ---------------------------------------------------------------- tests */

static void edit_parses_times(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(esximg_edit_parse_time(EDIT_DATE, &t, NULL), 0);
    assert_int_equal(t, EDIT_TIME);
    assert_int_equal(esximg_edit_parse_time("2023-11-14T22:13:20Z", &t, NULL), 0);
    assert_int_equal(t, EDIT_TIME);
    assert_int_equal(esximg_edit_parse_time("2023-11-15T00:13:20+02:00", &t, NULL), 0);
    assert_int_equal(t, EDIT_TIME);
    assert_int_equal(esximg_edit_parse_time("1970-01-01T00:00:00", &t, NULL), 0);
    assert_int_equal(t, 0);
    assert_int_equal(esximg_edit_parse_time("2000-02-29T00:00:00", &t, NULL), 0);
    assert_int_equal(t, 951782400);
    static const char *const bad[] = {
        "", "2023", "2023-11-14", "2023-13-01T00:00:00", "2023-11-14T25:00:00",
        "1969-12-31T23:59:59", "2023-11-14T22:13:20.", "2023-11-14T22:13:20+0200",
        "2023-11-14T22:13:20 junk", "+023-11-14T22:13:20", "2023-11-14T22:13:2x",
        "1970-01-01T00:00:00+01:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct esximg_err err = {0};
        if (esximg_edit_parse_time(bad[i], &t, &err) != ESXIMG_EINVAL)
            fail_msg("'%s' parsed", bad[i]);
    }
    assert_int_equal(esximg_edit_parse_time(NULL, &t, NULL), ESXIMG_EINVAL);
    esximg_edit_plan_free(NULL);
}

/* 7.0: a community VIB goes in, with its module, xml, bulletin and the acceptance lowered. */
static void edit_adds_a_vib_on_70(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct vib_spec s = {.name = "net-r8168", .version = "8.045a-1"};
    char *vib = vib_file(fx, "r8168.vib", &s);
    const char *adds[] = {vib};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    struct esximg_edit_plan *p = NULL;
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "add70.iso", &p);
    assert_int_equal(p->vibs_added, 1);
    assert_true(has_line(p, "add VIB custom_bootbank_net-r8168_8.045a-1 (community)"));
    assert_true(has_line(p, "add module /NET_R816.V00"));
    assert_true(has_line(p, "profile acceptance: partner -> community"));
    assert_true(has_line(p, "change /EFI/BOOT/BOOT.CFG: the same lines"));
    assert_true(has_warning(&p->warnings, "goes down from partner to community"));
    assert_true(has_warning(&p->warnings, "Secure Boot"));
    const struct esximg_image_vib *v = esximg_image_find_vib(img, "net-r8168");
    assert_non_null(v);
    assert_non_null(v->entry);
    assert_int_equal(v->entry->payload_count, 1);
    assert_string_equal(v->entry->payloads[0].file, "net_r816.v00");
    assert_non_null(esximg_iso_find(img->iso, "/NET_R816.V00"));
    assert_string_equal(esximg_iso_find(img->iso, "/NET_R816.V00")->path, "/NET_R816.V00");
    assert_before_imgdb(img, "net_r816.v00");
    assert_true(img->community_vibs);
    const struct esximg_profile *prof = img->db->profile;
    assert_string_equal(prof->acceptance_level, "community");
    assert_string_equal(prof->modified_time, EDIT_DATE);
    assert_string_equal(prof->name, "ESXi-7.0.2-17630552-standard");
    /* the xml is the descriptor.xml bytes verbatim, named by the 64-bit rule */
    uint8_t *bytes;
    size_t len;
    tu_read_file(vib, &bytes, &len);
    struct esximg_vib *pv = NULL;
    assert_int_equal(esximg_vib_read(bytes, len, &pv, NULL), 0);
    char *want = NULL;
    assert_int_equal(esximg_modname_vib_xml64("net-r8168", "custom_bootbank_net-r8168_8.045a-1",
                                              NULL, 0, &want, NULL), 0);
    assert_string_equal(v->xml_file, want);
    const struct esximg_imgdb_file *x = esximg_imgdb_find_vib_xml(img->db, want);
    assert_non_null(x);
    assert_int_equal(x->len, pv->descriptor_len);
    assert_memory_equal(x->data, pv->descriptor_bytes, x->len);
    /* the module is the payload as stored */
    size_t plen;
    const uint8_t *pdata = esximg_vib_member_data(pv, "net-r816", &plen);
    char *mod = NULL;
    size_t mlen = 0;
    assert_int_equal(esximg_iso_read_file(img->iso, "/NET_R816.V00", 1 << 20, (uint8_t **)&mod,
                                          &mlen, NULL), 0);
    assert_int_equal(mlen, plen);
    assert_memory_equal(mod, pdata, plen);
    /* a bulletin for the standalone VIB */
    const struct esximg_imgdb_file *b = find_db_file(img->db->bulletins,
                                                     img->db->bulletin_count,
                                                     "net-r8168_8.045a-1.xml");
    assert_non_null(b);
    struct esximg_bulletin *bl = NULL;
    assert_int_equal(esximg_bulletin_read(b->data, b->len, &bl, NULL), 0);
    assert_string_equal(bl->component_name, "net-r8168");
    assert_string_equal(bl->component_version, "8.045a-1");
    assert_string_equal(bl->vendor, "custom");
    assert_string_equal(bl->release_date, "2021-01-02T03:04:05.000000+00:00");
    assert_int_equal(bl->vib_count, 1);
    assert_string_equal(bl->vib_ids[0], "custom_bootbank_net-r8168_8.045a-1");
    esximg_bulletin_free(bl);
    free(mod);
    free(want);
    esximg_vib_free(pv);
    free(bytes);
    esximg_image_free(img);
    plan_free(p);
    free(vib);
}

/* 6.7: the py2 hash names the xml; no bulletins; names clash with nothing. */
static void edit_names_on_67(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    /* payload "net-e100" is taken twice (.v00, .v01); "atlantic" once */
    const struct vib_spec a = {.name = "net-e1000x", .payload = "net-e100"};
    const struct vib_spec b = {.name = "atl2", .payload = "atlantic"};
    char *va = vib_file(fx, "a.vib", &a), *vb = vib_file(fx, "b.vib", &b);
    const char *adds[] = {va, vb};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 2, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    struct esximg_image *img = edit_ok(fx, fx->iso67, &o, "add67.iso", NULL);
    const struct esximg_image_vib *x = esximg_image_find_vib(img, "net-e1000x");
    const struct esximg_image_vib *y = esximg_image_find_vib(img, "atl2");
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(x->entry->payloads[0].file, "net_e100.v02");
    assert_string_equal(y->entry->payloads[0].file, "atlantic.v01");
    assert_non_null(esximg_iso_find(img->iso, "/NET_E100.V02"));
    assert_non_null(esximg_iso_find(img->iso, "/ATLANTIC.V01"));
    /* sorted by vib-id: atl2 first, then net-e1000x, both before imgdb.tgz */
    assert_before_imgdb(img, "net_e100.v02");
    char *want = NULL;
    assert_int_equal(esximg_modname_vib_xml("net-e1000x", "custom_bootbank_net-e1000x_1.0-1",
                                            &want, NULL), 0);
    assert_string_equal(x->xml_file, want);
    assert_int_equal(img->db->bulletin_count, 0);
    free(want);
    esximg_image_free(img);
    free(va);
    free(vb);
}

static void edit_refuses_reserved_names(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    static const char *const names[] = {"s", "sb", "esxcore", "esxupdt"};
    for (size_t i = 0; i < 4; i++) {
        const struct vib_spec s = {.name = "evil", .payload = names[i]};
        char *vib = vib_file(fx, "evil.vib", &s);
        const char *adds[] = {vib};
        const struct esximg_edit_opts o = {.adds = adds, .add_count = 1};
        struct esximg_err err = {0};
        assert_int_equal(plan_fails(fx->iso70, &o, &err), ESXIMG_EINVAL);
        assert_non_null(strstr(err.msg, "reserved"));
        assert_non_null(strstr(err.msg, "custom_bootbank_evil_1.0-1"));
        assert_string_equal(err.file, vib);
        free(vib);
    }
}

/* A VIB of a name already in the image replaces it: old module, xml and bulletin go. */
static void edit_replaces_by_name(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct vib_spec s = {.name = "ne1000", .version = "0.9.0-1", .vendor = "VMW",
                               .acceptance = "partner"};
    char *vib = vib_file(fx, "ne1000.vib", &s);
    const char *adds[] = {vib};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    struct esximg_image *in = open_image(fx->iso70);
    const struct esximg_image_vib *old = esximg_image_find_vib(in, "ne1000");
    assert_non_null(old);
    char *old_xml = esx_strdup(old->xml_file);
    esximg_image_free(in);
    struct esximg_edit_plan *p = NULL;
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "replace.iso", &p);
    assert_int_equal(p->vibs_replaced, 1);
    assert_int_equal(p->vibs_removed, 0);
    assert_true(has_line(p, "replace VIB VMW_bootbank_ne1000_0.8.3-4vmw.702.0.0.17630552 with "
                         "VMW_bootbank_ne1000_0.9.0-1"));
    assert_false(has_line(p, "profile acceptance"));    /* partner on a partner profile */
    const struct esximg_image_vib *v = esximg_image_find_vib(img, "ne1000");
    assert_string_equal(v->vib_id, "VMW_bootbank_ne1000_0.9.0-1");
    assert_null(esximg_image_find_vib(img, "VMW_bootbank_ne1000_0.8.3-4vmw.702.0.0.17630552"));
    assert_null(esximg_iso_find(img->iso, "/NE1000.V00"));
    assert_non_null(esximg_iso_find(img->iso, "/NE1000.V01"));
    assert_false(bootcfg_loads(img->bootcfg, "ne1000.v00"));
    assert_false(bootcfg_loads(img->efi_bootcfg, "ne1000.v00"));
    assert_before_imgdb(img, "ne1000.v01");
    assert_null(esximg_imgdb_find_vib_xml(img->db, old_xml));
    assert_null(find_db_file(img->db->bulletins, img->db->bulletin_count,
                             "ne1000_0.8.3-4vmw.702.0.0.17630552.xml"));
    assert_non_null(find_db_file(img->db->bulletins, img->db->bulletin_count,
                                 "ne1000_0.9.0-1.xml"));
    assert_string_equal(img->db->profile->acceptance_level, "partner");
    free(old_xml);
    esximg_image_free(img);
    plan_free(p);
    free(vib);
}

static void edit_removes(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const char *removes[] = {"atlantic", "VMW_bootbank_nvme_1.2.1.34-1vmw.702.0.0.17630552"};
    const struct esximg_edit_opts o = {.removes = removes, .remove_count = 2, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    struct esximg_edit_plan *p = NULL;
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "remove.iso", &p);
    assert_int_equal(p->vibs_removed, 2);
    assert_true(has_line(p, "remove module /ATLANTIC.V00"));
    assert_true(has_line(p, "database: remove bulletins/atlantic_"));
    assert_null(esximg_image_find_vib(img, "atlantic"));
    assert_null(esximg_image_find_vib(img, "nvme"));
    assert_non_null(esximg_image_find_vib(img, "ne1000"));
    assert_null(esximg_iso_find(img->iso, "/ATLANTIC.V00"));
    assert_null(esximg_iso_find(img->iso, "/NVME.V00"));
    for (size_t k = 0; k < 2; k++) {
        const struct esximg_bootcfg *c = k ? img->efi_bootcfg : img->bootcfg;
        assert_false(bootcfg_loads(c, "atlantic.v00"));
        assert_false(bootcfg_loads(c, "nvme.v00"));
        assert_true(bootcfg_loads(c, "ne1000.v00"));
        assert_true(bootcfg_loads(c, "imgdb.tgz"));
    }
    /* the 7.0 image: esx-base, tools-light, ne1000, vmw-ahci, nvme, atlantic; two removed */
    assert_int_equal(img->db->bulletin_count, 4);
    assert_int_equal(img->vib_count, 4);
    esximg_image_free(img);
    plan_free(p);

    struct esximg_err err = {0};
    const char *base[] = {"esx-base"};
    const struct esximg_edit_opts ob = {.removes = base, .remove_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &ob, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "kernel"));
    const char *none[] = {"no-such-vib"};
    const struct esximg_edit_opts on = {.removes = none, .remove_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &on, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'no-such-vib'"));
}

/* A bulletin that lists a removed VIB beside a kept one keeps the kept one. */
static void edit_trims_shared_bulletins(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    /* a bundle whose one component holds two VIBs */
    uint8_t *a, *b;
    size_t al, bl;
    const struct vib_spec sa = {.name = "pair-a"}, sb = {.name = "pair-b"};
    build_vib(&sa, &a, &al);
    build_vib(&sb, &b, &bl);
    const struct esximg_depot_input in[] = {{.data = a, .len = al}, {.data = b, .len = bl}};
    const struct esximg_depot_wopts wo = {.component_name = "Pair", .component_version = "2.0-1",
                                          .platform_version = "7.0.0", .mtime = EPOCH};
    uint8_t *zip;
    size_t zl;
    assert_int_equal(esximg_depot_write(in, 2, &wo, &zip, &zl, NULL), 0);
    char *zpath = tu_path_join(fx->dir, "pair.zip");
    write_file(zpath, zip, zl);
    const char *adds[] = {zpath};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "pair.iso", NULL);
    const struct esximg_imgdb_file *f = find_db_file(img->db->bulletins,
                                                     img->db->bulletin_count,
                                                     "Pair_2.0-1.xml");
    assert_non_null(f);
    struct esximg_bulletin *bul = NULL;
    assert_int_equal(esximg_bulletin_read(f->data, f->len, &bul, NULL), 0);
    assert_int_equal(bul->vib_count, 2);
    assert_string_equal(bul->component_name, "Pair");
    esximg_bulletin_free(bul);
    esximg_image_free(img);
    /* now remove one of the pair from the edited image */
    char *mid = tu_path_join(fx->out, "pair.iso");
    const char *removes[] = {"pair-a"};
    const struct esximg_edit_opts orm = {.removes = removes, .remove_count = 1,
                                         .has_mtime = true, .mtime = EDIT_TIME};
    struct esximg_edit_plan *p = NULL;
    img = edit_ok(fx, mid, &orm, "pair-rm.iso", &p);
    assert_true(has_line(p, "database: change bulletins/Pair_2.0-1.xml"));
    f = find_db_file(img->db->bulletins, img->db->bulletin_count, "Pair_2.0-1.xml");
    assert_non_null(f);
    assert_int_equal(esximg_bulletin_read(f->data, f->len, &bul, NULL), 0);
    assert_int_equal(bul->vib_count, 1);
    assert_string_equal(bul->vib_ids[0], "custom_bootbank_pair-b_1.0-1");
    esximg_bulletin_free(bul);
    esximg_image_free(img);
    plan_free(p);
    /* --select takes one VIB out of the bundle */
    const char *sel[] = {"pair-b"};
    const struct esximg_edit_opts os = {.adds = adds, .add_count = 1, .selects = sel,
                                        .select_count = 1, .has_mtime = true,
                                        .mtime = EDIT_TIME};
    p = plan_ok(fx->iso70, &os);
    assert_int_equal(p->vibs_added, 1);
    assert_true(has_line(p, "add VIB custom_bootbank_pair-b_1.0-1"));
    assert_false(has_line(p, "pair-a"));
    plan_free(p);
    const char *nosel[] = {"pair-c"};
    const struct esximg_edit_opts on = {.adds = adds, .add_count = 1, .selects = nosel,
                                        .select_count = 1};
    struct esximg_err err = {0};
    assert_int_equal(plan_fails(fx->iso70, &on, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'pair-c'"));
    free(mid);
    free(zpath);
    free(zip);
    free(a);
    free(b);
}

static void edit_checks_relationships(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    static const char *const dep[] = {"vmkapi_2_99 >= 1.0"};
    static const char *const conf[] = {"nvme"};
    static const char *const repl[] = {"atlantic << 9.0"};
    const struct vib_spec sd = {.name = "needy", .depends = dep, .depends_count = 1};
    const struct vib_spec sc = {.name = "fighty", .conflicts = conf, .conflicts_count = 1};
    const struct vib_spec sr = {.name = "atl-new", .replaces = repl, .replaces_count = 1};
    char *vd = vib_file(fx, "needy.vib", &sd), *vc = vib_file(fx, "fighty.vib", &sc);
    char *vr = vib_file(fx, "atlnew.vib", &sr);
    const char *adds[] = {vd, vc};
    struct esximg_edit_opts o = {.adds = adds, .add_count = 2};
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &o);
    assert_int_equal(p->problems.count, 2);
    assert_true(has_warning(&p->problems, "needy"));
    assert_true(has_warning(&p->problems, "vmkapi_2_99"));
    assert_true(has_warning(&p->problems, "fighty"));
    assert_true(has_warning(&p->problems, "nvme"));
    char *out = tu_path_join(fx->out, "refused.iso");
    struct esximg_err err = {0};
    assert_int_equal(esximg_edit_write(p, out, NULL, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "2 problems"));
    assert_int_equal(access(out, F_OK), -1);
    plan_free(p);
    /* --no-deps lets it through */
    o.no_deps = true;
    p = plan_ok(fx->iso70, &o);
    assert_int_equal(p->problems.count, 0);
    plan_free(p);
    /* removing what an added VIB needs is caught too; replaces removes the old VIB */
    const char *addr[] = {vr};
    const struct esximg_edit_opts orp = {.adds = addr, .add_count = 1, .has_mtime = true,
                                         .mtime = EDIT_TIME};
    struct esximg_image *img = edit_ok(fx, fx->iso70, &orp, "atlnew.iso", &p);
    assert_int_equal(p->vibs_replaced, 1);
    assert_null(esximg_image_find_vib(img, "atlantic"));
    assert_null(esximg_iso_find(img->iso, "/ATLANTIC.V00"));
    assert_non_null(esximg_image_find_vib(img, "atl-new"));
    esximg_image_free(img);
    plan_free(p);
    free(out);
    free(vd);
    free(vc);
    free(vr);
}

static void edit_sets_acceptance(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct vib_spec s = {.name = "commy"};
    char *vib = vib_file(fx, "commy.vib", &s);
    const char *adds[] = {vib};
    /* strict refuses to lower */
    struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .strict = true};
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &o);
    assert_int_equal(p->problems.count, 1);
    assert_true(has_warning(&p->problems, "custom_bootbank_commy_1.0-1"));
    assert_true(has_warning(&p->problems, "partner"));
    plan_free(p);
    /* an explicit level above a VIB's is refused */
    o.strict = false;
    o.acceptance = "partner";
    p = plan_ok(fx->iso70, &o);
    assert_int_equal(p->problems.count, 1);
    assert_true(has_warning(&p->problems, "below the acceptance level partner"));
    plan_free(p);
    o.acceptance = "certified";
    o.add_count = 0;
    p = plan_ok(fx->iso70, &o);     /* every VIB of the image is certified */
    assert_int_equal(p->problems.count, 0);
    assert_true(has_line(p, "profile acceptance: partner -> certified"));
    plan_free(p);
    o.acceptance = "bogus";
    struct esximg_err err = {0};
    assert_int_equal(plan_fails(fx->iso70, &o, &err), ESXIMG_EINVAL);
    /* explicit community, written */
    o.acceptance = "community";
    o.add_count = 1;
    o.has_mtime = true;
    o.mtime = EDIT_TIME;
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "community.iso", &p);
    assert_string_equal(img->db->profile->acceptance_level, "community");
    assert_false(has_warning(&p->warnings, "goes down"));
    esximg_image_free(img);
    plan_free(p);
    free(vib);
}

static void edit_changes_boot_options(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *ks = tu_path_join(fx->dir, "ks.cfg");
    static const char ks_text[] = "vmaccepteula\ninstall --firstdisk --overwritevmfs\n"
                                  "rootpw VMware1!\n";
    write_file(ks, ks_text, strlen(ks_text));
    const char *kopts[] = {"allowLegacyCPU=true", "-runweasel", "systemMediaSize=min",
                           "systemMediaSize=small", "noIOMMU", "-notthere"};
    const struct esximg_edit_opts o = {
        .kernelopts = kopts, .kernelopt_count = 6, .ks_path = ks, .title = "My ESXi image",
        .profile_name = "My-Profile", .has_mtime = true, .mtime = EDIT_TIME,
    };
    struct esximg_edit_plan *p = NULL;
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "boot.iso", &p);
    assert_true(has_warning(&p->warnings, "'notthere' is not set"));
    assert_true(has_line(p, "  -kernelopt=cdromBoot runweasel"));
    assert_true(has_line(p, "  +kernelopt=cdromBoot allowLegacyCPU=true systemMediaSize=small "
                         "noIOMMU ks=cdrom:/KS.CFG"));
    assert_true(has_line(p, "profile name: ESXi-7.0.2-17630552-standard -> My-Profile"));
    for (size_t k = 0; k < 2; k++) {
        const struct esximg_bootcfg *c = k ? img->efi_bootcfg : img->bootcfg;
        char *ko = cfg_value(c, "kernelopt"), *title = cfg_value(c, "title");
        assert_string_equal(ko, "cdromBoot allowLegacyCPU=true systemMediaSize=small noIOMMU "
                            "ks=cdrom:/KS.CFG");
        assert_string_equal(title, "My ESXi image");
        free(ko);
        free(title);
    }
    char *got = iso_text(img, "/KS.CFG");
    assert_string_equal(got, ks_text);
    free(got);
    assert_string_equal(img->db->profile->name, "My-Profile");
    char *file = NULL;
    assert_int_equal(esximg_profile_file_name("My-Profile", img->db->profile->creator, &file,
                                              NULL), 0);
    assert_string_equal(img->db->profile_file, file);
    free(file);
    esximg_image_free(img);
    plan_free(p);
    /* ks twice, an empty option and a bad key are refused */
    struct esximg_err err = {0};
    const char *ksopt[] = {"ks=usb"};
    const struct esximg_edit_opts o2 = {.kernelopts = ksopt, .kernelopt_count = 1,
                                        .ks_path = ks};
    assert_int_equal(plan_fails(fx->iso70, &o2, &err), ESXIMG_EINVAL);
    const char *empty[] = {""};
    const struct esximg_edit_opts o3 = {.kernelopts = empty, .kernelopt_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &o3, &err), ESXIMG_EINVAL);
    const char *blank[] = {"a b=c"};
    const struct esximg_edit_opts o4 = {.kernelopts = blank, .kernelopt_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &o4, &err), ESXIMG_EINVAL);
    const struct esximg_edit_opts o5 = {.ks_path = "/nonexistent/ks.cfg"};
    assert_int_equal(plan_fails(fx->iso70, &o5, &err), ESXIMG_EIO);
    /* a kickstart with problems: problems of the plan, warnings with force_ks */
    static const char bad_ks[] = "vmaccepteula\ninstall --firstdisk\nnetwork --device=vusb0\n";
    write_file(ks, bad_ks, strlen(bad_ks));
    struct esximg_edit_opts o6 = {.ks_path = ks};
    p = plan_ok(fx->iso70, &o6);
    assert_int_equal(p->problems.count, 3);
    assert_true(has_warning(&p->problems, ":3: 'network': --device=vusb0 is a USB NIC"));
    assert_true(has_warning(&p->problems, ": no rootpw"));
    assert_true(has_warning(&p->problems, "give --force-ks"));
    assert_int_equal(esximg_edit_write(p, "/nonexistent/x.iso", NULL, &err), ESXIMG_EINVAL);
    plan_free(p);
    o6.force_ks = true;
    p = plan_ok(fx->iso70, &o6);
    assert_int_equal(p->problems.count, 0);
    assert_true(has_warning(&p->warnings, ":3: 'network': --device=vusb0 is a USB NIC"));
    plan_free(p);
    free(ks);
}

/* OEM .tgz: a community VIB named after the module; a vmklinux map warns on 7.0. */
static void edit_adds_oem_tgz(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    char *tree = tu_path_join(fx->dir, "oem");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%1$s/usr/lib/vmware/vmkmod' "
             "'%1$s/etc/vmware/driver.map.d' && printf mod >'%1$s/usr/lib/vmware/vmkmod/e1000x' "
             "&& printf 'regtype=linux,bus=pci,id=8086:100e 0000:0000,driver=e1000x\\n' "
             ">'%1$s/etc/vmware/driver.map.d/e1000x.map' && tar -C '%1$s' --owner=0 --group=0 "
             "-czf '%1$s.tgz' usr etc", tree);
    assert_int_equal(system(cmd), 0);
    char *tgz = tu_path_join(fx->dir, "oem.tgz");
    const char *adds[] = {tgz};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    /* on 7.0 a vmklinux driver never loads: refused, and only a warning with no_deps */
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &o);
    assert_true(has_warning(&p->problems, "'custom_bootbank_e1000x_1.0-1' is a vmklinux driver"));
    plan_free(p);
    struct esximg_edit_opts forced = o;
    forced.no_deps = true;
    p = plan_ok(fx->iso70, &forced);
    assert_int_equal(p->problems.count, 0);
    assert_true(has_warning(&p->warnings, "'custom_bootbank_e1000x_1.0-1' is a vmklinux driver"));
    plan_free(p);
    /* on 6.7 it goes in, with no vmklinux warning */
    struct esximg_image *img = edit_ok(fx, fx->iso67, &o, "oem.iso", &p);
    assert_false(has_warning(&p->warnings, "vmklinux"));
    const struct esximg_image_vib *v = esximg_image_find_vib(img, "e1000x");
    assert_non_null(v);
    assert_string_equal(v->vib_id, "custom_bootbank_e1000x_1.0-1");
    assert_string_equal(v->desc->release_date, EDIT_DATE);
    assert_int_equal(v->acceptance, ESXIMG_ACCEPT_COMMUNITY);
    assert_non_null(esximg_iso_find(img->iso, "/E1000X.V00"));
    esximg_image_free(img);
    plan_free(p);
    /* a folder of packages */
    char *folder = tu_path_join(fx->dir, "pkgs");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/' && echo x >'%s/readme.txt'",
             folder, tgz, folder, folder);
    assert_int_equal(system(cmd), 0);
    const char *fadds[] = {folder};
    const struct esximg_edit_opts of = {.adds = fadds, .add_count = 1};
    p = plan_ok(fx->iso67, &of);
    assert_int_equal(p->vibs_added, 1);
    plan_free(p);
    free(folder);
    free(tgz);
    free(tree);
}

static void edit_is_deterministic_and_keeps_the_input(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct vib_spec s = {.name = "detvib"};
    char *vib = vib_file(fx, "det.vib", &s);
    const char *adds[] = {vib};
    const char *removes[] = {"atlantic"};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1, .removes = removes,
                                       .remove_count = 1, .has_mtime = true,
                                       .mtime = EDIT_TIME};
    char before[65], after[65], a[65], b[65];
    sha256_file(fx->iso70, before);
    struct esximg_image *img = edit_ok(fx, fx->iso70, &o, "det1.iso", NULL);
    esximg_image_free(img);
    img = edit_ok(fx, fx->iso70, &o, "det2.iso", NULL);
    esximg_image_free(img);
    char *o1 = tu_path_join(fx->out, "det1.iso"), *o2 = tu_path_join(fx->out, "det2.iso");
    sha256_file(o1, a);
    sha256_file(o2, b);
    assert_string_equal(a, b);
    sha256_file(fx->iso70, after);
    assert_string_equal(before, after);
    /* without an explicit time: the latest date of the inputs */
    const struct esximg_edit_opts od = {.adds = adds, .add_count = 1};
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &od);
    assert_int_equal(p->mtime, 1609556645);     /* the VIB's 2021-01-02T03:04:05 */
    plan_free(p);
    const struct esximg_edit_opts onone = {.title = "x"};
    p = plan_ok(fx->iso70, &onone);
    assert_int_equal(p->mtime, EPOCH);          /* the profile's modifiedtime */
    plan_free(p);
    /* the output may not be the input, and an out-of-range time is refused */
    p = plan_ok(fx->iso70, &o);
    struct esximg_err err = {0};
    assert_int_not_equal(esximg_edit_write(p, fx->iso70, NULL, &err), 0);
    sha256_file(fx->iso70, after);
    assert_string_equal(before, after);
    plan_free(p);
    const struct esximg_edit_opts obad = {.has_mtime = true, .mtime = -1};
    assert_int_equal(plan_fails(fx->iso70, &obad, &err), ESXIMG_EINVAL);
    /* adding the same VIB again to the edited image replaces it, with a warning */
    const struct esximg_edit_opts again = {.adds = adds, .add_count = 1, .has_mtime = true,
                                           .mtime = EDIT_TIME};
    img = edit_ok(fx, o1, &again, "det3.iso", &p);
    assert_true(has_warning(&p->warnings, "already in the image"));
    assert_int_equal(p->vibs_replaced, 1);
    assert_string_equal(esximg_image_find_vib(img, "detvib")->entry->payloads[0].file,
                        "detvib.v01");
    esximg_image_free(img);
    plan_free(p);
    free(o1);
    free(o2);
    free(vib);
}

/* Bad packages fail the plan, naming the file; nothing is written. */
static void edit_refuses_bad_packages(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    size_t before = tu_count_files(fx->out);
    struct esximg_err err = {0};
    /* a payload with bytes after its gzip member */
    uint8_t *bytes;
    size_t len;
    const struct vib_spec s = {.name = "trailing"};
    build_vib(&s, &bytes, &len);
    struct esximg_vib *v = NULL;
    assert_int_equal(esximg_vib_read(bytes, len, &v, NULL), 0);
    size_t plen;
    const uint8_t *pd = esximg_vib_member_data(v, "trailing", &plen);
    assert_non_null(pd);
    uint8_t *padded = malloc(plen + 16);
    assert_non_null(padded);
    memcpy(padded, pd, plen);
    memset(padded + plen, 0, 16);
    const struct esximg_vib_wmember m = {"trailing", padded, plen + 16};
    uint8_t *bad;
    size_t bad_len;
    assert_int_equal(esximg_vib_write(v->descriptor_bytes, v->descriptor_len, NULL, 0, &m, 1,
                                      &bad, &bad_len, NULL), 0);
    char *path = tu_path_join(fx->dir, "trailing.vib");
    write_file(path, bad, bad_len);
    const char *adds[] = {path};
    const struct esximg_edit_opts o = {.adds = adds, .add_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &o, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "payload 'trailing' of 'custom_bootbank_trailing_1.0-1'"));
    assert_non_null(strstr(err.msg, "16 bytes follow"));
    assert_string_equal(err.file, path);
    /* a payload that disagrees with its descriptor's size */
    const struct esximg_vib_wmember m2 = {"trailing", pd, plen - 1};
    free(bad);
    assert_int_equal(esximg_vib_write(v->descriptor_bytes, v->descriptor_len, NULL, 0, &m2, 1,
                                      &bad, &bad_len, NULL), 0);
    write_file(path, bad, bad_len);
    assert_int_not_equal(plan_fails(fx->iso70, &o, &err), 0);
    /* not a package at all, a missing file, an empty folder, a broken zip */
    write_file(path, "hello, world\n", 13);
    assert_int_equal(plan_fails(fx->iso70, &o, &err), ESXIMG_EFORMAT);
    assert_string_equal(err.file, path);
    write_file(path, "PK\003\004garbage", 11);
    assert_int_not_equal(plan_fails(fx->iso70, &o, &err), 0);
    write_file(path, "!<arch>\ntruncated", 17);
    assert_int_not_equal(plan_fails(fx->iso70, &o, &err), 0);
    const char *missing[] = {"/nonexistent/x.vib"};
    const struct esximg_edit_opts om = {.adds = missing, .add_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &om, &err), ESXIMG_EIO);
    char *empty = tu_path_join(fx->dir, "emptyfolder");
    assert_int_equal(mkdir(empty, 0755), 0);
    const char *eadds[] = {empty};
    const struct esximg_edit_opts oe = {.adds = eadds, .add_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &oe, &err), ESXIMG_ENOTFOUND);
    /* an OEM tgz with a path escaping its tree */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -p esc && printf x >esc/f && "
             "tar --owner=0 --group=0 -czf esc.tgz --transform 's,^esc/f,../../etc/f,' esc/f",
             fx->dir);
    assert_int_equal(system(cmd), 0);
    char *esc = tu_path_join(fx->dir, "esc.tgz");
    const char *xadds[] = {esc};
    const struct esximg_edit_opts ox = {.adds = xadds, .add_count = 1};
    assert_int_equal(plan_fails(fx->iso70, &ox, &err), ESXIMG_EUNSAFE);
    /* the same VIB name twice with other content */
    const struct vib_spec s1 = {.name = "twice", .version = "1.0-1"};
    const struct vib_spec s2 = {.name = "twice", .version = "2.0-1"};
    char *t1 = vib_file(fx, "twice1.vib", &s1), *t2 = vib_file(fx, "twice2.vib", &s2);
    const char *tadds[] = {t1, t2, t1};
    const struct esximg_edit_opts ot = {.adds = tadds, .add_count = 2};
    assert_int_equal(plan_fails(fx->iso70, &ot, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "given twice"));
    /* the same VIB twice is dropped with a warning */
    const char *sadds[] = {t1, t1};
    const struct esximg_edit_opts osame = {.adds = sadds, .add_count = 2};
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &osame);
    assert_int_equal(p->vibs_added, 1);
    assert_true(has_warning(&p->warnings, "given twice"));
    plan_free(p);
    assert_int_equal(tu_count_files(fx->out), before);
    (void)tadds[2];
    free(t1);
    free(t2);
    free(esc);
    free(empty);
    free(bad);
    free(padded);
    esximg_vib_free(v);
    free(bytes);
    free(path);
}

/* A write that fails (output folder missing) leaves nothing; the BOOT.CFG copies differing on
 * input are edited alike, with a warning. */
static void edit_failure_leaves_nothing(void **state)
{
    struct fixture *fx = tu_need_fixture(state);
    const struct esximg_edit_opts o = {.title = "t", .has_mtime = true, .mtime = EDIT_TIME};
    struct esximg_edit_plan *p = plan_ok(fx->iso70, &o);
    char *out = tu_path_join(fx->dir, "missing-folder/out.iso");
    struct esximg_err err = {0};
    assert_int_not_equal(esximg_edit_write(p, out, NULL, &err), 0);
    assert_int_equal(access(out, F_OK), -1);
    plan_free(p);
    free(out);
    p = plan_ok(fx->iso70_differ, &o);
    assert_true(has_warning(&p->warnings, "differ on the input"));
    assert_true(has_line(p, "change /EFI/BOOT/BOOT.CFG:"));
    assert_false(has_line(p, "the same lines"));
    plan_free(p);
    /* a not-ESXi ISO (no database) is refused */
    struct esximg_err e2 = {0};
    struct esximg_image *img = open_image(fx->iso70);
    struct esximg_imgdb *saved = img->db;
    img->db = NULL;
    struct esximg_edit_plan *q = NULL;
    assert_int_equal(esximg_edit_plan(img, &o, &q, &e2), ESXIMG_EFORMAT);
    assert_null(q);
    img->db = saved;
    esximg_image_free(img);
    assert_int_equal(esximg_edit_plan(NULL, &o, &q, &e2), ESXIMG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edit_parses_times),
        cmocka_unit_test(edit_adds_a_vib_on_70),
        cmocka_unit_test(edit_names_on_67),
        cmocka_unit_test(edit_refuses_reserved_names),
        cmocka_unit_test(edit_replaces_by_name),
        cmocka_unit_test(edit_removes),
        cmocka_unit_test(edit_trims_shared_bulletins),
        cmocka_unit_test(edit_checks_relationships),
        cmocka_unit_test(edit_sets_acceptance),
        cmocka_unit_test(edit_changes_boot_options),
        cmocka_unit_test(edit_adds_oem_tgz),
        cmocka_unit_test(edit_is_deterministic_and_keeps_the_input),
        cmocka_unit_test(edit_refuses_bad_packages),
        cmocka_unit_test(edit_failure_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
