/* esximg/modname.h: the names VMware's tools give to image database files and boot modules.
 *
 * - The Python 2 (32-bit) hashes esximage used on 5.x/6.x to name `vibs/<name>-<hash>.xml`
 *   and the profile file, and Python 2's urllib.quote(s, '').
 * - A unique number for the `vibs/` file names of 7.0+ images, where VMware's value is a
 *   randomised 64-bit hash that cannot be reproduced (any unused number works there).
 * - The 8.3 module file of each payload (esximage ImageProfile.GenerateVFATNames): the
 *   payload name cut to 8 bytes, lower-cased, '-' turned into '_', then '.', the first letter
 *   of the payload type and a two-digit lower-case hex counter shared by every name with the
 *   same first part; assigned over the VIBs in bytewise-sorted vib-id order, payloads in
 *   descriptor order; an explicit vfat-name is kept. */
#ifndef ESXIMG_MODNAME_H
#define ESXIMG_MODNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Python 2 hash() of a byte string on a 32-bit build ('' gives 0, -1 becomes -2). Python 2
 * hashes a `str` byte by byte; non-ASCII text is hashed as its (UTF-8) bytes. */
int32_t esximg_modname_py2_hash(const void *s, size_t len);

/* Python 2 hash((a, b)) of a tuple of two byte strings, 32-bit. */
int32_t esximg_modname_py2_hash_pair(const void *a, size_t a_len, const void *b, size_t b_len);

/* Python 2 urllib.quote(s, ''): ASCII letters, digits and "_.-" kept, every other byte
 * written %XX in upper-case hex. *out is malloc'd and NUL-terminated. */
int esximg_modname_url_quote(const void *s, size_t len, char **out, struct esximg_err *err);

/* "<vib_name>-<py2 hash of vib_id>.xml", the `vibs/` file name on 5.x/6.x images (a negative
 * hash gives "--"). vib_name must be non-empty and hold no '/'. */
int esximg_modname_vib_xml(const char *vib_name, const char *vib_id, char **out,
                           struct esximg_err *err);

/* "<vib_name>-<n>.xml" for 7.0+ images: n is the first 8 bytes of SHA-256(vib_id) read
 * big-endian as a signed 64-bit number, plus 1 (wrapping) as long as the name is already one
 * of `used` (compared exactly). Deterministic: the same id and used set give the same name. */
int esximg_modname_vib_xml64(const char *vib_name, const char *vib_id,
                             const char *const *used, size_t used_count, char **out,
                             struct esximg_err *err);

struct esximg_modname_opts {
    bool keep_dash;       /* the 5.0 rule: keep '-' in the first part (ata-pata.v00) */
    bool allow_reserved;  /* esximg_modname_next: allow s, sb, esxcore, esxupdt */
};

/* One payload of esximg_modname_assign: name, type and vfat_name (NULL when absent) are the
 * input; `file` is set on success to a malloc'd name the caller frees. */
struct esximg_modname_payload {
    const char *name;
    const char *type;
    const char *vfat_name;
    char *file;
};

struct esximg_modname_vib {
    const char *vib_id;
    size_t payload_count;
    struct esximg_modname_payload *payloads;
};

/* Names every payload of an image as GenerateVFATNames does (see the top of this file).
 * Counters run past 0x09 in hex (".v0a"); a first part with more than 256 names is ELIMIT;
 * two equal vib-ids or two equal vfat-names (case-insensitive) are EINVAL. On failure no
 * `file` is set. opts may be NULL. */
int esximg_modname_assign(struct esximg_modname_vib *vibs, size_t vib_count,
                          const struct esximg_modname_opts *opts, struct esximg_err *err);

/* The base-module names ESXi's loader demands, under UEFI Secure Boot, signed and loaded
 * once: "s", "sb", "esxcore", "esxupdt", then NULL. */
#define ESXIMG_MODNAME_RESERVED_COUNT 4u
extern const char *const esximg_modname_reserved_names[ESXIMG_MODNAME_RESERVED_COUNT + 1];
/* The one of them that a module path is named like, ignoring case and the last extension
 * ("/S.V01" -> "s", as mboot drops the extension), or NULL. */
const char *esximg_modname_reserved(const char *path);

/* The module file name for one new payload: the same first part, and the smallest counter n
 * for which no name in `used` (profile files and the ISO's file names alike, compared without
 * regard to case, any type letter) is "<first part>.?<n>". Lower case, as BOOT.CFG and the
 * profile write it. Refused (EINVAL): a first part that is not 1-8 of [a-z0-9_] ('-' too with
 * keep_dash), a type not starting with [a-z0-9], and, unless allow_reserved, the first parts
 * of VMware's own base modules: s, sb, esxcore, esxupdt. ELIMIT after 256 names. */
int esximg_modname_next(const char *payload_name, const char *payload_type,
                        const char *const *used, size_t used_count,
                        const struct esximg_modname_opts *opts, char **out,
                        struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
