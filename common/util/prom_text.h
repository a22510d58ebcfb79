/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition format 0.0.4, written to a stdio stream: HELP
 * and TYPE lines, samples with escaped label values, numbers as Prometheus
 * reads them (NaN, +Inf, -Inf) and whole histograms.  rttq-agent's and
 * rttq-api's /metrics both render through it, so escaping and number
 * formats cannot drift apart between the two.
 */
#ifndef RTTQ_PROM_TEXT_H
#define RTTQ_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Content-Type of a /metrics answer in this format. */
#define PROM_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One label of a sample; the value is escaped when written. */
struct prom_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, written as is */
	const char *value; /* any UTF-8 text */
};

/* Writes a whole exposition into @f; see prom_text_render(). */
typedef void (*prom_write_fn)(FILE *f, const void *arg);

/**
 * prom_text_render() - run @fn on a memory stream and hand back the text.
 * @fn: writes the families.
 * @arg: passed to @fn.
 * @out: receives a malloc'ed, NUL-terminated text; free() it.
 * @len: receives its length.
 *
 * @return 0, -ENOMEM (nothing is returned).
 */
RTTQ_API int prom_text_render(prom_write_fn fn, const void *arg,
			      char **out, size_t *len);

/**
 * prom_family() - "# HELP NAME HELP" and "# TYPE NAME TYPE" lines.
 * @f: the stream.
 * @name: metric family name.
 * @type: "counter", "gauge", "histogram" or "summary".
 * @doc: the HELP text, one sentence (backslash and newline are escaped).
 */
RTTQ_API void prom_family(FILE *f, const char *name, const char *type,
			  const char *doc);

/**
 * prom_sample_u64() - "NAME{L1=\"V1\",...} VALUE" ("NAME VALUE" when
 * @nlabels is 0).
 * @f: the stream.
 * @name: sample name.
 * @labels: @nlabels labels in the order written; NULL when @nlabels is 0.
 * @nlabels: how many.
 * @v: the value, in decimal.
 */
RTTQ_API void prom_sample_u64(FILE *f, const char *name,
			      const struct prom_label *labels, size_t nlabels,
			      uint64_t v);

/**
 * prom_sample_double() - as prom_sample_u64() for a real value: NaN, +Inf,
 * -Inf or up to 15 significant digits ("%.15g").
 * @f: the stream.
 * @name: sample name.
 * @labels: @nlabels labels; NULL when @nlabels is 0.
 * @nlabels: how many.
 * @v: the value.
 */
RTTQ_API void prom_sample_double(FILE *f, const char *name,
				 const struct prom_label *labels,
				 size_t nlabels, double v);

/**
 * prom_metric_u64() - a family of one unlabelled sample: prom_family()
 * then "NAME VALUE".
 * @f: the stream.
 * @name: metric name.
 * @type: "counter" or "gauge".
 * @doc: the HELP text, one sentence.
 * @v: the value.
 */
RTTQ_API void prom_metric_u64(FILE *f, const char *name, const char *type,
			      const char *doc, uint64_t v);

/**
 * prom_histogram() - one histogram series (the family's HELP and TYPE are
 * the caller's): NAME_bucket per bound with cumulative counts, the +Inf
 * bucket (= @count), NAME_sum and NAME_count.
 * @f: the stream.
 * @name: family name, without the _bucket/_sum/_count suffixes.
 * @label: the series' label, written before "le"; NULL: none.
 * @le: @nbounds upper bounds as they should read ("0.0005", "2.5").
 * @counts: @nbounds observations per bound, not cumulative (each counts
 *          only what is above the previous bound).
 * @nbounds: bounds besides +Inf.
 * @sum: sum of the observations.
 * @count: number of observations, the ones above every bound included.
 */
RTTQ_API void prom_histogram(FILE *f, const char *name,
			     const struct prom_label *label,
			     const char *const *le, const uint64_t *counts,
			     size_t nbounds, double sum, uint64_t count);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_PROM_TEXT_H */
