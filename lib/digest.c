/* digest.c: SHA-1 and SHA-256 through OpenSSL's libcrypto, as lower-case hex. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "esx_private.h"

/* md_len bytes as lower-case hex in out (2 * md_len + 1 bytes) */
static void digest_to_hex(const unsigned char *md, unsigned int md_len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * md_len] = '\0';
}

int esx_digest_hex(enum esx_digest_kind kind, const void *data, size_t len, char *out,
                   struct esximg_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const EVP_MD *type = kind == ESX_SHA1 ? EVP_sha1() : EVP_sha256();
    if (!EVP_Digest(data, len, md, &md_len, type, NULL))
        return esximg_err_set(err, ESXIMG_ENOMEM, "libcrypto could not compute a digest");
    digest_to_hex(md, md_len, out);
    return 0;
}

/* Incremental hashing, for payloads hashed while they are decompressed. */
struct esx_digest {
    EVP_MD_CTX *ctx;
};

int esx_digest_new(enum esx_digest_kind kind, struct esx_digest **out, struct esximg_err *err)
{
    struct esx_digest *d = calloc(1, sizeof *d);
    if (!d)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || !EVP_DigestInit_ex(d->ctx, kind == ESX_SHA1 ? EVP_sha1() : EVP_sha256(),
                                      NULL)) {
        esx_digest_free(d);
        return esximg_err_set(err, ESXIMG_ENOMEM, "libcrypto could not start a digest");
    }
    *out = d;
    return 0;
}

int esx_digest_update(struct esx_digest *d, const void *data, size_t len,
                      struct esximg_err *err)
{
    if (len && !EVP_DigestUpdate(d->ctx, data, len))
        return esximg_err_set(err, ESXIMG_ENOMEM, "libcrypto could not update a digest");
    return 0;
}

int esx_digest_final_hex(struct esx_digest *d, char *out, struct esximg_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_DigestFinal_ex(d->ctx, md, &md_len))
        return esximg_err_set(err, ESXIMG_ENOMEM, "libcrypto could not finish a digest");
    digest_to_hex(md, md_len, out);
    return 0;
}

void esx_digest_free(struct esx_digest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}
