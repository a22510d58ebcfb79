// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query-string parameters of rttq-api (see params.h).  Strict on purpose:
 * a misspelt name ("form=") is an error, not a silently ignored filter.
 */
#include <errno.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "params.h"
#include "timeparse.h"

#define TIME_TEXT_MAX 64

int params_parse(struct evhttp_request *req, const char *const *allowed,
		 struct evkeyvalq *out, struct rttq_error *err)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);

	return params_parse_query(uri ? evhttp_uri_get_query(uri) : NULL,
				  allowed, out, err);
}

int params_parse_query(const char *query, const char *const *allowed,
		       struct evkeyvalq *out, struct rttq_error *err)
{
	struct evkeyval *kv, *other;
	size_t i;

	TAILQ_INIT(out);
	if (!query || !*query)
		return 0;
	if (evhttp_parse_query_str(query, out) != 0)
		return rttq_fail(err, -EINVAL, "query string is malformed "
				 "(expected name=value pairs joined by '&')");
	TAILQ_FOREACH(kv, out, next) {
		for (i = 0; allowed[i]; i++)
			if (!strcmp(kv->key, allowed[i]))
				break;
		if (!allowed[i])
			return rttq_fail(err, -EINVAL, "unknown parameter "
					 "'%.64s'", kv->key);
		for (other = TAILQ_NEXT(kv, next); other;
		     other = TAILQ_NEXT(other, next))
			if (!strcmp(kv->key, other->key))
				return rttq_fail(err, -EINVAL, "parameter "
						 "'%s' given twice", kv->key);
	}
	return 0;
}

int params_time(const struct evkeyvalq *q, const char *name, bool round_up,
		int64_t def_s, int64_t *out_s, struct rttq_error *err)
{
	const char *v = evhttp_find_header(q, name);
	char text[TIME_TEXT_MAX + 1];
	long nsec = 0;
	int64_t s;
	size_t i;

	if (!v) {
		if (def_s < 0)
			return rttq_fail(err, -EINVAL, "parameter '%s' is "
					 "required (RFC 3339 or epoch "
					 "seconds)", name);
		*out_s = def_s;
		return 0;
	}
	if (strlen(v) > TIME_TEXT_MAX)
		return rttq_fail(err, -EINVAL, "parameter '%s': too long",
				 name);
	/* An unencoded '+' of an offset arrives decoded as a space. */
	for (i = 0; v[i]; i++)
		text[i] = v[i] == ' ' ? '+' : v[i];
	text[i] = '\0';
	if (timeparse_time(text, &s, &nsec, err))
		return rttq_error_prefix(err, "parameter '%s'", name);
	*out_s = s + (round_up && nsec > 0);
	return 0;
}

int params_text(const struct evkeyvalq *q, const char *name, size_t max_len,
		const char **out, struct rttq_error *err)
{
	const char *v = evhttp_find_header(q, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!*v)
		return rttq_fail(err, -EINVAL, "parameter '%s' is empty", name);
	if (strlen(v) > max_len)
		return rttq_fail(err, -EINVAL, "parameter '%s' is longer than "
				 "%zu bytes", name, max_len);
	*out = v;
	return 0;
}
