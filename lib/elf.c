/* elf.c: the machine of an ELF file, from its identification bytes and e_machine (the ELF
 * specification's header layout: e_ident[16], e_type u16, e_machine u16). */
#include <stdio.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/elf.h"

#define ELF_EI_CLASS 4          /* 1: 32-bit, 2: 64-bit */
#define ELF_EI_DATA 5           /* 1: little endian, 2: big endian */
#define ELF_E_MACHINE 18        /* the same offset in both classes */

bool esximg_elf_sniff(const void *data, size_t len)
{
    return data && len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0;
}

int esximg_elf_machine(const void *data, size_t len, uint16_t *machine, struct esximg_err *err)
{
    const uint8_t *p = data;
    if (!esximg_elf_sniff(data, len))
        return esximg_err_set(err, ESXIMG_EFORMAT, "not an ELF file");
    if (len < ELF_E_MACHINE + 2)
        return esximg_err_set(err, ESXIMG_EFORMAT, "ELF header is truncated (%zu bytes)", len);
    if (p[ELF_EI_CLASS] != 1 && p[ELF_EI_CLASS] != 2)
        return esximg_err_set(err, ESXIMG_EFORMAT, "ELF class %u is neither 32 nor 64-bit",
                              p[ELF_EI_CLASS]);
    const uint8_t *m = p + ELF_E_MACHINE;
    if (p[ELF_EI_DATA] == 1)
        *machine = (uint16_t)(m[0] | m[1] << 8);
    else if (p[ELF_EI_DATA] == 2)
        *machine = (uint16_t)(m[0] << 8 | m[1]);
    else
        return esximg_err_set(err, ESXIMG_EFORMAT, "ELF byte order %u is unknown",
                              p[ELF_EI_DATA]);
    return 0;
}

const char *esximg_elf_machine_name(uint16_t machine)
{
    switch (machine) {
    case ESXIMG_EM_386:
        return "i386";
    case ESXIMG_EM_ARM:
        return "ARM";
    case ESXIMG_EM_X86_64:
        return "x86-64";
    case ESXIMG_EM_AARCH64:
        return "AArch64";
    default:
        return NULL;
    }
}

const char *esximg_elf_machine_text(uint16_t machine, char *buf, size_t size)
{
    const char *name = esximg_elf_machine_name(machine);
    if (name)
        return name;
    snprintf(buf, size, "machine %u", (unsigned)machine);
    return buf;
}
