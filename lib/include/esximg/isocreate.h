/* esximg/isocreate.h: writing a new installer ISO from a list of files.
 *
 * esximg_iso_create() writes a plain ISO 9660 image as VMware's own ISO writer does
 * (esxi-formats.md §5.1): level 1 names (upper-case 8.3 d-characters, directories 8
 * d-characters) taken as given, no Rock Ridge, no Joliet, the ids the caller gives (VMware:
 * volume id the profile name in upper case, application id "ESXIMAGE", an empty system id),
 * and El Torito: a BIOS no-emulation entry (4 sectors, boot info table patched) and, when
 * present, a UEFI entry (platform 0xEF, no emulation), with the catalog as a file.
 *
 * A file's content comes from memory, from a byte range of a file on disk or from the
 * caller's stream callbacks, so that payloads can be read from where they are without being
 * held in memory; a content may carry the sha-256 it must have, checked on the bytes written
 * (a payload read in place of its bundle has no zip CRC checked).  A range is read with pread
 * while the image is written; a large one (opts->range_copy_min) is instead copied into its
 * place by the kernel once the image is laid out, and hashed from its file on a thread of its
 * own meanwhile: the file must not change during the call (a change of its size or dates
 * fails the call).  Every date is opts->mtime; the same files and options give the same
 * bytes.  The output goes through esximg_outfile (temporary file beside it, renamed on
 * success, nothing left on failure); before it is committed it is read back with
 * esximg_iso_open and checked (every file at its size, the boot entries, the ids) and against
 * the limits of ESXi's UEFI loader that esximg/isowrite.h describes (no file of 4 GiB or
 * more, no directory record at or beyond byte 4 GiB). */
#ifndef ESXIMG_ISOCREATE_H
#define ESXIMG_ISOCREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_hybrid;           /* esximg/isohybrid.h */

enum esximg_content_kind {
    ESXIMG_CONTENT_MEMORY = 0,  /* `len` bytes at `data` */
    ESXIMG_CONTENT_RANGE,       /* `size` bytes at `offset` of the regular file `path` */
    ESXIMG_CONTENT_STREAM,      /* `size` bytes from the callbacks */
};

/* A caller's stream.  open starts (or restarts) the content from its first byte: it may be
 * called more than once.  read gives up to n bytes (*got 0 only at the end).  Both return 0
 * or an esximg_code with err filled.  close ends one open (may be NULL).  The callbacks run
 * on a thread of the writer while the calling thread waits: they must not use state the
 * caller touches meanwhile, and the stream of one file is never used by two threads at once. */
struct esximg_content_ops {
    int (*open)(void *arg, struct esximg_err *err);
    int (*read)(void *arg, void *buf, size_t n, size_t *got, struct esximg_err *err);
    void (*close)(void *arg);
};

/* The content of one file: borrowed for the call. */
struct esximg_content {
    enum esximg_content_kind kind;
    const void *data;           /* MEMORY (NULL only when len is 0) */
    size_t len;
    const char *path;           /* RANGE */
    uint64_t offset;            /* RANGE */
    uint64_t size;              /* RANGE and STREAM: bytes of content, exactly */
    const struct esximg_content_ops *ops;   /* STREAM */
    void *arg;
    /* When set, the sha-256 (64 hex digits) the bytes must have: they are hashed as they are
     * written and a mismatch fails the call, naming `label` (NULL: the iso_path). */
    const char *sha256;
    const char *label;
};

struct esximg_isoc_file {
    /* Absolute path in the image, as recorded: "/B.B00", "/EFI/BOOT/BOOTX64.EFI".  Each name
     * must be level 1 (upper-case 8.3 d-characters; a directory at most 8); the parent
     * directories are made; two files of one path, or a file where a directory is, are EINVAL. */
    const char *iso_path;
    struct esximg_content content;
};

struct esximg_isoc_opts {
    const char *volume_id;      /* at most 32 printable ASCII characters; NULL: "" */
    const char *application_id; /* at most 128; NULL: "" */
    const char *system_id;      /* at most 32; NULL: "" */
    /* El Torito: the BIOS image (no emulation, 4 sectors, boot info table patched) and the
     * UEFI image (platform 0xEF, no emulation), each the iso_path of one of the files, and
     * the catalog's path (a new file); NULL for none.  A catalog needs a BIOS image. */
    const char *bios_boot;
    const char *efi_boot;
    const char *boot_catalog;
    int64_t mtime;              /* every recording date and the volume dates */
    unsigned mode;              /* of the output file before the umask; 0 means 0644 */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    /* 0: ESXIMG_ISO_MAX_DIR_RECORD_OFFSET; tests set a lower one */
    uint64_t max_dir_record_offset;
    /* when set, the checked output is made hybrid before it is committed (borrowed) */
    const struct esximg_hybrid *hybrid;
    /* RANGE contents of at least this many bytes (other than the boot images) are copied into
     * the image by the kernel after libisofs has laid it out (see above); 0 means
     * ESXIMG_ISOC_RANGE_COPY_MIN, UINT64_MAX never.  The bytes written are the same. */
    uint64_t range_copy_min;
};

#define ESXIMG_ISOC_RANGE_COPY_MIN ((uint64_t)1 << 20)

/* Writes the `n` files into a new ISO at out_path (see above).  Bad paths, names, ids, boot
 * images and unreadable contents fail before the output is created, naming the file; a read
 * that fails while writing fails the call and leaves nothing.  err->file names the output or
 * the content file concerned. */
int esximg_iso_create(const struct esximg_isoc_file *files, size_t n,
                      const struct esximg_isoc_opts *opts, const char *out_path,
                      struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
