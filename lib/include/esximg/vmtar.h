/* esximg/vmtar.h: VMware's vmtar archives (the content of `vgz` payloads and `.v00` modules).
 *
 * A vmtar holds all its 512-byte ustar-like headers first (magic "visor " at 257), then a zero
 * block, then the contents at the absolute offsets stored as u32 LE at byte 496 of each header.
 * Reading accepts a raw archive or one gzip member, any content alignment, signed and unsigned
 * header checksums, and a signature trailer after the contents.  Writing from the model with the
 * layout the reader detected gives back the same bytes (see `exact`).
 *
 * Entry types: '0' file, '5' directory, '7' "shared file" (kernel modules, ELF binaries),
 * '2' symbolic link, and NUL (an old-style file).  Hard links, devices, fifos and GNU long names
 * ('L'/'K') are refused as unsupported: no VMware payload uses them and VMware's writers limit
 * names to 99 bytes.  Names must pass the archive path check (no "..", not absolute) when read;
 * symbolic link targets are checked when extracted. */
#ifndef ESXIMG_VMTAR_H
#define ESXIMG_VMTAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- sniffing */

/* What offset 257 of the (decompressed) first header says. */
enum esximg_tar_format {
    ESXIMG_TAR_UNKNOWN = 0,
    ESXIMG_TAR_VMTAR,      /* "visor " */
    ESXIMG_TAR_USTAR,      /* POSIX "ustar\0" */
    ESXIMG_TAR_GNU,        /* GNU "ustar  \0" */
};

/* The format of decompressed bytes (an enum esximg_tar_format value). */
int esximg_vmtar_sniff(const uint8_t *head, size_t n);
/* The same for bytes that may be gzip'd: inflates at most the first header. Sets *gzipped
 * (may be NULL). Corrupt gzip data is ESXIMG_TAR_UNKNOWN. */
int esximg_vmtar_sniff_data(const uint8_t *data, size_t len, bool *gzipped);
/* "vmtar", "POSIX ustar", "GNU tar", "unknown" */
const char *esximg_tar_format_name(int format);

/* ---------------------------------------------------------------- the model */

#define ESXIMG_VMTAR_NAME_MAX 99u      /* bytes of a name or link target (the field has a NUL) */

enum esximg_vmtar_type {
    ESXIMG_VMTAR_OLDFILE = '\0',
    ESXIMG_VMTAR_FILE = '0',
    ESXIMG_VMTAR_SYMLINK = '2',
    ESXIMG_VMTAR_DIR = '5',
    ESXIMG_VMTAR_SHARED = '7',         /* a file VMware marks for direct mapping */
};

struct esximg_vmtar_entry {
    char *name;               /* as stored: directories end with '/', at most 99 bytes */
    char typeflag;            /* enum esximg_vmtar_type */
    uint32_t mode;            /* the mode field: permissions with setuid/setgid/sticky */
    uint32_t uid, gid;
    char *uname, *gname;      /* at most 32 bytes */
    uint64_t size;            /* content bytes (0 for directories and links) */
    uint64_t mtime;           /* seconds since the epoch */
    char *linkname;           /* the link target of a symlink, else normally "" */
    uint32_t offset;          /* u32 at 496: the content offset in the archive as read */
    uint32_t text_offset;     /* u32 at 500, kept */
    uint32_t text_pages;      /* u32 at 504 (set on some ELF binaries), kept */
    uint32_t fixup_pages;     /* u32 at 508, kept */
    uint32_t devmajor, devminor;
    bool dev_digits;          /* devmajor/devminor written as "0000000\0", not all NUL */
    bool signed_checksum;     /* the header checksum was the signed-char sum (only that one
                               * matched); written so again with per_entry_checksums */
    bool canonical;           /* read: the writer formats this header to the same bytes */
    const uint8_t *content;   /* `size` bytes owned by the model; NULL when size is 0 */
    bool content_owned;       /* internal: content is a separate copy, not in `archive` */
    char *source;             /* built by reference: the file holding the `size` bytes, read
                               * only by esximg_vmtar_write_file (owned by the model; then
                               * `content` is NULL), else NULL */
};

/* What the reader found about the archive's layout. */
struct esximg_vmtar_layout {
    uint32_t alignment;       /* 4096, 2048, 1024 or 512 dividing every content offset;
                               * 0 when not even 512 does */
    uint32_t shared_alignment; /* of '7' entries when it differs from `alignment` (4096 in
                               * the 6.5 USB NIC Fling: files at 512, shared files on pages),
                               * else 0 */
    bool signed_checksums;    /* some header needs the signed sum and none the unsigned one */
    bool mixed_checksums;     /* some headers need the signed sum, others the unsigned one */
    uint64_t headers_end;     /* entries * 512: where the end-of-headers block starts */
    uint64_t data_start;      /* the first content offset (or the body end without contents) */
    uint64_t data_end;        /* the end of the last content */
    uint64_t padding;         /* zero bytes after data_end before the trailer */
    bool padded_to_512;       /* padding brings the body to a multiple of 512 */
    bool signature_trailer;   /* the trailer is a recognised module signature */
    /* exact: writing with esximg_vmtar_layout_wopts (keep_trailer on) reproduces the
     * decompressed bytes; inexact_why says why not (a static string), else NULL */
    bool exact;
    const char *inexact_why;
};

struct esximg_vmtar {
    size_t entry_count;
    struct esximg_vmtar_entry *entries;     /* in archive order */
    struct esximg_vmtar_layout layout;
    bool gzipped;                           /* the input was one gzip member */
    uint8_t *archive;                       /* the decompressed bytes read (NULL when built) */
    size_t archive_len;
    const uint8_t *trailer;                 /* bytes after the contents and padding, into
                                             * `archive`; trailer_len 0 when none */
    size_t trailer_len;
    size_t entry_cap;                       /* internal */
};

/* Reads a vmtar from raw or gzip'd bytes (one gzip member, nothing after it). The model keeps
 * its own copy of the decompressed bytes. Refuses a ustar or GNU tar (EFORMAT naming it). */
int esximg_vmtar_read(const void *data, size_t len, struct esximg_vmtar **out,
                      struct esximg_err *err);
void esximg_vmtar_free(struct esximg_vmtar *v);
/* The entry of that name (exact match, or with a trailing '/'), or NULL. */
const struct esximg_vmtar_entry *esximg_vmtar_find(const struct esximg_vmtar *v,
                                                   const char *name);

/* ---------------------------------------------------------------- scanning */

/* Where esximg_vmtar_scan gets the archive's bytes (gzip'd or raw), in order. */
struct esximg_vmtar_source {
    /* reads up to n bytes; *got 0 at the end */
    int (*read)(void *ctx, void *buf, size_t n, size_t *got, struct esximg_err *err);
    void *ctx;
};

struct esximg_vmtar_scan_opts {
    /* which entries' contents to read: called once per entry with a content, after every
     * header was read and checked */
    bool (*want)(void *ctx, const struct esximg_vmtar_entry *e);
    /* gets each wanted content, in offset order; the bytes are valid during the call */
    int (*take)(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *content,
                struct esximg_err *err);
    void *ctx;
    uint64_t max_bytes;       /* most bytes to inflate; 0: ESX_MAX_GUNZIP_BYTES */
    /* May be NULL.  True for a wanted entry of which only the first head_bytes are needed
     * (a file type's magic): take() then gets min(head_bytes, e->size) bytes, the rest of the
     * content is skipped and never kept in memory; e->size stays the entry's size. */
    bool (*head_only)(void *ctx, const struct esximg_vmtar_entry *e);
    size_t head_bytes;
};

/* Reads a vmtar as a stream: all its headers (they come first), then only the wanted contents,
 * inflating no further than the end of the last one. So a driver's map and ids files come out
 * of a module without inflating the rest of it. Headers are checked as esximg_vmtar_read does;
 * the wanted contents must lie after the headers and apart from each other. */
int esximg_vmtar_scan(const struct esximg_vmtar_source *src,
                      const struct esximg_vmtar_scan_opts *o, struct esximg_err *err);

/* ---------------------------------------------------------------- writing */

struct esximg_vmtar_wopts {
    uint32_t alignment;        /* of contents: 0 means 4096; 512, 1024, 2048 or 4096 */
    uint32_t shared_alignment; /* of '7' (shared) entries; 0 means `alignment` */
    bool signed_checksums;     /* VMware's signed-char sum (default: the POSIX unsigned sum) */
    bool per_entry_checksums;  /* also use the signed sum where an entry recorded it */
    bool pad_to_512;           /* zero-pad the body to a multiple of 512 (8.0U1+ style) */
    bool keep_trailer;         /* append the model's trailer bytes after the body */
    bool gzip;                 /* one deterministic gzip member (default: raw) */
    int gzip_level;            /* 1..9; 0 means 9 */
    /* esximg_vmtar_write_file: content bytes written out of total (may be NULL) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* The options that write `v` back the way it was read (gzip as the input was). */
void esximg_vmtar_layout_wopts(const struct esximg_vmtar *v, struct esximg_vmtar_wopts *o);

/* Writes: the headers in model order, a zero block, zeros up to the aligned data start, each
 * content at the next aligned offset, no end marker; then padding and trailer if asked.
 * Deterministic. o may be NULL. The caller frees *out. Entries built by reference (`source`)
 * are refused (EINVAL): write those with esximg_vmtar_write_file. */
int esximg_vmtar_write(const struct esximg_vmtar *v, const struct esximg_vmtar_wopts *o,
                       uint8_t **out, size_t *out_len, struct esximg_err *err);
/* The same bytes as esximg_vmtar_write, streamed into `path` (replaced atomically; nothing is
 * left on error) in bounded memory: contents built by reference are read from their source
 * files in 1 MiB chunks and deflated as they come. A source that is no longer a regular file
 * of the listed size is an error naming the entry (EINVAL). */
int esximg_vmtar_write_file(const struct esximg_vmtar *v, const struct esximg_vmtar_wopts *o,
                            const char *path, struct esximg_err *err);

/* ---------------------------------------------------------------- building */

/* The owner and time of built entries. The zero value is root/root 0/0 at time 0
 * (uname/gname NULL mean "root"). */
struct esximg_vmtar_attrs {
    uint32_t mode;             /* permissions incl. setuid/setgid/sticky */
    uint32_t uid, gid;
    const char *uname, *gname;
    uint64_t mtime;
};

/* An empty archive to add entries to. */
int esximg_vmtar_new(struct esximg_vmtar **out, struct esximg_err *err);
/* A directory entry ('/' is appended to the name when missing). */
int esximg_vmtar_add_dir(struct esximg_vmtar *v, const char *name,
                         const struct esximg_vmtar_attrs *a, struct esximg_err *err);
/* A file entry ('0'), its content copied. */
int esximg_vmtar_add_file(struct esximg_vmtar *v, const char *name,
                          const struct esximg_vmtar_attrs *a, const void *data, size_t len,
                          struct esximg_err *err);
/* A symbolic link entry. */
int esximg_vmtar_add_symlink(struct esximg_vmtar *v, const char *name, const char *target,
                             const struct esximg_vmtar_attrs *a, struct esximg_err *err);
/* Any entry: copies the fields of *e (name, typeflag, mode, owner, mtime, linkname, the u32
 * at 500..511, dev fields) and `e->size` bytes from `data`. */
int esximg_vmtar_add_entry(struct esximg_vmtar *v, const struct esximg_vmtar_entry *e,
                           const void *data, struct esximg_err *err);
/* Sorts the entries bytewise by name (stable), so each directory precedes its contents, and
 * drops later duplicates of a name. */
void esximg_vmtar_sort(struct esximg_vmtar *v);

struct esximg_vmtar_topts {
    uint64_t mtime;            /* of every entry (the library never reads the clock) */
    uint32_t uid, gid;         /* default 0 */
    const char *uname, *gname; /* NULL: "root" */
    /* progress of long operations: content bytes done out of total (may be NULL) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
    /* record each regular file's path and size as its entry's `source` instead of reading
     * its content (for esximg_vmtar_write_file; no progress is reported then) */
    bool by_reference;
};

/* Adds paths (relative to `root`, "." for all of it) with everything under them, their
 * parent directories too, then sorts. Regular files, directories and symlinks only; modes
 * kept (incl. sticky); owner and time from the options. */
int esximg_vmtar_add_tree(struct esximg_vmtar *v, const char *root,
                          const char *const *paths, size_t path_count,
                          const struct esximg_vmtar_topts *o, struct esximg_err *err);

/* ---------------------------------------------------------------- extracting */

struct esximg_vmtar_xopts {
    const char *const *paths;  /* only these entries and what is under them; NULL: all */
    size_t path_count;
    /* progress of long operations: content bytes done out of total (may be NULL) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* A symlink target that stays inside the tree from `name`'s directory: relative, its ".."
 * only leading and no more than the link's depth. EUNSAFE otherwise. */
int esximg_vmtar_check_link(const char *name, const char *target, struct esximg_err *err);

/* Extracts into `dir` (created when missing). Never follows a symlink already there or made
 * by the archive; refuses links leaving the tree (EUNSAFE, naming the entry). Modes are
 * applied without setuid/setgid, and mtimes. A path that matches no entry is ENOTFOUND. */
int esximg_vmtar_extract(const struct esximg_vmtar *v, const char *dir,
                         const struct esximg_vmtar_xopts *o, struct esximg_err *err);
/* The same from the archive file `path` (raw or gzip'd), streamed in bounded memory (1 MiB
 * pieces, whatever the sizes of the archive and its entries). A gzip'd archive is inflated
 * twice: once whole to check it (headers, gzip trailer, the length), so a truncated or corrupt
 * one writes nothing, as with esximg_vmtar_extract; a raw one is checked against its size.
 * Then every name and link is checked before anything is written, and each content is written
 * as it is inflated. An archive whose contents are not in the order of their headers is read
 * whole and extracted as esximg_vmtar_extract does. */
int esximg_vmtar_extract_file(const char *path, const char *dir,
                              const struct esximg_vmtar_xopts *o, struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
