/* esx_private.h: helpers shared by the modules of libesximg (not installed).
 * Extend these rather than writing private copies in a module. */
#ifndef ESX_PRIVATE_H
#define ESX_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "esximg/err.h"
#include "esx_limits.h"

/* ---- mem.c: checked arithmetic (true on overflow, like git's st_* but returning) ---- */
bool esx_add_u64(uint64_t a, uint64_t b, uint64_t *sum);
bool esx_mul_u64(uint64_t a, uint64_t b, uint64_t *product);
bool esx_add_size(size_t a, size_t b, size_t *sum);
bool esx_mul_size(size_t a, size_t b, size_t *product);
/* calloc of count*size, NULL on overflow or failure */
void *esx_malloc_array(size_t count, size_t size);
/* realloc to count*size, NULL on overflow or failure (old block kept) */
void *esx_realloc_array(void *old, size_t count, size_t size);
/* copy of n bytes plus a NUL; NULL on failure */
char *esx_strndup(const char *s, size_t n);
char *esx_strdup(const char *s);
/* true if the n bytes at s hold a NUL */
bool esx_has_nul(const void *s, size_t n);
/* Strict number parsing of a field of n bytes (not NUL-terminated): digits only, optional
 * leading spaces/trailing spaces or NULs as the field allows, overflow checked.
 * Return false on anything else. */
bool esx_parse_octal(const char *s, size_t n, uint64_t *value);
bool esx_parse_decimal(const char *s, size_t n, uint64_t *value);
uint32_t esx_le32(const uint8_t *p);
void esx_put_le32(uint8_t *p, uint32_t v);

/* ---- buf.c: a growable byte buffer, always NUL-terminated, capped at init ---- */
struct esx_buf {
    char *data;    /* NUL-terminated; NULL until the first append */
    size_t len;    /* bytes used, not counting the NUL */
    size_t cap;    /* bytes allocated */
    size_t max;    /* most bytes it may hold; 0 means SIZE_MAX/2 */
};
void esx_buf_init(struct esx_buf *b, size_t max);
int esx_buf_append(struct esx_buf *b, const void *data, size_t n, struct esximg_err *err);
int esx_buf_puts(struct esx_buf *b, const char *s, struct esximg_err *err);
int esx_buf_printf(struct esx_buf *b, struct esximg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int esx_buf_zeros(struct esx_buf *b, size_t n, struct esximg_err *err);
/* hand the bytes to the caller (who frees them) and reset */
char *esx_buf_take(struct esx_buf *b, size_t *len);
void esx_buf_free(struct esx_buf *b);

/* ---- path.c: archive member names ---- */
/* Refuses an empty, absolute, `..`-holding, backslash-holding or over-long name (EUNSAFE).
 * `what` names the thing for the message ("entry", "member"). */
int esx_path_check(const char *name, const char *what, struct esximg_err *err);
/* dir + "/" + name into a new string (NULL on failure) */
char *esx_path_join(const char *dir, const char *name);
/* last component of a path (borrowed) */
const char *esx_path_base(const char *path);

/* ---- io.c: whole-file reading and safe writing, and the read and write loops ---- */
/* Every read and write of a descriptor goes through these four: they retry after EINTR and
 * after a short transfer, so callers only see "all of it", "the end of the file" or an error.
 * They return 0 or the errno of the call that failed; the callers word the message. */
/* Up to n bytes at off: *got < n only at the end of the file. */
int esx_pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got);
/* Up to n bytes from the file position: *got < n only at the end of the file. */
int esx_read_full(int fd, void *buf, size_t n, size_t *got);
/* All n bytes at off; a write that makes no progress is ENOSPC. */
int esx_pwrite_full(int fd, const void *buf, size_t n, uint64_t off);
/* esx_pwrite_full to the output `path` names: an error "cannot write the output" with the
 * file set. */
int esx_pwrite_output(int fd, const char *path, const void *buf, size_t n, uint64_t off,
                      struct esximg_err *err);
/* All n bytes at the file position; a write that makes no progress is ENOSPC. */
int esx_write_full(int fd, const void *buf, size_t n);
/* Copies up to n bytes from in_fd at in_off to out_fd at out_off: in the kernel
 * (copy_file_range: no pass through user space, a reflink where the file system shares
 * extents) while it accepts the pair, else by pread and pwrite.  *got < n only at the end of
 * the input.  Returns 0 or the errno of the call that failed, *reading telling whether that
 * was a read of the input (else a write, or the kernel's copy). */
int esx_copy_range(int in_fd, uint64_t in_off, int out_fd, uint64_t out_off, uint64_t n,
                   uint64_t *got, bool *reading);
/* Read a whole file of at most `max` bytes. Sets err->file on failure. */
int esx_file_read(const char *path, uint64_t max, uint8_t **data, size_t *len,
                  struct esximg_err *err);

/* ---- iso.c: libisofs set up once per process (iso.c, isocreate.c); 0 or an error ---- */
int esx_iso_lib_ready(struct esximg_err *err);

/* ---- isosrc.c: libisofs glue: the block source of iso.c and isowrite.c, the content streams
 * of isowrite.c and isocreate.c ---- */
struct iso_data_source;         /* libisofs' IsoDataSource */
struct esx_isosrc {
    int fd;                     /* -1 for a memory source */
    bool owns_fd;               /* closed when the source is freed */
    const uint8_t *mem;
    uint64_t len;
    bool failed;                /* the last failed read, for error messages */
    uint32_t failed_lba;
    int failed_errno;           /* 0: the block lies past the end */
};
/* Block `lba` (ESXIMG_ISO_BLOCK bytes) into `block`; false records why on src. */
bool esx_isosrc_read(struct esx_isosrc *src, uint32_t lba, uint8_t *block);
/* Wraps src (taken: freed even on failure) into a libisofs data source whose data is src;
 * libisofs frees src with the source. */
int esx_isosrc_wrap(struct esx_isosrc *src, struct iso_data_source **out,
                    struct esximg_err *err);
/* Closes the descriptor the source owns and frees it. NULL does nothing. */
void esx_isosrc_free(struct esx_isosrc *src);

/* A d-character of ISO 9660 (A-Z, 0-9, _): what plain ISO 9660 names are made of. */
bool esx_iso_is_dchar(char c);
/* Splits a plain ISO 9660 name of `len` bytes at its first '.' (a directory has none): the
 * lengths of the two parts; false when a byte is neither a d-character nor that dot. */
bool esx_iso_name_parts(const char *name, size_t len, bool dir, size_t *base, size_t *ext);
/* An ISO 9660 level 1 name: 1-8 d-characters, for a file optionally '.' and 0-3 more. */
bool esx_iso_level1_name(const char *name, size_t len, bool dir);
/* Checks a path in an image as the writers take it: shorter than ESX_MAX_PATH_BYTES,
 * absolute, at most ESX_MAX_ISO_DEPTH components, each passed to each(path, name, len, dir,
 * err) (dir: more follow), whose non-zero return is the result. */
typedef int (*esx_iso_name_check)(const char *path, const char *name, size_t len, bool dir,
                                  struct esximg_err *err);
int esx_iso_path_check(const char *path, esx_iso_name_check each, struct esximg_err *err);
/* A libisofs failure code as an error: "<what>: <libisofs' message>" (ENOMEM for its out of
 * memory, else EFORMAT); returns the code set. */
int esx_iso_fail(struct esximg_err *err, int code, const char *what);

/* The content streams the two writers (isowrite.c, isocreate.c) hand libisofs: the class is
 * shared, the writer gives how to open, read and close one of its contents.  Each callback
 * returns what libisofs expects of a stream (1 or a byte count, or a negative ISO_* code) and
 * is called from libisofs' writer thread. */
struct iso_stream;              /* libisofs' IsoStream */
struct esx_isostream_ops {
    int (*open)(void *content);
    int (*close)(void *content);
    int (*read)(void *content, void *buf, size_t count);
};
/* A stream of `size` bytes over `content` (borrowed: it must outlive the stream), told apart
 * from the writer's other contents by `ino` (libisofs writes streams of one id once). */
int esx_isostream_new(const struct esx_isostream_ops *ops, void *content, uint64_t size,
                      ino_t ino, unsigned int fs_id, struct iso_stream **out,
                      struct esximg_err *err);

/* What both writers ask of libisofs' writer besides the layout: ids as given (relaxed
 * volume attributes: ESXi's volume ids hold '-' and '.', which strict d-characters would turn
 * into '_'), no AAIP, hard links, MD5 or sorting, recording dates from the nodes
 * (dir_rec_mtime: libisofs' flags), always GMT, and `t` as every volume date.  The layout:
 * the ISO level and which of Rock Ridge, Joliet and ISO 9660:1999 are written. */
struct iso_write_opts;          /* libisofs' IsoWriteOpts */
struct burn_source;             /* libisofs' (or libburn's) byte source of an image */
struct esx_iso_layout {
    int level;
    int rockridge, joliet, iso1999;
    int dir_rec_mtime;
};
int esx_iso_wopts_new(const struct esx_iso_layout *l, int64_t t, struct iso_write_opts **out,
                      struct esximg_err *err);
/* Takes `size` bytes from libisofs' burn source a chunk at a time and hands each to
 * sink(arg, buf, n, done, err) (`done`: the bytes taken before it; a non-zero return stops
 * the drain with that code); then checks that libisofs has nothing more and that its writer
 * thread ended without an error: libisofs' ring buffer reports a failed writer as an early
 * end.  `what` names the bytes in messages ("the image", "the new session"). */
typedef int (*esx_iso_sink)(void *arg, const uint8_t *buf, size_t n, uint64_t done,
                            struct esximg_err *err);
int esx_iso_drain(struct burn_source *bs, uint64_t size, const char *what, esx_iso_sink sink,
                  void *arg, struct esximg_err *err);
/* Ends a libisofs burn source: cancels its writer thread first when `cancel`, waits for it
 * and frees the source.  NULL does nothing. */
void esx_iso_burn_free(struct burn_source *bs, bool cancel);

/* ---- gz.c: gzip over zlib ---- */
/* Decompress one gzip member held whole in memory. Refuses trailing bytes after the member
 * unless `allow_trailing`; caps output at `max_out` (ELIMIT) and the ratio at
 * ESX_MAX_GUNZIP_RATIO. */
int esx_gunzip(const uint8_t *in, size_t in_len, uint64_t max_out, bool allow_trailing,
               uint8_t **out, size_t *out_len, struct esximg_err *err);
/* True when the bytes start with the gzip magic. */
bool esx_is_gzip(const uint8_t *p, size_t n);
/* Compress into one gzip member: mtime 0, no name, OS byte 255 (unknown), deterministic. */
int esx_gzip(const uint8_t *in, size_t in_len, int level, uint8_t **out, size_t *out_len,
             struct esximg_err *err);

/* Streaming inflate of one gzip member held in memory, for readers that want only a prefix. */
struct esx_gzstream;
int esx_gzstream_open(const uint8_t *in, size_t in_len, struct esx_gzstream **out,
                      struct esximg_err *err);
/* Reads up to n bytes; *got = 0 at the end of the member. */
int esx_gzstream_read(struct esx_gzstream *s, void *buf, size_t n, size_t *got,
                      struct esximg_err *err);
void esx_gzstream_close(struct esx_gzstream *s);
/* Compressed bytes the stream has consumed so far: at the end of the member, its length. */
uint64_t esx_gzstream_consumed(const struct esx_gzstream *s);

/* ---- text.c: line-based text files (BOOT.CFG, driver maps, .ids files, lspci output) ---- */
/* One line of a text: `p` points into the caller's bytes, `len` excludes the '\n' (a '\r'
 * before it stays), `number` is 1-based, `newline` says whether a '\n' ended it. */
struct esx_line {
    const char *p;
    size_t len;
    size_t number;
    bool newline;
};
/* Refuses a text over `max_bytes` or ESX_MAX_TEXT_LINES lines or with a line over
 * ESX_MAX_LINE_BYTES (ELIMIT), or holding a NUL byte (EFORMAT); `what` names the text. */
int esx_text_check(const void *data, size_t len, uint64_t max_bytes, const char *what,
                   struct esximg_err *err);
/* The line starting at *pos (false at the end); advances *pos past its '\n'.  Set *pos and
 * line->number to 0 before the first call. */
bool esx_text_next(const char *data, size_t len, size_t *pos, struct esx_line *line);
/* True for ' ', '\t', '\r', '\v', '\f' (never '\n' nor bytes >= 0x80). */
/* An ASCII letter or digit, whatever the locale. */
bool esx_is_alnum(char c);
bool esx_is_blank(char c);
/* Moves *p and shrinks *n to drop blanks at both ends. */
void esx_trim(const char **p, size_t *n);
/* The value of a hex digit, or -1. */
int esx_hex_value(char c);
/* Exactly n (1..8) hex digits, either case. */
bool esx_parse_hex(const char *s, size_t n, uint32_t *value);
/* Case-insensitive ASCII comparison of a counted string with a C string. */
bool esx_mem_ieq(const char *s, size_t n, const char *word);
/* Quotes input text for a message: printable ASCII kept, other bytes as '?', cut to fit
 * `size` (at most 48 characters) with "...". */
void esx_text_quote(const char *s, size_t n, char *out, size_t size);
/* Records a warning (ENOMEM is the only failure); past ESX_MAX_WARNINGS only counts it. */
int esx_vwarn(struct esximg_warnings *w, size_t line, struct esximg_err *err, const char *fmt,
              va_list ap) __attribute__((format(printf, 4, 0)));
int esx_warn(struct esximg_warnings *w, size_t line, struct esximg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void esx_warnings_free(struct esximg_warnings *w);

/* ---- textdiff.c: the lines two texts differ by ---- */
/* Called for each line removed (sign '-') or added ('+'), in order; `text` is not
 * NUL-terminated and excludes the '\n'. A non-zero return stops the diff and is returned. */
typedef int (*esx_text_diff_line_fn)(void *ctx, char sign, const char *text, size_t len,
                                     struct esximg_err *err);
/* The lines of `before` and `after` that a longest common subsequence of their lines leaves
 * out; past ESX_MAX_DIFF_CELLS (rows x columns) every line of `before` is removed and every
 * line of `after` added. ENOMEM or what `line` returns. */
int esx_text_diff(const char *before, size_t blen, const char *after, size_t alen,
                  esx_text_diff_line_fn line, void *ctx, struct esximg_err *err);

/* ---- digest.c: hashes over libcrypto, hex-encoded lower case ---- */
/* sigcheck.c: a sig.pkcs7 (PEM, VMware's form, else DER) as OpenSSL's PKCS7, or NULL. */
struct pkcs7_st *esx_pkcs7_parse(const void *sig, size_t len);
/* "what: <OpenSSL's first queued reason>", malloc'd (NULL when out of memory); the queue is
 * emptied. */
char *esx_ssl_error(const char *what);
/* sigcheck.c: a sig.pkcs7 of only white space means "unsigned". */
bool esx_sig_is_empty(const void *sig, size_t len);
/* Whether the detached PKCS#7 signature sig signs exactly `content` (the signer's certificate
 * is not checked against a CA): 0 with *why NULL when it does, 0 with *why (malloc'd) saying
 * why not; ENOMEM only as a failure. */
int esx_sig_signs(const void *sig, size_t sig_len, const void *content, size_t len, char **why,
                  struct esximg_err *err);

enum esx_digest_kind { ESX_SHA1, ESX_SHA256 };
/* out must hold 65 bytes */
int esx_digest_hex(enum esx_digest_kind kind, const void *data, size_t len, char *out,
                   struct esximg_err *err);
/* Incremental form: new, update as often as needed, final_hex (out holds 65 bytes) once,
 * free (NULL does nothing). */
struct esx_digest;
int esx_digest_new(enum esx_digest_kind kind, struct esx_digest **out, struct esximg_err *err);
int esx_digest_update(struct esx_digest *d, const void *data, size_t len,
                      struct esximg_err *err);
int esx_digest_final_hex(struct esx_digest *d, char *out, struct esximg_err *err);
void esx_digest_free(struct esx_digest *d);

/* ---- xml.c: see xml_private.h ---- */

/* ---- gnutar.c: the one GNU tar writer (IMGDB.TGZ, tgz payloads) ---- */
#define ESX_TAR_NAME_MAX 99u      /* VISOR_PATH_LIMIT; a directory counts its '/' */
enum esx_tar_type { ESX_TAR_FILE = '0', ESX_TAR_SYMLINK = '2', ESX_TAR_DIR = '5' };
struct esx_tar_member {
    const char *path;       /* without "./" in front and without a final '/' */
    enum esx_tar_type type;
    unsigned mode;          /* permission bits with setuid/setgid/sticky (07777) */
    const char *link;       /* the target of a symlink */
    const void *data;       /* file content */
    size_t len;
};
/* Appends an uncompressed GNU tar ("ustar  \0", no pax headers) of the members, in the order
 * given, to `out`: owner root 0/0, every mtime `mtime` (0 .. 8^11-1), names of at most
 * ESX_TAR_NAME_MAX bytes (ELIMIT), libarchive's 10240-byte end padding. Deterministic. */
int esx_gnutar_write(const struct esx_tar_member *members, size_t count, int64_t mtime,
                     struct esx_buf *out, struct esximg_err *err);

/* image.c: whether a payload of this type is a boot module loaded through BOOT.CFG (vgz,
 * tgz, installer_vgz, vzstd, boot), so that an image must hold its file.  NULL: false. */
bool esx_payload_is_module(const char *type);

/* image.c: the first ELF file of a vgz or tgz payload (its bytes as stored) built for another
 * machine than `machine`: *path (to free; NULL when every ELF file is of that machine) and
 * *found.  Only each file's first bytes are read.  A payload that cannot be read counts as
 * having none (its own checks report it); ENOMEM is the only failure. */
int esx_payload_foreign_elf(const uint8_t *data, size_t len, const char *type,
                            uint16_t machine, char **path, uint16_t *found,
                            struct esximg_err *err);

#endif
