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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esximg_vmtar *v = NULL, *z = NULL;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    int rc = esximg_vmtar_read(data, size, &v, NULL);
    if (!rc)
        fuzz_round_trip(v);
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
