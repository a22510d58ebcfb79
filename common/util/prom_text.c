// SPDX-License-Identifier: BSD-2-Clause
/*
 * Prometheus text format 0.0.4 (see prom_text.h).  Output errors are not
 * checked line by line: a memory stream remembers them and
 * prom_text_render() reports them once at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "prom_text.h"

/* Backslash and newline escaped, and double quotes too in a label value
 * (@quotes); HELP text leaves them as they are. */
static void put_escaped(FILE *f, const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"' && quotes)
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.15g", v);
}

/* "NAMESUFFIX{L1=\"V1\",...} " or "NAMESUFFIX " without labels. */
static void put_series(FILE *f, const char *name, const char *suffix,
		       const struct prom_label *labels, size_t nlabels)
{
	size_t i;

	fputs(name, f);
	fputs(suffix, f);
	for (i = 0; i < nlabels; i++) {
		fprintf(f, "%c%s=\"", i ? ',' : '{', labels[i].name);
		put_escaped(f, labels[i].value, true);
		fputc('"', f);
	}
	fputs(nlabels ? "} " : " ", f);
}

int prom_text_render(prom_write_fn fn, const void *arg, char **out,
		     size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	int bad;

	if (!f)
		return -ENOMEM;
	fn(f, arg);
	bad = ferror(f);
	if (fclose(f) || bad) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	*len = n;
	return 0;
}

void prom_family(FILE *f, const char *name, const char *type,
		 const char *doc)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, doc, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void prom_sample_u64(FILE *f, const char *name,
		     const struct prom_label *labels, size_t nlabels,
		     uint64_t v)
{
	put_series(f, name, "", labels, nlabels);
	fprintf(f, "%llu\n", (unsigned long long)v);
}

void prom_sample_double(FILE *f, const char *name,
			const struct prom_label *labels, size_t nlabels,
			double v)
{
	put_series(f, name, "", labels, nlabels);
	put_double(f, v);
	fputc('\n', f);
}

void prom_metric_u64(FILE *f, const char *name, const char *type,
		     const char *doc, uint64_t v)
{
	prom_family(f, name, type, doc);
	prom_sample_u64(f, name, NULL, 0, v);
}

void prom_histogram(FILE *f, const char *name, const struct prom_label *label,
		    const char *const *le, const uint64_t *counts,
		    size_t nbounds, double sum, uint64_t count)
{
	struct prom_label labels[2];
	size_t n = 0, b;
	uint64_t cumulative = 0;

	if (label)
		labels[n++] = *label;
	labels[n].name = "le";
	for (b = 0; b <= nbounds; b++) {
		labels[n].value = b < nbounds ? le[b] : "+Inf";
		cumulative = b < nbounds ? cumulative + counts[b] : count;
		put_series(f, name, "_bucket", labels, n + 1);
		fprintf(f, "%llu\n", (unsigned long long)cumulative);
	}
	put_series(f, name, "_sum", labels, n);
	put_double(f, sum);
	fputc('\n', f);
	put_series(f, name, "_count", labels, n);
	fprintf(f, "%llu\n", (unsigned long long)count);
}
