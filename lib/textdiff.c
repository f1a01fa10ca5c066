/* textdiff.c: the lines removed and added between two texts, by a longest common
 * subsequence of their lines (the BOOT.CFG changes an edit plan shows). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"

struct textdiff_lines {
    size_t count;
    const char **p;
    size_t *len;
};

/* The lines of s (a final line without '\n' counts), pointing into s. */
static int textdiff_split(const char *s, size_t n, struct textdiff_lines *t,
                          struct esximg_err *err)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '\n';
    count += n && s[n - 1] != '\n';
    t->p = esx_malloc_array(count + 1, sizeof *t->p);
    t->len = esx_malloc_array(count + 1, sizeof *t->len);
    if (!t->p || !t->len)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    t->count = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t l = nl ? (size_t)(nl - (s + i)) : n - i;
        t->p[t->count] = s + i;
        t->len[t->count++] = l;
        i += l + 1;
    }
    return 0;
}

static bool textdiff_same_line(const struct textdiff_lines *a, size_t i,
                               const struct textdiff_lines *b, size_t j)
{
    return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* Lines removed ("-") and added ("+"), by a longest common subsequence. */
static int textdiff_lines(const struct textdiff_lines *a, const struct textdiff_lines *b,
                          esx_text_diff_line_fn line, void *ctx, struct esximg_err *err)
{
    size_t rows = a->count + 1, cols = b->count + 1, cells;
    uint32_t *t = NULL;
    if (!esx_mul_size(rows, cols, &cells) && cells <= ESX_MAX_DIFF_CELLS)
        t = esx_malloc_array(cells, sizeof *t);
    if (t) {
        for (size_t i = a->count; i-- > 0;)
            for (size_t j = b->count; j-- > 0;)
                t[i * cols + j] = textdiff_same_line(a, i, b, j)
                                      ? t[(i + 1) * cols + j + 1] + 1
                                      : (t[(i + 1) * cols + j] > t[i * cols + j + 1]
                                             ? t[(i + 1) * cols + j] : t[i * cols + j + 1]);
    }
    size_t i = 0, j = 0;
    int rc = 0;
    while (!rc && (i < a->count || j < b->count)) {
        if (t && i < a->count && j < b->count && textdiff_same_line(a, i, b, j)) {
            i++;
            j++;
        } else if (i < a->count && (j == b->count || !t ||
                                    t[(i + 1) * cols + j] >= t[i * cols + j + 1])) {
            rc = line(ctx, '-', a->p[i], a->len[i], err);
            i++;
        } else {
            rc = line(ctx, '+', b->p[j], b->len[j], err);
            j++;
        }
    }
    free(t);
    return rc;
}

int esx_text_diff(const char *before, size_t blen, const char *after, size_t alen,
                  esx_text_diff_line_fn line, void *ctx, struct esximg_err *err)
{
    struct textdiff_lines a = {0}, b = {0};
    int rc = textdiff_split(before, blen, &a, err);
    if (!rc)
        rc = textdiff_split(after, alen, &b, err);
    if (!rc)
        rc = textdiff_lines(&a, &b, line, ctx, err);
    free(a.p);
    free(a.len);
    free(b.p);
    free(b.len);
    return rc;
}
