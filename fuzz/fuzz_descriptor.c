/* fuzz_descriptor.c: the descriptor.xml reader; on success write, read again and compare. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/vib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esximg_descriptor *d, *d2;
    if (esximg_descriptor_read(data, size, &d, NULL) != 0)
        return 0;
    char *xml, *xml2;
    size_t len, len2;
    if (esximg_descriptor_write(d, &xml, &len, NULL) != 0)
        abort();
    if (esximg_descriptor_read(xml, len, &d2, NULL) != 0)
        abort();
    if (!fuzz_same(d->name, d2->name) || !fuzz_same(d->version, d2->version) ||
        !fuzz_same(d->vendor, d2->vendor) || !fuzz_same(d->type, d2->type) ||
        d->payload_count != d2->payload_count || d->file_count != d2->file_count ||
        d->tag_count != d2->tag_count || d->depends.count != d2->depends.count ||
        d->extra_count != d2->extra_count || d->maintenance_mode != d2->maintenance_mode)
        abort();
    for (size_t i = 0; i < d->payload_count; i++)
        if (!fuzz_same(d->payloads[i].name, d2->payloads[i].name) ||
            d->payloads[i].size != d2->payloads[i].size ||
            d->payloads[i].checksum_count != d2->payloads[i].checksum_count)
            abort();
    /* the written form is a fixed point */
    if (esximg_descriptor_write(d2, &xml2, &len2, NULL) != 0 || len != len2 ||
        memcmp(xml, xml2, len) != 0)
        abort();
    free(xml);
    free(xml2);
    esximg_descriptor_free(d);
    esximg_descriptor_free(d2);
    return 0;
}
