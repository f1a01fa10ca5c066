/* test_bootinfo.c: the El Torito boot info table: its checksum against a byte-wise sum
 * written here, patching and telling a patched image, putting back each known build form
 * (Debian's isolinux.bin as the real case), and the bounds (short, odd and oversized images). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/bootinfo.h"
#include "testutil.h"

#define DEBIAN_ISOLINUX "/usr/lib/ISOLINUX/isolinux.bin"

/* The checksum as the definition says it, a byte at a time: byte i (from 64) weighs
 * 256^((i - 64) % 4), sums wrap at 2^32.  No word loads, so it shares nothing with the
 * library's loop. */
static uint32_t bytewise_checksum(const uint8_t *image, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 64; i < len; i++)
        sum += (uint32_t)image[i] << (8 * ((i - 64) % 4));
    return sum;
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *pattern_image(size_t len, unsigned seed)
{
    uint8_t *image = malloc(len);
    assert_non_null(image);
    for (size_t i = 0; i < len; i++)
        image[i] = (uint8_t)(i * 7 + seed + (i >> 8));
    return image;
}

static const struct esximg_bootinfo_form *form_named(const char *name)
{
    size_t n = 0;
    const struct esximg_bootinfo_form *forms = esximg_bootinfo_forms(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(forms[i].name, name))
            return &forms[i];
    fail_msg("no form '%s'", name);
    return NULL;
}

static void bootinfo_checksum_of_fixed_vectors(void **state)
{
    (void)state;
    uint8_t image[68] = {0};
    uint32_t sum = 1;
    assert_int_equal(esximg_bootinfo_checksum(image, 64, &sum, NULL), 0);
    assert_int_equal(sum, 0);                   /* nothing after the table */
    image[64] = 0x01, image[65] = 0x02, image[66] = 0x03, image[67] = 0x04;
    assert_int_equal(esximg_bootinfo_checksum(image, 68, &sum, NULL), 0);
    assert_int_equal(sum, 0x04030201u);
    image[8] = 0xff;                            /* the table itself is not summed */
    assert_int_equal(esximg_bootinfo_checksum(image, 68, &sum, NULL), 0);
    assert_int_equal(sum, 0x04030201u);
    /* a last partial word counts as padded with zeros (libisofs does the same) */
    assert_int_equal(esximg_bootinfo_checksum(image, 66, &sum, NULL), 0);
    assert_int_equal(sum, 0x0201u);
    assert_int_equal(esximg_bootinfo_checksum(image, 67, &sum, NULL), 0);
    assert_int_equal(sum, 0x030201u);
}

static void bootinfo_checksum_wraps_like_a_bytewise_sum(void **state)
{
    (void)state;
    static const size_t lens[] = {64, 65, 66, 67, 2048, 2051, 14336, 38913};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        uint8_t *image = pattern_image(lens[k], (unsigned)k);
        memset(image + 64, 0xff, lens[k] > 1024 ? 1024 : lens[k] - 64);   /* force wraps */
        uint32_t sum = 0;
        assert_int_equal(esximg_bootinfo_checksum(image, lens[k], &sum, NULL), 0);
        assert_int_equal(sum, bytewise_checksum(image, lens[k]));
        free(image);
    }
}

static void bootinfo_refuses_short_and_oversized_images(void **state)
{
    (void)state;
    uint8_t small[63] = {0};
    struct esximg_err err = {0};
    uint32_t sum = 0;
    struct esximg_bootinfo t;
    assert_int_equal(esximg_bootinfo_checksum(small, sizeof small, &sum, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "63 bytes"));
    assert_int_equal(esximg_bootinfo_read(small, 0, &t, NULL), ESXIMG_EFORMAT);
    assert_int_equal(esximg_bootinfo_patch(small, sizeof small, 16, 20, NULL), ESXIMG_EFORMAT);
    assert_int_equal(esximg_bootinfo_unpatch(small, sizeof small, form_named("syslinux-asm"),
                                             NULL), ESXIMG_EFORMAT);
    assert_false(esximg_bootinfo_matches(small, sizeof small));
    for (size_t i = 0; i < sizeof small; i++)
        assert_int_equal(small[i], 0);          /* nothing written on refusal */
    size_t big_len = ((size_t)4 << 20) + 4;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    assert_int_equal(esximg_bootinfo_patch(big, big_len, 16, 20, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "limit"));
    assert_int_equal(get_le32(big + 16), 0);
    assert_int_equal(esximg_bootinfo_patch(big, big_len - 4, 16, 20, NULL), 0);  /* at 4 MiB */
    assert_true(esximg_bootinfo_matches(big, big_len - 4));
    free(big);
}

static void bootinfo_patch_writes_the_table_and_matches(void **state)
{
    (void)state;
    const size_t len = 2051;
    uint8_t *image = pattern_image(len, 3);
    uint8_t *before = malloc(len);
    assert_non_null(before);
    memcpy(before, image, len);
    assert_false(esximg_bootinfo_matches(image, len));
    assert_int_equal(esximg_bootinfo_patch(image, len, 16, 34, NULL), 0);
    assert_int_equal(get_le32(image + 8), 16);
    assert_int_equal(get_le32(image + 12), 34);
    assert_int_equal(get_le32(image + 16), len);
    assert_int_equal(get_le32(image + 20), bytewise_checksum(before, len));
    for (size_t i = 24; i < 64; i++)
        assert_int_equal(image[i], 0);          /* reserved, zeroed as ISO writers do */
    assert_memory_equal(image, before, 8);      /* nothing else changes */
    assert_memory_equal(image + 64, before + 64, len - 64);
    struct esximg_bootinfo t;
    assert_int_equal(esximg_bootinfo_read(image, len, &t, NULL), 0);
    assert_int_equal(t.pvd_block, 16);
    assert_int_equal(t.image_block, 34);
    assert_int_equal(t.length, len);
    assert_true(esximg_bootinfo_matches(image, len));
    image[len - 1] ^= 1;                        /* content changed: the checksum no longer */
    assert_false(esximg_bootinfo_matches(image, len));
    image[len - 1] ^= 1;
    assert_false(esximg_bootinfo_matches(image, len - 4));   /* the length no longer */
    free(before);
    free(image);
}

/* Each form, put into an image, survives an ISO writer's patch and comes back whole; put back
 * with the other form, it does not. */
static void bootinfo_unpatch_gives_each_form_back(void **state)
{
    (void)state;
    size_t n = 0;
    const struct esximg_bootinfo_form *forms = esximg_bootinfo_forms(&n);
    assert_true(n >= 2);
    const size_t len = 14336;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(forms[i].name);
        assert_non_null(forms[i].source);
        uint8_t *original = pattern_image(len, (unsigned)i);
        assert_int_equal(esximg_bootinfo_unpatch(original, len, &forms[i], NULL), 0);
        uint8_t *on_iso = malloc(len);
        assert_non_null(on_iso);
        memcpy(on_iso, original, len);
        assert_int_equal(esximg_bootinfo_patch(on_iso, len, 16, 1234, NULL), 0);
        assert_memory_not_equal(on_iso, original, 64);
        for (size_t j = 0; j < n; j++) {
            uint8_t *back = malloc(len);
            assert_non_null(back);
            memcpy(back, on_iso, len);
            assert_int_equal(esximg_bootinfo_unpatch(back, len, &forms[j], NULL), 0);
            if (i == j)
                assert_memory_equal(back, original, len);
            else
                assert_memory_not_equal(back, original, 64);
            free(back);
        }
        free(on_iso);
        free(original);
    }
}

static void bootinfo_asm_form_is_deadbeef(void **state)
{
    (void)state;
    uint8_t image[128];
    memset(image, 0x5a, sizeof image);
    assert_int_equal(esximg_bootinfo_unpatch(image, sizeof image, form_named("syslinux-asm"),
                                             NULL), 0);
    assert_int_equal(get_le32(image + 8), 16);
    assert_int_equal(get_le32(image + 12), 0);
    for (size_t off = 16; off < 64; off += 4)
        assert_int_equal(get_le32(image + off), 0xdeadbeefu);
    assert_int_equal(image[7], 0x5a);
    assert_int_equal(image[64], 0x5a);
}

/* Debian's isolinux.bin is the checksumiso form: length and checksum filled, both blocks as
 * the source has them, ten reserved 0xdeadbeef; a copy patched as an ISO holds it comes back
 * byte for byte. */
static void bootinfo_debian_isolinux_is_the_checksumiso_form(void **state)
{
    (void)state;
    FILE *f = fopen(DEBIAN_ISOLINUX, "rb");
    if (!f)
        skip();
    fclose(f);
    uint8_t *bin = NULL;
    size_t len = 0;
    tu_read_file(DEBIAN_ISOLINUX, &bin, &len);
    assert_true(len > 2048);
    assert_int_equal(get_le32(bin + 8), 16);
    assert_int_equal(get_le32(bin + 12), 0);
    assert_int_equal(get_le32(bin + 16), len);
    assert_int_equal(get_le32(bin + 20), bytewise_checksum(bin, len));
    for (size_t off = 24; off < 64; off += 4)
        assert_int_equal(get_le32(bin + off), 0xdeadbeefu);
    assert_true(esximg_bootinfo_matches(bin, len));
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, bin, len);
    assert_int_equal(esximg_bootinfo_patch(copy, len, 16, 41, NULL), 0);
    assert_memory_not_equal(copy, bin, len);
    assert_int_equal(esximg_bootinfo_unpatch(copy, len, form_named("syslinux-checksumiso"),
                                             NULL), 0);
    assert_memory_equal(copy, bin, len);
    free(copy);
    free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bootinfo_checksum_of_fixed_vectors),
        cmocka_unit_test(bootinfo_checksum_wraps_like_a_bytewise_sum),
        cmocka_unit_test(bootinfo_refuses_short_and_oversized_images),
        cmocka_unit_test(bootinfo_patch_writes_the_table_and_matches),
        cmocka_unit_test(bootinfo_unpatch_gives_each_form_back),
        cmocka_unit_test(bootinfo_asm_form_is_deadbeef),
        cmocka_unit_test(bootinfo_debian_isolinux_is_the_checksumiso_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
