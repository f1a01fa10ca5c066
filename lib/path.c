/* path.c: checks on names that come from archives, before they touch a file system. */
#include <stdlib.h>
#include <string.h>

#include "esx_private.h"

int esx_path_check(const char *name, const char *what, struct esximg_err *err)
{
    size_t len = strlen(name);
    if (len == 0)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "%s has an empty name", what);
    if (len > ESX_MAX_PATH_BYTES)
        return esximg_err_set(err, ESXIMG_EUNSAFE, "%s name is longer than %u bytes", what,
                              ESX_MAX_PATH_BYTES);
    if (name[0] == '/')
        return esximg_err_set(err, ESXIMG_EUNSAFE, "%s '%s': absolute path", what, name);
    if (strchr(name, '\\'))
        return esximg_err_set(err, ESXIMG_EUNSAFE, "%s '%s': backslash in path", what, name);
    /* walk the components: refuse "..", allow "." and empty ones (a trailing "/" on dirs) */
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return esximg_err_set(err, ESXIMG_EUNSAFE, "%s '%s': '..' in path", what, name);
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

char *esx_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *joined = malloc(dl + 1 + nl + 1);
    if (!joined)
        return NULL;
    memcpy(joined, dir, dl);
    joined[dl] = '/';
    memcpy(joined + dl + 1, name, nl + 1);
    return joined;
}

const char *esx_path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
