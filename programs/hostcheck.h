/* hostcheck.h: the device check of `esximg hcl`, shared with `esximg upgrade-check`. */
#ifndef HOSTCHECK_H
#define HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "esximg/esximg.h"
#include "json.h"

/* One device to check: from a host file (with its slot, names and driver now) or --pci. */
struct hcl_device {
    const char *slot;
    const char *host_name;          /* what the host output called it */
    struct esximg_pci_device pci;
    struct esximg_host_device host; /* a copy: pointers borrowed from the host list */
    struct esximg_device_verdict verdict;   /* its image result moved to `result` */
    struct esximg_hcl_result result;
};

struct hcl_run {
    const char *file;                   /* the image, as named */
    const struct esximg_image *img;     /* borrowed */
    struct esximg_image_drivers *drivers;
    struct esximg_hostpci *host;        /* every --host file, merged */
    struct esximg_modlist *modules;     /* --host-modules */
    struct cli_list disabled;           /* --disable, then the host's disabled modules */
    size_t warning_count;
    char **warnings;                    /* "FILE: line N: why" of the host files */
    bool has_now;                       /* some device's driver now is known */
    size_t count;
    struct hcl_device *devices;
    size_t nic_total, nic_driven, disk_total, disk_driven, unknown_total, unknown_driven;
    size_t loses;
};

/* Adds a device to check: from a host list (host not NULL: its slot, names and driver now
 * borrowed) or --pci. CLI exit status. */
int hostcheck_add_device(struct hcl_run *run, const char *slot, const char *name,
                         const struct esximg_pci_device *pci,
                         const struct esximg_host_device *host);
/* A module judged as disabled on the host (--disable): borrowed. */
int hostcheck_add_disabled(struct hcl_run *run, const char *module);
/* Reads the host files (merged by slot) and the host's `esxcli system module list`
 * (modules may be NULL), in that order; messages printed, CLI exit status. */
int hostcheck_read_inputs(struct hcl_run *run, const struct cli_list *hosts, const char *modules);
/* Judges every device against the image (borrowed), and counts them; prints the warnings
 * unless quiet_warnings (JSON carries them). CLI exit status. */
int hostcheck_judge(struct hcl_run *run, const char *file, const struct esximg_image *img,
                    bool quiet_warnings);
/* Every network, storage and unknown device driven, none the host drives now losing it. */
bool hostcheck_all_driven(const struct hcl_run *run);
/* The installer's own words for what stops it, or NULL. */
const char *hostcheck_headline(const struct hcl_run *run);
/* The disabled modules, the device table, the counts, the notes and the headline. */
void hostcheck_print_text(const struct hcl_run *run);
/* The members machine, machine_from_kernel, disabled, devices, summary, headline and
 * warnings, into the open object of j (docs/json.md, hcl). */
void hostcheck_print_json(const struct hcl_run *run, struct json *j);
void hostcheck_free(struct hcl_run *run);

#endif
