/* esximg/isowrite.h: writing an edited copy of an installer ISO.
 *
 * esximg_iso_write() copies an ISO 9660 image and applies a list of changes: files added,
 * files whose content is replaced, files removed.  By default the copy grows the input the way
 * a new ISO 9660 session does: the input's bytes are copied unchanged (in the kernel, with
 * copy_file_range), then the new and replaced file contents, a new directory tree and a new
 * El Torito catalog are appended after them, and fresh volume descriptors are written over
 * blocks 16.. of the copy to point at the new tree.  Every unchanged file keeps its block
 * address, the boot images among them, so ISOLINUX.BIN's boot info table (which names its own
 * block) stays valid without patching.  The blocks of removed and replaced files stay in the
 * output, unused; `full_rewrite` writes a compact, self-contained image instead, at the cost of
 * rewriting every byte (slower; boot info tables are then patched anew).
 *
 * The output keeps the input's flavour: Rock Ridge, Joliet and ISO 9660:1999 trees only when
 * the input has them, the ISO level of its names, the volume, system, application, publisher,
 * data preparer and volume set ids, the system area (blocks 0 to 15, copied verbatim) and the
 * El Torito entries (platform ids, emulation, load segment and size, boot image blocks).
 * Before the output is committed it is read back and checked against the input and the
 * changes (every kept file at its old block with its old size, the new files present, the
 * same boot entries and ids); a mismatch is an error and leaves nothing behind.
 *
 * ESXi's UEFI loader (esx-boot uefi/iso9660) reads single-extent files only and keeps
 * directory record offsets in 32 bits, so the writer never writes a file of 4 GiB or more
 * (which needs two extents, ISO 9660 level 3), keeps none of several extents from the input,
 * and never writes a directory record at or beyond byte 4 GiB of the image: ELIMIT, naming
 * the file or directory and the limit, before the output is created (a grown image whose
 * new session would start beyond the limit), else when the written output is checked.
 *
 * The output goes through esximg_outfile (temporary file beside it, fsync, rename); the input
 * is only ever opened read-only and may not be the output.  Same input, changes and options
 * give the same bytes.  Memory use does not grow with the size of the image. */
#ifndef ESXIMG_ISOWRITE_H
#define ESXIMG_ISOWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_hybrid;           /* esximg/isohybrid.h */
struct esximg_iso;              /* esximg/iso.h */

enum esximg_iso_change_kind {
    ESXIMG_ISO_ADD = 1,     /* a new file; its parent directories are created when missing */
    ESXIMG_ISO_REPLACE,     /* new content for an existing file */
    ESXIMG_ISO_REMOVE,      /* drop an existing file from the tree */
};

struct esximg_iso_change {
    enum esximg_iso_change_kind kind;
    /* Absolute path in the image, "/NEW.V00" or "/EFI/BOOT/BOOT.CFG".  REPLACE and REMOVE find
     * the file ignoring ASCII case, as esximg_iso_find() does.  An ADD path must not name an
     * existing entry in any case, and on a plain ISO 9660 image (no Rock Ridge, no Joliet) each
     * new name must be valid at the image's level as it stands (level 1: upper-case 8.3
     * d-characters, directories 8 d-characters), since it is not translated. */
    const char *iso_path;
    /* ADD and REPLACE: the content, either `len` bytes at `data` (borrowed for the call;
     * NULL only when len is 0), or, when src_path is set, the whole content of that regular
     * file, read during the call. */
    const void *data;
    size_t len;
    const char *src_path;
};

struct esximg_iso_wopts {
    /* Seconds since the epoch (the caller's SOURCE_DATE_EPOCH or a date of the input): the
     * recording date of new and replaced files and of new directories, and the volume
     * creation and modification dates unless keep_volume_dates. */
    int64_t mtime;
    /* Copy the input's four volume dates (creation, modification, expiration, effective)
     * into the new primary volume descriptor, byte for byte. */
    bool keep_volume_dates;
    /* Write a self-contained image from block 0 instead of growing the input. */
    bool full_rewrite;
    /* Mode of the output file before the umask; 0 means 0644. */
    unsigned mode;
    /* Called from the calling thread as bytes reach the output: done grows to total. */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    /* The byte offset at or beyond which no directory record may be written; 0 means
     * ESXIMG_ISO_MAX_DIR_RECORD_OFFSET (4 GiB), the limit of ESXi's UEFI ISO 9660 driver.
     * Only tests set a lower one, to meet the limit without 4 GiB of data. */
    uint64_t max_dir_record_offset;
    /* When set, the checked output is made hybrid before it is committed (MBR, GPT and
     * padding: esximg/isohybrid.h); borrowed for the call. */
    const struct esximg_hybrid *hybrid;
    /* The input as esximg_iso_open() read it from in_path (borrowed for the call), so that it
     * is not parsed again; NULL: it is read here.  Its size must still be that of in_path. */
    const struct esximg_iso *input;
};

/* Writes `in_path` with the `n` changes applied to `out_path` (see above).  opts may be NULL:
 * mtime 0, grow the input, mode 0644, no progress.  A change that cannot apply (a bad or
 * duplicate path, a missing file, a name that the image's level cannot hold, an El Torito boot
 * image or the boot catalog named by REPLACE or REMOVE) fails before the output is created.
 * err->file names the input, the output or a change's src_path, whichever failed. */
int esximg_iso_write(const char *in_path, const struct esximg_iso_change *changes, size_t n,
                     const struct esximg_iso_wopts *opts, const char *out_path,
                     struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
