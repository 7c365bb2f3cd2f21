/* SPDX-License-Identifier: BSD-2-Clause */
/* mon_icmp.h: the VPN monitor's ICMP echo prober. One shared socket for
 * every VPN; each probe leaves from the source interface's address (when
 * one is configured) and its reply is matched by identifier and sequence
 * number, then handed to mon_reply() with its round-trip time. */
#ifndef GVPN_MON_ICMP_H
#define GVPN_MON_ICMP_H

#include <stdint.h>
#include "core/monitor/mon.h"

int mon_icmp_init(void);
void mon_icmp_fini(void);
/* The mon_ops.probe callback: echo request to the VPN's destination_ip. */
int mon_icmp_probe(void *arg, struct mon_vpn *v, uint16_t seq);
uint64_t mon_icmp_sent(void);
uint64_t mon_icmp_dropped(void);   /* replies that matched nothing, unparsable packets */

#endif
