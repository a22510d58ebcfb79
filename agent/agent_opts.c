// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent's command line (agent_opts.h): its defaults, --help, and
 * every flag checked and turned into struct agent_opts, the collector's
 * own through collector_opts.h.  Apart from rttq-agent.c, which runs what
 * these options describe.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_metrics.h"
#include "agent_opts.h"
#include "buckets.h"
#include "cli.h"
#include "collector_opts.h"
#include "flow_log.h"
#include "log.h"
#include "numparse.h"
#include "series.h"
#include "spool.h"
#include "store.h"
#include "tdigest.h"
#include "timeparse.h"
#include "writer.h"

#define INTERVAL_DEFAULT_MS 5000
#define INTERVAL_MIN_MS 10
/* Groups the series table holds per kernel group id by default: a group
 * stays there until its day rollup is written, after its id was recycled. */
#define DAY_GROUPS_PER_ID 4

void agent_opts_init(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->store_url = STORE_URL_DEFAULT;
	o->interval_ms = INTERVAL_DEFAULT_MS;
	o->period_s = SERIES_PERIOD_DEFAULT_S;
	o->compression = TDIGEST_COMPRESSION_DEFAULT;
	o->spool_max_mib = SPOOL_MAX_MIB_DEFAULT;
	o->collector.sub_bits = BUCKET_SUB_BITS_DEFAULT;
	o->collector.max_groups = COLLECTOR_MAX_GROUPS_DEFAULT;
	o->metrics_on = netaddr_parse_listen(AGENT_METRICS_LISTEN_DEFAULT,
					     &o->metrics, NULL) == 0;
}

/* -------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------- */

enum {
	OPT_STORE = COLLECTOR_OPT_END,
	OPT_HOST,
	OPT_INTERVAL,
	OPT_PERIOD,
	OPT_COMPRESSION,
	OPT_DURATION,
	OPT_METRICS,
	OPT_SPOOL,
	OPT_QUEUE_MAX,
	OPT_SPOOL_MAX,
	OPT_DAY_GROUPS,
	OPT_FLOW_LOG,
};

static const struct option long_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "period", required_argument, NULL, OPT_PERIOD },
	COLLECTOR_LONG_OPTIONS,
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "queue-max", required_argument, NULL, OPT_QUEUE_MAX },
	{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
	{ "max-day-groups", required_argument, NULL, OPT_DAY_GROUPS },
	{ "flow-log", required_argument, NULL, OPT_FLOW_LOG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: rttq-agent [OPTION]...\n"
"Measure TCP RTT (srtt), jitter, handshake times and TCP counters with BPF\n"
"and store per-period quantile digests and exact counter sums.\n"
"\n"
"  --store URL          where records go: sqlite:PATH or\n"
"                       dynamodb:TABLE[?region=R&endpoint=URL]\n"
"                       (default %s)\n"
"  --host NAME          host name written into records (default: gethostname)\n"
"  --interval DURATION  drain the kernel counters this often (5s, 250ms),\n"
"                       %dms..period (default %ds)\n"
"  --period SEC         base period in s; must divide 3600 (default %d)\n",
		STORE_URL_DEFAULT, INTERVAL_MIN_MS, INTERVAL_DEFAULT_MS / 1000,
		SERIES_PERIOD_DEFAULT_S);
	collector_opts_usage(out, 2, 23);
	fprintf(out,
"  --max-day-groups N   groups held in memory until their day rollup is\n"
"                       written: every group seen since 00:00 UTC, ~28 KiB\n"
"                       per metric at sub-bits 5; beyond it a new group's\n"
"                       samples are dropped and counted\n"
"                       (default %d x --max-groups)\n",
		DAY_GROUPS_PER_ID);
	fprintf(out,
"  --compression C      t-digest compression, %g..%g (default %g)\n"
"  --duration SEC       exit after SEC s, writing the partial period\n"
"                       (default: run until SIGTERM or SIGINT)\n"
"  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
"                       ([V6]:PORT for IPv6; port 0: any free port, logged;\n"
"                       \"off\": no endpoint) (default %s)\n"
"  --spool DIR          when the store fails and the in-memory queue is full,\n"
"                       or at a stop, keep records in DIR/%s,\n"
"                       replayed in order when the store answers (default:\n"
"                       none; records beyond the queue are dropped)\n"
"  --queue-max N        records kept in memory while the store fails, beyond\n"
"                       which they go to --spool or are dropped (default:\n"
"                       no count bound; %u MiB of digests)\n"
"  --spool-max MIB      largest spool file, 1..%u MiB; beyond it the newest\n"
"                       records are dropped and counted (default %u)\n"
"  --flow-log RATE      store that share of the closed connections' records\n"
"                       (1%%, 1/64, 100%%; counted, not drawn), served by\n"
"                       rttq-api's /flows; loads the flows ring buffer\n"
"  -v, --verbose        log every write and libbpf's debug output\n"
"  -h, --help           show this help and exit\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a runtime failure, 2 on a bad option.\n",
		TDIGEST_COMPRESSION_MIN, TDIGEST_COMPRESSION_MAX,
		TDIGEST_COMPRESSION_DEFAULT, AGENT_METRICS_LISTEN_DEFAULT,
		SPOOL_FILE_NAME, WRITER_MAX_BYTES >> 20, SPOOL_MAX_MIB_LIMIT,
		SPOOL_MAX_MIB_DEFAULT);
}

/* numparse with the agent's log line on failure. */
static int parse_u32(const char *flag, const char *text, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	struct rttq_error err = { 0 };
	uint64_t v;

	if (numparse_uint(flag, text, min, max, &v, &err)) {
		agent_log("%s", err.msg);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_double(const char *flag, const char *text, double min,
			double max, double *out)
{
	struct rttq_error err = { 0 };

	if (numparse_real(flag, text, min, max, out, &err)) {
		agent_log("%s", err.msg);
		return -EINVAL;
	}
	return 0;
}

int agent_opts_parse(int argc, char **argv, struct agent_opts *o)
{
	struct rttq_error err = { 0 };
	uint32_t v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE:
			if (!optarg[0]) {
				agent_log("--store: empty URL");
				return CLI_EXIT_USAGE;
			}
			o->store_url = optarg;
			break;
		case OPT_HOST:
			if (!optarg[0] || strlen(optarg) >= sizeof(o->host)) {
				agent_log("--host: name must be 1..%zu bytes",
					sizeof(o->host) - 1);
				return CLI_EXIT_USAGE;
			}
			/* The fleet's records would count this host twice. */
			if (store_host_reserved(optarg)) {
				agent_log("--host: '%s' is reserved: names "
					  "starting with '%c' are the store's "
					  "own (fleet records)", optarg,
					  STORE_RESERVED_PREFIX);
				return CLI_EXIT_USAGE;
			}
			snprintf(o->host, sizeof(o->host), "%s", optarg);
			break;
		case OPT_INTERVAL:
			if (timeparse_duration_ms(optarg, &o->interval_ms,
						  &err)) {
				agent_log("--interval: %s", err.msg);
				return CLI_EXIT_USAGE;
			}
			if (o->interval_ms < INTERVAL_MIN_MS) {
				agent_log("--interval: %lld ms is below %d ms",
					  (long long)o->interval_ms,
					  INTERVAL_MIN_MS);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_PERIOD:
			if (parse_u32("--period", optarg, 1, 3600, &v))
				return CLI_EXIT_USAGE;
			if (!series_period_valid(v)) {
				agent_log("--period: %u s does not divide one hour (3600 s); try 1, 5, 10, 60, 300",
					v);
				return CLI_EXIT_USAGE;
			}
			o->period_s = v;
			break;
		case OPT_COMPRESSION:
			if (parse_double("--compression", optarg,
					 TDIGEST_COMPRESSION_MIN,
					 TDIGEST_COMPRESSION_MAX,
					 &o->compression))
				return CLI_EXIT_USAGE;
			break;
		case OPT_DURATION:
			if (parse_u32("--duration", optarg, 1, INT32_MAX,
				      &o->duration_s))
				return CLI_EXIT_USAGE;
			break;
		case OPT_METRICS:
			o->metrics_on = strcmp(optarg, "off") != 0;
			o->metrics_given = true;
			if (o->metrics_on &&
			    netaddr_parse_listen(optarg, &o->metrics, &err)) {
				agent_log("--metrics: %s", err.msg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_SPOOL:
			if (!optarg[0]) {
				agent_log("--spool: empty directory name");
				return CLI_EXIT_USAGE;
			}
			o->spool_dir = optarg;
			break;
		case OPT_QUEUE_MAX:
			if (parse_u32("--queue-max", optarg, 1, UINT32_MAX,
				      &o->queue_max))
				return CLI_EXIT_USAGE;
			break;
		case OPT_DAY_GROUPS:
			if (parse_u32("--max-day-groups", optarg, 1, 1u << 20,
				      &o->day_groups))
				return CLI_EXIT_USAGE;
			break;
		case OPT_FLOW_LOG: {
			double rate;

			if (numparse_rate("--flow-log", optarg, &rate, &err)) {
				agent_log("%s", err.msg);
				return CLI_EXIT_USAGE;
			}
			o->flow_log_ppm = flow_log_rate_ppm(rate);
			break;
		}
		case OPT_SPOOL_MAX:
			if (parse_u32("--spool-max", optarg, 1,
				      SPOOL_MAX_MIB_LIMIT, &o->spool_max_mib))
				return CLI_EXIT_USAGE;
			break;
		case 'v':
			o->collector.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_HELP;
		default:
			rc = collector_opts_parse(&o->collector, c, optarg,
						  &err);
			if (rc == -ENOENT) {
				/* getopt_long named it on stderr. */
				fprintf(stderr, "Try 'rttq-agent --help'.\n");
				return CLI_EXIT_USAGE;
			}
			if (rc) {
				agent_log("%s", err.msg);
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		agent_log("unexpected argument \"%s\"", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	/* The close records come from the collector's flows ring buffer,
	 * loaded only when asked for (--signals stays as given). */
	if (o->flow_log_ppm)
		o->collector.flows = true;
	if (collector_opts_check(&o->collector, &err)) {
		agent_log("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (o->interval_ms > (int64_t)o->period_s * 1000) {
		agent_log("--interval: %lld ms is longer than --period (%u s)",
			(long long)o->interval_ms, o->period_s);
		return CLI_EXIT_USAGE;
	}
	if (!o->day_groups) {
		uint64_t n = (uint64_t)DAY_GROUPS_PER_ID *
			     o->collector.max_groups;

		o->day_groups = n > (1u << 20) ? 1u << 20 : (uint32_t)n;
	}
	if (!o->host[0]) {
		if (gethostname(o->host, sizeof(o->host)) != 0 || !o->host[0]) {
			agent_log("--host: cannot read the host name (%s); pass --host",
				strerror(errno));
			return CLI_EXIT_USAGE;
		}
		o->host[sizeof(o->host) - 1] = '\0';
	}
	return CLI_CONTINUE;
}

