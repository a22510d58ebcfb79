// SPDX-License-Identifier: BSD-2-Clause
/*
 * --peer-map (peer_map.h): the file parser, the label table that keeps
 * every label's id for the life of the process, and the update of the
 * kernel's LPM trie from one valid file to the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "collector_opts.h"
#include "name_table.h"
#include "peer_map.h"
#include "rttq.h"

/* Label ids are trie values; the agent's names stay short this way. */
#define LABELS_MAX 65535u

struct peer_entry {
	struct rttq_peer_prefix key;
	uint32_t label;        /* id, from 1 */
	unsigned int line;     /* in the file, for messages */
};

struct peer_map {
	char *path;
	int trie_fd;           /* of the last load; -1 before */
	char **labels;         /* labels[id - 1]; never shrinks */
	uint32_t nlabels;
	uint32_t cap_labels;
	struct name_table by_name; /* label -> id */
	struct peer_entry *cur;     /* what the trie holds, sorted by key */
	uint32_t ncur;
};

int peer_map_new(const char *path, struct peer_map **out)
{
	struct peer_map *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return -ENOMEM;
	}
	m->trie_fd = -1;
	*out = m;
	return 0;
}

void peer_map_free(struct peer_map *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	name_table_release(&m->by_name);
	free(m->cur);
	free(m->path);
	free(m);
}

const char *peer_map_label(const struct peer_map *m, uint32_t id)
{
	if (!m || id == 0 || id > m->nlabels)
		return PEER_MAP_OTHER;
	return m->labels[id - 1];
}

uint32_t peer_map_prefixes(const struct peer_map *m)
{
	return m ? m->ncur : 0;
}

/* Characters a label may hold: group names join fields with ',' and
 * users put them in URLs and Prometheus labels, so nothing fancier. */
static bool label_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("._-:/@+", ch);
}

/*
 * The id of @label, added (as id nlabels + 1) when new.  Labels added by a
 * load that fails later are rolled back by the caller (drop_labels_from).
 */
static int label_id(struct peer_map *m, const char *label, uint32_t *id)
{
	char **grown, *copy;
	int rc;

	if (!name_table_find(&m->by_name, label, id))
		return 0;
	if (m->nlabels >= LABELS_MAX)
		return -ENOSPC;
	if (m->nlabels == m->cap_labels) {
		uint32_t cap = m->cap_labels ? 2 * m->cap_labels : 16;

		grown = realloc(m->labels, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		m->labels = grown;
		m->cap_labels = cap;
	}
	copy = strdup(label);
	if (!copy)
		return -ENOMEM;
	rc = name_table_add(&m->by_name, copy, m->nlabels + 1);
	if (rc) {
		free(copy);
		return rc;
	}
	m->labels[m->nlabels++] = copy;
	*id = m->nlabels;
	return 0;
}

/* Forgets the labels from id @first on (a failed load's new ones). */
static void drop_labels_from(struct peer_map *m, uint32_t first)
{
	uint32_t i;

	if (first > m->nlabels)
		return;
	for (i = first - 1; i < m->nlabels; i++)
		free(m->labels[i]);
	m->nlabels = first - 1;
	name_table_clear(&m->by_name);
	for (i = 0; i < m->nlabels; i++)
		name_table_add(&m->by_name, m->labels[i], i + 1); /* has room */
}

static int cmp_entry(const void *a, const void *b)
{
	const struct peer_entry *x = a, *y = b;

	if (x->key.prefixlen != y->key.prefixlen)
		return x->key.prefixlen < y->key.prefixlen ? -1 : 1;
	return memcmp(x->key.addr, y->key.addr, sizeof(x->key.addr));
}

/* One line (comment already cut) into @e; fields split in place. */
static int parse_line(struct peer_map *m, char *text, unsigned int line,
		      struct peer_entry *e, struct rttq_error *err)
{
	static const char space[] = " \t\r\n";
	struct rttq_error why = { 0 };
	struct addr_filter f;
	char *cidr, *label, *extra, *save = NULL;
	unsigned int bits, i;
	uint8_t masked[16];
	uint32_t mask[4];
	int rc;

	cidr = strtok_r(text, space, &save);
	label = strtok_r(NULL, space, &save);
	extra = strtok_r(NULL, space, &save);
	if (!label || extra)
		return rttq_fail(err, -EINVAL,
				 "%s:%u: want \"CIDR LABEL\", got %s", m->path,
				 line, label ? "more than two fields" :
					       "one field");
	if (netaddr_parse_cidr(cidr, &f, &why))
		return rttq_fail(err, -EINVAL, "%s:%u: %s", m->path, line,
				 why.msg);
	netaddr_mapped(&f, e->key.addr, &bits);
	netaddr_prefix_mask(bits, mask);
	memcpy(masked, mask, sizeof(masked));
	for (i = 0; i < 16; i++)
		if (e->key.addr[i] & ~masked[i])
			return rttq_fail(err, -EINVAL,
					 "%s:%u: '%s' has bits set past its "
					 "prefix length", m->path, line, cidr);
	e->key.prefixlen = bits;
	e->line = line;
	if (strlen(label) > PEER_MAP_LABEL_MAX)
		return rttq_fail(err, -EINVAL,
				 "%s:%u: label longer than %d bytes", m->path,
				 line, PEER_MAP_LABEL_MAX);
	for (i = 0; label[i]; i++)
		if (!label_char_ok(label[i]))
			return rttq_fail(err, -EINVAL,
					 "%s:%u: label '%s': use letters, "
					 "digits and ._-:/@+ only", m->path,
					 line, label);
	if (!strcmp(label, PEER_MAP_OTHER))
		return rttq_fail(err, -EINVAL,
				 "%s:%u: label '" PEER_MAP_OTHER "' is kept "
				 "for peers no prefix holds", m->path, line);
	rc = label_id(m, label, &e->label);
	if (rc == -ENOSPC)
		return rttq_fail(err, rc, "%s:%u: more than %u labels",
				 m->path, line, LABELS_MAX);
	if (rc)
		return rttq_fail(err, rc, "%s: out of memory", m->path);
	return 0;
}

/* Reads the whole file into @out (sorted, no prefix twice). */
static int read_file(struct peer_map *m, struct peer_entry **out, uint32_t *n,
		     struct rttq_error *err)
{
	struct peer_entry *v = NULL, *grown;
	uint32_t cap = 0, count = 0, i;
	unsigned int line = 0;
	char buf[512], *hash;
	FILE *f;
	int rc = 0;

	f = fopen(m->path, "re");
	if (!f)
		return rttq_fail(err, -errno, "%s: %s", m->path,
				 strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = rttq_fail(err, -EINVAL, "%s:%u: line longer than "
				       "%zu bytes", m->path, line,
				       sizeof(buf) - 2);
			goto out;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		if (buf[strspn(buf, " \t\r\n")] == '\0')
			continue;
		if (count == PEER_MAP_MAX_PREFIXES) {
			rc = rttq_fail(err, -EFBIG, "%s:%u: more than %d "
				       "prefixes", m->path, line,
				       PEER_MAP_MAX_PREFIXES);
			goto out;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				rc = rttq_fail(err, -ENOMEM, "%s: out of "
					       "memory", m->path);
				goto out;
			}
			v = grown;
		}
		memset(&v[count], 0, sizeof(v[count]));
		rc = parse_line(m, buf, line, &v[count], err);
		if (rc)
			goto out;
		count++;
	}
	if (ferror(f)) {
		rc = rttq_fail(err, -EIO, "%s: read error", m->path);
		goto out;
	}
	if (count)
		qsort(v, count, sizeof(*v), cmp_entry);
	for (i = 1; i < count; i++)
		if (!cmp_entry(&v[i - 1], &v[i])) {
			rc = rttq_fail(err, -EINVAL, "%s:%u: the same prefix "
				       "as line %u", m->path,
				       v[i].line > v[i - 1].line ?
				       v[i].line : v[i - 1].line,
				       v[i].line > v[i - 1].line ?
				       v[i - 1].line : v[i].line);
			goto out;
		}
out:
	fclose(f);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

int peer_map_load(struct peer_map *m, int trie_fd, struct rttq_error *err)
{
	uint32_t first_new = m->nlabels + 1, n = 0, i, j;
	struct peer_entry *next = NULL;
	int rc;

	rc = read_file(m, &next, &n, err);
	if (rc) {
		drop_labels_from(m, first_new);
		return rc;
	}
	if (trie_fd != m->trie_fd) {
		m->ncur = 0;
		m->trie_fd = trie_fd;
	}
	/* Add and relabel first, then remove: no moment without a label for
	 * a prefix both files hold. */
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(m->trie_fd, &next[i].key,
					&next[i].label, BPF_ANY)) {
			rc = -errno;
			free(next);
			return rttq_fail(err, rc, "%s: writing the kernel's "
					 "prefix map: %s", m->path,
					 strerror(-rc));
		}
	/* Both sorted: a merge finds the old prefixes the file dropped. */
	for (i = 0, j = 0; i < m->ncur; i++) {
		while (j < n && cmp_entry(&next[j], &m->cur[i]) < 0)
			j++;
		if (j < n && !cmp_entry(&next[j], &m->cur[i]))
			continue;
		if (bpf_map_delete_elem(m->trie_fd, &m->cur[i].key) &&
		    errno != ENOENT) {
			rc = -errno;
			free(m->cur);
			m->cur = next;
			m->ncur = n;
			return rttq_fail(err, rc, "%s: removing a prefix "
					 "from the kernel's map: %s", m->path,
					 strerror(-rc));
		}
	}
	free(m->cur);
	m->cur = next;
	m->ncur = n;
	return 0;
}
