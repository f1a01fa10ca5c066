/* test_vmtar.c: vmtar reading, writing, building and extracting, on archives made here: by
 * our writer, then edited byte by byte for the malformed and hostile cases. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/vmtar.h"
#include "testutil.h"

#define BLK 512u

/* The test archive: a directory, a small sticky file, a larger file, a symlink.
 * Header i is at i*512; "bin/tool" holds 5000 bytes. */
static struct esximg_vmtar *tv_model(void)
{
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    static uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    struct esximg_vmtar_attrs dir = {.mode = 0755, .mtime = 1000};
    struct esximg_vmtar_attrs conf = {.mode = 01644, .mtime = 1000};
    struct esximg_vmtar_attrs exe = {.mode = 0755, .mtime = 1000};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_dir(v, "etc", &dir, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/a.conf", &conf, "hello\n", 6, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "bin/tool", &exe, big, sizeof big, &err), 0);
    assert_int_equal(esximg_vmtar_add_symlink(v, "etc/link", "a.conf", NULL, &err), 0);
    return v;
}

static void tv_bytes(uint32_t align, bool signed_sums, uint8_t **out, size_t *len)
{
    struct esximg_vmtar *v = tv_model();
    struct esximg_vmtar_wopts o = {.alignment = align, .signed_checksums = signed_sums};
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_write(v, &o, out, len, &err), 0);
    esximg_vmtar_free(v);
}

/* recomputes the header checksum after an edit */
static void tv_fix_sum(uint8_t *h, bool signed_sum)
{
    long sum = 0;
    memset(h + 148, ' ', 8);
    for (int i = 0; i < (int)BLK; i++)
        sum += signed_sum ? (long)(int8_t)h[i] : (long)h[i];
    snprintf((char *)h + 148, 7, "%06lo", (unsigned long)sum & 0777777u);
    h[155] = ' ';
}

static int tv_read(const uint8_t *data, size_t len, struct esximg_vmtar **v,
                   struct esximg_err *err)
{
    memset(err, 0, sizeof *err);
    *v = NULL;
    return esximg_vmtar_read(data, len, v, err);
}

static void tv_expect_fail(const uint8_t *data, size_t len, int code, const char *words)
{
    struct esximg_vmtar *v;
    struct esximg_err err;
    int rc = tv_read(data, len, &v, &err);
    if (rc != code || !strstr(err.msg, words))
        fail_msg("expected %d '%s', got %d '%s'", code, words, rc, err.msg);
    assert_null(v);
}

static void vmtar_valid_archive_round_trips(void **state)
{
    (void)state;
    uint8_t *a, *b;
    size_t alen, blen;
    struct esximg_vmtar *v, *w;
    struct esximg_err err;
    tv_bytes(0, false, &a, &alen);
    assert_int_equal(tv_read(a, alen, &v, &err), 0);
    assert_int_equal(v->entry_count, 4);
    assert_false(v->gzipped);
    assert_string_equal(v->entries[0].name, "etc/");
    assert_int_equal(v->entries[1].mode, 01644);
    assert_int_equal(v->entries[1].size, 6);
    assert_memory_equal(v->entries[1].content, "hello\n", 6);
    assert_string_equal(v->entries[3].linkname, "a.conf");
    assert_int_equal(v->entries[3].typeflag, '2');
    assert_string_equal(v->entries[2].uname, "root");
    assert_true(v->layout.exact);
    assert_int_equal(v->layout.alignment, 4096);
    assert_int_equal(v->trailer_len, 0);
    struct esximg_vmtar_wopts o;
    esximg_vmtar_layout_wopts(v, &o);
    assert_int_equal(esximg_vmtar_write(v, &o, &b, &blen, &err), 0);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);
    /* read -> write -> read gives the same entries */
    assert_int_equal(tv_read(b, blen, &w, &err), 0);
    assert_int_equal(w->entry_count, v->entry_count);
    for (size_t i = 0; i < v->entry_count; i++) {
        assert_string_equal(w->entries[i].name, v->entries[i].name);
        assert_int_equal(w->entries[i].mode, v->entries[i].mode);
        assert_int_equal(w->entries[i].size, v->entries[i].size);
        assert_int_equal(w->entries[i].offset, v->entries[i].offset);
        if (v->entries[i].size)
            assert_memory_equal(w->entries[i].content, v->entries[i].content,
                                (size_t)v->entries[i].size);
    }
    assert_non_null(esximg_vmtar_find(v, "etc"));
    assert_null(esximg_vmtar_find(v, "et"));
    esximg_vmtar_free(w);
    esximg_vmtar_free(v);
    free(a);
    free(b);
}

static void vmtar_reads_gzip_and_writes_deterministically(void **state)
{
    (void)state;
    struct esximg_vmtar *v = tv_model(), *r;
    struct esximg_vmtar_wopts o = {.gzip = true};
    struct esximg_err err = {0};
    uint8_t *g1, *g2, *raw;
    size_t g1len, g2len, rawlen;
    assert_int_equal(esximg_vmtar_write(v, &o, &g1, &g1len, &err), 0);
    assert_int_equal(esximg_vmtar_write(v, &o, &g2, &g2len, &err), 0);
    assert_int_equal(g1len, g2len);
    assert_memory_equal(g1, g2, g1len);
    assert_true(esx_is_gzip(g1, g1len));
    assert_int_equal(esximg_vmtar_sniff_data(g1, g1len, NULL), ESXIMG_TAR_VMTAR);
    assert_int_equal(tv_read(g1, g1len, &r, &err), 0);
    assert_true(r->gzipped);
    assert_int_equal(r->entry_count, 4);
    /* the gzip'd archive holds what the raw writer gives */
    o.gzip = false;
    assert_int_equal(esximg_vmtar_write(v, &o, &raw, &rawlen, &err), 0);
    assert_int_equal(r->archive_len, rawlen);
    assert_memory_equal(r->archive, raw, rawlen);
    /* and a gzip member followed by junk is refused */
    uint8_t *junk = malloc(g1len + 1);
    memcpy(junk, g1, g1len);
    junk[g1len] = 'x';
    tv_expect_fail(junk, g1len + 1, ESXIMG_EFORMAT, "follow the gzip member");
    free(junk);
    esximg_vmtar_free(r);
    esximg_vmtar_free(v);
    free(g1);
    free(g2);
    free(raw);
}

static void vmtar_rejects_truncated_header(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    tv_expect_fail(a, 2 * BLK + 100, ESXIMG_EFORMAT, "truncated");
    /* all headers but no end-of-headers block */
    tv_expect_fail(a, 4 * BLK, ESXIMG_EFORMAT, "no end-of-headers block");
    /* the last content cut short */
    tv_expect_fail(a, alen - 1, ESXIMG_EFORMAT, "outside the archive");
    free(a);
}

static void vmtar_rejects_bad_checksum(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    a[BLK + 5] ^= 0x01;          /* the name of header 1, checksum not updated */
    tv_expect_fail(a, alen, ESXIMG_ECHECKSUM, "header 1: checksum");
    a[BLK + 5] ^= 0x01;
    memcpy(a + 148, "xyz\0\0\0\0 ", 8);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "checksum field is not an octal number");
    free(a);
}

static void vmtar_accepts_signed_checksum(void **state)
{
    (void)state;
    struct esximg_vmtar *v, *r;
    struct esximg_err err = {0};
    struct esximg_vmtar_entry e = {
        .name = "usr/bin/elf", .typeflag = '7', .mode = 0555, .size = 3,
        .text_pages = 0x90,      /* a byte >= 0x80: the two sums differ */
    };
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_entry(v, &e, "abc", &err), 0);
    for (int signed_sums = 0; signed_sums < 2; signed_sums++) {
        struct esximg_vmtar_wopts o = {.alignment = 512, .signed_checksums = signed_sums};
        uint8_t *a, *b;
        size_t alen, blen;
        assert_int_equal(esximg_vmtar_write(v, &o, &a, &alen, &err), 0);
        assert_int_equal(tv_read(a, alen, &r, &err), 0);
        assert_int_equal(r->entries[0].signed_checksum, signed_sums);
        assert_int_equal(r->layout.signed_checksums, signed_sums);
        assert_int_equal(r->entries[0].text_pages, 0x90);
        assert_int_equal(r->entries[0].typeflag, '7');
        esximg_vmtar_layout_wopts(r, &o);
        assert_int_equal(esximg_vmtar_write(r, &o, &b, &blen, &err), 0);
        assert_int_equal(blen, alen);
        assert_memory_equal(a, b, alen);
        /* a sum that is neither */
        a[149] = a[149] == '7' ? '6' : '7';
        tv_expect_fail(a, alen, ESXIMG_ECHECKSUM, "matches neither sum");
        esximg_vmtar_free(r);
        free(a);
        free(b);
    }
    esximg_vmtar_free(v);
}

static void vmtar_keeps_mixed_checksums(void **state)
{
    (void)state;
    struct esximg_vmtar *v, *r;
    struct esximg_err err = {0};
    struct esximg_vmtar_entry e = {.name = "a", .typeflag = '0', .mode = 0644,
                                   .text_pages = 0x90};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_entry(v, &e, NULL, &err), 0);
    e.name = "b";
    assert_int_equal(esximg_vmtar_add_entry(v, &e, NULL, &err), 0);
    uint8_t *a, *b;
    size_t alen, blen;
    struct esximg_vmtar_wopts o = {.alignment = 512};
    assert_int_equal(esximg_vmtar_write(v, &o, &a, &alen, &err), 0);
    tv_fix_sum(a + BLK, true);   /* header 1 signed, header 0 unsigned */
    assert_int_equal(tv_read(a, alen, &r, &err), 0);
    assert_true(r->layout.mixed_checksums);
    assert_false(r->layout.signed_checksums);
    assert_false(r->entries[0].signed_checksum);
    assert_true(r->entries[1].signed_checksum);
    assert_true(r->layout.exact);
    esximg_vmtar_layout_wopts(r, &o);
    assert_int_equal(esximg_vmtar_write(r, &o, &b, &blen, &err), 0);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);
    esximg_vmtar_free(r);
    esximg_vmtar_free(v);
    free(a);
    free(b);
}

static void vmtar_rejects_offset_past_end(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    esx_put_le32(a + 2 * BLK + 496, (uint32_t)alen);          /* bin/tool */
    tv_fix_sum(a + 2 * BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "entry 'bin/tool': content");
    esx_put_le32(a + 2 * BLK + 496, 0xfffffe00u);
    tv_fix_sum(a + 2 * BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "outside the archive");
    free(a);
}

static void vmtar_rejects_offset_inside_headers(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    esx_put_le32(a + BLK + 496, BLK);                        /* etc/a.conf over header 1 */
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "inside the header area");
    esx_put_le32(a + BLK + 496, 4 * BLK);                    /* the end-of-headers block */
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "inside the header area");
    free(a);
}

static void vmtar_rejects_overlapping_contents(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    /* etc/a.conf (6 bytes) moved to 3 bytes before bin/tool's start */
    uint32_t tool = esx_le32(a + 2 * BLK + 496);
    esx_put_le32(a + BLK + 496, tool - 3);
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "overlaps");
    free(a);
}

static void vmtar_rejects_overflowing_size(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    memcpy(a + 2 * BLK + 124, "77777777777\0", 12);
    tv_fix_sum(a + 2 * BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "outside the archive");
    memcpy(a + 2 * BLK + 124, "777777777777", 12);           /* 12 digits, no NUL */
    tv_fix_sum(a + 2 * BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "outside the archive");
    /* GNU base-256 (high bit) is not octal */
    memset(a + 2 * BLK + 124, 0xff, 12);
    tv_fix_sum(a + 2 * BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "size field is not an octal number");
    free(a);
}

static void vmtar_rejects_name_without_nul(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    memset(a + BLK, 'a', 100);
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "header 1: name has no NUL");
    free(a);
}

static void tv_rename(uint8_t *a, size_t index, const char *name)
{
    memset(a + index * BLK, 0, 100);
    memcpy(a + index * BLK, name, strlen(name));
    tv_fix_sum(a + index * BLK, false);
}

static void vmtar_rejects_escaping_names(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    tv_rename(a, 1, "../evil");
    tv_expect_fail(a, alen, ESXIMG_EUNSAFE, "'..'");
    tv_rename(a, 1, "etc/../../evil");
    tv_expect_fail(a, alen, ESXIMG_EUNSAFE, "'..'");
    tv_rename(a, 1, "/etc/passwd");
    tv_expect_fail(a, alen, ESXIMG_EUNSAFE, "absolute");
    free(a);
}

static void vmtar_refuses_other_types(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    tv_bytes(512, false, &a, &alen);
    a[1 * BLK + 156] = '1';
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EUNSUPPORTED, "unsupported entry type '1'");
    a[1 * BLK + 156] = 'L';
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EUNSUPPORTED, "GNU long names");
    a[1 * BLK + 156] = '5';                                   /* a directory with content */
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "a directory with 6 bytes");
    a[1 * BLK + 156] = '0';
    a[1 * BLK + 400] = 'p';                                   /* the prefix field */
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EUNSUPPORTED, "prefix");
    a[1 * BLK + 400] = 0;
    memcpy(a + BLK + 257, "vizor ", 6);
    tv_fix_sum(a + BLK, false);
    tv_expect_fail(a, alen, ESXIMG_EFORMAT, "header 1: no 'visor ' magic");
    free(a);
}

static void vmtar_sniffs_and_refuses_tar(void **state)
{
    (void)state;
    uint8_t h[BLK] = {0};
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_sniff(h, sizeof h), ESXIMG_TAR_UNKNOWN);
    assert_int_equal(esximg_vmtar_sniff(h, 100), ESXIMG_TAR_UNKNOWN);
    memcpy(h + 257, "visor  \0", 8);
    assert_int_equal(esximg_vmtar_sniff(h, sizeof h), ESXIMG_TAR_VMTAR);
    memcpy(h + 257, "ustar\0" "00", 8);
    assert_int_equal(esximg_vmtar_sniff(h, sizeof h), ESXIMG_TAR_USTAR);
    memcpy(h, "file", 4);
    tv_expect_fail(h, sizeof h, ESXIMG_EFORMAT, "is a POSIX ustar, not a vmtar");
    memcpy(h + 257, "ustar  \0", 8);
    assert_int_equal(esximg_vmtar_sniff(h, sizeof h), ESXIMG_TAR_GNU);
    tv_expect_fail(h, sizeof h, ESXIMG_EFORMAT, "is a GNU tar, not a vmtar");
    uint8_t *gz;
    size_t gzlen;
    bool gzipped = false;
    assert_int_equal(esx_gzip(h, sizeof h, 6, &gz, &gzlen, &err), 0);
    assert_int_equal(esximg_vmtar_sniff_data(gz, gzlen, &gzipped), ESXIMG_TAR_GNU);
    assert_true(gzipped);
    tv_expect_fail(gz, gzlen, ESXIMG_EFORMAT, "is a GNU tar");
    free(gz);
    assert_int_equal(esximg_vmtar_sniff_data((const uint8_t *)"\x1f\x8b\x08", 3, &gzipped),
                     ESXIMG_TAR_UNKNOWN);
    tv_expect_fail((const uint8_t *)"\x7f" "ELF", 4, ESXIMG_EFORMAT, "not a vmtar");
    assert_string_equal(esximg_tar_format_name(ESXIMG_TAR_VMTAR), "vmtar");
}

static uint8_t *tv_with_tail(const uint8_t *a, size_t alen, const uint8_t *tail, size_t n)
{
    uint8_t *b = malloc(alen + n);
    memcpy(b, a, alen);
    memcpy(b + alen, tail, n);
    return b;
}

static void vmtar_recognises_signature_trailer(void **state)
{
    (void)state;
    uint8_t *a, *b, *c;
    size_t alen, clen;
    uint8_t sig[540];
    struct esximg_vmtar *v;
    struct esximg_err err;
    tv_bytes(4096, true, &a, &alen);
    memset(sig, 0xa5, sizeof sig);
    esx_put_le32(sig, 4);
    memcpy(sig + 4, "vmware_esx67\0\0\0\0", 16);
    esx_put_le32(sig + 532, 0x210);
    memcpy(sig + 536, "\xed\x11\xbe\x1a", 4);
    b = tv_with_tail(a, alen, sig, sizeof sig);
    assert_int_equal(tv_read(b, alen + sizeof sig, &v, &err), 0);
    assert_true(v->layout.signature_trailer);
    assert_int_equal(v->trailer_len, 540);
    assert_memory_equal(v->trailer, sig, 540);
    assert_int_equal(v->layout.data_end, alen);
    assert_true(v->layout.exact);
    struct esximg_vmtar_wopts o;
    esximg_vmtar_layout_wopts(v, &o);
    assert_int_equal(esximg_vmtar_write(v, &o, &c, &clen, &err), 0);
    assert_int_equal(clen, alen + sizeof sig);
    assert_memory_equal(c, b, clen);
    free(c);
    o.keep_trailer = false;                                  /* dropped deliberately */
    assert_int_equal(esximg_vmtar_write(v, &o, &c, &clen, &err), 0);
    assert_int_equal(clen, alen);
    assert_memory_equal(c, a, alen);
    free(c);
    esximg_vmtar_free(v);
    free(b);
    /* a siglen that does not fit is not a signature: the bytes are kept as unknown */
    esx_put_le32(sig + 532, 0x10000);
    b = tv_with_tail(a, alen, sig, sizeof sig);
    assert_int_equal(tv_read(b, alen + sizeof sig, &v, &err), 0);
    assert_false(v->layout.signature_trailer);
    assert_int_equal(v->trailer_len, 540);
    esximg_vmtar_free(v);
    free(b);
    free(a);
}

static void vmtar_detects_padding(void **state)
{
    (void)state;
    struct esximg_vmtar *v = tv_model(), *r;
    struct esximg_vmtar_wopts o = {.alignment = 1024, .pad_to_512 = true};
    struct esximg_err err = {0};
    uint8_t *a, *b;
    size_t alen, blen;
    assert_int_equal(esximg_vmtar_write(v, &o, &a, &alen, &err), 0);
    assert_int_equal(alen % 512, 0);
    assert_int_equal(tv_read(a, alen, &r, &err), 0);
    assert_true(r->layout.padded_to_512);
    assert_int_equal(r->layout.alignment, 1024);
    assert_int_equal(r->layout.padding, alen - r->layout.data_end);
    assert_true(r->layout.exact);
    esximg_vmtar_layout_wopts(r, &o);
    assert_int_equal(esximg_vmtar_write(r, &o, &b, &blen, &err), 0);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);
    esximg_vmtar_free(r);
    esximg_vmtar_free(v);
    free(a);
    free(b);
}

/* 4 headers end at 2048, the zero block at 2560. */
/* A source over bytes in memory that counts what it handed out. */
struct scan_src {
    const uint8_t *data;
    size_t len, pos;
};

static int scan_read(void *ctx, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    (void)err;
    struct scan_src *s = ctx;
    size_t take = s->len - s->pos < n ? s->len - s->pos : n;
    memcpy(buf, s->data + s->pos, take);
    s->pos += take;
    *got = take;
    return 0;
}

struct scan_seen {
    size_t count;
    char name[64];
    char content[128];
};

static bool scan_want_maps(void *ctx, const struct esximg_vmtar_entry *e)
{
    (void)ctx;
    return strstr(e->name, ".map") != NULL;
}

static int scan_take(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *content,
                     struct esximg_err *err)
{
    (void)err;
    struct scan_seen *seen = ctx;
    seen->count++;
    snprintf(seen->name, sizeof seen->name, "%s", e->name);
    snprintf(seen->content, sizeof seen->content, "%.*s", (int)e->size, (const char *)content);
    return 0;
}

static bool scan_want_all(void *ctx, const struct esximg_vmtar_entry *e)
{
    (void)ctx;
    (void)e;
    return true;
}

static bool scan_head_of_modules(void *ctx, const struct esximg_vmtar_entry *e)
{
    (void)ctx;
    return strstr(e->name, "vmkmod") != NULL;
}

struct scan_heads {
    size_t count;
    uint8_t first[2][8];
};

static int scan_take_head(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *content,
                          struct esximg_err *err)
{
    (void)err;
    struct scan_heads *h = ctx;
    if (strstr(e->name, "vmkmod") && h->count < 2)
        memcpy(h->first[h->count++], content, 8);
    return 0;
}

/* head_only: of two modules only the first bytes are handed over (take() copies 8 of them and
 * ASan would catch a read past what was kept), the map after them still whole; a module whose
 * skipped tail overlapped the next content would still be refused. */
static void vmtar_scan_takes_only_the_head(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_vmtar *v;
    uint8_t *a = calloc(1, 100000), *b = calloc(1, 5000);
    memcpy(a, "\x7f" "ELFaaaa", 8);
    memcpy(b, "\x7f" "ELFbbbb", 8);
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "usr/lib/vmware/vmkmod/a", NULL, a, 100000, &err),
                     0);
    assert_int_equal(esximg_vmtar_add_file(v, "usr/lib/vmware/vmkmod/b", NULL, b, 5000, &err),
                     0);
    assert_int_equal(esximg_vmtar_add_file(v, "usr/x.map", NULL, "m\n", 2, &err), 0);
    struct esximg_vmtar_wopts o = {.gzip = true};
    uint8_t *gz;
    size_t gz_len;
    assert_int_equal(esximg_vmtar_write(v, &o, &gz, &gz_len, &err), 0);
    struct scan_src src = {.data = gz, .len = gz_len};
    struct esximg_vmtar_source source = {.read = scan_read, .ctx = &src};
    struct scan_heads heads = {0};
    struct esximg_vmtar_scan_opts so = {.want = scan_want_all, .take = scan_take_head,
                                        .ctx = &heads, .head_only = scan_head_of_modules,
                                        .head_bytes = 8};
    assert_int_equal(esximg_vmtar_scan(&source, &so, &err), 0);
    assert_int_equal(heads.count, 2);
    assert_memory_equal(heads.first[0], "\x7f" "ELFaaaa", 8);
    assert_memory_equal(heads.first[1], "\x7f" "ELFbbbb", 8);
    free(gz);
    free(a);
    free(b);
    esximg_vmtar_free(v);
}

/* Only the map comes out, and the big module after it is never inflated: the scan reads a
 * fraction of the gzip'd archive. */
static void vmtar_scan_stops_after_the_last_wanted_content(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_vmtar *v;
    static const char map[] = "regtype=native,bus=pci,id=8086100e..............,driver=x\n";
    size_t big = 8u << 20;
    uint8_t *module = malloc(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {        /* incompressible enough */
        x = x * 1103515245u + 12345u;
        module[i] = (uint8_t)(x >> 16);
    }
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/vmware/default.map.d/x.map", NULL, map,
                                           sizeof map - 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "usr/lib/vmware/vmkmod/x", NULL, module, big,
                                           &err), 0);
    struct esximg_vmtar_wopts o = {.gzip = true, .gzip_level = 1};
    uint8_t *gz;
    size_t gz_len;
    assert_int_equal(esximg_vmtar_write(v, &o, &gz, &gz_len, &err), 0);
    struct scan_src src = {.data = gz, .len = gz_len};
    struct esximg_vmtar_source source = {.read = scan_read, .ctx = &src};
    struct scan_seen seen = {0};
    struct esximg_vmtar_scan_opts so = {.want = scan_want_maps, .take = scan_take,
                                        .ctx = &seen};
    assert_int_equal(esximg_vmtar_scan(&source, &so, &err), 0);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.name, "etc/vmware/default.map.d/x.map");
    assert_string_equal(seen.content, map);
    assert_true(src.pos < gz_len / 8);
    /* the same archive cut short before the map's end: a clean error */
    struct scan_src cut = {.data = gz, .len = 40};
    source.ctx = &cut;
    assert_int_equal(esximg_vmtar_scan(&source, &so, &err), ESXIMG_EFORMAT);
    /* a GNU tar is not a vmtar */
    uint8_t tar[1024] = {0};
    memcpy(tar, "etc/x", 5);
    memcpy(tar + 257, "ustar  ", 8);
    struct scan_src plain = {.data = tar, .len = sizeof tar};
    source.ctx = &plain;
    assert_int_equal(esximg_vmtar_scan(&source, &so, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "not a vmtar"));
    free(gz);
    free(module);
    esximg_vmtar_free(v);
}

/* The 6.5 USB NIC Fling layout: files on 512-byte blocks, shared ('7') files on pages. */
static void vmtar_keeps_page_alignment_of_shared_files(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_vmtar *v, *back;
    static const char map[] = "regtype=native,bus=pci,id=8086100e..............,driver=x\n";
    uint8_t module[700] = {0x7f, 'E', 'L', 'F'};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/x.map", NULL, map, sizeof map - 1, &err), 0);
    struct esximg_vmtar_entry shared = {.name = "usr/lib/x", .typeflag = ESXIMG_VMTAR_SHARED,
                                        .mode = 0644, .size = sizeof module};
    assert_int_equal(esximg_vmtar_add_entry(v, &shared, module, &err), 0);
    struct esximg_vmtar_wopts o = {.alignment = 512, .shared_alignment = 4096};
    uint8_t *out;
    size_t out_len;
    assert_int_equal(esximg_vmtar_write(v, &o, &out, &out_len, &err), 0);
    assert_int_equal(esximg_vmtar_read(out, out_len, &back, &err), 0);
    assert_int_equal(back->entries[0].offset, 3 * 512);      /* 2 headers + end block */
    assert_int_equal(back->entries[1].offset, 4096);
    assert_int_equal(out_len, 4096 + sizeof module);
    assert_true(back->layout.exact);
    assert_int_equal(back->layout.alignment, 512);
    assert_int_equal(back->layout.shared_alignment, 4096);
    /* and the layout it detects writes the same bytes again */
    uint8_t *again;
    size_t again_len;
    esximg_vmtar_layout_wopts(back, &o);
    assert_int_equal(esximg_vmtar_write(back, &o, &again, &again_len, &err), 0);
    assert_int_equal(again_len, out_len);
    assert_memory_equal(again, out, out_len);
    o.shared_alignment = 3000;
    uint8_t *none;
    assert_int_equal(esximg_vmtar_write(back, &o, &none, &again_len, &err), ESXIMG_EINVAL);
    free(again);
    free(out);
    esximg_vmtar_free(back);
    esximg_vmtar_free(v);
}

static void vmtar_places_contents_at_exact_offsets(void **state)
{
    (void)state;
    static const struct {
        uint32_t align, conf, tool, len;
    } want[] = {
        {512, 2560, 3072, 3072 + 5000},
        {1024, 3072, 4096, 4096 + 5000},
        {2048, 4096, 6144, 6144 + 5000},
        {4096, 4096, 8192, 8192 + 5000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint8_t *a;
        size_t alen;
        struct esximg_vmtar *v;
        struct esximg_err err;
        tv_bytes(want[i].align, false, &a, &alen);
        assert_int_equal(alen, want[i].len);
        assert_int_equal(esx_le32(a + 0 * BLK + 496), 0);            /* etc/ */
        assert_int_equal(esx_le32(a + 1 * BLK + 496), want[i].conf);  /* etc/a.conf */
        assert_int_equal(esx_le32(a + 2 * BLK + 496), want[i].tool);  /* bin/tool */
        assert_int_equal(esx_le32(a + 3 * BLK + 496), 0);            /* etc/link */
        assert_memory_equal(a + want[i].conf, "hello\n", 6);
        for (size_t k = 4 * BLK; k < want[i].conf; k++)
            assert_int_equal(a[k], 0);
        assert_memory_equal(a + 257, "visor  \0", 8);
        assert_memory_equal(a + 100, "0000755\0", 8);
        assert_memory_equal(a + BLK + 100, "0001644\0", 8);
        assert_memory_equal(a + BLK + 124, "00000000006\0", 12);
        assert_int_equal(a[155], ' ');
        assert_int_equal(a[154], 0);
        assert_int_equal(tv_read(a, alen, &v, &err), 0);
        assert_int_equal(v->layout.alignment, want[i].align);
        assert_int_equal(v->layout.headers_end, 4 * BLK);
        assert_int_equal(v->layout.data_start, want[i].conf);
        assert_true(v->layout.exact);
        esximg_vmtar_free(v);
        free(a);
    }
    struct esximg_vmtar *v = tv_model();
    struct esximg_vmtar_wopts o = {.alignment = 3000};
    struct esximg_err err = {0};
    uint8_t *a = NULL;
    size_t alen;
    assert_int_equal(esximg_vmtar_write(v, &o, &a, &alen, &err), ESXIMG_EINVAL);
    assert_null(a);
    esximg_vmtar_free(v);
}

static void vmtar_notes_inexact_layouts(void **state)
{
    (void)state;
    uint8_t *a;
    size_t alen;
    struct esximg_vmtar *v;
    struct esximg_err err;
    tv_bytes(512, false, &a, &alen);
    memcpy(a + BLK + 100, "000644 \0", 8);                    /* another writer's format */
    tv_fix_sum(a + BLK, false);
    assert_int_equal(tv_read(a, alen, &v, &err), 0);
    assert_int_equal(v->entries[1].mode, 0644);
    assert_false(v->entries[1].canonical);
    assert_true(v->entries[0].canonical);
    assert_false(v->layout.exact);
    assert_non_null(strstr(v->layout.inexact_why, "formatted"));
    esximg_vmtar_free(v);
    free(a);
    /* an unaligned offset */
    tv_bytes(512, false, &a, &alen);
    esx_put_le32(a + BLK + 496, 2560 + 16);
    tv_fix_sum(a + BLK, false);
    assert_int_equal(tv_read(a, alen, &v, &err), 0);
    assert_int_equal(v->layout.alignment, 0);
    assert_false(v->layout.exact);
    esximg_vmtar_free(v);
    free(a);
}

static void vmtar_empty_archive_round_trips(void **state)
{
    (void)state;
    struct esximg_vmtar *v, *r;
    struct esximg_err err = {0};
    uint8_t *a, *b;
    size_t alen, blen;
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_write(v, NULL, &a, &alen, &err), 0);
    assert_int_equal(alen, 4096);
    assert_int_equal(tv_read(a, alen, &r, &err), 0);
    assert_int_equal(r->entry_count, 0);
    assert_true(r->layout.exact);
    struct esximg_vmtar_wopts o;
    esximg_vmtar_layout_wopts(r, &o);
    assert_int_equal(esximg_vmtar_write(r, &o, &b, &blen, &err), 0);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);
    esximg_vmtar_free(r);
    esximg_vmtar_free(v);
    free(a);
    free(b);
}

static void vmtar_builder_checks_and_sorts(void **state)
{
    (void)state;
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    char longname[120];
    memset(longname, 'n', sizeof longname);
    longname[100] = '\0';
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, longname, NULL, "x", 1, &err), ESXIMG_ELIMIT);
    assert_int_equal(esximg_vmtar_add_file(v, "../x", NULL, "x", 1, &err), ESXIMG_EUNSAFE);
    assert_int_equal(esximg_vmtar_add_file(v, "/x", NULL, "x", 1, &err), ESXIMG_EUNSAFE);
    struct esximg_vmtar_attrs big = {.mode = 010000000};
    assert_int_equal(esximg_vmtar_add_dir(v, "d", &big, &err), ESXIMG_ELIMIT);
    assert_int_equal(v->entry_count, 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/b", NULL, "1", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_dir(v, "etc", NULL, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc-x", NULL, "2", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/a", NULL, "3", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "etc/a", NULL, "4", 1, &err), 0);
    esximg_vmtar_sort(v);
    assert_int_equal(v->entry_count, 4);
    assert_string_equal(v->entries[0].name, "etc-x");
    assert_string_equal(v->entries[1].name, "etc/");
    assert_string_equal(v->entries[2].name, "etc/a");
    assert_memory_equal(v->entries[2].content, "3", 1);       /* the first one kept */
    assert_string_equal(v->entries[3].name, "etc/b");
    assert_string_equal(v->entries[1].uname, "root");
    assert_int_equal(v->entries[1].uid, 0);
    esximg_vmtar_free(v);
    esximg_vmtar_free(NULL);
}

static void tv_write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char *p = esx_path_join(dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
    free(p);
}

static char *tv_slurp(const char *dir, const char *name)
{
    char *p = esx_path_join(dir, name);
    uint8_t *d = NULL;
    size_t n = 0;
    struct esximg_err err = {0};
    if (esx_file_read(p, 0, &d, &n, &err))
        fail_msg("cannot read %s: %s", p, err.msg);
    free(p);
    char *s = esx_strndup((char *)d, n);
    free(d);
    return s;
}

static mode_t tv_mode(const char *dir, const char *name)
{
    char *p = esx_path_join(dir, name);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    free(p);
    return st.st_mode;
}

static void vmtar_builds_tree_and_extracts_it(void **state)
{
    (void)state;
    char *src = tu_mkdtemp(), *dst = tu_mkdtemp();
    char *sub = esx_path_join(src, "etc/vmware");
    char *etc = esx_path_join(src, "etc");
    assert_int_equal(mkdir(etc, 0755), 0);
    assert_int_equal(mkdir(sub, 0750), 0);
    tv_write_file(src, "etc/vmware/x.cfg", "sticky\n", 01644);
    tv_write_file(src, "etc/suid", "s\n", 04755);
    char *lnk = esx_path_join(src, "etc/l");
    assert_int_equal(symlink("vmware/x.cfg", lnk), 0);
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    struct esximg_vmtar_topts to = {.mtime = 1234567890};
    const char *paths[] = {"./etc/vmware/x.cfg", "etc"};
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_tree(v, src, paths, 2, &to, &err), 0);
    assert_int_equal(v->entry_count, 5);
    assert_string_equal(v->entries[0].name, "etc/");
    assert_string_equal(v->entries[1].name, "etc/l");
    assert_string_equal(v->entries[2].name, "etc/suid");
    assert_string_equal(v->entries[3].name, "etc/vmware/");
    assert_string_equal(v->entries[4].name, "etc/vmware/x.cfg");
    assert_int_equal(v->entries[4].mode, 01644);
    assert_int_equal(v->entries[3].mode, 0750);
    assert_int_equal(v->entries[4].mtime, 1234567890);
    assert_string_equal(v->entries[1].linkname, "vmware/x.cfg");
    assert_int_equal(esximg_vmtar_extract(v, dst, NULL, &err), 0);
    char *text = tv_slurp(dst, "etc/vmware/x.cfg");
    assert_string_equal(text, "sticky\n");
    free(text);
    assert_int_equal(tv_mode(dst, "etc/vmware/x.cfg") & 07777, 01644);
    assert_int_equal(tv_mode(dst, "etc/suid") & 07777, 0755);    /* setuid dropped */
    assert_int_equal(tv_mode(dst, "etc/vmware") & 07777, 0750);
    assert_true(S_ISLNK(tv_mode(dst, "etc/l")));
    /* only the paths asked for; an unknown one is an error before anything is written */
    char *dst2 = tu_mkdtemp();
    struct esximg_vmtar_xopts xo = {.paths = (const char *[]){"etc/vmware"}, .path_count = 1};
    assert_int_equal(esximg_vmtar_extract(v, dst2, &xo, &err), 0);
    char *p = esx_path_join(dst2, "etc/suid");
    assert_int_equal(access(p, F_OK), -1);
    free(p);
    xo.paths = (const char *[]){"nope"};
    assert_int_equal(esximg_vmtar_extract(v, dst2, &xo, &err), ESXIMG_ENOTFOUND);
    esximg_vmtar_free(v);
    tu_rmtree(src);
    tu_rmtree(dst);
    tu_rmtree(dst2);
    free(src);
    free(dst);
    free(dst2);
    free(sub);
    free(etc);
    free(lnk);
}

static void vmtar_extract_refuses_escaping_links(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_check_link("a/l", "../b", &err), 0);
    assert_int_equal(esximg_vmtar_check_link("a/b/l", "../../c/d", &err), 0);
    assert_int_equal(esximg_vmtar_check_link("l", "x/./y", &err), 0);
    assert_int_equal(esximg_vmtar_check_link("a/l", "../../x", &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "entry 'a/l'"));
    assert_int_equal(esximg_vmtar_check_link("l", "/etc/passwd", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esximg_vmtar_check_link("a/l", "up/..", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esximg_vmtar_check_link("./l", "..", &err), ESXIMG_EUNSAFE);
    assert_int_equal(esximg_vmtar_check_link("l", "", &err), ESXIMG_EUNSAFE);

    char *dst = tu_mkdtemp();
    struct esximg_vmtar *v;
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "a/ok", NULL, "x", 1, &err), 0);
    assert_int_equal(esximg_vmtar_add_symlink(v, "a/l", "../../etc", NULL, &err), 0);
    assert_int_equal(esximg_vmtar_extract(v, dst, NULL, &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "'a/l'"));
    char *p = esx_path_join(dst, "a");
    assert_int_equal(access(p, F_OK), -1);                   /* nothing written */
    free(p);
    esximg_vmtar_free(v);
    tu_rmtree(dst);
    free(dst);
}

static void vmtar_extract_never_follows_existing_symlinks(void **state)
{
    (void)state;
    char *dst = tu_mkdtemp(), *outside = tu_mkdtemp();
    char *lnk = esx_path_join(dst, "etc");
    assert_int_equal(symlink(outside, lnk), 0);
    struct esximg_vmtar *v = tv_model();
    struct esximg_err err = {0};
    assert_int_equal(esximg_vmtar_extract(v, dst, NULL, &err), ESXIMG_EUNSAFE);
    assert_non_null(strstr(err.msg, "symlink"));
    char *p = esx_path_join(outside, "a.conf");
    assert_int_equal(access(p, F_OK), -1);
    free(p);
    /* a symlink at a file's place is replaced, not written through */
    char *target = esx_path_join(outside, "victim");
    tv_write_file(outside, "victim", "keep\n", 0644);
    assert_int_equal(unlink(lnk), 0);
    assert_int_equal(mkdir(lnk, 0755), 0);
    char *conf = esx_path_join(dst, "etc/a.conf");
    assert_int_equal(symlink(target, conf), 0);
    assert_int_equal(esximg_vmtar_extract(v, dst, NULL, &err), 0);
    char *text = tv_slurp(outside, "victim");
    assert_string_equal(text, "keep\n");
    free(text);
    text = tv_slurp(dst, "etc/a.conf");
    assert_string_equal(text, "hello\n");
    free(text);
    assert_false(S_ISLNK(tv_mode(dst, "etc/a.conf")));
    esximg_vmtar_free(v);
    tu_rmtree(dst);
    tu_rmtree(outside);
    free(dst);
    free(outside);
    free(lnk);
    free(target);
    free(conf);
}

static void vmtar_limits_entry_count(void **state)
{
    (void)state;
    struct esximg_vmtar *v;
    struct esximg_err err = {0};
    uint8_t *one;
    size_t one_len;
    assert_int_equal(esximg_vmtar_new(&v, &err), 0);
    assert_int_equal(esximg_vmtar_add_file(v, "a", NULL, NULL, 0, &err), 0);
    assert_int_equal(esximg_vmtar_write(v, NULL, &one, &one_len, &err), 0);
    size_t n = ESX_MAX_ARCHIVE_ENTRIES + 1;
    uint8_t *many = calloc(n + 1, BLK);
    assert_non_null(many);
    for (size_t i = 0; i < n; i++)
        memcpy(many + i * BLK, one, BLK);
    tv_expect_fail(many, (n + 1) * BLK, ESXIMG_ELIMIT, "ESX_MAX_ARCHIVE_ENTRIES");
    /* one fewer is fine */
    memset(many + (n - 1) * BLK, 0, BLK);
    struct esximg_vmtar *r;
    assert_int_equal(tv_read(many, n * BLK, &r, &err), 0);
    assert_int_equal(r->entry_count, ESX_MAX_ARCHIVE_ENTRIES);
    esximg_vmtar_free(r);
    free(many);
    free(one);
    esximg_vmtar_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vmtar_valid_archive_round_trips),
        cmocka_unit_test(vmtar_keeps_page_alignment_of_shared_files),
        cmocka_unit_test(vmtar_scan_stops_after_the_last_wanted_content),
        cmocka_unit_test(vmtar_scan_takes_only_the_head),
        cmocka_unit_test(vmtar_reads_gzip_and_writes_deterministically),
        cmocka_unit_test(vmtar_rejects_truncated_header),
        cmocka_unit_test(vmtar_rejects_bad_checksum),
        cmocka_unit_test(vmtar_accepts_signed_checksum),
        cmocka_unit_test(vmtar_keeps_mixed_checksums),
        cmocka_unit_test(vmtar_rejects_offset_past_end),
        cmocka_unit_test(vmtar_rejects_offset_inside_headers),
        cmocka_unit_test(vmtar_rejects_overlapping_contents),
        cmocka_unit_test(vmtar_rejects_overflowing_size),
        cmocka_unit_test(vmtar_rejects_name_without_nul),
        cmocka_unit_test(vmtar_rejects_escaping_names),
        cmocka_unit_test(vmtar_refuses_other_types),
        cmocka_unit_test(vmtar_sniffs_and_refuses_tar),
        cmocka_unit_test(vmtar_recognises_signature_trailer),
        cmocka_unit_test(vmtar_detects_padding),
        cmocka_unit_test(vmtar_places_contents_at_exact_offsets),
        cmocka_unit_test(vmtar_notes_inexact_layouts),
        cmocka_unit_test(vmtar_empty_archive_round_trips),
        cmocka_unit_test(vmtar_builder_checks_and_sorts),
        cmocka_unit_test(vmtar_builds_tree_and_extracts_it),
        cmocka_unit_test(vmtar_extract_refuses_escaping_links),
        cmocka_unit_test(vmtar_extract_never_follows_existing_symlinks),
        cmocka_unit_test(vmtar_limits_entry_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
