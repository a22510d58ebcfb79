// SPDX-License-Identifier: BSD-2-Clause
/*
 * librttq-signals, the handle: rttq_signals_open() turns the caller's
 * filters into collector options and opens a collector of its own (no
 * groups, the families a control loop reads), so a handle never depends
 * on rttq-agent running or not; errors are kept per handle, and per
 * thread for a failed open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "collector_opts.h"
#include "signals_private.h"

/*
 * The families a sample is made of (jitter, handshakes and run-queue
 * latency are not in it, so their programs stay unloaded).  A kernel
 * without a family's hook turns it off alone, and its fields read 0.
 */
#define SIGNALS_WANTED                                                     \
	(COLLECTOR_SIG_RTT | COLLECTOR_SIG_RETRANS | COLLECTOR_SIG_DROPS |  \
	 COLLECTOR_SIG_BYTES | COLLECTOR_SIG_SNDBUF | COLLECTOR_SIG_SOFTIRQ)

/* Why the last rttq_signals_open() of this thread failed. */
static _Thread_local struct rttq_error open_err;

/* collector_log_fn: a library does not write to its caller's stderr;
 * what the collector says (a family this kernel lacks) is not an error. */
static void log_quiet(const char *line, void *arg)
{
}

/* @text as the address filter @field, or -EINVAL naming the field. */
static int parse_filter(const char *field, const char *text,
			struct addr_filter *out, struct rttq_error *err)
{
	if (!text)
		return 0;
	if (netaddr_parse_cidr(text, out, err))
		return rttq_error_prefix(err, "rttq_signals_opts.%s", field);
	return 0;
}

static int opts_to_collector(const struct rttq_signals_opts *o,
			     struct collector_opts *c, struct rttq_error *err)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->signals = SIGNALS_WANTED;
	c->log = log_quiet;
	if (!o)
		return 0;
	c->lport = o->lport;
	c->rport = o->rport;
	c->include_loopback = o->include_loopback != 0;
	ret = parse_filter("raddr", o->raddr, &c->raddr, err);
	if (!ret)
		ret = parse_filter("laddr", o->laddr, &c->laddr, err);
	if (ret)
		return ret;
	if (o->cgroup && o->cgroup[0] != '/')
		return rttq_fail(err, -EINVAL,
				 "rttq_signals_opts.cgroup '%s': a cgroup v2 path starts with '/'",
				 o->cgroup);
	c->cgroup = o->cgroup;
	return 0;
}

SIGNALS_API int rttq_signals_open(struct rttq_signals **out,
				  const struct rttq_signals_opts *opts)
{
	struct collector_opts copts;
	struct rttq_signals *h;
	int ret;

	memset(&open_err, 0, sizeof(open_err));
	if (!out)
		return rttq_fail(&open_err, -EINVAL,
				 "rttq_signals_open: out is NULL");
	*out = NULL;
	ret = opts_to_collector(opts, &copts, &open_err);
	if (ret)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h)
		return rttq_fail(&open_err, -ENOMEM,
				 "rttq_signals_open: out of memory");
	ret = signals_acc_init(&h->acc);
	if (ret) {
		rttq_fail(&open_err, ret, "rttq_signals_open: out of memory");
		goto fail;
	}
	ret = collector_open(&copts, &h->collector, &open_err);
	if (ret)
		goto fail;
	h->last_ns = signals_now_ns();
	*out = h;
	return 0;
fail:
	rttq_signals_close(h);
	return ret;
}

SIGNALS_API const char *rttq_signals_last_error(const struct rttq_signals *h)
{
	return h ? h->err.msg : open_err.msg;
}

SIGNALS_API unsigned int rttq_signals_prog_fds(const struct rttq_signals *h,
					       int *fds, const char **names,
					       unsigned int max)
{
	return collector_prog_fds(h->collector, fds, names, max);
}

SIGNALS_API void rttq_signals_close(struct rttq_signals *h)
{
	if (!h)
		return;
	collector_close(h->collector);
	signals_acc_free(&h->acc);
	free(h);
}
