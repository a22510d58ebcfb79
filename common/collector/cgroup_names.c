// SPDX-License-Identifier: BSD-2-Clause
/*
 * cgroup v2 ids and paths (cgroup_names.h): the mount found in
 * /proc/self/mountinfo, the tree walked with readdir into an array of
 * (id, path) sorted by id, looked up by binary search.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_names.h"
#include "monoclock.h"

/* A walk on a miss at most this often: a removed cgroup's id stays
 * unknown, and must not cost a walk per drain. */
#define REWALK_MIN_MS 1000

struct cg_entry {
	uint64_t id;
	char *path;            /* below the mount, "/" for the root */
};

struct cgroup_names {
	char mount[PATH_MAX];
	struct cg_entry *v;
	size_t n, cap;
	int64_t walked_ms;     /* monoclock of the last walk */
};

/* The kernfs id of directory @path: an 8-byte file handle on cgroupfs. */
static int dir_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + 16];
	} h;
	int mount_id;

	h.fh.handle_bytes = 16;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes < sizeof(*id))
		return -EINVAL;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

/* "/sys/fs/cgroup" from a mountinfo field, undoing its \040 escapes. */
static void unescape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	while (*in && n + 1 < size) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' &&
		    in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			out[n++] = (char)((in[1] - '0') * 64 +
					  (in[2] - '0') * 8 + (in[3] - '0'));
			in += 4;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
}

static int find_mount(char *out, size_t size)
{
	char *line = NULL, *sep, *f[5], *save = NULL;
	size_t cap = 0;
	int rc = -ENOENT, i;
	FILE *fp = fopen("/proc/self/mountinfo", "re");

	if (!fp)
		return -errno;
	while (rc && getline(&line, &cap, fp) > 0) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE SOURCE" */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		f[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 5 && f[i - 1]; i++)
			f[i] = strtok_r(NULL, " ", &save);
		if (f[4]) {
			unescape(f[4], out, size);
			rc = 0;
		}
	}
	free(line);
	fclose(fp);
	return rc;
}

static int add_entry(struct cgroup_names *cn, uint64_t id, const char *path)
{
	struct cg_entry *grown;

	if (cn->n == cn->cap) {
		size_t cap = cn->cap ? 2 * cn->cap : 64;

		grown = realloc(cn->v, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		cn->v = grown;
		cn->cap = cap;
	}
	cn->v[cn->n].path = strdup(path[0] ? path : "/");
	if (!cn->v[cn->n].path)
		return -ENOMEM;
	cn->v[cn->n++].id = id;
	return 0;
}

/* Adds the cgroup at mount + @rel (@rel "" for the root) and those below
 * it.  @full is a PATH_MAX buffer holding mount + rel. */
static int walk(struct cgroup_names *cn, char *full, size_t rel_at)
{
	size_t len = strlen(full);
	struct dirent *d;
	uint64_t id;
	DIR *dir;
	int rc = 0;

	/* A cgroup removed during the walk is simply not indexed. */
	if (dir_id(full, &id))
		return 0;
	rc = add_entry(cn, id, full + rel_at);
	if (rc)
		return rc;
	dir = opendir(full);
	if (!dir)
		return 0;
	while (!rc && (d = readdir(dir))) {
		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") ||
		    !strcmp(d->d_name, ".."))
			continue;
		if (len + 1 + strlen(d->d_name) >= PATH_MAX)
			continue;
		snprintf(full + len, PATH_MAX - len, "/%s", d->d_name);
		rc = walk(cn, full, rel_at);
		full[len] = '\0';
	}
	closedir(dir);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void clear(struct cgroup_names *cn)
{
	size_t i;

	for (i = 0; i < cn->n; i++)
		free(cn->v[i].path);
	cn->n = 0;
}

static int rewalk(struct cgroup_names *cn)
{
	char full[PATH_MAX];
	int rc;

	clear(cn);
	cn->walked_ms = monoclock_ms();
	snprintf(full, sizeof(full), "%s", cn->mount);
	rc = walk(cn, full, strlen(cn->mount));
	if (cn->n)
		qsort(cn->v, cn->n, sizeof(*cn->v), cmp_id);
	return rc;
}

int cgroup_names_new(struct cgroup_names **out, struct rttq_error *err)
{
	struct cgroup_names *cn = calloc(1, sizeof(*cn));
	int rc;

	*out = NULL;
	if (!cn)
		return rttq_fail(err, -ENOMEM, "cgroups: out of memory");
	rc = find_mount(cn->mount, sizeof(cn->mount));
	if (rc == -ENOENT) {
		free(cn);
		return rttq_fail(err, rc, "cgroup v2 is not mounted (no "
				 "cgroup2 line in /proc/self/mountinfo)");
	}
	if (!rc)
		rc = rewalk(cn);
	if (rc) {
		cgroup_names_free(cn);
		return rttq_fail(err, rc, "cgroups: %s", strerror(-rc));
	}
	*out = cn;
	return 0;
}

void cgroup_names_free(struct cgroup_names *cn)
{
	if (!cn)
		return;
	clear(cn);
	free(cn->v);
	free(cn);
}

const char *cgroup_names_mount(const struct cgroup_names *cn)
{
	return cn->mount;
}

static const char *find(const struct cgroup_names *cn, uint64_t id)
{
	struct cg_entry key = { .id = id }, *hit;

	if (!cn->n)
		return NULL;
	hit = bsearch(&key, cn->v, cn->n, sizeof(*cn->v), cmp_id);
	return hit ? hit->path : NULL;
}

const char *cgroup_names_path(struct cgroup_names *cn, uint64_t id)
{
	const char *p = find(cn, id);

	if (p || monoclock_ms() - cn->walked_ms < REWALK_MIN_MS)
		return p;
	if (rewalk(cn))
		return NULL;
	return find(cn, id);
}

int cgroup_names_resolve(struct cgroup_names *cn, const char *path,
			 uint64_t *id, unsigned int *level,
			 struct rttq_error *err)
{
	size_t mlen = strlen(cn->mount);
	const char *rel = path, *p, *end;
	char full[PATH_MAX];
	unsigned int depth = 0;
	size_t len;
	int rc;

	if (!strncmp(path, cn->mount, mlen) &&
	    (path[mlen] == '/' || path[mlen] == '\0'))
		rel = path + mlen;
	if (rel[0] != '/' && rel[0] != '\0')
		return rttq_fail(err, -EINVAL, "cgroup '%s': give its path "
				 "from the cgroup v2 root, starting with '/'",
				 path);
	for (p = rel; *p; p = end) {
		while (*p == '/')
			p++;
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (!end)
			end = p + len;
		if (!len)
			continue;
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return rttq_fail(err, -EINVAL, "cgroup '%s': '.' and "
					 "'..' are not allowed", path);
		depth++;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s%s", cn->mount, rel) >=
	    sizeof(full))
		return rttq_fail(err, -EINVAL, "cgroup '%s': path too long",
				 path);
	rc = dir_id(full, id);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return rttq_fail(err, -ENOENT, "cgroup '%s': no such cgroup "
				 "under %s", path, cn->mount);
	if (rc)
		return rttq_fail(err, rc, "cgroup '%s': %s", path,
				 strerror(-rc));
	*level = depth;
	return 0;
}
