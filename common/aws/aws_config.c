// SPDX-License-Identifier: BSD-2-Clause
/*
 * AWS configuration chain (see aws_config.h): environment variables first,
 * then the profile's sections of the shared credentials and config files
 * (INI: "[name]" in credentials, "[profile name]" or "[default]" in config;
 * indented lines belong to a nested service block and are skipped).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws_config.h"

#define INI_LINE_MAX 4096

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int set(char **dst, const char *v, struct rttq_error *err)
{
	if (*dst || !v)
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : rttq_fail(err, -ENOMEM, "AWS configuration: out of memory");
}

/* ~/.aws/NAME unless the variable names another file; NULL without HOME. */
static char *aws_file(const char *var, const char *name)
{
	const char *home = env("HOME");
	char *path;

	if (env(var))
		return strdup(env(var));
	if (!home)
		return NULL;
	if (asprintf(&path, "%s/.aws/%s", home, name) < 0)
		return NULL;
	return path;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Is "[...]" the header of @profile?  In the config file the default
 * profile is "[default]" and the others "[profile NAME]". */
static bool section_matches(char *header, const char *profile, bool config)
{
	char *name = trim(header);

	if (config && strcmp(profile, "default") != 0) {
		if (strncmp(name, "profile", 7) != 0 ||
		    !isspace((unsigned char)name[7]))
			return false;
		name = trim(name + 8);
	} else if (config && strncmp(name, "profile", 7) == 0 &&
		   isspace((unsigned char)name[7])) {
		name = trim(name + 8);
	}
	return strcmp(name, profile) == 0;
}

struct ini_want {
	const char *key;
	char **dst;
};

/* Fill each unset *dst from @profile's section of @path; a missing file is
 * fine, an unreadable one is not. */
static int ini_read(const char *path, const char *profile, bool config,
		    const struct ini_want *want, size_t n_want,
		    struct rttq_error *err)
{
	char line[INI_LINE_MAX];
	bool in_section = false;
	FILE *f;
	int ret = 0;

	if (!path)
		return 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return rttq_fail(err, -EIO, "AWS configuration: cannot read %s: %s",
				 path, strerror(errno));
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *s = line, *eq, *key, *value;

		if (isspace((unsigned char)line[0]) && in_section &&
		    *trim(line))
			continue; /* nested "service =" block */
		s = trim(s);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strrchr(s, ']');

			if (close)
				*close = '\0';
			in_section = close && section_matches(s + 1, profile, config);
			continue;
		}
		if (!in_section || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		for (size_t i = 0; i < n_want; i++)
			if (strcmp(key, want[i].key) == 0 && *value)
				ret = set(want[i].dst, value, err);
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return ret;
}

/* Regions go into a host name: lower-case letters, digits and '-'. */
static int check_region(const char *region, struct rttq_error *err)
{
	size_t n = strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-");

	if (!*region || region[n] || n > 32)
		return rttq_fail(err, -EINVAL,
				 "AWS region \"%s\" is not a region name (like eu-west-1)",
				 region);
	return 0;
}

static int load_region(struct aws_config *c, const char *region,
		       const char *config_file, struct rttq_error *err)
{
	struct ini_want want[] = { { "region", &c->region } };
	int ret;

	ret = set(&c->region, region, err);
	if (!ret)
		ret = set(&c->region, env("AWS_REGION"), err);
	if (!ret)
		ret = set(&c->region, env("AWS_DEFAULT_REGION"), err);
	if (!ret)
		ret = ini_read(config_file, c->profile, true, want, 1, err);
	if (ret)
		return ret;
	if (!c->region)
		return rttq_fail(err, -ENOENT,
				 "no AWS region: give ?region=R, set AWS_REGION, or add region to profile \"%s\" in %s",
				 c->profile, config_file ? config_file : "~/.aws/config");
	return check_region(c->region, err);
}

static int load_endpoint(struct aws_config *c, const char *service,
			 const char *endpoint, struct rttq_error *err)
{
	char var[64];
	size_t i;
	int ret;

	ret = set(&c->endpoint, endpoint, err);
	if (ret || c->endpoint)
		return ret;
	i = (size_t)snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_");
	for (const char *p = service; *p && i + 1 < sizeof(var); p++)
		var[i++] = (char)toupper((unsigned char)*p);
	var[i] = '\0';
	ret = set(&c->endpoint, env(var), err);
	if (!ret)
		ret = set(&c->endpoint, env("AWS_ENDPOINT_URL"), err);
	if (ret || c->endpoint)
		return ret;
	if (asprintf(&c->endpoint, "https://%s.%s.amazonaws.com", service,
		     c->region) < 0) {
		c->endpoint = NULL;
		return rttq_fail(err, -ENOMEM, "AWS configuration: out of memory");
	}
	return 0;
}

static int load_credentials(struct aws_config *c, const char *cred_file,
			    const char *config_file, struct rttq_error *err)
{
	struct ini_want want[] = {
		{ "aws_access_key_id", &c->access_key_id },
		{ "aws_secret_access_key", &c->secret_access_key },
		{ "aws_session_token", &c->session_token },
	};
	const char *id = env("AWS_ACCESS_KEY_ID");
	const char *secret = env("AWS_SECRET_ACCESS_KEY");
	int ret;

	if (!!id != !!secret)
		return rttq_fail(err, -EINVAL,
				 "%s is set but %s is not; set both or neither",
				 id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				 id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (id) {
		ret = set(&c->access_key_id, id, err);
		if (!ret)
			ret = set(&c->secret_access_key, secret, err);
		if (!ret)
			ret = set(&c->session_token, env("AWS_SESSION_TOKEN"), err);
		return ret;
	}
	ret = ini_read(cred_file, c->profile, false, want, 3, err);
	if (!ret && !c->access_key_id && !c->secret_access_key)
		ret = ini_read(config_file, c->profile, true, want, 3, err);
	if (ret)
		return ret;
	if (!c->access_key_id || !c->secret_access_key)
		return rttq_fail(err, -ENOKEY,
				 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile \"%s\" aws_access_key_id and aws_secret_access_key in %s",
				 c->profile, cred_file ? cred_file : "~/.aws/credentials");
	return 0;
}

int aws_config_load(const char *service, const char *region,
		    const char *endpoint, struct aws_config *out,
		    struct rttq_error *err)
{
	char *cred_file = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *config_file = aws_file("AWS_CONFIG_FILE", "config");
	int ret;

	memset(out, 0, sizeof(*out));
	ret = set(&out->profile, env("AWS_PROFILE") ? env("AWS_PROFILE") : "default",
		  err);
	if (!ret)
		ret = load_region(out, region, config_file, err);
	if (!ret)
		ret = load_endpoint(out, service, endpoint, err);
	if (!ret)
		ret = set(&out->ca_file, env("AWS_CA_BUNDLE"), err);
	if (!ret)
		ret = load_credentials(out, cred_file, config_file, err);
	free(cred_file);
	free(config_file);
	return ret;
}

static void wipe(char **s)
{
	if (*s)
		OPENSSL_cleanse(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void aws_config_release(struct aws_config *c)
{
	if (!c)
		return;
	free(c->region);
	free(c->endpoint);
	free(c->ca_file);
	free(c->profile);
	wipe(&c->access_key_id);
	wipe(&c->secret_access_key);
	wipe(&c->session_token);
	memset(c, 0, sizeof(*c));
}
