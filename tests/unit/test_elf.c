/* test_elf.c: the ELF machine of a file from its first bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/elf.h"
#include "testutil.h"

/* A minimal ELF64 header of a relocatable file for `machine`, in the given byte order. */
static void elf64(uint8_t out[64], uint16_t machine, bool big_endian)
{
    memset(out, 0, 64);
    memcpy(out, "\x7f" "ELF", 4);
    out[4] = 2;
    out[5] = big_endian ? 2 : 1;
    out[6] = 1;
    out[big_endian ? 17 : 16] = 1;                      /* ET_REL */
    out[big_endian ? 18 : 19] = (uint8_t)(machine >> 8);
    out[big_endian ? 19 : 18] = (uint8_t)machine;
}

static void elf_reads_the_machine(void **state)
{
    (void)state;
    uint8_t h[64];
    uint16_t m = 0;
    elf64(h, ESXIMG_EM_AARCH64, false);
    assert_true(esximg_elf_sniff(h, sizeof h));
    assert_int_equal(esximg_elf_machine(h, sizeof h, &m, NULL), 0);
    assert_int_equal(m, 183);
    assert_string_equal(esximg_elf_machine_name(m), "AArch64");
    elf64(h, ESXIMG_EM_X86_64, true);
    assert_int_equal(esximg_elf_machine(h, 20, &m, NULL), 0);
    assert_int_equal(m, 62);
    assert_string_equal(esximg_elf_machine_name(m), "x86-64");
    char buf[24];
    assert_string_equal(esximg_elf_machine_text(4660, buf, sizeof buf), "machine 4660");
    assert_null(esximg_elf_machine_name(4660));
}

static void elf_refuses_what_is_not_elf(void **state)
{
    (void)state;
    uint8_t h[64];
    uint16_t m = 7;
    struct esximg_err err = {0};
    elf64(h, ESXIMG_EM_X86_64, false);
    assert_int_equal(esximg_elf_machine(h, 19, &m, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_false(esximg_elf_sniff(h, 3));
    h[4] = 3;
    assert_int_equal(esximg_elf_machine(h, sizeof h, &m, &err), ESXIMG_EFORMAT);
    h[4] = 2;
    h[5] = 0;
    assert_int_equal(esximg_elf_machine(h, sizeof h, &m, &err), ESXIMG_EFORMAT);
    assert_int_equal(esximg_elf_machine("#!/bin/sh\n" "0123456789", 20, &m, &err),
                     ESXIMG_EFORMAT);
    assert_false(esximg_elf_sniff(NULL, 0));
    assert_int_equal(m, 7);                             /* untouched on failure */
}

/* The real 6.7 U3 boot kernel b.b00 (gzip'd): a 32-bit x86 ELF, EM_386. */
static void elf_reads_a_real_kernel(void **state)
{
    (void)state;
    char *path = tu_sample_path("ForceFledgling__esxi-unsupported-cpu-mod/src/original/6.7.0u3/"
                                "B.B00");
    if (!path)
        skip();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    uint8_t head[ESXIMG_ELF_HEAD];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    pclose(f);
    uint16_t m;
    assert_int_equal(esximg_elf_machine(head, sizeof head, &m, NULL), 0);
    assert_int_equal(m, ESXIMG_EM_386);
    assert_int_equal(head[4], 1);                       /* ELFCLASS32 */
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elf_reads_the_machine),
        cmocka_unit_test(elf_refuses_what_is_not_elf),
        cmocka_unit_test(elf_reads_a_real_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
