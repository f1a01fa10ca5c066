/* mem.c: checked arithmetic, allocation and strict number parsing. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"

bool esx_add_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
    return __builtin_add_overflow(a, b, sum);
}

bool esx_mul_u64(uint64_t a, uint64_t b, uint64_t *product)
{
    return __builtin_mul_overflow(a, b, product);
}

bool esx_add_size(size_t a, size_t b, size_t *sum)
{
    return __builtin_add_overflow(a, b, sum);
}

bool esx_mul_size(size_t a, size_t b, size_t *product)
{
    return __builtin_mul_overflow(a, b, product);
}

void *esx_malloc_array(size_t count, size_t size)
{
    size_t total;
    if (esx_mul_size(count, size, &total))
        return NULL;
    return calloc(total ? total : 1, 1);
}

void *esx_realloc_array(void *old, size_t count, size_t size)
{
    size_t total;
    if (esx_mul_size(count, size, &total))
        return NULL;
    return realloc(old, total ? total : 1);
}

char *esx_strndup(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *esx_strdup(const char *s)
{
    return s ? esx_strndup(s, strlen(s)) : NULL;
}

bool esx_has_nul(const void *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* Digits of `base` (8 or 10), surrounded by optional spaces, ended by NULs/spaces. */
static bool mem_parse_digits(const char *s, size_t n, unsigned base, uint64_t *value)
{
    size_t i = 0;
    uint64_t v = 0;
    bool any = false;
    while (i < n && s[i] == ' ')
        i++;
    for (; i < n && s[i] >= '0' && s[i] < (char)('0' + base); i++) {
        if (esx_mul_u64(v, base, &v) || esx_add_u64(v, (uint64_t)(s[i] - '0'), &v))
            return false;
        any = true;
    }
    for (; i < n; i++)
        if (s[i] != ' ' && s[i] != '\0')
            return false;
    if (!any)
        return false;
    *value = v;
    return true;
}

bool esx_parse_octal(const char *s, size_t n, uint64_t *value)
{
    return mem_parse_digits(s, n, 8, value);
}

bool esx_parse_decimal(const char *s, size_t n, uint64_t *value)
{
    return mem_parse_digits(s, n, 10, value);
}

uint32_t esx_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void esx_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
