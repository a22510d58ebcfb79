/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Group ids that come back (included by kernel/rttq.bpf.c only): the maps
 * and helpers that hand out ids 1..targ_max_groups, take back the ones
 * user space recycled (common/collector/group_recycle.c), and keep a
 * socket that remembered an id from counting into it once that id serves
 * another key.  Kept apart from the program so its group keys can change
 * without touching how ids live and die.
 *
 * A recycle, in user space: delete the key from group_ids, wait for every
 * running program to finish (an update of rcu_sync, a map-in-map, returns
 * only after synchronize_rcu()), bump the id's generation in gid_gens,
 * wait again, read the id's last counts, zero them, clear its claim in
 * gid_taken.  A socket caches (id, generation) and compares the generation
 * on every event, so an event counts in the old group (it saw the old
 * generation: drained before the zeroing) or re-resolves its key (it saw
 * the new one), never in another key's.  The per-CPU gid_slots cache
 * (the groupings of rttq_slot_key_ok()) keeps the same pair and checks it
 * alike; gid_gens' own entry names the slot key its id was predicted
 * for, valid for one generation (gid_direct()).
 * The first wait makes the generation a program caches with an id the
 * one of that id's current key: a program that found the key ends before
 * the generation moves.
 */
#ifndef RTTQ_GROUP_IDS_H
#define RTTQ_GROUP_IDS_H

/*
 * Group key -> group id (index into group_counts, from 1), one entry per
 * live group; user space deletes the entry when it recycles the id.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(struct rttq_key));
	__uint(value_size, sizeof(__u32));
} group_ids SEC(".maps");

/*
 * Generation of each id, bumped by user space on every recycle, and the
 * slot key the id was predicted for (struct rttq_gid_gen, rttq.h; see
 * gid_direct()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1025);
	__type(key, __u32);
	__type(value, struct rttq_gid_gen);
} gid_gens SEC(".maps");

_Static_assert(sizeof(struct rttq_gid_gen) == RTTQ_GID_GEN_BYTES,
	       "kernel_budget.c counts RTTQ_GID_GEN_BYTES per id");

/*
 * Whether an event may find its id through gid_gens alone
 * (gid_direct()): set by the loader on x86-64 only, whose ordering of
 * loads and of stores that check relies on.
 */
const volatile bool targ_gid_direct;

/*
 * Which ids a key holds (1) or may take (0): a program claims an id with a
 * compare-and-swap from 0; only the claim's holder clears it (user space
 * when it recycles the id, common/collector/group_recycle.c, or the
 * program whose key another CPU inserted first), so no write undoes
 * another's.  An array, not a queue of free ids, so a new group can ask
 * for one id in particular (gid_pred()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1025);
	__type(key, __u32);
	__type(value, __u32);
} gid_taken SEC(".maps");

/*
 * Never read by a program: user space updates its one slot to wait for
 * running programs (the kernel calls synchronize_rcu() after an update of
 * a map-in-map, so that user space knows no program still sees the old
 * inner map).  rcu_sync_inner is the inner map put there.
 */
struct rcu_sync_inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rcu_sync_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct rcu_sync_inner_map);
} rcu_sync SEC(".maps");

/*
 * Claims taken (programs) and given back (user space, at every recycle):
 * their difference tells a full table without a scan.  gid_cursor is
 * where the scan for a key without a predicted id starts (a hint).
 */
__u32 gid_claims;
__u32 gid_releases;
__u32 gid_cursor = 1;

/* What a socket's events go to, as kept in its sk storage. */
struct sk_verdict {
	__u32 verdict; /* an RTTQ_VERDICT_* or gid + 1 */
	__u32 gen;     /* gid_gens[gid] when the gid was looked up */
} __attribute__((aligned(8))); /* read and written whole: sk_index() */

static __always_inline __u32 gid_gen(__u32 gid)
{
	struct rttq_gid_gen *g = bpf_map_lookup_elem(&gid_gens, &gid);

	return g ? g->gen : 0;
}

/* Whether the id a socket cached still belongs to the key it cached it
 * for (the generation has not moved since). */
static __always_inline bool gid_current(__u32 gid, __u32 gen)
{
	struct rttq_gid_gen *now = bpf_map_lookup_elem(&gid_gens, &gid);

	return now && now->gen == gen;
}

/* Keeps the compiler from moving loads and stores across it. */
#define gid_barrier() asm volatile("" ::: "memory")

/*
 * The direct path: an event of slot key @k (gid_slots' groupings) reads
 * gid_gens[gid_pred(@k)], whose address follows from the key alone, and
 * counts into that id when the entry names @k as its key and is current
 * (kgen == gen + 1).  One line, read by every CPU and written only when
 * an id is claimed or recycled, where the per-CPU gid_slots entry is one
 * more line per CPU.  Only the program that claimed the id for @k writes
 * the key (gid_direct_keep()), after its group_ids entry is in; a
 * recycle's bump (user space, after the first wait for programs) leaves
 * kgen == the new gen, so the entry stops matching before the id is
 * released, and the next claimant writes its key before its kgen.
 * What the reader needs: seeing the new kgen, it sees the new key (the
 * writer stores the key, then kgen; the reader loads kgen, then the
 * key).  x86-64 keeps stores in order and loads in order, so the compiler
 * barriers here are all it takes; elsewhere the loader leaves this path
 * off (targ_gid_direct) rather than rely on orderings BPF cannot ask for
 * on the read side.  Off too with peer grouped, where most addresses
 * share a group another address made (common/collector/
 * collector_configure.c).  A reader that found an entry current read its gen
 * before the bump, so the recycle's second wait lets it finish before
 * the id's last read and zeroing: it counts into the old group, as one
 * with a cached (id, generation) pair would (the top of this file).  And
 * a reader that sees a new claimant's key (written after the release)
 * runs past the second wait, so it began after that wait began, after
 * the bump (RCU's guarantee): it sees the new gen, which the old kgen
 * does not match.
 */
static __always_inline bool gid_direct(const __u32 *k, __u32 pred)
{
	struct rttq_gid_gen *g = bpf_map_lookup_elem(&gid_gens, &pred);
	__u32 kgen;

	if (!g)
		return false;
	kgen = *(volatile __u32 *)&g->kgen;
	gid_barrier();
	return kgen == g->gen + 1 && g->key[0] == k[0] &&
	       g->key[1] == k[1] && g->key[2] == k[2] && g->key[3] == k[3] &&
	       g->key[4] == k[4];
}

/*
 * Names slot key @k in gid_gens[@gid], which this program has just
 * claimed for it with generation @gen (gid_direct()); the exchange is
 * a full barrier where the plain stores would not be ordered.
 */
static __always_inline void gid_direct_keep(__u32 gid, const __u32 *k,
					    __u32 gen)
{
	struct rttq_gid_gen *g = bpf_map_lookup_elem(&gid_gens, &gid);

	if (!g)
		return;
	__builtin_memcpy(g->key, k, sizeof(g->key));
	gid_barrier();
	__sync_lock_test_and_set(&g->kgen, gen + 1);
}

/* Ids tried per event where bpf_loop() (5.17) is missing. */
#define GID_PROBES 32

/* Claims id @gid if no key holds it. */
static __always_inline bool gid_claim(__u32 gid)
{
	__u32 *t = bpf_map_lookup_elem(&gid_taken, &gid);

	return t && !*t && !__sync_val_compare_and_swap(t, 0, 1);
}

/* A scan for a free id: ids @from, @from + 1, ... wrapping past @max. */
struct gid_scan {
	__u32 from;
	__u32 max;
	__u32 gid; /* the id claimed, 0 while none */
};

/* The scan's @i-th id (a bpf_loop() callback): 1 stops the scan. */
static long gid_scan_one(__u32 i, void *ctx)
{
	struct gid_scan *sc = ctx;
	__u32 gid = sc->from + i;

	if (gid > sc->max)
		gid -= sc->max;
	if (!gid_claim(gid))
		return 0;
	sc->gid = gid;
	return 1;
}

/*
 * GID_PROBES ids of the scan from @from (wrapping past @max), where
 * bpf_loop() is missing.  Global, not static: the verifier checks a
 * global function once, on its own, where a loop inlined at every call
 * site took the bigger programs past its limit of instructions.
 * @return the id claimed, 0 when none was free.
 */
__noinline __u32 gid_scan_some(__u32 from, __u32 max)
{
	struct gid_scan sc = { .from = from, .max = max };
	__u32 i;

	for (i = 0; i < GID_PROBES; i++)
		if (gid_scan_one(i, &sc))
			break;
	return sc.gid;
}

/*
 * A free id (1 .. @max): @pred if free (0: none predicted), else the next
 * free one after it (or after gid_cursor); 0 when none is left.  The scan
 * covers every id where bpf_loop() exists; elsewhere GID_PROBES ids an
 * event, from where the last one stopped.
 */
static __always_inline __u32 gid_alloc(__u32 max, __u32 pred)
{
	struct gid_scan sc = { .max = max };

	/* Claims first: a full table costs no scan, as overflow is common
	 * once it is full (every event of a key without an id asks). */
	if (gid_claims - gid_releases >= max)
		return 0;
	if (pred && gid_claim(pred)) {
		sc.gid = pred;
	} else {
		sc.from = pred ? pred + 1 : gid_cursor;
		if (sc.from - 1 >= max) /* also a cursor past a smaller max */
			sc.from = 1;
		if (bpf_core_enum_value_exists(enum bpf_func_id,
					       BPF_FUNC_loop)) {
			bpf_loop(max, gid_scan_one, &sc, 0);
		} else {
			sc.gid = gid_scan_some(sc.from, max);
			if (!sc.gid)
				gid_cursor = sc.from + GID_PROBES;
		}
		if (!sc.gid)
			return 0;
		gid_cursor = sc.gid + 1;
	}
	__sync_fetch_and_add(&gid_claims, 1);
	return sc.gid;
}

/* Give back an id that found no key (another CPU inserted it first): no
 * key ever held it, so its generation and counters are as they were. */
static __always_inline void gid_release(__u32 gid)
{
	__u32 *t = bpf_map_lookup_elem(&gid_taken, &gid);

	if (!t)
		return;
	__sync_fetch_and_sub(&gid_claims, 1);
	__sync_lock_test_and_set(t, 0);
}

/*
 * The id @key has now and (@gen not NULL) its generation.  Had a recycle
 * deleted the key after the lookup, it waits for this program to end
 * before it bumps the generation: the one read here is the one it changes.
 * @return the id, 0 when @key has none.
 */
static __always_inline __u32 gid_lookup(const struct rttq_key *key, __u32 *gen)
{
	__u32 *idp, gid;

	idp = bpf_map_lookup_elem(&group_ids, key);
	if (!idp)
		return 0;
	gid = *idp;
	if (gen)
		*gen = gid_gen(gid);
	return gid;
}

/*
 * The id of @key (1 .. @max), allocated on first sight (@pred first, if
 * not 0), and its generation (when @gen is not NULL).  When the id
 * allocated is @pred and @slot_k is not NULL (the slot key @pred was
 * hashed from), gid_gens names @slot_k for it (gid_direct()).
 * @return the id; 0 when no id is left (@final false when the failure
 * may be transient and must not be remembered).
 */
static __always_inline __u32 gid_of(const struct rttq_key *key, __u32 max,
				    __u32 pred, const __u32 *slot_k,
				    __u32 *gen, bool *final)
{
	__u32 gid;

	*final = true;
	gid = gid_lookup(key, gen);
	if (gid)
		return gid;
	gid = gid_alloc(max, pred);
	if (!gid)
		return 0;
	/* Nobody bumps an id that no key holds: this generation stays. */
	if (gen)
		*gen = gid_gen(gid);
	if (!bpf_map_update_elem(&group_ids, key, &gid, BPF_NOEXIST)) {
		if (targ_gid_direct && slot_k && gid == pred && gen)
			gid_direct_keep(gid, slot_k, *gen);
		return gid;
	}
	/* Another CPU inserted the key first: its id wins, ours goes back. */
	gid_release(gid);
	gid = gid_lookup(key, gen);
	if (!gid)
		*final = false;
	return gid;
}

/*
 * The groupings of rttq_slot_key_ok() (rttq.h) keep nothing per socket:
 * each event works out again a short key from struct sock_common (the
 * slot key: the remote address, a port or two, the peer map's
 * generation; see slot_key_fill() in kernel/rttq.bpf.c) and finds its
 * group's id through gid_slots.  sock_common's first lines are the ones
 * the kernel just looked the socket up by, so the slot key costs no cache
 * miss, where sk storage is three dependent ones per socket
 * (sk_bpf_storage, the storage's cache slot, the value) on top of the
 * group's own.  The slot key decides the group key (for peer,port the
 * label and service port are functions of it), so the key itself (a
 * label lookup in the trie, the hash) is worked out on a miss only.
 */

/* An id as a CPU last found it for a slot key (gid 0: empty). */
struct gid_slot {
	__u32 key[RTTQ_SLOT_KEY_WORDS];
	__u32 gid;
	__u32 gen;  /* gid_gens[gid] when the gid was looked up */
	__u32 seq;  /* odd while being written (gid_slot_find()) */
};

_Static_assert(sizeof(struct gid_slot) == RTTQ_GID_SLOT_BYTES,
	       "kernel_budget.c counts RTTQ_GID_SLOT_BYTES per slot");

/*
 * Slot key -> id, direct-mapped, per CPU, in front of group_ids: one line
 * per slot key (a group, or for peer,port an address and service port)
 * instead of the hash's bucket and element, and the same line for every
 * socket of that key.  Per CPU, so only programs
 * running on its CPU touch a slot; but every program that counts per
 * group uses it (sk_index() in kernel/rttq.bpf.c), and one (a socket's
 * state change in process context) may be interrupted by another
 * (tcp_probe in softirq) halfway through a slot: each slot carries a
 * sequence count.  A slot holds what sk storage holds for the other
 * groupings, an (id, generation) pair checked against gid_gens on every
 * use, so a recycled id is as exact here as there (see the top of this
 * file).
 * A plain array of RTTQ_GID_SLOTS entries per CPU, CPU by CPU, not a
 * per-CPU one: a per-CPU array's entry is reached through a pointer kept
 * per entry, one more cold line before the slot's.  The loader sets
 * max_entries to RTTQ_GID_SLOTS per possible CPU, or to 1 for the
 * groupings that do not use it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RTTQ_GID_SLOTS);
	__type(key, __u32);
	__type(value, struct gid_slot);
} gid_slots SEC(".maps");

/* The slot of key words @k: a multiplicative hash of their xor. */
static __always_inline __u32 gid_slot_index(const __u32 *k)
{
	__u32 x = k[0] ^ k[1] ^ k[2] ^ k[3] ^ k[4];

	return (x * 0x9e3779b1u) >> (32 - RTTQ_GID_SLOT_BITS);
}

/*
 * The id a new group of slot key @k asks for first (1 .. @max): another
 * hash of the same xor, so keys sharing a slot seldom share it.  When
 * the slot holds it, an event computes its counters' address from the
 * key alone (gid_slot_find()).
 */
static __always_inline __u32 gid_pred(const __u32 *k, __u32 max)
{
	__u32 x = k[0] ^ k[1] ^ k[2] ^ k[3] ^ k[4];

	x = (x ^ (x >> 16)) * 0x85ebca6bu;
	return 1 + (__u32)(((__u64)x * max) >> 32);
}

/*
 * The id this CPU's gid_slots remembers for slot key @k, if it is still
 * @k's; @pred (gid_pred()) when that is the id.  A program that interrupts another on this CPU runs to its end
 * before the other goes on, so the sequence count (odd while written) is
 * all the locking a slot needs: a reader that saw it odd, or saw it move
 * while it read, was interrupted mid-write or read a slot rewritten under
 * it, and misses; a writer (gid_slot_keep()) that finds it odd leaves the
 * slot to the writer it interrupted.
 * @s: set to the slot (NULL if none), for gid_slot_keep() on a miss.
 * @return the id, 0 on a miss (the caller works the key out and asks
 * gid_of()).
 */
static __always_inline __u32 gid_slot_find(const __u32 *k, __u32 pred,
					   struct gid_slot **s)
{
	__u32 idx = bpf_get_smp_processor_id() << RTTQ_GID_SLOT_BITS |
		    gid_slot_index(k);
	__u32 gid, gen, seq;
	bool hit;

	*s = bpf_map_lookup_elem(&gid_slots, &idx);
	if (!*s)
		return 0;
	seq = (*s)->seq;
	gid_barrier();
	hit = !(seq & 1) && (*s)->gid && (*s)->key[0] == k[0] &&
	      (*s)->key[1] == k[1] && (*s)->key[2] == k[2] &&
	      (*s)->key[3] == k[3] && (*s)->key[4] == k[4];
	gid = (*s)->gid;
	gen = (*s)->gen;
	gid_barrier();
	if (!hit || (*s)->seq != seq)
		return 0;
	/*
	 * The same value, but taken from @pred's register, not the slot's
	 * load: the branch is predicted, so the CPU reads gid_gens[] and
	 * the group's counters (at addresses of the key alone) while the
	 * slot's line is still on its way, not after it.  The empty asm
	 * keeps clang from folding @pred back into the loaded value.
	 */
	if (gid == pred) {
		asm volatile("" : "+r"(pred));
		gid = pred;
	}
	return gid_current(gid, gen) ? gid : 0;
}

/* Remembers (@gid, @gen), as gid_of() gave them for slot key @k, in @s. */
static __always_inline void gid_slot_keep(struct gid_slot *s, const __u32 *k,
					  __u32 gid, __u32 gen)
{
	if (!s || !gid || (s->seq & 1))
		return;
	s->seq++;
	gid_barrier();
	__builtin_memcpy(s->key, k, sizeof(s->key));
	s->gid = gid;
	s->gen = gen;
	gid_barrier();
	s->seq++;
}

#endif /* RTTQ_GROUP_IDS_H */
