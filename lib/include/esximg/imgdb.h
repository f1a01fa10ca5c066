/* esximg/imgdb.h: the image database of an installer image (IMGDB.TGZ, unpacked to
 * /var/db/esximg on the host), its image profile and its bulletins.
 *
 * IMGDB.TGZ is a gzip'd tar whose members all lie under var/db/esximg/:
 *   profiles/<file>         the one image profile (<imageprofile> XML)
 *   vibs/<name>-<n>.xml     one VIB descriptor copy per VIB (kept as bytes, see vib.h to parse)
 *   bulletins/<id>.xml      7.0+: one bulletin per component (kept as bytes)
 *   reservedComponents/     7.0+: bulletins of reserved components (kept as bytes)
 * and anything else (the .xml.orig and .xml.sig files of vibs/, other folders) is kept as
 * it is.
 *
 * Reading takes the bytes of a gzip'd (or plain) tar in GNU, ustar or pax form. Refused:
 * links and special files (EUNSAFE / EUNSUPPORTED), names with '..' or absolute (EUNSAFE),
 * members outside var/db/esximg/ other than the directories var/ and var/db/ (EFORMAT: the
 * host unpacks the module at /), a member listed twice, more than one profile, and the limits
 * of esx_limits.h (entries, ESX_MAX_IMGDB_BYTES in all, ESX_MAX_XML_BYTES for the profile).
 * A database without a profile is read (profile NULL): the caller reports it.
 *
 * Writing gives a deterministic gzip'd tar in GNU "old" format (magic "ustar  \0", as
 * VMware's payloads use): owner root (0/0, "root"/"root"), no pax headers, files 0644 and
 * directories 0755 whatever the input said, mtime from the options (the library never reads
 * the clock), every parent directory written as its own entry, members sorted bytewise by path
 * (a parent sorts before its children; ESXi lists the folders, so the input order means
 * nothing), names of at most 99 bytes (VMware's VISOR_PATH_LIMIT; longer is refused), gzip
 * with mtime 0 and a fixed OS byte. */
#ifndef ESXIMG_IMGDB_H
#define ESXIMG_IMGDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An XML element (or comment) this library does not model, serialised, kept in place: it is
 * written back right after the known element named `after` (NULL: before the first one). */
struct esximg_xml_extra {
    char *after;
    char *xml;
};

/* ---------------------------------------------------------------- the image profile */

struct esximg_profile_payload {
    char *payload_name;     /* payload-name attribute */
    char *file;             /* the module file, e.g. "lsu_lsi_.v00" */
};

struct esximg_profile_vib {
    char *vib_id;           /* <vendor>_<type>_<name>_<version> */
    bool has_payloads;      /* a <payloads> element is present (host and ISO copies) */
    size_t payload_count;
    struct esximg_profile_payload *payloads;   /* in document order */
    size_t extra_count;     /* unknown children of <vib> (after: "vib-id" or "payloads") */
    struct esximg_xml_extra *extras;
};

/* <imageprofile>: text elements are NULL when absent. */
struct esximg_profile {
    char *root_attrs;       /* attributes of <imageprofile>, serialised (" a=\"b\""), or NULL */
    char *name;             /* required */
    char *creator;
    char *profile_id;       /* profileID */
    char *creation_time;    /* creationtime */
    char *modified_time;    /* modifiedtime */
    bool has_serialno;
    uint64_t serialno;
    char *description;
    bool has_readonly;
    bool readonly;
    bool has_viblist;       /* written when true or when vib_count > 0 */
    size_t vib_count;
    struct esximg_profile_vib *vibs;           /* in document order */
    char *acceptance_level; /* acceptancelevel, as written: certified, accepted, ... */
    size_t extra_count;     /* unknown children of <imageprofile> (7.0+ may add some) */
    struct esximg_xml_extra *extras;
};

/* Parses an image profile. libxml2 with no network, no DTD (a DOCTYPE is refused), no entity
 * but the predefined ones, no namespaces, at most ESX_MAX_XML_BYTES. Refused: no <name>, a vib
 * without <vib-id>, a vib-id or a payload-name listed twice, a serialno that is not a decimal
 * number below 2^64, readonly other than true/false, text mixed with the elements. */
int esximg_profile_read(const void *xml, size_t len, struct esximg_profile **out,
                        struct esximg_err *err);

/* Serialises in VMware's form: one line, no XML declaration, no final newline, elements in
 * schema order, "<a/>" for an empty element. Reading VMware's file and writing it gives the
 * same bytes. */
int esximg_profile_write(const struct esximg_profile *p, char **xml, size_t *len,
                         struct esximg_err *err);

void esximg_profile_free(struct esximg_profile *p);

/* A new profile holding only the name (and readonly false, an empty viblist). */
int esximg_profile_new(const char *name, struct esximg_profile **out, struct esximg_err *err);

/* Setters: copy the text (NULL removes an optional element; the name cannot be removed).
 * Text must be UTF-8 without control characters other than tab, CR and LF (EINVAL). */
int esximg_profile_set_name(struct esximg_profile *p, const char *name, struct esximg_err *err);
int esximg_profile_set_creator(struct esximg_profile *p, const char *creator,
                               struct esximg_err *err);
int esximg_profile_set_description(struct esximg_profile *p, const char *description,
                                   struct esximg_err *err);
int esximg_profile_set_modified_time(struct esximg_profile *p, const char *time,
                                     struct esximg_err *err);
int esximg_profile_set_acceptance(struct esximg_profile *p, const char *level,
                                  struct esximg_err *err);

/* The vib of that id, or NULL. */
const struct esximg_profile_vib *esximg_profile_find(const struct esximg_profile *p,
                                                     const char *vib_id);

/* Appends a vib at the end of the viblist with its payload map (payloads may be 0).
 * EINVAL when the id is already listed, a payload-name is given twice or a text is empty. */
int esximg_profile_add_vib(struct esximg_profile *p, const char *vib_id,
                           const struct esximg_profile_payload *payloads, size_t payload_count,
                           struct esximg_err *err);

/* Removes the vib of that id (ENOTFOUND when absent). */
int esximg_profile_remove_vib(struct esximg_profile *p, const char *vib_id,
                              struct esximg_err *err);

/* Removes every vib whose name part (esximg_vib_id_split) is `name`; *removed (may be NULL)
 * gets the count. ENOTFOUND when there is none. */
int esximg_profile_remove_by_name(struct esximg_profile *p, const char *name, size_t *removed,
                                  struct esximg_err *err);

/* The profile file name under profiles/: Python 2's urllib.quote(name, '')[:50] followed by
 * str(hash((name, creator))) (creator NULL counts as ""), e.g.
 * "ESXi-6.7.0-8169922-standard452839153". */
int esximg_profile_file_name(const char *name, const char *creator, char **out,
                             struct esximg_err *err);

/* The four parts of a vib-id "<vendor>_<type>_<name>_<version>". Vendor and type end at the
 * first and second '_' (their schema forbids none, but no real one has one); the version is
 * what follows the last '_' (no real version holds one); the name is what lies between and
 * may hold '_'. Checked on the 136 vib-ids of the 6.7 database: none has an extra '_'.
 * EFORMAT when there are fewer than three '_' or a part is empty. */
struct esximg_vib_id_parts {
    char *vendor;
    char *type;
    char *name;
    char *version;
};
int esximg_vib_id_split(const char *vib_id, struct esximg_vib_id_parts *out,
                        struct esximg_err *err);
void esximg_vib_id_parts_clear(struct esximg_vib_id_parts *parts);

/* ---------------------------------------------------------------- bulletins */

struct esximg_bulletin_platform {
    char *version;
    char *locale;
    char *product_line_id;  /* productLineID */
};

/* <bulletin>: text elements are NULL when absent. */
struct esximg_bulletin {
    char *id;                   /* required */
    char *vendor;
    char *summary;
    char *severity;             /* general, critical, security */
    char *category;             /* enhancement, bugfix, security, ... */
    char *urgency;
    char *release_type;         /* releaseType */
    char *description;
    char *kb_url;               /* kbUrl */
    char *contact;
    bool has_name_spec;         /* <componentNameSpec name= uiString=/> */
    char *component_name;
    char *component_ui_name;
    bool has_version_spec;      /* <componentVersionSpec version= uiString=/> */
    char *component_version;
    char *component_ui_version;
    char *release_date;         /* releaseDate */
    bool has_platforms;
    size_t platform_count;
    struct esximg_bulletin_platform *platforms;
    bool has_vib_list;
    size_t vib_count;
    char **vib_ids;             /* vibList/vibID */
    size_t extra_count;         /* unknown children of <bulletin> */
    struct esximg_xml_extra *extras;
};

/* Parses a bulletin, with the safety rules of esximg_profile_read. Refused: no <id>. */
int esximg_bulletin_read(const void *xml, size_t len, struct esximg_bulletin **out,
                         struct esximg_err *err);
/* One line, no declaration, VMware's element order; attributes in the order name, uiString /
 * version, uiString / locale, productLineID, version (VMware's own order varies). */
int esximg_bulletin_write(const struct esximg_bulletin *b, char **xml, size_t *len,
                          struct esximg_err *err);
void esximg_bulletin_free(struct esximg_bulletin *b);

/* What a minimal component bulletin for one standalone VIB needs. Required: component_name,
 * version, vendor, release_date (ISO-8601, given by the caller), vib_id. The rest may be NULL:
 * ui_name defaults to component_name, ui_version to version, summary and description to
 * ui_name, platform_version omits <platforms>, kb_url and contact are left out. */
struct esximg_bulletin_spec {
    const char *component_name;
    const char *ui_name;
    const char *version;
    const char *ui_version;
    const char *vendor;
    const char *summary;
    const char *description;
    const char *release_date;
    const char *platform_version;   /* e.g. "7.0.0" */
    const char *kb_url;
    const char *contact;
    const char *vib_id;
};
/* id "<component_name>_<version>", severity general, category enhancement, urgency
 * important, releaseType extension, platform productLineID embeddedEsx with locale "". */
int esximg_bulletin_new(const struct esximg_bulletin_spec *spec, struct esximg_bulletin **out,
                        struct esximg_err *err);

/* ---------------------------------------------------------------- the container */

struct esximg_imgdb_file {
    char *path;             /* full member path, no "./" in front, no '/' at the end */
    bool is_dir;
    unsigned mode;          /* permission bits read (07777); the writer normalises them */
    uint8_t *data;          /* NULL for directories and empty files */
    size_t len;
};

struct esximg_imgdb {
    char *profile_file;                 /* file name under profiles/, NULL without a profile */
    struct esximg_profile *profile;     /* NULL without a profile */
    size_t vib_count;                   /* vibs/<file>.xml, directly in vibs/ */
    struct esximg_imgdb_file *vibs;
    size_t bulletin_count;              /* bulletins/<file>.xml */
    struct esximg_imgdb_file *bulletins;
    size_t reserved_count;              /* reservedComponents/<file>.xml */
    struct esximg_imgdb_file *reserved;
    size_t other_count;                 /* everything else, directories included */
    struct esximg_imgdb_file *others;
};

#define ESXIMG_IMGDB_PREFIX "var/db/esximg/"

int esximg_imgdb_read(const void *data, size_t len, struct esximg_imgdb **out,
                      struct esximg_err *err);

/* An empty database (no profile, no files). */
int esximg_imgdb_new(struct esximg_imgdb **out, struct esximg_err *err);

void esximg_imgdb_free(struct esximg_imgdb *db);

/* Adds a file as a reader would: the path (under var/db/esximg/) decides whether it is the
 * profile (parsed), a vib xml, a bulletin, a reserved component or another file. Refuses a
 * path already present and unsafe paths, as esximg_imgdb_read does. */
int esximg_imgdb_add_file(struct esximg_imgdb *db, const char *path, const void *data,
                          size_t len, struct esximg_err *err);

/* The vibs/ file of that file name ("i40en-151275975.xml"), or NULL. */
const struct esximg_imgdb_file *esximg_imgdb_find_vib_xml(const struct esximg_imgdb *db,
                                                          const char *file_name);
/* Adds vibs/<file_name>, or replaces its bytes. file_name must end in ".xml" and hold no '/'. */
int esximg_imgdb_put_vib_xml(struct esximg_imgdb *db, const char *file_name, const void *xml,
                             size_t len, struct esximg_err *err);
/* vibs/<file_name>.orig (the descriptor bytes exactly as signed) and vibs/<file_name>.sig
 * (the VIB's sig.pkcs7), as a host keeps them beside each signed VIB's xml; NULL when absent. */
const struct esximg_imgdb_file *esximg_imgdb_find_vib_orig(const struct esximg_imgdb *db,
                                                           const char *file_name);
const struct esximg_imgdb_file *esximg_imgdb_find_vib_sig(const struct esximg_imgdb *db,
                                                          const char *file_name);
/* Adds (or replaces) vibs/<file_name>.orig and vibs/<file_name>.sig. file_name is that of the
 * VIB's xml ("<name>.xml", no '/'). */
int esximg_imgdb_put_vib_signature(struct esximg_imgdb *db, const char *file_name,
                                   const void *orig, size_t orig_len, const void *sig,
                                   size_t sig_len, struct esximg_err *err);
/* Removes vibs/<file_name> and its <file_name>.orig and .sig when present. ENOTFOUND when the
 * .xml is absent. */
int esximg_imgdb_remove_vib_xml(struct esximg_imgdb *db, const char *file_name,
                                struct esximg_err *err);
/* Adds bulletins/<file_name> (".xml", no '/'), or replaces its bytes. */
int esximg_imgdb_put_bulletin(struct esximg_imgdb *db, const char *file_name, const void *xml,
                              size_t len, struct esximg_err *err);
/* Adds reservedComponents/<file_name> (".xml", no '/'), or replaces its bytes. */
int esximg_imgdb_put_reserved(struct esximg_imgdb *db, const char *file_name, const void *xml,
                              size_t len, struct esximg_err *err);

/* 7.0 and later: the release units an image was made of, kept as the depot holds them
 * (docs/depot-format.md): one base image, baseimages/<releaseID>.json, and at most one add-on,
 * addons/<releaseID>.json.  Their place in a host's database is inferred from esximage's
 * folder list (esxi-formats.md §3.1 lists the folders, [U] their files): [I]. */
#define ESXIMG_IMGDB_BASE_IMAGES "baseimages"
#define ESXIMG_IMGDB_ADDONS "addons"
/* The release unit in `folder` (ESXIMG_IMGDB_BASE_IMAGES or _ADDONS): the first
 * <folder>/<id>.json, or NULL. */
const struct esximg_imgdb_file *esximg_imgdb_find_release(const struct esximg_imgdb *db,
                                                          const char *folder);
/* The release id a release unit's file is named after (malloc'd): its name without ".json". */
char *esximg_imgdb_release_id(const struct esximg_imgdb_file *f);
/* Puts <folder>/<release_id>.json, dropping any other file of that folder (an image has one
 * base image and at most one add-on).  EINVAL: a release id that is no file name, or a
 * document larger than the JSON limit. */
int esximg_imgdb_put_release(struct esximg_imgdb *db, const char *folder,
                             const char *release_id, const void *json, size_t len,
                             struct esximg_err *err);
/* Drops every file of <folder>/; how many went in *removed (may be NULL). */
void esximg_imgdb_remove_releases(struct esximg_imgdb *db, const char *folder, size_t *removed);

/* Takes over `p` (freed even on failure) as the profile; file_name NULL names it with
 * esximg_profile_file_name. */
int esximg_imgdb_set_profile_take(struct esximg_imgdb *db, struct esximg_profile *p,
                                  const char *file_name, struct esximg_err *err);
/* Renames the profile file after its name or creator changed (esximg_profile_file_name). */
int esximg_imgdb_rename_profile(struct esximg_imgdb *db, struct esximg_err *err);

struct esximg_imgdb_wopts {
    int64_t mtime;          /* of every member; 0 .. 8^11-1 */
    int gzip_level;         /* 1..9; 0 means 9 */
};

/* Writes IMGDB.TGZ bytes (see the top of this file). opts may be NULL (mtime 0, level 9). */
int esximg_imgdb_write(const struct esximg_imgdb *db, const struct esximg_imgdb_wopts *opts,
                       uint8_t **out, size_t *out_len, struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
