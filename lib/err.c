/* err.c: filling struct esximg_err. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esximg/err.h"

__attribute__((format(printf, 3, 0)))
static void err_vformat(struct esximg_err *err, enum esximg_code code, const char *fmt,
                        va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int esximg_err_set(struct esximg_err *err, enum esximg_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vformat(err, code, fmt, ap);
        va_end(ap);
        err->sys_errno = 0;
    }
    return (int)code;
}

int esximg_err_sys(struct esximg_err *err, int sys_errno, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vformat(err, ESXIMG_EIO, fmt, ap);
        va_end(ap);
        err->sys_errno = sys_errno;
        size_t used = strlen(err->msg);
        if (sys_errno && used < sizeof err->msg)
            snprintf(err->msg + used, sizeof err->msg - used, ": %s", strerror(sys_errno));
    }
    return ESXIMG_EIO;
}

void esximg_err_file(struct esximg_err *err, const char *file)
{
    if (err && err->file[0] == '\0' && file)
        snprintf(err->file, sizeof err->file, "%s", file);
}

void esximg_err_prefix(struct esximg_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char head[sizeof err->msg];
    char old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t head_len = strnlen(head, sizeof head - 1);
    memcpy(err->msg, head, head_len);
    size_t room = sizeof err->msg - 1 - head_len;
    size_t old_len = strnlen(old, room);
    memcpy(err->msg + head_len, old, old_len);
    err->msg[head_len + old_len] = '\0';
}

void esximg_err_clear(struct esximg_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *esximg_strerror(enum esximg_code code)
{
    switch (code) {
    case ESXIMG_OK: return "success";
    case ESXIMG_ENOMEM: return "out of memory";
    case ESXIMG_EIO: return "input/output error";
    case ESXIMG_EFORMAT: return "bad format";
    case ESXIMG_ECHECKSUM: return "checksum mismatch";
    case ESXIMG_ELIMIT: return "size limit exceeded";
    case ESXIMG_EUNSAFE: return "unsafe path";
    case ESXIMG_EUNSUPPORTED: return "not supported";
    case ESXIMG_EINVAL: return "invalid argument";
    case ESXIMG_ENOTFOUND: return "not found";
    }
    return "unknown error";
}
