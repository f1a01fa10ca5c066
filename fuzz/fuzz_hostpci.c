/* fuzz_hostpci.c: a running host's device list in any form, merged into a copy of itself
 * (every slot then meets its twin), and the slot normaliser on the first bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/hostpci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_hostpci *a = NULL, *b = NULL;
    if (esximg_hostpci_read(data, size, NULL, &a, NULL) == 0) {
        if (a->device_count == 0)
            __builtin_trap();
        if (esximg_hostpci_read(data, size, NULL, &b, NULL) != 0)
            __builtin_trap();       /* the same bytes must read the same way */
        size_t before = a->device_count;
        if (esximg_hostpci_merge(a, b, NULL) == 0) {
            size_t slotless = 0;
            for (size_t i = 0; i < b->device_count; i++)
                slotless += b->devices[i].slot == NULL;
            if (a->device_count > before + slotless)
                __builtin_trap();   /* a slot already there must not be added twice */
        }
        esximg_hostpci_free(b);
        esximg_hostpci_free(a);
    }
    char slot[20];
    esximg_hostpci_slot((const char *)data, size < 24 ? size : 24, slot);
    return 0;
}
