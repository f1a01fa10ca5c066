/* fuzz_bootcfg.c: BOOT.CFG read must write back the same bytes; edits must give a file that
 * reads again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/bootcfg.h"

static void fuzz_check_rewrite(const struct esximg_bootcfg *c, const uint8_t *data, size_t size)
{
    char *out;
    size_t len;
    if (esximg_bootcfg_write(c, &out, &len, NULL) != 0)
        return;
    if (len != size || memcmp(out, data, size) != 0)
        __builtin_trap();
    free(out);
}

/* The loader rules: every violation carries a message and a line of the file; an edit
 * checked against the file's own bytes names only what it added. */
static void fuzz_check_loader(const struct esximg_bootcfg *c, const uint8_t *data, size_t size)
{
    struct esximg_bootcfg_violations *v;
    if (esximg_bootcfg_check_loader(c, &v, NULL) != 0)
        return;
    for (size_t i = 0; i < v->count; i++)
        if (!v->items[i].msg || v->items[i].line == 0 || v->items[i].line > c->line_count)
            __builtin_trap();
    esximg_bootcfg_violations_free(v);
    int rc = esximg_bootcfg_check_edit((const char *)data, size, c, "boot.cfg", NULL);
    if (rc == ESXIMG_EINVAL || rc == ESXIMG_ELIMIT)
        __builtin_trap();
}

/* Runs the edits and reads the result again: it must still parse. */
static void fuzz_edit(struct esximg_bootcfg *c)
{
    struct esximg_bootcfg_modules *m;
    struct esximg_bootcfg_options *o;
    if (esximg_bootcfg_modules_get(c, &m, NULL) == 0)
        esximg_bootcfg_modules_free(m);
    if (esximg_bootcfg_kernelopt_get(c, &o, NULL) == 0)
        esximg_bootcfg_options_free(o);
    esximg_bootcfg_module_insert_before(c, "imgdb.tgz", "new.v00", NULL, NULL);
    esximg_bootcfg_module_append(c, "/last.tgz", "a=1", NULL);
    esximg_bootcfg_module_remove(c, "k.b00", NULL);
    esximg_bootcfg_kernelopt_set(c, "ks", "cdrom:/KS.CFG", NULL);
    esximg_bootcfg_kernelopt_remove(c, "runweasel", NULL);
    esximg_bootcfg_set(c, "title", "fuzz", NULL);
    char *out;
    size_t len;
    if (esximg_bootcfg_write(c, &out, &len, NULL) != 0)
        return;
    struct esximg_bootcfg *again = NULL;
    int rc = esximg_bootcfg_read(out, len, NULL, &again, NULL);
    if (rc != 0)
        __builtin_trap();
    esximg_bootcfg_free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    struct esximg_bootcfg *c = NULL;
    if (esximg_bootcfg_read(data, size, NULL, &c, NULL) != 0)
        return 0;
    fuzz_check_rewrite(c, data, size);
    fuzz_check_loader(c, data, size);
    fuzz_edit(c);
    esximg_bootcfg_free(c);
    return 0;
}
