// SPDX-License-Identifier: BSD-2-Clause
/* rttq hist: placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int cmd_hist(int argc, char **argv)
{
	fprintf(stderr, "rttq hist: not built yet\n");
	return 1;
}
