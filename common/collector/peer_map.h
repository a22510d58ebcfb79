/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --peer-map FILE: names for remote prefixes.  Each line is "CIDR LABEL"
 * (IPv4 or IPv6, '#' starts a comment); the longest prefix holding a peer
 * names its group "peer:LABEL", a peer no prefix holds is "peer:other".
 * The file is read into the kernel's LPM trie (kernel/group_key.h) at start
 * and again on reload.  Label ids are stable for the life of the process:
 * a label keeps its id across reloads, so its group keeps its counts.
 */
#ifndef RTTQ_PEER_MAP_H
#define RTTQ_PEER_MAP_H

#include <stdint.h>

#include "error.h"

/* Most prefixes a file may hold; the trie has room for twice as many, so
 * a reload can add the new entries before it removes the old ones. */
#define PEER_MAP_MAX_PREFIXES 32768
#define PEER_MAP_TRIE_ENTRIES (2 * PEER_MAP_MAX_PREFIXES)
/* Longest label, in bytes. */
#define PEER_MAP_LABEL_MAX 63
/* The label of peers no prefix holds (id 0); no line may use it. */
#define PEER_MAP_OTHER "other"

struct peer_map;

/**
 * peer_map_new() - an empty map of the file at @path.
 * @path: the file (copied); read by peer_map_load().
 * @out: receives the map.
 *
 * @return 0, -ENOMEM.
 */
int peer_map_new(const char *path, struct peer_map **out);

/** peer_map_free() - free @m (the trie keeps its entries); NULL is fine. */
void peer_map_free(struct peer_map *m);

/**
 * peer_map_load() - read the file and make the trie hold exactly its
 * prefixes: new and changed ones are written first, then those the file
 * no longer has are removed, so a lookup during a reload finds either the
 * old label or the new one.  Nothing changes unless the whole file is
 * valid.
 * @m: the map.
 * @trie_fd: the BPF_MAP_TYPE_LPM_TRIE the prefixes go to (struct
 *           rttq_peer_prefix -> label id); a trie other than the last
 *           load's is assumed empty.
 * @err: "FILE:LINE: what is wrong" for a bad line; may be NULL.
 *
 * @return 0; -EINVAL (a bad line: not two fields, a bad CIDR, bits set past
 *         the prefix, a bad or reserved label, a prefix given twice, a
 *         line over 510 bytes), -EFBIG (more than PEER_MAP_MAX_PREFIXES
 *         prefixes), -ENOSPC (more than 65535 labels since start),
 *         -ENOENT, -EACCES or another errno from opening the file, -EIO
 *         (reading it), -ENOMEM; or an errno of a trie update (the trie
 *         may then hold part of the new file).
 */
int peer_map_load(struct peer_map *m, int trie_fd, struct rttq_error *err);

/**
 * peer_map_label() - the label of id @id.
 * @m: the map; NULL gives PEER_MAP_OTHER for every id.
 * @id: a trie value, 0 for no match.
 *
 * @return the label; PEER_MAP_OTHER for 0 or an id never given.
 */
const char *peer_map_label(const struct peer_map *m, uint32_t id);

/** peer_map_prefixes() - prefixes the trie holds from the last load. */
uint32_t peer_map_prefixes(const struct peer_map *m);

#endif /* RTTQ_PEER_MAP_H */
