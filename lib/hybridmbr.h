/* hybridmbr.h: esximg's own isohybrid MBR boot program (hybridmbr.S, assembled into
 * hybridmbr.c by mkhybridmbr.sh): the first 432 bytes of the MBR, zero-padded. */
#ifndef ESX_HYBRIDMBR_H
#define ESX_HYBRIDMBR_H

#include <stddef.h>
#include <stdint.h>

#define ESX_HYBRID_MBR_BYTES 432u

extern const uint8_t esx_hybrid_mbr[ESX_HYBRID_MBR_BYTES];
extern const size_t esx_hybrid_mbr_used;     /* bytes of program before the padding */

#endif
