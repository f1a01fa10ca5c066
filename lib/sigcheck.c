/* sigcheck.c: whether a detached PKCS#7 signature (a VIB's sig.pkcs7) signs given bytes.
 *
 * Only the integrity of the signed bytes is checked: the signer's certificate is taken from the
 * signature itself and trusted, so the answer does not depend on a CA bundle or on the clock.
 * Whether the signer is one ESXi trusts is `esximg vib verify --ca`'s question. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include "esx_private.h"

bool esx_sig_is_empty(const void *sig, size_t len)
{
    const char *p = sig;
    for (size_t i = 0; i < len; i++)
        if (!esx_is_blank(p[i]) && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

struct pkcs7_st *esx_pkcs7_parse(const void *sig, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(sig, (int)len);
    PKCS7 *p7 = bio ? PEM_read_bio_PKCS7(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!p7) {
        /* not PEM: try DER */
        ERR_clear_error();
        bio = BIO_new_mem_buf(sig, (int)len);
        p7 = bio ? d2i_PKCS7_bio(bio, NULL) : NULL;
        BIO_free(bio);
    }
    return p7;
}

char *esx_ssl_error(const char *what)
{
    char buf[400];
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, sizeof buf, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
    ERR_clear_error();
    return esx_strdup(buf);
}

static int sigcheck_why(char **why, const char *what, struct esximg_err *err)
{
    if (!(*why = esx_ssl_error(what)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

int esx_sig_signs(const void *sig, size_t sig_len, const void *content, size_t len, char **why,
                  struct esximg_err *err)
{
    *why = NULL;
    if (sig_len > ESX_MAX_XML_BYTES || len > INT_MAX)
        return sigcheck_why(why, "the signature or the signed text is too large", err);
    ERR_clear_error();
    PKCS7 *p7 = esx_pkcs7_parse(sig, sig_len);
    if (!p7 || !PKCS7_type_is_signed(p7)) {
        PKCS7_free(p7);
        return sigcheck_why(why, "not a PKCS#7 signature", err);
    }
    BIO *data = BIO_new_mem_buf(content, (int)len);
    int rc = 0;
    if (!data)
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    else if (PKCS7_verify(p7, NULL, NULL, data, NULL, PKCS7_BINARY | PKCS7_NOVERIFY) != 1)
        rc = sigcheck_why(why, "the signature does not match the signed text", err);
    ERR_clear_error();
    BIO_free(data);
    PKCS7_free(p7);
    return rc;
}
