/* samples_vib.c: the VIB reader, writer and verifier on the real VIBs and descriptors in the
 * samples: the two standalone VIBs, every VIB inside the sample bundles, the 136 signed
 * ESXi 6.7 descriptors with their signatures and host copies, and authoring descriptors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "esximg/vib.h"
#include "testutil.h"

/* measured: every one of the 136 signed 6.7 descriptors (and host copies) is written back
 * byte for byte */
#define ORIG_IDENTICAL_MIN 136
#define HOST_IDENTICAL_MIN 136

static const char *const standalone[] = {
    "itiligent__ESXi-Custom-ISO/6-updates/net-r8125-9.011.00-10.vib",
    "lamw__ghettoVCB/vghetto-ghettoVCB.vib",
};

static struct esximg_vib_verify_result *verify_all_ok(const uint8_t *data, size_t len,
                                                      const char *what,
                                                      struct esximg_vib **vout)
{
    struct esximg_vib *v;
    struct esximg_err err = {0};
    if (esximg_vib_read(data, len, &v, &err))
        fail_msg("%s: %s", what, err.msg);
    struct esximg_vib_verify_result *r;
    if (esximg_vib_verify(v, NULL, &r, &err))
        fail_msg("%s: verify: %s", what, err.msg);
    for (size_t i = 0; i < r->check_count; i++)
        if (!r->checks[i].ok)
            fail_msg("%s: payload '%s': %s failed: %s", what, r->checks[i].payload,
                     r->checks[i].what, r->checks[i].actual);
    assert_true(r->all_ok);
    assert_true(r->check_count >= 3);   /* size and at least two sums */
    *vout = v;
    return r;
}

static void samples_standalone_vibs_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof standalone / sizeof standalone[0]; i++) {
        char *path = tu_sample_path(standalone[i]);
        uint8_t *data;
        size_t len;
        tu_read_file(path, &data, &len);
        struct esximg_vib *v;
        struct esximg_vib_verify_result *r = verify_all_ok(data, len, path, &v);
        assert_int_equal(v->dialect, ESXIMG_AR_VMWARE);
        assert_false(r->signed_vib);
        char *id = esximg_descriptor_vib_id(v->desc);
        assert_non_null(id);
        assert_true(strcmp(id, "Realtek_bootbank_net-r8125_9.011.00-10") == 0 ||
                    strcmp(id, "virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0") == 0);
        free(id);
        esximg_vib_verify_result_free(r);
        esximg_vib_free(v);
        free(data);
        free(path);
    }
}

static void samples_ghettovcb_rewrite_is_identical(void **state)
{
    (void)state;
    char *path = tu_sample_path("lamw__ghettoVCB/vghetto-ghettoVCB.vib");
    uint8_t *data;
    size_t len;
    tu_read_file(path, &data, &len);
    struct esximg_vib *v;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vib_read(data, len, &v, &err), 0);
    struct esximg_vib_wmember *m = calloc(v->member_count, sizeof *m);
    assert_non_null(m);
    for (size_t i = 2; i < v->member_count; i++) {
        m[i - 2].name = v->members[i].name;
        m[i - 2].data = v->bytes + v->members[i].offset;
        m[i - 2].len = (size_t)v->members[i].size;
    }
    uint8_t *out;
    size_t out_len;
    assert_int_equal(esximg_vib_write(v->descriptor_bytes, v->descriptor_len, v->sig,
                                      v->sig_len, m, v->member_count - 2, &out, &out_len,
                                      &err), 0);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, data, len);
    free(out);
    free(m);
    esximg_vib_free(v);
    free(data);
    free(path);
}

/* ---------------------------------------------------------------- VIBs inside bundles */

struct bundle_stats {
    size_t vibs, signed_vibs, vzstd;
    bool dialect_seen[3];
    size_t desc_identical;
};

static void check_bundle_vib(const uint8_t *data, size_t len, const char *what,
                             struct bundle_stats *st)
{
    struct esximg_vib *v;
    struct esximg_vib_verify_result *r = verify_all_ok(data, len, what, &v);
    st->vibs++;
    st->dialect_seen[v->dialect] = true;
    if (r->signed_vib) {
        st->signed_vibs++;
        if (!r->signer || !strstr(r->signer, "VMware"))
            fail_msg("%s: signer '%s'", what, r->signer ? r->signer : "(none)");
    }
    for (size_t i = 0; i < v->desc->payload_count; i++)
        if (strcmp(v->desc->payloads[i].type, "vzstd") == 0)
            st->vzstd++;
    /* descriptor: read -> write -> read gives the same model (compared through write) */
    char *xml, *xml2;
    size_t xml_len, xml2_len;
    struct esximg_descriptor *d2;
    struct esximg_err err = {0};
    assert_int_equal(esximg_descriptor_write(v->desc, &xml, &xml_len, &err), 0);
    assert_int_equal(esximg_descriptor_read(xml, xml_len, &d2, &err), 0);
    assert_int_equal(esximg_descriptor_write(d2, &xml2, &xml2_len, &err), 0);
    assert_string_equal(xml, xml2);
    if (xml_len == v->descriptor_len && memcmp(xml, v->descriptor_bytes, xml_len) == 0)
        st->desc_identical++;
    free(xml);
    free(xml2);
    esximg_descriptor_free(d2);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
}

static void scan_zip(const void *zip, size_t zip_len, const char *what, int depth,
                     struct bundle_stats *st)
{
    struct archive *a = archive_read_new();
    assert_non_null(a);
    archive_read_support_format_zip(a);
    assert_int_equal(archive_read_open_memory(a, zip, zip_len), ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        size_t n = strlen(name);
        bool is_vib = n > 4 && strcmp(name + n - 4, ".vib") == 0;
        bool is_zip = n > 4 && strcmp(name + n - 4, ".zip") == 0 &&
                      !strstr(name, "metadata.zip") && depth < 2;
        if (!is_vib && !is_zip)
            continue;
        size_t size = (size_t)archive_entry_size(e);
        uint8_t *buf = malloc(size ? size : 1);
        assert_non_null(buf);
        assert_int_equal(archive_read_data(a, buf, size), (la_ssize_t)size);
        char label[1024];
        int label_len = snprintf(label, sizeof label, "%s:%s", what, name);
        assert_true(label_len > 0 && (size_t)label_len < sizeof label);
        if (is_vib)
            check_bundle_vib(buf, size, label, st);
        else
            scan_zip(buf, size, label, depth + 1, st);
        free(buf);
    }
    archive_read_free(a);
}

static void samples_bundle_vibs_verify(void **state)
{
    (void)state;
    char *dir = tu_sample_path("itiligent__ESXi-Custom-ISO");
    char **zips;
    size_t nzips = tu_find_files(dir, ".zip", &zips);
    struct bundle_stats st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < nzips; i++) {
        uint8_t *data;
        size_t len;
        tu_read_file(zips[i], &data, &len);
        scan_zip(data, len, zips[i], 0, &st);
        free(data);
    }
    char *ghetto = tu_sample_path("lamw__ghettoVCB/vghetto-ghettoVCB-offline-bundle.zip");
    uint8_t *data;
    size_t len;
    tu_read_file(ghetto, &data, &len);
    scan_zip(data, len, ghetto, 0, &st);
    free(data);
    free(ghetto);
    print_message("bundle VIBs: %zu, signed %zu, vzstd payloads %zu, descriptors written back "
                  "identically %zu\n", st.vibs, st.signed_vibs, st.vzstd, st.desc_identical);
    assert_true(st.vibs >= 9);
    assert_true(st.signed_vibs >= 6);
    assert_true(st.vzstd >= 1);         /* the 9.0 fling */
    assert_true(st.dialect_seen[ESXIMG_AR_VMWARE]);
    assert_true(st.dialect_seen[ESXIMG_AR_VMWARE_0O0]);
    assert_true(st.dialect_seen[ESXIMG_AR_GNU]);
    tu_free_list(zips, nzips);
    free(dir);
}

/* ---------------------------------------------------------------- the 6.7 database */

static size_t check_descriptors(const char *suffix, size_t *identical)
{
    char *dir = tu_sample_path("ljvblfz__ESXi/var/db/esximg/vibs");
    char **paths;
    size_t n = tu_find_files(dir, suffix, &paths);
    *identical = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *data;
        size_t len;
        tu_read_file(paths[i], &data, &len);
        struct esximg_descriptor *d, *d2;
        struct esximg_err err = {0};
        if (esximg_descriptor_read(data, len, &d, &err))
            fail_msg("%s: %s", paths[i], err.msg);
        assert_int_equal(strncmp(d->vendor, "VM", 2), 0);     /* VMW, VMware */
        char *xml, *xml2;
        size_t xml_len, xml2_len;
        assert_int_equal(esximg_descriptor_write(d, &xml, &xml_len, &err), 0);
        if (xml_len == len && memcmp(xml, data, len) == 0)
            (*identical)++;
        assert_int_equal(esximg_descriptor_read(xml, xml_len, &d2, &err), 0);
        assert_int_equal(esximg_descriptor_write(d2, &xml2, &xml2_len, &err), 0);
        assert_string_equal(xml, xml2);
        assert_string_equal(d->name, d2->name);
        assert_int_equal(d->payload_count, d2->payload_count);
        assert_int_equal(d->file_count, d2->file_count);
        free(xml);
        free(xml2);
        esximg_descriptor_free(d);
        esximg_descriptor_free(d2);
        free(data);
    }
    tu_free_list(paths, n);
    free(dir);
    return n;
}

static void samples_signed_descriptors_round_trip(void **state)
{
    (void)state;
    size_t identical;
    size_t n = check_descriptors(".xml.orig", &identical);
    print_message(".xml.orig: %zu read, %zu written back identically\n", n, identical);
    assert_int_equal(n, 136);
    assert_true(identical >= ORIG_IDENTICAL_MIN);
    n = check_descriptors(".xml", &identical);
    print_message(".xml host copies: %zu read, %zu written back identically\n", n, identical);
    assert_int_equal(n, 136);
    assert_true(identical >= HOST_IDENTICAL_MIN);
}

static void samples_signatures_name_vmware(void **state)
{
    (void)state;
    char *dir = tu_sample_path("ljvblfz__ESXi/var/db/esximg/vibs");
    char **paths;
    size_t n = tu_find_files(dir, ".xml.sig", &paths);
    assert_int_equal(n, 136);
    for (size_t i = 0; i < n; i++) {
        uint8_t *sig;
        size_t sig_len;
        tu_read_file(paths[i], &sig, &sig_len);
        /* the signer only needs the signature bytes */
        struct esximg_vib v;
        memset(&v, 0, sizeof v);
        v.sig = sig;
        v.sig_len = sig_len;
        char *signer = NULL;
        struct esximg_err err = {0};
        if (esximg_vib_signer(&v, &signer, &err))
            fail_msg("%s: %s", paths[i], err.msg);
        /* the 6.7 database signer is "O=VMware\\, Inc.,L=Palo Alto,ST=California,C=US" */
        if (!signer || !strstr(signer, "O=VMware") || !strstr(signer, "C=US"))
            fail_msg("%s: signer '%s'", paths[i], signer ? signer : "(none)");
        free(signer);
        free(sig);
    }
    tu_free_list(paths, n);
    free(dir);
}

static void samples_authoring_descriptors_parse(void **state)
{
    (void)state;
    static const char *const files[] = {
        "JakDaniels__ghettoVCB_VIB_build/stage/descriptor.xml",
        "michaelrice__esxi-firewall-vib/stage/descriptor.xml",
        "mufeng05__r8168-esxi/vib-r8168/descriptor.xml",
        "Soulveig__native-esxi-driver-bcm54213-rpi5/packaging/descriptor.xml",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = tu_sample_path(files[i]);
        uint8_t *data;
        size_t len;
        tu_read_file(path, &data, &len);
        struct esximg_descriptor *d, *d2;
        struct esximg_err err = {0};
        if (esximg_descriptor_read(data, len, &d, &err))
            fail_msg("%s: %s", path, err.msg);
        assert_true(d->payload_count >= 1);
        char *xml;
        size_t xml_len;
        assert_int_equal(esximg_descriptor_write(d, &xml, &xml_len, &err), 0);
        assert_int_equal(esximg_descriptor_read(xml, xml_len, &d2, &err), 0);
        assert_string_equal(d->name, d2->name);
        assert_string_equal(d->version, d2->version);
        if (strstr(files[i], "Soulveig")) {
            assert_int_equal(d->packed_size, 26563);
            assert_non_null(strstr(d->system_requires_extra_xml, "softwarePlatform"));
            assert_string_equal(d->payloads[0].uncompressed_size, "119296");
        }
        free(xml);
        esximg_descriptor_free(d);
        esximg_descriptor_free(d2);
        free(data);
        free(path);
    }
}

int main(void)
{
    int skip = tu_require_samples("samples_vib");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_standalone_vibs_verify),
        cmocka_unit_test(samples_ghettovcb_rewrite_is_identical),
        cmocka_unit_test(samples_bundle_vibs_verify),
        cmocka_unit_test(samples_signed_descriptors_round_trip),
        cmocka_unit_test(samples_signatures_name_vmware),
        cmocka_unit_test(samples_authoring_descriptors_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
