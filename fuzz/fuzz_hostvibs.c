/* fuzz_hostvibs.c: esxcli software vib list / vib get / component list output read; every
 * entry read has a name and a version, and the relation lists hold named constraints.  The
 * corpus seeds are real outputs from ../shared/samples/esxi-host-outputs (their SOURCES.tsv
 * names each origin), the 6.7U3 list cut to its first rows. */
#include <stdint.h>
#include <stdlib.h>

#include "esximg/hostvibs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_hostvibs *h = NULL;
    if (esximg_hostvibs_read(data, size, &h, NULL) == 0) {
        if (h->count == 0)
            __builtin_trap();
        for (size_t i = 0; i < h->count; i++) {
            const struct esximg_descriptor *d = h->vibs[i].desc;
            if (!d->name || !d->version)
                __builtin_trap();
            for (size_t j = 0; j < d->depends.count; j++)
                if (!d->depends.items[j].name)
                    __builtin_trap();
        }
        esximg_hostvibs_free(h);
    }
    return 0;
}
