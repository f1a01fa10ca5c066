/* samples_imgdb.c: the ESXi 6.7 GA host image database (ljvblfz__ESXi/var/db/esximg):
 * the profile round-trips byte for byte, every vibs/ xml file name and every payload module name
 * of the profile is recomputed, and an IMGDB.TGZ built from the folder reads back the same.
 * The few descriptor fields needed are read here with libxml2 directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "esximg/imgdb.h"
#include "esximg/modname.h"
#include "testutil.h"

#define DB_DIR "ljvblfz__ESXi/var/db/esximg"
#define PROFILE_FILE "ESXi-6.7.0-8169922-standard452839153"

/* what the tests need from one xml file of vibs/ */
struct sample_vib {
    char *file;         /* base name */
    char *vib_id;
    char *name;
    size_t payload_count;
    struct esximg_modname_payload payloads[32];
};

static char *child_text(const xmlNode *root, const char *name)
{
    for (const xmlNode *c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) {
            xmlChar *t = xmlNodeGetContent(c);
            char *s = strdup((const char *)t);
            xmlFree(t);
            return s;
        }
    return NULL;
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

static void sample_vib_load(const char *path, struct sample_vib *v)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    const xmlNode *root = xmlDocGetRootElement(doc);
    char *vendor = child_text(root, "vendor"), *type = child_text(root, "type");
    char *version = child_text(root, "version");
    v->name = child_text(root, "name");
    assert_non_null(vendor);
    assert_non_null(v->name);
    size_t n = strlen(vendor) + strlen(type) + strlen(v->name) + strlen(version) + 4;
    v->vib_id = malloc(n);
    snprintf(v->vib_id, n, "%s_%s_%s_%s", vendor, type, v->name, version);
    free(vendor);
    free(type);
    free(version);
    v->file = strdup(strrchr(path, '/') + 1);
    v->payload_count = 0;
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "payloads") != 0)
            continue;
        for (const xmlNode *p = c->children; p; p = p->next) {
            if (p->type != XML_ELEMENT_NODE)
                continue;
            assert_true(v->payload_count < 32);
            struct esximg_modname_payload *q = &v->payloads[v->payload_count++];
            q->name = attr(p, "name");
            q->type = attr(p, "type");
            q->vfat_name = attr(p, "vfat-name");
            q->file = NULL;
        }
    }
    xmlFreeDoc(doc);
}

static void sample_vib_free(struct sample_vib *v)
{
    free(v->file);
    free(v->vib_id);
    free(v->name);
    for (size_t i = 0; i < v->payload_count; i++) {
        free((char *)v->payloads[i].name);
        free((char *)v->payloads[i].type);
        free((char *)v->payloads[i].vfat_name);
        free(v->payloads[i].file);
    }
}

static size_t load_vibs(struct sample_vib **out)
{
    char *dir = tu_sample_path(DB_DIR "/vibs");
    char **paths;
    size_t n = tu_find_files(dir, ".xml", &paths);
    struct sample_vib *vibs = calloc(n, sizeof *vibs);
    for (size_t i = 0; i < n; i++)
        sample_vib_load(paths[i], &vibs[i]);
    tu_free_list(paths, n);
    free(dir);
    *out = vibs;
    return n;
}

static struct esximg_profile *load_profile(uint8_t **bytes, size_t *len)
{
    char *path = tu_sample_path(DB_DIR "/profiles/" PROFILE_FILE);
    tu_read_file(path, bytes, len);
    free(path);
    struct esximg_profile *p = NULL;
    struct esximg_err err = {0};
    int rc = esximg_profile_read(*bytes, *len, &p, &err);
    if (rc)
        fail_msg("%s", err.msg);
    return p;
}

static void samples_profile_parses_and_round_trips(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    struct esximg_profile *p = load_profile(&bytes, &len);
    assert_string_equal(p->name, "ESXi-6.7.0-8169922-standard");
    assert_string_equal(p->creator, "VMware, Inc.");
    assert_string_equal(p->profile_id, "57ffe944378b11e8ae0c0200e5cbd056");
    assert_int_equal(p->serialno, 136);
    assert_true(p->readonly);
    assert_string_equal(p->acceptance_level, "partner");
    assert_int_equal(p->vib_count, 136);
    assert_int_equal(p->extra_count, 0);
    size_t payloads = 0;
    for (size_t i = 0; i < p->vib_count; i++)
        payloads += p->vibs[i].payload_count;
    assert_int_equal(payloads, 168);
    char *xml;
    size_t xml_len;
    assert_int_equal(esximg_profile_write(p, &xml, &xml_len, NULL), 0);
    assert_int_equal(xml_len, len);
    assert_memory_equal(xml, bytes, len);
    printf("profile: %zu vibs, %zu payloads, rewrite %zu bytes identical\n", p->vib_count,
           payloads, xml_len);
    char *file;
    assert_int_equal(esximg_profile_file_name(p->name, p->creator, &file, NULL), 0);
    assert_string_equal(file, PROFILE_FILE);
    free(file);
    free(xml);
    free(bytes);
    esximg_profile_free(p);
}

static void samples_vib_xml_names_are_py2_hashes(void **state)
{
    (void)state;
    struct sample_vib *vibs;
    size_t n = load_vibs(&vibs);
    assert_int_equal(n, 136);
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        char *name;
        assert_int_equal(esximg_modname_vib_xml(vibs[i].name, vibs[i].vib_id, &name, NULL), 0);
        if (strcmp(name, vibs[i].file) == 0)
            same++;
        else
            print_message("%s: computed %s\n", vibs[i].file, name);
        free(name);
        /* the split rule gives the name back */
        struct esximg_vib_id_parts parts;
        assert_int_equal(esximg_vib_id_split(vibs[i].vib_id, &parts, NULL), 0);
        assert_string_equal(parts.name, vibs[i].name);
        esximg_vib_id_parts_clear(&parts);
        sample_vib_free(&vibs[i]);
    }
    printf("vibs/*.xml names: %zu/%zu equal the computed name\n", same, n);
    assert_int_equal(same, n);
    free(vibs);
}

static void samples_module_names_are_recomputed(void **state)
{
    (void)state;
    struct sample_vib *vibs;
    size_t n = load_vibs(&vibs);
    struct esximg_modname_vib *mv = calloc(n, sizeof *mv);
    for (size_t i = 0; i < n; i++)
        mv[i] = (struct esximg_modname_vib){ vibs[i].vib_id, vibs[i].payload_count,
                                             vibs[i].payloads };
    struct esximg_err err = {0};
    if (esximg_modname_assign(mv, n, NULL, &err))
        fail_msg("%s", err.msg);
    uint8_t *bytes;
    size_t len;
    struct esximg_profile *p = load_profile(&bytes, &len);
    size_t total = 0, same = 0;
    for (size_t i = 0; i < p->vib_count; i++) {
        const struct esximg_profile_vib *pv = &p->vibs[i];
        const struct sample_vib *sv = NULL;
        for (size_t k = 0; k < n && !sv; k++)
            if (strcmp(vibs[k].vib_id, pv->vib_id) == 0)
                sv = &vibs[k];
        assert_non_null(sv);
        for (size_t j = 0; j < pv->payload_count; j++) {
            total++;
            const char *computed = NULL;
            for (size_t k = 0; k < sv->payload_count; k++)
                if (strcmp(sv->payloads[k].name, pv->payloads[j].payload_name) == 0)
                    computed = sv->payloads[k].file;
            if (computed && strcmp(computed, pv->payloads[j].file) == 0)
                same++;
            else
                print_message("%s %s: profile %s, computed %s\n", pv->vib_id,
                              pv->payloads[j].payload_name, pv->payloads[j].file,
                              computed ? computed : "(none)");
        }
    }
    printf("payload module names: %zu/%zu equal the profile's\n", same, total);
    assert_int_equal(total, 168);
    assert_int_equal(same, total);
    esximg_profile_free(p);
    free(bytes);
    for (size_t i = 0; i < n; i++)
        sample_vib_free(&vibs[i]);
    free(vibs);
    free(mv);
}

/* content equality of two databases, member by member */
static void assert_same_files(const struct esximg_imgdb_file *a, size_t an,
                              const struct esximg_imgdb_file *b, size_t bn)
{
    assert_int_equal(an, bn);
    for (size_t i = 0; i < an; i++) {
        const struct esximg_imgdb_file *f = NULL;
        for (size_t j = 0; j < bn && !f; j++)
            if (strcmp(a[i].path, b[j].path) == 0)
                f = &b[j];
        assert_non_null(f);
        assert_int_equal(a[i].is_dir, f->is_dir);
        assert_int_equal(a[i].len, f->len);
        if (a[i].len)
            assert_memory_equal(a[i].data, f->data, a[i].len);
    }
}

static void samples_imgdb_built_from_the_folder_reads_back(void **state)
{
    (void)state;
    struct esximg_err err = {0};
    struct esximg_imgdb *db;
    assert_int_equal(esximg_imgdb_new(&db, &err), 0);
    char *dir = tu_sample_path(DB_DIR);
    char **paths;
    size_t n = tu_find_files(dir, "", &paths);
    assert_int_equal(n, 1 + 136 * 3);
    size_t prefix = strlen(dir) - strlen("var/db/esximg");
    for (size_t i = 0; i < n; i++) {
        uint8_t *data;
        size_t len;
        tu_read_file(paths[i], &data, &len);
        if (esximg_imgdb_add_file(db, paths[i] + prefix, data, len, &err))
            fail_msg("%s: %s", paths[i], err.msg);
        free(data);
    }
    tu_free_list(paths, n);
    free(dir);
    assert_non_null(db->profile);
    assert_string_equal(db->profile_file, PROFILE_FILE);
    assert_int_equal(db->vib_count, 136);
    assert_int_equal(db->other_count, 272);     /* .orig and .sig */
    struct esximg_imgdb_wopts o = { .mtime = 1522793225 };
    uint8_t *tgz, *tgz2;
    size_t tgz_len, tgz2_len;
    if (esximg_imgdb_write(db, &o, &tgz, &tgz_len, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(esximg_imgdb_write(db, &o, &tgz2, &tgz2_len, &err), 0);
    assert_int_equal(tgz_len, tgz2_len);
    assert_memory_equal(tgz, tgz2, tgz_len);
    struct esximg_imgdb *back;
    if (esximg_imgdb_read(tgz, tgz_len, &back, &err))
        fail_msg("%s", err.msg);
    assert_string_equal(back->profile_file, PROFILE_FILE);
    assert_int_equal(back->profile->vib_count, 136);
    assert_same_files(db->vibs, db->vib_count, back->vibs, back->vib_count);
    assert_same_files(db->others, db->other_count, back->others, back->other_count);
    /* the profile inside is the original bytes */
    uint8_t *bytes;
    size_t len;
    struct esximg_profile *orig = load_profile(&bytes, &len);
    char *xml;
    size_t xml_len;
    assert_int_equal(esximg_profile_write(back->profile, &xml, &xml_len, NULL), 0);
    assert_int_equal(xml_len, len);
    assert_memory_equal(xml, bytes, len);
    printf("IMGDB.TGZ of the 6.7 folder: %zu bytes, %zu vib xmls, %zu other files, "
           "read back identical\n", tgz_len, back->vib_count, back->other_count);
    free(xml);
    free(bytes);
    esximg_profile_free(orig);
    esximg_imgdb_free(back);
    esximg_imgdb_free(db);
    free(tgz);
    free(tgz2);
}

int main(void)
{
    if (!tu_samples_dir())
        return tu_require_samples("samples_imgdb");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_profile_parses_and_round_trips),
        cmocka_unit_test(samples_vib_xml_names_are_py2_hashes),
        cmocka_unit_test(samples_module_names_are_recomputed),
        cmocka_unit_test(samples_imgdb_built_from_the_folder_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
