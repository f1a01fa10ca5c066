/* esximg/vibauthor.h: building unsigned VIBs from files (what VMware's VIB Author did).
 *
 * A VIB is built from a descriptor model (esximg/vib.h) and one tree of files per payload.
 * Each payload is written as one gzip member: `vgz` as a vmtar (contents aligned to 4096,
 * VMware's signed-char header checksums), `tgz` as a GNU tar.  Members are sorted bytewise
 * with every parent directory as its own entry, owner root 0/0, one mtime from the options.
 * Modes of files read from a folder are normalised as git does (0755 for folders and
 * executables, 0644 for other files, 0777 for links) with the setuid, setgid and sticky bits
 * kept; entries given in memory keep their mode.  The descriptor's payload `size`, its
 * checksums (in the 6.5+ order: sha-256 over the gunzipped archive, sha-256 over the stored
 * member, sha-1 over the gunzipped archive) and its `file-list` (every member that is not a
 * directory, sorted, over all payloads) are filled in; sig.pkcs7 is empty; the ar is VMware's
 * dialect.  The same inputs give the same bytes.
 *
 * Also here: the VIB Author stage folder (descriptor.xml + payloads/<name>/...), the
 * ESXi-Customizer "OEM" driver .tgz, the driver map / PCI id files of a map-only VIB, and the
 * defaults (names, version, vendor, tags, install paths) of both kinds of driver VIB. */
#ifndef ESXIMG_VIBAUTHOR_H
#define ESXIMG_VIBAUTHOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESXIMG_VIBAUTHOR_NAME_MAX 35u          /* name, vendor, version */
#define ESXIMG_VIBAUTHOR_PAYLOAD_NAME_MAX 15u  /* ar member names */
#define ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN 8u  /* longer names share 8.3 module file bases */
#define ESXIMG_VIBAUTHOR_PATH_MAX 99u          /* VISOR_PATH_LIMIT, directories with '/' */

/* ---------------------------------------------------------------- the descriptor */

/* A new descriptor with VIB Author's defaults: type bootbank, acceptance community,
 * maintenance-mode false, live install/remove false, cimom-restart false, stateless-ready
 * true, overlay false, empty lists, no payloads.  Name, version and vendor are NULL. */
int esximg_vibauthor_descriptor_new(struct esximg_descriptor **out, struct esximg_err *err);

enum esximg_vibauthor_flag {
    ESXIMG_VIBAUTHOR_KEEP = 0,   /* leave the descriptor's value */
    ESXIMG_VIBAUTHOR_YES,
    ESXIMG_VIBAUTHOR_NO,
};

/* Values to set on a descriptor; NULL / 0 / KEEP leave the field as it is.  A list that is
 * given (count > 0) replaces the descriptor's list of that kind.  Constraints are written
 * "name", or "name REL version" with REL one of << <= = >= >> (spaces around REL optional,
 * e.g. "esx-version >= 7.0.0"); provides take "name" or "name = version". */
struct esximg_vibauthor_fields {
    const char *name, *version, *vendor, *summary, *description;
    const char *acceptance;      /* community, partner, accepted, certified */
    const char *type;            /* bootbank, locker */
    const char *release_date;
    enum esximg_vibauthor_flag live_install;   /* live-install-allowed and live-remove-allowed */
    enum esximg_vibauthor_flag maintenance_mode;
    const char *const *depends; size_t depends_count;
    const char *const *conflicts; size_t conflicts_count;
    const char *const *replaces; size_t replaces_count;
    const char *const *provides; size_t provides_count;
    const char *const *tags; size_t tag_count;
};

/* Sets the given fields (EINVAL on a constraint that does not parse; nothing changed then). */
int esximg_vibauthor_apply(struct esximg_descriptor *d, const struct esximg_vibauthor_fields *f,
                           struct esximg_err *err);

/* Parses "name[ REL version]" into a constraint (fields malloc'd; free them with free()). */
int esximg_vibauthor_parse_constraint(const char *s, bool provide, struct esximg_constraint *out,
                                      struct esximg_err *err);

/* "YYYY-MM-DDTHH:MM:SS.000000+00:00" of a time in seconds since the epoch (UTC); out holds
 * at least 40 bytes.  EINVAL for a negative time or a year past 9999. */
int esximg_vibauthor_format_date(int64_t seconds, char *out, size_t out_size,
                                 struct esximg_err *err);

/* The checks VIB Author's schema makes, on what the builder writes: name and vendor
 * [0-9A-Za-z_.-]{1,35}; version \w+(\.\w+)*-\w+(\.\w+)* of at most 35; type bootbank or
 * locker; a known acceptance level; at least one payload; payload names [0-9A-Za-z_.-]{1,15},
 * unique, not "descriptor.xml" or "sig.pkcs7"; payload types vgz or tgz; no relation without
 * a version.  EINVAL naming the field. */
int esximg_vibauthor_check(const struct esximg_descriptor *d, struct esximg_err *err);

/* ---------------------------------------------------------------- payload trees */

enum esximg_vibauthor_kind {
    ESXIMG_VIBAUTHOR_FILE = 0,
    ESXIMG_VIBAUTHOR_DIR,
    ESXIMG_VIBAUTHOR_SYMLINK,
};

/* One file of a payload given in memory. */
struct esximg_vibauthor_entry {
    const char *path;            /* relative to /: no "./", no final '/' */
    enum esximg_vibauthor_kind kind;
    uint32_t mode;               /* 07777 bits; 0 means 0644 (file, link) or 0755 (dir) */
    const void *data;            /* file content */
    size_t len;
    const char *link;            /* symlink target: relative, not leaving the tree */
};

/* A payload: a folder on disk (its content, not the folder itself), entries in memory, or
 * both (an entry replaces the folder's file of the same path). */
struct esximg_vibauthor_payload {
    const char *name;
    const char *type;            /* "vgz" or "tgz"; NULL: the descriptor's type, else vgz */
    const char *dir;             /* NULL: none */
    const struct esximg_vibauthor_entry *entries;
    size_t entry_count;
};

struct esximg_vibauthor_opts {
    int64_t mtime;               /* of every archive member: 0 .. 8^11-1 */
    int gzip_level;              /* 1..9; 0 means 9 */
    /* Called for each payload name longer than ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN (may be
     * NULL): the first 8 characters name the boot module file, so two such payloads of one
     * image may end up with counters instead of their names. */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
    /* Called as the payloads are built (archived, compressed, hashed): payloads done out of
     * all (may be NULL). */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
};

/* Builds the VIB.  `d` lists the payloads (name, type) in order, and each must have exactly
 * one entry in `payloads` (a payload given there but missing from `d` is appended to it as
 * vgz).  `d` is updated: payload types, sizes and checksums, file-list.  Walking a folder,
 * only regular files, folders and symlinks are taken (EUNSUPPORTED for others); a symlink
 * pointing out of its payload is EUNSAFE; a path longer than 99 bytes is ELIMIT; a payload
 * is at most ESX_MAX_GUNZIP_BYTES uncompressed (ELIMIT), so that it can be verified.  The
 * caller frees *out. */
int esximg_vibauthor_build(struct esximg_descriptor *d,
                           const struct esximg_vibauthor_payload *payloads,
                           size_t payload_count, const struct esximg_vibauthor_opts *o,
                           uint8_t **out, size_t *out_len, struct esximg_err *err);

/* ---------------------------------------------------------------- VIB Author stage folders */

/* A stage folder: `dir`/descriptor.xml and `dir`/payloads/<name>/.  */
struct esximg_vibauthor_stage {
    struct esximg_descriptor *desc;           /* parsed descriptor.xml */
    size_t payload_count;
    struct esximg_vibauthor_payload *payloads;   /* every payload folder, sorted by name;
                                                  * type from the descriptor, else NULL */
};

/* Reads a stage: descriptor.xml must be there (without an acceptance-level it gets
 * community); each folder of payloads/ is a payload, a folder the descriptor does not list
 * is added (vgz) when building, and a listed payload with no folder (nor files from the
 * caller) is ENOTFOUND then.  A payloads/ entry that is not a folder is EFORMAT (EUNSAFE for
 * a symlink).  Sizes, checksums and the file-list read from the stage are replaced when
 * building. */
int esximg_vibauthor_stage_read(const char *dir, struct esximg_vibauthor_stage **out,
                                struct esximg_err *err);
void esximg_vibauthor_stage_free(struct esximg_vibauthor_stage *s);

/* ---------------------------------------------------------------- OEM driver .tgz */

/* The ESXi-Customizer input: a gzip'd tar (or a plain tar) holding only a driver's files
 * (directories leading to them allowed): exactly one module usr/lib/vmware/vmkmod/<module>,
 * exactly one map etc/vmware/<dir>.map.d/<x>.map, and at most one PCI id file
 * usr/share/hwdata/<dir>.pciids.d/<x>.ids.  Refused: any other file, a link or special
 * file (EUNSAFE / EUNSUPPORTED), '..' or absolute names (EUNSAFE), a member listed twice,
 * a file over ESX_MAX_OEM_FILE_BYTES (ELIMIT). */
struct esximg_vibauthor_oem_file {
    char *path;
    uint8_t *data;
    size_t len;
};
struct esximg_vibauthor_oem {
    char *module;                               /* the module's file name ("r8168") */
    struct esximg_vibauthor_oem_file files[3];  /* module, map, ids (path NULL: absent) */
    size_t file_count;                          /* 2 or 3, in that order */
};
int esximg_vibauthor_oem_read(const void *data, size_t len, struct esximg_vibauthor_oem **out,
                              struct esximg_err *err);
void esximg_vibauthor_oem_free(struct esximg_vibauthor_oem *o);

/* ---------------------------------------------------------------- map-only VIBs */

/* A PCI id with an optional subsystem. */
struct esximg_vibauthor_pci_id {
    uint16_t vendor, device;
    bool has_subsystem;
    uint16_t subvendor, subdevice;
};

/* Parses "VVVV:DDDD" or "VVVV:DDDD:SSSS:ssss" (exactly 4 hex digits each; EINVAL). */
int esximg_vibauthor_pci_parse(const char *s, struct esximg_vibauthor_pci_id *out,
                               struct esximg_err *err);

/* A name for the .ids file: `id` is "VVVV" (a vendor), "VVVV:DDDD" (a device) or
 * "VVVV:DDDD:SSSS:ssss" (a subsystem). */
struct esximg_vibauthor_pci_name {
    const char *id;
    const char *name;
};

/* The native driver map: one line per id, in the order given, duplicates dropped,
 * "regtype=native,bus=pci,id=<22 chars>,driver=<driver>\n" with lower-case hex and '.' for
 * an absent subsystem and for the class.  The driver name is [0-9A-Za-z_.-]{1,64}. */
int esximg_vibauthor_map_text(const char *driver, const struct esximg_vibauthor_pci_id *ids,
                              size_t id_count, char **out, size_t *out_len,
                              struct esximg_err *err);

/* The pci.ids-syntax file under VMware's header: vendors, devices under them, subsystems
 * under those, each sorted by number.  Only named ids and the parents of named ids are
 * written; a parent that has no name of its own gets "Vendor VVVV" / "Device DDDD".  Names
 * must name an id of `ids` (or its vendor) and hold no control character (EINVAL). */
int esximg_vibauthor_ids_text(const struct esximg_vibauthor_pci_id *ids, size_t id_count,
                              const struct esximg_vibauthor_pci_name *names,
                              size_t name_count, char **out, size_t *out_len,
                              struct esximg_err *err);

/* ---------------------------------------------------------------- driver VIB defaults */

/* The payload name of a driver VIB: its name cut to 8 characters, the part that names the
 * boot module file. */
void esximg_vibauthor_payload_name(const char *vib_name,
                                   char out[ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN + 1]);

/* What an OEM .tgz becomes unless told otherwise (`vib from-oem` and `edit --add` alike): a
 * descriptor as esximg_vibauthor_descriptor_new gives, named after the module (a final ".o",
 * of 4.x vmklinux modules, dropped; at most 63 bytes kept), version 1.0-1, vendor custom,
 * summary and description "<name> driver", tags driver and module, maintenance mode on.  No
 * release date: the caller sets one. */
int esximg_vibauthor_oem_descriptor(const struct esximg_vibauthor_oem *oem,
                                    struct esximg_descriptor **out, struct esximg_err *err);

/* The one vgz payload of an OEM VIB, named by esximg_vibauthor_payload_name(vib_name), holding
 * the archive's files as they were found there, mode 0644.  `payload` points into the struct
 * itself and into `oem`: use it in place while `oem` lives. */
struct esximg_vibauthor_oem_payload {
    char name[ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN + 1];
    struct esximg_vibauthor_entry entries[3];
    struct esximg_vibauthor_payload payload;
};
void esximg_vibauthor_oem_payload(const struct esximg_vibauthor_oem *oem, const char *vib_name,
                                  struct esximg_vibauthor_oem_payload *out);

/* The defaults of a map-only VIB: name "<driver>-map", version 1.0-1, vendor custom, summary
 * and description "Maps more PCI devices to the <driver> driver", maintenance mode on, no
 * tags.  The driver name is checked by esximg_vibauthor_map_text, not here. */
int esximg_vibauthor_map_descriptor(const char *driver, struct esximg_descriptor **out,
                                    struct esximg_err *err);

/* The one vgz payload of a map-only VIB: the map text installed as
 * etc/vmware/default.map.d/<vib_name>.map and the .ids text as
 * usr/share/hwdata/default.pciids.d/<vib_name>.ids (paths cut at 159 bytes), named by
 * esximg_vibauthor_payload_name(vib_name).  `payload` points into the struct itself and into
 * the texts: use it in place while they live. */
struct esximg_vibauthor_map_payload {
    char name[ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN + 1];
    char map_path[160], ids_path[160];
    struct esximg_vibauthor_entry entries[2];
    struct esximg_vibauthor_payload payload;
};
void esximg_vibauthor_map_payload(const char *vib_name, const char *map, size_t map_len,
                                  const char *ids, size_t ids_len,
                                  struct esximg_vibauthor_map_payload *out);

#ifdef __cplusplus
}
#endif
#endif
