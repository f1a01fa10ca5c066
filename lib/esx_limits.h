/* esx_limits.h: every size limit libesximg enforces on its input, in one place.
 * Hitting one is ESXIMG_ELIMIT, and the message names the limit. */
#ifndef ESX_LIMITS_H
#define ESX_LIMITS_H

#include <stdint.h>

/* Whole small files read into memory (VIBs, bundles, BOOT.CFG, maps). */
#define ESX_MAX_FILE_BYTES        ((uint64_t)2 << 30)   /* 2 GiB */
/* Decompressed bytes of one gzip member kept in memory. */
#define ESX_MAX_GUNZIP_BYTES      ((uint64_t)1 << 30)   /* 1 GiB */
/* Decompressed / compressed ratio above which a gzip member is a bomb, checked only once the
 * output passes ESX_GUNZIP_RATIO_FLOOR (small members of zeros legitimately go past it). */
#define ESX_MAX_GUNZIP_RATIO      256u
#define ESX_GUNZIP_RATIO_FLOOR    ((uint64_t)16 << 20)  /* 16 MiB */
/* Entries in one vmtar or tar archive. */
#define ESX_MAX_ARCHIVE_ENTRIES   100000u
/* Members in one ar archive (a VIB has descriptor, signature and a few payloads). */
#define ESX_MAX_AR_MEMBERS        4096u
/* All the member bytes of one image database (IMGDB.TGZ), and its tar once gunzipped. */
#define ESX_MAX_IMGDB_BYTES       ((uint64_t)256 << 20) /* 256 MiB */
/* An XML document (descriptor, profile, bulletin, metadata). */
#define ESX_MAX_XML_BYTES         ((uint64_t)16 << 20)  /* 16 MiB */
/* A JSON document of a depot (base image, add-on, manifest: a few KiB), and its nesting (they
 * are three levels deep). */
#define ESX_MAX_JSON_BYTES        ((uint64_t)16 << 20)  /* 16 MiB */
#define ESX_MAX_JSON_DEPTH        16u
/* One text line in BOOT.CFG, a map or an ids file. */
#define ESX_MAX_LINE_BYTES        65536u
/* BOOT.CFG read from an image (VMware's are about 2 KiB). */
#define ESX_MAX_BOOTCFG_BYTES     ((uint64_t)1 << 20)   /* 1 MiB */
/* Bytes inflated from one driver payload while its map and ids files are looked for: driver
 * payloads are a few MiB at most. */
#define ESX_MAX_DRIVER_PAYLOAD_BYTES ((uint64_t)256 << 20) /* 256 MiB */
/* A text configuration file (BOOT.CFG, map, ids). */
#define ESX_MAX_TEXT_BYTES        ((uint64_t)16 << 20)  /* 16 MiB */
/* Lines of one text file (BOOT.CFG, map, ids, lspci output); the full pci.ids has ~40000. */
#define ESX_MAX_TEXT_LINES        1000000u
/* Warnings kept on one model; the rest are only counted. */
#define ESX_MAX_WARNINGS          1000u
/* A path inside an archive. */
#define ESX_MAX_PATH_BYTES        4096u
/* Files and directories in one ISO image, and their nesting depth (ISO 9660 allows 8; Rock
 * Ridge images go deeper). */
#define ESX_MAX_ISO_ENTRIES       100000u
#define ESX_MAX_ISO_DEPTH         32u
#define ESX_MAX_ISO_VOLUME_DESCRIPTORS 64u    /* blocks 16.. searched for the boot record */
/* A no-emulation El Torito boot image read to verify its boot info table. */
#define ESX_MAX_BOOT_INFO_BYTES   ((uint64_t)4 << 20)   /* 4 MiB */
/* Nesting depth of zip-in-zip bundles. */
#define ESX_MAX_ZIP_DEPTH         2u
/* Members in one zip (a bundle or its metadata zip). */
#define ESX_MAX_ZIP_ENTRIES       65536u
/* Bytes inflated from one bundle, nested zips and metadata included (VIBs are kept in memory). */
#define ESX_MAX_DEPOT_BYTES       ((uint64_t)4 << 30)   /* 4 GiB */
/* Members of one OEM driver .tgz: three files and the folders leading to them. */
#define ESX_MAX_OEM_ENTRIES       64u
/* One file of an OEM driver .tgz (module, map, ids): drivers are a few MiB. */
#define ESX_MAX_OEM_FILE_BYTES    ((uint64_t)64 << 20)  /* 64 MiB */
/* ISOLINUX.BIN read for its version banner, and the isolinux.bin beside an MBR template
 * (about 40 KiB in syslinux 6). */
#define ESX_MAX_HYBRID_LOADER_BYTES ((uint64_t)1 << 20) /* 1 MiB */
/* The latest mtime a tar or vmtar header holds: 11 octal digits, 8^11 - 1 (in 2242). A later
 * time asked for is ESXIMG_EINVAL, not ELIMIT: it is a bad option, not a large input. */
#define ESX_TAR_MTIME_MAX         ((int64_t)077777777777)
/* A kickstart file (ESXi's own default ks.cfg is half a KiB; scripted installs a few KiB). */
#define ESX_MAX_KS_BYTES          ((uint64_t)1 << 20)   /* 1 MiB */
/* Cells of the table of a line diff (lines before + 1) x (lines after + 1), 16 MiB of
 * uint32_t; a larger diff lists every line removed and added. */
#define ESX_MAX_DIFF_CELLS        ((size_t)1 << 22)

#endif
