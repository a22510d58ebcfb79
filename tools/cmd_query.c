// SPDX-License-Identifier: BSD-2-Clause
/* rttq query: placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int cmd_query(int argc, char **argv)
{
	fprintf(stderr, "rttq query: not built yet\n");
	return 1;
}
