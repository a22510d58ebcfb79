// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ports listening now, in every network namespace of the host, into
 * the kernel's listen_ports bitmap (kernel/group_key.h): how --group-by
 * port tells an accepted connection from an opened one when no state
 * change of it was seen (it is older than the collector, or the attach
 * mode has no rttq_state).  Every namespace, not the agent's alone: a
 * container's service listens in its own, and its connections that were
 * open before the agent started would otherwise be taken for opened ones
 * and grouped by their clients' ephemeral ports.
 * The bitmap is one for the host, so a port listening in one namespace
 * names a service in all: an opened connection elsewhere whose ephemeral
 * port happens to be that port is grouped by it (ephemeral ports are
 * seldom listening ones).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "rttq.skel.h"

/* Adds the listening ports of /proc/PID/net/tcp or tcp6 @path to @bits. */
static void read_table(const char *path, uint8_t *bits)
{
	unsigned int port, state;
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	/* "sl local_address:PORT rem_address:PORT st ...", hex. */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
			   &port, &state) == 2 &&
		    state == 0x0a && port < 65536)
			bits[port >> 3] |= (uint8_t)(1u << (port & 7));
	fclose(f);
}

/* The namespaces read so far, by their tcp table's inode (one per
 * namespace: procfs registers each namespace's own). */
struct seen {
	ino_t *ino;
	size_t n, cap;
};

/* Whether @ino was seen; remembers it if not (and if memory allows). */
static bool seen_before(struct seen *s, ino_t ino)
{
	ino_t *more;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return true;
	if (s->n == s->cap) {
		more = realloc(s->ino, (s->cap ? 2 * s->cap : 16) *
					       sizeof(*more));
		if (!more)
			return false;
		s->ino = more;
		s->cap = s->cap ? 2 * s->cap : 16;
	}
	s->ino[s->n++] = ino;
	return false;
}

/*
 * Local ports listening now, one bit each in @bits: the collector's own
 * namespace first (/proc/net: all there is where /proc lists no other
 * process), then the namespace of every process, each read once.
 */
static void read_listening(uint8_t *bits)
{
	struct seen seen = { 0 };
	char path[64];
	struct dirent *d;
	struct stat st;
	DIR *proc;

	if (!stat("/proc/net/tcp", &st))
		seen_before(&seen, st.st_ino);
	read_table("/proc/net/tcp", bits);
	read_table("/proc/net/tcp6", bits);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    strlen(d->d_name) > 20)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/net/tcp", d->d_name);
		/* Gone since readdir, or not ours to see: skip it. */
		if (stat(path, &st) || seen_before(&seen, st.st_ino))
			continue;
		read_table(path, bits);
		snprintf(path, sizeof(path), "/proc/%s/net/tcp6", d->d_name);
		read_table(path, bits);
	}
	closedir(proc);
	free(seen.ino);
}

int collector_write_listening(struct collector *c, struct rttq_error *err)
{
	uint8_t bits[RTTQ_LISTEN_BYTES] = { 0 };
	uint32_t zero = 0;

	read_listening(bits);
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.listen_ports),
				&zero, bits, BPF_ANY))
		return rttq_fail(err, -errno, "writing map listen_ports: %s",
				 strerror(errno));
	return 0;
}
