/* testutil.h: small helpers shared by the cmocka tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "esximg/err.h"

/* The samples folder (ESXIMG_SAMPLES), or NULL when unset/empty/missing. */
const char *tu_samples_dir(void);
/* For samples_*.c mains: prints why and returns 77 (CTest skip) when there are no samples. */
int tu_require_samples(const char *test_name);
/* samples dir + "/" + rel, malloc'd (NULL without samples). */
char *tu_sample_path(const char *rel);
/* Reads a whole file; fails the test when it cannot. */
void tu_read_file(const char *path, uint8_t **data, size_t *len);
/* Lists, sorted, every regular file under dir whose name ends with suffix ("" for all).
 * Returns the count; *paths is a malloc'd array of malloc'd strings (tu_free_list). */
size_t tu_find_files(const char *dir, const char *suffix, char ***paths);
void tu_free_list(char **paths, size_t n);
/* A fresh temporary directory, removed with tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* How many entries dir holds ("." and ".." aside); fails the test when it cannot be read. */
size_t tu_count_files(const char *dir);
/* dir + "/" + name, malloc'd; fails the test when out of memory. */
char *tu_path_join(const char *dir, const char *name);
/* Runs a shell command made like printf; fails the test, naming it, unless it exits 0. */
void tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The fixture a group setup left in *state; skips the test when it left none (the setup
 * found a tool missing). */
void *tu_need_fixture(void **state);

/* SOURCE_DATE_EPOCH of the images tu_make_esx_iso builds: every date in them is this one. */
#define TU_GEN_EPOCH 1600000000
/* Whether tu_make_esx_iso can run: the generator is readable and python3, xorriso,
 * grub-mkimage and mformat are on PATH.  Tests that need an image skip without them. */
bool tu_have_image_tools(void);
/* Builds an ESXi-like installer image at `out` with the test generator, tests/gen/mkesxiso.py
 * (ESXIMG_MKESXISO names another one): `--version VERSION EXTRA_ARGS` (EXTRA_ARGS: "" or more
 * options, as the shell splits them), SOURCE_DATE_EPOCH=TU_GEN_EPOCH, its messages appended to
 * OUT.log.  False when it fails (isolinux or mtools missing as well): the caller skips. */
bool tu_make_esx_iso(const char *version, const char *extra_args, const char *out);

/* One member of a zip made by tu_zip (borrowed). */
struct tu_zip_member {
    const char *name;
    const void *data;
    size_t len;
};
/* A zip of the members, deflated or stored (libarchive's writer; the caller frees). */
uint8_t *tu_zip(const struct tu_zip_member *m, size_t n, bool store, size_t *out_len);
struct esx_buf;
/* Appends one ar member (60-byte header, data, padding) to b (esxi-formats.md 2.1). */
void tu_ar_member(struct esx_buf *b, const char *name, const void *data, size_t len);
/* A tiny valid community VIB: descriptor.xml, an empty sig.pkcs7 and one tgz payload "pl"
 * holding payload_text (the caller frees). */
uint8_t *tu_tiny_vib(const char *name, const char *version, const char *vendor,
                     const char *payload_text, size_t *len);

#endif
