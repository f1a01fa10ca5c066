/* esximg/elf.h: the one ELF fact esximg needs: which machine a file was built for.
 *
 * ESXi kernel modules (in usr/lib/vmware/vmkmod/) are ELF relocatable files; an ESXi-Arm driver
 * carries e_machine EM_AARCH64 (183) and never loads on an x86 image, whose modules are
 * EM_X86_64 (62).  The boot kernel b.b00 of an x86 image is a 32-bit x86 ELF (EM_386, 3: the
 * 6.7 U3 B.B00 in the samples).  Only the identification bytes and e_machine are read (the
 * first 20 bytes), whatever the file's size. */
#ifndef ESXIMG_ELF_H
#define ESXIMG_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESXIMG_ELF_HEAD 64u     /* bytes of a file that hold every field read here */

enum esximg_elf_machine {
    ESXIMG_EM_386 = 3,
    ESXIMG_EM_ARM = 40,
    ESXIMG_EM_X86_64 = 62,
    ESXIMG_EM_AARCH64 = 183,
};

/* True when the bytes start with the ELF magic "\x7fELF". */
bool esximg_elf_sniff(const void *data, size_t len);

/* The e_machine of an ELF file from its first bytes (at least 20 of them), read in the byte
 * order its EI_DATA gives.  EFORMAT when the magic, class or byte order is wrong or the bytes
 * are too few. */
int esximg_elf_machine(const void *data, size_t len, uint16_t *machine, struct esximg_err *err);

/* "x86-64", "AArch64", "i386", "ARM", else NULL. */
const char *esximg_elf_machine_name(uint16_t machine);

/* The machine's name, or "machine N" written into buf (at least 24 bytes). */
const char *esximg_elf_machine_text(uint16_t machine, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
