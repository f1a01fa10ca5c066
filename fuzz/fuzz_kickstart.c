/* fuzz_kickstart.c: the kickstart checker, without an image and against a small one: every
 * problem and note has a message and a line within the file (0 only for what the file lacks),
 * and the checker never fails on text.  The first byte picks the image's release. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/kickstart.h"
#include "esximg/vib.h"

static void fuzz_check_list(const struct esximg_warnings *w, size_t lines)
{
    for (size_t i = 0; i < w->count; i++)
        if (!w->items[i].msg || !w->items[i].msg[0] || w->items[i].line > lines)
            __builtin_trap();
}

static void fuzz_check_with(const uint8_t *data, size_t size, const struct esximg_ks_env *env)
{
    struct esximg_ks_report *r = NULL;
    struct esximg_err err = {0};
    int rc = esximg_ks_check(data, size, env, &r, &err);
    if (rc) {
        /* only what is no text, too large, or out of memory */
        if (rc != ESXIMG_EFORMAT && rc != ESXIMG_ELIMIT && rc != ESXIMG_ENOMEM)
            __builtin_trap();
        return;
    }
    fuzz_check_list(&r->problems, r->line_count);
    fuzz_check_list(&r->notes, r->line_count);
    esximg_ks_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    fuzz_check_with(data, size, NULL);
    struct esximg_ks_env *env = NULL;
    if (esximg_ks_env_new(size ? 5u + data[0] % 5u : 8u, &env, NULL))
        return 0;
    char *files[] = {"usr/lib/vmware/vmkmod/ne1000", "/usr/lib/vmware/vmkmod/vmkusb_nic_fling",
                     "usr/lib/vmware/vmkmod/../x", "etc/vmware/ihv.map.d/x.map"};
    struct esximg_descriptor d = {.file_count = 4, .files = files};
    if (esximg_ks_env_add_vib(env, &d, NULL) == 0)
        fuzz_check_with(data, size, env);
    esximg_ks_env_free(env);
    return 0;
}
