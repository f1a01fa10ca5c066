/* fuzz_oemtgz.c: reads an ESXi-Customizer OEM driver .tgz; what reads must build into a VIB
 * that reads back and verifies, listing exactly the files found. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/vib.h"
#include "esximg/vibauthor.h"

#define FUZZ_MAX_INPUT (1u << 20)

static void fuzz_check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct esximg_vibauthor_oem *o = NULL;
    struct esximg_err err = {0};
    if (esximg_vibauthor_oem_read(data, size, &o, &err))
        return 0;
    fuzz_check(o->file_count == 2 || o->file_count == 3);
    struct esximg_descriptor *d = NULL;
    fuzz_check(esximg_vibauthor_descriptor_new(&d, &err) == 0);
    const struct esximg_vibauthor_fields f = { .name = "fuzz", .version = "1.0-1",
                                               .vendor = "fuzz" };
    fuzz_check(esximg_vibauthor_apply(d, &f, &err) == 0);
    struct esximg_vibauthor_entry e[3];
    for (size_t i = 0; i < o->file_count; i++)
        e[i] = (struct esximg_vibauthor_entry){ .path = o->files[i].path,
                                                .data = o->files[i].data,
                                                .len = o->files[i].len };
    const struct esximg_vibauthor_payload p = { .name = "fuzz", .entries = e,
                                                .entry_count = o->file_count };
    const struct esximg_vibauthor_opts opts = { .gzip_level = 1 };
    uint8_t *vib = NULL;
    size_t len = 0;
    fuzz_check(esximg_vibauthor_build(d, &p, 1, &opts, &vib, &len, &err) == 0);
    struct esximg_vib *v = NULL;
    fuzz_check(esximg_vib_read(vib, len, &v, &err) == 0);
    fuzz_check(v->desc->file_count == o->file_count);
    struct esximg_vib_verify_result *r = NULL;
    fuzz_check(esximg_vib_verify(v, NULL, &r, &err) == 0 && r->all_ok);
    esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
    free(vib);
    esximg_descriptor_free(d);
    esximg_vibauthor_oem_free(o);
    return 0;
}
