/* fuzz_drivermap.c: map read, then the matcher on a few fixed devices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/drivermap.h"

static const struct esximg_pci_device fuzz_devices[] = {
    {.vendor = 0x8086, .device = 0x10d3, .subvendor = 0x8086, .subdevice = 0xa01f,
     .class_code = 0x0200, .has_subsys = true, .has_class = true, .has_progif = true},
    {.vendor = 0x8086, .device = 0x2922, .class_code = 0x0106, .progif = 0x01,
     .has_class = true},
    {.vendor = 0x1000, .device = 0x005b},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_drivermap_ropts o = {.path = "etc/vmware/default.map.d/fuzz.map"};
    struct esximg_drivermap *m = NULL;
    if (esximg_drivermap_read(data, size, &o, &m, NULL) != 0)
        return 0;
    const struct esximg_drivermap *maps[2] = {m, m};
    for (size_t i = 0; i < sizeof fuzz_devices / sizeof fuzz_devices[0]; i++) {
        struct esximg_map_match *match = NULL;
        if (esximg_drivermap_match(maps, 2, &fuzz_devices[i], &match, NULL) != 0)
            continue;
        struct esximg_map_winner w;
        esximg_drivermap_pick(match, &w);
        if (match->claim_count && (!w.claim || strlen(w.claim->entry->pci_pattern) != 22))
            __builtin_trap();
        esximg_map_match_free(match);
    }
    esximg_drivermap_free(m);
    return 0;
}
