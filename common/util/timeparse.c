// SPDX-License-Identifier: BSD-2-Clause
/*
 * RFC 3339 / epoch-seconds parsing and formatting (see timeparse.h).  The
 * calendar arithmetic is done here rather than with timegm() so that the
 * range checks are explicit and nothing depends on the process's TZ.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "timeparse.h"

#define DAY_S 86400

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian), by
 * counting whole 400-year eras of 146097 days from 0000-03-01; shifting the
 * year start to March puts the leap day last, so a year-of-era's day is
 * (153 * month' + 2) / 5 + d - 1 with month' = 0 for March.
 */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(), for days >= 0. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Read exactly @n decimal digits at *@p; -1 when they are not all there. */
static int read_digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

static int expect_char(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static int parse_epoch(const char *text, int64_t *sec_out,
		       struct rttq_error *err)
{
	int64_t v = 0;
	const char *p;

	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return rttq_fail(err, -EINVAL,
					 "time '%s': not RFC 3339 nor epoch "
					 "seconds", text);
		v = v * 10 + (*p - '0');
		if (v > TIMEPARSE_MAX_S)
			return rttq_fail(err, -EINVAL,
					 "time '%s': epoch seconds past "
					 "9999-12-31", text);
	}
	*sec_out = v;
	return 0;
}

int timeparse_time(const char *text, int64_t *sec_out, long *nsec_out,
		   struct rttq_error *err)
{
	int year, mon, mday, hour, min, sec, off_s = 0;
	const char *p = text;
	long nsec = 0;
	int64_t t;

	if (!text || !*text)
		return rttq_fail(err, -EINVAL, "time is empty");
	if (strlen(text) > 64)
		return rttq_fail(err, -EINVAL, "time '%.64s...': too long",
				 text);
	/* Digits only: epoch seconds.  RFC 3339 always has '-' at [4]. */
	if (strspn(text, "0123456789") == strlen(text)) {
		if (nsec_out)
			*nsec_out = 0;
		return parse_epoch(text, sec_out, err);
	}

	year = read_digits(&p, 4);
	if (year < 0 || expect_char(&p, '-'))
		goto malformed;
	mon = read_digits(&p, 2);
	if (mon < 0 || expect_char(&p, '-'))
		goto malformed;
	mday = read_digits(&p, 2);
	if (mday < 0 || (*p != 'T' && *p != 't'))
		goto malformed;
	p++;
	hour = read_digits(&p, 2);
	if (hour < 0 || expect_char(&p, ':'))
		goto malformed;
	min = read_digits(&p, 2);
	if (min < 0 || expect_char(&p, ':'))
		goto malformed;
	sec = read_digits(&p, 2);
	if (sec < 0)
		goto malformed;
	if (*p == '.') {
		long scale = 100000000;
		int ndigits = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			nsec += (*p - '0') * scale;
			scale /= 10;
			p++;
			ndigits++;
		}
		if (ndigits == 0 || ndigits > 9)
			return rttq_fail(err, -EINVAL,
					 "time '%s': fraction of a second "
					 "needs 1 to 9 digits", text);
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		oh = read_digits(&p, 2);
		if (oh < 0 || expect_char(&p, ':'))
			goto malformed;
		om = read_digits(&p, 2);
		if (om < 0)
			goto malformed;
		if (oh > 23 || om > 59)
			return rttq_fail(err, -EINVAL,
					 "time '%s': offset out of range",
					 text);
		off_s = sign * (oh * 3600 + om * 60);
	} else {
		return rttq_fail(err, -EINVAL,
				 "time '%s': needs 'Z' or an offset such as "
				 "+02:00 after the seconds", text);
	}
	if (*p)
		return rttq_fail(err, -EINVAL, "time '%s': unexpected '%s' at "
				 "the end", text, p);

	if (mon < 1 || mon > 12)
		return rttq_fail(err, -EINVAL, "time '%s': month %02d out of "
				 "range", text, mon);
	if (mday < 1 || mday > days_in_month(year, mon))
		return rttq_fail(err, -EINVAL, "time '%s': day %02d does not "
				 "exist in %04d-%02d", text, mday, year, mon);
	if (hour > 23)
		return rttq_fail(err, -EINVAL, "time '%s': hour %02d out of "
				 "range", text, hour);
	if (min > 59)
		return rttq_fail(err, -EINVAL, "time '%s': minute %02d out of "
				 "range", text, min);
	if (sec > 59)
		return rttq_fail(err, -EINVAL, "time '%s': second %02d out of "
				 "range (leap seconds are not supported)",
				 text, sec);

	t = days_from_civil(year, mon, mday) * DAY_S + hour * 3600 +
	    min * 60 + sec - off_s;
	if (t < 0 || t > TIMEPARSE_MAX_S)
		return rttq_fail(err, -EINVAL, "time '%s': before 1970 or "
				 "after 9999", text);
	*sec_out = t;
	if (nsec_out)
		*nsec_out = nsec;
	return 0;

malformed:
	return rttq_fail(err, -EINVAL, "time '%s': not RFC 3339 "
			 "(YYYY-MM-DDTHH:MM:SS[.frac]Z or +hh:mm) nor epoch "
			 "seconds", text);
}

/*
 * The one duration parser: digits, then a unit (seconds when absent), into
 * milliseconds.  "ms" is accepted only when @allow_ms, so a flag in whole
 * seconds never takes a value it would have to round.
 */
static int parse_duration_ms(const char *text, bool allow_ms, int64_t *ms_out,
			     struct rttq_error *err)
{
	const char *units = allow_ms ? "ms, s, m, h or d" : "s, m, h or d";
	int64_t v = 0, unit_ms = 1000;
	const char *p = text;

	if (!text || !*text)
		return rttq_fail(err, -EINVAL, "duration is empty");
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > TIMEPARSE_MAX_S)
			return rttq_fail(err, -ERANGE, "duration '%s': too "
					 "long", text);
	}
	if (p == text)
		return rttq_fail(err, -EINVAL, "duration '%s': needs digits, "
				 "then %s", text, units);
	if (allow_ms && p[0] == 'm' && p[1] == 's') {
		unit_ms = 1;
		p += 2;
	} else {
		switch (*p) {
		case '\0':
			break;
		case 's':
			p++;
			break;
		case 'm':
			unit_ms = 60 * 1000;
			p++;
			break;
		case 'h':
			unit_ms = 3600 * 1000;
			p++;
			break;
		case 'd':
			unit_ms = DAY_S * 1000;
			p++;
			break;
		default:
			return rttq_fail(err, -EINVAL, "duration '%s': unknown "
					 "unit '%s' (%s)", text, p, units);
		}
	}
	if (*p)
		return rttq_fail(err, -EINVAL, "duration '%s': unexpected '%s' "
				 "at the end", text, p);
	if (v == 0)
		return rttq_fail(err, -EINVAL, "duration '%s': must be above "
				 "zero", text);
	if (v > TIMEPARSE_MAX_S * 1000 / unit_ms)
		return rttq_fail(err, -ERANGE, "duration '%s': too long", text);
	*ms_out = v * unit_ms;
	return 0;
}

int timeparse_duration(const char *text, int64_t *sec_out,
		       struct rttq_error *err)
{
	int64_t ms;
	int rc;

	rc = parse_duration_ms(text, false, &ms, err);
	if (rc == 0)
		*sec_out = ms / 1000;
	return rc;
}

int timeparse_duration_ms(const char *text, int64_t *ms_out,
			  struct rttq_error *err)
{
	return parse_duration_ms(text, true, ms_out, err);
}

int timeparse_format(int64_t sec, char *buf, size_t len)
{
	int y, m, d, n;
	int64_t days, rem;

	if (len > 0)
		buf[0] = '\0';
	if (sec < 0 || sec > TIMEPARSE_MAX_S || len < TIMEPARSE_RFC3339_LEN)
		return -EINVAL;
	days = sec / DAY_S;
	rem = sec % DAY_S;
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
		     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return n == TIMEPARSE_RFC3339_LEN - 1 ? 0 : -EINVAL;
}
