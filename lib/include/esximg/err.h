/* esximg/err.h: the one error convention of libesximg.
 *
 * A function that can fail takes `struct esximg_err *err` last (NULL allowed) and returns 0 or a
 * positive enum esximg_code.  The message says what failed first, then where; the function that
 * opened a path fills `file`. */
#ifndef ESXIMG_ERR_H
#define ESXIMG_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_code {
    ESXIMG_OK = 0,
    ESXIMG_ENOMEM,       /* out of memory */
    ESXIMG_EIO,          /* an OS call failed; sys_errno says which */
    ESXIMG_EFORMAT,      /* the input is not what it claims to be */
    ESXIMG_ECHECKSUM,    /* a checksum or size does not match */
    ESXIMG_ELIMIT,       /* a size limit was hit */
    ESXIMG_EUNSAFE,      /* an escaping path or link */
    ESXIMG_EUNSUPPORTED, /* valid, but not something we handle */
    ESXIMG_EINVAL,       /* the caller's arguments are wrong */
    ESXIMG_ENOTFOUND,    /* a named thing is not there */
};

struct esximg_err {
    enum esximg_code code; /* ESXIMG_OK (0) or the failure class */
    int sys_errno;         /* errno of the OS call that failed, else 0 */
    char file[1024];       /* input or output concerned; set by whoever opened it */
    char msg[512];         /* reason: lower case, no final period, subject in quotes */
};

/* A warning a parser records on its model for the command to print (a line kept but not
 * understood, a key the boot loader ignores).  `line` is 1-based, 0 when no line applies. */
struct esximg_warning {
    size_t line;
    char *msg;             /* lower case, no final period, like an error message */
};

/* The warnings of one model.  At most ESX_MAX_WARNINGS are kept; `dropped` counts the rest. */
struct esximg_warnings {
    size_t count;
    struct esximg_warning *items;
    size_t dropped;
};

/* Fills err (when not NULL) and returns code: `return esximg_err_set(err, ESXIMG_EFORMAT, ...);`.
 * Keeps an existing `file`. */
int esximg_err_set(struct esximg_err *err, enum esximg_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As esximg_err_set, for a failed OS call: records errno and appends strerror(errno). */
int esximg_err_sys(struct esximg_err *err, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the file an error concerns, unless one is already set. NULL err does nothing. */
void esximg_err_file(struct esximg_err *err, const char *file);

/* Puts `fmt` in front of the existing message ("payload 'x': " + old message). */
void esximg_err_prefix(struct esximg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void esximg_err_clear(struct esximg_err *err);

/* A short name of a code: "out of memory", "bad format", ... */
const char *esximg_strerror(enum esximg_code code);

#ifdef __cplusplus
}
#endif
#endif
