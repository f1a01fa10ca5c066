/* image_private.h: the parts of the image model kept in files beside image.c (not installed). */
#ifndef ESX_IMAGE_PRIVATE_H
#define ESX_IMAGE_PRIVATE_H

#include "esximg/image.h"

/* imgsign.c: finds each VIB's .orig and .sig in the database. */
void esx_image_find_signatures(struct esximg_image *img);
/* imgsign.c: the problems of the signed VIBs (with `verify`, the PKCS#7 check too) and the
 * Secure Boot verdict; mods are /BOOT.CFG's modules (may be NULL). ENOMEM only. */
int esx_image_check_signatures(struct esximg_image *img, bool verify,
                               const struct esximg_bootcfg_modules *mods, struct esximg_err *err);

#endif
