/* test_depot_write.c: offline bundles written by esximg_depot_write and read back with
 * esximg_depot_read (layout, metadata checks, components), the zip's fixed form, and the
 * refusals (no VIB, a broken VIB, the same VIB twice). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"
#include "testutil.h"

static uint8_t *make_vib(const char *name, const char *version, size_t *len)
{
    struct esximg_descriptor *d = NULL;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_vibauthor_descriptor_new(&d, &err), 0);
    const struct esximg_vibauthor_fields f = {
        .name = name, .version = version, .vendor = "Acme", .summary = "a <test> & more",
        .release_date = "2024-01-02T03:04:05.000000+00:00",
    };
    assert_int_equal(esximg_vibauthor_apply(d, &f, &err), 0);
    const struct esximg_vibauthor_entry e = { .path = "opt/acme/file", .data = name,
                                              .len = strlen(name) };
    const struct esximg_vibauthor_payload p = { .name = "payload1", .entries = &e,
                                                .entry_count = 1 };
    uint8_t *vib = NULL;
    assert_int_equal(esximg_vibauthor_build(d, &p, 1, NULL, &vib, len, &err), 0);
    esximg_descriptor_free(d);
    return vib;
}

struct two_vibs {
    uint8_t *a, *b;
    struct esximg_depot_input in[2];
};

static void two_vibs(struct two_vibs *t)
{
    memset(t, 0, sizeof *t);
    t->a = make_vib("acme-tool", "1.0-1", &t->in[0].len);
    t->b = make_vib("acme-drv", "2.0.1-3", &t->in[1].len);
    t->in[0].data = t->a;
    t->in[1].data = t->b;
}

static void depot_write_reads_back(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    const struct esximg_depot_wopts o = { .vendor_name = "Acme Inc", .vendor_code = "ACM",
                                          .mtime = 1700000000 };
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), 0);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_int_equal(d->kind, ESXIMG_DEPOT_VMWARE);
    assert_string_equal(d->vendor_name, "Acme Inc");
    assert_string_equal(d->vendor_code, "ACM");
    assert_int_equal(d->meta_url_count, 1);
    assert_string_equal(d->meta_urls[0].url, "metadata.zip");
    assert_string_equal(d->meta_urls[0].version, "5.*");
    assert_int_equal(d->warnings.count, 0);
    assert_int_equal(d->vib_count, 2);
    /* members sorted: acme-drv before acme-tool */
    assert_string_equal(d->vibs[0].path, "vib20/acme-drv/Acme_bootbank_acme-drv_2.0.1-3.vib");
    assert_string_equal(d->vibs[1].path,
                        "vib20/acme-tool/Acme_bootbank_acme-tool_1.0-1.vib");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(d->vibs[i].check, ESXIMG_DEPOT_CHECK_OK);
        assert_int_equal(d->vibs[i].component_count, 1);
        assert_string_equal(d->vibs[i].meta_path, d->vibs[i].path);
    }
    assert_memory_equal(d->vibs[0].bytes, t.b, t.in[1].len);
    assert_int_equal(d->component_count, 2);
    const struct esximg_depot_component *c = &d->components[0];
    assert_string_equal(c->id, "acme-drv_2.0.1-3");
    assert_string_equal(c->name, "acme-drv");
    assert_string_equal(c->version, "2.0.1-3");
    assert_string_equal(c->vendor, "Acme Inc");
    assert_string_equal(c->summary, "a <test> & more");
    assert_string_equal(c->release_date, "2024-01-02T03:04:05.000000+00:00");
    assert_int_equal(c->vib_id_count, 1);
    assert_string_equal(c->vib_ids[0], "Acme_bootbank_acme-drv_2.0.1-3");
    esximg_depot_free(d);

    /* the same inputs give the same bytes */
    uint8_t *again = NULL;
    size_t again_len = 0;
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &again, &again_len, &err), 0);
    assert_int_equal(len, again_len);
    assert_memory_equal(zip, again, len);
    free(again);
    free(zip);
    free(t.a);
    free(t.b);
}

static void depot_write_one_component(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    const struct esximg_depot_wopts o = { .component_name = "Acme-Suite",
                                          .component_version = "3.0-1",
                                          .platform_version = "7.0.0" };
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), 0);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_string_equal(d->vendor_name, "Acme");
    assert_string_equal(d->meta_urls[0].version, "7.0.0");
    assert_int_equal(d->component_count, 1);
    assert_string_equal(d->components[0].id, "Acme-Suite_3.0-1");
    assert_string_equal(d->components[0].name, "Acme-Suite");
    assert_string_equal(d->components[0].version, "3.0-1");
    assert_int_equal(d->components[0].vib_id_count, 2);
    assert_string_equal(d->components[0].vib_ids[0], "Acme_bootbank_acme-tool_1.0-1");
    assert_string_equal(d->components[0].vib_ids[1], "Acme_bootbank_acme-drv_2.0.1-3");
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(d->vibs[i].component_count, 1);
    esximg_depot_free(d);
    free(zip);
    free(t.a);
    free(t.b);
}

/* Components given whole are written byte for byte when all their VIBs are in the bundle
 * (a VIB none lists gets its own); a profile and release units go into metadata.zip as given
 * and read back; a metadata member outside the known folders is refused. */
static void depot_write_given_metadata(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    static const char suite[] =
        "<bulletin><id>Acme-Suite_3.0-1</id><vendor>Acme</vendor><summary>s</summary>"
        "<componentNameSpec name=\"Acme-Suite\" uiString=\"Acme\"/><componentVersionSpec "
        "uiString=\"3.0\" version=\"3.0-1\"/><platforms><softwarePlatform locale=\"\" "
        "productLineID=\"embeddedEsx\" version=\"7.0.2\"/></platforms><vibList><vibID>"
        "Acme_bootbank_acme-drv_2.0.1-3</vibID></vibList></bulletin>";
    static const char absent[] =
        "<bulletin><id>Other_1.0-1</id><vendor>Acme</vendor><vibList><vibID>"
        "Acme_bootbank_other_1.0-1</vibID></vibList></bulletin>";
    static const char profile[] =
        "<imageprofile><name>Acme-img</name><creator>Acme</creator><acceptancelevel>community"
        "</acceptancelevel><viblist><vib><vib-id>Acme_bootbank_acme-drv_2.0.1-3</vib-id></vib>"
        "</viblist></imageprofile>";
    const struct esximg_depot_member docs[] = {
        { "suite", suite, sizeof suite - 1 }, { "absent", absent, sizeof absent - 1 },
    };
    const struct esximg_depot_member meta[] = { { "profiles/acme", profile,
                                                  sizeof profile - 1 } };
    struct esximg_depot_wopts o = { .component_docs = docs, .component_doc_count = 2,
                                    .metadata = meta, .metadata_count = 1 };
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), 0);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_int_equal(d->component_count, 2);
    assert_string_equal(d->components[0].id, "Acme-Suite_3.0-1");
    assert_int_equal(d->components[0].xml_len, sizeof suite - 1);
    assert_memory_equal(d->components[0].xml, suite, sizeof suite - 1);
    assert_string_equal(d->components[1].id, "acme-tool_1.0-1");
    assert_int_equal(d->profile_count, 1);
    assert_string_equal(d->profiles[0].profile->name, "Acme-img");
    esximg_depot_free(d);
    free(zip);

    const struct esximg_depot_member bad[] = { { "solutions/x.json", "{}", 2 } };
    o.metadata = bad;
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "solutions/x.json"));
    const struct esximg_depot_member escape[] = { { "profiles/../x", "{}", 2 } };
    o.metadata = escape;
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), ESXIMG_EINVAL);
    free(t.a);
    free(t.b);
}

/* The metadata of a depot of one image, collected with esximg_depot_meta_*: a profile named
 * as esximg_profile_file_name names it, a base image, read back from the bundle. */
static void depot_write_image_meta(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    static const char base[] =
        "{\"releaseID\": \"B_1.0-1\", \"releaseType\": \"baseImage\", \"schemaVersion\": "
        "\"1.0\", \"versionSpec\": {\"version\": \"1.0-1\"}, \"components\": "
        "{\"acme-drv\": \"2.0.1-3\"}}";
    struct esximg_profile *p = NULL;
    assert_int_equal(esximg_profile_new("Acme-img", &p, NULL), 0);
    assert_int_equal(esximg_profile_add_vib(p, "Acme_bootbank_acme-drv_2.0.1-3", NULL, 0, NULL),
                     0);
    struct esximg_depot_meta m = {0};
    assert_int_equal(esximg_depot_meta_add_profile(&m, p, NULL, NULL), 0);
    assert_int_equal(esximg_depot_meta_add_release(&m, "baseimages", "B_1.0-1", base,
                                                   sizeof base - 1, NULL), 0);
    esximg_profile_free(p);
    struct esximg_depot_wopts o = {0};
    esximg_depot_meta_apply(&m, &o);
    assert_int_equal(o.metadata_count, 2);
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 2, &o, &zip, &len, &err), 0);
    esximg_depot_meta_free(&m);
    assert_int_equal(m.metadata_count, 0);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_int_equal(d->profile_count, 1);
    assert_string_equal(d->profiles[0].profile->name, "Acme-img");
    assert_int_equal(d->base_image_count, 1);
    assert_string_equal(d->base_images[0].release_id, "B_1.0-1");
    assert_int_equal(d->base_images[0].json_len, sizeof base - 1);
    esximg_depot_free(d);
    free(zip);
    free(t.a);
    free(t.b);
}

/* Every central directory entry: no extra field, DOS time of 1980-01-01 00:00 for mtime 0,
 * Unix mode 0644; members in bytewise order. */
static void depot_write_zip_is_plain(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 1, NULL, &zip, &len, &err), 0);
    assert_true(len > 22);
    const uint8_t *end = zip + len - 22;
    assert_int_equal(esx_le32(end), 0x06054b50);
    uint16_t count = (uint16_t)(end[10] | end[11] << 8);
    assert_int_equal(count, 4);
    size_t off = esx_le32(end + 16);
    char prev[256] = "";
    for (uint16_t i = 0; i < count; i++) {
        const uint8_t *c = zip + off;
        assert_int_equal(esx_le32(c), 0x02014b50);
        uint16_t name_len = (uint16_t)(c[28] | c[29] << 8);
        uint16_t extra_len = (uint16_t)(c[30] | c[31] << 8);
        uint16_t time = (uint16_t)(c[12] | c[13] << 8), date = (uint16_t)(c[14] | c[15] << 8);
        assert_int_equal(extra_len, 0);
        assert_int_equal(time, 0);
        assert_int_equal(date, (0 << 9) | (1 << 5) | 1);
        assert_int_equal(esx_le32(c + 38) >> 16, 0100644);
        char name[256];
        memcpy(name, c + 46, name_len);
        name[name_len] = '\0';
        assert_true(strcmp(prev, name) < 0);
        strcpy(prev, name);
        /* the local header has no extra field either */
        const uint8_t *l = zip + esx_le32(c + 42);
        assert_int_equal(esx_le32(l), 0x04034b50);
        assert_int_equal(l[28] | l[29] << 8, 0);
        off += 46u + name_len;
    }
    /* libarchive agrees */
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    assert_int_equal(archive_read_open_memory(a, zip, len), ARCHIVE_OK);
    struct archive_entry *e;
    int n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        char buf[64];
        while (archive_read_data(a, buf, sizeof buf) > 0) {
        }
        n++;
    }
    assert_int_equal(n, 4);
    archive_read_free(a);
    free(zip);
    free(t.a);
    free(t.b);
}

/* A VIB with the descriptor of make_vib's and one payload of `payload_len` bytes, either
 * all 'x' (a bundle deflates the .vib) or pseudo-random (stored): several of the writer's
 * 1 MiB chunks either way. */
static uint8_t *big_vib(const char *name, bool compressible, size_t payload_len, size_t *len)
{
    size_t small_len = 0;
    uint8_t *small = make_vib(name, "1.0-1", &small_len);
    struct esximg_vib *v = NULL;
    assert_int_equal(esximg_vib_read(small, small_len, &v, NULL), 0);
    uint8_t *payload = malloc(payload_len);
    assert_non_null(payload);
    uint32_t x = 12345;
    for (size_t i = 0; i < payload_len; i++) {
        x = x * 1103515245u + 12345u;
        payload[i] = compressible ? 'x' : (uint8_t)(x >> 23);
    }
    const struct esximg_vib_wmember m = { .name = "payload1", .data = payload,
                                          .len = payload_len };
    uint8_t *vib = NULL;
    assert_int_equal(esximg_vib_write(v->descriptor_bytes, v->descriptor_len, "", 0, &m, 1,
                                      &vib, len, NULL), 0);
    esximg_vib_free(v);
    free(payload);
    free(small);
    return vib;
}

/* The method of the zip member named `name` (its central entry), or -1. */
static int zip_method_of(const uint8_t *zip, size_t len, const char *name)
{
    const uint8_t *end = zip + len - 22;
    size_t off = esx_le32(end + 16), count = (size_t)(end[10] | end[11] << 8);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *c = zip + off;
        size_t name_len = (size_t)(c[28] | c[29] << 8);
        if (name_len == strlen(name) && memcmp(c + 46, name, name_len) == 0)
            return c[10] | c[11] << 8;
        off += 46 + name_len;
    }
    return -1;
}

static void depot_write_file_is_the_same(void **state)
{
    (void)state;
    struct esximg_depot_input mem[2] = { { 0 } }, ranges[2] = { { 0 } };
    uint8_t *big = big_vib("acme-big", true, (size_t)3 << 20, &mem[0].len);
    uint8_t *noise = big_vib("acme-noise", false, (size_t)5 << 19, &mem[1].len);
    mem[0].data = big;
    mem[1].data = noise;
    /* both VIBs in one file, at offsets that are not page-aligned, as a stored member of a
     * bundle is */
    char *dir = tu_mkdtemp(), *src = tu_path_join(dir, "src.bin");
    char *out = tu_path_join(dir, "out.zip");
    size_t src_len = 100 + mem[0].len + 7 + mem[1].len;
    uint8_t *joined = calloc(1, src_len);
    assert_non_null(joined);
    memcpy(joined + 100, big, mem[0].len);
    memcpy(joined + 107 + mem[0].len, noise, mem[1].len);
    assert_int_equal(esximg_file_write(src, joined, src_len, 0644, NULL), 0);
    ranges[0] = (struct esximg_depot_input){ .len = mem[0].len, .path = src, .offset = 100 };
    ranges[1] = (struct esximg_depot_input){ .data = noise, .len = mem[1].len, .path = src,
                                             .offset = 107 + mem[0].len };
    const struct esximg_depot_wopts o = { .mtime = 1700000000 };
    uint8_t *zip = NULL, *written = NULL;
    size_t zip_len = 0, written_len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(mem, 2, &o, &zip, &zip_len, &err), 0);
    assert_int_equal(esximg_depot_write_file(ranges, 2, &o, out, 0644, &err), 0);
    tu_read_file(out, &written, &written_len);
    assert_int_equal(written_len, zip_len);
    assert_memory_equal(written, zip, zip_len);
    /* one .vib of each kind: deflated in pieces, and stored (copied by the kernel) */
    assert_int_equal(zip_method_of(zip, zip_len,
                                   "vib20/acme-big/Acme_bootbank_acme-big_1.0-1.vib"), 8);
    assert_int_equal(zip_method_of(zip, zip_len,
                                   "vib20/acme-noise/Acme_bootbank_acme-noise_1.0-1.vib"), 0);
    free(written);

    /* a range past the end of its file: refused, and the output as it was, nothing beside */
    ranges[1].offset = src_len - mem[1].len + 1;
    assert_int_equal(esximg_depot_write_file(ranges, 2, &o, out, 0644, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "vib 2: "));
    tu_read_file(out, &written, &written_len);
    assert_int_equal(written_len, zip_len);
    assert_int_equal(tu_count_files(dir), 2);
    free(written);
    /* an output that cannot be made: nothing written, the error names it */
    char *nowhere = tu_path_join(dir, "missing/out.zip");
    ranges[1].offset = 107 + mem[0].len;
    assert_int_equal(esximg_depot_write_file(ranges, 2, &o, nowhere, 0644, &err), ESXIMG_EIO);
    assert_string_equal(err.file, nowhere);
    assert_int_equal(tu_count_files(dir), 2);
    free(nowhere);
    free(zip);
    free(joined);
    free(big);
    free(noise);
    tu_rmtree(dir);
    free(dir);
    free(src);
    free(out);
}

static void depot_write_refuses(void **state)
{
    (void)state;
    struct two_vibs t;
    two_vibs(&t);
    uint8_t *zip = NULL;
    size_t len = 0;
    struct esximg_err err = { 0 };
    assert_int_equal(esximg_depot_write(t.in, 0, NULL, &zip, &len, &err), ESXIMG_EINVAL);
    const struct esximg_depot_input same[2] = { t.in[0], t.in[0] };
    assert_int_equal(esximg_depot_write(same, 2, NULL, &zip, &len, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    const struct esximg_depot_input broken[2] = { t.in[0], { .data = "!<arch>\nxx", .len = 10 } };
    assert_int_not_equal(esximg_depot_write(broken, 2, NULL, &zip, &len, &err), 0);
    assert_non_null(strstr(err.msg, "vib 2: "));
    const struct esximg_depot_input truncated[1] = { { .data = t.a, .len = t.in[0].len - 5 } };
    assert_int_not_equal(esximg_depot_write(truncated, 1, NULL, &zip, &len, &err), 0);
    const struct esximg_depot_wopts half = { .component_name = "x" };
    assert_int_equal(esximg_depot_write(t.in, 1, &half, &zip, &len, &err), ESXIMG_EINVAL);
    assert_null(zip);
    free(t.a);
    free(t.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(depot_write_reads_back),
        cmocka_unit_test(depot_write_one_component),
        cmocka_unit_test(depot_write_given_metadata),
        cmocka_unit_test(depot_write_image_meta),
        cmocka_unit_test(depot_write_zip_is_plain),
        cmocka_unit_test(depot_write_file_is_the_same),
        cmocka_unit_test(depot_write_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
