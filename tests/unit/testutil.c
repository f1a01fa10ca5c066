/* testutil.c: helpers for the cmocka tests. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "esx_private.h"
#include "esximg/io.h"
#include "testutil.h"

const char *tu_samples_dir(void)
{
    const char *dir = getenv("ESXIMG_SAMPLES");
    struct stat st;
    if (!dir || !*dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}

int tu_require_samples(const char *test_name)
{
    if (tu_samples_dir())
        return 0;
    printf("%s: skipped: ESXIMG_SAMPLES is not set to the samples folder\n", test_name);
    return 77;
}

char *tu_sample_path(const char *rel)
{
    const char *dir = tu_samples_dir();
    if (!dir)
        return NULL;
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

void tu_read_file(const char *path, uint8_t **data, size_t *len)
{
    struct esximg_err err = {0};
    if (esximg_file_read(path, 0, data, len, &err) != 0)
        fail_msg("cannot read %s: %s", path, err.msg);
}

struct tu_list {
    char **paths;
    size_t n, cap;
    const char *suffix;
};

static void tu_walk(const char *dir, struct tu_list *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        snprintf(p, n, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            tu_walk(p, l);
            free(p);
            continue;
        }
        size_t pl = strlen(p), sl = strlen(l->suffix);
        if (S_ISREG(st.st_mode) && pl >= sl && !strcmp(p + pl - sl, l->suffix)) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
            }
            l->paths[l->n++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int tu_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t tu_find_files(const char *dir, const char *suffix, char ***paths)
{
    struct tu_list l = {.suffix = suffix};
    tu_walk(dir, &l);
    if (l.n)
        qsort(l.paths, l.n, sizeof *l.paths, tu_cmp);
    *paths = l.paths;
    return l.n;
}

void tu_free_list(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

char *tu_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char *t = malloc(4096);
    snprintf(t, 4096, "%s/esximg-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t))
        fail_msg("mkdtemp failed");
    return t;
}

size_t tu_count_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

char *tu_path_join(const char *dir, const char *name)
{
    char *p = esx_path_join(dir, name);
    assert_non_null(p);
    return p;
}

void tu_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd)
        fail_msg("command too long: %.200s...", cmd);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

void *tu_need_fixture(void **state)
{
    if (!*state)
        skip();
    return *state;
}

static int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tests/gen/mkesxiso.py, found from this file's directory (CMake compiles with absolute
 * paths), unless ESXIMG_MKESXISO names another generator; malloc'd, NULL when it cannot tell */
static char *tu_generator_path(void)
{
    const char *env = getenv("ESXIMG_MKESXISO");
    if (env && *env)
        return esx_strdup(env);
    char *src = esx_strdup(__FILE__);
    char *slash = src ? strrchr(src, '/') : NULL;
    if (!slash) {
        free(src);
        return NULL;
    }
    *slash = '\0';
    char *gen = esx_path_join(src, "../gen/mkesxiso.py");
    free(src);
    return gen;
}

bool tu_have_image_tools(void)
{
    char *gen = tu_generator_path();
    bool readable = gen && access(gen, R_OK) == 0;
    free(gen);
    return readable &&
           system("command -v xorriso >/dev/null 2>&1 && command -v grub-mkimage >/dev/null 2>&1 "
                  "&& command -v mformat >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1")
               == 0;
}

bool tu_make_esx_iso(const char *version, const char *extra_args, const char *out)
{
    char *gen = tu_generator_path();
    if (!gen)
        return false;
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "SOURCE_DATE_EPOCH=%d python3 '%s' --version %s %s -o '%s' "
                     ">>'%s.log' 2>&1", TU_GEN_EPOCH, gen, version, extra_args, out, out);
    free(gen);
    return n > 0 && (size_t)n < sizeof cmd && system(cmd) == 0;
}

/* ---------------------------------------------------------------- zips and VIBs in memory */

/* A zip of the members, deflated or stored. */
uint8_t *tu_zip(const struct tu_zip_member *m, size_t n, bool store, size_t *out_len)
{
    size_t cap = 32 << 20, used = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_options(a, store ? "zip:compression=store"
                                                        : "zip:compression=deflate"),
                     ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)m[i].len);
        archive_entry_set_mtime(e, 1500000000, 0);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (m[i].len)
            assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *out_len = used;
    return buf;
}

/* One ar member header: name, mtime, uid, gid, mode, size, magic (esxi-formats.md 2.1). */
void tu_ar_member(struct esx_buf *b, const char *name, const void *data, size_t len)
{
    char hdr[80], size[24];
    assert_true(len < 10000000000u);
    snprintf(size, sizeof size, "%zu", len);
    snprintf(hdr, sizeof hdr, "%-16.16s%-12.12s%-6.6s%-6.6s%-8.8s%-10.10s`\n", name, "0", "0",
             "0", "0", size);
    assert_int_equal(esx_buf_append(b, hdr, 60, NULL), 0);
    assert_int_equal(esx_buf_append(b, data, len, NULL), 0);
    if (len % 2)
        assert_int_equal(esx_buf_append(b, "\n", 1, NULL), 0);
}

/* A tiny valid VIB: descriptor.xml, an empty sig.pkcs7 and one payload. */
uint8_t *tu_tiny_vib(const char *name, const char *version, const char *vendor,
                       const char *payload_text, size_t *len)
{
    char sum[65];
    size_t payload_len = strlen(payload_text);
    assert_int_equal(esx_digest_hex(ESX_SHA256, payload_text, payload_len, sum, NULL), 0);
    char desc[2048];
    snprintf(desc, sizeof desc,
             "<vib version=\"5.0\"><type>bootbank</type><name>%s</name><version>%s</version>"
             "<vendor>%s</vendor><summary>test</summary><description>test vib</description>"
             "<release-date>2020-01-01T00:00:00.000000+00:00</release-date><urls/>"
             "<relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/>"
             "</relationships><software-tags/><system-requires><maintenance-mode>false"
             "</maintenance-mode></system-requires><file-list><file>etc/x</file></file-list>"
             "<acceptance-level>community</acceptance-level>"
             "<live-install-allowed>false</live-install-allowed><live-remove-allowed>false"
             "</live-remove-allowed><cimom-restart>false</cimom-restart><stateless-ready>true"
             "</stateless-ready><overlay>false</overlay><payloads><payload name=\"pl\" "
             "type=\"tgz\" size=\"%zu\"><checksum checksum-type=\"sha-256\">%s</checksum>"
             "</payload></payloads></vib>",
             name, version, vendor, payload_len, sum);
    struct esx_buf b;
    esx_buf_init(&b, 0);
    assert_int_equal(esx_buf_append(&b, "!<arch>\n", 8, NULL), 0);
    tu_ar_member(&b, "descriptor.xml", desc, strlen(desc));
    tu_ar_member(&b, "sig.pkcs7", "", 0);
    tu_ar_member(&b, "pl", payload_text, payload_len);
    return (uint8_t *)esx_buf_take(&b, len);
}
