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
#include <strings.h>

#include <time.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>

#include "aws_config.h"
#include "http_client.h"

#define INI_LINE_MAX 4096
#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_S "21600"
#define IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define NOT_CONFIGURED 1 /* a metadata source that does not apply here */

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

/* ------------------------------------------------------------------------
 * Container and instance credentials: a JSON document with AccessKeyId,
 * SecretAccessKey, Token and Expiration (RFC 3339, UTC).
 * ------------------------------------------------------------------------ */

static int parse_expiration(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!end)
		return -1;
	if (*end == '.') /* fractional seconds */
		end += 1 + strspn(end + 1, "0123456789");
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int parse_credentials(struct aws_config *c, const char *body,
			     const char *from, struct rttq_error *err)
{
	static const char *id_path[] = { "AccessKeyId", NULL };
	static const char *secret_path[] = { "SecretAccessKey", NULL };
	static const char *token_path[] = { "Token", NULL };
	static const char *exp_path[] = { "Expiration", NULL };
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	const char *id = YAJL_GET_STRING(yajl_tree_get(root, id_path, yajl_t_string));
	const char *secret = YAJL_GET_STRING(yajl_tree_get(root, secret_path, yajl_t_string));
	const char *token = YAJL_GET_STRING(yajl_tree_get(root, token_path, yajl_t_string));
	const char *exp = YAJL_GET_STRING(yajl_tree_get(root, exp_path, yajl_t_string));
	int ret = 0;

	if (!id || !*id || !secret || !*secret)
		ret = rttq_fail(err, -EPROTO,
				"%s: the reply has no AccessKeyId/SecretAccessKey",
				from);
	else if (exp && parse_expiration(exp, &c->expires_s))
		ret = rttq_fail(err, -EPROTO, "%s: Expiration \"%s\" is not UTC RFC 3339",
				from, exp);
	if (!ret)
		ret = set(&c->access_key_id, id, err);
	if (!ret)
		ret = set(&c->secret_access_key, secret, err);
	if (!ret && token && *token)
		ret = set(&c->session_token, token, err);
	if (root && root->type == yajl_t_object) {
		/* Wipe the parsed copy of the secret and token. */
		for (size_t i = 0; i < root->u.object.len; i++) {
			yajl_val v = root->u.object.values[i];

			if (YAJL_IS_STRING(v))
				OPENSSL_cleanse(v->u.string, strlen(v->u.string));
		}
	}
	yajl_tree_free(root);
	return ret;
}

/* One request on @hc; the reply body on 200, else an error naming @what. */
static int metadata_request(struct http_client *hc, const char *method,
			    const char *path, const struct http_header *h,
			    size_t n_h, const char *what, char **body,
			    struct rttq_error *err)
{
	struct http_response resp = { 0 };
	int ret;

	ret = http_client_request(hc, method, path, h, n_h, NULL, 0,
				  AWS_METADATA_TIMEOUT_MS, &resp, err);
	if (ret)
		return rttq_error_prefix(err, "%s", what);
	if (resp.status != 200) {
		ret = rttq_fail(err, -EIO, "%s: HTTP status %d", what, resp.status);
		http_response_release(&resp);
		return ret;
	}
	*body = resp.body; /* handed over */
	return 0;
}

static char *read_token_file(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *t = strdup(trim(buf));
	OPENSSL_cleanse(buf, sizeof(buf));
	return t;
}

/* ECS / EKS Pod Identity: GET the configured URI with the token, if any. */
static int fetch_container(struct aws_config *c, struct rttq_error *err)
{
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct http_client *hc = NULL;
	struct http_header auth = { "Authorization", NULL };
	char *url = NULL, *token = NULL, *body = NULL, *path;
	int ret;

	if (!full && !rel)
		return NOT_CONFIGURED;
	if (full)
		url = strdup(full);
	else if (asprintf(&url, CONTAINER_HOST "%s%s", rel[0] == '/' ? "" : "/",
			  rel) < 0)
		url = NULL;
	if (!url)
		return rttq_fail(err, -ENOMEM, "AWS configuration: out of memory");
	if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
		token = strdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	else if (token_file && !(token = read_token_file(token_file))) {
		ret = rttq_fail(err, -EIO, "container credentials: cannot read %s: %s",
				token_file, strerror(errno));
		goto cleanup;
	}
	/* Split "http://host:port/path" into the origin and the path. */
	path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	{
		char *p = strdup(path ? path : "/");

		if (!p) {
			ret = rttq_fail(err, -ENOMEM, "AWS configuration: out of memory");
			goto cleanup;
		}
		if (path)
			*path = '\0';
		path = p;
	}
	ret = http_client_new(url, NULL, &hc, err);
	auth.value = token;
	if (!ret)
		ret = metadata_request(hc, "GET", path, &auth, token ? 1 : 0,
				       "container credentials", &body, err);
	if (!ret)
		ret = parse_credentials(c, body, "container credentials", err);
	if (!ret)
		c->source = AWS_CREDS_CONTAINER;
	free(path);
cleanup:
	http_client_free(hc);
	if (body)
		OPENSSL_cleanse(body, strlen(body));
	free(body);
	if (token)
		OPENSSL_cleanse(token, strlen(token));
	free(token);
	free(url);
	return ret;
}

/* EC2 IMDSv2: session token (PUT), role name, then the role's keys. */
static int fetch_instance(struct aws_config *c, struct rttq_error *err)
{
	const char *disabled = env("AWS_EC2_METADATA_DISABLED");
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct http_header ttl = { "X-aws-ec2-metadata-token-ttl-seconds",
				   IMDS_TOKEN_TTL_S };
	struct http_header tok = { "X-aws-ec2-metadata-token", NULL };
	struct http_client *hc = NULL;
	char *token = NULL, *roles = NULL, *body = NULL, path[512];
	struct rttq_error probe = { 0 };
	int ret;

	if (disabled && strcasecmp(disabled, "true") == 0)
		return NOT_CONFIGURED;
	ret = http_client_new(base ? base : IMDS_ENDPOINT, NULL, &hc, err);
	if (ret)
		return rttq_error_prefix(err, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	/* No answer here just means "not on EC2". */
	ret = metadata_request(hc, "PUT", "/latest/api/token", &ttl, 1,
			       "instance metadata", &token, &probe);
	if (ret) {
		ret = NOT_CONFIGURED;
		goto cleanup;
	}
	tok.value = trim(token);
	ret = metadata_request(hc, "GET", IMDS_ROLE_PATH, &tok, 1,
			       "instance metadata (no IAM role attached?)",
			       &roles, err);
	if (ret)
		goto cleanup;
	roles[strcspn(roles, "\r\n")] = '\0';
	if (!*trim(roles) || strlen(roles) > 128 || strchr(roles, '/')) {
		ret = rttq_fail(err, -EIO, "instance metadata: no IAM role attached");
		goto cleanup;
	}
	snprintf(path, sizeof(path), IMDS_ROLE_PATH "%s", trim(roles));
	ret = metadata_request(hc, "GET", path, &tok, 1,
			       "instance metadata credentials", &body, err);
	if (!ret)
		ret = parse_credentials(c, body, "instance metadata", err);
	if (!ret)
		c->source = AWS_CREDS_INSTANCE;
cleanup:
	http_client_free(hc);
	if (token)
		OPENSSL_cleanse(token, strlen(token));
	if (body)
		OPENSSL_cleanse(body, strlen(body));
	free(token);
	free(roles);
	free(body);
	return ret;
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
		c->source = AWS_CREDS_ENVIRONMENT;
		return ret;
	}
	ret = ini_read(cred_file, c->profile, false, want, 3, err);
	if (!ret && !c->access_key_id && !c->secret_access_key)
		ret = ini_read(config_file, c->profile, true, want, 3, err);
	if (ret)
		return ret;
	if (c->access_key_id && c->secret_access_key) {
		c->source = AWS_CREDS_PROFILE;
		return 0;
	}
	if (c->access_key_id || c->secret_access_key)
		return rttq_fail(err, -EINVAL,
				 "profile \"%s\" has only one of aws_access_key_id and aws_secret_access_key",
				 c->profile);
	ret = fetch_container(c, err);
	if (ret == NOT_CONFIGURED)
		ret = fetch_instance(c, err);
	if (ret == NOT_CONFIGURED)
		return rttq_fail(err, -ENOKEY,
				 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give profile \"%s\" aws_access_key_id and aws_secret_access_key in %s, or run with a container or instance role (no metadata service answered)",
				 c->profile, cred_file ? cred_file : "~/.aws/credentials");
	return ret;
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

int aws_config_refresh(struct aws_config *c, int64_t now_s,
		       struct rttq_error *err)
{
	struct aws_config fresh = { 0 };
	int ret;

	if ((c->source != AWS_CREDS_CONTAINER &&
	     c->source != AWS_CREDS_INSTANCE) || c->expires_s == 0 ||
	    c->expires_s - now_s > AWS_REFRESH_BEFORE_S)
		return 0;
	ret = c->source == AWS_CREDS_CONTAINER ? fetch_container(&fresh, err) :
						 fetch_instance(&fresh, err);
	if (ret == NOT_CONFIGURED)
		ret = rttq_fail(err, -ENOKEY,
				"cannot refresh AWS credentials: the metadata service no longer answers");
	if (!ret) {
		struct aws_config old = *c;

		c->access_key_id = fresh.access_key_id;
		c->secret_access_key = fresh.secret_access_key;
		c->session_token = fresh.session_token;
		c->expires_s = fresh.expires_s;
		fresh.access_key_id = old.access_key_id;
		fresh.secret_access_key = old.secret_access_key;
		fresh.session_token = old.session_token;
	}
	aws_config_release(&fresh);
	return ret;
}

int aws_config_copy(struct aws_config *dst, const struct aws_config *src)
{
	int ret = 0;

	memset(dst, 0, sizeof(*dst));
	ret = set(&dst->region, src->region, NULL);
	if (!ret)
		ret = set(&dst->endpoint, src->endpoint, NULL);
	if (!ret)
		ret = set(&dst->ca_file, src->ca_file, NULL);
	if (!ret)
		ret = set(&dst->access_key_id, src->access_key_id, NULL);
	if (!ret)
		ret = set(&dst->secret_access_key, src->secret_access_key, NULL);
	if (!ret)
		ret = set(&dst->session_token, src->session_token, NULL);
	if (!ret)
		ret = set(&dst->profile, src->profile, NULL);
	dst->source = src->source;
	dst->expires_s = src->expires_s;
	if (ret)
		aws_config_release(dst);
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
