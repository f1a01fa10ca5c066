/* fuzz_lspci.c: lspci output read, and the --pci argument parser on the first bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/lspci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_lspci *l = NULL;
    if (esximg_lspci_read(data, size, NULL, &l, NULL) == 0) {
        if (l->device_count == 0)
            __builtin_trap();
        esximg_lspci_free(l);
    }
    char arg[40];
    size_t n = size < sizeof arg - 1 ? size : sizeof arg - 1;
    memcpy(arg, data, n);
    arg[n] = '\0';
    struct esximg_pci_device dev;
    esximg_pci_device_parse(arg, &dev, NULL);
    return 0;
}
