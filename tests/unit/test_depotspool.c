/* test_depotspool.c: a bundle's VIBs spooled to files (lib/depotspool.c): the VIBs and
 * components of a bundle written by esximg_depot_write, nested bundles, the limits, the
 * metadata model the resolver reads, and the files gone after the free. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esximg/depot.h"
#include "esximg/depotspool.h"
#include "esximg/io.h"
#include "esximg/vib.h"
#include "testutil.h"

#define PAYLOAD_SIZE (200u * 1024u)

struct fixture {
    char *dir;          /* the spool folder */
    char *zip;          /* a bundle of two VIBs */
    uint8_t *vib[2];
    size_t vib_len[2];
};

static void make_vib(const char *name, unsigned seed, uint8_t **out, size_t *len)
{
    char desc[512];
    snprintf(desc, sizeof desc, "<vib version=\"5.0\"><type>bootbank</type><name>%s</name>"
             "<version>1.0-1</version><vendor>Test</vendor><summary>%s</summary>"
             "<release-date>2021-03-09T00:00:00</release-date><acceptance-level>partner"
             "</acceptance-level><payloads><payload name=\"%s\" type=\"vgz\" size=\"%u\"/>"
             "</payloads></vib>", name, name, name, PAYLOAD_SIZE);
    uint8_t *data = malloc(PAYLOAD_SIZE);
    assert_non_null(data);
    for (size_t i = 0; i < PAYLOAD_SIZE; i++)
        data[i] = (uint8_t)(i * 31u + seed + (i >> 9));
    const struct esximg_vib_wmember m = {name, data, PAYLOAD_SIZE};
    assert_int_equal(esximg_vib_write(desc, strlen(desc), NULL, 0, &m, 1, out, len, NULL), 0);
    free(data);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    char *top = tu_mkdtemp();
    fx->dir = tu_path_join(top, "spool");
    fx->zip = tu_path_join(top, "bundle.zip");
    free(top);
    tu_run("mkdir '%s'", fx->dir);
    make_vib("alpha", 1, &fx->vib[0], &fx->vib_len[0]);
    make_vib("beta", 2, &fx->vib[1], &fx->vib_len[1]);
    const struct esximg_depot_input in[2] = {{.data = fx->vib[0], .len = fx->vib_len[0]},
                                             {.data = fx->vib[1], .len = fx->vib_len[1]}};
    const struct esximg_depot_wopts o = {.mtime = 1600000000, .platform_version = "7.0.0"};
    uint8_t *zip = NULL;
    size_t len = 0;
    assert_int_equal(esximg_depot_write(in, 2, &o, &zip, &len, NULL), 0);
    assert_int_equal(esximg_file_write(fx->zip, zip, len, 0644, NULL), 0);
    free(zip);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char *top = strdup(fx->dir);
    *strrchr(top, '/') = '\0';
    tu_rmtree(top);
    free(top);
    free(fx->dir);
    free(fx->zip);
    free(fx->vib[0]);
    free(fx->vib[1]);
    free(fx);
    return 0;
}

static void spool_reads_vibs_and_components(void **state)
{
    struct fixture *fx = *state;
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_spool(fx->zip, fx->dir, NULL, &s, &err))
        fail_msg("spool: %s", err.msg);
    assert_int_equal(s->vib_count, 2);
    assert_int_equal(tu_count_files(fx->dir), 2);
    for (size_t i = 0; i < 2; i++) {
        const struct esximg_spool_vib *v = &s->vibs[i];
        size_t k = strcmp(v->vib->desc->name, "alpha") == 0 ? 0 : 1;
        assert_int_equal(v->len, fx->vib_len[k]);
        assert_memory_equal(v->bytes, fx->vib[k], v->len);
        assert_string_equal(v->vib_id, k ? "Test_bootbank_beta_1.0-1" :
                                           "Test_bootbank_alpha_1.0-1");
        assert_non_null(strstr(v->member, "vib20/"));
        assert_false(v->in_place);      /* deflated: spooled */
        assert_string_equal(v->sha256, "");     /* no other VIB of its id */
    }
    /* one component per VIB, as esximg_depot_write makes them */
    assert_int_equal(s->component_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_non_null(s->components[i].bulletin);
        assert_int_equal(s->components[i].bulletin->vib_count, 1);
        assert_non_null(strstr(s->components[i].member, "metadata.zip/bulletins/"));
    }
    assert_int_equal(s->warnings.count, 0);
    esximg_depot_spool_free(s);
    assert_int_equal(tu_count_files(fx->dir), 0);
}

static void spool_walks_a_nested_bundle(void **state)
{
    struct fixture *fx = *state;
    char *outer = tu_path_join(fx->dir, "../outer.zip");
    char *inner_dir = tu_path_join(fx->dir, "../inner");
    tu_run("mkdir -p '%s' && cp '%s' '%s/bundle.zip' && cd '%s' && zip -q -0 '%s' bundle.zip",
           inner_dir, fx->zip, inner_dir, inner_dir, outer);
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_spool(outer, fx->dir, NULL, &s, &err))
        fail_msg("spool: %s", err.msg);
    assert_int_equal(s->vib_count, 2);
    assert_non_null(strstr(s->vibs[0].member, "bundle.zip/vib20/"));
    assert_int_equal(tu_count_files(fx->dir), 2);     /* the inner zip is gone already */
    esximg_depot_spool_free(s);
    assert_int_equal(tu_count_files(fx->dir), 0);
    free(outer);
    free(inner_dir);
}

static void spool_refuses_what_it_cannot_use(void **state)
{
    struct fixture *fx = *state;
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    const struct esximg_spool_opts small = {.max_bytes = PAYLOAD_SIZE};
    assert_int_equal(esximg_depot_spool(fx->zip, fx->dir, &small, &s, &err), ESXIMG_ELIMIT);
    assert_null(s);
    assert_string_equal(err.file, fx->zip);
    assert_int_equal(tu_count_files(fx->dir), 0);
    char *junk = tu_path_join(fx->dir, "../junk.zip");
    assert_int_equal(esximg_file_write(junk, "not a zip", 9, 0644, NULL), 0);
    assert_int_equal(esximg_depot_spool(junk, fx->dir, NULL, &s, &err), ESXIMG_EFORMAT);
    char *empty = tu_path_join(fx->dir, "../empty.zip");
    tu_run("cd '%s/..' && printf x >x.txt && zip -q '%s' x.txt", fx->dir, empty);
    assert_int_equal(esximg_depot_spool(empty, fx->dir, NULL, &s, &err), ESXIMG_ENOTFOUND);
    assert_int_equal(tu_count_files(fx->dir), 0);
    free(junk);
    free(empty);
}

/* The bundle with an image profile, a base image and two base images of one version added to
 * its metadata.zip (`twins`), at `out`. */
static void make_full(const struct fixture *fx, const char *out, bool twins)
{
    static const char profile[] =
        "<imageprofile><name>P</name><creator>Tester</creator><acceptancelevel>partner"
        "</acceptancelevel><viblist><vib><vib-id>Test_bootbank_beta_1.0-1</vib-id></vib>"
        "</viblist></imageprofile>";
    static const char base[] =
        "{\"releaseID\": \"B_1.0\", \"releaseType\": \"baseImage\", \"schemaVersion\": \"1.0\","
        " \"versionSpec\": {\"version\": \"1.0-1\"}, \"components\": {\"alpha\": \"1.0-1\"}}";
    char *work = tu_path_join(fx->dir, "../full");
    tu_run("rm -rf '%s' && mkdir -p '%s/m/profiles' '%s/m/baseimages' && cd '%s' && "
           "unzip -q '%s' && cd m && unzip -q ../metadata.zip", work, work, work, work, fx->zip);
    char *p = tu_path_join(work, "m/profiles/P.xml");
    char *b = tu_path_join(work, "m/baseimages/B.json");
    char *b2 = tu_path_join(work, "m/baseimages/B2.json");
    assert_int_equal(esximg_file_write(p, profile, strlen(profile), 0644, NULL), 0);
    assert_int_equal(esximg_file_write(b, base, strlen(base), 0644, NULL), 0);
    if (twins)
        assert_int_equal(esximg_file_write(b2, base, strlen(base), 0644, NULL), 0);
    tu_run("cd '%s/m' && rm ../metadata.zip && zip -q -r ../metadata.zip . && cd .. && "
           "rm -r m && rm -f '%s' && zip -q -r '%s' .", work, out, out);
    tu_rmtree(work);
    free(p);
    free(b);
    free(b2);
    free(work);
}

static void spool_models_the_metadata_for_the_resolver(void **state)
{
    struct fixture *fx = *state;
    char *full = tu_path_join(fx->dir, "../full.zip");
    make_full(fx, full, false);
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_spool(full, fx->dir, NULL, &s, &err))
        fail_msg("spool: %s", err.msg);
    const struct esximg_depot *d = s->depot;
    assert_non_null(d);
    assert_int_equal(d->profile_count, 1);
    assert_int_equal(d->base_image_count, 1);
    assert_int_equal(d->component_count, 2);
    assert_int_equal(d->unknown_count, 0);
    /* one descriptor per spooled VIB, at the same index, without bytes */
    assert_int_equal(d->vib_count, s->vib_count);
    for (size_t i = 0; i < d->vib_count; i++) {
        assert_string_equal(d->vibs[i].vib_id, s->vibs[i].vib_id);
        assert_null(d->vibs[i].bytes);
        assert_int_equal(d->vibs[i].acceptance, ESXIMG_ACCEPT_PARTNER);
    }
    struct esximg_depot *ds[1] = {s->depot};
    struct esximg_depot_resolution *r = NULL;
    const struct esximg_depot_selection by_profile = {.profile = "P"};
    assert_int_equal(esximg_depot_resolve(ds, 1, &by_profile, &r, &err), 0);
    assert_int_equal(r->vib_count, 1);
    assert_string_equal(r->vibs[0]->vib_id, "Test_bootbank_beta_1.0-1");
    assert_string_equal(r->profile_vendor, "Tester");
    esximg_depot_resolution_free(r);
    const struct esximg_depot_selection by_base = {.base_image = "1.0-1"};
    assert_int_equal(esximg_depot_resolve(ds, 1, &by_base, &r, &err), 0);
    assert_int_equal(r->vib_count, 1);
    assert_string_equal(r->vibs[0]->vib_id, "Test_bootbank_alpha_1.0-1");
    assert_int_equal(r->component_count, 1);
    assert_non_null(strstr(r->components[0].component->xml, "<bulletin"));
    esximg_depot_resolution_free(r);
    esximg_depot_spool_free(s);

    /* two base images of one version in one depot: refused, naming both, nothing left */
    make_full(fx, full, true);
    assert_int_equal(esximg_depot_spool(full, fx->dir, NULL, &s, &err), ESXIMG_EFORMAT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "metadata.zip/baseimages/B"));
    assert_int_equal(tu_count_files(fx->dir), 0);
    free(full);
}


/* Payload bytes deflate cannot shrink: the writer stores the .vib members. */
static void make_stored_depot(const char *zip_path, uint8_t *vib[2], size_t vib_len[2])
{
    for (unsigned k = 0; k < 2; k++) {
        char desc[512];
        const char *name = k ? "beta" : "alpha";
        snprintf(desc, sizeof desc, "<vib version=\"5.0\"><type>bootbank</type><name>%s"
                 "</name><version>1.0-1</version><vendor>Test</vendor><summary>s</summary>"
                 "<release-date>2021-03-09T00:00:00</release-date><acceptance-level>partner"
                 "</acceptance-level><payloads><payload name=\"%s\" type=\"vgz\" "
                 "size=\"%u\"/></payloads></vib>", name, name, PAYLOAD_SIZE);
        uint8_t *data = malloc(PAYLOAD_SIZE);
        assert_non_null(data);
        uint32_t r = 2463534242u + k;
        for (size_t i = 0; i < PAYLOAD_SIZE; i++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;    /* xorshift: incompressible */
            data[i] = (uint8_t)r;
        }
        const struct esximg_vib_wmember m = {name, data, PAYLOAD_SIZE};
        assert_int_equal(esximg_vib_write(desc, strlen(desc), NULL, 0, &m, 1, &vib[k],
                                          &vib_len[k], NULL), 0);
        free(data);
    }
    const struct esximg_depot_input in[2] = {{.data = vib[0], .len = vib_len[0]},
                                             {.data = vib[1], .len = vib_len[1]}};
    const struct esximg_depot_wopts o = {.mtime = 1600000000, .platform_version = "7.0.0"};
    uint8_t *zip = NULL;
    size_t len = 0;
    assert_int_equal(esximg_depot_write(in, 2, &o, &zip, &len, NULL), 0);
    assert_int_equal(esximg_file_write(zip_path, zip, len, 0644, NULL), 0);
    free(zip);
}

static void spool_reads_stored_vibs_in_place(void **state)
{
    struct fixture *fx = *state;
    char *zip = tu_path_join(fx->dir, "../stored.zip");
    uint8_t *vib[2];
    size_t vib_len[2];
    make_stored_depot(zip, vib, vib_len);
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_spool(zip, fx->dir, NULL, &s, &err))
        fail_msg("spool: %s", err.msg);
    assert_int_equal(s->vib_count, 2);
    assert_int_equal(tu_count_files(fx->dir), 0);      /* nothing copied */
    for (size_t i = 0; i < 2; i++) {
        const struct esximg_spool_vib *v = &s->vibs[i];
        size_t k = strcmp(v->vib->desc->name, "alpha") == 0 ? 0 : 1;
        assert_true(v->in_place);
        assert_string_equal(v->file, zip);
        assert_true(v->offset > 30);
        assert_int_equal(v->len, vib_len[k]);
        assert_memory_equal(v->bytes, vib[k], v->len);
        /* the offset is that of the .vib in the bundle file */
        FILE *f = fopen(zip, "rb");
        assert_non_null(f);
        uint8_t head[64];
        assert_int_equal(fseek(f, (long)v->offset, SEEK_SET), 0);
        assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
        fclose(f);
        assert_memory_equal(head, vib[k], sizeof head);
    }
    esximg_depot_spool_free(s);
    assert_int_equal(access(zip, F_OK), 0);         /* the bundle is never removed */
    free(vib[0]);
    free(vib[1]);
    free(zip);
}

/* The same VIB twice, stored in the outer zip and deflated in a nested one: compared by
 * size, then by sha-256, and kept once. */
static void spool_compares_a_duplicate_lazily(void **state)
{
    struct fixture *fx = *state;
    char *zip = tu_path_join(fx->dir, "../stored.zip");
    char *outer = tu_path_join(fx->dir, "../twice.zip");
    char *work = tu_path_join(fx->dir, "../twice");
    uint8_t *vib[2];
    size_t vib_len[2];
    make_stored_depot(zip, vib, vib_len);
    tu_run("mkdir -p '%s/a' && cd '%s' && cp '%s' inner.zip && unzip -q inner.zip -d a && "
           "cd a && zip -q -0 -r ../../twice.zip vib20 && cd .. && zip -q -9 ../twice.zip "
           "inner.zip", work, work, zip);
    struct esximg_depot_spool *s = NULL;
    struct esximg_err err = {0};
    if (esximg_depot_spool(outer, fx->dir, NULL, &s, &err))
        fail_msg("spool: %s", err.msg);
    assert_int_equal(s->vib_count, 2);
    assert_true(s->vibs[0].in_place && s->vibs[1].in_place);
    assert_int_equal(strlen(s->vibs[0].sha256), 64);
    assert_int_equal(s->warnings.count, 2);         /* each inner VIB skipped as the same */
    esximg_depot_spool_free(s);
    assert_int_equal(tu_count_files(fx->dir), 0);
    free(vib[0]);
    free(vib[1]);
    free(zip);
    free(outer);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spool_reads_vibs_and_components),
        cmocka_unit_test(spool_walks_a_nested_bundle),
        cmocka_unit_test(spool_refuses_what_it_cannot_use),
        cmocka_unit_test(spool_models_the_metadata_for_the_resolver),
        cmocka_unit_test(spool_reads_stored_vibs_in_place),
        cmocka_unit_test(spool_compares_a_duplicate_lazily),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
