/* gz.c: gzip members over zlib, with size and ratio limits against bombs. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "esx_private.h"

bool esx_is_gzip(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8;
}

struct esx_gzstream {
    z_stream z;
    const uint8_t *in;
    size_t in_len;
    uint64_t produced;
    bool ended;
};

int esx_gzstream_open(const uint8_t *in, size_t in_len, struct esx_gzstream **out,
                      struct esximg_err *err)
{
    if (!esx_is_gzip(in, in_len))
        return esximg_err_set(err, ESXIMG_EFORMAT, "not gzip data (no 1f 8b 08 magic)");
    struct esx_gzstream *s = calloc(1, sizeof *s);
    if (!s)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    s->in = in;
    s->in_len = in_len;
    /* 16 + MAX_WBITS: gzip wrapper only, one member */
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        free(s);
        return esximg_err_set(err, ESXIMG_ENOMEM, "cannot start zlib");
    }
    *out = s;
    return 0;
}

int esx_gzstream_read(struct esx_gzstream *s, void *buf, size_t n, size_t *got,
                      struct esximg_err *err)
{
    *got = 0;
    if (s->ended || n == 0)
        return 0;
    size_t done = 0;
    while (done < n && !s->ended) {
        size_t consumed = s->in_len - (size_t)(s->z.total_in);
        const uint8_t *next = s->in + s->z.total_in;
        s->z.next_in = (Bytef *)(uintptr_t)next;
        s->z.avail_in = consumed > UINT32_MAX ? UINT32_MAX : (uInt)consumed;
        size_t want = n - done;
        s->z.next_out = (Bytef *)buf + done;
        s->z.avail_out = want > UINT32_MAX ? UINT32_MAX : (uInt)want;
        uInt before = s->z.avail_out;
        int zrc = inflate(&s->z, Z_NO_FLUSH);
        done += before - s->z.avail_out;
        if (zrc == Z_STREAM_END) {
            s->ended = true;
            break;
        }
        if (zrc == Z_BUF_ERROR && s->z.avail_in == 0)
            return esximg_err_set(err, ESXIMG_EFORMAT,
                                  "gzip data is truncated (ends after %llu compressed bytes)",
                                  (unsigned long long)s->in_len);
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return esximg_err_set(err, ESXIMG_EFORMAT, "gzip data is corrupt: %s",
                                  s->z.msg ? s->z.msg : "inflate failed");
    }
    s->produced += done;
    *got = done;
    return 0;
}

uint64_t esx_gzstream_consumed(const struct esx_gzstream *s)
{
    return (uint64_t)s->z.total_in;
}

void esx_gzstream_close(struct esx_gzstream *s)
{
    if (!s)
        return;
    inflateEnd(&s->z);
    free(s);
}

int esx_gunzip(const uint8_t *in, size_t in_len, uint64_t max_out, bool allow_trailing,
               uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    struct esx_gzstream *s;
    int rc = esx_gzstream_open(in, in_len, &s, err);
    if (rc)
        return rc;
    if (max_out == 0 || max_out > ESX_MAX_GUNZIP_BYTES)
        max_out = ESX_MAX_GUNZIP_BYTES;
    struct esx_buf b;
    esx_buf_init(&b, (size_t)max_out);
    uint8_t chunk[65536];
    for (;;) {
        size_t got;
        rc = esx_gzstream_read(s, chunk, sizeof chunk, &got, err);
        if (rc)
            goto out;
        if (got == 0)
            break;
        if (b.len + got > max_out) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT,
                                "gzip data inflates past the limit of %llu bytes",
                                (unsigned long long)max_out);
            goto out;
        }
        /* a bomb: far more output than any real payload gives for its input */
        uint64_t ratio_cap;
        if (b.len + got > ESX_GUNZIP_RATIO_FLOOR &&
            (esx_mul_u64((uint64_t)s->z.total_in, ESX_MAX_GUNZIP_RATIO, &ratio_cap) ||
             b.len + got > ratio_cap)) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT,
                                "gzip data inflates more than %u times its size (a bomb?)",
                                ESX_MAX_GUNZIP_RATIO);
            goto out;
        }
        rc = esx_buf_append(&b, chunk, got, err);
        if (rc)
            goto out;
    }
    if (!allow_trailing && s->z.total_in != in_len) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT,
                            "%llu bytes follow the gzip member",
                            (unsigned long long)(in_len - s->z.total_in));
        goto out;
    }
    *out = (uint8_t *)esx_buf_take(&b, out_len);
out:
    esx_buf_free(&b);
    esx_gzstream_close(s);
    return rc;
}

int esx_gzip(const uint8_t *in, size_t in_len, int level, uint8_t **out, size_t *out_len,
             struct esximg_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (level < 0 || level > 9)
        level = 9;
    /* memLevel 8 as zlib's and Python's gzip default, which VMware's 7.0+ modules use;
     * 16 + MAX_WBITS writes a gzip header with mtime 0, no name, OS byte from zlib;
     * the OS byte is patched to 255 below so output does not depend on the build host */
    if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return esximg_err_set(err, ESXIMG_ENOMEM, "cannot start zlib");
    gz_header h;
    memset(&h, 0, sizeof h);
    h.os = 255;
    deflateSetHeader(&z, &h);
    uLong bound = deflateBound(&z, (uLong)in_len) + 64;
    uint8_t *buf = malloc(bound);
    if (!buf) {
        deflateEnd(&z);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory compressing %zu bytes",
                              in_len);
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.next_out = buf;
    int zrc = Z_OK;
    size_t left = in_len;
    /* feed in chunks: avail_in is 32-bit */
    while (zrc == Z_OK) {
        if (z.avail_in == 0 && left > 0) {
            uInt take = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z.avail_in = take;
            left -= take;
        }
        z.avail_out = (uInt)(bound - z.total_out > UINT32_MAX ? UINT32_MAX
                                                              : bound - z.total_out);
        zrc = deflate(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
    }
    if (zrc != Z_STREAM_END) {
        deflateEnd(&z);
        free(buf);
        return esximg_err_set(err, ESXIMG_EINVAL, "zlib could not compress the data");
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    *out = buf;
    return 0;
}
