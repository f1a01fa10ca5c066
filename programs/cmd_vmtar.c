/* placeholder until the vmtar command lands */
#include "cli.h"
#include "commands.h"
int cmd_vmtar(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_error(CLI_EXIT_FAIL, "vmtar: not built yet");
}
