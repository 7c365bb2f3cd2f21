/* SPDX-License-Identifier: BSD-2-Clause */
/* mon_vici.h: the VPN monitor's strongSwan side, over VICI. Keeps a copy
 * of list-sas (refreshed every monitor interval and on child-updown) for
 * the counters (optimized), the default destination (the remote gateway)
 * and the SA lifetimes, and turns the monitor's decisions into VICI
 * terminate and initiate commands. */
#ifndef GVPN_MON_VICI_H
#define GVPN_MON_VICI_H

#include <stdint.h>
#include "core/monitor/mon.h"
#include "core/monitor/vici.h"

int mon_vici_init(const char *uri, unsigned interval_s);
void mon_vici_fini(void);
void mon_vici_set_interval(unsigned interval_s);
int mon_vici_connected(void);

/* mon_ops callbacks. */
int mon_vici_counters(void *arg, struct mon_vpn *v, uint64_t *in, uint64_t *out);
void mon_vici_terminate(void *arg, struct mon_vpn *v);
void mon_vici_initiate(void *arg, struct mon_vpn *v);
void mon_vici_annotate(void *arg, struct mon_vpn *v, struct event *e);

/* From the last list-sas: the installed child SA named child and its IKE
 * SA (0), or -1. */
int mon_vici_child(const char *child, struct vici_child_sa *c, struct vici_ike_sa *ike);

/* A manual rekey: the installed child SA is rekeyed (VICI rekey), or
 * the connection initiated when none is installed. 0 when the request
 * was sent, -1 without a VICI connection. */
int mon_vici_rekey(const char *child);

#endif
