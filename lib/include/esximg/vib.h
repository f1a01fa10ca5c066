/* esximg/vib.h: VIB packages (an ar archive: descriptor.xml, sig.pkcs7, payloads) and their
 * descriptor.xml.
 *
 * Reading accepts the three ar dialects seen in real files (VMware/VIB Author, VMware 8.0+
 * with mode "0o0", GNU names ending in '/'); writing uses the VMware dialect.  A signed
 * descriptor's bytes are kept verbatim and never re-serialised. */
#ifndef ESXIMG_VIB_H
#define ESXIMG_VIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- descriptor.xml model */

/* <constraint name= relation= version=/> (or <provide name= version=/> in provides).
 * relation and version are NULL when absent. */
struct esximg_constraint {
    char *name;
    char *relation;   /* "<<", "<=", "=", ">=", ">>" */
    char *version;
};

struct esximg_constraint_list {
    size_t count;
    struct esximg_constraint *items;
};

/* <checksum checksum-type= verify-process=>hex</checksum>; verify_process NULL when absent */
struct esximg_checksum {
    char *type;            /* "sha-256", "sha-1", "sha-256-gunzip1", ... */
    char *verify_process;  /* "gunzip", or NULL */
    char *value;           /* lower-case hex as written */
};

struct esximg_payload {
    char *name;                 /* also the ar member name */
    char *type;                 /* vgz, tgz, boot, vzstd, ... */
    uint64_t size;              /* size attribute (of the stored member) */
    bool has_size;
    char *boot_order;           /* optional attributes, NULL when absent */
    char *vfat_name;
    char *uncompressed_size;
    char *compression_option;
    size_t checksum_count;
    struct esximg_checksum *checksums;
};

struct esximg_url {
    char *key;
    char *url;
};

/* The descriptor: every element VMware's tools write, in their order. Text elements that are
 * absent are NULL.  Elements this model does not know are kept (see `extra_xml`) so that an
 * unsigned descriptor reads and writes back with the same content. */
struct esximg_descriptor {
    char *type;                 /* bootbank, locker, meta */
    char *name;
    char *version;
    char *vendor;
    char *summary;
    char *description;
    char *release_date;
    size_t url_count;
    struct esximg_url *urls;
    struct esximg_constraint_list depends, conflicts, replaces, provides, compatible_with;
    size_t tag_count;
    char **tags;                /* software-tags: "driver", "module", "PCIID 8086105e", ... */
    char *installdate;          /* host/image database copies only */
    bool maintenance_mode;      /* system-requires/maintenance-mode */
    char *system_requires_extra_xml; /* other system-requires children, serialised, or NULL */
    size_t file_count;
    char **files;               /* file-list */
    char *acceptance_level;     /* certified, accepted, partner, community */
    bool live_install_allowed, live_remove_allowed, cimom_restart, stateless_ready, overlay;
    size_t payload_count;
    struct esximg_payload *payloads;
    /* depot metadata copies (metadata.zip vibs/<name>.xml) only; NULL / 0 when absent */
    char *relative_path;
    uint64_t packed_size;
    char *vib_checksum;         /* sha-256 of the whole .vib */
    /* Unknown top-level children and comments, serialised, in document order, each with the
     * name of the known element it followed (NULL: at the start). */
    size_t extra_count;
    struct esximg_descriptor_extra {
        char *after;
        char *xml;
    } *extras;
};

/* Parses descriptor.xml (or a database/metadata copy of it). No network, no entities, no DTD;
 * at most ESX_MAX_XML_BYTES. */
int esximg_descriptor_read(const void *xml, size_t len, struct esximg_descriptor **out,
                           struct esximg_err *err);
/* Serialises in VMware's form: one line, no XML declaration, no final newline, elements in the
 * schema order.  Only for unsigned descriptors: a signed one keeps its bytes. */
int esximg_descriptor_write(const struct esximg_descriptor *d, char **xml, size_t *len,
                            struct esximg_err *err);
void esximg_descriptor_free(struct esximg_descriptor *d);
/* "<vendor>_<type>_<name>_<version>", malloc'd; NULL when a part is missing. */
char *esximg_descriptor_vib_id(const struct esximg_descriptor *d);
/* A vmklinux driver: it depends on the vmklinux API (vmklinux_9, com.vmware.driverAPI-*) or
 * ships a driver.map.d map. ESXi 7.0 and later have no vmklinux: such a driver never loads. */
bool esximg_descriptor_is_vmklinux(const struct esximg_descriptor *d);
/* The payload of that name, or NULL. */
const struct esximg_payload *esximg_descriptor_payload(const struct esximg_descriptor *d,
                                                       const char *name);

/* ---------------------------------------------------------------- acceptance levels */

enum esximg_acceptance {
    ESXIMG_ACCEPT_UNKNOWN = 0,
    ESXIMG_ACCEPT_COMMUNITY = 1,
    ESXIMG_ACCEPT_PARTNER = 2,
    ESXIMG_ACCEPT_ACCEPTED = 3,
    ESXIMG_ACCEPT_CERTIFIED = 4,   /* higher is stricter */
};
enum esximg_acceptance esximg_acceptance_parse(const char *s);
const char *esximg_acceptance_name(enum esximg_acceptance a);

/* ---------------------------------------------------------------- the VIB (ar) */

enum esximg_ar_dialect {
    ESXIMG_AR_VMWARE = 0,   /* 16-byte space-padded names, all numeric fields "0" */
    ESXIMG_AR_VMWARE_0O0,   /* the same with mode "0o0" (VMware 8.0+ tools) */
    ESXIMG_AR_GNU,          /* names ending in '/', real modes and mtimes */
};

struct esximg_vib_member {
    char *name;             /* without a GNU trailing '/' */
    uint64_t offset;        /* of the data, in the VIB bytes */
    uint64_t size;
};

/* What a VIB's members say against its descriptor: found while reading, kept on the model
 * (a VIB re-packed by hand may name a payload it lacks, or carry one under another name). */
enum esximg_vib_problem_kind {
    ESXIMG_VIB_PROBLEM_MISSING = 0,   /* a payload of the descriptor has no member */
    ESXIMG_VIB_PROBLEM_UNEXPECTED,    /* a member that no payload of the descriptor names */
    ESXIMG_VIB_PROBLEM_SIZE,          /* a member whose size is not its payload's size */
};

struct esximg_vib_problem {
    enum esximg_vib_problem_kind kind;
    char *member;           /* the payload or member name */
    char *expected;         /* SIZE: what the descriptor says; else NULL */
    char *actual;           /* SIZE: what the member is; else NULL */
    char *msg;              /* one line: "payload 'x' has no member in the archive" */
};

/* A VIB read from bytes the caller keeps: members point into them by offset. */
struct esximg_vib {
    const uint8_t *bytes;   /* borrowed: the caller's buffer */
    size_t len;
    enum esximg_ar_dialect dialect;
    size_t member_count;
    struct esximg_vib_member *members;   /* in archive order */
    struct esximg_descriptor *desc;      /* parsed descriptor.xml */
    const uint8_t *descriptor_bytes;     /* verbatim, into `bytes` */
    size_t descriptor_len;
    const uint8_t *sig;                  /* sig.pkcs7 bytes, into `bytes` (len 0: unsigned) */
    size_t sig_len;
    size_t problem_count;                /* payloads against members, in descriptor order, */
    struct esximg_vib_problem *problems; /* then the unexpected members in archive order */
};

/* Reads a VIB. The bytes must outlive the result. Checks the ar structure, the member order
 * (descriptor.xml, sig.pkcs7, then payloads) and that every payload has a member (EFORMAT
 * naming the first that has none).  The other problems are listed in `problems`. */
int esximg_vib_read(const void *data, size_t len, struct esximg_vib **out,
                    struct esximg_err *err);

struct esximg_vib_ropts {
    /* Read a VIB whose payloads lack members too, listing them in `problems`, so that a
     * broken package can be looked at, verified and salvaged.  The structure (ar, member
     * order, descriptor) must still read. */
    bool keep_missing;
};
/* esximg_vib_read with options (NULL: the defaults, as esximg_vib_read). */
int esximg_vib_read_opts(const void *data, size_t len, const struct esximg_vib_ropts *o,
                         struct esximg_vib **out, struct esximg_err *err);
/* "missing", "unexpected", "size" */
const char *esximg_vib_problem_name(enum esximg_vib_problem_kind k);
void esximg_vib_free(struct esximg_vib *v);
/* The bytes of a member by name, or NULL. */
const uint8_t *esximg_vib_member_data(const struct esximg_vib *v, const char *name,
                                      size_t *len);

/* The subject of sig.pkcs7's signing certificate on one line (RFC 2253 form, malloc'd);
 * *signer is NULL for an unsigned VIB. EFORMAT when sig.pkcs7 is not a PKCS#7 signature. */
int esximg_vib_signer(const struct esximg_vib *v, char **signer, struct esximg_err *err);

/* Writes every member as a file of the same name in `dir` (which must exist). All names are
 * checked first (no '/', no '..', not empty: EUNSAFE) and existing files are refused
 * (EINVAL) unless `overwrite`, so a refusal writes nothing; each file is written atomically.
 * err->file names the file concerned. */
int esximg_vib_extract(const struct esximg_vib *v, const char *dir, bool overwrite,
                       struct esximg_err *err);

/* One payload check of esximg_vib_verify. */
struct esximg_vib_check {
    char *payload;          /* payload name */
    char *what;             /* "size", "sha-256", "sha-256 (gunzip)", "sha-1 (gunzip)", ... */
    char *expected;
    char *actual;
    bool ok;
    bool skipped;           /* a checksum type we do not know */
};

struct esximg_vib_verify_result {
    size_t check_count;
    struct esximg_vib_check *checks;
    bool all_ok;            /* every size and checksum matched, none skipped */
    bool signed_vib;        /* sig.pkcs7 is not empty */
    char *signer;           /* subject of the signing certificate, or NULL */
    bool signature_checked; /* a CA bundle was given and the signature was checked */
    bool signature_ok;
    char *signature_error;  /* why the signature did not verify, or NULL */
};

struct esximg_vib_verify_opts {
    const char *ca_file;    /* PEM CA bundle to check the signature against, or NULL */
};

/* Verifies every payload's size and checksums (plain sha-256 over the stored member,
 * gunzip sums over its decompressed content, sha-256-gunzip1 over one gunzip of a vzstd
 * payload) and format (a failed "format" check for a vgz payload that is no gzip'd vmtar, a
 * tgz one that is no gzip'd tar), and reads the signer of sig.pkcs7.  A payload without a
 * member is a failed "member" check; so is each member no payload names.  When exactly one
 * payload lacks its member and one member is unnamed, that member is checked against the
 * payload (checks labelled "<payload> as member '<member>'"): a payload re-packed under
 * another name. Returns 0 when it could do the checks (see
 * result->all_ok), an error otherwise. */
int esximg_vib_verify(const struct esximg_vib *v, const struct esximg_vib_verify_opts *o,
                      struct esximg_vib_verify_result **out, struct esximg_err *err);
void esximg_vib_verify_result_free(struct esximg_vib_verify_result *r);

/* Writing: a VIB in the VMware ar dialect from a descriptor's bytes, a signature (may be
 * empty) and the payload members in descriptor order. */
struct esximg_vib_wmember {
    const char *name;
    const void *data;
    size_t len;
};
int esximg_vib_write(const void *descriptor, size_t descriptor_len, const void *sig,
                     size_t sig_len, const struct esximg_vib_wmember *payloads,
                     size_t payload_count, uint8_t **out, size_t *out_len,
                     struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
