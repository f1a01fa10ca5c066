/* placeholder until the depot command lands */
#include "cli.h"
#include "commands.h"
int cmd_depot(int argc, char **argv)
{
    (void)argc; (void)argv;
    return cli_error(CLI_EXIT_FAIL, "depot: not built yet");
}
