/* digest.c: SHA-1 and SHA-256 through OpenSSL's libcrypto, as lower-case hex. */
#include <openssl/evp.h>

#include "esx_private.h"

int esx_digest_hex(enum esx_digest_kind kind, const void *data, size_t len, char *out,
                   struct esximg_err *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const EVP_MD *type = kind == ESX_SHA1 ? EVP_sha1() : EVP_sha256();
    if (!EVP_Digest(data, len, md, &md_len, type, NULL))
        return esximg_err_set(err, ESXIMG_ENOMEM, "libcrypto could not compute a digest");
    for (unsigned int i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * md_len] = '\0';
    return 0;
}
