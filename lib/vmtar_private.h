/* vmtar_private.h: what vmtar.c (the format) lends vmtar_disk.c (extraction to disk), not
 * installed: the streaming scan with the hooks the library's own readers add to it. */
#ifndef ESX_VMTAR_PRIVATE_H
#define ESX_VMTAR_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/vmtar.h"

/* What the library's own stream readers add to a scan. */
struct vmtar_scan_hooks {
    /* called with the headers (no contents) after they were all read and checked, before
     * want() is asked; the model stays valid until the scan returns (or is handed over) */
    int (*headers)(void *ctx, const struct esximg_vmtar *v, struct esximg_err *err);
    bool to_end;               /* inflate to the end of the archive, checking it whole */
    uint64_t *length;          /* with to_end: gets the decompressed length */
    /* instead of take(): each wanted content in pieces of at most VMTAR_PIECE (vmtar.c) bytes, `at`
     * bytes into it, so memory does not grow with the entry */
    int (*piece)(void *ctx, const struct esximg_vmtar_entry *e, const uint8_t *p, size_t n,
                 uint64_t at, struct esximg_err *err);
};

/* esximg_vmtar_scan with hooks (may be NULL); *keep (when not NULL) gets the model of the
 * headers on success. */
int esx_vmtar_scan_run(const struct esximg_vmtar_source *src,
                       const struct esximg_vmtar_scan_opts *o,
                       const struct vmtar_scan_hooks *hooks, struct esximg_vmtar **keep,
                       struct esximg_err *err);

#endif
