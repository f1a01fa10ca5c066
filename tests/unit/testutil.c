/* testutil.c: helpers for the cmocka tests. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
