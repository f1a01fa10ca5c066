/* samples_text.c: the real BOOT.CFG, map and .ids files of the samples folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esximg/bootcfg.h"
#include "esximg/drivermap.h"
#include "esximg/pciids.h"
#include "testutil.h"

/* The path below the samples folder. */
static const char *rel_path(const char *path)
{
    size_t n = strlen(tu_samples_dir());
    return path[n] == '/' ? path + n + 1 : path;
}

static bool is_bootcfg_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return !strncasecmp(base, "boot.cfg", 8);
}

static struct esximg_bootcfg *read_bootcfg(const char *rel, uint8_t **bytes, size_t *len)
{
    char *path = tu_sample_path(rel);
    struct esximg_bootcfg *c = NULL;
    struct esximg_err err = {0};
    tu_read_file(path, bytes, len);
    if (esximg_bootcfg_read(*bytes, *len, NULL, &c, &err) != 0)
        fail_msg("%s: %s", rel, err.msg);
    free(path);
    return c;
}

static void samples_bootcfg_round_trip(void **state)
{
    (void)state;
    char **paths;
    size_t n = tu_find_files(tu_samples_dir(), "", &paths), seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_bootcfg_name(paths[i]))
            continue;
        uint8_t *bytes;
        size_t len;
        struct esximg_bootcfg *c = read_bootcfg(rel_path(paths[i]), &bytes, &len);
        char *out;
        size_t out_len;
        assert_int_equal(esximg_bootcfg_write(c, &out, &out_len, NULL), 0);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, bytes, len);
        if (c->warnings.count)
            fail_msg("%s: warning '%s'", paths[i], c->warnings.items[0].msg);
        assert_true(esximg_bootcfg_find(c, "kernel") >= 0);
        printf("%s: %zu lines, round trip identical\n", rel_path(paths[i]), c->line_count);
        free(out);
        free(bytes);
        esximg_bootcfg_free(c);
        seen++;
    }
    tu_free_list(paths, n);
    assert_int_equal(seen, 7);
}

static void expect_modules(const char *rel, size_t count, const char *first, const char *last)
{
    uint8_t *bytes;
    size_t len;
    struct esximg_bootcfg *c = read_bootcfg(rel, &bytes, &len);
    struct esximg_bootcfg_modules *m;
    assert_int_equal(esximg_bootcfg_modules_get(c, &m, NULL), 0);
    assert_int_equal(m->count, count);
    assert_string_equal(m->items[0].path, first);
    assert_string_equal(m->items[count - 1].path, last);
    for (size_t i = 0; i < count; i++)
        assert_null(m->items[i].args);
    esximg_bootcfg_modules_free(m);
    esximg_bootcfg_free(c);
    free(bytes);
}

static void samples_bootcfg_modules(void **state)
{
    (void)state;
    expect_modules("msh-8__ansible_esxi_customization/boot.cfg.orig", 116, "/jumpstrt.gz",
                   "/imgpayld.tgz");
    expect_modules("msh-8__ansible_esxi_customization/boot.cfg", 117, "/jumpstrt.gz",
                   "/bmks.tgz");
    expect_modules("dsjodin__hostdeployer/esxi/boot.cfg", 109, "jumpstrt.gz", "imgpayld.tgz");
    expect_modules("apnex__docker-esx/boot.cfg", 89, "jumpstrt.gz", "imgpayld.tgz");
    expect_modules("chrise01__Lab/BOOT.CFG", 89, "jumpstrt.gz", "imgpayld.tgz");
    expect_modules("tekore__Hypervisor-Automation/VSphere/boot.cfg", 101, "/jumpstrt.gz",
                   "/imgpayld.tgz");
    expect_modules("sagbash__vmware_autoinstaller_rhel9/boot.cfg", 108, "jumpstrt.gz",
                   "imgpayld.tgz");
}

/* Inserting before imgdb.tgz in the unmodified 7.0U2 copy changes nothing else. */
static void samples_bootcfg_insert_before_imgdb(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t len;
    struct esximg_bootcfg *c =
        read_bootcfg("msh-8__ansible_esxi_customization/boot.cfg.orig", &bytes, &len);
    assert_int_equal(esximg_bootcfg_module_insert_before(c, "imgdb.tgz", "net_r816.v00", NULL,
                                                         NULL), 0);
    char *out;
    size_t out_len;
    assert_int_equal(esximg_bootcfg_write(c, &out, &out_len, NULL), 0);
    const char *at = memmem(bytes, len, "/imgdb.tgz", 10);
    assert_non_null(at);
    size_t head = (size_t)(at - (const char *)bytes);
    static const char added[] = "/net_r816.v00 --- ";
    assert_int_equal(out_len, len + sizeof added - 1);
    assert_memory_equal(out, bytes, head);
    assert_memory_equal(out + head, added, sizeof added - 1);
    assert_memory_equal(out + head + sizeof added - 1, bytes + head, len - head);
    free(out);
    free(bytes);
    esximg_bootcfg_free(c);
}

static void samples_maps_parse(void **state)
{
    (void)state;
    char **paths;
    size_t n = tu_find_files(tu_samples_dir(), ".map", &paths), entries = 0, empty = 0;
    size_t per_class[ESXIMG_MAP_UNKNOWN + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t *bytes;
        size_t len;
        tu_read_file(paths[i], &bytes, &len);
        struct esximg_drivermap_ropts o = {.path = rel_path(paths[i]), .strict = true};
        struct esximg_drivermap *m = NULL;
        struct esximg_err err = {0};
        if (esximg_drivermap_read(bytes, len, &o, &m, &err) != 0)
            fail_msg("%s: %s", paths[i], err.msg);
        assert_int_equal(m->warnings.count, 0);
        assert_int_not_equal(m->map_class, ESXIMG_MAP_UNKNOWN);
        entries += m->entry_count;
        empty += m->entry_count == 0;
        per_class[m->map_class]++;
        for (size_t j = 0; j < m->entry_count; j++)
            if (!strcmp(m->entries[j].bus, "pci"))
                assert_int_equal(strlen(m->entries[j].pci_pattern), 22);
        esximg_drivermap_free(m);
        free(bytes);
    }
    printf("maps: %zu files (%zu empty), %zu entries; oem %zu, ihv %zu, native %zu, "
           "vmklinux %zu, fallback %zu\n", n, empty, entries, per_class[ESXIMG_MAP_OEM],
           per_class[ESXIMG_MAP_IHV], per_class[ESXIMG_MAP_NATIVE],
           per_class[ESXIMG_MAP_VMKLINUX], per_class[ESXIMG_MAP_FALLBACK]);
    assert_int_equal(n, 115);
    assert_int_equal(empty, 11);
    assert_int_equal(entries, 1975);
    tu_free_list(paths, n);
}

static void samples_ids_parse(void **state)
{
    (void)state;
    char **paths;
    size_t n = tu_find_files(tu_samples_dir(), ".ids", &paths);
    size_t vendors = 0, devices = 0, subsys = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *bytes;
        size_t len;
        tu_read_file(paths[i], &bytes, &len);
        struct esximg_pciids_ropts o = {.strict = true};
        struct esximg_pciids *ids = NULL;
        struct esximg_err err = {0};
        if (esximg_pciids_read(bytes, len, &o, &ids, &err) != 0)
            fail_msg("%s: %s", paths[i], err.msg);
        vendors += ids->vendor_count;
        for (size_t v = 0; v < ids->vendor_count; v++) {
            devices += ids->vendors[v].device_count;
            for (size_t d = 0; d < ids->vendors[v].device_count; d++)
                subsys += ids->vendors[v].devices[d].subsys_count;
        }
        esximg_pciids_free(ids);
        free(bytes);
    }
    printf("ids: %zu files, %zu vendors, %zu devices, %zu subsystems\n", n, vendors, devices,
           subsys);
    assert_int_equal(n, 90);
    assert_int_equal(vendors, 119);
    assert_int_equal(devices, 1333);
    assert_int_equal(subsys, 551);
    tu_free_list(paths, n);
}

/* Every map of the 6.7 host file system (ljvblfz__ESXi/etc/vmware/). */
struct host_maps {
    size_t count;
    struct esximg_drivermap **maps;
};

static void load_host_maps(struct host_maps *h)
{
    char *dir = tu_sample_path("ljvblfz__ESXi/etc/vmware");
    char **paths;
    size_t n = tu_find_files(dir, ".map", &paths);
    h->maps = calloc(n, sizeof *h->maps);
    h->count = n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *bytes;
        size_t len;
        tu_read_file(paths[i], &bytes, &len);
        struct esximg_drivermap_ropts o = {.path = rel_path(paths[i])};
        assert_int_equal(esximg_drivermap_read(bytes, len, &o, &h->maps[i], NULL), 0);
        free(bytes);
    }
    assert_int_equal(n, 102);
    tu_free_list(paths, n);
    free(dir);
}

static void free_host_maps(struct host_maps *h)
{
    for (size_t i = 0; i < h->count; i++)
        esximg_drivermap_free(h->maps[i]);
    free(h->maps);
}

static const struct esximg_drivermap *host_map(const struct host_maps *h, const char *suffix)
{
    for (size_t i = 0; i < h->count; i++) {
        size_t pl = strlen(h->maps[i]->path), sl = strlen(suffix);
        if (pl >= sl && !strcmp(h->maps[i]->path + pl - sl, suffix))
            return h->maps[i];
    }
    fail_msg("no map %s", suffix);
    return NULL;
}

/* Matches and picks; returns the match (the winner points into it). */
static struct esximg_map_match *pick(const struct host_maps *h,
                                     const struct esximg_pci_device *dev,
                                     struct esximg_map_winner *w)
{
    struct esximg_map_match *m = NULL;
    assert_int_equal(esximg_drivermap_match((const struct esximg_drivermap *const *)h->maps,
                                            h->count, dev, &m, NULL), 0);
    esximg_drivermap_pick(m, w);
    return m;
}

static void samples_host_spot_checks(void **state)
{
    (void)state;
    struct host_maps h;
    load_host_maps(&h);
    /* ne1000.map has the subsystem-specific 82571EB entry */
    const struct esximg_drivermap *ne1000 = host_map(&h, "default.map.d/ne1000.map");
    assert_int_equal(ne1000->map_class, ESXIMG_MAP_NATIVE);
    bool found = false;
    for (size_t i = 0; i < ne1000->entry_count; i++)
        found |= !strcmp(ne1000->entries[i].id, "8086105e8086005e......") &&
                 !strcmp(ne1000->entries[i].driver, "ne1000");
    assert_true(found);
    assert_int_equal(host_map(&h, "driver.map.d/e1000e.map")->map_class, ESXIMG_MAP_VMKLINUX);

    /* 8086:10d3 (82574L): native ne1000 and vmklinux e1000e both claim it; ne1000 wins */
    struct esximg_pci_device dev = {.vendor = 0x8086, .device = 0x10d3, .class_code = 0x0200,
                                    .has_class = true};
    struct esximg_map_winner w;
    struct esximg_map_match *m = pick(&h, &dev, &w);
    assert_int_equal(m->claim_count, 2);
    assert_string_equal(w.claim->entry->driver, "ne1000");
    assert_int_equal(w.claim->map_class, ESXIMG_MAP_NATIVE);
    assert_string_equal(m->claims[1].entry->driver, "e1000e");
    assert_int_equal(m->claims[1].map_class, ESXIMG_MAP_VMKLINUX);
    assert_int_equal(w.rule, ESXIMG_MAP_RULE_CLASS);
    assert_false(w.inferred);
    esximg_map_match_free(m);
    /* with its subsystem 8086:a01f the specific ne1000 entry is the one */
    dev.subvendor = 0x8086;
    dev.subdevice = 0xa01f;
    dev.has_subsys = true;
    m = pick(&h, &dev, &w);
    assert_int_equal(m->claim_count, 3);
    assert_string_equal(w.claim->entry->id, "808610d38086a01f......");
    assert_false(w.inferred);
    esximg_map_match_free(m);

    /* an AHCI controller: vmw_ahci (native) over ahci (vmklinux) */
    struct esximg_pci_device ahci = {.vendor = 0x8086, .device = 0x2922, .class_code = 0x0106,
                                     .progif = 0x01, .has_class = true, .has_progif = true};
    m = pick(&h, &ahci, &w);
    assert_int_equal(m->claim_count, 3);
    assert_string_equal(w.claim->entry->driver, "vmw_ahci");
    assert_string_equal(w.claim->entry->id, "80862922..............");
    assert_string_equal(m->claims[2].entry->driver, "ahci");
    assert_false(w.inferred);
    esximg_map_match_free(m);
    /* an AHCI controller nobody lists: only the class-only vmw_ahci entry (not the acpi one) */
    ahci.vendor = 0x1234;
    ahci.device = 0x5678;
    m = pick(&h, &ahci, &w);
    assert_int_equal(m->claim_count, 1);
    assert_string_equal(w.claim->entry->id, "................010601");
    assert_string_equal(w.claim->entry->bus, "pci");
    esximg_map_match_free(m);
    free_host_maps(&h);

    /* ids lookups */
    char *path = tu_sample_path("ljvblfz__ESXi/usr/share/hwdata/default.pciids.d/ne1000.ids");
    uint8_t *bytes;
    size_t len;
    tu_read_file(path, &bytes, &len);
    struct esximg_pciids *ids;
    assert_int_equal(esximg_pciids_read(bytes, len, NULL, &ids, NULL), 0);
    assert_string_equal(esximg_pciids_vendor_name(ids, 0x8086), "Intel Corporation");
    assert_string_equal(esximg_pciids_device_name(ids, 0x8086, 0x10d3),
                        "82574L Gigabit Network Connection");
    assert_string_equal(esximg_pciids_subsys_name(ids, 0x8086, 0x105e, 0x8086, 0x005e),
                        "PRO/1000 PT Dual Port Server Connection");
    esximg_pciids_free(ids);
    free(bytes);
    free(path);
}

int main(void)
{
    int skip = tu_require_samples("samples_text");
    if (skip)
        return skip;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_bootcfg_round_trip),
        cmocka_unit_test(samples_bootcfg_modules),
        cmocka_unit_test(samples_bootcfg_insert_before_imgdb),
        cmocka_unit_test(samples_maps_parse),
        cmocka_unit_test(samples_ids_parse),
        cmocka_unit_test(samples_host_spot_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
