/* fuzz_pciids.c: .ids read and lookups. */
#include <stdint.h>
#include <stdlib.h>

#include "esximg/pciids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_pciids *ids = NULL;
    if (esximg_pciids_read(data, size, NULL, &ids, NULL) != 0)
        return 0;
    for (size_t i = 0; i < ids->vendor_count && i < 4; i++) {
        const struct esximg_pciids_vendor *v = &ids->vendors[i];
        if (!esximg_pciids_vendor_name(ids, v->id))
            __builtin_trap();
        for (size_t j = 0; j < v->device_count && j < 4; j++) {
            const struct esximg_pciids_device *d = &v->devices[j];
            if (!esximg_pciids_device_name(ids, v->id, d->id))
                __builtin_trap();
            for (size_t k = 0; k < d->subsys_count && k < 4; k++)
                if (!esximg_pciids_subsys_name(ids, v->id, d->id, d->subsys[k].subvendor,
                                               d->subsys[k].subdevice))
                    __builtin_trap();
        }
    }
    esximg_pciids_device_name(ids, 0x8086, 0x105e);
    esximg_pciids_free(ids);
    return 0;
}
