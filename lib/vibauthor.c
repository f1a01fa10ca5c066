/* vibauthor.c: building unsigned VIBs (descriptor defaults and checks, payload trees from
 * folders or memory, vmtar or GNU tar payloads), VIB Author stage folders, the
 * ESXi-Customizer OEM driver .tgz, the files of map-only VIBs, and what an OEM .tgz or a
 * map-only VIB is called and holds by default (one rule for every command that builds one). */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "esx_private.h"
#include "esximg/vibauthor.h"
#include "esximg/vmtar.h"

#define VA_ALIGNMENT 4096u                   /* vmtar contents, as 6.7+ VMware payloads */
#define VA_DRIVER_NAME_MAX 64u

/* ================================================================ small helpers */

static int va_nomem(struct esximg_err *err)
{
    return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
}

static bool va_is_name_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* [0-9A-Za-z_.-]{1,max} */
static bool va_is_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!va_is_name_char((unsigned char)s[n]) || n >= max)
            return false;
    return n > 0;
}

static bool va_is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_';
}

/* \w+(\.\w+)* over [s, end) */
static bool va_is_dotted_words(const char *s, const char *end)
{
    if (s == end)
        return false;
    bool need_word = true;
    for (; s < end; s++) {
        if (va_is_word_char((unsigned char)*s))
            need_word = false;
        else if (*s == '.' && !need_word)
            need_word = true;
        else
            return false;
    }
    return !need_word;
}

/* \w+(\.\w+)*-\w+(\.\w+)*, at most 35 */
static bool va_is_version(const char *v)
{
    size_t len = strlen(v);
    const char *dash = strchr(v, '-');
    if (len > ESXIMG_VIBAUTHOR_NAME_MAX || !dash || strchr(dash + 1, '-'))
        return false;
    return va_is_dotted_words(v, dash) && va_is_dotted_words(dash + 1, v + len);
}

static int va_set_text(char **slot, const char *value, struct esximg_err *err)
{
    if (!value)
        return 0;
    char *copy = esx_strdup(value);
    if (!copy)
        return va_nomem(err);
    free(*slot);
    *slot = copy;
    return 0;
}

static int va_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ================================================================ the descriptor */

int esximg_vibauthor_descriptor_new(struct esximg_descriptor **out, struct esximg_err *err)
{
    struct esximg_descriptor *d = calloc(1, sizeof *d);
    if (!d)
        return va_nomem(err);
    d->type = esx_strdup("bootbank");
    d->acceptance_level = esx_strdup("community");
    d->stateless_ready = true;
    if (!d->type || !d->acceptance_level) {
        esximg_descriptor_free(d);
        return va_nomem(err);
    }
    *out = d;
    return 0;
}

static const char *const va_relations[] = { "<<", "<=", ">=", ">>", "=" };

int esximg_vibauthor_parse_constraint(const char *s, bool provide, struct esximg_constraint *out,
                                      struct esximg_err *err)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    const char *name = p;
    while (*p && *p != ' ' && *p != '<' && *p != '>' && *p != '=')
        p++;
    size_t name_len = (size_t)(p - name);
    while (*p == ' ')
        p++;
    const char *rel = NULL;
    for (size_t i = 0; *p && i < sizeof va_relations / sizeof va_relations[0]; i++)
        if (strncmp(p, va_relations[i], strlen(va_relations[i])) == 0) {
            rel = va_relations[i];
            p += strlen(rel);
            break;
        }
    while (*p == ' ')
        p++;
    const char *ver = p;
    while (*p && *p != ' ')
        p++;
    size_t ver_len = (size_t)(p - ver);
    while (*p == ' ')
        p++;
    bool bad = name_len == 0 || *p || (rel && ver_len == 0) || (!rel && ver_len != 0) ||
               (provide && rel && strcmp(rel, "=") != 0);
    for (size_t i = 0; i < name_len && !bad; i++)
        bad = (unsigned char)name[i] < 0x21 || name[i] == '"';
    for (size_t i = 0; i < ver_len && !bad; i++)
        bad = (unsigned char)ver[i] < 0x21 || ver[i] == '"';
    if (bad)
        return esximg_err_set(err, ESXIMG_EINVAL, "%s '%s': not \"name\" or \"name %s "
                              "version\"", provide ? "provide" : "constraint", s,
                              provide ? "=" : "REL");
    struct esximg_constraint c = { esx_strndup(name, name_len), NULL, NULL };
    if (rel) {
        c.relation = provide ? NULL : esx_strdup(rel);
        c.version = esx_strndup(ver, ver_len);
    }
    if (!c.name || (rel && (!c.version || (!provide && !c.relation)))) {
        free(c.name);
        free(c.relation);
        free(c.version);
        return va_nomem(err);
    }
    *out = c;
    return 0;
}

static void va_constraints_free(struct esximg_constraint_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].relation);
        free(l->items[i].version);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int va_parse_list(const char *const *items, size_t count, bool provide,
                         struct esximg_constraint_list *out, struct esximg_err *err)
{
    struct esximg_constraint_list l = { 0, esx_malloc_array(count ? count : 1, sizeof *l.items) };
    if (!l.items)
        return va_nomem(err);
    for (size_t i = 0; i < count; i++) {
        int rc = esximg_vibauthor_parse_constraint(items[i], provide, &l.items[i], err);
        if (rc) {
            va_constraints_free(&l);
            return rc;
        }
        l.count++;
    }
    *out = l;
    return 0;
}

static int va_copy_tags(const char *const *tags, size_t count, char ***out,
                        struct esximg_err *err)
{
    char **t = esx_malloc_array(count ? count : 1, sizeof *t);
    if (!t)
        return va_nomem(err);
    for (size_t i = 0; i < count; i++) {
        bool bad = !tags[i][0];
        for (const char *c = tags[i]; *c && !bad; c++)
            bad = (unsigned char)*c < 0x20;
        if (bad || !(t[i] = esx_strdup(tags[i]))) {
            for (size_t k = 0; k < i; k++)
                free(t[k]);
            free(t);
            return bad ? esximg_err_set(err, ESXIMG_EINVAL, "tag '%s': empty or holds a "
                                        "control character", tags[i])
                       : va_nomem(err);
        }
    }
    *out = t;
    return 0;
}

/* The lists of `f`, parsed; none is set on the descriptor before all parse. */
struct va_lists {
    struct esximg_constraint_list rel[4];
    char **tags;
};

static int va_parse_lists(const struct esximg_vibauthor_fields *f, struct va_lists *l,
                          struct esximg_err *err)
{
    const char *const *items[4] = { f->depends, f->conflicts, f->replaces, f->provides };
    const size_t counts[4] = { f->depends_count, f->conflicts_count, f->replaces_count,
                               f->provides_count };
    memset(l, 0, sizeof *l);
    int rc = 0;
    for (size_t i = 0; i < 4 && !rc; i++)
        if (counts[i])
            rc = va_parse_list(items[i], counts[i], i == 3, &l->rel[i], err);
    if (!rc && f->tag_count)
        rc = va_copy_tags(f->tags, f->tag_count, &l->tags, err);
    if (rc)
        for (size_t i = 0; i < 4; i++)
            va_constraints_free(&l->rel[i]);
    return rc;
}

int esximg_vibauthor_apply(struct esximg_descriptor *d, const struct esximg_vibauthor_fields *f,
                           struct esximg_err *err)
{
    if (!d || !f)
        return esximg_err_set(err, ESXIMG_EINVAL, "no descriptor or fields");
    struct va_lists l;
    int rc = va_parse_lists(f, &l, err);
    if (rc)
        return rc;
    struct esximg_constraint_list *lists[4] = { &d->depends, &d->conflicts, &d->replaces,
                                                &d->provides };
    const size_t counts[4] = { f->depends_count, f->conflicts_count, f->replaces_count,
                               f->provides_count };
    for (size_t i = 0; i < 4; i++)
        if (counts[i]) {
            va_constraints_free(lists[i]);
            *lists[i] = l.rel[i];
        }
    if (f->tag_count) {
        for (size_t i = 0; i < d->tag_count; i++)
            free(d->tags[i]);
        free(d->tags);
        d->tags = l.tags;
        d->tag_count = f->tag_count;
    }
    if ((rc = va_set_text(&d->name, f->name, err)) ||
        (rc = va_set_text(&d->version, f->version, err)) ||
        (rc = va_set_text(&d->vendor, f->vendor, err)) ||
        (rc = va_set_text(&d->summary, f->summary, err)) ||
        (rc = va_set_text(&d->description, f->description, err)) ||
        (rc = va_set_text(&d->acceptance_level, f->acceptance, err)) ||
        (rc = va_set_text(&d->type, f->type, err)) ||
        (rc = va_set_text(&d->release_date, f->release_date, err)))
        return rc;
    if (f->live_install != ESXIMG_VIBAUTHOR_KEEP) {
        d->live_install_allowed = f->live_install == ESXIMG_VIBAUTHOR_YES;
        d->live_remove_allowed = d->live_install_allowed;
    }
    if (f->maintenance_mode != ESXIMG_VIBAUTHOR_KEEP)
        d->maintenance_mode = f->maintenance_mode == ESXIMG_VIBAUTHOR_YES;
    return 0;
}

int esximg_vibauthor_format_date(int64_t seconds, char *out, size_t out_size,
                                 struct esximg_err *err)
{
    struct tm tm;
    time_t t = (time_t)seconds;
    if (seconds < 0 || seconds > 253402300799LL || (int64_t)t != seconds || !gmtime_r(&t, &tm))
        return esximg_err_set(err, ESXIMG_EINVAL, "time %" PRId64 " is not a date of years "
                              "1970-9999", seconds);
    int n = snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.000000+00:00",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    if (n < 0 || (size_t)n >= out_size)
        return esximg_err_set(err, ESXIMG_EINVAL, "date buffer too small");
    return 0;
}

static int va_check_identity(const struct esximg_descriptor *d, struct esximg_err *err)
{
    if (!d->name || !va_is_name(d->name, ESXIMG_VIBAUTHOR_NAME_MAX))
        return esximg_err_set(err, ESXIMG_EINVAL, "name '%s': not 1-35 of [0-9A-Za-z_.-]",
                              d->name ? d->name : "");
    if (!d->vendor || !va_is_name(d->vendor, ESXIMG_VIBAUTHOR_NAME_MAX))
        return esximg_err_set(err, ESXIMG_EINVAL, "vendor '%s': not 1-35 of [0-9A-Za-z_.-]",
                              d->vendor ? d->vendor : "");
    if (!d->version || !va_is_version(d->version))
        return esximg_err_set(err, ESXIMG_EINVAL, "version '%s': not <version>-<release> "
                              "of word characters and dots, at most 35",
                              d->version ? d->version : "");
    if (!d->type || (strcmp(d->type, "bootbank") != 0 && strcmp(d->type, "locker") != 0))
        return esximg_err_set(err, ESXIMG_EINVAL, "type '%s': not bootbank or locker",
                              d->type ? d->type : "");
    if (!d->acceptance_level ||
        esximg_acceptance_parse(d->acceptance_level) == ESXIMG_ACCEPT_UNKNOWN ||
        !va_is_name(d->acceptance_level, 16) || isupper((unsigned char)d->acceptance_level[0]))
        return esximg_err_set(err, ESXIMG_EINVAL, "acceptance level '%s': not community, "
                              "partner, accepted or certified",
                              d->acceptance_level ? d->acceptance_level : "");
    return 0;
}

static int va_check_relations(const struct esximg_descriptor *d, struct esximg_err *err)
{
    const struct esximg_constraint_list *lists[] = { &d->depends, &d->conflicts, &d->replaces,
                                                     &d->compatible_with };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        for (size_t k = 0; k < lists[i]->count; k++) {
            const struct esximg_constraint *c = &lists[i]->items[k];
            if (!c->name || !c->name[0] || (c->relation && !c->version))
                return esximg_err_set(err, ESXIMG_EINVAL, "constraint '%s': no name, or a "
                                      "relation without a version", c->name ? c->name : "");
        }
    return 0;
}

static bool va_is_payload_type(const char *t)
{
    return t && (strcmp(t, "vgz") == 0 || strcmp(t, "tgz") == 0);
}

int esximg_vibauthor_check(const struct esximg_descriptor *d, struct esximg_err *err)
{
    if (!d)
        return esximg_err_set(err, ESXIMG_EINVAL, "no descriptor");
    int rc = va_check_identity(d, err);
    if (!rc)
        rc = va_check_relations(d, err);
    if (rc)
        return rc;
    if (d->payload_count == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "the VIB has no payload");
    for (size_t i = 0; i < d->payload_count; i++) {
        const struct esximg_payload *p = &d->payloads[i];
        if (!p->name || !va_is_name(p->name, ESXIMG_VIBAUTHOR_PAYLOAD_NAME_MAX) ||
            strcmp(p->name, "descriptor.xml") == 0 || strcmp(p->name, "sig.pkcs7") == 0)
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': name is not 1-%u of "
                                  "[0-9A-Za-z_.-]", p->name ? p->name : "",
                                  ESXIMG_VIBAUTHOR_PAYLOAD_NAME_MAX);
        if (!va_is_payload_type(p->type))
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': type '%s' is not vgz or "
                                  "tgz", p->name, p->type ? p->type : "");
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->payloads[k].name, p->name) == 0)
                return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' is listed twice",
                                      p->name);
    }
    return 0;
}

/* ================================================================ payload trees */

/* One member of a payload archive being built. */
struct va_member {
    char *path;
    enum esximg_vibauthor_kind kind;
    uint32_t mode;
    const uint8_t *data;     /* into `owned` or the caller's entry */
    size_t len;
    uint8_t *owned;
    char *link;
    bool from_dir;           /* read from the folder (an entry may replace it) */
};

struct va_tree {
    struct va_member *m;
    size_t count, cap;
    uint64_t bytes;          /* content bytes, against ESX_MAX_GUNZIP_BYTES */
    const char *payload;     /* for messages */
};

static void va_tree_free(struct va_tree *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->m[i].path);
        free(t->m[i].owned);
        free(t->m[i].link);
    }
    free(t->m);
    memset(t, 0, sizeof *t);
}

static int va_tree_push(struct va_tree *t, struct va_member *m, struct esximg_err *err)
{
    if (t->count >= ESX_MAX_ARCHIVE_ENTRIES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': more than %u entries",
                              t->payload, ESX_MAX_ARCHIVE_ENTRIES);
    if (esx_add_u64(t->bytes, m->len, &t->bytes) || t->bytes > ESX_MAX_GUNZIP_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': more than %llu bytes",
                              t->payload, (unsigned long long)ESX_MAX_GUNZIP_BYTES);
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct va_member *grown = esx_realloc_array(t->m, cap, sizeof *grown);
        if (!grown)
            return va_nomem(err);
        t->m = grown;
        t->cap = cap;
    }
    t->m[t->count++] = *m;
    return 0;
}

/* The path checks every member meets, whatever its source. */
static int va_check_path(const struct va_tree *t, const char *path, bool is_dir,
                         struct esximg_err *err)
{
    size_t len = strlen(path);
    if (len + (is_dir ? 1 : 0) > ESXIMG_VIBAUTHOR_PATH_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': path '%s' is longer than %u "
                              "bytes", t->payload, path, ESXIMG_VIBAUTHOR_PATH_MAX);
    int rc = esx_path_check(path, "path", err);
    if (rc)
        return rc;
    if (path[len - 1] == '/' || strstr(path, "//") || strncmp(path, "./", 2) == 0 ||
        strstr(path, "/./") || strcmp(path, ".") == 0 ||
        (len >= 2 && strcmp(path + len - 2, "/.") == 0))
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': path '%s' is not in normal "
                              "form (no '.', no empty part)", t->payload, path);
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c < 0x20)
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': path '%s' holds a "
                                  "control character", t->payload, path);
    return 0;
}

static int va_add_link(struct va_tree *t, struct va_member *m, const char *target,
                       struct esximg_err *err)
{
    int rc = esximg_vmtar_check_link(m->path, target, err);
    if (rc) {
        esximg_err_prefix(err, "payload '%s': ", t->payload);
        return rc;
    }
    if (strlen(target) > ESXIMG_VIBAUTHOR_PATH_MAX)
        return esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': link '%s': target longer "
                              "than %u bytes", t->payload, m->path, ESXIMG_VIBAUTHOR_PATH_MAX);
    if (!(m->link = esx_strdup(target)))
        return va_nomem(err);
    return 0;
}

static int va_walk(struct va_tree *t, const char *root, const char *rel, unsigned depth,
                   struct esximg_err *err);

/* Modes as git keeps them, so that a checkout's umask does not change the VIB: 0755 for
 * folders and files with an execute bit, 0644 for other files, 0777 for links; the setuid,
 * setgid and sticky bits are kept. */
static uint32_t va_norm_mode(mode_t mode)
{
    uint32_t special = (uint32_t)(mode & 07000);
    if (S_ISLNK(mode))
        return 0777;
    if (S_ISDIR(mode) || (mode & 0111))
        return special | 0755;
    return special | 0644;
}

/* One folder entry at `rel` (relative to the payload root). */
static int va_walk_entry(struct va_tree *t, const char *root, const char *rel, unsigned depth,
                         struct esximg_err *err)
{
    char *full = esx_path_join(root, rel);
    struct va_member m = { 0 };
    struct stat st;
    int rc = 0;
    if (!full || !(m.path = esx_strdup(rel))) {
        rc = va_nomem(err);
        goto out;
    }
    m.from_dir = true;
    if (lstat(full, &st) != 0) {
        rc = esximg_err_sys(err, errno, "cannot stat");
        esximg_err_file(err, full);
        goto out;
    }
    m.mode = va_norm_mode(st.st_mode);
    if (S_ISDIR(st.st_mode)) {
        m.kind = ESXIMG_VIBAUTHOR_DIR;
    } else if (S_ISREG(st.st_mode)) {
        m.kind = ESXIMG_VIBAUTHOR_FILE;
    } else if (S_ISLNK(st.st_mode)) {
        m.kind = ESXIMG_VIBAUTHOR_SYMLINK;
    } else {
        rc = esximg_err_set(err, ESXIMG_EUNSUPPORTED, "payload '%s': '%s' is not a file, "
                            "folder or symlink", t->payload, rel);
        goto out;
    }
    if ((rc = va_check_path(t, rel, m.kind == ESXIMG_VIBAUTHOR_DIR, err)))
        goto out;
    if (m.kind == ESXIMG_VIBAUTHOR_FILE) {
        rc = esx_file_read(full, ESX_MAX_GUNZIP_BYTES, &m.owned, &m.len, err);
        m.data = m.owned;
    } else if (m.kind == ESXIMG_VIBAUTHOR_SYMLINK) {
        char target[ESXIMG_VIBAUTHOR_PATH_MAX + 2];
        ssize_t n = readlink(full, target, sizeof target - 1);
        if (n < 0) {
            rc = esximg_err_sys(err, errno, "cannot read the link");
            esximg_err_file(err, full);
            goto out;
        }
        target[n] = '\0';
        rc = va_add_link(t, &m, target, err);
    }
    if (!rc)
        rc = va_tree_push(t, &m, err);
    if (!rc) {
        memset(&m, 0, sizeof m);
        if (S_ISDIR(st.st_mode))
            rc = va_walk(t, root, rel, depth + 1, err);
    }
out:
    free(m.path);
    free(m.owned);
    free(m.link);
    free(full);
    return rc;
}

/* The names of a folder, sorted bytewise, without "." and "..". */
static int va_list_dir(const char *dir, char ***out, size_t *count, struct esximg_err *err)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        int rc = esximg_err_sys(err, errno, "cannot open the folder");
        esximg_err_file(err, dir);
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; (de = readdir(dh)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = esx_realloc_array(names, cap, sizeof *grown);
            if (!grown) {
                rc = va_nomem(err);
                break;
            }
            names = grown;
        }
        if (!(names[n] = esx_strdup(de->d_name))) {
            rc = va_nomem(err);
            break;
        }
        n++;
    }
    closedir(dh);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (n)
        qsort(names, n, sizeof *names, va_cmp_str);
    *out = names;
    *count = n;
    return 0;
}

static void va_free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static int va_walk(struct va_tree *t, const char *root, const char *rel, unsigned depth,
                   struct esximg_err *err)
{
    if (depth > ESXIMG_VIBAUTHOR_PATH_MAX / 2)
        return esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': folders nested too deep",
                              t->payload);
    char *dir = rel ? esx_path_join(root, rel) : esx_strdup(root);
    char **names = NULL;
    size_t n = 0;
    if (!dir)
        return va_nomem(err);
    int rc = va_list_dir(dir, &names, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        char *child = rel ? esx_path_join(rel, names[i]) : esx_strdup(names[i]);
        rc = child ? va_walk_entry(t, root, child, depth, err) : va_nomem(err);
        free(child);
    }
    va_free_strings(names, n);
    free(dir);
    return rc;
}

static int va_member_cmp(const void *a, const void *b)
{
    const struct va_member *x = a, *y = b;
    return strcmp(x->path, y->path);
}

/* An entry given in memory: replaces a folder member of the same path. */
static int va_add_entry(struct va_tree *t, const struct esximg_vibauthor_entry *e,
                        struct esximg_err *err)
{
    if (!e->path)
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': entry without a path",
                              t->payload);
    bool is_dir = e->kind == ESXIMG_VIBAUTHOR_DIR;
    int rc = va_check_path(t, e->path, is_dir, err);
    if (rc)
        return rc;
    if (e->kind == ESXIMG_VIBAUTHOR_SYMLINK && !e->link)
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': link '%s' has no target",
                              t->payload, e->path);
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->m[i].path, e->path) == 0) {
            if (!t->m[i].from_dir)
                return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': '%s' is given "
                                      "twice", t->payload, e->path);
            t->m[i].path[0] = '\0';   /* dropped below */
        }
    struct va_member m = {
        .kind = e->kind,
        .mode = e->mode ? e->mode & 07777 : (is_dir ? 0755u : 0644u),
        .data = e->kind == ESXIMG_VIBAUTHOR_FILE ? e->data : NULL,
        .len = e->kind == ESXIMG_VIBAUTHOR_FILE ? e->len : 0,
    };
    if (m.len && !m.data)
        return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': '%s' has no data",
                              t->payload, e->path);
    if (!(m.path = esx_strdup(e->path)))
        return va_nomem(err);
    if (e->kind == ESXIMG_VIBAUTHOR_SYMLINK && (rc = va_add_link(t, &m, e->link, err))) {
        free(m.path);
        return rc;
    }
    if ((rc = va_tree_push(t, &m, err))) {
        free(m.path);
        free(m.link);
    }
    return rc;
}

/* Drops replaced members, adds every missing parent folder, sorts, and refuses a path that
 * is both a folder and something else or that lies under a non-folder. */
static int va_tree_finish(struct va_tree *t, struct esximg_err *err)
{
    size_t keep = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->m[i].path[0]) {
            t->m[keep++] = t->m[i];
        } else {
            free(t->m[i].path);
            free(t->m[i].owned);
            free(t->m[i].link);
        }
    }
    t->count = keep;
    size_t files = t->count;
    for (size_t i = 0; i < files; i++) {
        const char *path = t->m[i].path;
        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
            struct va_member d = { .kind = ESXIMG_VIBAUTHOR_DIR, .mode = 0755 };
            if (!(d.path = esx_strndup(path, (size_t)(s - path))))
                return va_nomem(err);
            bool have = false;
            for (size_t k = 0; k < t->count && !have; k++)
                have = strcmp(t->m[k].path, d.path) == 0;
            int rc = have ? 0 : va_tree_push(t, &d, err);
            if (have || rc)
                free(d.path);
            if (rc)
                return rc;
            path = t->m[i].path;   /* the array may have moved */
        }
    }
    if (t->count)
        qsort(t->m, t->count, sizeof *t->m, va_member_cmp);
    for (size_t i = 1; i < t->count; i++) {
        const struct va_member *a = &t->m[i - 1], *b = &t->m[i];
        size_t al = strlen(a->path);
        if (strcmp(a->path, b->path) == 0)
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': '%s' is given twice",
                                  t->payload, a->path);
        if (a->kind != ESXIMG_VIBAUTHOR_DIR && strncmp(a->path, b->path, al) == 0 &&
            b->path[al] == '/')
            return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s': '%s' lies under '%s', "
                                  "which is not a folder", t->payload, b->path, a->path);
    }
    return 0;
}

/* ================================================================ payload archives */

static int va_write_vmtar(const struct va_tree *t, int64_t mtime, uint8_t **raw,
                          size_t *raw_len, struct esximg_err *err)
{
    struct esximg_vmtar *v = NULL;
    int rc = esximg_vmtar_new(&v, err);
    for (size_t i = 0; i < t->count && !rc; i++) {
        const struct va_member *m = &t->m[i];
        const struct esximg_vmtar_attrs a = { .mode = m->mode, .mtime = (uint64_t)mtime };
        if (m->kind == ESXIMG_VIBAUTHOR_DIR)
            rc = esximg_vmtar_add_dir(v, m->path, &a, err);
        else if (m->kind == ESXIMG_VIBAUTHOR_SYMLINK)
            rc = esximg_vmtar_add_symlink(v, m->path, m->link, &a, err);
        else
            rc = esximg_vmtar_add_file(v, m->path, &a, m->data, m->len, err);
    }
    if (!rc) {
        const struct esximg_vmtar_wopts wo = {
            .alignment = VA_ALIGNMENT,
            .signed_checksums = true,
        };
        rc = esximg_vmtar_write(v, &wo, raw, raw_len, err);
    }
    esximg_vmtar_free(v);
    return rc;
}

static int va_write_gnutar(const struct va_tree *t, int64_t mtime, uint8_t **raw,
                           size_t *raw_len, struct esximg_err *err)
{
    static const enum esx_tar_type types[] = {
        [ESXIMG_VIBAUTHOR_FILE] = ESX_TAR_FILE,
        [ESXIMG_VIBAUTHOR_DIR] = ESX_TAR_DIR,
        [ESXIMG_VIBAUTHOR_SYMLINK] = ESX_TAR_SYMLINK,
    };
    struct esx_tar_member *m = esx_malloc_array(t->count ? t->count : 1, sizeof *m);
    if (!m)
        return va_nomem(err);
    for (size_t i = 0; i < t->count; i++)
        m[i] = (struct esx_tar_member){
            .path = t->m[i].path, .type = types[t->m[i].kind], .mode = t->m[i].mode,
            .link = t->m[i].link, .data = t->m[i].data, .len = t->m[i].len,
        };
    struct esx_buf b;
    esx_buf_init(&b, 0);
    int rc = esx_gnutar_write(m, t->count, mtime, &b, err);
    free(m);
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *raw = (uint8_t *)esx_buf_take(&b, raw_len);
    return *raw ? 0 : va_nomem(err);
}

static int va_checksum(struct esximg_checksum *c, const char *type, const char *process,
                       enum esx_digest_kind kind, const uint8_t *data, size_t len,
                       struct esximg_err *err)
{
    char hex[65];
    int rc = esx_digest_hex(kind, data, len, hex, err);
    if (rc)
        return rc;
    c->type = esx_strdup(type);
    c->verify_process = process ? esx_strdup(process) : NULL;
    c->value = esx_strdup(hex);
    if (!c->type || !c->value || (process && !c->verify_process))
        return va_nomem(err);
    return 0;
}

static void va_checksums_free(struct esximg_checksum *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].type);
        free(c[i].verify_process);
        free(c[i].value);
    }
    free(c);
}

/* Size and the three checksums of a payload, in VMware's 6.5+ order. */
static int va_fill_payload(struct esximg_payload *p, const uint8_t *raw, size_t raw_len,
                           const uint8_t *gz, size_t gz_len, struct esximg_err *err)
{
    struct esximg_checksum *c = esx_malloc_array(3, sizeof *c);
    if (!c)
        return va_nomem(err);
    int rc = va_checksum(&c[0], "sha-256", "gunzip", ESX_SHA256, raw, raw_len, err);
    if (!rc)
        rc = va_checksum(&c[1], "sha-256", NULL, ESX_SHA256, gz, gz_len, err);
    if (!rc)
        rc = va_checksum(&c[2], "sha-1", "gunzip", ESX_SHA1, raw, raw_len, err);
    if (rc) {
        va_checksums_free(c, 3);
        return rc;
    }
    va_checksums_free(p->checksums, p->checksum_count);
    p->checksums = c;
    p->checksum_count = 3;
    p->size = gz_len;
    p->has_size = true;
    return 0;
}

/* ================================================================ building */

struct va_built {
    struct va_tree tree;
    uint8_t *gz;
    size_t gz_len;
};

static const struct esximg_vibauthor_payload *va_find_payload(
    const struct esximg_vibauthor_payload *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].name && strcmp(p[i].name, name) == 0)
            return &p[i];
    return NULL;
}

/* Appends the payloads given but not listed, then sets the given types (default vgz). */
static int va_sync_payloads(struct esximg_descriptor *d,
                            const struct esximg_vibauthor_payload *p, size_t n,
                            struct esximg_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!p[i].name)
            return esximg_err_set(err, ESXIMG_EINVAL, "a payload has no name");
        for (size_t k = 0; k < i; k++)
            if (strcmp(p[k].name, p[i].name) == 0)
                return esximg_err_set(err, ESXIMG_EINVAL, "payload '%s' is given twice",
                                      p[i].name);
        if (esximg_descriptor_payload(d, p[i].name))
            continue;
        struct esximg_payload *grown =
            esx_realloc_array(d->payloads, d->payload_count + 1, sizeof *grown);
        if (!grown)
            return va_nomem(err);
        d->payloads = grown;
        memset(&grown[d->payload_count], 0, sizeof *grown);
        if (!(grown[d->payload_count].name = esx_strdup(p[i].name)))
            return va_nomem(err);
        d->payload_count++;
    }
    for (size_t i = 0; i < d->payload_count; i++) {
        struct esximg_payload *dp = &d->payloads[i];
        const struct esximg_vibauthor_payload *given = dp->name
            ? va_find_payload(p, n, dp->name) : NULL;
        const char *type = given && given->type ? given->type : dp->type ? NULL : "vgz";
        int rc = va_set_text(&dp->type, type, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int va_build_one(const struct esximg_payload *dp,
                        const struct esximg_vibauthor_payload *src,
                        const struct esximg_vibauthor_opts *o, struct va_built *b,
                        uint8_t **raw, size_t *raw_len, struct esximg_err *err)
{
    b->tree.payload = dp->name;
    if (!src)
        return esximg_err_set(err, ESXIMG_ENOTFOUND, "payload '%s': no files given (no "
                              "payloads/%s folder)", dp->name, dp->name);
    int rc = 0;
    if (src->dir)
        rc = va_walk(&b->tree, src->dir, NULL, 0, err);
    for (size_t i = 0; i < src->entry_count && !rc; i++)
        rc = va_add_entry(&b->tree, &src->entries[i], err);
    if (!rc)
        rc = va_tree_finish(&b->tree, err);
    if (rc)
        return rc;
    if (strcmp(dp->type, "tgz") == 0)
        rc = va_write_gnutar(&b->tree, o->mtime, raw, raw_len, err);
    else
        rc = va_write_vmtar(&b->tree, o->mtime, raw, raw_len, err);
    if (!rc && *raw_len > ESX_MAX_GUNZIP_BYTES)
        rc = esximg_err_set(err, ESXIMG_ELIMIT, "payload '%s': archive larger than %llu "
                            "bytes", dp->name, (unsigned long long)ESX_MAX_GUNZIP_BYTES);
    if (!rc)
        rc = esx_gzip(*raw, *raw_len, o->gzip_level ? o->gzip_level : 9, &b->gz, &b->gz_len,
                      err);
    return rc;
}

/* The file-list: every non-folder member of every payload, sorted, once. */
static int va_file_list(struct esximg_descriptor *d, const struct va_built *b, size_t n,
                        struct esximg_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += b[i].tree.count;
    char **files = esx_malloc_array(total ? total : 1, sizeof *files);
    if (!files)
        return va_nomem(err);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < b[i].tree.count; k++)
            if (b[i].tree.m[k].kind != ESXIMG_VIBAUTHOR_DIR)
                files[count++] = b[i].tree.m[k].path;
    if (count)
        qsort(files, count, sizeof *files, va_cmp_str);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++) {
        if (unique && strcmp(files[unique - 1], files[i]) == 0)
            continue;
        files[unique++] = files[i];
    }
    for (size_t i = 0; i < unique; i++)
        if (!(files[i] = esx_strdup(files[i]))) {
            va_free_strings(files, i);
            return va_nomem(err);
        }
    va_free_strings(d->files, d->file_count);
    d->files = files;
    d->file_count = unique;
    return 0;
}

static void va_warn_names(const struct esximg_descriptor *d,
                          const struct esximg_vibauthor_opts *o)
{
    if (!o->warn)
        return;
    for (size_t i = 0; i < d->payload_count; i++)
        if (strlen(d->payloads[i].name) > ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN) {
            char msg[160];
            snprintf(msg, sizeof msg, "payload '%s': name longer than %u characters: its "
                     "boot module file name may clash with another payload's",
                     d->payloads[i].name, ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN);
            o->warn(o->warn_ctx, msg);
        }
}

static int va_assemble(struct esximg_descriptor *d, const struct va_built *b,
                       uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    char *xml = NULL;
    size_t xml_len = 0;
    struct esximg_vib_wmember *m = esx_malloc_array(d->payload_count, sizeof *m);
    if (!m)
        return va_nomem(err);
    int rc = va_file_list(d, b, d->payload_count, err);
    if (!rc)
        rc = esximg_descriptor_write(d, &xml, &xml_len, err);
    for (size_t i = 0; i < d->payload_count && !rc; i++)
        m[i] = (struct esximg_vib_wmember){ d->payloads[i].name, b[i].gz, b[i].gz_len };
    if (!rc)
        rc = esximg_vib_write(xml, xml_len, "", 0, m, d->payload_count, out, out_len, err);
    free(m);
    free(xml);
    return rc;
}

int esximg_vibauthor_build(struct esximg_descriptor *d,
                           const struct esximg_vibauthor_payload *payloads,
                           size_t payload_count, const struct esximg_vibauthor_opts *o,
                           uint8_t **out, size_t *out_len, struct esximg_err *err)
{
    const struct esximg_vibauthor_opts defaults = { 0 };
    if (!o)
        o = &defaults;
    if (!d || (payload_count && !payloads))
        return esximg_err_set(err, ESXIMG_EINVAL, "no descriptor or payloads");
    if (o->mtime < 0 || o->mtime > ESX_TAR_MTIME_MAX)
        return esximg_err_set(err, ESXIMG_EINVAL, "mtime %" PRId64 " does not fit a tar "
                              "header", o->mtime);
    if (o->gzip_level < 0 || o->gzip_level > 9)
        return esximg_err_set(err, ESXIMG_EINVAL, "gzip level %d is not 1-9", o->gzip_level);
    int rc = va_sync_payloads(d, payloads, payload_count, err);
    if (!rc)
        rc = esximg_vibauthor_check(d, err);
    if (rc)
        return rc;
    va_warn_names(d, o);
    struct va_built *b = esx_malloc_array(d->payload_count, sizeof *b);
    if (!b)
        return va_nomem(err);
    struct esximg_payload *updated = esx_malloc_array(d->payload_count, sizeof *updated);
    for (size_t i = 0; i < d->payload_count && !rc && updated; i++) {
        uint8_t *raw = NULL;
        size_t raw_len = 0;
        const struct esximg_payload *dp = &d->payloads[i];
        if (o->progress)
            o->progress(i, d->payload_count, o->progress_arg);
        rc = va_build_one(dp, va_find_payload(payloads, payload_count, dp->name), o, &b[i],
                          &raw, &raw_len, err);
        if (!rc) {
            updated[i] = (struct esximg_payload){ 0 };
            rc = va_fill_payload(&updated[i], raw, raw_len, b[i].gz, b[i].gz_len, err);
        }
        free(raw);
    }
    if (!updated)
        rc = va_nomem(err);
    if (!rc)
        for (size_t i = 0; i < d->payload_count; i++) {
            struct esximg_payload *dp = &d->payloads[i];
            va_checksums_free(dp->checksums, dp->checksum_count);
            dp->checksums = updated[i].checksums;
            dp->checksum_count = updated[i].checksum_count;
            dp->size = updated[i].size;
            dp->has_size = true;
            updated[i].checksums = NULL;
            updated[i].checksum_count = 0;
        }
    if (!rc && o->progress)
        o->progress(d->payload_count, d->payload_count, o->progress_arg);
    if (!rc)
        rc = va_assemble(d, b, out, out_len, err);
    for (size_t i = 0; i < d->payload_count; i++) {
        va_tree_free(&b[i].tree);
        free(b[i].gz);
        if (updated)
            va_checksums_free(updated[i].checksums, updated[i].checksum_count);
    }
    free(updated);
    free(b);
    return rc;
}

/* ================================================================ stage folders */

void esximg_vibauthor_stage_free(struct esximg_vibauthor_stage *s)
{
    if (!s)
        return;
    esximg_descriptor_free(s->desc);
    for (size_t i = 0; i < s->payload_count; i++) {
        free((char *)s->payloads[i].name);
        free((char *)s->payloads[i].type);
        free((char *)s->payloads[i].dir);
    }
    free(s->payloads);
    free(s);
}

static int va_stage_payload(struct esximg_vibauthor_stage *s, const char *dir,
                            const char *name, struct esximg_err *err)
{
    char *path = esx_path_join(dir, name);
    struct stat st;
    if (!path)
        return va_nomem(err);
    bool found = lstat(path, &st) == 0;
    if (!found || !S_ISDIR(st.st_mode)) {
        int rc = found && S_ISLNK(st.st_mode)
            ? esximg_err_set(err, ESXIMG_EUNSAFE, "payload folder is a symlink")
            : esximg_err_set(err, ESXIMG_EFORMAT, "not a payload folder");
        esximg_err_file(err, path);
        free(path);
        return rc;
    }
    const struct esximg_payload *dp = esximg_descriptor_payload(s->desc, name);
    struct esximg_vibauthor_payload *p = &s->payloads[s->payload_count];
    memset(p, 0, sizeof *p);
    p->dir = path;
    p->name = esx_strdup(name);
    p->type = dp && dp->type ? esx_strdup(dp->type) : NULL;
    s->payload_count++;
    if (!p->name || (dp && dp->type && !p->type))
        return va_nomem(err);
    return 0;
}

int esximg_vibauthor_stage_read(const char *dir, struct esximg_vibauthor_stage **out,
                                struct esximg_err *err)
{
    struct esximg_vibauthor_stage *s = calloc(1, sizeof *s);
    char *xml_path = esx_path_join(dir, "descriptor.xml");
    char *payload_dir = esx_path_join(dir, "payloads");
    char **names = NULL;
    size_t n = 0;
    uint8_t *xml = NULL;
    size_t xml_len = 0;
    int rc = 0;
    struct stat st;
    if (!s || !xml_path || !payload_dir) {
        rc = va_nomem(err);
        goto out;
    }
    if ((rc = esx_file_read(xml_path, ESX_MAX_XML_BYTES, &xml, &xml_len, err)))
        goto out;
    if ((rc = esximg_descriptor_read(xml, xml_len, &s->desc, err))) {
        esximg_err_file(err, xml_path);
        goto out;
    }
    if (!s->desc->acceptance_level && !(s->desc->acceptance_level = esx_strdup("community"))) {
        rc = va_nomem(err);
        goto out;
    }
    if (lstat(payload_dir, &st) != 0 && errno == ENOENT)
        goto out;   /* no folder: payloads may come from the caller */
    if ((rc = va_list_dir(payload_dir, &names, &n, err)))
        goto out;
    if (!(s->payloads = esx_malloc_array(n ? n : 1, sizeof *s->payloads))) {
        rc = va_nomem(err);
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = va_stage_payload(s, payload_dir, names[i], err);
out:
    va_free_strings(names, n);
    free(xml);
    free(xml_path);
    free(payload_dir);
    if (rc)
        esximg_vibauthor_stage_free(s);
    else
        *out = s;
    return rc;
}

/* ================================================================ OEM driver .tgz */

enum va_oem_kind { VA_OEM_MODULE = 0, VA_OEM_MAP = 1, VA_OEM_IDS = 2, VA_OEM_DIR, VA_OEM_NONE };

static bool va_has_slash(const char *s, size_t n)
{
    return memchr(s, '/', n) != NULL;
}

/* "<prefix><x><suffix>" with x non-empty and without '/'; *x_len set */
static bool va_match(const char *path, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), len = strlen(path);
    if (len <= pl + sl || strncmp(path, prefix, pl) != 0 ||
        strcmp(path + len - sl, suffix) != 0)
        return false;
    return !va_has_slash(path + pl, len - pl - sl);
}

/* "<prefix><d><mid><x><suffix>": e.g. etc/vmware/<d>.map.d/<x>.map */
static bool va_match2(const char *path, const char *prefix, const char *mid, bool dir_only,
                      const char *suffix)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return false;
    const char *rest = path + pl;
    const char *m = strstr(rest, mid);
    if (!m || m == rest || va_has_slash(rest, (size_t)(m - rest)))
        return false;
    const char *tail = m + strlen(mid);
    if (dir_only)
        return *tail == '\0';
    return va_match(tail, "", suffix);
}

static enum va_oem_kind va_oem_classify(const char *path, bool is_dir)
{
    if (is_dir) {
        static const char *const dirs[] = {
            "usr", "usr/lib", "usr/lib/vmware", "usr/lib/vmware/vmkmod", "etc", "etc/vmware",
            "usr/share", "usr/share/hwdata",
        };
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
            if (strcmp(path, dirs[i]) == 0)
                return VA_OEM_DIR;
        if (va_match2(path, "etc/vmware/", ".map.d", true, NULL) ||
            va_match2(path, "usr/share/hwdata/", ".pciids.d", true, NULL))
            return VA_OEM_DIR;
        return VA_OEM_NONE;
    }
    if (va_match(path, "usr/lib/vmware/vmkmod/", ""))
        return VA_OEM_MODULE;
    if (va_match2(path, "etc/vmware/", ".map.d/", false, ".map"))
        return VA_OEM_MAP;
    if (va_match2(path, "usr/share/hwdata/", ".pciids.d/", false, ".ids"))
        return VA_OEM_IDS;
    return VA_OEM_NONE;
}

void esximg_vibauthor_oem_free(struct esximg_vibauthor_oem *o)
{
    if (!o)
        return;
    free(o->module);
    for (size_t i = 0; i < 3; i++) {
        free(o->files[i].path);
        free(o->files[i].data);
    }
    free(o);
}

/* The name as a canonical relative path: "./" in front and one '/' at the end dropped. */
static int va_oem_name(const char *raw, bool is_dir, char **out, struct esximg_err *err)
{
    if (!raw)
        return esximg_err_set(err, ESXIMG_EFORMAT, "a member has no name");
    while (raw[0] == '.' && raw[1] == '/')
        raw += 2;
    size_t len = strlen(raw);
    if (is_dir && len && raw[len - 1] == '/')
        len--;
    if (len == 0 && is_dir) {
        *out = NULL;   /* "./": the root */
        return 0;
    }
    char *name = esx_strndup(raw, len);
    if (!name)
        return va_nomem(err);
    int rc = esx_path_check(name, "member", err);
    if (!rc && (len > ESXIMG_VIBAUTHOR_PATH_MAX || strstr(name, "//") || strstr(name, "/./")))
        rc = esximg_err_set(err, ESXIMG_EUNSAFE, "member '%s': not a plain path of at most "
                            "%u bytes", name, ESXIMG_VIBAUTHOR_PATH_MAX);
    if (rc) {
        free(name);
        return rc;
    }
    *out = name;
    return 0;
}

/* budget: what the archive may inflate to (ESX_MAX_GUNZIP_RATIO times its size, at least
 * 16 MiB); a member claiming more is a bomb, refused before its bytes are allocated. */
static int va_oem_data(struct archive *a, const char *name, int64_t size, uint64_t budget,
                       uint8_t **out, struct esximg_err *err)
{
    if (size < 0 || (uint64_t)size > ESX_MAX_OEM_FILE_BYTES)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': larger than %llu bytes",
                              name, (unsigned long long)ESX_MAX_OEM_FILE_BYTES);
    if ((uint64_t)size > budget)
        return esximg_err_set(err, ESXIMG_ELIMIT, "member '%s': %lld bytes, more than %u "
                              "times the size of the archive (a bomb?)", name,
                              (long long)size, ESX_MAX_GUNZIP_RATIO);
    uint8_t *data = malloc(size ? (size_t)size : 1);
    if (!data)
        return va_nomem(err);
    la_ssize_t got = size ? archive_read_data(a, data, (size_t)size) : 0;
    uint8_t extra;
    if (got != (la_ssize_t)size || (size && archive_read_data(a, &extra, 1) != 0)) {
        free(data);
        return esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': truncated or unreadable: %s",
                              name, archive_error_string(a) ? archive_error_string(a) : "");
    }
    *out = data;
    return 0;
}

static int va_oem_entry(struct esximg_vibauthor_oem *o, struct archive *a,
                        struct archive_entry *e, uint64_t budget, struct esximg_err *err)
{
    mode_t type = archive_entry_filetype(e);
    const char *raw = archive_entry_pathname(e);
    if (archive_entry_hardlink(e) || type == AE_IFLNK)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "member '%s': links are not allowed",
                              raw ? raw : "");
    if (type != AE_IFREG && type != AE_IFDIR)
        return esximg_err_set(err, ESXIMG_EUNSUPPORTED, "member '%s': not a file or folder",
                              raw ? raw : "");
    char *name = NULL;
    int rc = va_oem_name(raw, type == AE_IFDIR, &name, err);
    if (rc || !name)
        return rc;
    enum va_oem_kind kind = va_oem_classify(name, type == AE_IFDIR);
    if (kind == VA_OEM_NONE) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': not a driver file (only "
                            "usr/lib/vmware/vmkmod/<module>, etc/vmware/*.map.d/*.map and "
                            "usr/share/hwdata/*.pciids.d/*.ids may be there)", name);
    } else if (kind == VA_OEM_DIR) {
        if (archive_entry_size(e) != 0)
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "folder '%s' has a size", name);
    } else if (o->files[kind].path) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "member '%s': a second %s ('%s' is one)",
                            name, kind == VA_OEM_MODULE ? "module" : kind == VA_OEM_MAP ?
                            "map" : "PCI id file", o->files[kind].path);
    } else {
        rc = va_oem_data(a, name, archive_entry_size(e), budget, &o->files[kind].data, err);
        if (!rc) {
            o->files[kind].len = (size_t)archive_entry_size(e);
            o->files[kind].path = name;
            name = NULL;
        }
    }
    free(name);
    return rc;
}

static int va_oem_walk(struct esximg_vibauthor_oem *o, const void *data, size_t len,
                       struct esximg_err *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        return va_nomem(err);
    int rc = 0;
    uint64_t budget;
    if (esx_mul_u64(len, ESX_MAX_GUNZIP_RATIO, &budget))
        budget = UINT64_MAX;
    else if (budget < ESX_GUNZIP_RATIO_FLOOR)
        budget = ESX_GUNZIP_RATIO_FLOOR;
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "not a gzip'd tar: %s",
                            archive_error_string(a) ? archive_error_string(a) : "");
        goto out;
    }
    for (unsigned entries = 0;; entries++) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            rc = esximg_err_set(err, ESXIMG_EFORMAT, "bad tar header after %u members: %s",
                                entries, archive_error_string(a) ? archive_error_string(a)
                                : "");
            goto out;
        }
        if (entries >= ESX_MAX_OEM_ENTRIES) {
            rc = esximg_err_set(err, ESXIMG_ELIMIT, "more than %u members",
                                ESX_MAX_OEM_ENTRIES);
            goto out;
        }
        if ((rc = va_oem_entry(o, a, e, budget, err)))
            goto out;
    }
    if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP &&
        archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "not a gzip'd tar");
out:
    archive_read_free(a);
    return rc;
}

int esximg_vibauthor_oem_read(const void *data, size_t len, struct esximg_vibauthor_oem **out,
                              struct esximg_err *err)
{
    if (!data || len == 0)
        return esximg_err_set(err, ESXIMG_EFORMAT, "empty input");
    struct esximg_vibauthor_oem *o = calloc(1, sizeof *o);
    if (!o)
        return va_nomem(err);
    int rc = va_oem_walk(o, data, len, err);
    if (!rc && !o->files[VA_OEM_MODULE].path)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no module under usr/lib/vmware/vmkmod/");
    if (!rc && !o->files[VA_OEM_MAP].path)
        rc = esximg_err_set(err, ESXIMG_EFORMAT, "no map under etc/vmware/<dir>.map.d/");
    if (!rc && !(o->module = esx_strdup(esx_path_base(o->files[VA_OEM_MODULE].path))))
        rc = va_nomem(err);
    if (rc) {
        esximg_vibauthor_oem_free(o);
        return rc;
    }
    o->file_count = o->files[VA_OEM_IDS].path ? 3 : 2;
    *out = o;
    return 0;
}

/* ================================================================ map-only files */

static bool va_hex4(const char *s, uint16_t *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
                                : (tolower((unsigned char)s[i]) - 'a' + 10));
    }
    *out = (uint16_t)v;
    return true;
}

/* "VVVV", "VVVV:DDDD" or "VVVV:DDDD:SSSS:ssss": the count of fields, 0 when malformed */
static int va_hex_fields(const char *s, uint16_t f[4])
{
    int n = 0;
    for (;;) {
        if (n == 4 || !va_hex4(s, &f[n]))
            return 0;
        n++;
        s += 4;
        if (*s == '\0')
            return n;
        if (*s != ':')
            return 0;
        s++;
    }
}

int esximg_vibauthor_pci_parse(const char *s, struct esximg_vibauthor_pci_id *out,
                               struct esximg_err *err)
{
    uint16_t f[4] = { 0 };
    int n = s ? va_hex_fields(s, f) : 0;
    if (n != 2 && n != 4)
        return esximg_err_set(err, ESXIMG_EINVAL, "PCI id '%s': not VVVV:DDDD or "
                              "VVVV:DDDD:SSSS:ssss (4 hex digits each)", s ? s : "");
    *out = (struct esximg_vibauthor_pci_id){ f[0], f[1], n == 4, f[2], f[3] };
    return 0;
}

static bool va_same_id(const struct esximg_vibauthor_pci_id *a,
                       const struct esximg_vibauthor_pci_id *b)
{
    return a->vendor == b->vendor && a->device == b->device &&
           a->has_subsystem == b->has_subsystem &&
           (!a->has_subsystem || (a->subvendor == b->subvendor && a->subdevice == b->subdevice));
}

int esximg_vibauthor_map_text(const char *driver, const struct esximg_vibauthor_pci_id *ids,
                              size_t id_count, char **out, size_t *out_len,
                              struct esximg_err *err)
{
    if (!driver || !va_is_name(driver, VA_DRIVER_NAME_MAX))
        return esximg_err_set(err, ESXIMG_EINVAL, "driver '%s': not 1-%u of [0-9A-Za-z_.-]",
                              driver ? driver : "", VA_DRIVER_NAME_MAX);
    if (id_count == 0)
        return esximg_err_set(err, ESXIMG_EINVAL, "no PCI id to map");
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_TEXT_BYTES);
    int rc = 0;
    for (size_t i = 0; i < id_count && !rc; i++) {
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = va_same_id(&ids[k], &ids[i]);
        if (dup)
            continue;
        char sub[9] = "........";
        if (ids[i].has_subsystem)
            snprintf(sub, sizeof sub, "%04x%04x", ids[i].subvendor, ids[i].subdevice);
        rc = esx_buf_printf(&b, err, "regtype=native,bus=pci,id=%04x%04x%s......,driver=%s\n",
                            ids[i].vendor, ids[i].device, sub, driver);
    }
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *out = esx_buf_take(&b, out_len);
    return *out ? 0 : va_nomem(err);
}

/* ---- the .ids file */

struct va_ids_node {
    int level;                       /* 1 vendor, 2 device, 3 subsystem */
    uint16_t f[4];
    const char *name;                /* borrowed, NULL: placeholder or not written */
    bool wanted;
};

static int va_ids_cmp(const void *a, const void *b)
{
    const struct va_ids_node *x = a, *y = b;
    for (int i = 0; i < 4; i++) {
        int xi = i < x->level + (x->level == 3 ? 1 : 0) ? x->f[i] : -1;
        int yi = i < y->level + (y->level == 3 ? 1 : 0) ? y->f[i] : -1;
        if (xi != yi)
            return xi < yi ? -1 : 1;
    }
    return 0;
}

static int va_ids_level(int fields)
{
    return fields == 4 ? 3 : fields;
}

static bool va_ids_matches(const struct esximg_vibauthor_pci_id *id, const uint16_t f[4],
                           int level)
{
    if (id->vendor != f[0])
        return false;
    if (level >= 2 && id->device != f[1])
        return false;
    if (level == 3 && (!id->has_subsystem || id->subvendor != f[2] || id->subdevice != f[3]))
        return false;
    return true;
}

static int va_check_label(const char *id, const char *name, struct esximg_err *err)
{
    bool bad = !name || !name[0];
    for (const char *c = name; !bad && *c; c++)
        bad = (unsigned char)*c < 0x20 || *c == 0x7f;
    if (bad || strlen(name) > 200)
        return esximg_err_set(err, ESXIMG_EINVAL, "name of '%s': empty, longer than 200 or "
                              "holds a control character", id ? id : "");
    return 0;
}

/* Every named id plus the parents the named ones need, with their names. */
static int va_ids_nodes(const struct esximg_vibauthor_pci_id *ids, size_t id_count,
                        const struct esximg_vibauthor_pci_name *names, size_t name_count,
                        struct va_ids_node *nodes, size_t *count, struct esximg_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < name_count; i++) {
        uint16_t f[4] = { 0 };
        int fields = names[i].id ? va_hex_fields(names[i].id, f) : 0;
        if (fields == 0 || fields == 3)
            return esximg_err_set(err, ESXIMG_EINVAL, "named id '%s': not VVVV, VVVV:DDDD or "
                                  "VVVV:DDDD:SSSS:ssss", names[i].id ? names[i].id : "");
        int rc = va_check_label(names[i].id, names[i].name, err);
        if (rc)
            return rc;
        int level = va_ids_level(fields);
        bool known = false;
        for (size_t k = 0; k < id_count && !known; k++)
            known = va_ids_matches(&ids[k], f, level);
        if (!known)
            return esximg_err_set(err, ESXIMG_EINVAL, "named id '%s' is not one of the PCI "
                                  "ids given", names[i].id);
        /* the node itself and its parents */
        for (int l = level; l >= 1; l--) {
            struct va_ids_node node = { l, { f[0], l >= 2 ? f[1] : 0, l == 3 ? f[2] : 0,
                                             l == 3 ? f[3] : 0 }, NULL, false };
            size_t k = 0;
            while (k < n && va_ids_cmp(&nodes[k], &node) != 0)
                k++;
            if (k == n)
                nodes[n++] = node;
            if (l == level) {
                if (nodes[k].name)
                    return esximg_err_set(err, ESXIMG_EINVAL, "id '%s' is named twice",
                                          names[i].id);
                nodes[k].name = names[i].name;
            }
        }
    }
    *count = n;
    return 0;
}

static const char va_ids_header[] =
    "#\n"
    "# This file is automatically generated by esximg.\n"
    "# Any changes you make manually will be lost at the next build.\n"
    "# Please edit the names given to `esximg vib map-only` for permanent changes.\n"
    "#\n"
    "\n"
    "# Vendors, devices and subsystems.\n"
    "\n"
    "# Syntax:\n"
    "# vendor  vendor_name\n"
    "#       device  device_name                             <-- single tab\n"
    "#               subvendor subdevice  subsystem_name     <-- two tabs\n"
    "\n";

int esximg_vibauthor_ids_text(const struct esximg_vibauthor_pci_id *ids, size_t id_count,
                              const struct esximg_vibauthor_pci_name *names, size_t name_count,
                              char **out, size_t *out_len, struct esximg_err *err)
{
    size_t cap = 0;
    if (esx_mul_size(name_count, 3, &cap))
        return esximg_err_set(err, ESXIMG_ELIMIT, "too many names");
    struct va_ids_node *nodes = esx_malloc_array(cap ? cap : 1, sizeof *nodes);
    if (!nodes)
        return va_nomem(err);
    size_t n = 0;
    struct esx_buf b;
    esx_buf_init(&b, ESX_MAX_TEXT_BYTES);
    int rc = va_ids_nodes(ids, id_count, names, name_count, nodes, &n, err);
    if (!rc) {
        if (n)
            qsort(nodes, n, sizeof *nodes, va_ids_cmp);
        rc = esx_buf_puts(&b, va_ids_header, err);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const struct va_ids_node *x = &nodes[i];
        char placeholder[32];
        snprintf(placeholder, sizeof placeholder, "%s %04x", x->level == 1 ? "Vendor" :
                 x->level == 2 ? "Device" : "Subsystem", x->level == 1 ? x->f[0] : x->f[1]);
        const char *label = x->name ? x->name : placeholder;
        if (x->level == 1)
            rc = esx_buf_printf(&b, err, "%04x  %s\n", x->f[0], label);
        else if (x->level == 2)
            rc = esx_buf_printf(&b, err, "\t%04x  %s\n", x->f[1], label);
        else
            rc = esx_buf_printf(&b, err, "\t\t%04x %04x  %s\n", x->f[2], x->f[3], label);
    }
    free(nodes);
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *out = esx_buf_take(&b, out_len);
    return *out ? 0 : va_nomem(err);
}

/* ================================================================ driver VIB defaults */

/* The one rule for the VIBs built from an OEM .tgz (`vib from-oem`, `edit --add`) and for
 * map-only VIBs: what they are called and what they hold unless the caller says otherwise. */

void esximg_vibauthor_payload_name(const char *vib_name,
                                   char out[ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN + 1])
{
    size_t n = strnlen(vib_name, ESXIMG_VIBAUTHOR_PAYLOAD_NAME_WARN);
    memcpy(out, vib_name, n);
    out[n] = '\0';
}

/* A descriptor with VIB Author's defaults, then version 1.0-1, vendor custom, maintenance
 * mode, the name and a summary that doubles as description, and optionally the driver tags. */
static int va_driver_descriptor(const char *name, const char *summary, bool driver_tags,
                                struct esximg_descriptor **out, struct esximg_err *err)
{
    static const char *const tags[] = { "driver", "module" };
    const struct esximg_vibauthor_fields f = {
        .name = name, .version = "1.0-1", .vendor = "custom", .summary = summary,
        .description = summary, .maintenance_mode = ESXIMG_VIBAUTHOR_YES,
        .tags = driver_tags ? tags : NULL, .tag_count = driver_tags ? 2 : 0,
    };
    struct esximg_descriptor *d = NULL;
    int rc = esximg_vibauthor_descriptor_new(&d, err);
    if (!rc)
        rc = esximg_vibauthor_apply(d, &f, err);
    if (rc) {
        esximg_descriptor_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int esximg_vibauthor_oem_descriptor(const struct esximg_vibauthor_oem *oem,
                                    struct esximg_descriptor **out, struct esximg_err *err)
{
    char name[64], summary[128];
    snprintf(name, sizeof name, "%s", oem->module);
    size_t nl = strlen(name);
    if (nl > 2 && strcmp(name + nl - 2, ".o") == 0)
        name[nl - 2] = '\0';   /* vmklinux modules of 4.x carried ".o" */
    snprintf(summary, sizeof summary, "%s driver", name);
    return va_driver_descriptor(name, summary, true, out, err);
}

void esximg_vibauthor_oem_payload(const struct esximg_vibauthor_oem *oem, const char *vib_name,
                                  struct esximg_vibauthor_oem_payload *out)
{
    size_t count = oem->file_count < 3 ? oem->file_count : 3;
    esximg_vibauthor_payload_name(vib_name, out->name);
    for (size_t i = 0; i < count; i++)
        out->entries[i] = (struct esximg_vibauthor_entry){
            .path = oem->files[i].path, .kind = ESXIMG_VIBAUTHOR_FILE, .mode = 0644,
            .data = oem->files[i].data, .len = oem->files[i].len,
        };
    out->payload = (struct esximg_vibauthor_payload){
        .name = out->name, .type = "vgz", .entries = out->entries, .entry_count = count,
    };
}

int esximg_vibauthor_map_descriptor(const char *driver, struct esximg_descriptor **out,
                                    struct esximg_err *err)
{
    char name[80], summary[160];
    snprintf(name, sizeof name, "%s-map", driver);
    snprintf(summary, sizeof summary, "Maps more PCI devices to the %s driver", driver);
    return va_driver_descriptor(name, summary, false, out, err);
}

void esximg_vibauthor_map_payload(const char *vib_name, const char *map, size_t map_len,
                                  const char *ids, size_t ids_len,
                                  struct esximg_vibauthor_map_payload *out)
{
    esximg_vibauthor_payload_name(vib_name, out->name);
    snprintf(out->map_path, sizeof out->map_path, "etc/vmware/default.map.d/%s.map", vib_name);
    snprintf(out->ids_path, sizeof out->ids_path, "usr/share/hwdata/default.pciids.d/%s.ids",
             vib_name);
    out->entries[0] = (struct esximg_vibauthor_entry){
        .path = out->map_path, .data = map, .len = map_len,
    };
    out->entries[1] = (struct esximg_vibauthor_entry){
        .path = out->ids_path, .data = ids, .len = ids_len,
    };
    out->payload = (struct esximg_vibauthor_payload){
        .name = out->name, .type = "vgz", .entries = out->entries, .entry_count = 2,
    };
}
