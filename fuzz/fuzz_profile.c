/* fuzz_profile.c: parses the bytes as an image profile and as a bulletin; what parses must
 * write, parse again to the same model, and write again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/imgdb.h"

#define FUZZ_MAX_INPUT (1u << 18)

static void fuzz_check(int ok)
{
    if (!ok)
        abort();
}

static void fuzz_profile(const uint8_t *data, size_t size)
{
    struct esximg_profile *p, *back;
    if (esximg_profile_read(data, size, &p, NULL))
        return;
    char *xml, *again;
    size_t len, again_len;
    fuzz_check(esximg_profile_write(p, &xml, &len, NULL) == 0);
    fuzz_check(esximg_profile_read(xml, len, &back, NULL) == 0);
    fuzz_check(back->vib_count == p->vib_count && back->extra_count == p->extra_count);
    fuzz_check(strcmp(back->name, p->name) == 0);
    for (size_t i = 0; i < p->vib_count; i++)
        fuzz_check(back->vibs[i].payload_count == p->vibs[i].payload_count);
    fuzz_check(esximg_profile_write(back, &again, &again_len, NULL) == 0);
    fuzz_check(again_len == len && memcmp(again, xml, len) == 0);
    char *file;
    if (esximg_profile_file_name(p->name, p->creator, &file, NULL) == 0)
        free(file);
    free(xml);
    free(again);
    esximg_profile_free(back);
    esximg_profile_free(p);
}

static void fuzz_bulletin(const uint8_t *data, size_t size)
{
    struct esximg_bulletin *b, *back;
    if (esximg_bulletin_read(data, size, &b, NULL))
        return;
    char *xml, *again;
    size_t len, again_len;
    fuzz_check(esximg_bulletin_write(b, &xml, &len, NULL) == 0);
    fuzz_check(esximg_bulletin_read(xml, len, &back, NULL) == 0);
    fuzz_check(back->vib_count == b->vib_count && back->platform_count == b->platform_count);
    fuzz_check(esximg_bulletin_write(back, &again, &again_len, NULL) == 0);
    fuzz_check(again_len == len && memcmp(again, xml, len) == 0);
    free(xml);
    free(again);
    esximg_bulletin_free(back);
    esximg_bulletin_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    fuzz_profile(data, size);
    fuzz_bulletin(data, size);
    return 0;
}
