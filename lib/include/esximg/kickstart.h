/* esximg/kickstart.h: ESXi kickstart files (the installer's "installation and upgrade
 * script", ks.cfg): a writer from options and a checker that reads a file as ESXi's installer
 * does and names each line it would reject or that cannot work.
 *
 * The commands, their options and the order of a written file follow VMware's documentation
 * of the installation script commands for ESXi 6.7, 7.0 and 8.0 (docs/kickstart-rules.md
 * lists them with their sources).  The checker needs no image; given what an image holds
 * (esximg_ks_env), it also checks what depends on it: a `--device=vusbN` needs a USB NIC
 * driver, a module that %firstboot configures must be in the image, an option that a release
 * added must be supported by the image's release. */
#ifndef ESXIMG_KICKSTART_H
#define ESXIMG_KICKSTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esximg/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest kickstart read (ESXi's own default ks.cfg is half a KiB). */
#define ESXIMG_KS_MAX_BYTES ((uint64_t)1 << 20)

struct esximg_image;            /* esximg/image.h */
struct esximg_descriptor;       /* esximg/vib.h */

/* ---------------------------------------------------------------- writer */

struct esximg_ks_opts {
    const char *rootpw_hash;        /* a crypt(3) hash ($1$, $5$ or $6$): rootpw --iscrypted */
    const char *disk;               /* NULL or "first": install --firstdisk; else --disk=NAME */
    /* network: a line is written when `network` is set or any of ip, nic, has_vlan is;
     * DHCP unless `ip` is set (then static, with netmask, gateway, nameserver and hostname
     * when given) */
    bool network;
    const char *ip, *netmask, *gateway, *nameserver, *hostname;
    const char *nic;                /* --device=: vmnicN, a MAC address or vusbN; NULL: none */
    bool has_vlan;
    unsigned vlan;                  /* --vlanid=, 0..4095 */
    /* %firstboot: "MODULE:PARAMS" set with esxcli system module parameters set */
    const char *const *module_params;
    size_t module_param_count;
    /* %firstboot: modules disabled with esxcli system module set --enabled=false */
    const char *const *disabled_modules;
    size_t disabled_module_count;
    /* %firstboot: "KEY=VALUE" kernel settings of the installed host (esxcli system settings
     * kernel set) */
    const char *const *kernelopts;
    size_t kernelopt_count;
    /* %firstboot: lines appended after the generated ones, verbatim (may be NULL) */
    const char *firstboot;
    size_t firstboot_len;
};

/* Writes a kickstart: vmaccepteula, install, network, reboot, rootpw (the documentation's
 * order), then one %firstboot --interpreter=busybox section when there is anything to do
 * first boot.  Every value is checked (EINVAL naming the option): no blanks, quotes,
 * control characters or shell metacharacters where the file or the script would read them
 * otherwise.  The output depends only on the options. */
int esximg_ks_write(const struct esximg_ks_opts *o, char **out, size_t *len,
                    struct esximg_err *err);

/* The SHA-512 crypt ($6$) hash of `password` (crypt(3)), with a salt of 16 characters made
 * from the 16 `salt` bytes the caller drew (the library reads no randomness: a fixed salt
 * would make equal passwords give equal hashes).  EINVAL for an empty password or one
 * holding a control character. */
int esximg_ks_hash_password(const char *password, const uint8_t salt[16], char **hash,
                            struct esximg_err *err);

/* Whether s is a crypt hash the ESXi installer takes for rootpw --iscrypted:
 * $1$ (MD5), $5$ (SHA-256) or $6$ (SHA-512), an optional rounds=N$, a salt and a hash of
 * the crypt alphabet [./0-9A-Za-z]. */
bool esximg_ks_is_crypt_hash(const char *s);

/* ---------------------------------------------------------------- what an image offers */

struct esximg_ks_env {
    unsigned major;                 /* the image's ESXi major version; 0: unknown */
    size_t module_count;
    char **modules;                 /* kernel module names (usr/lib/vmware/vmkmod/NAME) */
};

int esximg_ks_env_new(unsigned major, struct esximg_ks_env **out, struct esximg_err *err);
/* Adds the kernel modules a VIB ships (its file-list entries under usr/lib/vmware/vmkmod/). */
int esximg_ks_env_add_vib(struct esximg_ks_env *e, const struct esximg_descriptor *d,
                          struct esximg_err *err);
/* The modules of every VIB of an image, and its major version. */
int esximg_ks_env_from_image(const struct esximg_image *img, struct esximg_ks_env **out,
                             struct esximg_err *err);
bool esximg_ks_env_has_module(const struct esximg_ks_env *e, const char *name);
/* A USB NIC driver: a module named vmkusb_nic* (the USB Network Native Driver Fling's
 * vmkusb_nic_fling), which names its NICs vusbN. */
bool esximg_ks_env_has_usb_nic(const struct esximg_ks_env *e);
void esximg_ks_env_free(struct esximg_ks_env *e);

/* ---------------------------------------------------------------- checker */

struct esximg_ks_report {
    /* What the installer would reject, or what cannot work: each with its 1-based line
     * (0 for what the file lacks: no vmaccepteula, no install, no rootpw). */
    struct esximg_warnings problems;
    /* What was not checked, and why (an %include, no image given), line-numbered too. */
    struct esximg_warnings notes;
    size_t line_count;
    bool has_include;               /* an %include / include line: commands may come from it */
};

/* Reads a kickstart as ESXi's installer does (commands first, then %pre, %post and
 * %firstboot sections; shell-like words; # comments) and lists its problems.  env may be
 * NULL: the checks that need an image become notes.  Fails only on input that is no text
 * (a NUL byte: EFORMAT), too large (1 MiB: ELIMIT) or on ENOMEM. */
int esximg_ks_check(const void *data, size_t len, const struct esximg_ks_env *env,
                    struct esximg_ks_report **out, struct esximg_err *err);
void esximg_ks_report_free(struct esximg_ks_report *r);

#ifdef __cplusplus
}
#endif
#endif
