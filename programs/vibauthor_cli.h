/* vibauthor_cli.h: the authoring verbs of `esximg vib` (vibauthor_cli.c: create, from-oem,
 * map-only), which cmd_vib.c's verb table runs, and the usage text they share with it. */
#ifndef VIBAUTHOR_CLI_H
#define VIBAUTHOR_CLI_H

extern const char vib_usage[];   /* in cmd_vib.c: every vib verb's --help and misuse text */

int vib_create(int argc, char **argv);
int vib_from_oem(int argc, char **argv);
int vib_map_only(int argc, char **argv);

#endif
