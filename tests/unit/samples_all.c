/* samples_all.c: every real package of the samples through every reader at once: all 15
 * VIBs and bundles parse and verify (every size and checksum), every vmtar payload reads and
 * writes back with its own layout to the same bytes, and every driver map and .ids file inside
 * a payload parses strictly. */
#include <archive.h>
#include <archive_entry.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "esximg/drivermap.h"
#include "esximg/pciids.h"
#include "esximg/vib.h"
#include "esximg/vmtar.h"
#include "testutil.h"

struct tally {
    size_t packages, vibs, payloads, vmtars, vmtars_identical, tars, other_payloads;
    size_t maps, ids;
};

static void check_driver_file(const char *name, const uint8_t *content, size_t size,
                              struct tally *t)
{
    struct esximg_err err = {0};
    if (!fnmatch("etc/vmware/*.map.d/*", name, FNM_PATHNAME)) {
        struct esximg_drivermap_ropts o = {.path = name, .strict = true};
        struct esximg_drivermap *m;
        if (esximg_drivermap_read(content, size, &o, &m, &err))
            fail_msg("map '%s': %s", name, err.msg);
        assert_int_not_equal(m->map_class, ESXIMG_MAP_UNKNOWN);
        esximg_drivermap_free(m);
        t->maps++;
    } else if (!fnmatch("usr/share/hwdata/*.pciids.d/*", name, FNM_PATHNAME)) {
        struct esximg_pciids_ropts o = {.strict = true};
        struct esximg_pciids *ids;
        if (esximg_pciids_read(content, size, &o, &ids, &err))
            fail_msg("ids '%s': %s", name, err.msg);
        esximg_pciids_free(ids);
        t->ids++;
    }
}

/* A tgz payload (GNU tar), read with libarchive as an independent reader. */
static void check_tar_payload(const char *what, const uint8_t *data, size_t len,
                              struct tally *t)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
    int rc;
    while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        if (archive_entry_filetype(ae) != AE_IFREG)
            continue;
        size_t size = (size_t)archive_entry_size(ae);
        uint8_t *buf = malloc(size + 1);
        assert_int_equal(archive_read_data(a, buf, size), (la_ssize_t)size);
        const char *name = archive_entry_pathname(ae);
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        check_driver_file(name, buf, size, t);
        free(buf);
    }
    if (rc != ARCHIVE_EOF)
        fail_msg("%s: %s", what, archive_error_string(a));
    archive_read_free(a);
    t->tars++;
}

/* A vgz payload: read, write back with the layout read, compare; look at its driver files. */
static void check_vmtar_payload(const char *what, const uint8_t *data, size_t len,
                                struct tally *t)
{
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    if (esximg_vmtar_read(data, len, &v, &err))
        fail_msg("%s: %s", what, err.msg);
    t->vmtars++;
    if (v->layout.exact) {
        struct esximg_vmtar_wopts o;
        uint8_t *out;
        size_t out_len;
        esximg_vmtar_layout_wopts(v, &o);
        o.gzip = false;
        assert_int_equal(esximg_vmtar_write(v, &o, &out, &out_len, &err), 0);
        assert_int_equal(out_len, v->archive_len);
        assert_memory_equal(out, v->archive, out_len);
        free(out);
        t->vmtars_identical++;
    } else {
        printf("%s: vmtar rewrite not byte-identical: %s\n", what, v->layout.inexact_why);
    }
    for (size_t i = 0; i < v->entry_count; i++)
        if (v->entries[i].content)
            check_driver_file(v->entries[i].name, v->entries[i].content,
                              (size_t)v->entries[i].size, t);
    esximg_vmtar_free(v);
}

static void check_vib(const char *what, const uint8_t *data, size_t len, struct tally *t)
{
    struct esximg_vib *vib;
    struct esximg_vib_verify_result *r;
    struct esximg_err err = {0};
    if (esximg_vib_read(data, len, &vib, &err))
        fail_msg("%s: %s", what, err.msg);
    if (esximg_vib_verify(vib, NULL, &r, &err))
        fail_msg("%s: verify: %s", what, err.msg);
    for (size_t i = 0; i < r->check_count; i++)
        if (!r->checks[i].ok)
            fail_msg("%s: payload '%s': %s %s", what, r->checks[i].payload, r->checks[i].what,
                     r->checks[i].skipped ? "skipped" : "failed");
    assert_true(r->all_ok);
    assert_true(r->check_count >= 2 * vib->desc->payload_count);
    esximg_vib_verify_result_free(r);
    t->vibs++;
    for (size_t i = 0; i < vib->desc->payload_count; i++) {
        const struct esximg_payload *p = &vib->desc->payloads[i];
        size_t plen;
        const uint8_t *pdata = esximg_vib_member_data(vib, p->name, &plen);
        assert_non_null(pdata);
        t->payloads++;
        bool gz;
        int format = esximg_vmtar_sniff_data(pdata, plen, &gz);
        if (format == ESXIMG_TAR_VMTAR)
            check_vmtar_payload(what, pdata, plen, t);
        else if (format == ESXIMG_TAR_GNU || format == ESXIMG_TAR_USTAR)
            check_tar_payload(what, pdata, plen, &t[0]);
        else
            t->other_payloads++;   /* 9.0 vzstd: a zstd frame inside the gzip member */
    }
    esximg_vib_free(vib);
}

static void all_samples_read_and_verify(void **state)
{
    (void)state;
    struct tally t = {0};
    char **files;
    size_t n = tu_find_files(tu_samples_dir(), "", &files);
    for (size_t i = 0; i < n; i++) {
        const char *f = files[i];
        size_t fl = strlen(f);
        bool is_vib = fl > 4 && !strcmp(f + fl - 4, ".vib");
        bool is_zip = fl > 4 && !strcmp(f + fl - 4, ".zip");
        if (!is_vib && !is_zip)
            continue;
        uint8_t *data;
        size_t len;
        tu_read_file(f, &data, &len);
        t.packages++;
        if (is_vib) {
            check_vib(f, data, len, &t);
        } else {
            struct esximg_depot *d;
            struct esximg_err err = {0};
            if (esximg_depot_read(data, len, NULL, &d, &err))
                fail_msg("%s: %s", f, err.msg);
            assert_true(d->vib_count >= 1);
            for (size_t j = 0; j < d->vib_count; j++) {
                assert_int_equal(d->vibs[j].check, ESXIMG_DEPOT_CHECK_OK);
                check_vib(f, d->vibs[j].bytes, d->vibs[j].len, &t);
            }
            esximg_depot_free(d);
        }
        free(data);
    }
    tu_free_list(files, n);
    printf("packages %zu, vibs %zu, payloads %zu: vmtar %zu (%zu rewritten byte-identical), "
           "tar %zu, other %zu; driver maps %zu, ids files %zu\n", t.packages, t.vibs,
           t.payloads, t.vmtars, t.vmtars_identical, t.tars, t.other_payloads, t.maps, t.ids);
    assert_int_equal(t.packages, 15);
    assert_int_equal(t.vibs, 15);
    assert_int_equal(t.vmtars + t.tars + t.other_payloads, t.payloads);
    assert_int_equal(t.vmtars_identical, t.vmtars);
    assert_int_equal(t.tars, 6);
    assert_int_equal(t.maps, 13);
    assert_int_equal(t.ids, 5);
}

int main(void)
{
    int skip = tu_require_samples("samples_all");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_samples_read_and_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
