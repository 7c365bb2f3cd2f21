/* SPDX-License-Identifier: BSD-2-Clause */
/* mon.h: the VPN monitor (ScreenOS "vpn monitor" with "optimized" and
 * "rekey", see seeds/vpn-monitor-rekey.txt). Per VPN (a strongSwan child
 * SA) it probes every interval, counts consecutive misses, declares the
 * tunnel down after `threshold` of them, deactivates the phase 2 SA on
 * up->down and, with rekey, renegotiates every interval until a probe
 * answers again.
 *
 * The monitor decides; a backend acts. mon_ops are the probe sender
 * (ICMP echo), the traffic counters (for optimized) and the strongSwan
 * actions (terminate, initiate): the daemon plugs in ICMP and VICI, unit
 * tests plug in fakes and drive time with loop_set_clock(). */
#ifndef GVPN_MON_H
#define GVPN_MON_H

#include <stdint.h>
#include "core/cfg.h"
#include "core/ev.h"

enum mon_state {
	MON_DISABLED,   /* monitor off: "vpnMonitoringDisabled" */
	MON_PENDING,    /* monitored, no answer yet */
	MON_UP,
	MON_DOWN,
};

#define MON_HISTORY 30  /* availability and delay over the last 30 probes */

struct mon_vpn;

struct mon_ops {
	/* Sends probe seq; 0 or -1 (counted as a miss at the next tick). */
	int (*probe)(void *arg, struct mon_vpn *v, uint16_t seq);
	/* The child SA's inbound and outbound byte counters; -1 when there
	 * is no installed child SA. */
	int (*counters)(void *arg, struct mon_vpn *v, uint64_t *in, uint64_t *out);
	/* Deactivate the phase 2 SA (VICI terminate of the child). */
	void (*terminate)(void *arg, struct mon_vpn *v);
	/* Negotiate it again (VICI initiate; phase 1 as needed). */
	void (*initiate)(void *arg, struct mon_vpn *v);
	/* Adds what the backend knows (SPIs, SA lifetimes) to an event about
	 * v before it is published; may be NULL. */
	void (*annotate)(void *arg, struct mon_vpn *v, struct event *e);
};

struct mon_vpn_status {
	const char *name;
	enum mon_state state;
	int monitor, optimized, rekey;
	unsigned consecutive_misses;
	uint64_t probes_sent, replies, rekey_attempts, rekey_successes, state_changes;
	int64_t delay_last_us;        /* -1: none yet */
	int64_t delay_avg_us;         /* over the replies among the last 30 probes; -1: none */
	unsigned availability;        /* % of the last 30 probes answered (or counted by traffic) */
	uint64_t last_change_us;      /* loop clock */
};

int mon_init(const struct mon_ops *ops, void *arg);
void mon_fini(void);
/* Applies a (new) model: VPNs are matched by name; unchanged ones keep
 * their state and timers, changed settings apply at once, new VPNs start,
 * removed ones stop. m may be NULL (no monitor). The model must outlive
 * the next mon_configure() or mon_fini(). */
void mon_configure(const struct cfg_mon *m);

/* A probe reply the backend matched (by id and sequence), with its
 * round-trip time. Unknown names or stale sequences are ignored. */
void mon_reply(const char *name, uint16_t seq, uint64_t rtt_us);
/* strongSwan reports the child SA up or down (child-updown). */
void mon_child_updown(const char *name, int up);

const char *mon_state_name(enum mon_state s);
/* Status of the VPN called name (0), or -1. */
int mon_status(const char *name, struct mon_vpn_status *st);
size_t mon_count(void);
/* Status of the i-th VPN in configuration order. */
int mon_status_at(size_t i, struct mon_vpn_status *st);
const char *mon_vpn_name(const struct mon_vpn *v);
const struct cfg_vpn *mon_vpn_cfg(const struct mon_vpn *v);

#endif
