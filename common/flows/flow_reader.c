// SPDX-License-Identifier: BSD-2-Clause
/*
 * flow_reader.h: live connections through the iter/tcp program, entered in
 * each network namespace (setns), and closed ones from the ring buffer.
 * The iterator takes the namespace of the process that creates its
 * file, so each namespace is entered only for bpf_iter_create() and left
 * at once: the records are read back home.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "flow_reader.h"

/*
 * Group names by index, read from the kernel in one walk of its map when
 * an index is missed, and kept until names_forget() (each refresh or ring
 * buffer poll: ids are recycled, so a name is not kept longer).  The
 * iterator classifies sockets as it goes, so a group may be newer than
 * the last walk: a miss walks again, once per index.
 */
struct names {
	struct collector *c;
	char **by_idx;        /* cap entries; NULL: not seen this round */
	uint32_t cap;
};

static int names_put(uint32_t idx, const char *name, void *arg)
{
	struct names *n = arg;
	char **p;

	if (idx >= n->cap) {
		p = realloc(n->by_idx, ((size_t)idx + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + n->cap, 0, (idx + 1 - n->cap) * sizeof(*p));
		n->by_idx = p;
		n->cap = idx + 1;
	}
	free(n->by_idx[idx]);
	n->by_idx[idx] = strdup(name);
	return n->by_idx[idx] ? 0 : -ENOMEM;
}

static void names_forget(struct names *n)
{
	uint32_t i;

	for (i = 0; i < n->cap; i++) {
		free(n->by_idx[i]);
		n->by_idx[i] = NULL;
	}
}

static void names_free(struct names *n)
{
	names_forget(n);
	free(n->by_idx);
}

static const char *group_of(struct names *n, uint32_t idx)
{
	if (!idx)
		return "all";
	if (idx < n->cap && n->by_idx[idx])
		return n->by_idx[idx];
	collector_group_names(n->c, names_put, n);
	/* Recycled since: "?", remembered so it is not looked for again
	 * (out of memory leaves it out, and it shows as "?" anyway). */
	if (idx >= n->cap || !n->by_idx[idx])
		names_put(idx, "?", n);
	return idx < n->cap && n->by_idx[idx] ? n->by_idx[idx] : "?";
}

/* ---------------------------------------------------------------------- */
/* Network namespaces                                                     */
/* ---------------------------------------------------------------------- */

struct netns_list {
	ino_t *inodes;
	char (*paths)[64];
	size_t n, cap;
};

/* @path's namespace into @l unless one of the same inode is there. */
static int netns_add(struct netns_list *l, const char *path)
{
	struct stat st;
	size_t i;
	void *p;

	if (stat(path, &st))
		return 0; /* gone, or not ours to see */
	for (i = 0; i < l->n; i++)
		if (l->inodes[i] == st.st_ino)
			return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		p = realloc(l->inodes, l->cap * sizeof(*l->inodes));
		if (!p)
			return -ENOMEM;
		l->inodes = p;
		p = realloc(l->paths, l->cap * sizeof(*l->paths));
		if (!p)
			return -ENOMEM;
		l->paths = p;
	}
	l->inodes[l->n] = st.st_ino;
	snprintf(l->paths[l->n++], sizeof(l->paths[0]), "%s", path);
	return 0;
}

/* Every namespace a process is in, and those /run/netns holds open. */
static int netns_find(struct netns_list *l)
{
	static const char *const dirs[] = { "/proc", "/run/netns" };
	char path[64];
	struct dirent *d;
	size_t i;
	DIR *dir;
	int rc = netns_add(l, "/proc/self/ns/net");

	for (i = 0; !rc && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		dir = opendir(dirs[i]);
		if (!dir)
			continue;
		while (!rc && (d = readdir(dir))) {
			if (d->d_name[0] == '.')
				continue;
			if (i == 0 && (d->d_name[0] < '0' || d->d_name[0] > '9'))
				continue;
			if (i == 0)
				snprintf(path, sizeof(path), "/proc/%.20s/ns/net",
					 d->d_name);
			else
				snprintf(path, sizeof(path), "/run/netns/%.40s",
					 d->d_name);
			rc = netns_add(l, path);
		}
		closedir(dir);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Live connections                                                       */
/* ---------------------------------------------------------------------- */

/*
 * An iterator file of namespace @path into *@fd (-1: not entered, gone or
 * refused), back in @home after.
 *
 * @return 0, or -errno when we could not get back home.
 */
static int iter_in(const char *path, int link_fd, int home, int *fd,
		   struct rttq_error *err)
{
	int ns = open(path, O_RDONLY | O_CLOEXEC);

	*fd = -1;
	if (ns < 0)
		return 0;
	if (setns(ns, CLONE_NEWNET)) {
		close(ns);
		return 0;
	}
	close(ns);
	*fd = bpf_iter_create(link_fd);
	if (*fd < 0)
		*fd = -1;
	if (setns(home, CLONE_NEWNET)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return rttq_fail(err, -errno,
				 "flows: back into our network namespace: %s",
				 strerror(errno));
	}
	return 0;
}

/* Every record of iterator file @fd to @fn. */
static int iter_read(int fd, struct names *n, flows_fn fn, void *arg,
		     struct rttq_error *err)
{
	struct flow_record recs[64];
	size_t have = 0, i;
	ssize_t got;
	int rc;

	for (;;) {
		got = read(fd, (char *)recs + have, sizeof(recs) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return rttq_fail(err, -errno,
					 "flows: reading the iterator: %s",
					 strerror(errno));
		if (!got)
			return 0;
		have += (size_t)got;
		for (i = 0; i < have / sizeof(recs[0]); i++) {
			rc = fn(&recs[i], group_of(n, recs[i].group), arg);
			if (rc)
				return rc;
		}
		/* A part record waits for the rest. */
		memmove(recs, (char *)recs + i * sizeof(recs[0]),
			have - i * sizeof(recs[0]));
		have -= i * sizeof(recs[0]);
	}
}

int flows_live(struct collector *c, flows_fn fn, void *arg,
	       unsigned int *skipped, struct rttq_error *err)
{
	struct collector_flow_fds fds;
	struct netns_list l = { 0 };
	struct names n = { .c = c };
	unsigned int skip = 0;
	int home = -1, fd, rc;
	size_t i;

	if (collector_flow_fds(c, &fds))
		return rttq_fail(err, -ENOENT,
				 "flows: off in this collector (see its log)");
	rc = netns_find(&l);
	if (rc) {
		rttq_fail(err, rc, "flows: out of memory");
		goto out;
	}
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		rc = rttq_fail(err, -errno,
			       "flows: /proc/self/ns/net: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		rc = iter_in(l.paths[i], fds.iter_link, home, &fd, err);
		if (rc)
			goto out;
		if (fd < 0) {
			skip++;
			continue;
		}
		rc = iter_read(fd, &n, fn, arg, err);
		close(fd);
		if (rc)
			goto out;
	}
out:
	if (skipped)
		*skipped = skip;
	if (home >= 0)
		close(home);
	free(l.inodes);
	free(l.paths);
	names_free(&n);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Closed connections                                                     */
/* ---------------------------------------------------------------------- */

struct flows_closed {
	struct ring_buffer *ring;
	flows_fn fn;
	void *arg;
	struct names names;
};

static int on_closed(void *ctx, void *data, size_t size)
{
	struct flows_closed *fc = ctx;
	const struct flow_record *r = data;

	if (size < sizeof(*r))
		return 0;
	return fc->fn(r, group_of(&fc->names, r->group), fc->arg);
}

int flows_closed_open(struct collector *c, flows_fn fn, void *arg,
		      struct flows_closed **out, struct rttq_error *err)
{
	struct collector_flow_fds fds;
	struct flows_closed *fc;

	*out = NULL;
	if (collector_flow_fds(c, &fds))
		return rttq_fail(err, -ENOENT,
				 "flows: off in this collector (see its log)");
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return rttq_fail(err, -ENOMEM, "flows: out of memory");
	fc->fn = fn;
	fc->arg = arg;
	fc->names.c = c;
	fc->ring = ring_buffer__new(fds.closed_ring, on_closed, fc, NULL);
	if (!fc->ring) {
		int rc = -errno;

		free(fc);
		return rttq_fail(err, rc, "flows: ring buffer flow_closed: %s",
				 strerror(-rc));
	}
	*out = fc;
	return 0;
}

int flows_closed_poll(struct flows_closed *fc, int timeout_ms,
		      struct rttq_error *err)
{
	int rc;

	names_forget(&fc->names);
	rc = ring_buffer__poll(fc->ring, timeout_ms);

	if (rc < 0 && rc != -EINTR)
		return rttq_fail(err, rc, "flows: reading ring buffer flow_closed: %s",
				 strerror(-rc));
	return rc;
}

uint64_t flows_closed_lost(const struct flows_closed *fc)
{
	return collector_flows_lost(fc->names.c);
}

void flows_closed_free(struct flows_closed *fc)
{
	if (!fc)
		return;
	ring_buffer__free(fc->ring);
	names_free(&fc->names);
	free(fc);
}
