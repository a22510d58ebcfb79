// SPDX-License-Identifier: BSD-2-Clause
/*
 * fill-metrics: the metrics beside rtt, for the shell-driven tests of
 * /quantiles?metric=, /series?metric= and /counters.  Usage:
 *   fill-metrics URL HOST START_S N
 * writes N 60 s periods from START_S (a multiple of 60) of group "all":
 * a counter set {retrans.fast: k % 5, retrans.timeout: 1 when k % 7 == 0,
 * segs.out: 100, drops.tcp.netfilter_drop: 2}, a jitter digest of
 * k + 1 samples of 300 us and an sndbuf digest of 2 samples of 32.1 %
 * (32,100 thousandths of a per cent), for period k.  Prints nothing on
 * success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"
#include "counter_set.h"
#include "store.h"
#include "strbuf.h"
#include "tdigest.h"

static int put_period(struct store *st, const char *host, int64_t start,
		      int k, struct rttq_error *err)
{
	struct counter_set cs = COUNTER_SET_INIT;
	struct strbuf b = STRBUF_INIT;
	struct tdigest *td = NULL, *sd = NULL;
	uint8_t *jit = NULL, *snd = NULL;
	size_t jit_len = 0, snd_len = 0;
	int rc;

	rc = counter_set_add(&cs, "retrans.fast", (uint64_t)(k % 5));
	if (!rc)
		rc = counter_set_add(&cs, "retrans.timeout", k % 7 == 0);
	if (!rc)
		rc = counter_set_add(&cs, "segs.out", 100);
	if (!rc)
		rc = counter_set_add(&cs, "drops.tcp.netfilter_drop", 2);
	if (!rc)
		rc = counter_set_encode(&cs, &b);
	if (!rc)
		rc = tdigest_new(100, &td);
	if (!rc)
		rc = tdigest_add(td, 300, (uint64_t)k + 1);
	if (!rc)
		rc = codec_encode(td, &jit, &jit_len);
	if (!rc)
		rc = tdigest_new(100, &sd);
	if (!rc)
		rc = tdigest_add(sd, 32100, 2);
	if (!rc)
		rc = codec_encode(sd, &snd, &snd_len);
	if (!rc) {
		struct store_record r[3] = {
			{ .host = host, .group = "all",
			  .metric = METRIC_COUNTERS, .period_s = 60,
			  .start_s = start, .periods = 1, .periods_total = 1,
			  .count = cs.n, .digest = (const uint8_t *)b.buf,
			  .digest_len = b.len },
			{ .host = host, .group = "all",
			  .metric = METRIC_JITTER, .period_s = 60,
			  .start_s = start, .periods = 1, .periods_total = 1,
			  .count = (uint64_t)k + 1, .sum_us = 300.0 * (k + 1),
			  .min_us = 300, .max_us = 300, .digest = jit,
			  .digest_len = jit_len },
			{ .host = host, .group = "all",
			  .metric = METRIC_SNDBUF, .period_s = 60,
			  .start_s = start, .periods = 1, .periods_total = 1,
			  .count = 2, .sum_us = 64200, .min_us = 32100,
			  .max_us = 32100, .digest = snd,
			  .digest_len = snd_len },
		};

		rc = store_put(st, r, 3, err);
	}
	counter_set_free(&cs);
	strbuf_release(&b);
	tdigest_free(td);
	tdigest_free(sd);
	free(jit);
	free(snd);
	return rc;
}

int main(int argc, char **argv)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int64_t start;
	int n, rc;

	if (argc != 5) {
		fprintf(stderr, "usage: fill-metrics URL HOST START_S N\n");
		return 2;
	}
	start = strtoll(argv[3], NULL, 10);
	n = atoi(argv[4]);
	rc = store_open(argv[1], &st, &err);
	for (int k = 0; !rc && k < n; k++)
		rc = put_period(st, argv[2], start + 60 * k, k, &err);
	if (rc)
		fprintf(stderr, "fill-metrics: %s\n", err.msg[0] ? err.msg :
			"out of memory");
	store_close(st);
	return rc ? 1 : 0;
}
