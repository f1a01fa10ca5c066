/* kickstart.c: ESXi kickstart files (ks.cfg): the checker, which reads a file as ESXi's
 * installer does, then the writer.  The commands and options are those of VMware's
 * "Installation and Upgrade Script Commands" for ESXi 6.7, 7.0 and 8.0 (docs/kickstart-rules.md
 * gives each rule and its source). */
#include <crypt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esx_limits.h"
#include "esx_private.h"
#include "esximg/image.h"
#include "esximg/kickstart.h"
#include "esximg/vib.h"

_Static_assert(ESX_MAX_KS_BYTES == ESXIMG_KS_MAX_BYTES, "one kickstart size limit");

#define KS_VMKMOD_DIR       "usr/lib/vmware/vmkmod/"
#define KS_MAX_NAME         255u    /* a module name, a disk name, a host name */

/* ---------------------------------------------------------------- the command table */

enum ks_arg {
    KS_FLAG,        /* --name */
    KS_VALUE,       /* --name=value or --name value */
    KS_OPTVALUE,    /* --name or --name=value (the value only after '=') */
};

struct ks_option {
    const char *name;               /* without the leading "--" */
    enum ks_arg arg;
    unsigned since;                 /* the ESXi major release that added it; 0: all */
};

enum ks_kind {
    KS_EULA, KS_CLEARPART, KS_DRYRUN, KS_INSTALL, KS_INSTALLORUPGRADE, KS_UPGRADE,
    KS_KEYBOARD, KS_SERIALNUM, KS_NETWORK, KS_PARANOID, KS_PART, KS_REBOOT, KS_ROOTPW,
    KS_INCLUDE, KS_KIND_COUNT,
};

struct ks_command {
    const char *name;
    enum ks_kind kind;
    const struct ks_option *opts;   /* ended by a NULL name */
    unsigned words;                 /* the words after the options it takes: 0 or 1 */
};

static const struct ks_option ks_no_opts[] = {{NULL, KS_FLAG, 0}};
static const struct ks_option ks_clearpart_opts[] = {
    {"drives", KS_VALUE, 0}, {"alldrives", KS_FLAG, 0}, {"ignoredrives", KS_VALUE, 0},
    {"overwritevmfs", KS_FLAG, 0}, {"firstdisk", KS_OPTVALUE, 0}, {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_install_opts[] = {
    {"disk", KS_VALUE, 0}, {"drive", KS_VALUE, 0}, {"firstdisk", KS_OPTVALUE, 0},
    {"ignoressd", KS_FLAG, 0}, {"overwritevsan", KS_FLAG, 0}, {"overwritevmfs", KS_FLAG, 0},
    {"preservevmfs", KS_FLAG, 0}, {"novmfsondisk", KS_FLAG, 0},
    {"ignoreprereqwarnings", KS_FLAG, 0}, {"ignoreprereqerrors", KS_FLAG, 0},
    {"forceunsupportedinstall", KS_FLAG, 0}, {"dpupcislots", KS_VALUE, 8}, {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_installorupgrade_opts[] = {
    {"disk", KS_VALUE, 0}, {"drive", KS_VALUE, 0}, {"firstdisk", KS_OPTVALUE, 0},
    {"overwritevsan", KS_FLAG, 0}, {"overwritevmfs", KS_FLAG, 0}, {"forcemigrate", KS_FLAG, 0},
    {"ignoreprereqwarnings", KS_FLAG, 0}, {"ignoreprereqerrors", KS_FLAG, 0},
    {"forceunsupportedinstall", KS_FLAG, 0}, {"dpupcislots", KS_VALUE, 8}, {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_upgrade_opts[] = {
    {"disk", KS_VALUE, 0}, {"drive", KS_VALUE, 0}, {"firstdisk", KS_OPTVALUE, 0},
    {"deletecosvmdk", KS_FLAG, 0}, {"ignoreprereqwarnings", KS_FLAG, 0},
    {"ignoreprereqerrors", KS_FLAG, 0}, {"forceunsupportedinstall", KS_FLAG, 0},
    {"dpupcislots", KS_VALUE, 8}, {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_serialnum_opts[] = {{"esx", KS_VALUE, 0}, {NULL, KS_FLAG, 0}};
static const struct ks_option ks_network_opts[] = {
    {"bootproto", KS_VALUE, 0}, {"device", KS_VALUE, 0}, {"ip", KS_VALUE, 0},
    {"gateway", KS_VALUE, 0}, {"nameserver", KS_VALUE, 0}, {"netmask", KS_VALUE, 0},
    {"hostname", KS_VALUE, 0}, {"vlanid", KS_VALUE, 0}, {"addvmportgroup", KS_VALUE, 0},
    {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_part_opts[] = {
    {"ondisk", KS_VALUE, 0}, {"ondrive", KS_VALUE, 0}, {"firstdisk", KS_OPTVALUE, 0},
    {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_reboot_opts[] = {{"noeject", KS_FLAG, 0}, {NULL, KS_FLAG, 0}};
static const struct ks_option ks_rootpw_opts[] = {{"iscrypted", KS_FLAG, 0}, {NULL, KS_FLAG, 0}};

static const struct ks_command ks_commands[] = {
    {"accepteula", KS_EULA, ks_no_opts, 0},
    {"vmaccepteula", KS_EULA, ks_no_opts, 0},
    {"clearpart", KS_CLEARPART, ks_clearpart_opts, 0},
    {"dryrun", KS_DRYRUN, ks_no_opts, 0},
    {"install", KS_INSTALL, ks_install_opts, 0},
    {"installorupgrade", KS_INSTALLORUPGRADE, ks_installorupgrade_opts, 0},
    {"upgrade", KS_UPGRADE, ks_upgrade_opts, 0},
    {"keyboard", KS_KEYBOARD, ks_no_opts, 1},
    {"serialnum", KS_SERIALNUM, ks_serialnum_opts, 0},
    {"vmserialnum", KS_SERIALNUM, ks_serialnum_opts, 0},
    {"network", KS_NETWORK, ks_network_opts, 0},
    {"paranoid", KS_PARANOID, ks_no_opts, 0},
    {"part", KS_PART, ks_part_opts, 1},
    {"partition", KS_PART, ks_part_opts, 1},
    {"reboot", KS_REBOOT, ks_reboot_opts, 0},
    {"rootpw", KS_ROOTPW, ks_rootpw_opts, 1},
    {"include", KS_INCLUDE, ks_no_opts, 1},
    {"%include", KS_INCLUDE, ks_no_opts, 1},
};

/* Script sections: %pre and %post run in the installer, %firstboot on the installed host. */
enum ks_section { KS_SEC_COMMANDS, KS_SEC_PRE, KS_SEC_POST, KS_SEC_FIRSTBOOT };

static const struct ks_option ks_prepost_opts[] = {
    {"interpreter", KS_VALUE, 0}, {"timeout", KS_VALUE, 0}, {"ignorefailure", KS_VALUE, 0},
    {NULL, KS_FLAG, 0},
};
static const struct ks_option ks_firstboot_opts[] = {
    {"interpreter", KS_VALUE, 0}, {NULL, KS_FLAG, 0},
};

/* Commands only the installer knows: in a busybox section the shell runs them and fails.
 * (install, upgrade, reboot and part name busybox applets or look like them: not listed.) */
static const char *const ks_installer_only[] = {
    "vmaccepteula", "accepteula", "rootpw", "clearpart", "installorupgrade", "network",
    "keyboard", "serialnum", "vmserialnum", "paranoid", "dryrun",
};

/* ---------------------------------------------------------------- words of a line */

/* A line cut into words as Python's shlex cuts it (the installer's reader): blanks separate,
 * '...' and "..." quote, a backslash escapes, a '#' starting a word starts a comment. */
struct ks_words {
    size_t count;
    char **w;               /* into store */
    char *store;
};

static void ks_words_free(struct ks_words *ws)
{
    free(ws->w);
    free(ws->store);
    memset(ws, 0, sizeof *ws);
}

/* *unterminated is set for a quote left open (the words are then those before it). */
static int ks_split(const char *p, size_t n, struct ks_words *ws, bool *unterminated,
                    struct esximg_err *err)
{
    memset(ws, 0, sizeof *ws);
    *unterminated = false;
    ws->store = malloc(n * 2 + 1);      /* each byte, plus a NUL per word at most */
    ws->w = esx_malloc_array(n / 2 + 2, sizeof *ws->w);
    if (!ws->store || !ws->w) {
        ks_words_free(ws);
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    }
    char *out = ws->store;
    size_t i = 0;
    for (;;) {
        while (i < n && esx_is_blank(p[i]))
            i++;
        if (i >= n || p[i] == '#')
            break;
        char *word = out;
        while (i < n && !esx_is_blank(p[i])) {
            char c = p[i++];
            if (c == '\\') {
                if (i < n)
                    *out++ = p[i++];
            } else if (c == '\'' || c == '"') {
                while (i < n && p[i] != c) {
                    if (c == '"' && p[i] == '\\' && i + 1 < n &&
                        strchr("\\\"$`", p[i + 1]))
                        i++;
                    *out++ = p[i++];
                }
                if (i >= n) {
                    *unterminated = true;
                    return 0;
                }
                i++;
            } else {
                *out++ = c;
            }
        }
        *out++ = '\0';
        ws->w[ws->count++] = word;
    }
    return 0;
}

/* ---------------------------------------------------------------- value checks */

static bool ks_is_digits(const char *s, size_t max_len)
{
    size_t n = strlen(s);
    if (n == 0 || n > max_len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool ks_is_ipv4(const char *s)
{
    unsigned parts = 0;
    const char *p = s;
    for (;;) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
            return false;
        if (atoi(p) > 255)
            return false;
        parts++;
        p += n;
        if (*p == '\0')
            return parts == 4;
        if (*p != '.' || parts == 4)
            return false;
        p++;
    }
}

static bool ks_is_ipv6(const char *s)
{
    size_t n = strlen(s);
    return n >= 2 && n <= 45 && strchr(s, ':') && strspn(s, "0123456789abcdefABCDEF:.") == n;
}

static bool ks_is_ip(const char *s)
{
    return ks_is_ipv4(s) || ks_is_ipv6(s);
}

/* One address or several separated by commas. */
static bool ks_is_ip_list(const char *s)
{
    char one[64];
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof one)
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (!ks_is_ip(one))
            return false;
        if (p[n] == '\0')
            return true;
        p += n + 1;
    }
}

static bool ks_is_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (size_t i = 0; i < 17; i++) {
        bool colon = i % 3 == 2;
        if (colon ? s[i] != ':' : esx_hex_value(s[i]) < 0)
            return false;
    }
    return true;
}

/* "vmnic" or "vusb" followed by digits. */
static bool ks_is_nic_named(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 && ks_is_digits(s + n, 4);
}

static bool ks_is_hostname(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!esx_is_alnum(c) && c != '-' && c != '.')
            return false;
    }
    return true;
}

/* A kernel module name as esxcli takes it: letters, digits, '_' and '-'. */
static bool ks_is_module_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!esx_is_alnum(c) && c != '_' && c != '-')
            return false;
    }
    return true;
}

static bool ks_is_crypt_char(char c)
{
    return esx_is_alnum(c) || c == '.' || c == '/';
}

bool esximg_ks_is_crypt_hash(const char *s)
{
    if (!s || s[0] != '$' || !strchr("156", s[1]) || s[1] == '\0' || s[2] != '$')
        return false;
    const char *p = s + 3;
    if (s[1] != '1' && strncmp(p, "rounds=", 7) == 0) {
        p += 7;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 9 || p[n] != '$')
            return false;
        p += n + 1;
    }
    size_t salt = 0;
    while (ks_is_crypt_char(p[salt]))
        salt++;
    if (salt == 0 || salt > 16 || p[salt] != '$')
        return false;
    p += salt + 1;
    size_t hash = strlen(p);
    /* the encoded digest: 22 (MD5), 43 (SHA-256) or 86 (SHA-512) characters */
    size_t want = s[1] == '1' ? 22 : s[1] == '5' ? 43 : 86;
    if (hash != want)
        return false;
    for (size_t i = 0; i < hash; i++)
        if (!ks_is_crypt_char(p[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- the check */

struct ks_parsed_opt {
    const struct ks_option *opt;
    const char *value;              /* NULL for a flag */
};

struct ks_ctx {
    const struct esximg_ks_env *env;
    struct esximg_ks_report *r;
    struct esximg_err *err;
    size_t line;
    size_t first_line[KS_KIND_COUNT];   /* where each kind of command first came; 0: never */
    enum ks_section section;
    bool busybox;                       /* the section's interpreter */
    bool noted_usb, noted_modules;
};

__attribute__((format(printf, 2, 3)))
static int ks_problem(struct ks_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(&c->r->problems, c->line, c->err, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 2, 3)))
static int ks_note(struct ks_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esx_vwarn(&c->r->notes, c->line, c->err, fmt, ap);
    va_end(ap);
    return rc;
}

static const struct ks_option *ks_find_option(const struct ks_option *opts, const char *name,
                                              size_t n)
{
    for (; opts->name; opts++)
        if (strlen(opts->name) == n && strncmp(opts->name, name, n) == 0)
            return opts;
    return NULL;
}

/* Reads the options of words[1..]: those starting with "--", the rest are counted in
 * *rest (and the first of them returned in *first_rest).  Returns 0, or the error of the
 * problem list; a bad option is a problem and leaves *ok false. */
static int ks_parse_options(struct ks_ctx *c, const char *what, const struct ks_words *ws,
                            const struct ks_option *table, struct ks_parsed_opt *parsed,
                            size_t *parsed_count, size_t *rest, const char **first_rest,
                            bool *ok)
{
    *parsed_count = 0;
    *rest = 0;
    *first_rest = NULL;
    *ok = true;
    int rc = 0;
    for (size_t i = 1; !rc && i < ws->count; i++) {
        const char *w = ws->w[i];
        if (strncmp(w, "--", 2) != 0) {
            if (!*first_rest)
                *first_rest = w;
            ++*rest;
            continue;
        }
        const char *name = w + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const struct ks_option *o = ks_find_option(table, name, n);
        char quoted[64];
        esx_text_quote(w, eq ? (size_t)(eq - w) : strlen(w), quoted, sizeof quoted);
        if (!o) {
            *ok = false;
            rc = ks_problem(c, "'%s': unknown option '%s'", what, quoted);
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (o->arg == KS_FLAG && value) {
            *ok = false;
            rc = ks_problem(c, "'%s': option '%s' takes no value", what, quoted);
            continue;
        }
        if (o->arg == KS_VALUE && !value) {
            if (i + 1 < ws->count && strncmp(ws->w[i + 1], "--", 2) != 0)
                value = ws->w[++i];
        }
        if (o->arg != KS_FLAG && value && value[0] == '\0') {
            *ok = false;
            rc = ks_problem(c, "'%s': option '%s' has an empty value", what, quoted);
            continue;
        }
        if (o->arg == KS_VALUE && !value) {
            *ok = false;
            rc = ks_problem(c, "'%s': option '%s' needs a value", what, quoted);
            continue;
        }
        if (o->since && c->env && c->env->major && c->env->major < o->since)
            rc = ks_problem(c, "'%s': option '%s' needs ESXi %u.0 or later; the image is %u.x",
                            what, quoted, o->since, c->env->major);
        parsed[(*parsed_count)++] = (struct ks_parsed_opt){o, value};
    }
    return rc;
}

static const char *ks_opt_value(const struct ks_parsed_opt *p, size_t n, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].opt->name, name))
            v = p[i].value ? p[i].value : "";
    return v;
}

static bool ks_has_opt(const struct ks_parsed_opt *p, size_t n, const char *name)
{
    return ks_opt_value(p, n, name) != NULL;
}

/* install, upgrade, installorupgrade: which disk, given once. */
static int ks_check_disk_choice(struct ks_ctx *c, const char *what,
                                const struct ks_parsed_opt *p, size_t n)
{
    unsigned given = ks_has_opt(p, n, "disk") + ks_has_opt(p, n, "drive") +
                     ks_has_opt(p, n, "firstdisk");
    if (given == 0)
        return ks_problem(c, "'%s' names no disk: give --firstdisk or --disk=", what);
    if (given > 1)
        return ks_problem(c, "'%s' names its disk more than once (--disk, --drive, "
                          "--firstdisk)", what);
    if (ks_has_opt(p, n, "overwritevmfs") && ks_has_opt(p, n, "preservevmfs"))
        return ks_problem(c, "'%s': --overwritevmfs and --preservevmfs contradict each other",
                          what);
    return 0;
}

static int ks_check_device(struct ks_ctx *c, const char *dev)
{
    char q[64];
    esx_text_quote(dev, strlen(dev), q, sizeof q);
    bool vusb = ks_is_nic_named(dev, "vusb");
    if (!vusb && !ks_is_nic_named(dev, "vmnic") && !ks_is_mac(dev))
        return ks_problem(c, "'network': --device='%s' is no vmnicN, vusbN or MAC address", q);
    if (!vusb)
        return 0;
    if (!c->env) {
        if (c->noted_usb)
            return 0;
        c->noted_usb = true;
        return ks_note(c, "--device=%s needs a USB NIC driver in the image: not checked "
                       "without --image", q);
    }
    if (!esximg_ks_env_has_usb_nic(c->env))
        return ks_problem(c, "'network': --device=%s is a USB NIC, but the image has no USB NIC "
                          "driver (vmkusb_nic_fling): the installer finds no such NIC", q);
    return 0;
}

static int ks_check_network(struct ks_ctx *c, const struct ks_parsed_opt *p, size_t n)
{
    int rc = 0;
    const char *proto = ks_opt_value(p, n, "bootproto");
    bool is_static = proto && !strcmp(proto, "static");
    if (proto && !is_static && strcmp(proto, "dhcp"))
        rc = ks_problem(c, "'network': --bootproto must be dhcp or static");
    if (!rc && is_static && !ks_has_opt(p, n, "ip"))
        rc = ks_problem(c, "'network': --bootproto=static needs --ip=");
    static const char *const ip_opts[] = {"ip", "gateway"};
    for (size_t i = 0; !rc && i < 2; i++) {
        const char *v = ks_opt_value(p, n, ip_opts[i]);
        if (v && !ks_is_ip(v))
            rc = ks_problem(c, "'network': --%s is not an IP address", ip_opts[i]);
    }
    const char *mask = ks_opt_value(p, n, "netmask");
    if (!rc && mask && !ks_is_ipv4(mask))
        rc = ks_problem(c, "'network': --netmask is not a dotted IPv4 mask");
    const char *dns = ks_opt_value(p, n, "nameserver");
    if (!rc && dns && !ks_is_ip_list(dns))
        rc = ks_problem(c, "'network': --nameserver is not an IP address (or a list of them "
                        "separated by commas)");
    const char *host = ks_opt_value(p, n, "hostname");
    if (!rc && host && !ks_is_hostname(host))
        rc = ks_problem(c, "'network': --hostname is not a host name");
    const char *vlan = ks_opt_value(p, n, "vlanid");
    if (!rc && vlan && (!ks_is_digits(vlan, 4) || atoi(vlan) > 4095))
        rc = ks_problem(c, "'network': --vlanid must be a number from 0 to 4095");
    const char *pg = ks_opt_value(p, n, "addvmportgroup");
    if (!rc && pg && strcmp(pg, "0") && strcmp(pg, "1"))
        rc = ks_problem(c, "'network': --addvmportgroup must be 0 or 1");
    const char *dev = ks_opt_value(p, n, "device");
    if (!rc && dev)
        rc = ks_check_device(c, dev);
    return rc;
}

static int ks_check_rootpw(struct ks_ctx *c, const struct ks_parsed_opt *p, size_t n,
                           const char *password)
{
    if (!password)
        return 0;           /* the missing word is reported by the caller */
    if (ks_has_opt(p, n, "iscrypted") && !esximg_ks_is_crypt_hash(password))
        return ks_problem(c, "'rootpw --iscrypted': the password is no $1$, $5$ or $6$ crypt "
                          "hash: no password would log in");
    return 0;
}

/* clearpart --drives=, --alldrives, --ignoredrives= or --firstdisk: one of them is needed. */
static int ks_check_clearpart(struct ks_ctx *c, const struct ks_parsed_opt *p, size_t n)
{
    if (!ks_has_opt(p, n, "drives") && !ks_has_opt(p, n, "alldrives") &&
        !ks_has_opt(p, n, "ignoredrives") && !ks_has_opt(p, n, "firstdisk"))
        return ks_problem(c, "'clearpart' names no drives: give --drives=, --alldrives, "
                          "--ignoredrives= or --firstdisk");
    return 0;
}

static int ks_check_part(struct ks_ctx *c, const struct ks_parsed_opt *p, size_t n)
{
    if (!ks_has_opt(p, n, "ondisk") && !ks_has_opt(p, n, "ondrive") &&
        !ks_has_opt(p, n, "firstdisk"))
        return ks_problem(c, "'part' names no disk: give --ondisk= or --firstdisk");
    return 0;
}

/* Commands the installer takes once. */
static bool ks_kind_once(enum ks_kind k)
{
    return k == KS_INSTALL || k == KS_INSTALLORUPGRADE || k == KS_UPGRADE ||
           k == KS_ROOTPW || k == KS_NETWORK || k == KS_KEYBOARD;
}

static bool ks_is_disk_kind(enum ks_kind k)
{
    return k == KS_INSTALL || k == KS_INSTALLORUPGRADE || k == KS_UPGRADE;
}

static int ks_check_once(struct ks_ctx *c, const struct ks_command *cmd)
{
    size_t before = c->first_line[cmd->kind];
    if (ks_is_disk_kind(cmd->kind))
        for (int k = KS_INSTALL; k <= KS_UPGRADE; k++)
            if (c->first_line[k] && (!before || c->first_line[k] < before))
                before = c->first_line[k];
    if (before && ks_kind_once(cmd->kind))
        return ks_problem(c, "'%s' %s again: the installer takes it once (first on line %zu)",
                          cmd->name, ks_is_disk_kind(cmd->kind) ? "or another install command "
                          "comes" : "comes", before);
    return 0;
}

static int ks_command_line(struct ks_ctx *c, const struct ks_words *ws)
{
    const struct ks_command *cmd = NULL;
    for (size_t i = 0; i < sizeof ks_commands / sizeof ks_commands[0]; i++)
        if (!strcmp(ks_commands[i].name, ws->w[0]))
            cmd = &ks_commands[i];
    if (!cmd) {
        char q[64];
        esx_text_quote(ws->w[0], strlen(ws->w[0]), q, sizeof q);
        return ks_problem(c, "unknown command '%s'", q);
    }
    int rc = ks_check_once(c, cmd);
    if (rc)
        return rc;
    if (!c->first_line[cmd->kind])
        c->first_line[cmd->kind] = c->line;
    if (cmd->kind == KS_INCLUDE)
        c->r->has_include = true;
    struct ks_parsed_opt *parsed = esx_malloc_array(ws->count, sizeof *parsed);
    if (!parsed)
        return esximg_err_set(c->err, ESXIMG_ENOMEM, "out of memory");
    size_t n, rest;
    const char *word;
    bool ok;
    rc = ks_parse_options(c, cmd->name, ws, cmd->opts, parsed, &n, &rest, &word, &ok);
    if (!rc && rest != cmd->words) {
        char q[64];
        esx_text_quote(word ? word : "", word ? strlen(word) : 0, q, sizeof q);
        rc = cmd->words ? ks_problem(c, "'%s' takes one word after its options, not %zu",
                                     cmd->name, rest)
                        : ks_problem(c, "'%s' takes no word '%s'", cmd->name, q);
    }
    if (!rc && ok) {
        switch (cmd->kind) {
        case KS_INSTALL: case KS_INSTALLORUPGRADE: case KS_UPGRADE:
            rc = ks_check_disk_choice(c, cmd->name, parsed, n);
            break;
        case KS_NETWORK: rc = ks_check_network(c, parsed, n); break;
        case KS_ROOTPW: rc = ks_check_rootpw(c, parsed, n, rest == 1 ? word : NULL); break;
        case KS_CLEARPART: rc = ks_check_clearpart(c, parsed, n); break;
        case KS_PART: rc = ks_check_part(c, parsed, n); break;
        case KS_INCLUDE:
            rc = ks_note(c, "the commands of the included file '%s' are not checked",
                         rest == 1 ? word : "");
            break;
        default: break;
        }
    }
    free(parsed);
    return rc;
}

/* A %pre, %post or %firstboot line: the section and its options. */
static int ks_section_line(struct ks_ctx *c, const struct ks_words *ws, enum ks_section s)
{
    c->section = s;
    c->busybox = true;
    const struct ks_option *table = s == KS_SEC_FIRSTBOOT ? ks_firstboot_opts : ks_prepost_opts;
    struct ks_parsed_opt *parsed = esx_malloc_array(ws->count, sizeof *parsed);
    if (!parsed)
        return esximg_err_set(c->err, ESXIMG_ENOMEM, "out of memory");
    size_t n, rest;
    const char *word;
    bool ok;
    int rc = ks_parse_options(c, ws->w[0], ws, table, parsed, &n, &rest, &word, &ok);
    if (!rc && rest)
        rc = ks_problem(c, "'%s' takes options only", ws->w[0]);
    const char *interp = ks_opt_value(parsed, n, "interpreter");
    if (!rc && interp && strcmp(interp, "busybox") && strcmp(interp, "python"))
        rc = ks_problem(c, "'%s': --interpreter must be busybox or python", ws->w[0]);
    c->busybox = !interp || strcmp(interp, "python");
    const char *timeout = ks_opt_value(parsed, n, "timeout");
    if (!rc && timeout && !ks_is_digits(timeout, 9))
        rc = ks_problem(c, "'%s': --timeout must be a number of seconds", ws->w[0]);
    const char *ignore = ks_opt_value(parsed, n, "ignorefailure");
    if (!rc && ignore && strcmp(ignore, "true") && strcmp(ignore, "false"))
        rc = ks_problem(c, "'%s': --ignorefailure must be true or false", ws->w[0]);
    free(parsed);
    return rc;
}

static bool ks_is_esxcli(const char *w)
{
    const char *base = strrchr(w, '/');
    base = base ? base + 1 : w;
    return !strcmp(base, "esxcli") || !strcmp(base, "localcli");
}

static int ks_firstboot_module(struct ks_ctx *c, const char *name)
{
    char q[80];
    esx_text_quote(name, strlen(name), q, sizeof q);
    if (!c->env) {
        if (c->noted_modules)
            return 0;
        c->noted_modules = true;
        return ks_note(c, "%%firstboot configures module '%s': whether the image has it is not "
                       "checked without --image", q);
    }
    if (!esximg_ks_env_has_module(c->env, name))
        return ks_problem(c, "%%firstboot configures module '%s', which the image does not "
                          "have: esxcli fails on the installed host", q);
    return 0;
}

/* esxcli system module ... -m NAME (or --module NAME, --module=NAME, -mNAME) */
static int ks_firstboot_esxcli(struct ks_ctx *c, const struct ks_words *ws, size_t at)
{
    if (at + 2 >= ws->count || strcmp(ws->w[at + 1], "system") || strcmp(ws->w[at + 2], "module"))
        return 0;
    for (size_t i = at + 3; i < ws->count; i++) {
        const char *w = ws->w[i];
        if (!strcmp(w, ";") || !strcmp(w, "&&") || !strcmp(w, "||") || !strcmp(w, "|"))
            return 0;
        const char *name = NULL;
        if ((!strcmp(w, "-m") || !strcmp(w, "--module")) && i + 1 < ws->count)
            name = ws->w[i + 1];
        else if (!strncmp(w, "--module=", 9))
            name = w + 9;
        else if (!strncmp(w, "-m", 2) && w[2] && w[2] != '-')
            name = w + 2;
        if (name) {
            /* a shell variable or substitution is known only when the script runs */
            if (strpbrk(name, "$`"))
                return 0;
            return ks_firstboot_module(c, name);
        }
    }
    return 0;
}

static int ks_script_line(struct ks_ctx *c, const struct ks_words *ws)
{
    if (!c->busybox || ws->count == 0)
        return 0;
    for (size_t i = 0; i < sizeof ks_installer_only / sizeof ks_installer_only[0]; i++)
        if (!strcmp(ws->w[0], ks_installer_only[i]))
            return ks_problem(c, "'%s' inside a %s section is run by the shell, not read by the "
                              "installer: kickstart commands come before the first section",
                              ws->w[0], c->section == KS_SEC_FIRSTBOOT ? "%firstboot" :
                              c->section == KS_SEC_PRE ? "%pre" : "%post");
    if (c->section != KS_SEC_FIRSTBOOT)
        return 0;
    for (size_t i = 0; i < ws->count; i++)
        if (ks_is_esxcli(ws->w[i])) {
            int rc = ks_firstboot_esxcli(c, ws, i);
            if (rc)
                return rc;
        }
    return 0;
}

static int ks_line(struct ks_ctx *c, const char *p, size_t n)
{
    struct ks_words ws;
    bool unterminated;
    int rc = ks_split(p, n, &ws, &unterminated, c->err);
    if (rc)
        return rc;
    bool header = ws.count && ws.w[0][0] == '%' && strcmp(ws.w[0], "%include");
    if (unterminated && (c->section == KS_SEC_COMMANDS || header)) {
        rc = ks_problem(c, "a quote is not closed");
    } else if (unterminated || ws.count == 0) {
        rc = 0;     /* a script's own quoting, or a blank or comment line */
    } else if (!strcmp(ws.w[0], "%pre")) {
        rc = ks_section_line(c, &ws, KS_SEC_PRE);
    } else if (!strcmp(ws.w[0], "%post")) {
        rc = ks_section_line(c, &ws, KS_SEC_POST);
    } else if (!strcmp(ws.w[0], "%firstboot")) {
        rc = ks_section_line(c, &ws, KS_SEC_FIRSTBOOT);
    } else if (c->section == KS_SEC_COMMANDS) {
        rc = ks_command_line(c, &ws);
    } else {
        rc = ks_script_line(c, &ws);
    }
    ks_words_free(&ws);
    return rc;
}

/* What the whole file must hold. */
static int ks_check_required(struct ks_ctx *c)
{
    c->line = 0;
    bool disk = c->first_line[KS_INSTALL] || c->first_line[KS_INSTALLORUPGRADE] ||
                c->first_line[KS_UPGRADE];
    bool installs = !c->first_line[KS_UPGRADE];
    int rc = 0;
    if (c->r->has_include) {
        if (!c->first_line[KS_EULA] || !disk || (installs && !c->first_line[KS_ROOTPW]))
            rc = ks_note(c, "vmaccepteula, the install command and rootpw are not all in the "
                         "file: they may come from the included file, which is not checked");
        return rc;
    }
    if (!c->first_line[KS_EULA])
        rc = ks_problem(c, "no vmaccepteula (or accepteula): the installer stops at the "
                        "license agreement");
    if (!rc && !disk)
        rc = ks_problem(c, "no install, upgrade or installorupgrade command: the installer "
                        "does not know which disk to use");
    if (!rc && installs && !c->first_line[KS_ROOTPW])
        rc = ks_problem(c, "no rootpw: an installation needs the root password");
    if (!rc && !c->first_line[KS_INSTALL]) {
        static const enum ks_kind need_install[] = {KS_CLEARPART, KS_PART};
        for (size_t i = 0; !rc && i < 2; i++) {
            c->line = c->first_line[need_install[i]];
            if (c->line)
                rc = ks_problem(c, "'%s' works only with 'install'",
                                need_install[i] == KS_PART ? "part" : "clearpart");
        }
    }
    return rc;
}

int esximg_ks_check(const void *data, size_t len, const struct esximg_ks_env *env,
                    struct esximg_ks_report **out, struct esximg_err *err)
{
    int rc = esx_text_check(data, len, ESX_MAX_KS_BYTES, "kickstart", err);
    if (rc)
        return rc;
    struct esximg_ks_report *r = calloc(1, sizeof *r);
    if (!r)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    struct ks_ctx c = {.env = env, .r = r, .err = err, .busybox = true};
    size_t pos = 0;
    struct esx_line line = {0};
    while (!rc && esx_text_next(data, len, &pos, &line)) {
        c.line = line.number;
        r->line_count = line.number;
        rc = ks_line(&c, line.p, line.len);
    }
    if (!rc)
        rc = ks_check_required(&c);
    if (rc) {
        esximg_ks_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void esximg_ks_report_free(struct esximg_ks_report *r)
{
    if (!r)
        return;
    esx_warnings_free(&r->problems);
    esx_warnings_free(&r->notes);
    free(r);
}

/* ---------------------------------------------------------------- what an image offers */

int esximg_ks_env_new(unsigned major, struct esximg_ks_env **out, struct esximg_err *err)
{
    struct esximg_ks_env *e = calloc(1, sizeof *e);
    if (!e)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    e->major = major;
    *out = e;
    return 0;
}

int esximg_ks_env_add_vib(struct esximg_ks_env *e, const struct esximg_descriptor *d,
                          struct esximg_err *err)
{
    const size_t dir_len = strlen(KS_VMKMOD_DIR);
    for (size_t i = 0; d && i < d->file_count; i++) {
        const char *f = d->files[i];
        if (f[0] == '/')
            f++;
        if (strncmp(f, KS_VMKMOD_DIR, dir_len) != 0)
            continue;
        const char *name = f + dir_len;
        if (!ks_is_module_name(name, strlen(name)) || esximg_ks_env_has_module(e, name))
            continue;
        char **grown = esx_realloc_array(e->modules, e->module_count + 1, sizeof *grown);
        if (!grown)
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        e->modules = grown;
        if (!(e->modules[e->module_count] = esx_strdup(name)))
            return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
        e->module_count++;
    }
    return 0;
}

int esximg_ks_env_from_image(const struct esximg_image *img, struct esximg_ks_env **out,
                             struct esximg_err *err)
{
    struct esximg_ks_env *e;
    int rc = esximg_ks_env_new(img->major, &e, err);
    for (size_t i = 0; !rc && i < img->vib_count; i++)
        rc = esximg_ks_env_add_vib(e, img->vibs[i].desc, err);
    if (rc) {
        esximg_ks_env_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

bool esximg_ks_env_has_module(const struct esximg_ks_env *e, const char *name)
{
    for (size_t i = 0; i < e->module_count; i++)
        if (!strcmp(e->modules[i], name))
            return true;
    return false;
}

bool esximg_ks_env_has_usb_nic(const struct esximg_ks_env *e)
{
    for (size_t i = 0; i < e->module_count; i++)
        if (!strncmp(e->modules[i], "vmkusb_nic", 10))
            return true;
    return false;
}

void esximg_ks_env_free(struct esximg_ks_env *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->module_count; i++)
        free(e->modules[i]);
    free(e->modules);
    free(e);
}

/* ---------------------------------------------------------------- writer */

/* A value written into a kickstart word or a single-quoted shell word: printable ASCII
 * without blanks, quotes, backslashes, '#', '$', '`', ';', '&', '|', '<' or '>'. */
static bool ks_is_plain(const char *s, bool blanks_ok)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f || strchr("'\"\\#$`;&|<>", ch) || (!blanks_ok && ch == ' '))
            return false;
    }
    return true;
}

static int ks_bad(struct esximg_err *err, const char *what, const char *value)
{
    char q[64];
    esx_text_quote(value, strlen(value), q, sizeof q);
    return esximg_err_set(err, ESXIMG_EINVAL, "%s '%s' is not valid", what, q);
}

static int ks_validate_network(const struct esximg_ks_opts *o, struct esximg_err *err)
{
    if (o->ip && !ks_is_ip(o->ip))
        return ks_bad(err, "IP address", o->ip);
    if (o->netmask && !ks_is_ipv4(o->netmask))
        return ks_bad(err, "netmask", o->netmask);
    if (o->gateway && !ks_is_ip(o->gateway))
        return ks_bad(err, "gateway", o->gateway);
    if (o->nameserver && !ks_is_ip_list(o->nameserver))
        return ks_bad(err, "name server", o->nameserver);
    if (o->hostname && !ks_is_hostname(o->hostname))
        return ks_bad(err, "host name", o->hostname);
    if (!o->ip && (o->netmask || o->gateway || o->nameserver || o->hostname))
        return esximg_err_set(err, ESXIMG_EINVAL, "a netmask, gateway, name server or host "
                              "name needs a static IP address");
    if (o->nic && !ks_is_nic_named(o->nic, "vmnic") && !ks_is_nic_named(o->nic, "vusb") &&
        !ks_is_mac(o->nic))
        return ks_bad(err, "NIC (vmnicN, vusbN or a MAC address)", o->nic);
    if (o->has_vlan && o->vlan > 4095)
        return esximg_err_set(err, ESXIMG_EINVAL, "VLAN %u is not within 0..4095", o->vlan);
    return 0;
}

static int ks_validate(const struct esximg_ks_opts *o, struct esximg_err *err)
{
    if (!o->rootpw_hash || !esximg_ks_is_crypt_hash(o->rootpw_hash))
        return esximg_err_set(err, ESXIMG_EINVAL, "the root password hash is no $1$, $5$ or "
                              "$6$ crypt hash");
    if (o->disk && (!o->disk[0] || strlen(o->disk) > KS_MAX_NAME || !ks_is_plain(o->disk, false)))
        return ks_bad(err, "disk", o->disk);
    int rc = ks_validate_network(o, err);
    for (size_t i = 0; !rc && i < o->module_param_count; i++) {
        const char *mp = o->module_params[i];
        const char *colon = strchr(mp, ':');
        if (!colon || !ks_is_module_name(mp, (size_t)(colon - mp)) || !ks_is_plain(colon + 1, true))
            rc = ks_bad(err, "module parameters (MODULE:PARAMS)", mp);
    }
    for (size_t i = 0; !rc && i < o->disabled_module_count; i++) {
        const char *m = o->disabled_modules[i];
        if (!ks_is_module_name(m, strlen(m)))
            rc = ks_bad(err, "module", m);
    }
    for (size_t i = 0; !rc && i < o->kernelopt_count; i++) {
        const char *k = o->kernelopts[i];
        const char *eq = strchr(k, '=');
        if (!eq || eq == k || !ks_is_module_name(k, (size_t)(eq - k)) || !eq[1] ||
            !ks_is_plain(eq + 1, false))
            rc = ks_bad(err, "kernel option (KEY=VALUE)", k);
    }
    for (size_t i = 0; !rc && i < o->firstboot_len; i++)
        if (o->firstboot[i] == '\0')
            rc = esximg_err_set(err, ESXIMG_EINVAL, "the %%firstboot text holds a NUL byte");
    return rc;
}

static int ks_write_network(struct esx_buf *b, const struct esximg_ks_opts *o,
                            struct esximg_err *err)
{
    int rc = esx_buf_printf(b, err, "network --bootproto=%s", o->ip ? "static" : "dhcp");
    if (!rc && o->nic)
        rc = esx_buf_printf(b, err, " --device=%s", o->nic);
    const char *const names[] = {"ip", "netmask", "gateway", "nameserver", "hostname"};
    const char *const values[] = {o->ip, o->netmask, o->gateway, o->nameserver, o->hostname};
    for (size_t i = 0; !rc && i < 5; i++)
        if (values[i])
            rc = esx_buf_printf(b, err, " --%s=%s", names[i], values[i]);
    if (!rc && o->has_vlan)
        rc = esx_buf_printf(b, err, " --vlanid=%u", o->vlan);
    return rc ? rc : esx_buf_puts(b, "\n", err);
}

static int ks_write_firstboot(struct esx_buf *b, const struct esximg_ks_opts *o,
                              struct esximg_err *err)
{
    int rc = esx_buf_puts(b, "\n%firstboot --interpreter=busybox\n", err);
    for (size_t i = 0; !rc && i < o->module_param_count; i++) {
        const char *mp = o->module_params[i];
        const char *colon = strchr(mp, ':');
        rc = esx_buf_printf(b, err, "esxcli system module parameters set -m %.*s -p '%s'\n",
                            (int)(colon - mp), mp, colon + 1);
    }
    for (size_t i = 0; !rc && i < o->disabled_module_count; i++)
        rc = esx_buf_printf(b, err, "esxcli system module set --enabled=false -m %s\n",
                            o->disabled_modules[i]);
    for (size_t i = 0; !rc && i < o->kernelopt_count; i++) {
        const char *k = o->kernelopts[i];
        const char *eq = strchr(k, '=');
        rc = esx_buf_printf(b, err, "esxcli system settings kernel set -s %.*s -v '%s'\n",
                            (int)(eq - k), k, eq + 1);
    }
    if (!rc && o->firstboot_len) {
        rc = esx_buf_append(b, o->firstboot, o->firstboot_len, err);
        if (!rc && o->firstboot[o->firstboot_len - 1] != '\n')
            rc = esx_buf_puts(b, "\n", err);
    }
    return rc;
}

int esximg_ks_write(const struct esximg_ks_opts *o, char **out, size_t *len,
                    struct esximg_err *err)
{
    int rc = ks_validate(o, err);
    if (rc)
        return rc;
    struct esx_buf b;
    esx_buf_init(&b, (size_t)ESX_MAX_KS_BYTES);
    rc = esx_buf_puts(&b, "# ESXi installation script written by esximg ks\n"
                      "vmaccepteula\n", err);
    if (!rc && (!o->disk || !strcmp(o->disk, "first")))
        rc = esx_buf_puts(&b, "install --firstdisk --overwritevmfs\n", err);
    else if (!rc)
        rc = esx_buf_printf(&b, err, "install --disk=%s --overwritevmfs\n", o->disk);
    bool network = o->network || o->ip || o->nic || o->has_vlan;
    if (!rc && network)
        rc = ks_write_network(&b, o, err);
    if (!rc)
        rc = esx_buf_printf(&b, err, "reboot\nrootpw --iscrypted %s\n", o->rootpw_hash);
    if (!rc && (o->module_param_count || o->disabled_module_count || o->kernelopt_count ||
                o->firstboot_len))
        rc = ks_write_firstboot(&b, o, err);
    if (rc) {
        esx_buf_free(&b);
        return rc;
    }
    *out = esx_buf_take(&b, len);
    return 0;
}

int esximg_ks_hash_password(const char *password, const uint8_t salt[16], char **hash,
                            struct esximg_err *err)
{
    static const char alphabet[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if (!password || !password[0])
        return esximg_err_set(err, ESXIMG_EINVAL, "the password is empty");
    for (const char *p = password; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return esximg_err_set(err, ESXIMG_EINVAL, "the password holds a control character");
    char setting[3 + 16 + 1] = "$6$";
    for (size_t i = 0; i < 16; i++)
        setting[3 + i] = alphabet[salt[i] & 63];       /* 256 is a multiple of 64: no bias */
    setting[19] = '\0';
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    const char *h = crypt_r(password, setting, cd);
    int rc = 0;
    if (!h || h[0] == '*' || !esximg_ks_is_crypt_hash(h))
        rc = esximg_err_set(err, ESXIMG_EUNSUPPORTED, "crypt(3) cannot make a SHA-512 hash");
    else if (!(*hash = esx_strdup(h)))
        rc = esximg_err_set(err, ESXIMG_ENOMEM, "out of memory");
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return rc;
}
