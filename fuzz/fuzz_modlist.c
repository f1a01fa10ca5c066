/* fuzz_modlist.c: `esxcli system module list` output. */
#include <stdint.h>
#include <stdlib.h>

#include "esximg/modlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_modlist *m = NULL;
    if (esximg_modlist_read(data, size, &m, NULL) == 0) {
        if (m->count == 0 || !m->modules[0].name)
            __builtin_trap();
        esximg_modlist_free(m);
    }
    return 0;
}
