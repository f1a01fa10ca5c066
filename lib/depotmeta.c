/* depotmeta.c: the members of a full depot's metadata zip that describe images rather than
 * VIBs: image profiles (profiles/, <imageprofile> XML, read by imgdb.c's profile parser) and,
 * from 7.0 on, release units: base images, add-ons and hardware support manifests (JSON, read
 * with jansson).  docs/depot-format.md has the layout and where each fact comes from.
 *
 * A member esximg does not understand (an unknown folder, an unknown releaseType or
 * schemaVersion, a document that does not read) is recorded by name on the model, so that a
 * caller building an image from the depot can refuse it rather than build something else. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "depotmeta_private.h"
#include "esx_limits.h"
#include "esx_private.h"
#include "esximg/imgdb.h"

/* Folders of a metadata zip that are read elsewhere or that change nothing a reader needs:
 * reservedVibs/ and reservedComponents/ list what a base image lost to an add-on [I]. */
static const char *const depotmeta_known_folders[] = {
    "vibs", "bulletins", "reservedVibs", "reservedComponents",
};
/* Files at the root of a metadata zip that depot.c reads or that repeat what it reads. */
static const char *const depotmeta_known_files[] = {
    "vmware.xml", "vendor-index.xml", "index.xml",
};

struct depotmeta_folder {
    const char *folder;
    enum esximg_release_kind kind;
    const char *release_type;     /* the releaseType its documents must carry */
};

static const struct depotmeta_folder depotmeta_release_folders[] = {
    { "baseimages", ESXIMG_RELEASE_BASE_IMAGE, "baseImage" },
    { "addons", ESXIMG_RELEASE_ADDON, "addon" },
    { "manifests", ESXIMG_RELEASE_MANIFEST, "manifest" },
};

#define DEPOTMETA_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- classification */

static bool depotmeta_in_folder(const char *name, const char *folder)
{
    size_t n = strlen(folder);
    return strncmp(name, folder, n) == 0 && name[n] == '/';
}

static const struct depotmeta_folder *depotmeta_release_folder(const char *name)
{
    for (size_t i = 0; i < DEPOTMETA_COUNT(depotmeta_release_folders); i++)
        if (depotmeta_in_folder(name, depotmeta_release_folders[i].folder))
            return &depotmeta_release_folders[i];
    return NULL;
}

enum esx_depotmeta_member esx_depotmeta_classify(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || name[len - 1] == '/')
        return ESX_DEPOTMETA_SKIP;          /* a folder entry */
    for (size_t i = 0; i < DEPOTMETA_COUNT(depotmeta_known_folders); i++)
        if (depotmeta_in_folder(name, depotmeta_known_folders[i]))
            return ESX_DEPOTMETA_SKIP;
    for (size_t i = 0; i < DEPOTMETA_COUNT(depotmeta_known_files); i++)
        if (strcmp(name, depotmeta_known_files[i]) == 0)
            return ESX_DEPOTMETA_SKIP;
    if (depotmeta_in_folder(name, "profiles"))
        return ESX_DEPOTMETA_PROFILE;
    if (depotmeta_release_folder(name))
        return ESX_DEPOTMETA_RELEASE;
    return ESX_DEPOTMETA_UNKNOWN;
}

/* ---------------------------------------------------------------- growing the model */

static int depotmeta_append(void **items, size_t *count, size_t size, const void *item,
                            struct esximg_err *err)
{
    void *grown = esx_realloc_array(*items, *count + 1, size);
    if (!grown)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    memcpy((char *)grown + *count * size, item, size);
    *items = grown;
    (*count)++;
    return 0;
}

static void depotmeta_warn(struct esximg_depot *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Best effort, as depot.c's warnings: one that cannot be stored is counted as dropped. */
static void depotmeta_warn(struct esximg_depot *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (esx_vwarn(&d->warnings, 0, NULL, fmt, ap))
        d->warnings.dropped++;
    va_end(ap);
}

int esx_depotmeta_unknown(struct esximg_depot *d, const char *source, const char *reason,
                          struct esximg_err *err)
{
    if (d->unknown_count >= ESX_MAX_ZIP_ENTRIES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "more than %u members not understood",
                              ESX_MAX_ZIP_ENTRIES);
    struct esximg_depot_unknown u = { esx_strdup(source), esx_strdup(reason) };
    if (!u.path || !u.reason) {
        free(u.path);
        free(u.reason);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    int rc = depotmeta_append((void **)&d->unknowns, &d->unknown_count, sizeof u, &u, err);
    if (rc) {
        free(u.path);
        free(u.reason);
    }
    return rc;
}

/* ---------------------------------------------------------------- profiles */

static int depotmeta_read_profile(struct esximg_depot *d, const char *source, const uint8_t *data,
                                  size_t len, struct esximg_err *err)
{
    struct esximg_depot_profile p = {0};
    int rc = esximg_profile_read(data, len, &p.profile, err);
    if (rc)
        return rc;
    if (!(p.source = esx_strdup(source)))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    if (!rc)
        rc = depotmeta_append((void **)&d->profiles, &d->profile_count, sizeof p, &p, err);
    if (rc) {
        free(p.source);
        esximg_profile_free(p.profile);
    }
    return rc;
}

/* ---------------------------------------------------------------- release units */

static void depotmeta_release_clear(struct esximg_depot_release *r)
{
    free(r->source);
    free(r->release_id);
    free(r->release_type);
    free(r->schema_version);
    free(r->name);
    free(r->name_ui);
    free(r->version);
    free(r->version_ui);
    free(r->vendor);
    free(r->summary);
    free(r->description);
    free(r->doc_url);
    free(r->acceptance);
    free(r->release_date);
    for (size_t i = 0; i < r->component_count; i++) {
        free(r->components[i].name);
        free(r->components[i].version);
    }
    free(r->components);
    for (size_t i = 0; i < r->removed_count; i++)
        free(r->removed_components[i]);
    free(r->removed_components);
    for (size_t i = 0; i < r->supported_count; i++)
        free(r->supported_base_versions[i]);
    free(r->supported_base_versions);
    free(r->json);
    memset(r, 0, sizeof *r);
}

/* Nesting past this is refused before anything is read: the documents are three levels deep. */
static int depotmeta_check_depth(const json_t *v, unsigned depth, struct esximg_err *err)
{
    if (depth > ESX_MAX_JSON_DEPTH)
        return esximg_err_set(err, ESXIMG_ELIMIT, "json nested deeper than %u levels",
                              ESX_MAX_JSON_DEPTH);
    int rc = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            (void)key;
            if ((rc = depotmeta_check_depth(child, depth + 1, err)))
                break;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && !rc; i++)
            rc = depotmeta_check_depth(json_array_get(v, i), depth + 1, err);
    }
    return rc;
}

/* A string member, copied; absent or null leaves *out NULL; another type is EFORMAT. */
static int depotmeta_string(const json_t *obj, const char *key, char **out,
                            struct esximg_err *err)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' is not a string", key);
    if (!(*out = esx_strndup(json_string_value(v), json_string_length(v))))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    return 0;
}

static int depotmeta_string_array(const json_t *obj, const char *key, char ***out,
                                  size_t *count, struct esximg_err *err)
{
    const json_t *arr = json_object_get(obj, key);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' is not an array", key);
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    if (!(*out = esx_malloc_array(n, sizeof **out)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(arr, i);
        if (!json_is_string(item))
            return esximg_err_set(err, ESXIMG_EFORMAT, "'%s' holds something not a string",
                                  key);
        if (!((*out)[i] = esx_strndup(json_string_value(item), json_string_length(item))))
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        (*count)++;
    }
    return 0;
}

/* "components": {"<name>": "<version>", ...}, in document order (jansson keeps it). */
static int depotmeta_components(const json_t *root, struct esximg_depot_release *r,
                                struct esximg_err *err)
{
    const json_t *obj = json_object_get(root, "components");
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return esximg_err_set(err, ESXIMG_EFORMAT, "'components' is not an object");
    size_t n = json_object_size(obj);
    if (n == 0)
        return 0;
    if (!(r->components = esx_malloc_array(n, sizeof *r->components)))
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        if (!json_is_string(value) || json_string_length(value) == 0 || !*key)
            return esximg_err_set(err, ESXIMG_EFORMAT, "component '%s' has no version", key);
        struct esximg_release_component *c = &r->components[r->component_count];
        c->name = esx_strdup(key);
        c->version = esx_strndup(json_string_value(value), json_string_length(value));
        r->component_count++;
        if (!c->name || !c->version)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    return 0;
}

/* Schema versions read: 1.x, the only ones seen [I]. */
static bool depotmeta_schema_known(const char *v)
{
    return v && (strcmp(v, "1") == 0 || strncmp(v, "1.", 2) == 0);
}

static int depotmeta_release_fields(const json_t *root, const struct depotmeta_folder *f,
                                    struct esximg_depot_release *r, struct esximg_err *err)
{
    const json_t *name_spec = json_object_get(root, "nameSpec");
    const json_t *version_spec = json_object_get(root, "versionSpec");
    int rc;
    if ((rc = depotmeta_string(root, "releaseID", &r->release_id, err)) ||
        (rc = depotmeta_string(root, "releaseType", &r->release_type, err)) ||
        (rc = depotmeta_string(root, "schemaVersion", &r->schema_version, err)) ||
        (rc = depotmeta_string(name_spec, "name", &r->name, err)) ||
        (rc = depotmeta_string(name_spec, "uiString", &r->name_ui, err)) ||
        (rc = depotmeta_string(version_spec, "version", &r->version, err)) ||
        (rc = depotmeta_string(version_spec, "uiString", &r->version_ui, err)) ||
        (rc = depotmeta_string(root, "vendor", &r->vendor, err)) ||
        (rc = depotmeta_string(root, "summary", &r->summary, err)) ||
        (rc = depotmeta_string(root, "description", &r->description, err)) ||
        (rc = depotmeta_string(root, "docURL", &r->doc_url, err)) ||
        (rc = depotmeta_string(root, "acceptanceLevel", &r->acceptance, err)) ||
        (rc = depotmeta_string(root, "releaseDate", &r->release_date, err)) ||
        (rc = depotmeta_components(root, r, err)) ||
        (rc = depotmeta_string_array(root, "removedComponents", &r->removed_components,
                                     &r->removed_count, err)) ||
        (rc = depotmeta_string_array(root, "supportedBaseImageVersions",
                                     &r->supported_base_versions, &r->supported_count, err)))
        return rc;
    if (!r->release_type || strcasecmp(r->release_type, f->release_type) != 0)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "releaseType '%s' unknown in '%s/'",
                              r->release_type ? r->release_type : "", f->folder);
    if (!depotmeta_schema_known(r->schema_version))
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "schemaVersion '%s' unknown",
                              r->schema_version ? r->schema_version : "");
    if (!r->version || !*r->version)
        return esximg_err_set(err, ESXIMG_EFORMAT, "no versionSpec version");
    if (!r->release_id || !*r->release_id)
        return esximg_err_set(err, ESXIMG_EFORMAT, "no releaseID");
    if (f->kind != ESXIMG_RELEASE_BASE_IMAGE && (!r->name || !*r->name))
        return esximg_err_set(err, ESXIMG_EFORMAT, "no nameSpec name");
    return 0;
}

static int depotmeta_read_release(struct esximg_depot *d, const char *source, const char *name,
                                  const uint8_t *data, size_t len, struct esximg_err *err)
{
    const struct depotmeta_folder *f = depotmeta_release_folder(name);
    if (len > ESX_MAX_JSON_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "json larger than %llu bytes",
                              (unsigned long long)ESX_MAX_JSON_BYTES);
    json_error_t jerr;
    /* duplicate keys refused: which copy counts would be a guess */
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return esximg_err_set(err, ESXIMG_EFORMAT, "not json: %s (line %d)", jerr.text,
                              jerr.line);
    struct esximg_depot_release r = { .kind = f->kind };
    int rc = 0;
    if (!json_is_object(root))
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "json is not an object");
    if (!rc)
        rc = depotmeta_check_depth(root, 1, err);
    if (!rc)
        rc = depotmeta_release_fields(root, f, &r, err);
    if (!rc && (!(r.source = esx_strdup(source)) ||
                !(r.json = esx_strndup((const char *)data, len))))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    r.json_len = len;
    if (!rc) {
        struct esximg_depot_release **list = f->kind == ESXIMG_RELEASE_BASE_IMAGE
                                                 ? &d->base_images
                                             : f->kind == ESXIMG_RELEASE_ADDON ? &d->addons
                                                                               : &d->manifests;
        size_t *count = f->kind == ESXIMG_RELEASE_BASE_IMAGE ? &d->base_image_count
                        : f->kind == ESXIMG_RELEASE_ADDON    ? &d->addon_count
                                                             : &d->manifest_count;
        rc = depotmeta_append((void **)list, count, sizeof r, &r, err);
    }
    if (rc)
        depotmeta_release_clear(&r);
    json_decref(root);
    return rc;
}

int esx_depotmeta_read(struct esximg_depot *d, const char *source, const char *name,
                       const uint8_t *data, size_t len, struct esximg_err *err)
{
    enum esx_depotmeta_member kind = esx_depotmeta_classify(name);
    if (kind == ESX_DEPOTMETA_PROFILE)
        return depotmeta_read_profile(d, source, data, len, err);
    if (kind == ESX_DEPOTMETA_RELEASE)
        return depotmeta_read_release(d, source, name, data, len, err);
    return esximg_err_set(err, ESXIMG_EINVAL, "member '%s' is not a profile or release unit",
                          name);
}

/* ---------------------------------------------------------------- after the bundle */

static bool depotmeta_has_vib(const struct esximg_depot *d, const char *vib_id)
{
    for (size_t i = 0; i < d->vib_count; i++)
        if (strcmp(d->vibs[i].vib_id, vib_id) == 0)
            return true;
    return false;
}

static int depotmeta_check_duplicates(const struct esximg_depot_release *list, size_t n,
                                      const char *what, struct esximg_err *err)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            const struct esximg_depot_release *a = &list[i], *b = &list[j];
            bool same_name = !a->name || !b->name ? a->name == b->name
                                                  : strcmp(a->name, b->name) == 0;
            if (same_name && strcmp(a->version, b->version) == 0)
                return esximg_err_set(err, ESXIMG_EFORMAT,
                                      "%s '%s' and '%s' have the same version '%s'", what,
                                      a->source, b->source, a->version);
        }
    }
    return 0;
}

int esx_depotmeta_finish(struct esximg_depot *d, struct esximg_err *err)
{
    int rc;
    if ((rc = depotmeta_check_duplicates(d->base_images, d->base_image_count, "base images",
                                         err)) ||
        (rc = depotmeta_check_duplicates(d->addons, d->addon_count, "add-ons", err)) ||
        (rc = depotmeta_check_duplicates(d->manifests, d->manifest_count, "manifests", err)))
        return rc;
    for (size_t p = 0; p < d->profile_count; p++) {
        const struct esximg_profile *prof = d->profiles[p].profile;
        for (size_t v = 0; v < prof->vib_count; v++)
            if (!depotmeta_has_vib(d, prof->vibs[v].vib_id))
                depotmeta_warn(d, "profile '%s' lists vib '%s', which is not in the bundle",
                               prof->name, prof->vibs[v].vib_id);
    }
    return 0;
}

void esx_depotmeta_free(struct esximg_depot *d)
{
    for (size_t i = 0; i < d->profile_count; i++) {
        free(d->profiles[i].source);
        esximg_profile_free(d->profiles[i].profile);
    }
    free(d->profiles);
    for (size_t i = 0; i < d->base_image_count; i++)
        depotmeta_release_clear(&d->base_images[i]);
    free(d->base_images);
    for (size_t i = 0; i < d->addon_count; i++)
        depotmeta_release_clear(&d->addons[i]);
    free(d->addons);
    for (size_t i = 0; i < d->manifest_count; i++)
        depotmeta_release_clear(&d->manifests[i]);
    free(d->manifests);
    for (size_t i = 0; i < d->unknown_count; i++) {
        free(d->unknowns[i].path);
        free(d->unknowns[i].reason);
    }
    free(d->unknowns);
}
