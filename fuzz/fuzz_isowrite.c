/* fuzz_isowrite.c: the ISO writer (lib/isowrite.c) growing or rewriting arbitrary bytes taken
 * as an input image, with a file added, one replaced and one removed.  The writer takes paths,
 * so the bytes go to a temporary file first; the output is removed after each run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isowrite.h"

#define FUZZ_ISOWRITE_MAX_BYTES ((size_t)4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[4096];

static bool fuzz_setup(void)
{
    if (fuzz_dir[0])
        return true;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/esximg-fuzz-isowrite.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        fuzz_dir[0] = '\0';
        return false;
    }
    return true;
}

/* The first and second plain files that El Torito does not use. */
static void fuzz_pick(const struct esximg_iso *iso, const char **first, const char **second)
{
    *first = *second = NULL;
    for (size_t i = 0; i < iso->n_entries && !*second; i++) {
        const struct esximg_iso_entry *e = &iso->entries[i];
        bool boot = false;
        for (size_t b = 0; b < iso->n_boots; b++)
            boot |= iso->boots[b].path && strcmp(iso->boots[b].path, e->path) == 0;
        if (e->type != ESXIMG_ISO_FILE || boot)
            continue;
        if (!*first)
            *first = e->path;
        else
            *second = e->path;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_ISOWRITE_MAX_BYTES || !fuzz_setup())
        return 0;
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/in.iso", fuzz_dir);
    snprintf(out, sizeof out, "%s/out.iso", fuzz_dir);
    if (esximg_file_write(in, data, size, 0600, NULL) != 0)
        return 0;
    struct esximg_iso *iso = NULL;
    struct esximg_iso_ropts ropts = {.max_entries = 4096, .max_depth = 16};
    if (esximg_iso_open_memory(data, size, &ropts, &iso, NULL) != 0)
        iso = NULL;
    const char *first = NULL, *second = NULL;
    if (iso)
        fuzz_pick(iso, &first, &second);
    struct esximg_iso_change c[3] = {
        {.kind = ESXIMG_ISO_ADD, .iso_path = "/FUZZ/NEW.V00", .data = "new", .len = 3},
    };
    size_t n = 1;
    if (first)
        c[n++] = (struct esximg_iso_change){.kind = ESXIMG_ISO_REPLACE, .iso_path = first,
                                            .data = data, .len = size < 5000 ? size : 5000};
    if (second)
        c[n++] = (struct esximg_iso_change){.kind = ESXIMG_ISO_REMOVE, .iso_path = second};
    struct esximg_iso_wopts o = {.mtime = 1600000000, .full_rewrite = size % 2 == 1,
                                 .keep_volume_dates = size % 3 == 0};
    if (esximg_iso_write(in, c, n, &o, out, NULL) == 0) {
        /* what was written reads back */
        struct esximg_iso *res = NULL;
        if (esximg_iso_open(out, NULL, &res, NULL) != 0 || !esximg_iso_find(res, c[0].iso_path))
            abort();
        esximg_iso_close(res);
        unlink(out);
    }
    esximg_iso_close(iso);
    unlink(in);
    return 0;
}
