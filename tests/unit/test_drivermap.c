/* test_drivermap.c: driver map lines, map classes and the matcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esximg/drivermap.h"
#include "testutil.h"

static struct esximg_drivermap *read_map(const char *text, const char *path)
{
    struct esximg_drivermap *m = NULL;
    struct esximg_err err = {0};
    struct esximg_drivermap_ropts o = {.path = path};
    if (esximg_drivermap_read(text, strlen(text), &o, &m, &err) != 0)
        fail_msg("read failed: %s", err.msg);
    return m;
}

static void drivermap_reads_every_form(void **state)
{
    (void)state;
    struct esximg_drivermap *m = read_map(
        "# comment\n"
        "\n"
        "regtype=native,bus=pci,id=8086105e8086005e......,driver=ne1000\r\n"
        "regtype=native,bus=pci,id=................010802,driver=nvme\n"
        "regtype=linux,bus=pci,id=8086:100E 0000:0000,driver=e1000,class=network\n"
        "regtype=linux,bus=pci,id=1000:005b 1028:1f2d,driver=megaraid_sas,class=storage\n"
        "regtype=native,bus=acpi,id=PNP0D10,driver=vmkusb\n"
        " regtype=native , bus=logical,id=com.vmware.uplink,driver=vmkernel,flags=x ",
        "etc/vmware/default.map.d/x.map");
    assert_int_equal(m->map_class, ESXIMG_MAP_NATIVE);
    assert_string_equal(m->path, "etc/vmware/default.map.d/x.map");
    assert_int_equal(m->warnings.count, 0);
    assert_int_equal(m->entry_count, 6);
    const struct esximg_map_entry *e = m->entries;
    assert_int_equal(e[0].line, 3);
    assert_string_equal(e[0].regtype, "native");
    assert_string_equal(e[0].bus, "pci");
    assert_string_equal(e[0].driver, "ne1000");
    assert_null(e[0].class_name);
    assert_string_equal(e[0].pci_pattern, "8086105e8086005e......");
    assert_string_equal(e[1].pci_pattern, "................010802");
    assert_string_equal(e[2].id, "8086:100E 0000:0000");
    assert_string_equal(e[2].pci_pattern, "8086100e..............");
    assert_string_equal(e[2].class_name, "network");
    assert_string_equal(e[3].pci_pattern, "1000005b10281f2d......");
    assert_string_equal(e[4].id, "PNP0D10");
    assert_string_equal(e[4].pci_pattern, "");
    assert_string_equal(e[5].regtype, "native");
    assert_string_equal(e[5].id, "com.vmware.uplink");
    assert_int_equal(e[5].extra_count, 1);
    assert_string_equal(e[5].extras[0].key, "flags");
    assert_string_equal(e[5].extras[0].value, "x");
    esximg_drivermap_free(m);
}

static void drivermap_skips_malformed_lines(void **state)
{
    (void)state;
    static const char text[] =
        "regtype=native,bus=pci,id=8086105e8086005e.....,driver=a\n"     /* 21 characters */
        "regtype=native,bus=pci,id=8086105e8086005e.......,driver=a\n"   /* 23 characters */
        "regtype=native,bus=pci,id=8086105g..............,driver=a\n"    /* bad hex */
        "regtype=native,bus=pci,id=8086105e..............\n"             /* no driver */
        "regtype=native,bus=pci,id=8086105e..............,driver=\n"     /* empty driver */
        "regtype=native,bus=pci,driver=a\n"                              /* no id */
        "bus=pci,id=8086105e..............,driver=a\n"                   /* no regtype */
        "regtype=native,bus=pci,id=8086105e..............,driver=a,driver=b\n"
        "regtype=native,pci,id=8086105e..............,driver=a\n"        /* field without = */
        "regtype=linux,bus=pci,id=8086:100e,driver=a\n"                  /* no subsystem */
        "regtype=linux,bus=pci,id=8086:100e 0000:00000,driver=a\n"
        "regtype=native,bus=pci,id=8086105e..............,driver=a,\n"   /* empty field */
        "regtype=native,bus=pci,id=8086105e..............,driver=ok\n";
    struct esximg_drivermap *m = read_map(text, NULL);
    assert_int_equal(m->map_class, ESXIMG_MAP_UNKNOWN);
    assert_null(m->path);
    assert_int_equal(m->entry_count, 1);
    assert_string_equal(m->entries[0].driver, "ok");
    assert_int_equal(m->entries[0].line, 13);
    assert_int_equal(m->warnings.count, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(m->warnings.items[i].line, i + 1);
    assert_non_null(strstr(m->warnings.items[3].msg, "missing driver="));
    assert_non_null(strstr(m->warnings.items[7].msg, "repeated key"));
    assert_non_null(strstr(m->warnings.items[0].msg, "22 hex"));
    esximg_drivermap_free(m);
    /* strict: the first one is an error */
    struct esximg_drivermap_ropts o = {.strict = true};
    struct esximg_err err = {0};
    assert_int_equal(esximg_drivermap_read(text, sizeof text - 1, &o, &m, &err), ESXIMG_EFORMAT);
    assert_non_null(strstr(err.msg, "line 1"));
}

static void drivermap_edge_files(void **state)
{
    (void)state;
    struct esximg_drivermap *m = read_map("", NULL);
    assert_int_equal(m->entry_count, 0);
    esximg_drivermap_free(m);
    m = read_map("regtype=native,bus=pci,id=15ad07b0..............,driver=nvmxnet3", NULL);
    assert_int_equal(m->entry_count, 1);
    assert_string_equal(m->entries[0].driver, "nvmxnet3");
    esximg_drivermap_free(m);
    /* a line of thousands of extra fields, just under the line limit */
    char *line = malloc(65536 + 1);
    size_t used = (size_t)snprintf(line, 65537, "regtype=native,bus=pci,id=%s,driver=d",
                                   "15ad07b0..............");
    size_t extras = 0;
    while (used + 5 <= 65536) {
        memcpy(line + used, ",k=v", 5);
        used += 4;
        extras++;
    }
    m = read_map(line, NULL);
    assert_int_equal(m->entry_count, 1);
    assert_int_equal(m->entries[0].extra_count, extras);
    assert_string_equal(m->entries[0].extras[extras - 1].key, "k");
    esximg_drivermap_free(m);
    free(line);
    struct esximg_err err = {0};
    static const char nul[] = "regtype=native,bus=pci,id=15ad07b0..............,driver=a\0b";
    assert_int_equal(esximg_drivermap_read(nul, sizeof nul - 1, NULL, &m, &err), ESXIMG_EFORMAT);
    size_t n = 1u << 20;
    char *big = malloc(n);
    memset(big, 'a', n);
    assert_int_equal(esximg_drivermap_read(big, n, NULL, &m, &err), ESXIMG_ELIMIT);
    free(big);
}

static void drivermap_class_from_path(void **state)
{
    (void)state;
    assert_int_equal(esximg_map_class_from_path("etc/vmware/oem.map.d/vmkernel.map"),
                     ESXIMG_MAP_OEM);
    assert_int_equal(esximg_map_class_from_path("/x/etc/vmware/ihv.map.d/a.map"), ESXIMG_MAP_IHV);
    assert_int_equal(esximg_map_class_from_path("default.map.d/a.map"), ESXIMG_MAP_NATIVE);
    assert_int_equal(esximg_map_class_from_path("etc/vmware/driver.map.d/e1000e.map"),
                     ESXIMG_MAP_VMKLINUX);
    assert_int_equal(esximg_map_class_from_path("etc/vmware/fallback.map.d/e.map"),
                     ESXIMG_MAP_FALLBACK);
    assert_int_equal(esximg_map_class_from_path("usr/share/hwdata/driver.pciids.d/e.ids"),
                     ESXIMG_MAP_VMKLINUX);
    assert_int_equal(esximg_map_class_from_path("etc/vmware/xdefault.map.d/a.map"),
                     ESXIMG_MAP_UNKNOWN);
    assert_int_equal(esximg_map_class_from_path("etc/vmware/default.map.d"), ESXIMG_MAP_UNKNOWN);
    assert_int_equal(esximg_map_class_from_path("a.map"), ESXIMG_MAP_UNKNOWN);
    assert_int_equal(esximg_map_class_from_path(NULL), ESXIMG_MAP_UNKNOWN);
    assert_string_equal(esximg_map_class_name(ESXIMG_MAP_VMKLINUX), "vmklinux");
    assert_string_equal(esximg_map_class_name(ESXIMG_MAP_NATIVE), "native");
    assert_string_equal(esximg_map_class_name(ESXIMG_MAP_UNKNOWN), "unknown");
}

static const struct esximg_pci_device dev_10d3 = {
    .vendor = 0x8086, .device = 0x10d3, .subvendor = 0x8086, .subdevice = 0xa01f,
    .class_code = 0x0200, .progif = 0, .has_subsys = true, .has_class = true, .has_progif = true,
};

/* What the test looks at once the match is freed. */
static struct {
    unsigned specificity;
    bool progif_assumed;
    size_t line;
} won;

/* Matches the device against the maps and returns the winner's driver (NULL when none);
 * w->claim is cleared since it pointed into the freed match, the rest goes to `won`. */
static const char *winner(struct esximg_drivermap **maps, size_t n,
                          const struct esximg_pci_device *dev, struct esximg_map_winner *w,
                          size_t *claims)
{
    struct esximg_map_match *m = NULL;
    assert_int_equal(esximg_drivermap_match((const struct esximg_drivermap *const *)maps, n,
                                            dev, &m, NULL), 0);
    esximg_drivermap_pick(m, w);
    static char name[64];
    name[0] = '\0';
    bool found = w->claim != NULL;
    if (found) {
        snprintf(name, sizeof name, "%s", w->claim->entry->driver);
        won.specificity = w->claim->specificity;
        won.progif_assumed = w->claim->progif_assumed;
        won.line = w->claim->entry->line;
    }
    if (claims)
        *claims = m->claim_count;
    esximg_map_match_free(m);
    w->claim = NULL;
    return found ? name : NULL;
}

static void drivermap_priority_order(void **state)
{
    (void)state;
    struct esximg_drivermap *maps[5] = {
        read_map("regtype=native,bus=pci,id=..............................,driver=bad\n"
                 "regtype=native,bus=pci,id=808610d3..............,driver=fb\n",
                 "etc/vmware/fallback.map.d/fb.map"),
        read_map("regtype=linux,bus=pci,id=8086:10d3 0000:0000,driver=vmkl,class=network\n",
                 "etc/vmware/driver.map.d/vmkl.map"),
        read_map("regtype=native,bus=pci,id=808610d3..............,driver=nat\n",
                 "etc/vmware/default.map.d/nat.map"),
        read_map("regtype=native,bus=pci,id=808610d3..............,driver=ihv\n",
                 "etc/vmware/ihv.map.d/ihv.map"),
        read_map("regtype=native,bus=pci,id=8086....................,driver=oem\n",
                 "etc/vmware/oem.map.d/oem.map"),
    };
    assert_int_equal(maps[0]->warnings.count, 1);   /* the 30-character id */
    struct esximg_map_winner w;
    size_t claims;
    /* the oem entry is 24 characters: skipped, so ihv wins over native (inferred) */
    assert_int_equal(maps[4]->entry_count, 0);
    assert_string_equal(winner(maps, 5, &dev_10d3, &w, &claims), "ihv");
    assert_int_equal(claims, 4);
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_CLASS);
    assert_true(w.inferred);
    esximg_drivermap_free(maps[4]);
    maps[4] = read_map("regtype=native,bus=pci,id=8086..................,driver=oem\n",
                       "etc/vmware/oem.map.d/oem.map");
    assert_string_equal(winner(maps, 5, &dev_10d3, &w, &claims), "oem");
    assert_int_equal(claims, 5);
    assert_true(w.inferred);        /* the runner-up is ihv */
    /* without ihv: oem over native is documented */
    assert_string_equal(winner((struct esximg_drivermap *[]){maps[0], maps[1], maps[2], maps[4]},
                               4, &dev_10d3, &w, NULL), "oem");
    assert_false(w.inferred);
    assert_string_equal(winner(maps, 3, &dev_10d3, &w, NULL), "nat");
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_CLASS);
    assert_false(w.inferred);
    assert_string_equal(winner(maps, 2, &dev_10d3, &w, NULL), "vmkl");
    assert_false(w.inferred);
    assert_string_equal(winner(maps, 1, &dev_10d3, &w, NULL), "fb");
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_ONE_DRIVER);
    struct esximg_pci_device other = dev_10d3;
    other.vendor = 0x1234;
    assert_null(winner(maps, 4, &other, &w, &claims));
    assert_int_equal(claims, 0);
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_NONE);
    for (size_t i = 0; i < 5; i++)
        esximg_drivermap_free(maps[i]);
}

static void drivermap_specific_beats_generic_inferred(void **state)
{
    (void)state;
    struct esximg_drivermap *maps[1] = {read_map(
        "regtype=native,bus=pci,id=808610d3..............,driver=generic\n"
        "regtype=native,bus=pci,id=808610d38086a01f......,driver=special\n"
        "regtype=native,bus=pci,id=808610d38086ffff......,driver=other\n",
        "etc/vmware/default.map.d/x.map")};
    struct esximg_map_winner w;
    size_t claims;
    assert_string_equal(winner(maps, 1, &dev_10d3, &w, &claims), "special");
    assert_int_equal(claims, 2);
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_SPECIFICITY);
    assert_int_equal(won.specificity, 16);
    assert_true(w.inferred);
    /* no subsystem known: only the generic entry claims it */
    struct esximg_pci_device nosub = dev_10d3;
    nosub.has_subsys = false;
    assert_string_equal(winner(maps, 1, &nosub, &w, &claims), "generic");
    assert_int_equal(claims, 1);
    esximg_drivermap_free(maps[0]);
    /* same class, same specificity: the first driver name, inferred */
    maps[0] = read_map("regtype=native,bus=pci,id=808610d3..............,driver=zeta\n"
                       "regtype=native,bus=pci,id=808610d3..............,driver=alpha\n",
                       "etc/vmware/default.map.d/x.map");
    assert_string_equal(winner(maps, 1, &dev_10d3, &w, NULL), "alpha");
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_DRIVER_NAME);
    assert_true(w.inferred);
    esximg_drivermap_free(maps[0]);
    /* one driver with a generic and a specific entry: nothing to infer */
    maps[0] = read_map("regtype=native,bus=pci,id=808610d3..............,driver=ne1000\n"
                       "regtype=native,bus=pci,id=808610d38086a01f......,driver=ne1000\n",
                       "etc/vmware/default.map.d/ne1000.map");
    assert_string_equal(winner(maps, 1, &dev_10d3, &w, &claims), "ne1000");
    assert_int_equal(claims, 2);
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_ONE_DRIVER);
    assert_false(w.inferred);
    assert_int_equal(won.line, 2);
    esximg_drivermap_free(maps[0]);
}

static void drivermap_class_only_and_acpi(void **state)
{
    (void)state;
    struct esximg_drivermap *maps[1] = {read_map(
        "regtype=native,bus=acpi,id=010601,driver=acpi_ahci\n"
        "regtype=native,bus=pci,id=................010601,driver=vmw_ahci\n"
        "regtype=native,bus=pci,id=................0106..,driver=any_sata\n"
        "regtype=native,bus=pci,id=1b21..........................,driver=x\n",
        "etc/vmware/default.map.d/vmw_ahci.map")};
    struct esximg_pci_device ahci = {.vendor = 0x1b21, .device = 0x0612, .class_code = 0x0106,
                                     .progif = 0x01, .has_class = true, .has_progif = true};
    struct esximg_map_winner w;
    size_t claims;
    assert_string_equal(winner(maps, 1, &ahci, &w, &claims), "vmw_ahci");
    assert_int_equal(claims, 2);        /* never the acpi entry */
    assert_false(won.progif_assumed);
    /* another prog-if: only the class-wide entry */
    ahci.progif = 0x00;
    assert_string_equal(winner(maps, 1, &ahci, &w, &claims), "any_sata");
    assert_int_equal(claims, 1);
    /* unknown prog-if: matches, flagged */
    ahci.has_progif = false;
    assert_string_equal(winner(maps, 1, &ahci, &w, &claims), "vmw_ahci");
    assert_true(won.progif_assumed);
    /* unknown class: no class-only entry claims it */
    ahci.has_class = false;
    assert_null(winner(maps, 1, &ahci, &w, &claims));
    /* the acpi id never matches, whatever the device */
    bool assumed = false;
    struct esximg_pci_device d = {.vendor = 0x0106, .device = 0x01};
    assert_false(esximg_map_entry_matches(&maps[0]->entries[0], &d, &assumed));
    esximg_drivermap_free(maps[0]);
}

static void drivermap_vmklinux_subsystems(void **state)
{
    (void)state;
    struct esximg_drivermap *maps[1] = {read_map(
        "regtype=linux,bus=pci,id=1000:005b 1028:1f2d,driver=dell_only,class=storage\n"
        "regtype=linux,bus=pci,id=1000:005b 0000:0000,driver=any,class=storage\n",
        "etc/vmware/driver.map.d/m.map")};
    struct esximg_pci_device dev = {.vendor = 0x1000, .device = 0x005b, .subvendor = 0x1028,
                                    .subdevice = 0x1f2d, .has_subsys = true};
    struct esximg_map_winner w;
    size_t claims;
    assert_string_equal(winner(maps, 1, &dev, &w, &claims), "dell_only");
    assert_int_equal(claims, 2);
    assert_true(w.inferred);
    dev.subdevice = 0x1f2e;
    assert_string_equal(winner(maps, 1, &dev, &w, &claims), "any");
    assert_int_equal(claims, 1);
    dev.has_subsys = false;
    assert_string_equal(winner(maps, 1, &dev, &w, &claims), "any");
    assert_int_equal(claims, 1);
    char id[23];
    esximg_pci_device_id22(&dev, id);
    assert_string_equal(id, "1000005b..............");
    esximg_pci_device_id22(&dev_10d3, id);
    assert_string_equal(id, "808610d38086a01f020000");
    esximg_drivermap_free(maps[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drivermap_reads_every_form),
        cmocka_unit_test(drivermap_skips_malformed_lines),
        cmocka_unit_test(drivermap_edge_files),
        cmocka_unit_test(drivermap_class_from_path),
        cmocka_unit_test(drivermap_priority_order),
        cmocka_unit_test(drivermap_specific_beats_generic_inferred),
        cmocka_unit_test(drivermap_class_only_and_acpi),
        cmocka_unit_test(drivermap_vmklinux_subsystems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
