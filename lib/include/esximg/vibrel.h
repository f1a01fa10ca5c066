/* esximg/vibrel.h: relationships between VIBs: version order, constraints (depends,
 * conflicts, replaces, provides), and whether a set of VIBs (an image) holds together.
 *
 * Version order follows VMware's esximage (Version/VibVersion classes): a VIB version is
 * "<version>-<release>"; each side is compared part by part on '.', numerically when both parts
 * are numbers, else as text (see the .c for the exact rule and its source). */
#ifndef ESXIMG_VIBREL_H
#define ESXIMG_VIBREL_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

/* <0, 0, >0 as a sorts before, equal to, after b. */
int esximg_version_cmp(const char *a, const char *b);

/* Whether `version` satisfies the constraint's relation and version ("<<", "<=", "=", ">=",
 * ">>"); a constraint without a relation is met by any version. An unknown relation is never
 * met. */
bool esximg_constraint_version_ok(const struct esximg_constraint *c, const char *version);

/* Whether VIB `d` (its name and version, or one of its provides with its version) satisfies
 * constraint `c`. */
bool esximg_vib_satisfies(const struct esximg_descriptor *d, const struct esximg_constraint *c);

/* Whether `by` replaces `old`: one of by's replaces constraints is met by old, or both have the
 * same name (a newer VIB of one name replaces the older one). */
bool esximg_vib_replaces(const struct esximg_descriptor *by, const struct esximg_descriptor *old);

/* Whether constraint `c` (a depends of vibs[self]) is met by another VIB of the set (name or
 * provides, with the version relation), as esximg_vibrel_check judges each depends. */
bool esximg_vibrel_met(const struct esximg_descriptor *const *vibs, size_t count, size_t self,
                       const struct esximg_constraint *c);

/* Checks a set of VIBs: every depends of every VIB is met by another VIB of the set (name or
 * provides, with the version relation), and no conflicts constraint of any VIB is met by
 * another. Each failure is added to `problems` as one line naming the VIB and the constraint,
 * e.g. "'net-foo 1.0-1' depends on 'vmkapi_2_6_0_0', which no VIB provides" or
 * "'a 1-1' conflicts with 'b 2-1' ('b << 3')". Returns 0 (see problems) or ENOMEM. */
int esximg_vibrel_check(const struct esximg_descriptor *const *vibs, size_t count,
                        struct esximg_warnings *problems, struct esximg_err *err);

#ifdef __cplusplus
}
#endif
#endif
