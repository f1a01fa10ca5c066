/* fuzz_imgdb.c: reads IMGDB.TGZ bytes (gzip'd or plain tar); what reads must write, read back
 * with the same members, and write again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/imgdb.h"

#define FUZZ_MAX_INPUT (1u << 20)

static void fuzz_check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct esximg_imgdb *db;
    struct esximg_err err = {0};
    if (esximg_imgdb_read(data, size, &db, &err))
        return 0;
    const struct esximg_imgdb_wopts o = { .mtime = 1, .gzip_level = 1 };
    uint8_t *out = NULL, *again = NULL;
    size_t out_len = 0, again_len = 0;
    int rc = esximg_imgdb_write(db, &o, &out, &out_len, &err);
    fuzz_check(rc == 0 || rc == ESXIMG_ELIMIT);
    if (rc == 0) {
        struct esximg_imgdb *back;
        fuzz_check(esximg_imgdb_read(out, out_len, &back, &err) == 0);
        fuzz_check(back->vib_count == db->vib_count);
        fuzz_check(back->bulletin_count == db->bulletin_count);
        fuzz_check(back->reserved_count == db->reserved_count);
        fuzz_check(back->other_count == db->other_count);
        fuzz_check(!back->profile == !db->profile);
        fuzz_check(!db->profile || back->profile->vib_count == db->profile->vib_count);
        fuzz_check(esximg_imgdb_write(back, &o, &again, &again_len, &err) == 0);
        fuzz_check(again_len == out_len && memcmp(again, out, out_len) == 0);
        esximg_imgdb_free(back);
    }
    free(out);
    free(again);
    esximg_imgdb_free(db);
    return 0;
}
