/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_base.c: what the group member's parts share: handing events to
 * the caller (typed, gm.h; core/views/gm_json.c renders them), texts
 * for messages, and the wire profile and selector order a policy is
 * read with. */
#include "config.h"
#include "core/gdoi/gm_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

void gm_ident_str(const struct gdoi_ident *id, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (id->type == ISAKMP_ID_IPV4_ADDR_SUBNET && id->len == 8) {
		uint32_t mask;
		memcpy(&mask, id->data + 4, 4);
		inet_ntop(AF_INET, id->data, a, sizeof(a));
		snprintf(buf, len, "%s/%d", a, __builtin_popcount(ntohl(mask)));
	} else if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4) {
		inet_ntop(AF_INET, id->data, buf, (socklen_t)len);
	} else {
		snprintf(buf, len, "type %u, %zu bytes", id->type, id->len);
	}
}

static const char *const event_names[] = {
	[GM_EV_PUSH_RECEIVED] = "push_received", [GM_EV_PUSH_REJECTED] = "push_rejected",
	[GM_EV_RETRANSMISSION] = "retransmission", [GM_EV_ACK_SENT] = "ack_sent",
	[GM_EV_KEK_REPLACED] = "kek_replaced", [GM_EV_KEK_MISSING] = "kek_missing",
	[GM_EV_TEK_INSTALLED] = "tek_installed", [GM_EV_TEK_ACTIVATED] = "tek_activated",
	[GM_EV_TEK_REMOVED] = "tek_removed", [GM_EV_MULTICAST_JOINED] = "multicast_joined",
	[GM_EV_MULTICAST_FAILED] = "multicast_failed", [GM_EV_HEARTBEAT_LOST] = "heartbeat_lost",
	[GM_EV_REREGISTERED] = "reregistered", [GM_EV_REREGISTRATION_FAILED] = "reregistration_failed",
};

void gm_emit(struct gm *m, struct gm_event *e)
{
	e->name = event_names[e->kind];
	if (m->cfg.event)
		m->cfg.event(m, e, m->cfg.event_arg);
}

const char *gm_local_str(const struct gm *m, char *buf, size_t len)
{
	inet_ntop(AF_INET, &m->cfg.local.sin_addr, buf, (socklen_t)len);
	return buf;
}

/* The gdoi.h profile to parse with: -1 tries both. */
int gm_wire_profile(const struct gm *m)
{
	switch (m->cfg.profile) {
	case GM_PROFILE_RFC6407: return GDOI_PROFILE_RFC6407;
	case GM_PROFILE_GDOID: return GDOI_PROFILE_GDOID;
	default: return -1;
	}
}

/* SA TEK selectors in host order (gdoid on a little-endian host) are
 * turned around to network order. */
void gm_selectors_in(const struct gm *m, struct gdoi_sa *sa)
{
	int le = m->cfg.selector_order == GM_SELECTORS_LE ||
		 (m->cfg.selector_order == GM_SELECTORS_AUTO && sa->profile == GDOI_PROFILE_GDOID);
	if (le)
		gdoi_sa_swap_selectors(sa);
}
