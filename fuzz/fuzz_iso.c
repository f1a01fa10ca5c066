/* fuzz_iso.c: the ISO reader (lib/iso.c, libisofs underneath) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "esximg/iso.h"

#define FUZZ_ISO_MAX_BYTES ((size_t)4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_ISO_MAX_BYTES)
        return 0;
    struct esximg_iso *iso = NULL;
    struct esximg_iso_ropts opts = {.max_entries = 4096, .max_depth = 16};
    if (esximg_iso_open_memory(data, size, &opts, &iso, NULL) != 0)
        return 0;
    /* what ESXi's UEFI driver reads: a run of descriptors within the searched blocks, a
       highest directory record inside the image */
    if (!iso->last_dir_record_dir || iso->last_dir_record >= size ||
        (iso->pvd_count && (iso->first_pvd_block < 16 ||
                            iso->last_pvd_block < iso->first_pvd_block)))
        __builtin_trap();
    (void)esximg_iso_find(iso, "/boot.cfg");
    (void)esximg_iso_find(iso, "efi/boot/boot.cfg");
    size_t files = 0;
    for (size_t i = 0; i < iso->n_entries && files < 16; i++) {
        const struct esximg_iso_entry *e = &iso->entries[i];
        if (e->type != ESXIMG_ISO_FILE)
            continue;
        files++;
        uint8_t *content = NULL;
        size_t len = 0;
        if (esximg_iso_read_file(iso, e->path, 65536, &content, &len, NULL) == 0)
            free(content);
        struct esximg_iso_reader *r = NULL;
        if (esximg_iso_reader_open(iso, e->path, &r, NULL) == 0) {
            uint8_t buf[700];
            size_t got = 0;
            for (int k = 0; k < 4; k++)
                if (esximg_iso_reader_read(r, buf, sizeof buf, &got, NULL) != 0 || got == 0)
                    break;
            esximg_iso_reader_close(r);
        }
    }
    esximg_iso_close(iso);
    return 0;
}
