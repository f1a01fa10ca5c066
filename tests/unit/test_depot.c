/* test_depot.c: offline bundles built in memory with libarchive's zip writer: the VMware,
 * V-Front and nested layouts, metadata checks, and hostile zips (escaping names, a bomb,
 * truncation, nesting, duplicates, broken metadata). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "testutil.h"

/* ---------------------------------------------------------------- building inputs */

static char *tv_sha(const uint8_t *data, size_t len)
{
    static char sum[65];
    assert_int_equal(esx_digest_hex(ESX_SHA256, data, len, sum, NULL), 0);
    return sum;
}

/* metadata.zip: vibs/<name>.xml (with the given size and sum) and a 7.0 bulletin. */
static uint8_t *tm_metadata(const char *name, const char *version, const char *vendor,
                            const char *rel_path, size_t packed, const char *sum,
                            size_t *len)
{
    char vib_xml[1024], bulletin[1024];
    snprintf(vib_xml, sizeof vib_xml,
             "<vib version=\"5.0\"><type>bootbank</type><name>%s</name><version>%s</version>"
             "<vendor>%s</vendor><software-tags/><relative-path>%s</relative-path>"
             "<packed-size>%zu</packed-size><checksum checksum-type=\"sha-256\">%s</checksum>"
             "<acceptance-level>community</acceptance-level></vib>",
             name, version, vendor, rel_path, packed, sum);
    snprintf(bulletin, sizeof bulletin,
             "<bulletin><id>Comp-%s_%s</id><vendor>Tester</vendor><summary>a component"
             "</summary><componentNameSpec uiString=\"Test Component\" name=\"Comp-%s\"/>"
             "<componentVersionSpec uiString=\"1.0\" version=\"%s\"/><releaseDate>"
             "2020-01-01T00:00:00+00:00</releaseDate><vibList><vibID>%s_bootbank_%s_%s"
             "</vibID></vibList></bulletin>",
             name, version, name, version, vendor, name, version);
    const char *vmware = "<metadataResponse><version>3.0</version></metadataResponse>";
    const struct tu_zip_member m[] = {
        {"vmware.xml", vmware, strlen(vmware)},
        {"bulletins/b.xml", bulletin, strlen(bulletin)},
        {"vibs/x-1.xml", vib_xml, strlen(vib_xml)},
    };
    return tu_zip(m, 3, false, len);
}

static const char index_xml[] =
    "<vendorList><vendor><name>Tester</name><code>TST</code>"
    "<indexfile>vendor-index.xml</indexfile></vendor></vendorList>";
static const char vendor_index_xml[] =
    "<metaList><metadata><productId>embeddedEsx</productId><version>7.0.0</version>"
    "<url>metadata.zip</url></metadata></metaList>";

/* A VMware-layout bundle of one VIB "foo" 1.0-1 by TST, metadata matching. */
static uint8_t *tb_vmware(size_t *len, uint8_t **vib_out, size_t *vib_len)
{
    size_t vl, ml;
    uint8_t *vib = tu_tiny_vib("foo", "1.0-1", "TST", "payload bytes", &vl);
    const char *path = "vib20/foo/TST_bootbank_foo_1.0-1.vib";
    uint8_t *meta = tm_metadata("foo", "1.0-1", "TST", path, vl, tv_sha(vib, vl), &ml);
    const struct tu_zip_member m[] = {
        {"index.xml", index_xml, strlen(index_xml)},
        {"vendor-index.xml", vendor_index_xml, strlen(vendor_index_xml)},
        {"metadata.zip", meta, ml},
        {path, vib, vl},
    };
    uint8_t *zip = tu_zip(m, 4, false, len);
    free(meta);
    if (vib_out) {
        *vib_out = vib;
        *vib_len = vl;
    } else {
        free(vib);
    }
    return zip;
}

static bool has_warning(const struct esximg_depot *d, const char *needle)
{
    for (size_t i = 0; i < d->warnings.count; i++)
        if (strstr(d->warnings.items[i].msg, needle))
            return true;
    return false;
}

/* ---------------------------------------------------------------- layouts */

static void depot_reads_the_vmware_layout(void **state)
{
    (void)state;
    size_t len, vl;
    uint8_t *vib;
    uint8_t *zip = tb_vmware(&len, &vib, &vl);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    free(zip);                        /* the model does not borrow the zip */
    assert_int_equal(d->kind, ESXIMG_DEPOT_VMWARE);
    assert_string_equal(esximg_depot_kind_name(d->kind), "vmware");
    assert_string_equal(d->vendor_name, "Tester");
    assert_string_equal(d->vendor_code, "TST");
    assert_int_equal(d->meta_url_count, 1);
    assert_string_equal(d->meta_urls[0].url, "metadata.zip");
    assert_string_equal(d->meta_urls[0].version, "7.0.0");
    assert_int_equal(d->vib_count, 1);
    const struct esximg_depot_vib *v = &d->vibs[0];
    assert_string_equal(v->path, "vib20/foo/TST_bootbank_foo_1.0-1.vib");
    assert_null(v->container);
    assert_false(v->unsafe_path);
    assert_int_equal(v->len, vl);
    assert_memory_equal(v->bytes, vib, vl);
    assert_string_equal(v->sha256, tv_sha(vib, vl));
    assert_string_equal(v->vib_id, "TST_bootbank_foo_1.0-1");
    assert_string_equal(v->vib->desc->name, "foo");
    assert_string_equal(v->vib->desc->version, "1.0-1");
    assert_int_equal(v->vib->desc->payload_count, 1);
    assert_int_equal(v->acceptance, ESXIMG_ACCEPT_COMMUNITY);
    assert_int_equal(v->check, ESXIMG_DEPOT_CHECK_OK);
    assert_true(v->has_meta_size);
    assert_int_equal(v->meta_size, vl);
    assert_string_equal(v->meta_checksum, v->sha256);
    assert_int_equal(d->component_count, 1);
    const struct esximg_depot_component *c = &d->components[0];
    assert_string_equal(c->id, "Comp-foo_1.0-1");
    assert_string_equal(c->name, "Comp-foo");
    assert_string_equal(c->name_ui, "Test Component");
    assert_string_equal(c->version, "1.0-1");
    assert_string_equal(c->version_ui, "1.0");
    assert_string_equal(c->release_date, "2020-01-01T00:00:00+00:00");
    assert_int_equal(c->vib_id_count, 1);
    assert_int_equal(v->component_count, 1);
    assert_int_equal(v->components[0], 0);
    assert_int_equal(d->warnings.count, 0);
    assert_ptr_equal(esximg_depot_find(d, "foo"), v);
    assert_ptr_equal(esximg_depot_find(d, "TST_bootbank_foo_1.0-1"), v);
    assert_null(esximg_depot_find(d, "bar"));
    esximg_depot_free(d);
    free(vib);
}

static void depot_reads_the_vfront_layout_stored(void **state)
{
    (void)state;
    size_t vl, ml, len;
    uint8_t *vib = tu_tiny_vib("net-x", "2.0-napi", "VFrontDe", "driver", &vl);
    uint8_t *meta = tm_metadata("net-x", "2.0-napi", "VFrontDe", "net-x-2.0-napi.x86_64.vib",
                                vl, tv_sha(vib, vl), &ml);
    const struct tu_zip_member m[] = {
        {"index.xml", index_xml, strlen(index_xml)},
        {"net-x-2.0-napi.x86_64.vib", vib, vl},
        {"VFrontDe-net-x-2.0-napi-metadata.zip", meta, ml},
    };
    uint8_t *zip = tu_zip(m, 3, true, &len);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->kind, ESXIMG_DEPOT_VFRONT);
    assert_int_equal(d->vib_count, 1);
    assert_string_equal(d->vibs[0].path, "net-x-2.0-napi.x86_64.vib");
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_OK);
    assert_string_equal(d->vibs[0].meta_path, "net-x-2.0-napi.x86_64.vib");
    assert_memory_equal(d->vibs[0].bytes, vib, vl);
    assert_int_equal(d->vibs[0].component_count, 1);
    esximg_depot_free(d);
    free(zip);
    free(meta);
    free(vib);
}

static void depot_reads_a_plain_zip_of_vibs(void **state)
{
    (void)state;
    size_t al, bl, len;
    uint8_t *a = tu_tiny_vib("a", "1-1", "X", "aaa", &al);
    uint8_t *b = tu_tiny_vib("b", "1-1", "X", "bbbb", &bl);
    const struct tu_zip_member m[] = { {"b/b.VIB", b, bl}, {"docs/readme.txt", "hi", 2},
                                   {"a.vib", a, al} };
    uint8_t *zip = tu_zip(m, 3, false, &len);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->kind, ESXIMG_DEPOT_PLAIN);
    assert_int_equal(d->vib_count, 2);
    assert_string_equal(d->vibs[0].vib_id, "X_bootbank_b_1-1");    /* zip order */
    assert_string_equal(d->vibs[1].vib_id, "X_bootbank_a_1-1");
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_NONE);
    assert_int_equal(d->component_count, 0);
    assert_null(d->vendor_name);
    esximg_depot_free(d);
    free(zip);
    free(a);
    free(b);
}

static void depot_reads_a_nested_bundle(void **state)
{
    (void)state;
    size_t inner_len, len;
    uint8_t *inner = tb_vmware(&inner_len, NULL, NULL);
    const struct tu_zip_member m[] = { {"Fling-offline_bundle-1.zip", inner, inner_len} };
    uint8_t *zip = tu_zip(m, 1, false, &len);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->kind, ESXIMG_DEPOT_NESTED);
    assert_int_equal(d->vib_count, 1);
    assert_string_equal(d->vibs[0].path,
                        "Fling-offline_bundle-1.zip/vib20/foo/TST_bootbank_foo_1.0-1.vib");
    assert_string_equal(d->vibs[0].container, "Fling-offline_bundle-1.zip");
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_OK);   /* relative to the inner zip */
    assert_int_equal(d->warnings.count, 0);
    assert_string_equal(d->vendor_code, "TST");
    esximg_depot_free(d);
    free(zip);
    free(inner);
}

static void depot_refuses_nesting_past_the_limit(void **state)
{
    (void)state;
    size_t len;
    uint8_t *zip = tb_vmware(&len, NULL, NULL);
    for (unsigned level = 0; level <= ESX_MAX_ZIP_DEPTH; level++) {
        const struct tu_zip_member m[] = { {"inner.zip", zip, len} };
        size_t outer_len;
        uint8_t *outer = tu_zip(m, 1, false, &outer_len);
        free(zip);
        zip = outer;
        len = outer_len;
        struct esximg_depot *d = NULL;
        struct esximg_err err = {0};
        int rc = esximg_depot_read(zip, len, NULL, &d, &err);
        if (level + 1 <= ESX_MAX_ZIP_DEPTH) {
            assert_int_equal(rc, 0);
            assert_int_equal(d->vib_count, 1);
            esximg_depot_free(d);
        } else {
            assert_int_equal(rc, ESXIMG_ELIMIT);
            assert_non_null(strstr(err.msg, "nested deeper"));
            assert_non_null(strstr(err.msg, "member 'inner.zip/inner.zip/inner.zip'"));
            assert_null(d);
        }
    }
    free(zip);
}

/* ---------------------------------------------------------------- metadata */

static void depot_flags_metadata_that_lies(void **state)
{
    (void)state;
    size_t vl, ml, len;
    uint8_t *vib = tu_tiny_vib("foo", "1.0-1", "TST", "payload", &vl);
    const char *path = "vib20/foo/TST_bootbank_foo_1.0-1.vib";
    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    uint8_t *meta = tm_metadata("foo", "1.0-1", "TST", path, vl + 1, wrong, &ml);
    const struct tu_zip_member m[] = { {"metadata.zip", meta, ml}, {path, vib, vl} };
    uint8_t *zip = tu_zip(m, 2, false, &len);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_MISMATCH);
    assert_string_equal(esximg_depot_check_name(d->vibs[0].check), "mismatch");
    assert_true(d->vibs[0].size_mismatch);
    assert_true(d->vibs[0].checksum_mismatch);
    assert_int_equal(d->vibs[0].meta_size, vl + 1);
    assert_string_equal(d->vibs[0].meta_checksum, wrong);
    esximg_depot_free(d);
    free(zip);
    free(meta);

    /* the right size, only the sum lies */
    meta = tm_metadata("foo", "1.0-1", "TST", path, vl, wrong, &ml);
    const struct tu_zip_member m2[] = { {"metadata.zip", meta, ml}, {path, vib, vl} };
    zip = tu_zip(m2, 2, false, &len);
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_MISMATCH);
    assert_false(d->vibs[0].size_mismatch);
    assert_true(d->vibs[0].checksum_mismatch);
    esximg_depot_free(d);
    free(zip);
    free(meta);
    free(vib);
}

static void depot_keeps_going_on_broken_metadata(void **state)
{
    (void)state;
    size_t vl, len, ml;
    uint8_t *vib = tu_tiny_vib("foo", "1.0-1", "TST", "payload", &vl);
    const char *evil = "<!DOCTYPE vib [<!ENTITY a \"aaaaaaaa\">]><vib>&a;</vib>";
    const char *bad_size = "<vib><type>bootbank</type><name>foo</name><version>1.0-1</version>"
                           "<vendor>TST</vendor><packed-size>12x</packed-size></vib>";
    const struct tu_zip_member mm[] = {
        {"vibs/evil.xml", evil, strlen(evil)},
        {"vibs/size.xml", bad_size, strlen(bad_size)},
        {"bulletins/broken.xml", "<bulletin><id>x", 15},
    };
    uint8_t *meta = tu_zip(mm, 3, false, &ml);
    const struct tu_zip_member m[] = {
        {"metadata.zip", "this is no zip at all", 21},
        {"Vendor-foo-1.0-1-metadata.zip", meta, ml},
        {"index.xml", "<vendorList><vendor>", 20},
        {"foo.vib", vib, vl},
    };
    uint8_t *zip = tu_zip(m, 4, false, &len);
    struct esximg_depot *d = NULL;
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, NULL), 0);
    assert_int_equal(d->vib_count, 1);
    assert_int_equal(d->vibs[0].check, ESXIMG_DEPOT_CHECK_NONE);   /* no size, no sum */
    assert_false(d->vibs[0].has_meta_size);
    assert_true(has_warning(d, "metadata 'metadata.zip': not a readable zip"));
    assert_true(has_warning(d, "document type definition"));
    assert_true(has_warning(d, "packed-size '12x' is not a number"));
    assert_true(has_warning(d, "bulletins/broken.xml"));
    assert_true(has_warning(d, "member 'index.xml'"));
    assert_null(d->vendor_name);
    assert_int_equal(d->component_count, 0);
    esximg_depot_free(d);
    free(zip);
    free(meta);
    free(vib);
}

/* ---------------------------------------------------------------- hostile zips */

static void depot_lists_but_never_extracts_escaping_members(void **state)
{
    (void)state;
    size_t el, al, gl, len;
    uint8_t *evil = tu_tiny_vib("evil", "1-1", "X", "e", &el);
    uint8_t *abs = tu_tiny_vib("abs", "1-1", "X", "a", &al);
    uint8_t *good = tu_tiny_vib("good", "1-1", "X", "g", &gl);
    const struct tu_zip_member m[] = {
        {"../evil.vib", evil, el}, {"/tmp/abs.vib", abs, al}, {"good.vib", good, gl},
    };
    uint8_t *zip = tu_zip(m, 3, false, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_int_equal(d->vib_count, 3);
    assert_true(d->vibs[0].unsafe_path);
    assert_true(d->vibs[1].unsafe_path);
    assert_false(d->vibs[2].unsafe_path);
    assert_true(has_warning(d, "member '../evil.vib': '..' in path"));
    assert_true(has_warning(d, "member '/tmp/abs.vib': absolute path"));

    char *dir = tu_mkdtemp();
    char *name = NULL;
    assert_int_equal(esximg_depot_vib_filename(&d->vibs[0], &name, &err), ESXIMG_EUNSAFE);
    assert_null(name);
    assert_int_equal(esximg_depot_extract(&d->vibs[0], dir, false, &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "'../evil.vib'"));
    assert_int_equal(esximg_depot_extract(&d->vibs[1], dir, true, &err), ESXIMG_EUNSAFE);
    char **files;
    assert_int_equal(tu_find_files(dir, "", &files), 0);

    assert_int_equal(esximg_depot_extract(&d->vibs[2], dir, false, &err), 0);
    assert_int_equal(tu_find_files(dir, "", &files), 1);
    assert_non_null(strstr(files[0], "/X_bootbank_good_1-1.vib"));
    uint8_t *back;
    size_t back_len;
    tu_read_file(files[0], &back, &back_len);
    assert_int_equal(back_len, gl);
    assert_memory_equal(back, good, gl);
    free(back);
    tu_free_list(files, 1);
    memset(&err, 0, sizeof err);
    assert_int_equal(esximg_depot_extract(&d->vibs[2], dir, false, &err), ESXIMG_EINVAL);
    assert_non_null(strstr(err.msg, "exists"));
    assert_non_null(strstr(err.file, "X_bootbank_good_1-1.vib"));
    assert_int_equal(esximg_depot_extract(&d->vibs[2], dir, true, &err), 0);
    tu_rmtree(dir);
    free(dir);
    esximg_depot_free(d);
    free(zip);
    free(evil);
    free(abs);
    free(good);
}

static void depot_refuses_a_vib_id_that_is_no_file_name(void **state)
{
    (void)state;
    size_t vl, len;
    uint8_t *vib = tu_tiny_vib("..", "1-1", "X/..", "e", &vl);
    const struct tu_zip_member m[] = { {"x.vib", vib, vl} };
    uint8_t *zip = tu_zip(m, 1, false, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    int rc = esximg_depot_read(zip, len, NULL, &d, &err);
    if (rc == 0) {            /* the descriptor reader may accept the names: extraction may not */
        char *name = NULL;
        assert_int_equal(esximg_depot_vib_filename(&d->vibs[0], &name, &err), ESXIMG_EUNSAFE);
        assert_non_null(strstr(err.msg, "not a safe file name"));
        esximg_depot_free(d);
    } else {
        assert_int_equal(rc, ESXIMG_EFORMAT);
    }
    free(zip);
    free(vib);
}

static uint8_t *tz_bomb(size_t *len)
{
    /* 200 MiB of zeros, deflated to about 200 KiB, written by chunks */
    size_t cap = 4 << 20, used = 0;
    uint8_t *buf = malloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_memory(a, buf, cap, &used);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "vib20/bomb/bomb.vib");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)200 << 20);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    uint8_t *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 200; i++)
        assert_int_equal(archive_write_data(a, zeros, 1 << 20), 1 << 20);
    free(zeros);
    archive_entry_free(e);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *len = used;
    return buf;
}

static void depot_refuses_a_zip_bomb(void **state)
{
    (void)state;
    size_t len;
    uint8_t *zip = tz_bomb(&len);
    assert_true(len < (1 << 20));
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), ESXIMG_ELIMIT);
    assert_null(d);
    assert_non_null(strstr(err.msg, "member 'vib20/bomb/bomb.vib'"));
    assert_non_null(strstr(err.msg, "256 times"));

    /* the central directory lies: it claims 1000 bytes; the inflated bytes are counted */
    static const uint8_t cd_sig[4] = {'P', 'K', 1, 2};
    uint8_t *cd = memmem(zip, len, cd_sig, 4);
    assert_non_null(cd);
    esx_put_le32(cd + 24, 1000);
    memset(&err, 0, sizeof err);
    int rc = esximg_depot_read(zip, len, NULL, &d, &err);
    assert_int_equal(rc, ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "256 times"));
    assert_null(d);

    /* a caller's smaller budget is honoured */
    size_t vl;
    uint8_t *vib = tu_tiny_vib("foo", "1-1", "X", "payload", &vl);
    const struct tu_zip_member m[] = { {"a.vib", vib, vl} };
    free(zip);
    zip = tu_zip(m, 1, false, &len);
    struct esximg_depot_opts o = { .max_bytes = vl - 1 };
    assert_int_equal(esximg_depot_read(zip, len, &o, &d, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "inflated bytes"));
    free(vib);
    free(zip);
}

static void depot_refuses_truncated_and_non_zips(void **state)
{
    (void)state;
    size_t len;
    uint8_t *zip = tb_vmware(&len, NULL, NULL);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    const size_t cuts[] = {0, 1, 4, 30, len / 2, len - 22, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = esximg_depot_read(zip, cuts[i], NULL, &d, &err);
        assert_int_equal(rc, ESXIMG_EFORMAT);
        assert_null(d);
        assert_true(err.msg[0] != '\0');
    }
    /* damage inside the deflated VIB: the CRC or inflate fails, naming the member */
    uint8_t *copy = malloc(len);
    memcpy(copy, zip, len);
    const char *path = "vib20/foo/TST_bootbank_foo_1.0-1.vib";
    uint8_t *local = memmem(copy, len, path, strlen(path));
    assert_non_null(local);
    local[strlen(path) + 40] ^= 0xff;
    int rc = esximg_depot_read(copy, len, NULL, &d, &err);
    assert_int_equal(rc, ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "member 'vib20/foo/"));
    free(copy);
    const char text[] = "PK\5\6 not really a zip";
    assert_int_equal(esximg_depot_read(text, sizeof text, NULL, &d, &err), ESXIMG_EFORMAT);
    assert_int_equal(esximg_depot_read(NULL, 0, NULL, &d, &err), ESXIMG_EFORMAT);
    free(zip);
}

static void depot_without_a_vib_is_not_found(void **state)
{
    (void)state;
    size_t len;
    const struct tu_zip_member m[] = { {"index.xml", index_xml, strlen(index_xml)},
                                   {"vib20/", "", 0} };
    uint8_t *zip = tu_zip(m, 1, false, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), ESXIMG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no '.vib' member"));
    free(zip);
}

static void depot_handles_duplicate_vibs(void **state)
{
    (void)state;
    size_t vl, wl, len;
    uint8_t *vib = tu_tiny_vib("foo", "1-1", "X", "same", &vl);
    uint8_t *other = tu_tiny_vib("foo", "1-1", "X", "different", &wl);
    const struct tu_zip_member same[] = { {"a/foo.vib", vib, vl}, {"b/foo.vib", vib, vl} };
    uint8_t *zip = tu_zip(same, 2, false, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), 0);
    assert_int_equal(d->vib_count, 1);
    assert_string_equal(d->vibs[0].path, "a/foo.vib");
    assert_true(has_warning(d, "member 'b/foo.vib': same vib as 'a/foo.vib'"));
    esximg_depot_free(d);
    free(zip);
    const struct tu_zip_member differ[] = { {"a/foo.vib", vib, vl}, {"b/foo.vib", other, wl} };
    zip = tu_zip(differ, 2, false, &len);
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "member 'b/foo.vib': vib 'X_bootbank_foo_1-1' is also"));
    free(zip);
    free(vib);
    free(other);
}

static void depot_names_the_member_of_a_broken_vib(void **state)
{
    (void)state;
    size_t len;
    const struct tu_zip_member m[] = { {"vib20/x/y.vib", "!<arch>\nnot a member header", 27} };
    uint8_t *zip = tu_zip(m, 1, true, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), ESXIMG_EFORMAT);
    assert_true(strncmp(err.msg, "member 'vib20/x/y.vib': ", 24) == 0);
    assert_null(d);
    free(zip);
}

static void depot_caps_the_member_count(void **state)
{
    (void)state;
    size_t n = ESX_MAX_ZIP_ENTRIES + 1, len;
    struct tu_zip_member *m = calloc(n, sizeof *m);
    char (*names)[16] = calloc(n, 16);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], 16, "%zx", i);
        m[i].name = names[i];
    }
    uint8_t *zip = tu_zip(m, n, true, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_read(zip, len, NULL, &d, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "more than"));
    free(zip);
    free(names);
    free(m);
}

static void depot_free_accepts_null(void **state)
{
    (void)state;
    esximg_depot_free(NULL);
    assert_string_equal(esximg_depot_kind_name(ESXIMG_DEPOT_NESTED), "nested");
    assert_string_equal(esximg_depot_check_name(ESXIMG_DEPOT_CHECK_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(depot_reads_the_vmware_layout),
        cmocka_unit_test(depot_reads_the_vfront_layout_stored),
        cmocka_unit_test(depot_reads_a_plain_zip_of_vibs),
        cmocka_unit_test(depot_reads_a_nested_bundle),
        cmocka_unit_test(depot_refuses_nesting_past_the_limit),
        cmocka_unit_test(depot_flags_metadata_that_lies),
        cmocka_unit_test(depot_keeps_going_on_broken_metadata),
        cmocka_unit_test(depot_lists_but_never_extracts_escaping_members),
        cmocka_unit_test(depot_refuses_a_vib_id_that_is_no_file_name),
        cmocka_unit_test(depot_refuses_a_zip_bomb),
        cmocka_unit_test(depot_refuses_truncated_and_non_zips),
        cmocka_unit_test(depot_without_a_vib_is_not_found),
        cmocka_unit_test(depot_handles_duplicate_vibs),
        cmocka_unit_test(depot_names_the_member_of_a_broken_vib),
        cmocka_unit_test(depot_caps_the_member_count),
        cmocka_unit_test(depot_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
