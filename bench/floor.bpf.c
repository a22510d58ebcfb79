// SPDX-License-Identifier: BSD-2-Clause
/*
 * The floor under rttq's cost: empty tp_btf programs, COPIES on each hook
 * any of rttq's programs use, so bench/bench-floor.c can attach as many
 * on each hook as rttq itself does and the difference between the two is
 * what rttq's own instructions cost (the rest is the kernel's price of
 * running any tp_btf program at all).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* One program per copy: a program attached twice to one tracepoint is
 * refused by kernels that key the probe by the program. */
#define EMPTY(hook, n)                                                        \
	SEC("tp_btf/" #hook)                                                  \
	int floor_##hook##_##n(void *ctx)                                     \
	{                                                                     \
		return 0;                                                     \
	}

/* Up to five programs on a hook: the most rttq puts on one (tcp_probe
 * with two collectors, flows, events and stages). */
#define COPIES(hook)                                                          \
	EMPTY(hook, 0) EMPTY(hook, 1) EMPTY(hook, 2) EMPTY(hook, 3)           \
	EMPTY(hook, 4)

COPIES(tcp_probe)
COPIES(tcp_retransmit_skb)
COPIES(tcp_retransmit_synack)
COPIES(tcp_cong_state_set)
COPIES(tcp_send_reset)
COPIES(tcp_receive_reset)
COPIES(inet_sock_set_state)
COPIES(sock_send_length)
COPIES(sock_recv_length)
COPIES(kfree_skb)
COPIES(softirq_entry)
COPIES(softirq_exit)
COPIES(sched_wakeup)
COPIES(sched_wakeup_new)
COPIES(sched_switch)
COPIES(netif_receive_skb)
COPIES(net_dev_queue)
COPIES(net_dev_xmit)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
