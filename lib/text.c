/* text.c: line splitting, limits, hex digits and warning lists shared by the small text
 * formats (BOOT.CFG, driver maps, .ids files, lspci output). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"

int esx_text_check(const void *data, size_t len, uint64_t max_bytes, const char *what,
                   struct esximg_err *err)
{
    const char *text = data;
    if ((uint64_t)len > max_bytes)
        return esximg_err_set(err, ESXIMG_ELIMIT, "%s too large: %zu bytes (limit %llu)", what,
                              len, (unsigned long long)max_bytes);
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i <= len; i++) {
        bool end = i == len || text[i] == '\n';
        if (i < len && text[i] == '\0')
            return esximg_err_set(err, ESXIMG_EFORMAT, "NUL byte in %s line %zu", what, line);
        if (!end)
            continue;
        if (i - line_start > ESX_MAX_LINE_BYTES)
            return esximg_err_set(err, ESXIMG_ELIMIT, "%s line %zu too long: %zu bytes "
                                  "(limit %u)", what, line, i - line_start, ESX_MAX_LINE_BYTES);
        if (i < len) {
            line++;
            line_start = i + 1;
            /* a final '\n' does not start a line of its own */
            if (line > ESX_MAX_TEXT_LINES && line_start < len)
                return esximg_err_set(err, ESXIMG_ELIMIT, "%s has too many lines (limit %u)",
                                      what, ESX_MAX_TEXT_LINES);
        }
    }
    return 0;
}

bool esx_text_next(const char *data, size_t len, size_t *pos, struct esx_line *line)
{
    if (*pos >= len)
        return false;
    const char *start = data + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    line->p = start;
    line->len = n;
    line->newline = nl != NULL;
    line->number++;
    *pos += n + (nl ? 1 : 0);
    return true;
}

bool esx_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool esx_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

void esx_trim(const char **p, size_t *n)
{
    while (*n && esx_is_blank((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n && esx_is_blank((*p)[*n - 1]))
        (*n)--;
}

int esx_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool esx_parse_hex(const char *s, size_t n, uint32_t *value)
{
    if (n == 0 || n > 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = esx_hex_value(s[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *value = v;
    return true;
}

static char text_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool esx_mem_ieq(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n; i++)
        if (word[i] == '\0' || text_lower(s[i]) != text_lower(word[i]))
            return false;
    return word[i] == '\0';
}

void esx_text_quote(const char *s, size_t n, char *out, size_t size)
{
    size_t room = size ? size - 1 : 0;
    if (room > 48)
        room = 48;
    size_t used = 0;
    bool cut = n > room;
    size_t take = cut ? (room > 3 ? room - 3 : 0) : n;
    for (size_t i = 0; i < take; i++) {
        unsigned char c = (unsigned char)s[i];
        out[used++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (cut)
        for (size_t i = 0; i < 3 && used < room; i++)
            out[used++] = '.';
    if (size)
        out[used] = '\0';
}

int esx_vwarn(struct esximg_warnings *w, size_t line, struct esximg_err *err, const char *fmt,
              va_list ap)
{
    if (w->count >= ESX_MAX_WARNINGS) {
        w->dropped++;
        return 0;
    }
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *copy = esx_strdup(msg);
    struct esximg_warning *grown = copy ? esx_realloc_array(w->items, w->count + 1,
                                                            sizeof *w->items) : NULL;
    if (!grown) {
        free(copy);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory recording a warning");
    }
    w->items = grown;
    w->items[w->count].line = line;
    w->items[w->count].msg = copy;
    w->count++;
    return 0;
}

int esx_warn(struct esximg_warnings *w, size_t line, struct esximg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(w, line, err, fmt, ap);
    va_end(ap);
    return rc;
}

void esx_warnings_free(struct esximg_warnings *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->count; i++)
        free(w->items[i].msg);
    free(w->items);
    w->items = NULL;
    w->count = 0;
    w->dropped = 0;
}
