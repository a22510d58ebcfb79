// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq events: individual RTT samples, retransmits with their cause and
 * dropped packets with their reason, as they happen, sampled in the
 * kernel (kernel/events.h) so a busy host sends only a share through the
 * ring buffer; one line or one JSON object each, the events the ring had
 * no room for counted at the end.  Loads the collector with events, so
 * the agent's filters and groups apply to the connections' events.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "collector_opts.h"
#include "commands.h"
#include "event_reader.h"
#include "live_clock.h"
#include "monoclock.h"
#include "numparse.h"
#include "strbuf.h"

#define SAMPLE_DEFAULT "1%"
#define TYPES_ALL ((1u << EVENT_TYPES) - 1)

struct env {
	unsigned long duration_s;   /* 0: until SIGINT */
	double rate;                /* (0, 1] */
	bool json;
	struct collector_opts copts;
};

struct out {
	const struct env *env;
	struct strbuf b;
	uint64_t n[EVENT_TYPES];
};

static const char usage_text[] =
"Usage: rttq events [OPTIONS]\n"
"\n"
"Individual TCP events as they happen, sampled in the kernel: RTT samples\n"
"(the smoothed RTT the rtt distribution counts), retransmits with their\n"
"cause (fast, timeout, tlp, syn) and dropped packets with the kernel's\n"
"drop reason.  One line (or JSON object) per event; the events lost\n"
"because the ring buffer was full are counted at the end.  Needs root.\n"
"\n"
"Options:\n"
"      --sample RATE      share of events sent, N% or A/B (default "
SAMPLE_DEFAULT ";\n"
"                         100% for every one)\n"
"  -t, --types LIST       rtt,retrans,drop (default: all three)\n"
"  -j, --json             one JSON object per line\n"
"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n";

static const char usage_tail[] =
"  -v, --verbose          libbpf debug output\n"
"  -h, --help             this text\n"
"\n"
"Examples:\n"
"  rttq events --sample 100% --types rtt --rport 443 -d 5\n"
"  rttq events --types retrans,drop --json\n";

enum {
	OPT_SAMPLE = COLLECTOR_OPT_END,
};

static const struct option long_opts[] = {
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "types", required_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "duration", required_argument, NULL, 'd' },
	COLLECTOR_LONG_OPTIONS,
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs(usage_text, out);
	collector_opts_usage(out, 6, 25);
	fputs(usage_tail, out);
}

/* "rtt,drop" into EVENT_* bits, or a message naming the bad one. */
static int parse_types(const char *text, unsigned int *out)
{
	char *copy = strdup(text), *tok, *save = NULL;
	unsigned int bits = 0;
	int t, rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		t = event_type_find(tok);
		if (t < 0) {
			fprintf(stderr, "rttq events: --types '%s': no type '%s'; use rtt, retrans, drop\n",
				text, tok);
			rc = -EINVAL;
			break;
		}
		bits |= 1u << t;
	}
	free(copy);
	if (!rc && !bits) {
		fprintf(stderr, "rttq events: --types '%s': no type given; use rtt, retrans, drop\n",
			text);
		rc = -EINVAL;
	}
	*out = bits;
	return rc;
}

/* The kernel keeps an event when a random u32 is at most this. */
static uint32_t threshold_of(double rate)
{
	double t = rate * 4294967296.0 - 1;

	if (rate >= 1 || t >= 4294967295.0)
		return UINT32_MAX;
	return t < 0 ? 0 : (uint32_t)t;
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct env *env)
{
	struct rttq_error err = { 0 };
	unsigned int types = TYPES_ALL;
	uint64_t v;
	int opt;

	optind = 1;
	numparse_rate("--sample", SAMPLE_DEFAULT, &env->rate, NULL);
	while ((opt = getopt_long(argc, argv, "t:jd:vh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case OPT_SAMPLE:
			if (numparse_rate("--sample", optarg, &env->rate,
					  &err)) {
				fprintf(stderr, "rttq events: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 't':
			if (parse_types(optarg, &types))
				return CLI_EXIT_USAGE;
			break;
		case 'j':
			env->json = true;
			break;
		case 'd':
			if (numparse_uint("--duration", optarg, 1,
					  86400 * 365, &v, &err)) {
				fprintf(stderr, "rttq events: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
			env->duration_s = (unsigned long)v;
			break;
		case 'v':
			env->copts.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_HELP;
		case '?':
			usage(stderr);
			return CLI_EXIT_USAGE;
		default:
			if (collector_opts_parse(&env->copts, opt, optarg,
						 &err)) {
				fprintf(stderr, "rttq events: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (optind < argc)
		return cli_usage_error("rttq events", "unexpected argument '%s'",
				       argv[optind]);
	/* Only events are shown: the other families' programs stay off, and
	 * so does the rtt program, which nothing here drains. */
	if (!env->copts.signals)
		env->copts.signals = COLLECTOR_SIG_RTT;
	env->copts.rtt_unread = true;
	env->copts.events = types;
	env->copts.event_threshold = threshold_of(env->rate);
	return CLI_CONTINUE;
}

static int print_event(struct event_stream *es, const struct event_record *e,
		       const char *group, void *arg)
{
	struct out *o = arg;

	o->n[e->type]++;
	if (o->env->json) {
		o->b.len = 0;
		event_json(es, &o->b, e, group);
		printf("%.*s\n", (int)o->b.len, o->b.buf ? o->b.buf : "");
	} else {
		event_line(es, stdout, e, group);
	}
	return 0;
}

static int run(const struct env *env, struct collector *c)
{
	struct out o = { .env = env, .b = STRBUF_INIT };
	struct rttq_error err = { 0 };
	struct event_stream *es = NULL;
	uint64_t lost, lost_seen = 0;
	int64_t end;
	int rc, ret = 0;

	if (event_stream_open(c, print_event, &o, &es, &err)) {
		fprintf(stderr, "rttq events: %s\n", err.msg);
		return 1;
	}
	end = env->duration_s ? monoclock_ms() + (int64_t)env->duration_s * 1000
			      : INT64_MAX;
	while (!live_stop && monoclock_ms() < end) {
		rc = event_stream_poll(es, 100, &err);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "rttq events: %s\n", err.msg);
			ret = 1;
			break;
		}
		fflush(stdout);
		lost = event_stream_lost(es);
		if (lost != lost_seen) {
			fprintf(stderr, "rttq events: %llu events lost (the ring buffer was full)\n",
				(unsigned long long)(lost - lost_seen));
			lost_seen = lost;
		}
	}
	/* What happened before the end but was not read yet. */
	if (!ret)
		event_stream_poll(es, 0, &err);
	fflush(stdout);
	fprintf(stderr, "rttq events: %llu rtt, %llu retrans, %llu drop events, %llu lost\n",
		(unsigned long long)o.n[EVENT_RTT],
		(unsigned long long)o.n[EVENT_RETRANS],
		(unsigned long long)o.n[EVENT_DROP],
		(unsigned long long)event_stream_lost(es));
	event_stream_free(es);
	strbuf_release(&o.b);
	return ret;
}

int cmd_events(int argc, char **argv)
{
	struct env env = { 0 };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	struct collector_event_fds fds;
	int ret;

	ret = parse_args(argc, argv, &env);
	if (ret != CLI_CONTINUE)
		return ret;
	if (collector_open(&env.copts, &c, &err)) {
		fprintf(stderr, "rttq events: %s\n", err.msg);
		return 1;
	}
	if (collector_event_fds(c, &fds)) {
		fprintf(stderr, "rttq events: this kernel cannot give the events asked for (said above)\n");
		collector_close(c);
		return 1;
	}
	live_catch_signals(false);

	ret = run(&env, c);
	collector_close(c);
	return ret;
}
