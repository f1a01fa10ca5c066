/* commands.h: the subcommands of esximg, one file each (programs/cmd_<name>.c). */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_build(int argc, char **argv);
int cmd_depot(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_hcl(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ks(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_upgrade_check(int argc, char **argv);
int cmd_usb(int argc, char **argv);
int cmd_vib(int argc, char **argv);
int cmd_vmtar(int argc, char **argv);

#endif
