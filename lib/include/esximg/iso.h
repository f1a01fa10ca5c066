/* esximg/iso.h: reading an installer ISO (ISO 9660, Rock Ridge/Joliet when present, El Torito).
 *
 * esximg_iso_open() loads the directory tree and the boot catalog into a plain model; file
 * contents stay on the image and are read on demand, whole (esximg_iso_read_file) or as a
 * stream (esximg_iso_reader_*), so a large module can be inflated partially.
 *
 * The reader sits on libisofs.  libisofs needs one process-wide initialisation: the library
 * does it on first use, once (guarded by pthread_once), without reading the locale from the
 * environment and with libisofs' own message printing turned off.  That is the one piece of
 * global state of libesximg. */
#ifndef ESXIMG_ISO_H
#define ESXIMG_ISO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESXIMG_ISO_BLOCK 2048u

enum esximg_iso_type {
    ESXIMG_ISO_FILE = 0,
    ESXIMG_ISO_DIR,
    ESXIMG_ISO_SYMLINK,    /* Rock Ridge only */
    ESXIMG_ISO_BOOTCAT,    /* the El Torito boot catalog */
    ESXIMG_ISO_SPECIAL,    /* Rock Ridge device, fifo or socket */
};

/* ESXi's UEFI loader reads directory records below this byte offset only (esx-boot
 * uefi/iso9660 caches them by a 32-bit offset). */
#define ESXIMG_ISO_MAX_DIR_RECORD_OFFSET ((uint64_t)1 << 32)

struct esximg_iso_entry {
    char *path;             /* "/EFI/BOOT/BOOT.CFG": absolute, as recorded (";1" stripped,
                               case kept; the Rock Ridge or Joliet name when present) */
    enum esximg_iso_type type;
    unsigned depth;         /* 1 for the children of the root */
    uint64_t size;          /* bytes of content (files and the boot catalog) */
    uint32_t lba;           /* first 2048-byte block of the content; 0 when none */
    uint32_t extents;       /* number of extents; more than 1 only for multi-extent files */
};

enum esximg_iso_emulation {
    ESXIMG_ISO_NO_EMUL = 0,
    ESXIMG_ISO_FLOPPY_EMUL,
    ESXIMG_ISO_HARD_DISK_EMUL,
};

struct esximg_iso_boot {
    uint8_t platform_id;    /* 0x00 x86 BIOS, 0xEF UEFI, as in the catalog */
    enum esximg_iso_emulation emulation;
    bool bootable;          /* boot indicator 0x88 */
    bool boot_info_table;   /* the image holds a boot info table that matches the ISO */
    uint16_t load_seg;      /* 0 means the default 0x7C0 */
    uint32_t load_size;     /* 512-byte sectors to load, as recorded */
    uint32_t lba;           /* first block of the boot image; 0 when unknown */
    char *path;             /* the boot image's entry in the tree; NULL when hidden */
};

struct esximg_iso_state;    /* private: the libisofs objects */

struct esximg_iso {
    /* Primary Volume Descriptor (Joliet's when libisofs prefers it); never NULL, "" when
       empty, trailing spaces removed */
    char *volume_id;
    char *system_id;
    char *application_id;
    char *publisher_id;
    char *data_preparer_id;
    char *volset_id;
    uint64_t image_bytes;   /* size of the file or buffer */
    uint32_t volume_blocks; /* volume space size the image claims, in 2048-byte blocks */
    bool rockridge;         /* present (and used for names) */
    bool joliet;            /* present */
    bool iso1999;           /* an ISO 9660:1999 tree is present */
    bool eltorito;          /* a boot catalog is present */
    /* Names as a plain ISO 9660 reader sees them, when neither Rock Ridge nor Joliet is
       present: 1 = every name is upper-case 8.3 d-characters, 2 = longer or other names,
       3 = some file has several extents.  0 when Rock Ridge or Joliet names are in use. */
    int iso_level;
    /* The volume descriptors as ESXi's UEFI ISO 9660 driver reads them (esx-boot
       uefi/iso9660): from block 16 until the terminator or an identifier not starting "CD",
       the LAST primary one winning, where libisofs (and this reader) take the first. */
    uint32_t pvd_count;         /* primary volume descriptors in that run */
    uint32_t first_pvd_block, last_pvd_block;
    bool last_pvd_differs;      /* the last names another root directory or volume size */
    /* The directory record at the highest byte offset of the image, over the plain ISO 9660
       trees of every primary volume descriptor (ESXi reads no Joliet): its offset and the directory whose listing holds it ("/" for the root).
       ESXi's UEFI driver caches records by a 32-bit byte offset: at 4 GiB or beyond they
       can be confused. */
    uint64_t last_dir_record;
    char *last_dir_record_dir;  /* never NULL */
    char *bootcat_path;     /* NULL when there is no catalog or it is hidden */
    uint32_t bootcat_lba;
    struct esximg_iso_boot *boots;      /* catalog order: the default entry first */
    size_t n_boots;
    struct esximg_iso_entry *entries;   /* depth first, each directory before its children,
                                           children in libisofs order (by name); no root */
    size_t n_entries;
    struct esximg_iso_state *state;
};

/* Limits on what open accepts; zero fields mean the library's defaults. */
struct esximg_iso_ropts {
    uint64_t max_entries;   /* files + directories; default ESX_MAX_ISO_ENTRIES (100000) */
    unsigned max_depth;     /* directory nesting; default ESX_MAX_ISO_DEPTH (32) */
};

/* Opens an ISO image file read-only. err->file is set to path on failure. */
int esximg_iso_open(const char *path, const struct esximg_iso_ropts *opts,
                    struct esximg_iso **out, struct esximg_err *err);

/* Opens an image held in memory. The bytes are borrowed: keep them unchanged until
 * esximg_iso_close(). */
int esximg_iso_open_memory(const void *data, size_t len, const struct esximg_iso_ropts *opts,
                           struct esximg_iso **out, struct esximg_err *err);

/* Frees the model and closes the image. NULL does nothing. */
void esximg_iso_close(struct esximg_iso *iso);

/* The entry whose path equals `path` ignoring ASCII case, as ESXi's loaders look names up
 * ("/b.b00" finds "/B.B00"); the leading '/' is optional.  An exact match wins over a
 * case-insensitive one.  NULL when there is none.  Borrowed from iso. */
const struct esximg_iso_entry *esximg_iso_find(const struct esximg_iso *iso, const char *path);

/* Reads a whole file (found as by esximg_iso_find) of at most max_bytes (ELIMIT beyond).
 * The caller frees *data; *data is NUL-terminated one byte past *len for text parsers. */
int esximg_iso_read_file(struct esximg_iso *iso, const char *path, uint64_t max_bytes,
                         uint8_t **data, size_t *len, struct esximg_err *err);

/* A sequential reader over one file.  One reader per file at a time. */
struct esximg_iso_reader;
int esximg_iso_reader_open(struct esximg_iso *iso, const char *path,
                           struct esximg_iso_reader **out, struct esximg_err *err);
/* Reads up to n bytes; *got = 0 at the end of the file.  A file that ends early (truncated
 * image) is an error, never a short success. */
int esximg_iso_reader_read(struct esximg_iso_reader *r, void *buf, size_t n, size_t *got,
                           struct esximg_err *err);
/* The entry being read (borrowed). */
const struct esximg_iso_entry *esximg_iso_reader_entry(const struct esximg_iso_reader *r);
void esximg_iso_reader_close(struct esximg_iso_reader *r);

#ifdef __cplusplus
}
#endif
#endif
