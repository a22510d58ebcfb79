// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's command-line options (see collector_opts.h): the text
 * parsers, one switch that fills struct collector_opts, and the help
 * lines.  Messages name the flag as users typed it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buckets.h"
#include "collector_opts.h"
#include "metric.h"
#include "kernel_budget.h"
#include "netaddr.h"
#include "numparse.h"
#include "timeparse.h"

/* --max-groups' bound, spelled out in the help text below. */
#define GROUPS_LIMIT 1048576
_Static_assert(GROUPS_LIMIT == 1u << 20, "help text says 1..1048576");

#define STR(x) STR_(x)
#define STR_(x) #x

/* One option of the help text: the flag with its argument, then the
 * description's lines. */
struct help {
	const char *flag;
	const char *lines[2]; /* the second may be NULL */
};

static const struct help help[] = {
	{ "--group-by LIST",
	  { "also record per-key groups: comma-separated laddr[/N],",
	    "raddr[/N[/M]], lport, rport, peer, port, cgroup" } },
	{ "--peer-map FILE",
	  { "names for peers: \"CIDR LABEL\" lines, for --group-by",
	    "peer; reread on SIGHUP (rttq-agent)" } },
	{ "--cgroup PATH",
	  { "only sockets (and, for runqlat, tasks) of this cgroup",
	    "v2 and below it (default: any)" } },
	{ "--lport PORT",
	  { "only connections with this local port (default: any)" } },
	{ "--rport PORT",
	  { "only connections with this remote port (default: any)" } },
	{ "--laddr ADDR[/LEN]",
	  { "only this local address or prefix (default: any)" } },
	{ "--raddr ADDR[/LEN]",
	  { "only this remote address or prefix (default: any)" } },
	{ "--include-loopback",
	  { "also count loopback peers (default: skipped)" } },
	{ "--attach MODE",
	  { "force fentry, tp_btf, raw_tp or kprobe (default: the",
	    "first that works, in that order)" } },
	{ "--max-groups N",
	  { "bound on distinct group keys, 1.." STR(GROUPS_LIMIT)
	    " (default " STR(COLLECTOR_MAX_GROUPS_DEFAULT) ")" } },
	{ "--kernel-memory MIB",
	  { "bound on the kernel maps, 1.." STR(KERNEL_BUDGET_MAX_MIB)
	    " MiB (default " STR(KERNEL_BUDGET_DEFAULT_MIB) ");",
	    "--max-groups beyond what fits is refused" } },
	{ "--group-idle DURATION",
	  { "a group with no events this long (250ms, 30s, 10m, ...)",
	    "gives its id back for new keys (default 10m)" } },
	{ "--signals LIST",
	  { "rtt jitter retrans conn drops runqlat softirq bytes sndbuf",
	    "flows stages (default: all the kernel can but flows, stages)" } },
	{ "--sub-bits G",
	  { "histogram sub-bucket bits, " STR(BUCKET_SUB_BITS_MIN) ".."
	    STR(BUCKET_SUB_BITS_MAX) " (default " STR(BUCKET_SUB_BITS_DEFAULT)
	    ")" } },
};

/*
 * "/N" or "/N/M" after raddr or laddr at @p (@len bytes): IPv4 and IPv6
 * lengths into @v4 and @v6.
 */
static int parse_prefix(const char *text, const char *word, const char *p,
			size_t len, unsigned int *v4, unsigned int *v6,
			struct rttq_error *err)
{
	unsigned long n[2];
	unsigned int count = 0;
	const char *end = p + len;
	char *stop;

	while (p < end && count < 2) {
		if (*p != '/' || p + 1 >= end || p[1] < '0' || p[1] > '9')
			break;
		errno = 0;
		n[count] = strtoul(p + 1, &stop, 10);
		if (errno || stop > end)
			break;
		p = stop;
		count++;
	}
	if (p != end || !count)
		return rttq_fail(err, -EINVAL,
				 "group-by '%s': '%s' takes /N or /N/M "
				 "(prefix lengths)", text, word);
	if (count == 1) {
		if (n[0] < 1 || n[0] > 128)
			return rttq_fail(err, -EINVAL,
					 "group-by '%s': %s/%lu: the length "
					 "must be 1..128", text, word, n[0]);
		*v4 = n[0] < 32 ? (unsigned int)n[0] : 32;
		*v6 = (unsigned int)n[0];
		return 0;
	}
	if (n[0] < 1 || n[0] > 32 || n[1] < 1 || n[1] > 128)
		return rttq_fail(err, -EINVAL,
				 "group-by '%s': %s/%lu/%lu: the IPv4 length "
				 "must be 1..32, the IPv6 one 1..128", text,
				 word, n[0], n[1]);
	*v4 = (unsigned int)n[0];
	*v6 = (unsigned int)n[1];
	return 0;
}

int collector_parse_group_by(const char *text, struct collector_opts *o,
			     struct rttq_error *err)
{
	static const struct {
		const char *word;
		unsigned int bit;
	} words[] = {
		{ "laddr", COLLECTOR_BY_LADDR },
		{ "raddr", COLLECTOR_BY_RADDR },
		{ "lport", COLLECTOR_BY_LPORT },
		{ "rport", COLLECTOR_BY_RPORT },
		{ "peer", COLLECTOR_BY_PEER },
		{ "port", COLLECTOR_BY_PORT },
		{ "cgroup", COLLECTOR_BY_CGROUP },
	};
	unsigned int bits = 0, pre[4] = { 0 }; /* raddr v4, v6, laddr v4, v6 */
	const char *p = text, *end;
	size_t len, wlen, i;
	int rc;

	if (!strcmp(text, "none")) {
		o->group_by = 0;
		o->raddr_prefix4 = o->raddr_prefix6 = 0;
		o->laddr_prefix4 = o->laddr_prefix6 = 0;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		wlen = strcspn(p, "/,");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == wlen &&
			    !strncmp(p, words[i].word, wlen))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return rttq_fail(err, -EINVAL,
					 "group-by '%s': unknown word '%.*s' "
					 "(use laddr, raddr, lport, rport, "
					 "peer, port, cgroup or none)",
					 text, (int)len, p);
		if (wlen < len) {
			if (words[i].bit != COLLECTOR_BY_RADDR &&
			    words[i].bit != COLLECTOR_BY_LADDR)
				return rttq_fail(err, -EINVAL,
						 "group-by '%s': only raddr "
						 "and laddr take a prefix "
						 "length", text);
			rc = parse_prefix(text, words[i].word, p + wlen,
					  len - wlen,
					  &pre[words[i].bit ==
					       COLLECTOR_BY_LADDR ? 2 : 0],
					  &pre[words[i].bit ==
					       COLLECTOR_BY_LADDR ? 3 : 1],
					  err);
			if (rc)
				return rc;
		}
		bits |= words[i].bit;
		if (!end)
			break;
		p = end + 1;
	}
	o->group_by = bits;
	o->raddr_prefix4 = pre[0];
	o->raddr_prefix6 = pre[1];
	o->laddr_prefix4 = pre[2];
	o->laddr_prefix6 = pre[3];
	return 0;
}

int collector_parse_signals(const char *text, unsigned int *out,
			    struct rttq_error *err)
{
	static const struct {
		const char *word;
		unsigned int bit;
	} words[] = {
		{ "rtt", COLLECTOR_SIG_RTT },
		{ "jitter", COLLECTOR_SIG_JITTER },
		{ "retrans", COLLECTOR_SIG_RETRANS },
		{ "conn", COLLECTOR_SIG_CONN },
		{ "drops", COLLECTOR_SIG_DROPS },
		{ "runqlat", COLLECTOR_SIG_RUNQLAT },
		{ "softirq", COLLECTOR_SIG_SOFTIRQ },
		{ "bytes", COLLECTOR_SIG_BYTES },
		{ "sndbuf", COLLECTOR_SIG_SNDBUF },
		{ "flows", COLLECTOR_SIG_FLOWS },
		{ "stages", COLLECTOR_SIG_STAGES },
	};
	unsigned int bits = COLLECTOR_SIG_RTT;
	const char *p = text;
	size_t len, i;

	for (;;) {
		len = strcspn(p, ",");
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].word) == len &&
			    !strncmp(p, words[i].word, len))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return rttq_fail(err, -EINVAL,
					 "--signals '%s': unknown signal '%.*s' "
					 "(use rtt, jitter, retrans, conn, drops, "
					 "runqlat, softirq, bytes, sndbuf, flows, "
					 "stages)",
					 text, (int)len, p);
		bits |= words[i].bit;
		if (!p[len])
			break;
		p += len + 1;
	}
	*out = bits;
	return 0;
}

unsigned int collector_metric_signal(const char *metric)
{
	static const struct {
		const char *metric;
		unsigned int bit;
	} dists[] = {
		{ METRIC_RTT, COLLECTOR_SIG_RTT },
		{ METRIC_JITTER, COLLECTOR_SIG_JITTER },
		{ METRIC_HANDSHAKE, COLLECTOR_SIG_CONN },
		{ METRIC_RUNQLAT, COLLECTOR_SIG_RUNQLAT },
		{ METRIC_SNDBUF, COLLECTOR_SIG_SNDBUF },
		{ METRIC_FLOW_DURATION, COLLECTOR_SIG_FLOWS },
		{ METRIC_RX_STACK, COLLECTOR_SIG_STAGES },
		{ METRIC_RX_SOCKET, COLLECTOR_SIG_STAGES },
		{ METRIC_TX_STACK, COLLECTOR_SIG_STAGES },
		{ METRIC_TX_QDISC, COLLECTOR_SIG_STAGES },
	};
	size_t i;

	for (i = 0; metric && i < sizeof(dists) / sizeof(dists[0]); i++)
		if (!strcmp(metric, dists[i].metric))
			return dists[i].bit;
	return 0;
}

/* A port filter: 1..65535 (0 is "off" in struct collector_opts). */
static int parse_port(const char *flag, const char *text, uint16_t *out,
		      struct rttq_error *err)
{
	uint64_t v;
	int rc = numparse_uint(flag, text, 1, 65535, &v, err);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

int collector_opts_parse(struct collector_opts *o, int opt, const char *value,
			 struct rttq_error *err)
{
	uint64_t v;
	int rc;

	switch (opt) {
	case COLLECTOR_OPT_GROUP_BY:
		rc = collector_parse_group_by(value, o, err);
		if (rc)
			rttq_error_prefix(err, "--group-by");
		return rc;
	case COLLECTOR_OPT_LPORT:
		return parse_port("--lport", value, &o->lport, err);
	case COLLECTOR_OPT_RPORT:
		return parse_port("--rport", value, &o->rport, err);
	case COLLECTOR_OPT_LADDR:
	case COLLECTOR_OPT_RADDR:
		rc = netaddr_parse_cidr(value, opt == COLLECTOR_OPT_LADDR ?
						       &o->laddr : &o->raddr,
					err);
		if (rc)
			rttq_error_prefix(err, "%s", opt == COLLECTOR_OPT_LADDR ?
							      "--laddr" :
							      "--raddr");
		return rc;
	case COLLECTOR_OPT_INCLUDE_LOOPBACK:
		o->include_loopback = true;
		return 0;
	case COLLECTOR_OPT_ATTACH:
		if (!collector_attach_known(value))
			return rttq_fail(err, -EINVAL,
					 "--attach: \"%s\" is not one of fentry, tp_btf, raw_tp, kprobe",
					 value);
		o->attach = value;
		return 0;
	case COLLECTOR_OPT_MAX_GROUPS:
		rc = numparse_uint("--max-groups", value, 1, GROUPS_LIMIT, &v,
				   err);
		if (rc == 0)
			o->max_groups = (uint32_t)v;
		return rc;
	case COLLECTOR_OPT_KERNEL_MEMORY:
		rc = numparse_uint("--kernel-memory", value, 1,
				   KERNEL_BUDGET_MAX_MIB, &v, err);
		if (rc == 0)
			o->kernel_memory_mib = (unsigned int)v;
		return rc;
	case COLLECTOR_OPT_GROUP_IDLE:
		rc = timeparse_duration_ms(value, &o->group_idle_ms, err);
		if (rc)
			rttq_error_prefix(err, "--group-idle");
		return rc;
	case COLLECTOR_OPT_SIGNALS:
		return collector_parse_signals(value, &o->signals, err);
	case COLLECTOR_OPT_SUB_BITS:
		rc = numparse_uint("--sub-bits", value, BUCKET_SUB_BITS_MIN,
				   BUCKET_SUB_BITS_MAX, &v, err);
		if (rc == 0)
			o->sub_bits = (unsigned int)v;
		return rc;
	case COLLECTOR_OPT_PEER_MAP:
		if (!value[0])
			return rttq_fail(err, -EINVAL, "--peer-map: empty file "
					 "name");
		o->peer_map = value;
		return 0;
	case COLLECTOR_OPT_CGROUP:
		if (value[0] != '/')
			return rttq_fail(err, -EINVAL, "--cgroup '%s': give "
					 "the path from the cgroup v2 root, "
					 "starting with '/'", value);
		o->cgroup = value;
		return 0;
	}
	return -ENOENT;
}

int collector_opts_check(const struct collector_opts *o,
			 struct rttq_error *err)
{
	if ((o->group_by & COLLECTOR_BY_PEER) && !o->peer_map)
		return rttq_fail(err, -EINVAL, "--group-by peer needs "
				 "--peer-map FILE (\"CIDR LABEL\" lines)");
	if (o->peer_map && !(o->group_by & COLLECTOR_BY_PEER))
		return rttq_fail(err, -EINVAL, "--peer-map is only read with "
				 "--group-by peer");
	return 0;
}

void collector_opts_usage(FILE *out, int indent, int column)
{
	size_t i;
	int n;

	for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		n = fprintf(out, "%*s%s", indent, "", help[i].flag);
		fprintf(out, "%*s%s\n", n < column ? column - n : 1, "",
			help[i].lines[0]);
		if (help[i].lines[1])
			fprintf(out, "%*s%s\n", column, "", help[i].lines[1]);
	}
}
