/* test_depotmeta.c: full depots built in memory (VIBs, components, image profiles, base
 * images, add-ons): reading the metadata members, recording what is not understood, refusing
 * duplicates, and resolving a selection across several depots by vLCM's rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/depot.h"
#include "testutil.h"

/* ---------------------------------------------------------------- building inputs */

/* A component of one VIB: name "C-<vib>", the VIB "<vib>" by VMW, both of `version`. */
struct tc_comp {
    const char *vib;
    const char *version;
};

/* Extra metadata.zip members (profiles, release units, anything). */
struct tf_depot {
    const struct tc_comp *comps;
    size_t comp_count;
    const struct tu_zip_member *extra;
    size_t extra_count;
};

static const char index_xml[] =
    "<vendorList><vendor><name>Tester</name><code>VMW</code>"
    "<indexfile>vendor-index.xml</indexfile></vendor></vendorList>";
static const char vendor_index_xml[] =
    "<metaList><metadata><productId>embeddedEsx</productId><version>7.0.0</version>"
    "<url>metadata.zip</url></metadata></metaList>";

static uint8_t *tf_build(const struct tf_depot *f, size_t *len)
{
    size_t n_meta = f->comp_count + f->extra_count + 1;
    struct tu_zip_member *meta = calloc(n_meta, sizeof *meta);
    struct tu_zip_member *top = calloc(f->comp_count + 3, sizeof *top);
    char **texts = calloc(f->comp_count * 3, sizeof *texts);
    uint8_t **vibs = calloc(f->comp_count, sizeof *vibs);
    assert_true(meta && top && texts && vibs);
    const char *vmware = "<metadataResponse><version>3.0</version></metadataResponse>";
    meta[0] = (struct tu_zip_member){ "vmware.xml", vmware, strlen(vmware) };
    for (size_t i = 0; i < f->comp_count; i++) {
        const struct tc_comp *c = &f->comps[i];
        char *bulletin = malloc(1024), *bname = malloc(256), *vpath = malloc(256);
        assert_true(bulletin && bname && vpath);
        snprintf(bulletin, 1024,
                 "<bulletin><id>C-%s_%s</id><vendor>VMW</vendor><summary>c</summary>"
                 "<componentNameSpec uiString=\"C\" name=\"C-%s\"/><componentVersionSpec "
                 "uiString=\"%s\" version=\"%s\"/><vibList><vibID>VMW_bootbank_%s_%s</vibID>"
                 "</vibList></bulletin>", c->vib, c->version, c->vib, c->version, c->version,
                 c->vib, c->version);
        snprintf(bname, 256, "bulletins/C-%s_%s.xml", c->vib, c->version);
        snprintf(vpath, 256, "vib20/%s/VMW_bootbank_%s_%s.vib", c->vib, c->vib, c->version);
        size_t vl;
        vibs[i] = tu_tiny_vib(c->vib, c->version, "VMW", c->vib, &vl);
        meta[1 + i] = (struct tu_zip_member){ bname, bulletin, strlen(bulletin) };
        top[3 + i] = (struct tu_zip_member){ vpath, vibs[i], vl };
        texts[3 * i] = bulletin;
        texts[3 * i + 1] = bname;
        texts[3 * i + 2] = vpath;
    }
    for (size_t i = 0; i < f->extra_count; i++)
        meta[1 + f->comp_count + i] = f->extra[i];
    size_t ml;
    uint8_t *metazip = tu_zip(meta, n_meta, false, &ml);
    top[0] = (struct tu_zip_member){ "index.xml", index_xml, strlen(index_xml) };
    top[1] = (struct tu_zip_member){ "vendor-index.xml", vendor_index_xml, strlen(vendor_index_xml) };
    top[2] = (struct tu_zip_member){ "metadata.zip", metazip, ml };
    uint8_t *zip = tu_zip(top, f->comp_count + 3, false, len);
    for (size_t i = 0; i < f->comp_count * 3; i++)
        free(texts[i]);
    for (size_t i = 0; i < f->comp_count; i++)
        free(vibs[i]);
    free(texts);
    free(vibs);
    free(metazip);
    free(meta);
    free(top);
    return zip;
}

static struct esximg_depot *tf_read(const struct tf_depot *f)
{
    size_t len;
    uint8_t *zip = tf_build(f, &len);
    struct esximg_depot *d = NULL;
    struct esximg_err err = {0};
    int rc = esximg_depot_read(zip, len, NULL, &d, &err);
    free(zip);
    if (rc)
        fail_msg("depot read: %s", err.msg);
    return d;
}

static int tf_read_rc(const struct tf_depot *f, struct esximg_err *err)
{
    size_t len;
    uint8_t *zip = tf_build(f, &len);
    struct esximg_depot *d = NULL;
    int rc = esximg_depot_read(zip, len, NULL, &d, err);
    free(zip);
    esximg_depot_free(d);
    return rc;
}

#define TZ_TEXT(name, text) { name, text, sizeof(text) - 1 }

/* Base image 7.0.2-0.0.100: a, b, c at 1.0-1. */
static const char base_json[] =
    "{\"releaseID\": \"ESXi_7.0.2-0.0.100\", \"releaseType\": \"baseImage\", "
    "\"vendor\": \"VMware, Inc.\", \"summary\": \"ESXi base\", \"description\": \"the base\", "
    "\"docURL\": \"\", \"acceptanceLevel\": \"community\", "
    "\"releaseDate\": \"2021-03-09T00:00:00\", \"schemaVersion\": \"1.0\", "
    "\"versionSpec\": {\"version\": \"7.0.2-0.0.100\", \"uiString\": \"7.0 U2 - 100\"}, "
    "\"components\": {\"C-a\": \"1.0-1\", \"C-b\": \"1.0-1\", \"C-c\": \"1.0-1\"}, "
    "\"quickPatchCompatibleVersions\": []}";

static const char profile_xml[] =
    "<imageprofile><name>ESXi-test-standard</name><creator>VMware, Inc.</creator>"
    "<description>the standard image</description><acceptancelevel>community"
    "</acceptancelevel><viblist><vib><vib-id>VMW_bootbank_c_1.0-1</vib-id></vib><vib><vib-id>"
    "VMW_bootbank_a_1.0-1</vib-id></vib><vib><vib-id>VMW_bootbank_b_1.0-1</vib-id></vib>"
    "</viblist></imageprofile>";

static const struct tc_comp base_comps[] = {
    { "a", "1.0-1" }, { "b", "1.0-1" }, { "c", "1.0-1" },
};
static const struct tu_zip_member base_extra[] = {
    TZ_TEXT("baseimages/ESXi_7.0.2-0.0.100.json", base_json),
    TZ_TEXT("profiles/ESXi-test-standard", profile_xml),
};
static const struct tf_depot base_depot = { base_comps, 3, base_extra, 2 };

/* Add-on "Vendor-AddOn" 1.0-1 (b 2.0-1, d 1.0-1; c removed) and 2.0-1 (also e 1.0-1). */
#define ADDON_JSON(version, extra)                                                              \
    "{\"releaseID\": \"Vendor-AddOn_" version "\", \"releaseType\": \"addon\", "               \
    "\"nameSpec\": {\"name\": \"Vendor-AddOn\", \"uiString\": \"Vendor add-on\"}, "            \
    "\"versionSpec\": {\"version\": \"" version "\", \"uiString\": \"" version "\"}, "         \
    "\"vendor\": \"Vendor\", \"summary\": \"s\", \"description\": \"vendor image\", "          \
    "\"docURL\": \"\", \"acceptanceLevel\": \"partner\", \"releaseDate\": \"2021\", "          \
    "\"schemaVersion\": \"1.0\", \"components\": {\"C-b\": \"2.0-1\", \"C-d\": \"1.0-1\""      \
    extra "}, \"removedComponents\": [\"C-c\"], \"supportedBaseImageVersions\": [\"7.0.2\"]}"
static const char addon1_json[] = ADDON_JSON("1.0-1", "");
static const char addon2_json[] = ADDON_JSON("2.0-1", ", \"C-e\": \"1.0-1\"");

static const struct tc_comp addon_comps[] = {
    { "b", "2.0-1" }, { "d", "1.0-1" }, { "e", "1.0-1" },
};
static const struct tu_zip_member addon_extra[] = {
    TZ_TEXT("addons/Vendor-AddOn_1.0-1.json", addon1_json),
    TZ_TEXT("addons/Vendor-AddOn_2.0-1.json", addon2_json),
};
static const struct tf_depot addon_depot = { addon_comps, 3, addon_extra, 2 };

/* e 2.0-1 alone, and an older a. */
static const struct tc_comp newer_comps[] = { { "e", "2.0-1" }, { "a", "0.9-1" } };
static const struct tf_depot newer_depot = { newer_comps, 2, NULL, 0 };

static bool has_warning(const struct esximg_warnings *w, const char *needle)
{
    for (size_t i = 0; i < w->count; i++)
        if (strstr(w->items[i].msg, needle))
            return true;
    return false;
}

/* ---------------------------------------------------------------- reading */

static void depotmeta_reads_profiles_base_images_and_addons(void **state)
{
    (void)state;
    struct esximg_depot *d = tf_read(&base_depot);
    assert_int_equal(d->profile_count, 1);
    assert_string_equal(d->profiles[0].profile->name, "ESXi-test-standard");
    assert_int_equal(d->profiles[0].profile->vib_count, 3);
    assert_string_equal(d->profiles[0].source, "metadata.zip/profiles/ESXi-test-standard");
    assert_int_equal(d->base_image_count, 1);
    const struct esximg_depot_release *b = &d->base_images[0];
    assert_int_equal(b->kind, ESXIMG_RELEASE_BASE_IMAGE);
    assert_string_equal(b->release_id, "ESXi_7.0.2-0.0.100");
    assert_string_equal(b->version, "7.0.2-0.0.100");
    assert_string_equal(b->version_ui, "7.0 U2 - 100");
    assert_string_equal(b->vendor, "VMware, Inc.");
    assert_string_equal(b->acceptance, "community");
    assert_null(b->name);
    assert_int_equal(b->component_count, 3);
    assert_string_equal(b->components[1].name, "C-b");      /* document order */
    assert_string_equal(b->components[1].version, "1.0-1");
    assert_int_equal(b->json_len, strlen(base_json));
    assert_int_equal(d->unknown_count, 0);
    assert_int_equal(d->warnings.count, 0);
    esximg_depot_free(d);

    d = tf_read(&addon_depot);
    assert_int_equal(d->addon_count, 2);
    const struct esximg_depot_release *a = &d->addons[1];
    assert_int_equal(a->kind, ESXIMG_RELEASE_ADDON);
    assert_string_equal(a->name, "Vendor-AddOn");
    assert_string_equal(a->version, "2.0-1");
    assert_int_equal(a->component_count, 3);
    assert_int_equal(a->removed_count, 1);
    assert_string_equal(a->removed_components[0], "C-c");
    assert_int_equal(a->supported_count, 1);
    assert_string_equal(a->supported_base_versions[0], "7.0.2");
    esximg_depot_free(d);
}

static void depotmeta_records_what_it_does_not_understand(void **state)
{
    (void)state;
    static const char weird_type[] =
        "{\"releaseID\": \"x\", \"releaseType\": \"weird\", \"schemaVersion\": \"1.0\", "
        "\"versionSpec\": {\"version\": \"1\"}}";
    static const char new_schema[] =
        "{\"releaseID\": \"x\", \"releaseType\": \"baseImage\", \"schemaVersion\": \"2.0\", "
        "\"versionSpec\": {\"version\": \"1\"}}";
    static const char dup_key[] =
        "{\"releaseID\": \"x\", \"releaseID\": \"y\", \"releaseType\": \"baseImage\"}";
    static const char manifest[] =
        "{\"releaseID\": \"HSP_1.0\", \"releaseType\": \"manifest\", \"schemaVersion\": \"1.0\","
        " \"nameSpec\": {\"name\": \"HSP\"}, \"versionSpec\": {\"version\": \"1.0\"}, "
        "\"components\": {\"C-a\": \"1.0-1\"}, \"supportedBaseImageVersions\": [\"7.0\"]}";
    const struct tu_zip_member extra[] = {
        TZ_TEXT("solutions/vsan.json", "{}"),
        TZ_TEXT("notes.txt", "hello"),
        TZ_TEXT("baseimages/weird.json", weird_type),
        TZ_TEXT("baseimages/new.json", new_schema),
        TZ_TEXT("baseimages/dup.json", dup_key),
        TZ_TEXT("addons/broken.json", "{\"releaseID\": "),
        TZ_TEXT("addons/array.json", "[1, 2]"),
        TZ_TEXT("profiles/../escape", profile_xml),
        TZ_TEXT("profiles/broken", "<imageprofile>"),
        TZ_TEXT("manifests/HSP_1.0.json", manifest),
        TZ_TEXT("reservedVibs/x.xml", "ignored"),
    };
    const struct tf_depot f = { base_comps, 1, extra, sizeof extra / sizeof extra[0] };
    struct esximg_depot *d = tf_read(&f);
    assert_int_equal(d->base_image_count, 0);
    assert_int_equal(d->addon_count, 0);
    assert_int_equal(d->profile_count, 0);
    assert_int_equal(d->manifest_count, 1);
    assert_string_equal(d->manifests[0].name, "HSP");
    assert_int_equal(d->unknown_count, 9);
    const char *want[][2] = {
        { "metadata.zip/solutions/vsan.json", "unknown folder 'solutions'" },
        { "metadata.zip/notes.txt", "unknown file" },
        { "metadata.zip/baseimages/weird.json", "releaseType 'weird' unknown" },
        { "metadata.zip/baseimages/new.json", "schemaVersion '2.0' unknown" },
        { "metadata.zip/baseimages/dup.json", "not json" },
        { "metadata.zip/addons/broken.json", "not json" },
        { "metadata.zip/addons/array.json", "not an object" },
        { "metadata.zip/profiles/../escape", ".." },
        { "metadata.zip/profiles/broken", "" },
    };
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(d->unknowns[i].path, want[i][0]);
        if (!strstr(d->unknowns[i].reason, want[i][1]))
            fail_msg("%s: reason '%s' lacks '%s'", want[i][0], d->unknowns[i].reason,
                     want[i][1]);
        assert_true(has_warning(&d->warnings, want[i][0]));
    }
    esximg_depot_free(d);
}

static void depotmeta_refuses_two_base_images_of_one_version(void **state)
{
    (void)state;
    const struct tu_zip_member extra[] = {
        TZ_TEXT("baseimages/one.json", base_json),
        TZ_TEXT("baseimages/two.json", base_json),
    };
    const struct tf_depot f = { base_comps, 3, extra, 2 };
    struct esximg_err err = {0};
    assert_int_equal(tf_read_rc(&f, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "metadata.zip/baseimages/one.json"));
    assert_non_null(strstr(err.msg, "metadata.zip/baseimages/two.json"));
    assert_non_null(strstr(err.msg, "7.0.2-0.0.100"));

    const struct tu_zip_member addons[] = {
        TZ_TEXT("addons/one.json", addon1_json),
        TZ_TEXT("addons/two.json", addon1_json),
    };
    const struct tf_depot g = { addon_comps, 3, addons, 2 };
    assert_int_equal(tf_read_rc(&g, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "add-ons"));
}

static void depotmeta_refuses_json_nested_too_deep(void **state)
{
    (void)state;
    char deep[512] = "{\"releaseID\": ";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    const struct tu_zip_member extra[] = { { "baseimages/deep.json", deep, strlen(deep) } };
    const struct tf_depot f = { base_comps, 1, extra, 1 };
    struct esximg_err err = {0};
    assert_int_equal(tf_read_rc(&f, &err), ESXIMG_ELIMIT);
    assert_non_null(strstr(err.msg, "nested deeper"));
}

static void depotmeta_warns_of_a_profile_vib_not_in_the_bundle(void **state)
{
    (void)state;
    const struct tu_zip_member extra[] = { TZ_TEXT("profiles/p", profile_xml) };
    const struct tf_depot f = { base_comps, 2, extra, 1 };      /* c is missing */
    struct esximg_depot *d = tf_read(&f);
    assert_int_equal(d->profile_count, 1);
    assert_true(has_warning(&d->warnings, "profile 'ESXi-test-standard' lists vib "
                                          "'VMW_bootbank_c_1.0-1', which is not in the bundle"));
    assert_false(has_warning(&d->warnings, "VMW_bootbank_a_1.0-1"));
    esximg_depot_free(d);
}

/* ---------------------------------------------------------------- resolving */

struct tr_depots {
    struct esximg_depot *d[3];
};

static int tr_setup(void **state)
{
    struct tr_depots *t = calloc(1, sizeof *t);
    t->d[0] = tf_read(&base_depot);
    t->d[1] = tf_read(&addon_depot);
    t->d[2] = tf_read(&newer_depot);
    *state = t;
    return 0;
}

static int tr_teardown(void **state)
{
    struct tr_depots *t = *state;
    for (size_t i = 0; i < 3; i++)
        esximg_depot_free(t->d[i]);
    free(t);
    return 0;
}

static struct esximg_depot_resolution *tr_resolve(void **state,
                                                  const struct esximg_depot_selection *sel)
{
    struct tr_depots *t = *state;
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_resolve(t->d, 3, sel, &r, &err))
        fail_msg("resolve: %s", err.msg);
    return r;
}

static int tr_resolve_rc(void **state, const struct esximg_depot_selection *sel,
                         struct esximg_err *err)
{
    struct tr_depots *t = *state;
    struct esximg_depot_resolution *r = NULL;
    int rc = esximg_depot_resolve(t->d, 3, sel, &r, err);
    assert_null(r);
    return rc;
}

/* "C-a=1.0-1,C-b=2.0-1" from the chosen components, to compare in one go. */
static void tr_assert_components(const struct esximg_depot_resolution *r, const char *want)
{
    char got[1024] = "";
    for (size_t i = 0; i < r->component_count; i++) {
        const struct esximg_depot_component *k = r->components[i].component;
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s=%s", i ? "," : "", k->name, k->version);
    }
    assert_string_equal(got, want);
}

static void tr_assert_vibs(const struct esximg_depot_resolution *r, const char *want)
{
    char got[2048] = "";
    for (size_t i = 0; i < r->vib_count; i++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s", i ? "," : "", r->vibs[i]->vib_id);
    }
    assert_string_equal(got, want);
}

static void resolve_a_profile_gives_its_vibs_sorted(void **state)
{
    const struct esximg_depot_selection sel = { .profile = "ESXi-test-standard" };
    struct esximg_depot_resolution *r = tr_resolve(state, &sel);
    tr_assert_vibs(r, "VMW_bootbank_a_1.0-1,VMW_bootbank_b_1.0-1,VMW_bootbank_c_1.0-1");
    tr_assert_components(r, "C-a=1.0-1,C-b=1.0-1,C-c=1.0-1");
    assert_string_equal(r->profile_name, "ESXi-test-standard");
    assert_string_equal(r->profile_vendor, "VMware, Inc.");
    assert_string_equal(r->profile_description, "the standard image");
    assert_int_equal(r->acceptance, ESXIMG_ACCEPT_COMMUNITY);
    /* its components are the base image's, at the base image's versions */
    assert_non_null(r->base_image);
    assert_string_equal(r->base_image->release_id, "ESXi_7.0.2-0.0.100");
    assert_non_null(r->profile);
    esximg_depot_resolution_free(r);
}

static void resolve_names_what_is_missing(void **state)
{
    struct esximg_err err = {0};
    const struct esximg_depot_selection nope = { .profile = "ESXi-none" };
    assert_int_equal(tr_resolve_rc(state, &nope, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "image profile 'ESXi-none' is in no depot");

    const struct esximg_depot_selection no_base = { .base_image = "6.7.0" };
    assert_int_equal(tr_resolve_rc(state, &no_base, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "base image '6.7.0' is in no depot");

    const struct esximg_depot_pick addon = { "Other-AddOn", NULL };
    const struct esximg_depot_selection no_addon = { .base_image = "7.0.2-0.0.100",
                                                     .addon = &addon };
    assert_int_equal(tr_resolve_rc(state, &no_addon, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "add-on 'Other-AddOn' is in no depot");

    const struct esximg_depot_pick comp[] = { { "C-z", NULL } };
    const struct esximg_depot_selection no_comp = { .base_image = "7.0.2-0.0.100",
                                                    .component_count = 1, .components = comp };
    assert_int_equal(tr_resolve_rc(state, &no_comp, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "component 'C-z' is in no depot");

    const struct esximg_depot_pick old[] = { { "C-d", "0.1-1" } };
    const struct esximg_depot_selection no_version = { .base_image = "7.0.2-0.0.100",
                                                       .component_count = 1,
                                                       .components = old };
    assert_int_equal(tr_resolve_rc(state, &no_version, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "component 'C-d' version '0.1-1' is in no depot");

    /* older than the base image's, and in no depot: not a warning, an error */
    const struct esximg_depot_pick older[] = { { "C-a", "0.1-1" } };
    const struct esximg_depot_selection no_older = { .base_image = "7.0.2-0.0.100",
                                                     .component_count = 1,
                                                     .components = older };
    assert_int_equal(tr_resolve_rc(state, &no_older, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "component 'C-a' version '0.1-1' is in no depot");

    const struct esximg_depot_selection both = { .profile = "x", .base_image = "y" };
    assert_int_equal(tr_resolve_rc(state, &both, &err), ESXIMG_EINVAL);
}

static void resolve_a_profile_vib_in_no_depot_is_an_error(void **state)
{
    (void)state;
    const struct tu_zip_member extra[] = { TZ_TEXT("profiles/p", profile_xml) };
    const struct tf_depot f = { base_comps, 2, extra, 1 };
    struct esximg_depot *d = tf_read(&f);
    const struct esximg_depot_selection sel = { .profile = "ESXi-test-standard" };
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_resolve(&d, 1, &sel, &r, &err), ESXIMG_ENOTFOUND);
    assert_string_equal(err.msg, "vib 'VMW_bootbank_c_1.0-1' of image profile "
                                 "'ESXi-test-standard' is in no depot");
    esximg_depot_free(d);
}

/* A profile that lacks one of the base image's components is not made of it. */
static void resolve_a_profile_without_its_base_image(void **state)
{
    (void)state;
    static const char profile_ab[] =
        "<imageprofile><name>ESXi-test-ab</name><creator>VMware, Inc.</creator>"
        "<acceptancelevel>community</acceptancelevel><viblist><vib><vib-id>"
        "VMW_bootbank_a_1.0-1</vib-id></vib><vib><vib-id>VMW_bootbank_b_1.0-1</vib-id></vib>"
        "</viblist></imageprofile>";
    const struct tu_zip_member extra[] = {
        TZ_TEXT("baseimages/ESXi_7.0.2-0.0.100.json", base_json),
        TZ_TEXT("profiles/ab", profile_ab),
    };
    const struct tf_depot f = { base_comps, 3, extra, 2 };
    struct esximg_depot *d = tf_read(&f);
    const struct esximg_depot_selection sel = { .profile = "ESXi-test-ab" };
    struct esximg_depot_resolution *r = NULL;
    assert_int_equal(esximg_depot_resolve(&d, 1, &sel, &r, NULL), 0);
    tr_assert_components(r, "C-a=1.0-1,C-b=1.0-1");
    assert_null(r->base_image);
    esximg_depot_resolution_free(r);
    esximg_depot_free(d);
}

static void resolve_a_base_image_alone(void **state)
{
    const struct esximg_depot_selection sel = { .base_image = "ESXi_7.0.2-0.0.100" };
    struct esximg_depot_resolution *r = tr_resolve(state, &sel);
    tr_assert_components(r, "C-a=1.0-1,C-b=1.0-1,C-c=1.0-1");
    tr_assert_vibs(r, "VMW_bootbank_a_1.0-1,VMW_bootbank_b_1.0-1,VMW_bootbank_c_1.0-1");
    assert_string_equal(r->profile_name, "ESXi_7.0.2-0.0.100");
    assert_string_equal(r->profile_vendor, "VMware, Inc.");
    assert_string_equal(r->profile_description, "the base");
    assert_null(r->addon);
    assert_string_equal(r->base_image->version, "7.0.2-0.0.100");
    assert_int_equal(r->reserved_count, 0);
    esximg_depot_resolution_free(r);
}

static void resolve_an_addon_replaces_and_removes(void **state)
{
    const struct esximg_depot_pick addon = { "Vendor-AddOn", "1.0-1" };
    const struct esximg_depot_selection sel = { .base_image = "7.0.2-0.0.100",
                                                .addon = &addon };
    struct esximg_depot_resolution *r = tr_resolve(state, &sel);
    tr_assert_components(r, "C-a=1.0-1,C-b=2.0-1,C-d=1.0-1");
    tr_assert_vibs(r, "VMW_bootbank_a_1.0-1,VMW_bootbank_b_2.0-1,VMW_bootbank_d_1.0-1");
    assert_string_equal(r->components[1].origin, "add-on");
    assert_string_equal(r->components[0].origin, "base image");
    assert_string_equal(r->profile_name, "Vendor-AddOn_1.0-1");
    assert_string_equal(r->profile_vendor, "Vendor");
    assert_string_equal(r->profile_description, "vendor image");
    assert_string_equal(r->addon->version, "1.0-1");
    /* what it replaced (b 1.0-1) and removed (c) of the base image, in its order */
    assert_int_equal(r->reserved_count, 2);
    assert_string_equal(r->reserved[0]->id, "C-b_1.0-1");
    assert_string_equal(r->reserved[1]->id, "C-c_1.0-1");
    esximg_depot_resolution_free(r);
}

static void resolve_takes_the_newest_addon_and_component(void **state)
{
    const struct esximg_depot_pick addon = { "Vendor-AddOn", NULL };
    const struct esximg_depot_pick comps[] = { { "C-e", NULL } };
    const struct esximg_depot_selection sel = { .base_image = "7.0.2-0.0.100",
                                                .addon = &addon, .component_count = 1,
                                                .components = comps };
    struct esximg_depot_resolution *r = tr_resolve(state, &sel);
    assert_string_equal(r->addon->version, "2.0-1");
    /* the add-on has e 1.0-1, a depot e 2.0-1: the newest */
    tr_assert_components(r, "C-a=1.0-1,C-b=2.0-1,C-d=1.0-1,C-e=2.0-1");
    esximg_depot_resolution_free(r);

    /* asked twice, the newer counts; an older one than the base image's is a warning */
    const struct esximg_depot_pick twice[] = { { "C-e", "2.0-1" }, { "C-e", "1.0-1" },
                                               { "C-a", "0.9-1" } };
    const struct esximg_depot_selection sel2 = { .base_image = "7.0.2-0.0.100",
                                                 .component_count = 3, .components = twice };
    r = tr_resolve(state, &sel2);
    tr_assert_components(r, "C-a=1.0-1,C-b=1.0-1,C-c=1.0-1,C-e=2.0-1");
    assert_true(has_warning(&r->warnings, "component 'C-a' 0.9-1 is older than base image's "
                                          "1.0-1, which is kept"));
    esximg_depot_resolution_free(r);
}

static void resolve_refuses_an_addon_for_another_base(void **state)
{
    (void)state;
    static const char other_base[] =
        "{\"releaseID\": \"ESXi_8.0.0-1.0.5\", \"releaseType\": \"baseImage\", "
        "\"schemaVersion\": \"1.0\", \"versionSpec\": {\"version\": \"8.0.0-1.0.5\"}, "
        "\"components\": {\"C-a\": \"1.0-1\"}}";
    const struct tu_zip_member extra[] = { TZ_TEXT("baseimages/b.json", other_base) };
    const struct tf_depot f = { base_comps, 1, extra, 1 };
    struct tr_depots *t = *state;
    struct esximg_depot *ds[2] = { tf_read(&f), t->d[1] };
    const struct esximg_depot_pick addon = { "Vendor-AddOn", "1.0-1" };
    const struct esximg_depot_selection sel = { .base_image = "8.0.0-1.0.5", .addon = &addon };
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_resolve(ds, 2, &sel, &r, &err), ESXIMG_EINVAL);
    assert_string_equal(err.msg, "add-on 'Vendor-AddOn_1.0-1' does not support base image "
                                 "version '8.0.0-1.0.5'");
    esximg_depot_free(ds[0]);
}

static void resolve_refuses_two_different_base_images_of_one_version(void **state)
{
    (void)state;
    static const char changed[] =
        "{\"releaseID\": \"ESXi_7.0.2-0.0.100\", \"releaseType\": \"baseImage\", "
        "\"schemaVersion\": \"1.0\", \"versionSpec\": {\"version\": \"7.0.2-0.0.100\"}, "
        "\"components\": {\"C-a\": \"1.0-1\"}}";
    const struct tu_zip_member extra[] = { TZ_TEXT("baseimages/other.json", changed) };
    const struct tf_depot f = { base_comps, 1, extra, 1 };
    struct tr_depots *t = *state;
    struct esximg_depot *ds[3] = { t->d[0], tf_read(&f), t->d[0] };
    const struct esximg_depot_selection sel = { .base_image = "7.0.2-0.0.100" };
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    /* the same depot twice is one base image */
    assert_int_equal(esximg_depot_resolve(&ds[2], 1, &sel, &r, &err), 0);
    esximg_depot_resolution_free(r);
    r = NULL;
    assert_int_equal(esximg_depot_resolve(ds, 2, &sel, &r, &err), ESXIMG_EFORMAT);
    assert_string_equal(err.msg, "base images 'metadata.zip/baseimages/ESXi_7.0.2-0.0.100.json'"
                                 " and 'metadata.zip/baseimages/other.json' differ for version "
                                 "'7.0.2-0.0.100'");
    esximg_depot_free(ds[1]);
}

static void resolve_refuses_two_profiles_of_one_name_that_differ(void **state)
{
    static const char other[] =
        "<imageprofile><name>ESXi-test-standard</name><viblist><vib><vib-id>"
        "VMW_bootbank_a_1.0-1</vib-id></vib></viblist></imageprofile>";
    const struct tu_zip_member extra[] = { TZ_TEXT("profiles/other", other) };
    const struct tf_depot f = { base_comps, 1, extra, 1 };
    struct tr_depots *t = *state;
    struct esximg_depot *ds[3] = { t->d[0], t->d[0], tf_read(&f) };
    const struct esximg_depot_selection sel = { .profile = "ESXi-test-standard" };
    struct esximg_depot_resolution *r = NULL;
    struct esximg_err err = {0};
    assert_int_equal(esximg_depot_resolve(ds, 2, &sel, &r, &err), 0);   /* the same twice */
    esximg_depot_resolution_free(r);
    r = NULL;
    assert_int_equal(esximg_depot_resolve(ds, 3, &sel, &r, &err), ESXIMG_EFORMAT);
    assert_string_equal(err.msg, "image profiles 'metadata.zip/profiles/ESXi-test-standard' and "
                                 "'metadata.zip/profiles/other' of one name "
                                 "'ESXi-test-standard' list other vibs");
    esximg_depot_free(ds[2]);
}

int main(void)
{
    const struct CMUnitTest reading[] = {
        cmocka_unit_test(depotmeta_reads_profiles_base_images_and_addons),
        cmocka_unit_test(depotmeta_records_what_it_does_not_understand),
        cmocka_unit_test(depotmeta_refuses_two_base_images_of_one_version),
        cmocka_unit_test(depotmeta_refuses_json_nested_too_deep),
        cmocka_unit_test(depotmeta_warns_of_a_profile_vib_not_in_the_bundle),
        cmocka_unit_test(resolve_a_profile_vib_in_no_depot_is_an_error),
        cmocka_unit_test(resolve_a_profile_without_its_base_image),
    };
    const struct CMUnitTest resolving[] = {
        cmocka_unit_test(resolve_a_profile_gives_its_vibs_sorted),
        cmocka_unit_test(resolve_names_what_is_missing),
        cmocka_unit_test(resolve_a_base_image_alone),
        cmocka_unit_test(resolve_an_addon_replaces_and_removes),
        cmocka_unit_test(resolve_takes_the_newest_addon_and_component),
        cmocka_unit_test(resolve_refuses_an_addon_for_another_base),
        cmocka_unit_test(resolve_refuses_two_different_base_images_of_one_version),
        cmocka_unit_test(resolve_refuses_two_profiles_of_one_name_that_differ),
    };
    int failed = cmocka_run_group_tests_name("reading", reading, NULL, NULL);
    return failed + cmocka_run_group_tests_name("resolving", resolving, tr_setup, tr_teardown);
}
