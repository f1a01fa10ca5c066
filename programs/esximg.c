/* esximg.c: main and the command table of the esximg command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

struct cmd_entry {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

/* sorted by name */
static const struct cmd_entry commands[] = {
    {"build", cmd_build, "build an installer ISO, bundle or PXE folder from depots"},
    {"depot", cmd_depot, "list and extract offline bundles (depot zips)"},
    {"diff", cmd_diff, "compare two images or bundles by VIB and boot options"},
    {"edit", cmd_edit, "add, remove or replace VIBs and boot options, and write a new image"},
    {"export", cmd_export, "write an image's VIBs as an offline bundle"},
    {"hcl", cmd_hcl, "check a host's PCI devices against an image's drivers"},
    {"info", cmd_info, "show what an installer image is and check it holds together"},
    {"ks", cmd_ks, "write an ESXi kickstart, or check one against an image"},
    {"ls", cmd_ls, "list an image's VIBs, files or drivers"},
    {"upgrade-check", cmd_upgrade_check,
     "say what upgrading a host to an image does with its VIBs, and if it would fail"},
    {"usb", cmd_usb, "write a copy of an image that also boots from a USB stick"},
    {"vib", cmd_vib, "show, extract and verify VIB packages"},
    {"vmtar", cmd_vmtar, "list, extract and create vmtar payloads"},
};

static const char main_usage_head[] =
    "usage: esximg [--version] [--help] [-q | -v] <command> [<args>]\n"
    "\n"
    "Build and inspect VMware ESXi installer images and their packages.\n"
    "\n"
    "Options (every command also takes them, after its name):\n"
    "  -q, --quiet    print only errors and the requested output: no progress bar,\n"
    "                 warnings or summaries\n"
    "  -v, --verbose  also say on stderr what is read and written, step by step\n"
    "A progress bar is drawn on stderr for long operations when it is a terminal.\n"
    "\n"
    "Commands:\n";

static const char main_usage_tail[] =
    "\n"
    "Run 'esximg <command> --help' for the options of a command.\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  1  failed (the message names the file and the reason)\n"
    "  2  the command line is wrong\n"
    "  3  a check found problems (bad checksum, device without a driver)\n";

static int main_usage(FILE *to, int code)
{
    fputs(main_usage_head, to);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fputs(main_usage_tail, to);
    return code;
}

static const struct cmd_entry *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/* The options before the command; returns how many arguments they took, -1 on a bad one. */
static int main_global_options(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
            cli_set_quiet(true);
        else if (!strcmp(o, "-v") || !strcmp(o, "--verbose"))
            cli_set_verbose(true);
        else if (!strcmp(o, "-h") || !strcmp(o, "--help") || !strcmp(o, "--version"))
            break;
        else
            return cli_error(-1, "unknown option '%s' (the options before the command are "
                             "-q, -v, --help and --version)", o);
    }
    return i - 1;
}

int main(int argc, char **argv)
{
    int skip = main_global_options(argc, argv);
    if (skip < 0)
        return main_usage(stderr, CLI_EXIT_USAGE);
    argc -= skip;
    argv += skip;
    if (argc < 2)
        return main_usage(stderr, CLI_EXIT_USAGE);
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        return main_usage(stdout, CLI_EXIT_OK);
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("esximg %s\n", ESXIMG_VERSION);
        return CLI_EXIT_OK;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3)
            return main_usage(stdout, CLI_EXIT_OK);
        const struct cmd_entry *c = find_command(argv[2]);
        if (!c)
            return cli_error(CLI_EXIT_USAGE, "'%s' is not an esximg command", argv[2]);
        char *help_argv[] = {argv[2], "--help", NULL};
        cli_set_command(c->name);
        return c->fn(2, help_argv);
    }
    const struct cmd_entry *c = find_command(name);
    if (!c) {
        fprintf(stderr, "esximg: '%s' is not an esximg command\n\n", name);
        return main_usage(stderr, CLI_EXIT_USAGE);
    }
    cli_set_command(c->name);
    return c->fn(argc - 1, argv + 1);
}
