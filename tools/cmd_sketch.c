// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq sketch: run a file of values (one per line, microseconds) through
 * the whole quantile pipeline (batches -> buckets -> digest -> bytes ->
 * digest -> one merge) and print the quantiles as JSON, so the pipeline's
 * accuracy can be checked against any data without a kernel or a store.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "buckets.h"
#include "cli.h"
#include "commands.h"
#include "numparse.h"
#include "sketch.h"
#include "tdigest.h"

struct sketch_env {
	struct sketch_opts opts;
	struct answer_quantiles qs; /* which quantiles to print */
};

static const char usage_text[] =
	"Usage: rttq sketch [OPTIONS] < values.txt\n"
	"\n"
	"Reads one value per line (microseconds, integer or decimal; rounded to\n"
	"whole microseconds as the kernel measures them), splits them into\n"
	"consecutive batches, runs each batch through buckets -> t-digest ->\n"
	"encoding -> decoding, merges every batch's digest and prints JSON:\n"
	"  {\"count\":N,\"batches\":B,\"bytes_per_digest\":B,\"quantiles\":{...}}\n"
	"with quantile values in microseconds.\n"
	"\n"
	"Options:\n"
	"  -b, --batches N       consecutive batches (default 1)\n"
	"  -q, --q LIST          quantiles in percent (default 50,90,99,99.9)\n"
	"  -g, --sub-bits G      bucket sub-bits, 3..7 (default 5)\n"
	"  -c, --compression C   t-digest compression, 20..1000 (default 100)\n"
	"  -h, --help            this text\n";

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct sketch_env *env)
{
	static const struct option longopts[] = {
		{ "batches", required_argument, NULL, 'b' },
		{ "q", required_argument, NULL, 'q' },
		{ "sub-bits", required_argument, NULL, 'g' },
		{ "compression", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct rttq_error err = { 0 };
	uint64_t v;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "b:q:g:c:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'b':
			rc = numparse_uint("--batches", optarg, 1, 100000000,
					   &v, &err);
			env->opts.batches = (size_t)v;
			break;
		case 'q':
			rc = answer_quantiles_parse(optarg, &env->qs, &err);
			if (rc)
				rttq_error_prefix(&err, "--q");
			break;
		case 'g':
			rc = numparse_uint("--sub-bits", optarg,
					   BUCKET_SUB_BITS_MIN,
					   BUCKET_SUB_BITS_MAX, &v, &err);
			env->opts.sub_bits = (unsigned int)v;
			break;
		case 'c':
			rc = numparse_real("--compression", optarg,
					   TDIGEST_COMPRESSION_MIN,
					   TDIGEST_COMPRESSION_MAX,
					   &env->opts.compression, &err);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_HELP;
		default:
			fputs(usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
		if (rc) {
			fprintf(stderr, "rttq sketch: %s\n", err.msg);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rttq sketch: unexpected argument '%s' (values "
			"are read from standard input)\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

/* Reads every line of @in; on a bad line names it and fails. */
static int read_values(FILE *in, uint32_t **out, size_t *n)
{
	uint32_t *v = NULL, *p;
	size_t cap = 0, lineno = 0, len = 0;
	char *line = NULL, *end;
	ssize_t got;
	double d;

	*n = 0;
	while ((got = getline(&line, &len, in)) != -1) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			p = realloc(v, cap * sizeof(*v));
			if (!p) {
				fprintf(stderr, "rttq sketch: out of memory\n");
				goto fail;
			}
			v = p;
		}
		errno = 0;
		d = strtod(line, &end);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno || end == line || *end ||
		    sketch_value_us(d, &v[*n])) {
			fprintf(stderr, "rttq sketch: line %zu: '%s' is not a "
				"value in microseconds (0 .. 4294967295)\n",
				lineno, line);
			goto fail;
		}
		(*n)++;
	}
	if (ferror(in)) {
		fprintf(stderr, "rttq sketch: reading standard input: %s\n",
			strerror(errno));
		goto fail;
	}
	free(line);
	*out = v;
	return 0;
fail:
	free(line);
	free(v);
	return -EINVAL;
}

static void print_result(const struct sketch_env *env, size_t n,
			 const struct sketch_result *res)
{
	size_t i;

	printf("{\"count\":%zu,\"batches\":%zu,\"bytes_per_digest\":%.0f,"
	       "\"quantiles\":{", n, res->batches, res->bytes_mean);
	for (i = 0; n && i < env->qs.n; i++)
		printf("%s\"%s\":%.3f", i ? "," : "", env->qs.name[i],
		       tdigest_quantile(res->merged, env->qs.q[i]));
	printf("}}\n");
}

int cmd_sketch(int argc, char **argv)
{
	struct sketch_env env = {
		.opts = {
			.batches = 1,
			.sub_bits = BUCKET_SUB_BITS_DEFAULT,
			.compression = TDIGEST_COMPRESSION_DEFAULT,
		},
	};
	struct sketch_result res = { 0 };
	struct rttq_error err = { 0 };
	uint32_t *values = NULL;
	size_t n = 0;
	int rc;

	answer_quantiles_parse("50,90,99,99.9", &env.qs, NULL);
	rc = parse_args(argc, argv, &env);
	if (rc != CLI_CONTINUE)
		return rc;
	if (read_values(stdin, &values, &n))
		return 1;
	rc = sketch_run(values, n, &env.opts, &res, &err);
	if (rc) {
		fprintf(stderr, "rttq sketch: %s\n", err.msg);
		free(values);
		return 1;
	}
	print_result(&env, n, &res);
	tdigest_free(res.merged);
	free(values);
	return 0;
}
