/* fuzz_vibrel.c: the version order on three strings split from the input at '\n' must be a
 * total preorder (reflexive, antisymmetric in sign, transitive); the five relations must agree
 * with each other; and the check of a small set built from the strings must not fail. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"
#include "esximg/vibrel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_sign(int v)
{
    return (v > 0) - (v < 0);
}

static void fuzz_order(const char *x, const char *y, const char *z)
{
    int xy = fuzz_sign(esximg_version_cmp(x, y)), yz = fuzz_sign(esximg_version_cmp(y, z));
    int xz = fuzz_sign(esximg_version_cmp(x, z));
    if (esximg_version_cmp(x, x) != 0 || xy != -fuzz_sign(esximg_version_cmp(y, x)))
        __builtin_trap();
    if (xy <= 0 && yz <= 0 && xz > 0)
        __builtin_trap();
    if (xy == 0 && xz != yz)
        __builtin_trap();
}

static bool fuzz_ok(const char *rel, const char *want, const char *have)
{
    struct esximg_constraint c = {(char *)"n", (char *)rel, (char *)want};
    return esximg_constraint_version_ok(&c, have);
}

static void fuzz_relations(const char *want, const char *have)
{
    bool lt = fuzz_ok("<<", want, have), le = fuzz_ok("<=", want, have);
    bool eq = fuzz_ok("=", want, have), ge = fuzz_ok(">=", want, have);
    bool gt = fuzz_ok(">>", want, have);
    if (lt + eq + gt != 1 || le != (lt || eq) || ge != (gt || eq))
        __builtin_trap();
    /* with a release, the constraint follows the whole order */
    if (strchr(want, '-') && fuzz_sign(esximg_version_cmp(have, want)) != gt - lt)
        __builtin_trap();
    /* no relation: always met; any other text used as a relation: never */
    bool known = strcmp(want, "<<") == 0 || strcmp(want, "<=") == 0 || strcmp(want, "=") == 0 ||
                 strcmp(want, ">=") == 0 || strcmp(want, ">>") == 0;
    if (!fuzz_ok(NULL, want, have) || (!known && fuzz_ok(want, want, have)))
        __builtin_trap();
}

static void fuzz_check(char *s[3])
{
    struct esximg_constraint dep[] = {{s[2], (char *)">=", s[0]}, {s[1], NULL, NULL}};
    struct esximg_constraint con[] = {{s[1], (char *)"<<", s[2]}, {s[0], NULL, NULL}};
    struct esximg_constraint prov[] = {{s[2], NULL, s[0]}, {s[0], NULL, NULL}};
    struct esximg_descriptor a = {.name = s[0], .version = s[1]};
    struct esximg_descriptor b = {.name = s[2], .version = s[0]};
    a.depends = (struct esximg_constraint_list){2, dep};
    a.conflicts = (struct esximg_constraint_list){2, con};
    b.provides = (struct esximg_constraint_list){2, prov};
    b.depends = (struct esximg_constraint_list){1, con};
    b.replaces = (struct esximg_constraint_list){2, dep};
    const struct esximg_descriptor *set[] = {&a, &b, &a};
    struct esximg_warnings problems = {0};
    if (esximg_vibrel_check(set, 3, &problems, NULL) != 0)
        __builtin_trap();
    for (size_t i = 0; i < problems.count; i++)
        if (strlen(problems.items[i].msg) >= 512)
            __builtin_trap();
    esx_warnings_free(&problems);
    (void)esximg_vib_replaces(&b, &a);
    (void)esximg_vib_satisfies(&b, &dep[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *s[3] = {copy, (char *)"", (char *)""};
    for (size_t i = 1; i < 3; i++) {
        char *nl = strchr(s[i - 1], '\n');
        if (!nl)
            break;
        *nl = '\0';
        s[i] = nl + 1;
    }
    const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (size_t i = 0; i < 6; i++)
        fuzz_order(s[perm[i][0]], s[perm[i][1]], s[perm[i][2]]);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            fuzz_relations(s[i], s[j]);
    fuzz_check(s);
    free(copy);
    return 0;
}
