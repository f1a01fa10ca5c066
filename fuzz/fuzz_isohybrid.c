/* fuzz_isohybrid.c: the hybrid MBR/GPT writer (lib/isohybrid.c) on arbitrary bytes taken as an
 * ISO image, with the built-in MBR code and with a template.  The writer takes paths, so the
 * bytes go to a temporary file first; the output is removed after each run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esximg/isohybrid.h"

#define FUZZ_HYBRID_MAX_BYTES ((size_t)256 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[4096];
static char fuzz_in[4200], fuzz_out[4200], fuzz_tpl[4200];

static bool fuzz_put(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* A template directory: isohdpfx.bin (a pattern) and an isolinux.bin with a 6.04 banner. */
static bool fuzz_setup(void)
{
    if (fuzz_dir[0])
        return true;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/esximg-fuzz-isohybrid.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        fuzz_dir[0] = '\0';
        return false;
    }
    snprintf(fuzz_in, sizeof fuzz_in, "%s/in.iso", fuzz_dir);
    snprintf(fuzz_out, sizeof fuzz_out, "%s/out.img", fuzz_dir);
    snprintf(fuzz_tpl, sizeof fuzz_tpl, "%s/isohdpfx.bin", fuzz_dir);
    uint8_t code[ESXIMG_HYBRID_MBR_CODE], bin[2048] = {0};
    memset(code, 0xc3, sizeof code);
    memcpy(bin + 0x40, "\xfb\xc0\x78\x70", 4);
    memcpy(bin + 0x200, "ISOLINUX 6.04 20200816 ", 24);
    char path[4200];
    snprintf(path, sizeof path, "%s/isolinux.bin", fuzz_dir);
    return fuzz_put(fuzz_tpl, code, sizeof code) && fuzz_put(path, bin, sizeof bin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_HYBRID_MAX_BYTES || !fuzz_setup() || !fuzz_put(fuzz_in, data, size))
        return 0;
    struct esximg_hybrid_opts builtin = {.no_gpt = size % 3 == 1};
    struct esximg_hybrid_opts given = {.mbr_template = fuzz_tpl, .no_gpt = size % 2 == 1};
    struct esximg_hybrid_info info;
    if (esximg_hybrid_write(fuzz_in, &builtin, fuzz_out, NULL, NULL, &info, NULL) == 0)
        unlink(fuzz_out);
    if (esximg_hybrid_write(fuzz_in, &given, fuzz_out, NULL, NULL, &info, NULL) == 0)
        unlink(fuzz_out);
    return 0;
}
