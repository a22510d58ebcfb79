/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sampling one event in N without a random draw per event (included by
 * kernel/events.h and kernel/stages.h): a per-CPU countdown to the next
 * kept event, restarted at each kept one with a gap drawn uniformly from
 * [1, 2N - 1] (mean N, N = 2^32 / (threshold + 1), fractions kept).  Every
 * event pays a decrement; bpf_get_prandom_u32() is paid once per kept
 * one, where it costs ~25 ns a run on the test VM (bench/bench-floor.c
 * --calibrate on a program with and without it).  The random gaps keep a
 * periodic stream from locking to one phase of it; counts stay binomial
 * around 1/N, with less spread than independent draws.
 */
#ifndef RTTQ_SAMPLER_H
#define RTTQ_SAMPLER_H

/* One countdown per program that samples. */
#define SAMPLER_EV_RTT 0u
#define SAMPLER_EV_RETRANS 1u
#define SAMPLER_EV_DROP 2u
#define SAMPLER_STAGE_RX 3u
#define SAMPLER_STAGE_TCP 4u
#define SAMPLER_STAGE_QUEUE 5u
#define SAMPLERS 6u

/* Events left until the next kept one (1: this one), per sampler; 0: not
 * started (the first gap is drawn without keeping the event, so a CPU's
 * first event is no more likely kept than any other). */
struct sampler_left {
	__u32 left[SAMPLERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sampler_left);
} sampler_left SEC(".maps");

/*
 * A gap of mean 2^32 / (@threshold + 1) events: 1 + floor(U * (2N - 1)),
 * U uniform on [0, 1) in 24 bits, N in 16.16 fixed point and at most 2^23
 * (a rate of 1 in 8 million) so that the product fits 64 bits.
 */
static __always_inline __u32 sampler_gap(__u32 threshold)
{
	__u64 n16 = (1ull << 48) / ((__u64)threshold + 1), span16;

	if (n16 > (1ull << 39))
		n16 = 1ull << 39;
	span16 = 2 * n16 - (1ull << 16);
	return 1 + (__u32)(((__u64)(bpf_get_prandom_u32() >> 8) * span16) >>
			   40);
}

/*
 * Whether this event of sampler @which (a constant at each call) is kept,
 * each kept with probability (@threshold + 1) / 2^32 on average (~0: all).
 */
static __always_inline bool sampler_keep(__u32 which, __u32 threshold)
{
	struct sampler_left *s;
	__u32 zero = 0, left;

	if (threshold == 0xffffffffu)
		return true;
	s = bpf_map_lookup_elem(&sampler_left, &zero);
	if (!s || which >= SAMPLERS)
		return false;
	left = s->left[which];
	if (left > 1) {
		s->left[which] = left - 1;
		return false;
	}
	s->left[which] = sampler_gap(threshold);
	return left == 1;
}

#endif /* RTTQ_SAMPLER_H */
