/* esximg/io.h: reading inputs and writing outputs safely.
 *
 * Outputs go to a temporary file beside the target, are fsync'd, and are renamed over the target
 * only on commit; on abort (or any error) nothing is left behind.  Inputs are only ever opened
 * read-only. */
#ifndef ESXIMG_IO_H
#define ESXIMG_IO_H

#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a whole file of at most max_bytes (0: the library's default limit). The caller frees
 * *data. err->file is set to path on failure. */
int esximg_file_read(const char *path, uint64_t max_bytes, uint8_t **data, size_t *len,
                     struct esximg_err *err);

/* The size of a regular file of at most max_bytes (0: the library's default limit), for a
 * writer that reads it in pieces; refused as esximg_file_read would refuse it, and a file
 * that is not regular (a pipe) is EINVAL.  err->file is set to path on failure. */
int esximg_file_size(const char *path, uint64_t max_bytes, uint64_t *size,
                     struct esximg_err *err);

struct esximg_outfile;

/* Creates a temporary file beside `path` ("-" is refused: write to stdout yourself). */
int esximg_outfile_open(const char *path, unsigned mode, struct esximg_outfile **out,
                        struct esximg_err *err);
int esximg_outfile_write(struct esximg_outfile *of, const void *data, size_t len,
                         struct esximg_err *err);
/* The descriptor of the temporary file, for writers that need it (copy_file_range). */
int esximg_outfile_fd(const struct esximg_outfile *of);
/* fsync, rename over the target, fsync the directory; frees `of` whatever happens. */
int esximg_outfile_commit(struct esximg_outfile *of, struct esximg_err *err);
/* Removes the temporary file and frees `of`. NULL does nothing. */
void esximg_outfile_abort(struct esximg_outfile *of);

/* Writes `len` bytes as the whole new content of `path`, atomically. */
int esximg_file_write(const char *path, const void *data, size_t len, unsigned mode,
                      struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
