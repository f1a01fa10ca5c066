/* placeholder until the vib command lands */
#include "cli.h"
#include "commands.h"
int cmd_vib(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_error(CLI_EXIT_FAIL, "vib: not built yet");
}
