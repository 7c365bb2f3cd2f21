/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_base.c: what the group member's parts share: events (their
 * detail is JSON, as gm_event_fn hands it to callers) and the wire
 * profile and selector order a policy is read with. */
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

void gm_add_hex(cJSON *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	cJSON_AddStringToObject(o, k, s);
	OPENSSL_cleanse(s, 2 * n);
	free(s);
}

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

void gm_add_ident(cJSON *o, const char *k, const struct gdoi_ident *id)
{
	char buf[80];
	gm_ident_str(id, buf, sizeof(buf));
	cJSON_AddStringToObject(o, k, buf);
}

void gm_add_spi32(cJSON *o, const char *k, uint32_t spi)
{
	char s[16];
	snprintf(s, sizeof(s), "0x%08x", spi);
	cJSON_AddStringToObject(o, k, s);
}

/* Hands detail to the event callback and deletes it. */
void gm_emit(struct gm *m, const char *event, cJSON *detail)
{
	if (m->cfg.event)
		m->cfg.event(m, event, detail, m->cfg.event_arg);
	cJSON_Delete(detail);
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
