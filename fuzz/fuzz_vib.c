/* fuzz_vib.c: the VIB reader; on success the verifier (sizes, sums, signature) and a
 * write-then-read of the members. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/vib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_rewrite(const struct esximg_vib *v)
{
    size_t n = v->member_count > 2 ? v->member_count - 2 : 0;
    struct esximg_vib_wmember *m = calloc(n ? n : 1, sizeof *m);
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        m[i].name = v->members[i + 2].name;
        m[i].data = v->bytes + v->members[i + 2].offset;
        m[i].len = (size_t)v->members[i + 2].size;
    }
    uint8_t *out;
    size_t out_len;
    /* refused when a name does not fit the VMware dialect; otherwise it must read back */
    if (esximg_vib_write(v->descriptor_bytes, v->descriptor_len, v->sig, v->sig_len, m, n,
                         &out, &out_len, NULL) == 0) {
        struct esximg_vib *again;
        if (esximg_vib_read(out, out_len, &again, NULL) != 0)
            abort();
        if (again->member_count != v->member_count || again->dialect != ESXIMG_AR_VMWARE)
            abort();
        for (size_t i = 0; i < v->member_count; i++)
            if (again->members[i].size != v->members[i].size ||
                memcmp(again->bytes + again->members[i].offset,
                       v->bytes + v->members[i].offset, (size_t)v->members[i].size) != 0)
                abort();
        esximg_vib_free(again);
        free(out);
    }
    free(m);
}

/* The lenient read: a strict read refuses what it keeps, and verify checks it all, the
 * renamed-payload guess included. */
static void fuzz_keep_missing(const uint8_t *data, size_t size)
{
    const struct esximg_vib_ropts keep = { .keep_missing = true };
    struct esximg_vib *v;
    if (esximg_vib_read_opts(data, size, &keep, &v, NULL) != 0)
        return;
    for (size_t i = 0; i < v->problem_count; i++)
        if (!v->problems[i].member || !v->problems[i].msg ||
            !esximg_vib_problem_name(v->problems[i].kind))
            abort();
    struct esximg_vib_verify_result *r;
    if (esximg_vib_verify(v, NULL, &r, NULL) == 0)
        esximg_vib_verify_result_free(r);
    esximg_vib_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esximg_vib *v;
    fuzz_keep_missing(data, size);
    if (esximg_vib_read(data, size, &v, NULL) != 0)
        return 0;
    struct esximg_vib_verify_result *r;
    if (esximg_vib_verify(v, NULL, &r, NULL) == 0)
        esximg_vib_verify_result_free(r);
    char *signer = NULL;
    if (esximg_vib_signer(v, &signer, NULL) == 0)
        free(signer);
    fuzz_rewrite(v);
    esximg_vib_free(v);
    return 0;
}
