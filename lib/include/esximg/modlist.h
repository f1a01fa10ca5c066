/* esximg/modlist.h: a host's kernel modules as `esxcli system module list` prints them
 * (also `localcli`), to know which modules the host has disabled:
 *
 *   Name                   Is Loaded  Is Enabled
 *   ---------------------  ---------  ----------
 *   ne1000                 true       false
 *
 * The header and dash line may be missing (an output cut by grep); each row is a name and
 * two of `true`/`false`.  A line that is no row is a warning naming it. */
#ifndef ESXIMG_MODLIST_H
#define ESXIMG_MODLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct esximg_module_state {
    size_t line;
    char *name;
    bool loaded;
    bool enabled;       /* false: `esxcli system module set --enabled=false` was run on it */
};

struct esximg_modlist {
    size_t count;
    struct esximg_module_state *modules;    /* in input order */
    struct esximg_warnings warnings;
};

/* EFORMAT when no row is found; ELIMIT/EFORMAT as the other text readers. */
int esximg_modlist_read(const void *data, size_t len, struct esximg_modlist **out,
                        struct esximg_err *err);
void esximg_modlist_free(struct esximg_modlist *m);

#ifdef __cplusplus
}
#endif
#endif
