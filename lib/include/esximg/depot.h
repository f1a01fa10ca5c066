/* esximg/depot.h: offline bundles (depot zips) and ESXi 7.0+ component zips.
 *
 * A bundle is read whole from memory.  Every `*.vib` member is found wherever it sits, nested
 * bundle zips are walked (ESX_MAX_ZIP_DEPTH levels), and each VIB is read with esximg_vib_read.
 * The metadata zips (`metadata.zip`, `<Vendor>-<name>-<version>-metadata.zip`) are not bundles:
 * their `vibs/<name>.xml` give each VIB's expected packed size and sha-256, their
 * `bulletins/<id>.xml` the components.  The VIBs are the truth: metadata that cannot be read
 * only adds a warning, and a VIB whose size or sha-256 disagrees with its metadata is flagged,
 * not refused.
 *
 * A full depot's metadata zip also holds image profiles (`profiles/`) and, from 7.0 on,
 * release units in JSON (`baseimages/`, `addons/`, `manifests/`; docs/depot-format.md): they
 * are read into `profiles`, `base_images`, `addons` and `manifests`.  One that does not read,
 * and any member esximg does not understand (an unknown folder, releaseType or
 * schemaVersion), is listed in `unknowns` with a warning, for a caller to refuse; two base
 * images of one version, or two add-ons of one name and version, are EFORMAT naming both.
 *
 * A VIB that reads but whose payloads and members disagree (esximg_vib_ropts keep_missing)
 * is kept: its `vib->problems` say what is wrong, for the command to flag it.
 *
 * Member names are kept as found.  A name that esx_path_check refuses (`..`, absolute) is
 * listed with `unsafe_path` set and a warning; esximg_depot_extract refuses it.
 *
 * Memory: the model owns a copy of each VIB's bytes (a zip member is deflated, so there is
 * nothing to point into), and the caller may free the zip as soon as the read returns.  A
 * bundle therefore costs its own size plus the inflated size of its VIBs while both live;
 * fine for driver bundles, and the price of keeping the VIBs usable without the zip. */
#ifndef ESXIMG_DEPOT_H
#define ESXIMG_DEPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/imgdb.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_depot_kind {
    ESXIMG_DEPOT_PLAIN = 0,   /* VIBs in a zip without depot metadata */
    ESXIMG_DEPOT_VMWARE,      /* index.xml, metadata.zip, vib20/<name>/<vib-id>.vib */
    ESXIMG_DEPOT_VFRONT,      /* VIB at the root, <Vendor>-<name>-<version>-metadata.zip */
    ESXIMG_DEPOT_NESTED,      /* a zip holding the bundle zip (6.5 Fling downloads) */
};

/* How a VIB compares with the metadata's vibs/<name>.xml copy of its descriptor. */
enum esximg_depot_check {
    ESXIMG_DEPOT_CHECK_NONE = 0,  /* no metadata names this VIB */
    ESXIMG_DEPOT_CHECK_OK,        /* packed-size and sha-256 match */
    ESXIMG_DEPOT_CHECK_MISMATCH,  /* see size_mismatch / checksum_mismatch */
};

struct esximg_depot_vib {
    char *path;               /* member path; in a nested bundle "<inner.zip>/<path>" */
    char *container;          /* member path of the nested zip holding it, NULL at the top */
    bool unsafe_path;         /* refused by the path check: listed, never extracted */
    uint8_t *bytes;           /* the .vib, owned by the model */
    size_t len;
    char sha256[65];          /* of the whole .vib, lower-case hex */
    struct esximg_vib *vib;   /* parsed; borrows `bytes` */
    char *vib_id;             /* <vendor>_<type>_<name>_<version> from its descriptor */
    enum esximg_acceptance acceptance;
    /* from the metadata copy (vibs/<name>.xml), when there is one */
    enum esximg_depot_check check;
    char *meta_path;          /* relative-path, or NULL */
    bool has_meta_size;
    uint64_t meta_size;       /* packed-size */
    char *meta_checksum;      /* sha-256 hex as written, or NULL (other types are ignored) */
    bool size_mismatch;
    bool checksum_mismatch;
    /* the components (bulletins) whose vibList names this VIB: indexes into d->components */
    size_t component_count;
    size_t *components;
};

/* A bulletin (metadata.zip bulletins/<id>.xml); from 7.0 on, a component. */
struct esximg_depot_component {
    char *id;
    char *vendor;
    char *summary;
    char *release_date;
    char *name;               /* componentNameSpec name, NULL before 7.0 */
    char *name_ui;            /* componentNameSpec uiString */
    char *version;            /* componentVersionSpec version */
    char *version_ui;         /* componentVersionSpec uiString */
    size_t vib_id_count;
    char **vib_ids;           /* vibList, in document order */
    char *xml;                /* the bulletin's bytes as the metadata holds them (NUL added) */
    size_t xml_len;
};

/* One <metadata> of vendor-index.xml. */
struct esximg_depot_meta_url {
    char *product_id;
    char *version;
    char *url;
};

/* An image profile of metadata.zip profiles/<file> (docs/depot-format.md). */
struct esximg_depot_profile {
    char *source;             /* "<metadata zip>/profiles/<file>", for messages */
    struct esximg_profile *profile;
};

/* What a release unit is: its releaseType. */
enum esximg_release_kind {
    ESXIMG_RELEASE_BASE_IMAGE = 0,   /* "baseImage", baseimages/<releaseID>.json */
    ESXIMG_RELEASE_ADDON,            /* "addon", addons/<releaseID>.json */
    ESXIMG_RELEASE_MANIFEST,         /* "manifest", manifests/<releaseID>.json */
};

/* One "components" entry of a release unit: component name and version. */
struct esximg_release_component {
    char *name;
    char *version;
};

/* A release unit (7.0+): base image, add-on or hardware support manifest, a JSON document of
 * metadata.zip.  Strings are NULL when absent. */
struct esximg_depot_release {
    enum esximg_release_kind kind;
    char *source;             /* "<metadata zip>/<folder>/<file>", for messages */
    char *release_id;         /* releaseID */
    char *release_type;       /* as written */
    char *schema_version;
    char *name;               /* nameSpec name (add-on, manifest); NULL for a base image */
    char *name_ui;
    char *version;            /* versionSpec version; required */
    char *version_ui;
    char *vendor;
    char *summary;
    char *description;
    char *doc_url;
    char *acceptance;         /* acceptanceLevel as written */
    char *release_date;
    size_t component_count;
    struct esximg_release_component *components;   /* in document order */
    size_t removed_count;
    char **removed_components;                     /* removedComponents (add-on) */
    size_t supported_count;
    char **supported_base_versions;                /* supportedBaseImageVersions */
    char *json;               /* the document's bytes (NUL added), for an image database */
    size_t json_len;
};

/* A metadata member esximg does not understand, or could not read: callers that build from
 * the depot refuse it or say so. */
struct esximg_depot_unknown {
    char *path;               /* "<metadata zip>/<member>" */
    char *reason;             /* "unknown folder 'solutions'", "releaseType 'x' unknown", ... */
};

struct esximg_depot {
    enum esximg_depot_kind kind;
    char *vendor_name;        /* index.xml first <vendor>, NULL when absent */
    char *vendor_code;
    size_t meta_url_count;
    struct esximg_depot_meta_url *meta_urls;
    size_t vib_count;
    struct esximg_depot_vib *vibs;                  /* in zip order, nested ones in place */
    size_t component_count;
    struct esximg_depot_component *components;      /* in zip order */
    /* full depots (docs/depot-format.md): in zip order */
    size_t profile_count;
    struct esximg_depot_profile *profiles;
    size_t base_image_count;
    struct esximg_depot_release *base_images;
    size_t addon_count;
    struct esximg_depot_release *addons;
    size_t manifest_count;
    struct esximg_depot_release *manifests;
    size_t unknown_count;
    struct esximg_depot_unknown *unknowns;
    struct esximg_warnings warnings;   /* for the command to print (line 0) */
};

struct esximg_depot_opts {
    /* Most bytes inflated from the whole bundle, nested zips included; 0: ESX_MAX_DEPOT_BYTES.
     * Each zip also may not inflate past 256 times its own size (past 16 MiB). */
    uint64_t max_bytes;
};

/* Reads a bundle from bytes (which may be freed afterwards).  A bundle without any `*.vib`
 * is ENOTFOUND; a member that inflates past the limits is ELIMIT; a VIB that does not read is
 * EFORMAT naming the member (one that reads with problems is kept, see above); the same VIB id twice with different bytes is EFORMAT (with the
 * same bytes the second copy is dropped with a warning).  `opts` may be NULL. */
int esximg_depot_read(const void *data, size_t len, const struct esximg_depot_opts *opts,
                      struct esximg_depot **out, struct esximg_err *err);
void esximg_depot_free(struct esximg_depot *d);

/* "plain", "vmware", "vfront", "nested" */
const char *esximg_depot_kind_name(enum esximg_depot_kind k);
/* "none", "ok", "mismatch" */
const char *esximg_depot_check_name(enum esximg_depot_check c);

/* The first VIB whose vib-id or name is `key`, or NULL. */
const struct esximg_depot_vib *esximg_depot_find(const struct esximg_depot *d, const char *key);

/* "<vib-id>.vib", malloc'd, after checking that the member path and the file name are safe
 * (EUNSAFE otherwise). */
int esximg_depot_vib_filename(const struct esximg_depot_vib *v, char **out,
                              struct esximg_err *err);

/* Writes the VIB as <dir>/<vib-id>.vib, atomically.  Refuses an unsafe member path or vib-id
 * (EUNSAFE) and an existing file unless `overwrite` (EINVAL). */
int esximg_depot_extract(const struct esximg_depot_vib *v, const char *dir, bool overwrite,
                         struct esximg_err *err);

/* ---------------------------------------------------------------- resolving a selection */

/* A component or add-on asked for: NAME, or NAME:VERSION (version NULL: the newest found). */
struct esximg_depot_pick {
    const char *name;
    const char *version;
};

/* What to build, from several depots read together: either an image profile by name, or a
 * base image version (its versionSpec version or its releaseID) with an optional add-on and
 * components. */
struct esximg_depot_selection {
    const char *profile;                      /* (a); NULL for (b) */
    const char *base_image;                   /* (b) */
    const struct esximg_depot_pick *addon;    /* NULL: none */
    size_t component_count;
    const struct esximg_depot_pick *components;
};

/* A component of the result (borrowed from the depot that holds it). */
struct esximg_depot_chosen {
    const struct esximg_depot_component *component;
    const char *origin;       /* "base image", "add-on", "component" or "profile" */
};

struct esximg_depot_resolution {
    size_t vib_count;
    const struct esximg_depot_vib **vibs;          /* sorted by vib-id, each once */
    size_t component_count;
    struct esximg_depot_chosen *components;        /* sorted by name, then id */
    /* the image profile the built image carries */
    char *profile_name;
    char *profile_vendor;     /* creator */
    char *profile_description;
    enum esximg_acceptance acceptance;             /* the lowest of the VIBs' */
    /* (b) the base image asked for; (a) the one the profile is made of: a base image whose
     * components are all in the result at their versions (the newest such), NULL for none */
    const struct esximg_depot_release *base_image;
    const struct esximg_depot_release *addon;      /* NULL without one */
    const struct esximg_depot_profile *profile;    /* NULL for (b) */
    /* (b) the base image's components the result does not hold at the base image's version
     * (an add-on or a newer component replaced or removed them), those a depot has, in the
     * base image's order: what a host keeps in reservedComponents/ [I] */
    size_t reserved_count;
    const struct esximg_depot_component **reserved;
    struct esximg_warnings warnings;
};

/* Resolves a selection as vLCM and Image Builder do (docs/depot-format.md, "resolving"):
 * (a) the profile's vib-ids, each found in one of the depots; (b) the base image's components,
 * then the add-on's (replacing same-named ones, dropping its removedComponents), then the
 * asked-for components; where one name has several versions the newest counts (with a
 * warning when a later layer asked for an older one).  ENOTFOUND names what is missing (a
 * profile, base image, add-on, component or vib); EFORMAT names two different documents of one
 * base image or add-on version in two depots, or two profiles of one name listing other VIBs;
 * EINVAL an add-on whose
 * supportedBaseImageVersions does not hold the base image's version, or a bad selection.
 * The resolution borrows from the depots: free it before them. */
int esximg_depot_resolve(struct esximg_depot *const *depots, size_t n,
                         const struct esximg_depot_selection *sel,
                         struct esximg_depot_resolution **out, struct esximg_err *err);
void esximg_depot_resolution_free(struct esximg_depot_resolution *r);

/* ---------------------------------------------------------------- writing */

/* One VIB to put in a bundle: its bytes (borrowed), or a range of a file, or both.
 * With `path` NULL the writer reads `data`.  With `path` set, the .vib is the `len` bytes at
 * `offset` in that file (a stored member of a bundle, a spooled copy, a file of its own):
 * the writer reads it from there a chunk at a time, once to take its sha-256, CRC-32 and
 * deflated size, and once to copy it into the zip (by the kernel, copy_file_range, when
 * esximg_depot_write_file stores it), so that it is never held whole in memory; `data`, when
 * given, is only parsed (its ar headers and descriptor), else the writer maps the range to
 * parse it.  The file must not change while the bundle is written. */
struct esximg_depot_input {
    const void *data;
    size_t len;
    const char *path;
    uint64_t offset;
};

/* A member given whole: its name and bytes (borrowed). */
struct esximg_depot_member {
    const char *name;
    const void *data;
    size_t len;
};

struct esximg_depot_wopts {
    const char *vendor_name;        /* index.xml <name> and bulletin vendor; NULL: the first
                                     * VIB's vendor */
    const char *vendor_code;        /* index.xml <code>; NULL: the first VIB's vendor */
    /* One component (bulletin) holding every VIB, named and versioned so; NULL: one
     * component per VIB, named and versioned after it. */
    const char *component_name;
    const char *component_version;
    /* Components given whole: bulletin documents (a depot's or an image database's
     * bulletins/<id>.xml; `name` is for messages), each written byte for byte as
     * bulletins/<id>.xml and listed in vmware.xml when every VIB it lists is in the bundle
     * (else left out); the VIBs none of them lists get components as said above. */
    const struct esximg_depot_member *component_docs;
    size_t component_doc_count;
    /* More metadata.zip members, written as given: profiles/<file>, and
     * baseimages/<id>.json, addons/<id>.json or manifests/<id>.json (docs/depot-format.md);
     * another folder or an unsafe name is EINVAL. */
    const struct esximg_depot_member *metadata;
    size_t metadata_count;
    const char *platform_version;   /* vendor-index.xml and bulletin platform; NULL: "5.*" */
    int64_t mtime;                  /* zip member times (UTC, before 1980 written as
                                     * 1980-01-01) and the vmware.xml timestamp */
    const char *release_date;       /* bulletin releaseDate; NULL: the (first) VIB's
                                     * release-date, else the mtime as a date */
    /* Called while the members are compressed: bytes done out of all (may be NULL). */
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *progress_arg;
    /* Called with each member written, "member '<path>' written (<n> bytes)", for
     * people (may be NULL). */
    void (*note)(const char *msg, void *arg);
    void *note_arg;
};

/* The metadata that makes a bundle a depot of one image (esximg export, build --format
 * bundle): its components given whole, its image profile and its base image and add-on.
 * Start from {0}, fill with the functions below, hand to the writer with
 * esximg_depot_meta_apply, free with esximg_depot_meta_free.  Component and release bytes
 * are borrowed; names and the profile's XML are owned. */
struct esximg_depot_meta {
    struct esximg_depot_member *components;
    size_t component_count;
    struct esximg_depot_member metadata[4];
    size_t metadata_count;
    char *names[4];             /* metadata[i].name, owned */
    void *datas[4];             /* metadata[i].data when owned (a profile's XML), else NULL */
};
/* A component's bulletin document (`name` for messages). */
int esximg_depot_meta_add_component(struct esximg_depot_meta *m, const char *name,
                                    const void *xml, size_t len, struct esximg_err *err);
/* profiles/<file_name> with the profile's XML (esximg_profile_write); file_name NULL: as
 * esximg_profile_file_name names it. */
int esximg_depot_meta_add_profile(struct esximg_depot_meta *m, const struct esximg_profile *p,
                                  const char *file_name, struct esximg_err *err);
/* <folder>/<release_id>.json ("baseimages", "addons") with the document's bytes. */
int esximg_depot_meta_add_release(struct esximg_depot_meta *m, const char *folder,
                                  const char *release_id, const void *json, size_t len,
                                  struct esximg_err *err);
void esximg_depot_meta_apply(const struct esximg_depot_meta *m, struct esximg_depot_wopts *o);
void esximg_depot_meta_free(struct esximg_depot_meta *m);

/* Writes an offline bundle in VMware's layout (a deterministic zip, members sorted, each
 * deflated, or stored (method 0) when deflating saves less than 1% of it, as zip stores what
 * deflate cannot shrink: a .vib's payloads are gzip'd already, and a stored .vib can be read in place by offset, see
 * esximg/depotspool.h; no extra fields):
 *   index.xml, vendor-index.xml, metadata.zip, vib20/<name>/<vib-id>.vib
 * metadata.zip holds vmware.xml (<metadataResponse> with each bulletin and its VIBs),
 * vendor-index.xml, bulletins/<id>.xml (a given component's bytes, else one line from
 * esximg_bulletin_write), vibs/<name>-<n>.xml (the descriptor's bytes with <relative-path>,
 * <packed-size> and the sha-256 <checksum> of the .vib added before </vib>; n as
 * esximg_modname_vib_xml64) and the metadata members given.
 * A VIB that does not read is EFORMAT naming it (index from 1); two VIBs of the same id are
 * EINVAL; zip sizes past 4 GiB are ELIMIT (no zip64). The caller frees *out. */
int esximg_depot_write(const struct esximg_depot_input *vibs, size_t vib_count,
                       const struct esximg_depot_wopts *opts, uint8_t **out, size_t *out_len,
                       struct esximg_err *err);

/* The same bundle, byte for byte, written to `path` through a temporary file beside it
 * (esximg/io.h: fsync'd and renamed over `path` once whole; removed on any failure, and not
 * made at all when a VIB does not read).  Each .vib member goes straight from its input to
 * the file (the local header first, sizes and CRC-32 known from a first pass), so memory
 * holds the metadata and a few chunks of 1 MiB, whatever the VIBs' size.  A failure to
 * write names `path` in err->file. */
int esximg_depot_write_file(const struct esximg_depot_input *vibs, size_t vib_count,
                            const struct esximg_depot_wopts *opts, const char *path,
                            unsigned mode, struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
