/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cgroup v2 ids and paths for --group-by cgroup and --cgroup: the kernel
 * knows a socket's cgroup by its id (kernfs node id), users by its path
 * ("/system.slice/nginx.service").  The id of a directory is what
 * name_to_handle_at() returns for it, so the tree is walked once and again
 * when an id is not known yet.
 */
#ifndef RTTQ_CGROUP_NAMES_H
#define RTTQ_CGROUP_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cgroup_names;

/**
 * cgroup_names_new() - find the cgroup v2 mount (/proc/self/mountinfo)
 * and index its tree.
 * @out: receives the index.
 * @err: says that cgroup v2 is not mounted, or what failed; may be NULL.
 *
 * @return 0, -ENOENT (no cgroup2 mount), -ENOMEM, or an errno of reading
 *         /proc/self/mountinfo.
 */
int cgroup_names_new(struct cgroup_names **out, struct rttq_error *err);

/** cgroup_names_free() - free @cn; NULL does nothing. */
void cgroup_names_free(struct cgroup_names *cn);

/** cgroup_names_mount() - where cgroup v2 is mounted ("/sys/fs/cgroup"). */
const char *cgroup_names_mount(const struct cgroup_names *cn);

/**
 * cgroup_names_path() - the path of cgroup @id below the mount ("/" for
 * the root), walking the tree again (at most once a second) on a miss.
 * @cn: the index.
 * @id: a cgroup id as the kernel gives it.
 *
 * @return the path (valid until the next call), or NULL when no cgroup
 *         has that id (it was removed before it was seen).
 */
const char *cgroup_names_path(struct cgroup_names *cn, uint64_t id);

/**
 * cgroup_names_resolve() - the id and depth of the cgroup at @path.
 * @cn: the index (for the mount point).
 * @path: below the mount ("/system.slice/x.service"), or a full path
 *        starting with the mount point.
 * @id: receives its id.
 * @level: receives its depth (the root is 0, "/a/b" is 2).
 * @err: names @path and what is wrong; may be NULL.
 *
 * @return 0, -EINVAL (not absolute, or a "." or ".." component), -ENOENT
 *         (no such cgroup), or the errno of name_to_handle_at().
 */
int cgroup_names_resolve(struct cgroup_names *cn, const char *path,
			 uint64_t *id, unsigned int *level,
			 struct rttq_error *err);

#endif /* RTTQ_CGROUP_NAMES_H */
