/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_notify.c: events become GVPN-AGENT-MIB notifications (the
 * gvpnNotifications arc, doc/mib-design.md), sent to the configured
 * targets (SNMPv3 traps or informs by default, SNMPv2c on request) when
 * their gvpnNotify*Enable switch is on. The switches are read-write and
 * persisted in the configuration (snmp.notifications). */
#include "config.h"
#include "snmp/snmp_notify.h"
#include "snmp/snmp_agent.h"
#include "snmp/snmp_tables.h"
#include "snmp/snmp_target.h"
#include "core/cfg_edit.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_view.h"
#include "core/log.h"
#include "core/monitor/mon.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#define MIB_OBJ(...) { 1, 3, 6, 1, 4, 1, GVPN_PEN, 1, 1, __VA_ARGS__ }

static const oid trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };   /* snmpTrapOID.0 */
static uint64_t sent[CFG_NOTIFY_COUNT];
static uint64_t failed[CFG_NOTIFY_COUNT];
static int subscribed;
static int have_targets;   /* any target, or a master agent to forward to */
static const struct snmp_ops *ops;

uint64_t snmp_notify_sent(int kind)
{
	return kind >= 0 && kind < CFG_NOTIFY_COUNT ? sent[kind] : 0;
}

uint64_t snmp_notify_failed(int kind)
{
	return kind >= 0 && kind < CFG_NOTIFY_COUNT ? failed[kind] : 0;
}

/* ---- targets ------------------------------------------------------------- */

/* The source address the kernel picks towards a UDP/IPv4 target
 * ("udp:A.B.C.D:PORT" or "A.B.C.D:PORT"): a connect() of a datagram
 * socket sends nothing. 1 found, 0 not a UDP target (TCP is connected:
 * no listener), -1 one whose source cannot be told (IPv6, a name). */
static int udp_source(const char *address, struct in_addr *src)
{
	if (!strncmp(address, "tcp", 3))
		return 0;
	const char *rest = !strncmp(address, "udp:", 4) ? address + 4 : address;
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	if (!strncmp(address, "udp6:", 5) || cfg_parse_hostport(rest, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	sin.sin_port = htons((uint16_t)port);
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		 getsockname(fd, (struct sockaddr *)&sin, &len) == 0 ? 1 : -1;
	if (fd >= 0)
		close(fd);
	*src = sin.sin_addr;
	return rc;
}

/* Net-SNMP sends notifications over UDP from an unconnected socket bound
 * to the wildcard address on a random port, where anyone can send to it.
 * When every UDP target is reached from one address, bind them there
 * (Net-SNMP's clientaddr): loopback targets get a loopback socket. */
static void bind_sources(const struct cfg_snmp *s)
{
	struct in_addr one = { 0 }, src;
	int n = 0, mixed = 0;
	for (size_t i = 0; i < s->n_targets + s->n_trap_sinks; i++) {
		const char *a = i < s->n_targets ? s->targets[i].address : s->trap_sinks[i - s->n_targets];
		int rc = udp_source(a, &src);
		if (rc < 0 || (rc > 0 && n && src.s_addr != one.s_addr))
			mixed = 1;
		if (rc > 0 && !n++)
			one = src;
	}
	if (!n)
		return;
	if (mixed) {
		log_notice("snmp", "notification targets are reached from different or unknown source addresses: "
			   "their UDP socket is bound to the wildcard address");
		return;
	}
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &one, ip, sizeof(ip));
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CLIENT_ADDR, ip);
	log_debug("snmp", "notifications leave from %s", ip);
}

/* Before init_snmp(): checks what the targets need from the rest of the
 * configuration; their sessions are opened by snmp_notify_start(). */
int snmp_notify_config(const struct cfg_snmp *s)
{
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cfg_snmp_target *t = &s->targets[i];
		if (t->v2c)
			continue;
		size_t k;
		for (k = 0; k < s->n_v3_users; k++)
			if (!strcmp(s->v3_users[k].name, t->user) && s->v3_users[k].auth_passphrase)
				break;
		if (k == s->n_v3_users) {
			log_err("snmp", "notification target %s: no SNMPv3 user %s with a passphrase", t->address,
				t->user);
			return -1;
		}
	}
	if (s->n_trap_sinks && !s->n_communities)
		log_notice("snmp", "trap_sinks: no community configured; the traps carry \"public\"");
	bind_sources(s);
	have_targets = s->n_targets || s->n_trap_sinks || s->mode == CFG_SNMP_AGENTX;
	return 0;
}

void snmp_notify_start(const struct cfg_snmp *s)
{
	snmp_target_open(s);
}

static int strs_differ(const char *a, const char *b)
{
	return !a != !b || (a && strcmp(a, b));
}

int snmp_notify_targets_differ(const struct cfg_snmp *a, const struct cfg_snmp *b)
{
	if (a->n_targets != b->n_targets || a->n_trap_sinks != b->n_trap_sinks)
		return 1;
	for (size_t i = 0; i < a->n_trap_sinks; i++)
		if (strcmp(a->trap_sinks[i], b->trap_sinks[i]))
			return 1;
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct cfg_snmp_target *x = &a->targets[i], *y = &b->targets[i];
		if (strcmp(x->address, y->address) || x->inform != y->inform || x->v2c != y->v2c ||
		    strs_differ(x->user, y->user) || strs_differ(x->community, y->community) ||
		    x->timeout != y->timeout || x->retries != y->retries || x->queue != y->queue)
			return 1;
	}
	return 0;
}

/* ---- sending ---------------------------------------------------------------- */

struct vb {
	netsnmp_variable_list *list;
};

static void add(struct vb *v, const oid *col, size_t col_len, const uint32_t *idx, size_t n_idx, u_char type,
		const void *val, size_t len)
{
	oid o[MAX_OID_LEN];
	memcpy(o, col, col_len * sizeof(oid));
	for (size_t i = 0; i < n_idx; i++)
		o[col_len + i] = idx[i];
	snmp_varlist_add_variable(&v->list, o, col_len + n_idx, type, val, len);
}

static void add_u32(struct vb *v, const oid *col, size_t cl, const uint32_t *idx, size_t n, u_char type,
		    uint64_t x)
{
	u_long u = (u_long)(x & 0xffffffffu);
	add(v, col, cl, idx, n, type, &u, sizeof(u));
}

static void add_int(struct vb *v, const oid *col, size_t cl, const uint32_t *idx, size_t n, long x)
{
	add(v, col, cl, idx, n, ASN_INTEGER, &x, sizeof(x));
}

static void add_str(struct vb *v, const oid *col, size_t cl, const uint32_t *idx, size_t n, const char *s)
{
	add(v, col, cl, idx, n, ASN_OCTET_STR, s, strlen(s));
}

#define COL(name, ...) static const oid name[] = MIB_OBJ(__VA_ARGS__)
COL(c_group_seq, 3, 1, 5);
COL(c_member_type, 4, 1, 2);
COL(c_member_addr, 4, 1, 3);
COL(c_member_identity, 4, 1, 5);
COL(c_member_acked, 4, 1, 8);
COL(c_kek_spi, 5, 1, 2);
COL(c_kek_status, 5, 1, 9);
COL(c_tek_policy, 6, 1, 2);
COL(c_tek_spi, 6, 1, 3);
COL(c_tek_status, 6, 1, 9);
COL(c_rk_group, 7, 1, 3);
COL(c_rk_reason, 7, 1, 4);
COL(c_rk_seq, 7, 1, 5);
COL(c_rk_targeted, 7, 1, 6);
COL(c_rk_acked, 7, 1, 7);
COL(c_rk_removed, 7, 1, 8);
COL(c_vpn_name, 9, 1, 2);
COL(c_vpn_state, 9, 1, 13);
COL(c_vpn_misses, 9, 1, 21);
COL(c_vpn_attempts, 9, 1, 22);
COL(c_vpn_successes, 9, 1, 23);
#define L(c) (c), OID_LENGTH(c)

/* A numeric parameter as the publisher gave it (ev_param_uint); 0 when
 * the event has none. */
static uint32_t num(const struct event *e, const char *k)
{
	uint64_t v;
	return ev_get_uint(e, k, &v) == 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static int kind_of(enum ev_kind k)
{
	switch (k) {
	case EV_MEMBER_REGISTERED: return CFG_NOTIFY_MEMBER_REGISTERED;
	case EV_MEMBER_REMOVED: return CFG_NOTIFY_MEMBER_REMOVED;
	case EV_REKEY_SENT: return CFG_NOTIFY_REKEY_SENT;
	case EV_KEK_REPLACED: return CFG_NOTIFY_KEK_REPLACED;
	case EV_TEK_REPLACED: return CFG_NOTIFY_TEK_REPLACED;
	case EV_TUNNEL_UP: return CFG_NOTIFY_TUNNEL_UP;
	case EV_TUNNEL_DOWN: return CFG_NOTIFY_TUNNEL_DOWN;
	case EV_TUNNEL_REKEY_SUCCEEDED: return CFG_NOTIFY_TUNNEL_REKEY_RESULT;
	default: return -1;
	}
}

static void member_vars(struct vb *v, const struct event *e, int removed)
{
	uint32_t idx[2] = { num(e, "group"), num(e, "index") };
	char a[64];
	str_copy(a, ev_get_param(e, "member") ? ev_get_param(e, "member") : "", sizeof(a));
	a[strcspn(a, ":")] = '\0';
	struct in_addr in = { 0 };
	inet_pton(AF_INET, a, &in);
	add_int(v, L(c_member_type), idx, 2, 1);
	add(v, L(c_member_addr), idx, 2, ASN_OCTET_STR, &in, 4);
	const char *id = ev_get_param(e, "identity");
	add_str(v, L(c_member_identity), idx, 2, id ? id : "");
	if (removed) {
		struct gks_member_info m;
		uint32_t acked = gks_member_lookup(idx[0], idx[1], 0, &m) == 0 ? m.last_acked_seq : 0;
		add_u32(v, L(c_member_acked), idx, 2, ASN_UNSIGNED, acked);
	} else {
		add_u32(v, L(c_group_seq), idx, 1, ASN_UNSIGNED, num(e, "seq"));
	}
}

static uint32_t vpn_index(const char *name)
{
	struct mon_vpn_status st;
	for (size_t i = 0; name && i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0 && !strcmp(st.name, name))
			return (uint32_t)i + 1;
	return 0;
}

static void on_event(const struct event *e, void *arg GVPN_UNUSED)
{
	int k = kind_of(e->kind);
	const struct cfg *c = ops->cfg();
	if (k < 0 || !have_targets || !c || !c->snmp.enabled || !c->snmp.notify[k])
		return;
	struct vb v = { NULL };
	oid which[] = { 1, 3, 6, 1, 4, 1, GVPN_PEN, 1, 0, (oid)k + 1 };
	snmp_varlist_add_variable(&v.list, trap_oid, OID_LENGTH(trap_oid), ASN_OBJECT_ID, which, sizeof(which));
	uint32_t g = num(e, "group");
	switch (k) {
	case CFG_NOTIFY_MEMBER_REGISTERED:
	case CFG_NOTIFY_MEMBER_REMOVED:
		member_vars(&v, e, k == CFG_NOTIFY_MEMBER_REMOVED);
		break;
	case CFG_NOTIFY_REKEY_SENT: {
		uint32_t idx[1] = { num(e, "index") };
		struct gks_rekey_info r;
		int reason = gks_rekey_lookup(idx[0], 0, &r) == 0 ? r.reason : 4;
		add_u32(&v, L(c_rk_group), idx, 1, ASN_UNSIGNED, g);
		add_int(&v, L(c_rk_reason), idx, 1, reason);
		add_u32(&v, L(c_rk_seq), idx, 1, ASN_UNSIGNED, num(e, "seq"));
		add_u32(&v, L(c_rk_targeted), idx, 1, ASN_UNSIGNED, num(e, "targeted"));
		add_u32(&v, L(c_rk_acked), idx, 1, ASN_UNSIGNED, num(e, "acked"));
		add_u32(&v, L(c_rk_removed), idx, 1, ASN_UNSIGNED, num(e, "removed"));
		break;
	}
	case CFG_NOTIFY_KEK_REPLACED: {
		uint32_t idx[2] = { g, 1 };
		struct gks_kek_info kk;
		if (gks_kek_lookup(g, 1, 0, &kk) == 0) {
			add(&v, L(c_kek_spi), idx, 2, ASN_OCTET_STR, kk.spi, sizeof(kk.spi));
			add_int(&v, L(c_kek_status), idx, 2, kk.status);
		}
		break;
	}
	case CFG_NOTIFY_TEK_REPLACED: {
		uint32_t idx[2] = { g, num(e, "index") };
		struct gks_tek_info t;
		if (gks_tek_lookup(g, idx[1], 0, &t) == 0) {
			add_str(&v, L(c_tek_policy), idx, 2, t.policy);
			add_u32(&v, L(c_tek_spi), idx, 2, ASN_UNSIGNED, t.spi);
			add_int(&v, L(c_tek_status), idx, 2, t.status);
		}
		break;
	}
	default: { /* tunnels */
		const char *name = ev_get_param(e, "vpn");
		uint32_t idx[1] = { vpn_index(name) };
		struct mon_vpn_status st;
		int have = idx[0] && mon_status_at(idx[0] - 1, &st) == 0;
		add_str(&v, L(c_vpn_name), idx, 1, name ? name : "");
		add_int(&v, L(c_vpn_state), idx, 1,
			!have ? 2 : st.state == MON_DISABLED ? 3 : st.state == MON_UP ? 1 : 2);
		if (k == CFG_NOTIFY_TUNNEL_DOWN)
			add_u32(&v, L(c_vpn_misses), idx, 1, ASN_UNSIGNED, have ? st.consecutive_misses : 0);
		if (k == CFG_NOTIFY_TUNNEL_REKEY_RESULT) {
			add_u32(&v, L(c_vpn_attempts), idx, 1, ASN_COUNTER, have ? st.rekey_attempts : 0);
			add_u32(&v, L(c_vpn_successes), idx, 1, ASN_COUNTER, have ? st.rekey_successes : 0);
		}
	}
	}
	/* Handed to each target's queue (their delivery is counted per
	 * target: snmp_target.c); failed: none could take it. */
	if (snmp_target_send(v.list) < 0)
		failed[k]++;
	else
		sent[k]++;
	if (c->snmp.mode == CFG_SNMP_AGENTX)
		send_v2trap(v.list); /* to the master agent, which has no sinks of ours */
	snmp_free_varbind(v.list);
}

/* ---- the enable switches ------------------------------------------------------------------ */

static int enable_reserve1(netsnmp_request_info *r, struct cfg_edit *e, void *arg)
{
	int k = (int)(uintptr_t)arg;
	const netsnmp_variable_list *vb = r->requestvb;
	if (vb->type != ASN_INTEGER)
		return SNMP_ERR_WRONGTYPE;
	if (*vb->val.integer != 1 && *vb->val.integer != 2)
		return SNMP_ERR_WRONGVALUE;
	char path[64];
	snprintf(path, sizeof(path), "snmp.notifications.%s", cfg_notify_names[k]);
	cfg_edit_bool(e, path, *vb->val.integer == 1);
	return SNMP_ERR_NOERROR;
}

static int enable_handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg GVPN_UNUSED,
			  netsnmp_agent_request_info *ri, netsnmp_request_info *requests)
{
	int k = (int)(uintptr_t)h->myvoid;
	if (ri->mode != MODE_GET) {
		snmp_set_phase(ri, requests, enable_reserve1, (void *)(uintptr_t)k);
		return SNMP_ERR_NOERROR;
	}
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		long t = ops->cfg()->snmp.notify[k] ? 1 : 2;
		snmp_set_var_typed_value(r->requestvb, ASN_INTEGER, &t, sizeof(t));
	}
	return SNMP_ERR_NOERROR;
}

/* ---- gvpnNotifyTargetTable (one row per target, index = position) --------------------- */

static const oid target_table[] = MIB_OBJ(12);
#define TT_LEN OID_LENGTH(target_table)
#define TT_FIRST_COL 2
#define TT_LAST_COL 11

static void target_value(const struct snmp_target_info *t, unsigned col, netsnmp_variable_list *vb)
{
	uint64_t c = 0;
	long e;
	switch (col) {
	case 2: snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->address, strlen(t->address)); return;
	case 3: e = t->inform ? 2 : 1; snmp_set_var_typed_value(vb, ASN_INTEGER, &e, sizeof(e)); return;
	case 4: e = t->v2c ? 2 : 3; snmp_set_var_typed_value(vb, ASN_INTEGER, &e, sizeof(e)); return;
	case 5: c = t->sent; break;
	case 6: c = t->acked; break;
	case 7: c = t->retried; break;
	case 8: c = t->dropped; break;
	case 9: {
		u_long g = t->queued;
		snmp_set_var_typed_value(vb, ASN_GAUGE, &g, sizeof(g));
		return;
	}
	case 10: snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->engine_id, t->engine_id_len); return;
	default: c = t->engine_changes; break;
	}
	u_long u = (u_long)(c & 0xffffffffu);
	snmp_set_var_typed_value(vb, ASN_COUNTER, &u, sizeof(u));
}

/* GET: exactly base.1.col.row; noSuchObject for anything but a column,
 * noSuchInstance for a row that is not there (RFC 3416 4.2.1). */
static void target_get(netsnmp_agent_request_info *ri, netsnmp_request_info *r)
{
	const oid *o = r->requestvb->name;
	size_t len = r->requestvb->name_length;
	struct snmp_target_info t;
	if (len < TT_LEN + 2 || o[TT_LEN] != 1 || o[TT_LEN + 1] < TT_FIRST_COL || o[TT_LEN + 1] > TT_LAST_COL) {
		netsnmp_set_request_error(ri, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (len != TT_LEN + 3 || o[TT_LEN + 2] < 1 || snmp_target_get(o[TT_LEN + 2] - 1, &t) < 0) {
		netsnmp_set_request_error(ri, r, SNMP_NOSUCHINSTANCE);
		return;
	}
	target_value(&t, (unsigned)o[TT_LEN + 1], r->requestvb);
}

/* GETNEXT: rows are 1..n in every column; nothing after the last. */
static void target_getnext(netsnmp_request_info *r)
{
	const oid *o = r->requestvb->name;
	size_t len = r->requestvb->name_length, n = snmp_target_count();
	oid col = TT_FIRST_COL, after = 0;
	if (snmp_oid_compare(o, len, target_table, TT_LEN) > 0 && len > TT_LEN) {
		if (o[TT_LEN] > 1)
			return;
		if (o[TT_LEN] == 1 && len > TT_LEN + 1 && o[TT_LEN + 1] >= TT_FIRST_COL) {
			col = o[TT_LEN + 1];
			after = len > TT_LEN + 2 ? o[TT_LEN + 2] : 0;
		}
	}
	if (after >= n) {
		col++;
		after = 0;
	}
	struct snmp_target_info t;
	if (!n || col > TT_LAST_COL || snmp_target_get(after, &t) < 0)
		return;
	oid name[TT_LEN + 3];
	memcpy(name, target_table, sizeof(target_table));
	name[TT_LEN] = 1;
	name[TT_LEN + 1] = col;
	name[TT_LEN + 2] = after + 1;
	snmp_set_var_objid(r->requestvb, name, TT_LEN + 3);
	target_value(&t, (unsigned)col, r->requestvb);
}

static int target_handler(netsnmp_mib_handler *h GVPN_UNUSED, netsnmp_handler_registration *reg GVPN_UNUSED,
			  netsnmp_agent_request_info *ri, netsnmp_request_info *requests)
{
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		if (ri->mode == MODE_GET)
			target_get(ri, r);
		else if (ri->mode == MODE_GETNEXT)
			target_getnext(r);
		else
			netsnmp_set_request_error(ri, r, SNMP_ERR_NOTWRITABLE);
	}
	return SNMP_ERR_NOERROR;
}

int snmp_notify_init(const struct snmp_ops *snmp_ops)
{
	ops = snmp_ops;
	for (int k = 0; k < CFG_NOTIFY_COUNT; k++) {
		oid o[] = MIB_OBJ(10, (oid)k + 1);
		char name[64];
		snprintf(name, sizeof(name), "gvpnNotify%dEnable", k + 1);
		netsnmp_mib_handler *h = netsnmp_create_handler(name, enable_handler);
		h->myvoid = (void *)(uintptr_t)k;
		netsnmp_handler_registration *reg =
			netsnmp_handler_registration_create(name, h, o, OID_LENGTH(o), HANDLER_CAN_RWRITE);
		if (!reg || netsnmp_register_scalar(reg) != MIB_REGISTERED_OK) {
			log_err("snmp", "cannot register %s", name);
			return -1;
		}
	}
	netsnmp_handler_registration *reg = netsnmp_handler_registration_create(
		"gvpnNotifyTargetTable", netsnmp_create_handler("gvpnNotifyTargetTable", target_handler),
		target_table, TT_LEN, HANDLER_CAN_RONLY);
	if (!reg || netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
		log_err("snmp", "cannot register gvpnNotifyTargetTable");
		return -1;
	}
	ev_subscribe(on_event, NULL);
	subscribed = 1;
	memset(sent, 0, sizeof(sent));
	memset(failed, 0, sizeof(failed));
	return 0;
}

void snmp_notify_fini(void)
{
	if (subscribed)
		ev_unsubscribe(on_event, NULL);
	snmp_target_close();
	subscribed = 0;
	have_targets = 0;
}
