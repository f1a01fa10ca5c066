/* esximg/bootcfg.h: BOOT.CFG and EFI/BOOT/BOOT.CFG, the configuration of the mboot loader.
 *
 * The file is kept as its list of lines, each verbatim (a '\r' before the '\n', comments,
 * blank lines and spacing stay), so that an unmodified model writes back the same bytes and an
 * edit changes only the text it names.  Reading follows mboot (esx-boot bootlib/parse.c and
 * mboot/config.c): a line is `key=value`, the key being what comes before the first '=' with
 * blanks around it dropped, matched case-insensitively; a line whose first non-blank character
 * is '#' is a comment; keys mboot does not know are ignored by it.  When a key is repeated the
 * last line counts (mboot assigns each line in turn); the accessors and edits use that line. */
#ifndef ESXIMG_BOOTCFG_H
#define ESXIMG_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_bootcfg_kind {
    ESXIMG_BOOTCFG_BLANK = 0,   /* empty or only blanks */
    ESXIMG_BOOTCFG_COMMENT,     /* first non-blank character '#' */
    ESXIMG_BOOTCFG_KEYVAL,      /* key=value */
    ESXIMG_BOOTCFG_OTHER,       /* anything else: kept, and reported as a warning */
};

struct esximg_bootcfg_line {
    char *text;                 /* the line without its '\n' ('\r' kept), NUL-terminated */
    size_t len;
    enum esximg_bootcfg_kind kind;
    size_t key_off, key_len;    /* KEYVAL: the key as written, blanks around it excluded */
    size_t value_off, value_len; /* KEYVAL: the value, blanks (and '\r') around it excluded */
};

struct esximg_bootcfg {
    size_t line_count;
    struct esximg_bootcfg_line *lines;
    bool final_newline;         /* the last line ends with '\n' (false for an empty file) */
    bool crlf;                  /* the first line ends with "\r\n": added lines do too */
    /* Lines that are neither key=value, comment nor blank; keys mboot and safeboot do not
     * know; numeric keys (timeout, bootstate, ...) whose value is not a decimal number (a
     * syntax error for mboot); repeated keys.  Recorded by the read, not by the edits. */
    struct esximg_warnings warnings;
};

/* Options of esximg_bootcfg_read; NULL means defaults (there are none yet). */
struct esximg_bootcfg_ropts {
    int reserved;
};

/* Parses BOOT.CFG bytes.  Refuses more than ESX_MAX_TEXT_BYTES or ESX_MAX_TEXT_LINES, a line
 * over ESX_MAX_LINE_BYTES (ELIMIT) and a NUL byte (EFORMAT).  Never fails on content: odd
 * lines are kept and reported in `warnings`. */
int esximg_bootcfg_read(const void *data, size_t len, const struct esximg_bootcfg_ropts *o,
                        struct esximg_bootcfg **out, struct esximg_err *err);
/* The file's bytes: the lines joined by '\n', plus a final '\n' when `final_newline`.  An
 * unmodified model gives back exactly the bytes it was read from.  *data is malloc'd and
 * NUL-terminated. */
int esximg_bootcfg_write(const struct esximg_bootcfg *c, char **data, size_t *len,
                         struct esximg_err *err);
void esximg_bootcfg_free(struct esximg_bootcfg *c);

/* ---------------------------------------------------------------- keys */

/* The line (index into `lines`) holding `key` (case-insensitive; the last one when repeated),
 * or -1 when absent. */
long esximg_bootcfg_find(const struct esximg_bootcfg *c, const char *key);
/* A malloc'd copy of the value of `key` (title, kernel, kernelopt, modules, prefix, build, ...)
 * as written, blanks at both ends dropped.  ENOTFOUND when the key is absent. */
int esximg_bootcfg_get(const struct esximg_bootcfg *c, const char *key, char **value,
                       struct esximg_err *err);
/* Sets `key` to `value` (blanks at its ends dropped).  When present, only the value text of
 * its line changes: the key's spelling, the blanks around '=' and after the value, a '\r' and
 * the line's place stay.
 * When absent, a line `key=value` is added after the line of the nearest key that precedes it
 * in esximage's order (bootstate, title, timeout, prefix, kernel, kernelopt, modules, build,
 * updated), else before the nearest one that follows it, else at the end (so a missing
 * `modules` goes after `kernelopt`, a missing `kernelopt` after `kernel`); other keys go at
 * the end.  An added line ends like the file's first line ("\r\n" when `crlf`); a file that
 * had no final newline still has none.  EINVAL for a key that is empty, or holds '=', '#' or
 * blanks, and for a value holding '\n', '\r' or NUL; ELIMIT when the line grows past
 * ESX_MAX_LINE_BYTES. */
int esximg_bootcfg_set(struct esximg_bootcfg *c, const char *key, const char *value,
                       struct esximg_err *err);

/* ---------------------------------------------------------------- modules= */

/* One item of `modules=`: the first blank-delimited token is the file, the rest its options
 * (mboot: `/b.b00 ks=usb` loads /b.b00 with "ks=usb"). */
struct esximg_bootcfg_module {
    char *path;                 /* as written, e.g. "/imgdb.tgz" or "imgdb.tgz" */
    char *args;                 /* NULL when none */
};

struct esximg_bootcfg_modules {
    size_t count;
    struct esximg_bootcfg_module *items;
};

/* The `modules=` list split like mboot: items separated by "---" (blanks around it do not
 * matter, empty items are skipped).  An absent key gives an empty list. */
int esximg_bootcfg_modules_get(const struct esximg_bootcfg *c,
                               struct esximg_bootcfg_modules **out, struct esximg_err *err);
void esximg_bootcfg_modules_free(struct esximg_bootcfg_modules *m);
/* Replaces the whole list: items are written as given (a leading '/' only when the item
 * carries it), `path args` each, joined by the separator the file already uses between its
 * first two items (" --- " when it has fewer).  EINVAL for an empty path, a path or args
 * holding "---", '\n', '\r' or NUL, or a path holding blanks.  Adds the key as
 * esximg_bootcfg_set does when absent. */
int esximg_bootcfg_modules_set(struct esximg_bootcfg *c,
                               const struct esximg_bootcfg_module *items, size_t count,
                               struct esximg_err *err);
/* True when the item path names `name`: the basenames compared case-insensitively (ISO9660
 * lookups ignore case), a leading '/' on either side ignored. */
bool esximg_bootcfg_module_is(const char *path, const char *name);
/* Inserts the item `path` (args may be NULL) before the first item named `before` (see
 * esximg_bootcfg_module_is), e.g. before "imgdb.tgz" as ESXi-Customizer did.  The rest of the
 * line stays byte-identical.  The new path takes the leading-'/' style of the item it goes
 * before: "bmks.tgz" becomes "/bmks.tgz" in an ISO copy, "/bmks.tgz" loses its '/' in a PXE
 * copy.  ENOTFOUND when there is no such item (or no modules= line). */
int esximg_bootcfg_module_insert_before(struct esximg_bootcfg *c, const char *before,
                                        const char *path, const char *args,
                                        struct esximg_err *err);
/* Appends the item at the end of the list (creating the key when absent); the new path takes
 * the leading-'/' style of the last item. */
int esximg_bootcfg_module_append(struct esximg_bootcfg *c, const char *path, const char *args,
                                 struct esximg_err *err);
/* Removes every item named `name`, with one separator each; the rest stays byte-identical.
 * ENOTFOUND when none is there. */
int esximg_bootcfg_module_remove(struct esximg_bootcfg *c, const char *name,
                                 struct esximg_err *err);

/* ---------------------------------------------------------------- kernelopt= */

/* One blank-separated token of `kernelopt=`: `key=value`, or a bare `key` (value NULL). */
struct esximg_bootcfg_option {
    char *key;
    char *value;
};

struct esximg_bootcfg_options {
    size_t count;
    struct esximg_bootcfg_option *items;
};

/* The kernelopt tokens in order (an absent key gives an empty list). */
int esximg_bootcfg_kernelopt_get(const struct esximg_bootcfg *c,
                                 struct esximg_bootcfg_options **out, struct esximg_err *err);
void esximg_bootcfg_options_free(struct esximg_bootcfg_options *o);
/* Adds or replaces the option `key` (`key=value`, or a bare `key` when value is NULL).  Keys
 * are compared case-insensitively (assumed: VMkernel boot options ignore case).  The first
 * token with that key is replaced in place and later ones are removed; when there is none the
 * token is appended after one space.  Other tokens, their order and the blanks between them
 * stay.  EINVAL for a key that is empty or holds '=' or blanks, or a value holding blanks. */
int esximg_bootcfg_kernelopt_set(struct esximg_bootcfg *c, const char *key, const char *value,
                                 struct esximg_err *err);
/* Removes every token with that key and the blanks before it (after it, for the first token).
 * ENOTFOUND when there is none. */
int esximg_bootcfg_kernelopt_remove(struct esximg_bootcfg *c, const char *key,
                                    struct esximg_err *err);

/* ---------------------------------------------------------------- the loader's rules */

/* What VMware's boot loader (esx-boot's mboot: bootlib/parse.c, mboot/config.c,
 * mboot/esxbootinfo.c, mboot/secure.c) does with a BOOT.CFG that an ordinary reading misses.
 * Each line is read as mboot reads it: blanks merged into one space, the key being everything
 * before the first '=' (a blank before '=' included), matched case-insensitively as a prefix
 * of mboot's keys in its table order, the last line of a key winning. */
enum esximg_bootcfg_rule {
    /* a module's "path options" string (a relative path with `prefix` and '/' before it) is
     * 256 characters or more: mboot stops before the kernel */
    ESXIMG_BOOTCFG_RULE_MODULE_LENGTH = 1,
    /* "kernel-path kernelopt" is 4096 characters or more: mboot stops before the kernel */
    ESXIMG_BOOTCFG_RULE_KERNEL_LENGTH,
    /* a key that is not a full key name but a prefix of one ("mod", or an empty key, which
     * mboot takes for "kernel") */
    ESXIMG_BOOTCFG_RULE_KEY_PREFIX,
    /* a blank between a known key and '=': mboot compares the blank too and ignores the line */
    ESXIMG_BOOTCFG_RULE_KEY_BLANK,
    /* an integer key (nobootif, timeout, noquirks, norts, runtimewd, tftpblksize,
     * runtimewdtimeout, skip, errtimeout) whose value is not -?digits: the whole parse fails */
    ESXIMG_BOOTCFG_RULE_NOT_INTEGER,
    /* a '#' at the start of a value or after a blank in it: there are no inline comments, the
     * '#' and the rest are part of the value */
    ESXIMG_BOOTCFG_RULE_INLINE_COMMENT,
    /* the kernel or a module whose base name without its extension is s, sb, esxcore or
     * esxupdt in another case (Secure Boot compares case-sensitively, so it escapes the
     * signature check), or exactly so a second time (Secure Boot stops on the duplicate) */
    ESXIMG_BOOTCFG_RULE_SECURE_BOOT_NAME,
};

#define ESXIMG_BOOTCFG_MAX_MODULE_STRING 256u     /* must stay below */
#define ESXIMG_BOOTCFG_MAX_KERNEL_CMDLINE 4096u   /* must stay below */

struct esximg_bootcfg_violation {
    enum esximg_bootcfg_rule rule;
    size_t line;            /* 1-based line of the file */
    uint64_t limit;         /* the length rules: the limit (256, 4096); else 0 */
    uint64_t actual;        /* the length rules: the length found; else 0 */
    char *msg;              /* lower case, no final period, without the line number */
};

struct esximg_bootcfg_violations {
    size_t count;
    struct esximg_bootcfg_violation *items;
};

/* Every violation of the rules above in `c`, in line order (the length and name rules at the
 * line of the key that wins).  An empty list when there are none. */
int esximg_bootcfg_check_loader(const struct esximg_bootcfg *c,
                                struct esximg_bootcfg_violations **out, struct esximg_err *err);
void esximg_bootcfg_violations_free(struct esximg_bootcfg_violations *v);
/* For an edit: fails naming the first violation of `after` that the file it was made from
 * (`before`, its bytes) does not have (same rule and message), so that an edit never makes a
 * BOOT.CFG the loader stops on, while an input's own oddities do not block it.  ELIMIT for
 * the length rules, EINVAL for the others; the message starts with `name` and the line. */
int esximg_bootcfg_check_edit(const char *before, size_t before_len,
                              const struct esximg_bootcfg *after, const char *name,
                              struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
