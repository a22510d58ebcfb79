// SPDX-License-Identifier: BSD-2-Clause
/* rttq sketch: placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int cmd_sketch(int argc, char **argv)
{
	fprintf(stderr, "rttq sketch: not built yet\n");
	return 1;
}
