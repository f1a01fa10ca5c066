/* esximg/imgrebase.h: moving an installer image to the VMware VIBs of a newer patch or update
 * depot (`esximg edit IN.iso --base DEPOT.zip`), keeping the VIBs the user added.
 *
 * The rules (docs/edit.md, "Moving to a newer patch"):
 * - The depot's set is the VIBs of one image profile of the depots (the one named like the
 *   image's profile, else the one that shares its last '-' part, "standard" or "no-tools",
 *   else the only one), or, when the depots hold no profile, of their newest base image
 *   (esximg_depot_resolve).  VIBs of a depot outside that set (an add-on's, a loose driver's)
 *   are not used.
 * - A VIB of the image whose name is in the set: a newer version replaces it, the same
 *   version is the same VIB (the depot's copy is written), an older one is a downgrade,
 *   a problem naming the VIB unless allow_downgrade.
 * - A VIB of the set the image lacks is added (a patch can bring new VMware VIBs).
 * - A VIB of the image not in the set is kept: its descriptor (.orig bytes when signed), its
 *   signature and its module bytes, read from the input ISO.  Only boot-module payloads can
 *   be kept so; any other payload is a problem naming the VIB.
 * - The resulting set is checked as `esximg edit` checks one (esximg_vibrel_check): a failure
 *   the input image did not have is a problem worded as edit words it; one it had is a
 *   warning.  no_deps skips the check.
 * Problems do not make the plan fail: esximg_rebase_write refuses a plan that has any. */
#ifndef ESXIMG_IMGREBASE_H
#define ESXIMG_IMGREBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"
#include "esximg/image.h"
#include "esximg/vib.h"

#ifdef __cplusplus
extern "C" {
#endif

enum esximg_rebase_action {
    ESXIMG_REBASE_KEEP = 0,     /* the image's VIB, not in the depot's set: kept as it is */
    ESXIMG_REBASE_SAME,         /* in both at the same version */
    ESXIMG_REBASE_UPDATE,       /* the depot's is newer */
    ESXIMG_REBASE_DOWNGRADE,    /* the depot's is older */
    ESXIMG_REBASE_ADD,          /* only in the depot's set */
};

/* One VIB of the result, or a refused downgrade: indexes into the two lists given to
 * esximg_rebase_select (SIZE_MAX for none). */
struct esximg_rebase_choice {
    enum esximg_rebase_action action;
    size_t image;
    size_t depot;
};

/* The selection rules above, on descriptors alone: `image` the image's VIBs, `depot` the
 * depot's set (one VIB per name).  *out gets one choice per name, the image's order first,
 * then the added ones in the depot's order; a downgrade is a problem unless allow_downgrade
 * (the choice is there either way).  Returns 0 or ENOMEM. */
int esximg_rebase_select(const struct esximg_descriptor *const *image, size_t ni,
                         const struct esximg_descriptor *const *depot, size_t nd,
                         bool allow_downgrade, struct esximg_rebase_choice **out, size_t *n,
                         struct esximg_warnings *problems, struct esximg_err *err);

/* The relationship check of the rules above: failures of `after` that `before` has too go to
 * warnings ("... (already so in the input image)"), new ones to problems ("... (--no-deps skips
 * this check)"), as esximg_edit_plan words them. */
int esximg_rebase_check_relations(const struct esximg_descriptor *const *before, size_t nb,
                                  const struct esximg_descriptor *const *after, size_t na,
                                  struct esximg_warnings *warnings,
                                  struct esximg_warnings *problems, struct esximg_err *err);

struct esximg_rebase_opts {
    /* Depot zip paths, spooled into work_dir (esximg/depotset.h): their VIBs' bytes stay on
     * disk, read while the image is written, so memory does not grow with the depots. */
    const char *const *depots;
    size_t depot_count;
    /* An existing folder the caller owns and removes after esximg_rebase_plan_free, which
     * removes what was spooled to it; beside the output, so that nothing is copied across
     * file systems. */
    const char *work_dir;
    bool allow_downgrade;
    bool no_deps;
    const char *profile_name;   /* NULL: the input image's */
    int64_t mtime;              /* every date of the output */
};

struct esximg_rebase_state;     /* private */

struct esximg_rebase_plan {
    size_t line_count;          /* what changes, one line each, for people */
    char **lines;
    struct esximg_warnings warnings;
    struct esximg_warnings problems;
    char *depot_set;            /* "profile NAME" or "base image ID": where the set came from */
    char *old_version, *new_version;        /* esx-base's */
    size_t kept, updated, same, added, downgraded;
    struct esximg_rebase_state *state;
};

/* Plans the rebase of img (opened with esximg_image_open; it must outlive the plan: kept VIBs'
 * modules are read from img->path when writing, the depots' payloads from the depots and
 * o->work_dir, which must stay until the plan is freed).  Fails on a depot that does not read, a
 * depot set that does not resolve, or an image without a database; err->file names it. */
int esximg_rebase_plan(const struct esximg_image *img, const struct esximg_rebase_opts *o,
                       struct esximg_rebase_plan **out, struct esximg_err *err);

/* Writes the planned image (esximg_imgbuild_write: temporary file, renamed; nothing left on
 * failure).  EINVAL when the plan has problems. */
int esximg_rebase_write(const struct esximg_rebase_plan *p, const char *out_path,
                        void (*progress)(uint64_t done, uint64_t total, void *arg),
                        void *progress_arg, struct esximg_err *err);

void esximg_rebase_plan_free(struct esximg_rebase_plan *p);

#ifdef __cplusplus
}
#endif
#endif
