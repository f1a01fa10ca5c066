/* fuzz_vmtar.c: read a vmtar (raw, and the same bytes gzip'd); when it reads, write it back
 * with the detected layout, read that, and compare. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/vmtar.h"

#define FUZZ_MAX_INPUT (1u << 20)

static void fuzz_round_trip(const struct esximg_vmtar *v)
{
    struct esximg_vmtar_wopts o;
    struct esximg_vmtar *again = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    esximg_vmtar_layout_wopts(v, &o);
    o.gzip = false;
    if (esximg_vmtar_write(v, &o, &out, &out_len, NULL))
        return;                 /* fields that do not fit a header (8-digit mode, ...) */
    if (v->layout.exact && (out_len != v->archive_len || memcmp(out, v->archive, out_len)))
        __builtin_trap();       /* an exact layout must give the same bytes back */
    if (esximg_vmtar_read(out, out_len, &again, NULL))
        __builtin_trap();       /* what we write, we read */
    if (again->entry_count != v->entry_count || !again->layout.exact)
        __builtin_trap();
    for (size_t i = 0; i < v->entry_count; i++)
        if (strcmp(again->entries[i].name, v->entries[i].name) ||
            again->entries[i].size != v->entries[i].size ||
            (v->entries[i].size && memcmp(again->entries[i].content, v->entries[i].content,
                                          (size_t)v->entries[i].size)))
            __builtin_trap();
    esximg_vmtar_free(again);
    free(out);
}

/* The streaming scan over the same bytes, wanting every content. */
struct fuzz_src {
    const uint8_t *data;
    size_t len, pos;
    size_t taken;
};

static int fuzz_read(void *ctx, void *buf, size_t n, size_t *got, struct esximg_err *err)
{
    (void)err;
    struct fuzz_src *s = ctx;
    size_t take = s->len - s->pos < n ? s->len - s->pos : n;
    memcpy(buf, s->data + s->pos, take);
    s->pos += take;
    *got = take;
    return 0;
}

static bool fuzz_want(void *ctx, const struct esximg_vmtar_entry *e)
{
    (void)ctx;
    (void)e;
    return true;
}

static int fuzz_take(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *content,
                     struct esximg_err *err)
{
    (void)err;
    struct fuzz_src *s = ctx;
    if (e->size && !content)
        __builtin_trap();
    s->taken++;
    return 0;
}

static void fuzz_scan(const uint8_t *data, size_t size, const struct esximg_vmtar *v)
{
    struct fuzz_src s = {.data = data, .len = size};
    struct esximg_vmtar_source src = {.read = fuzz_read, .ctx = &s};
    struct esximg_vmtar_scan_opts o = {.want = fuzz_want, .take = fuzz_take, .ctx = &s,
                                       .max_bytes = 64u << 20};
    int rc = esximg_vmtar_scan(&src, &o, NULL);
    /* what the whole-archive reader accepts, the scan reads too, every content once */
    if (v && !rc) {
        size_t with_content = 0;
        for (size_t i = 0; i < v->entry_count; i++)
            with_content += v->entries[i].size > 0;
        if (s.taken != with_content)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esximg_vmtar *v = NULL, *z = NULL;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    int rc = esximg_vmtar_read(data, size, &v, NULL);
    if (!rc)
        fuzz_round_trip(v);
    fuzz_scan(data, size, rc ? NULL : v);
    /* the gzip path sees the same archive */
    uint8_t *gz;
    size_t gz_len;
    if (size <= (64u << 10) && !esx_is_gzip(data, size) &&
        !esx_gzip(data, size, 1, &gz, &gz_len, NULL)) {
        int zrc = esximg_vmtar_read(gz, gz_len, &z, NULL);
        if (zrc != rc || (!rc && z->entry_count != v->entry_count))
            __builtin_trap();
        esximg_vmtar_free(z);
        free(gz);
    }
    esximg_vmtar_free(v);
    return 0;
}
