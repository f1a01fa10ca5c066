/* samples_vmtar.c: the real vmtar modules of the samples: entry counts, names, and a rewrite
 * that gives back the decompressed bytes exactly (signature trailer included). */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/vmtar.h"
#include "testutil.h"

#define ORIG "ForceFledgling__esxi-unsupported-cpu-mod/src/original/"

static struct esximg_vmtar *sv_read(const char *rel)
{
    char *path = tu_sample_path(rel);
    uint8_t *data;
    size_t len;
    struct esximg_vmtar *v = NULL;
    struct esximg_err err = {0};
    tu_read_file(path, &data, &len);
    if (esximg_vmtar_read(data, len, &v, &err))
        fail_msg("%s: %s", path, err.msg);
    free(data);
    free(path);
    return v;
}

/* write back with the detected layout: the same decompressed bytes; then read again */
static void sv_rewrite_is_identical(const struct esximg_vmtar *v)
{
    struct esximg_vmtar_wopts o;
    struct esximg_err err = {0};
    uint8_t *out, *gz;
    size_t out_len, gz_len;
    struct esximg_vmtar *again;
    assert_true(v->layout.exact);
    esximg_vmtar_layout_wopts(v, &o);
    o.gzip = false;
    assert_int_equal(esximg_vmtar_write(v, &o, &out, &out_len, &err), 0);
    assert_int_equal(out_len, v->archive_len);
    assert_memory_equal(out, v->archive, out_len);
    /* gzip'd: a different member (other compressor settings), the same content */
    o.gzip = true;
    assert_int_equal(esximg_vmtar_write(v, &o, &gz, &gz_len, &err), 0);
    assert_int_equal(esximg_vmtar_read(gz, gz_len, &again, &err), 0);
    assert_int_equal(again->archive_len, v->archive_len);
    assert_memory_equal(again->archive, v->archive, v->archive_len);
    assert_int_equal(again->entry_count, v->entry_count);
    for (size_t i = 0; i < v->entry_count; i++) {
        const struct esximg_vmtar_entry *a = &v->entries[i], *b = &again->entries[i];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->mode, b->mode);
        assert_int_equal(a->mtime, b->mtime);
        assert_int_equal(a->text_pages, b->text_pages);
        assert_int_equal(a->size, b->size);
    }
    esximg_vmtar_free(again);
    free(out);
    free(gz);
}

static void vmtar_sample_67_weaselin(void **state)
{
    (void)state;
    struct esximg_vmtar *v = sv_read(ORIG "6.7.0u3/WEASELIN.T00");
    assert_true(v->gzipped);
    assert_int_equal(v->entry_count, 211);
    assert_string_equal(v->entries[0].name, "bin/");
    assert_string_equal(v->entries[210].name, "mbr/ddpartimg");
    assert_int_equal(v->layout.alignment, 4096);
    assert_true(v->layout.signed_checksums);
    assert_int_equal(v->layout.headers_end, 211 * 512);
    assert_int_equal(v->trailer_len, 0);
    assert_int_equal(v->layout.padding, 0);
    assert_int_equal(v->entries[0].uid, 201);
    assert_string_equal(v->entries[0].uname, "mts");
    assert_true(v->entries[0].dev_digits);
    size_t with_pages = 0;
    for (size_t i = 0; i < v->entry_count; i++)
        with_pages += v->entries[i].text_pages != 0;
    assert_true(with_pages > 0);
    sv_rewrite_is_identical(v);
    esximg_vmtar_free(v);
}

/* 7.0+ modules are one gzip member from Python's gzip (zlib level 9, memLevel 8, no name):
 * our gzip writer uses the same settings, so even the compressed module comes back */
static void vmtar_sample_70_gzip_rewrite_is_identical(void **state)
{
    (void)state;
    char *path = tu_sample_path(ORIG "7.0.3/WEASELIN.V00");
    uint8_t *data, *gz;
    size_t len, gz_len;
    struct esximg_vmtar *v;
    struct esximg_vmtar_wopts o;
    struct esximg_err err = {0};
    tu_read_file(path, &data, &len);
    assert_int_equal(esximg_vmtar_read(data, len, &v, &err), 0);
    esximg_vmtar_layout_wopts(v, &o);
    assert_true(o.gzip);
    assert_int_equal(esximg_vmtar_write(v, &o, &gz, &gz_len, &err), 0);
    assert_int_equal(gz_len, len);
    assert_memory_equal(gz, data, len);
    free(gz);
    esximg_vmtar_free(v);
    free(data);
    free(path);
}

static void vmtar_sample_70_weaselin(void **state)
{
    (void)state;
    struct esximg_vmtar *v = sv_read(ORIG "7.0.3/WEASELIN.V00");
    assert_int_equal(v->entry_count, 201);
    assert_string_equal(v->entries[0].name, "bin/");
    assert_string_equal(v->entries[200].name,
                        "var/lib/initenvs/installer/jumpstart/disabled/crond");
    assert_true(v->layout.signature_trailer);
    assert_int_equal(v->trailer_len, 540);
    assert_int_equal(esx_le32(v->trailer), 4);
    assert_memory_equal(v->trailer + 4, "vmware_esx67\0\0\0\0", 16);
    assert_int_equal(esx_le32(v->trailer + 532), 0x210);
    assert_memory_equal(v->trailer + 536, "\xed\x11\xbe\x1a", 4);
    /* a file that holds a signature blob itself is content, not the trailer */
    const struct esximg_vmtar_entry *blob = esximg_vmtar_find(v, "usr/share/weasel/vim.sigblob");
    assert_non_null(blob);
    assert_int_equal(blob->size, 540);
    assert_int_equal(v->layout.data_end + 540, v->archive_len);
    sv_rewrite_is_identical(v);
    esximg_vmtar_free(v);
}

static void vmtar_sample_boot_module_is_refused(void **state)
{
    (void)state;
    char *path = tu_sample_path(ORIG "6.7.0u3/B.B00");
    uint8_t *data;
    size_t len;
    struct esximg_vmtar *v = NULL;
    struct esximg_err err = {0};
    tu_read_file(path, &data, &len);
    assert_int_equal(esximg_vmtar_read(data, len, &v, &err), ESXIMG_EFORMAT);
    assert_null(v);
    assert_non_null(strstr(err.msg, "not a vmtar"));
    bool gz = false;
    assert_int_equal(esximg_vmtar_sniff_data(data, len, &gz), ESXIMG_TAR_UNKNOWN);
    assert_true(gz);
    free(data);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vmtar_sample_67_weaselin),
        cmocka_unit_test(vmtar_sample_70_weaselin),
        cmocka_unit_test(vmtar_sample_70_gzip_rewrite_is_identical),
        cmocka_unit_test(vmtar_sample_boot_module_is_refused),
    };
    if (!tu_samples_dir())
        return tu_require_samples("samples_vmtar");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
