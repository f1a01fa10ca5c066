/* buf.c: a growable, always NUL-terminated byte buffer with a maximum size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"

void esx_buf_init(struct esx_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
}

static int buf_reserve(struct esx_buf *b, size_t extra, struct esximg_err *err)
{
    size_t need;
    if (esx_add_size(b->len, extra, &need) || need > b->max)
        return esximg_err_set(err, ESXIMG_ELIMIT, "buffer would exceed %zu bytes", b->max);
    if (need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory growing a buffer to %zu bytes",
                              cap);
    b->data = grown;
    b->cap = cap;
    return 0;
}

int esx_buf_append(struct esx_buf *b, const void *data, size_t n, struct esximg_err *err)
{
    int rc = buf_reserve(b, n, err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int esx_buf_puts(struct esx_buf *b, const char *s, struct esximg_err *err)
{
    return esx_buf_append(b, s, strlen(s), err);
}

int esx_buf_zeros(struct esx_buf *b, size_t n, struct esximg_err *err)
{
    int rc = buf_reserve(b, n, err);
    if (rc)
        return rc;
    memset(b->data + b->len, 0, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int esx_buf_printf(struct esx_buf *b, struct esximg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "bad format string");
    int rc = buf_reserve(b, (size_t)n, err);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *esx_buf_take(struct esx_buf *b, size_t *len)
{
    char *data = b->data;
    if (!data)
        data = calloc(1, 1);
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void esx_buf_free(struct esx_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
