/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_target.c: sending notifications to their targets without ever
 * blocking the loop.
 *
 * Each target has a Net-SNMP session of its own, in the library's session
 * list, so the loop glue of snmp_agent.c (snmp_select_info2, snmp_read2,
 * snmp_timeout) drives its socket, retransmissions and time-outs. The
 * sessions keep SNMP_FLAGS_DONT_PROBE set: with it clear, the library
 * discovers an inform receiver's engine ID with a synchronous request
 * (timeout x (retries + 1), 6 s by default) before the first inform, and
 * again before every inform while the receiver does not answer, which
 * froze the whole agent. Here the discovery is one more asynchronous
 * request: an empty unauthenticated GET from the user "" that the
 * receiver answers with a Report carrying its engine ID (RFC 3414 4).
 *
 * Informs wait in a queue bounded by the target's "queue" while the
 * engine ID is unknown or WINDOW informs are unacknowledged; the library
 * retransmits them and calls back with the outcome. A receiver that
 * restarts with a new engine ID refuses informs made for the old one:
 * its usmStatsUnknownEngineIDs Report (when our USM lets it through), or
 * an inform timing out, starts a new discovery, and a different engine
 * ID replaces the old one in the session, keys localized for it
 * (usm_create_user_from_session). */
#include "config.h"
#include "snmp/snmp_target.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <openssl/crypto.h>

#define WINDOW 8           /* unacknowledged informs per target */
#define MAX_REQUEUE 2      /* sends of one inform after engine changes */
#define ENGINE_MAX 32      /* RFC 3411 SnmpEngineID */

enum eng_state { ENG_NA, ENG_UNKNOWN, ENG_PROBING, ENG_KNOWN };
enum pend_state { P_WAITING, P_SENDING, P_IN_FLIGHT };

struct target;

struct pend {
	struct pend *prev, *next;
	struct target *t;
	netsnmp_pdu *pdu;          /* ours; each transmission sends a clone */
	uint64_t queued_us;
	int state;                 /* enum pend_state */
	int report;                /* SNMPERR_* of the last Report for it, or 0 */
	int sends;
	int suspect;               /* unanswered: sent again only if the engine ID changed */
};

struct plist {
	struct pend *head, *tail;
	unsigned n;
};

struct target {
	char *address;
	int inform, v2c;
	unsigned queue_max;
	netsnmp_session *ss;       /* NULL: could not be opened */
	int eng;                   /* enum eng_state */
	unsigned char engine[ENGINE_MAX];
	size_t engine_len;         /* the last engine ID known, 0 none */
	uint64_t probe_us;         /* when the running probe was sent */
	int in_send;               /* inside snmp_async_send: callbacks wait */
	struct plist waiting, flying;
	struct loop_timer kick;
	uint64_t sent, acked, retried, dropped, engine_changes;
	int warned_full, warned_dead;
};

static struct target *T;
static size_t nT;
static int closing;
static const oid sysuptime_oid[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };

/* ---- lists --------------------------------------------------------------- */

static void pl_push(struct plist *l, struct pend *p, int at_head)
{
	p->prev = at_head ? NULL : l->tail;
	p->next = at_head ? l->head : NULL;
	if (at_head && l->head)
		l->head->prev = p;
	if (!at_head && l->tail)
		l->tail->next = p;
	if (!l->head || at_head)
		l->head = p;
	if (!l->tail || !at_head)
		l->tail = p;
	l->n++;
}

static void pl_remove(struct plist *l, struct pend *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	p->prev = p->next = NULL;
	l->n--;
}

static void pend_free(struct pend *p)
{
	snmp_free_pdu(p->pdu);
	free(p);
}

static void hex(char *out, size_t size, const unsigned char *b, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < n && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- outcomes ---------------------------------------------------------------- */

static void kick(struct target *t)
{
	loop_timer_arm_us(&t->kick, 0);
}

/* Once per streak of drops; an acknowledgement ends the streak. */
static void warn_drop(struct target *t, const char *why)
{
	if (!t->warned_dead)
		log_warn("snmp", "notification target %s: inform dropped (%s)", t->address, why);
	t->warned_dead = 1;
}

static void dropped(struct target *t, const char *why)
{
	t->dropped++;
	warn_drop(t, why);
}

static void drop_flying(struct pend *p, const char *why)
{
	struct target *t = p->t;
	pl_remove(&t->flying, p);
	pend_free(p);
	dropped(t, why);
	kick(t);
}

/* Starts a new discovery of a SNMPv3 receiver's engine ID. */
static void rediscover(struct target *t)
{
	if (t->v2c || t->eng == ENG_PROBING)
		return;
	t->eng = ENG_UNKNOWN;
	kick(t);
}

/* An inform the receiver did not take: perhaps it restarted with a new
 * engine ID. It waits for a new discovery, which sends it again if the
 * engine ID changed and drops it otherwise. */
static void suspect(struct pend *p)
{
	struct target *t = p->t;
	pl_remove(&t->flying, p);
	p->state = P_WAITING;
	p->suspect = 1;
	pl_push(&t->waiting, p, 1);
	rediscover(t);
}

/* Drops the waiting informs that are suspect or were queued at or
 * before cutoff_us; returns how many. */
static int drop_waiting(struct target *t, uint64_t cutoff_us)
{
	int n = 0;
	for (struct pend *p = t->waiting.head, *next; p; p = next) {
		next = p->next;
		if (!p->suspect && p->queued_us > cutoff_us)
			continue;
		pl_remove(&t->waiting, p);
		pend_free(p);
		t->dropped++;
		n++;
	}
	return n;
}

static int inform_cb(int op, netsnmp_session *ss GVPN_UNUSED, int reqid GVPN_UNUSED, netsnmp_pdu *pdu,
		     void *magic)
{
	struct pend *p = magic;
	if (closing || p->state != P_IN_FLIGHT)
		return 1; /* a failure inside snmp_async_send: handled by its caller */
	struct target *t = p->t;
	log_debug("snmp", "notification target %s: inform: callback %d, PDU type %d", t->address, op,
		  pdu ? pdu->command : -1);
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
		if (pdu->command == SNMP_MSG_REPORT) {
			/* The library resends on notInTimeWindow, else calls
			 * back with OP_SEC_ERROR. */
			p->report = snmpv3_get_report_type(pdu);
			break;
		}
		t->acked++;
		if (t->warned_dead)
			log_notice("snmp", "notification target %s acknowledges informs again", t->address);
		t->warned_dead = 0;
		pl_remove(&t->flying, p);
		pend_free(p);
		kick(t);
		break;
	case NETSNMP_CALLBACK_OP_RESEND:
		t->retried++;
		break;
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		if (!p->report && pdu && pdu->command == SNMP_MSG_REPORT)
			p->report = snmpv3_get_report_type(pdu);
		if (p->report == SNMPERR_UNKNOWN_ENG_ID && !t->v2c && p->sends <= MAX_REQUEUE) {
			suspect(p);
			break;
		}
		drop_flying(p, p->report ? snmp_api_errstring(p->report) : "refused by the receiver");
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		if (!t->v2c && p->sends <= MAX_REQUEUE)
			suspect(p);
		else
			drop_flying(p, "no acknowledgement after the retries");
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		drop_flying(p, "cannot send it");
		break;
	default:
		break;
	}
	return 1;
}

/* ---- engine ID discovery --------------------------------------------------- */

static void set_session_engine(netsnmp_session *ss, const unsigned char *id, size_t len)
{
	SNMP_FREE(ss->securityEngineID);
	SNMP_FREE(ss->contextEngineID);
	ss->securityEngineIDLen = ss->contextEngineIDLen = 0;
	if (!len)
		return;
	ss->securityEngineID = netsnmp_memdup(id, len);
	ss->contextEngineID = netsnmp_memdup(id, len);
	if (ss->securityEngineID && ss->contextEngineID)
		ss->securityEngineIDLen = ss->contextEngineIDLen = len;
}

/* No answer to the probe: the informs queued before it was sent have
 * waited as long as an inform's retries take; they are dropped, and so
 * are the suspect ones. */
static void probe_failed(struct target *t, const char *why, uint64_t cutoff_us)
{
	t->eng = ENG_UNKNOWN;
	int n = drop_waiting(t, cutoff_us);
	if (!t->warned_dead)
		log_warn("snmp", "notification target %s: no engine ID (%s); %d inform%s dropped, the next "
			 "one probes again", t->address, why, n, n == 1 ? "" : "s");
	t->warned_dead = 1;
	if (t->waiting.n)
		kick(t);
}

static void engine_found(struct target *t, const unsigned char *id, size_t len)
{
	char now[2 * ENGINE_MAX + 1], was[2 * ENGINE_MAX + 1];
	hex(now, sizeof(now), id, len);
	hex(was, sizeof(was), t->engine, t->engine_len);
	int changed = t->engine_len && (t->engine_len != len || memcmp(t->engine, id, len));
	set_session_engine(t->ss, id, len);
	/* Keys localized for this engine ID: a user entry of its own. */
	t->ss->flags &= ~SNMP_FLAGS_USER_CREATED;
	if (!t->ss->securityEngineIDLen || usm_create_user_from_session(t->ss) != SNMPERR_SUCCESS) {
		probe_failed(t, "cannot localize the keys for it", loop_now_us());
		return;
	}
	memcpy(t->engine, id, len);
	t->engine_len = len;
	t->eng = ENG_KNOWN;
	if (changed) {
		for (struct pend *p = t->waiting.head; p; p = p->next)
			p->suspect = 0;
		t->engine_changes++;
		log_notice("snmp", "notification target %s: engine ID changed from %s to %s (the receiver "
			   "restarted?); informs use the new one", t->address, was, now);
	} else {
		log_info("snmp", "notification target %s: engine ID %s", t->address, now);
		if (drop_waiting(t, 0))
			warn_drop(t, "no acknowledgement after the retries");
	}
	kick(t);
}

static int probe_cb(int op, netsnmp_session *ss GVPN_UNUSED, int reqid GVPN_UNUSED, netsnmp_pdu *pdu, void *magic)
{
	struct target *t = magic;
	if (closing || t->in_send || t->eng != ENG_PROBING)
		return 1;
	log_debug("snmp", "notification target %s: engine ID probe: callback %d, PDU type %d", t->address, op,
		  pdu ? pdu->command : -1);
	/* The Report comes with OP_SEC_ERROR (Net-SNMP 5.9) or, first,
	 * with OP_RECEIVED_MESSAGE. */
	int have = pdu && pdu->securityEngineIDLen && pdu->securityEngineIDLen <= ENGINE_MAX;
	switch (op) {
	case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
	case NETSNMP_CALLBACK_OP_SEC_ERROR:
		if (have)
			engine_found(t, pdu->securityEngineID, pdu->securityEngineIDLen);
		else
			probe_failed(t, "the answer carries no engine ID", t->probe_us);
		break;
	case NETSNMP_CALLBACK_OP_TIMED_OUT:
		probe_failed(t, "no answer to the probe", t->probe_us);
		break;
	case NETSNMP_CALLBACK_OP_SEND_FAILED:
		probe_failed(t, "the probe cannot be sent", t->probe_us);
		break;
	default:
		break;
	}
	return 1;
}

static void probe(struct target *t)
{
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
	pdu->version = SNMP_VERSION_3;
	pdu->securityModel = SNMP_SEC_MODEL_USM;
	pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
	pdu->securityName = strdup("");
	pdu->securityNameLen = 0;
	/* Empty engine IDs in the probe: the session's are copied into
	 * every message built without. */
	set_session_engine(t->ss, NULL, 0);
	t->eng = ENG_PROBING;
	t->probe_us = loop_now_us();
	t->in_send = 1;
	int ok = pdu->securityName && snmp_async_send(t->ss, pdu, probe_cb, t);
	t->in_send = 0;
	if (!ok) {
		snmp_free_pdu(pdu);
		probe_failed(t, snmp_api_errstring(t->ss->s_snmp_errno), loop_now_us());
	}
}

/* ---- sending ------------------------------------------------------------------ */

static void transmit(struct target *t, struct pend *p)
{
	netsnmp_pdu *pdu = snmp_clone_pdu(p->pdu);
	if (!pdu) {
		pend_free(p);
		dropped(t, "out of memory");
		return;
	}
	pdu->version = t->ss->version;
	pdu->reqid = snmp_get_next_reqid();
	pdu->msgid = snmp_get_next_msgid();
	p->state = P_SENDING;
	p->report = 0;
	pl_push(&t->flying, p, 0);
	t->in_send = 1;
	int ok = snmp_async_send(t->ss, pdu, inform_cb, p);
	t->in_send = 0;
	if (!ok) {
		snmp_free_pdu(pdu);
		pl_remove(&t->flying, p);
		pend_free(p);
		dropped(t, snmp_api_errstring(t->ss->s_snmp_errno));
		return;
	}
	p->state = P_IN_FLIGHT;
	if (!p->sends++)
		t->sent++;
}

static void pump(struct target *t)
{
	if (!t->ss)
		return;
	if (t->eng == ENG_UNKNOWN && t->waiting.n)
		probe(t);
	if (t->eng == ENG_UNKNOWN || t->eng == ENG_PROBING)
		return;
	while (t->waiting.head && t->flying.n < WINDOW) {
		struct pend *p = t->waiting.head;
		pl_remove(&t->waiting, p);
		transmit(t, p);
	}
	if (t->warned_full && t->waiting.n + t->flying.n < t->queue_max / 2 + 1) {
		log_notice("snmp", "notification target %s: its inform queue has room again", t->address);
		t->warned_full = 0;
	}
}

static void on_kick(struct loop_timer *lt GVPN_UNUSED, void *arg)
{
	pump(arg);
}

static void enqueue(struct target *t, const netsnmp_pdu *tmpl)
{
	if (!t->ss || t->waiting.n + t->flying.n >= t->queue_max) {
		t->dropped++;
		if (t->ss && !t->warned_full)
			log_warn("snmp", "notification target %s: %u informs waiting or unacknowledged; new ones "
				 "are dropped", t->address, t->queue_max);
		t->warned_full = t->ss != NULL;
		return;
	}
	struct pend *p = xcalloc(1, sizeof(*p));
	p->t = t;
	p->pdu = snmp_clone_pdu((netsnmp_pdu *)tmpl);
	if (!p->pdu) {
		free(p);
		t->dropped++;
		return;
	}
	p->pdu->command = SNMP_MSG_INFORM;
	p->queued_us = loop_now_us();
	p->state = P_WAITING;
	pl_push(&t->waiting, p, 0);
	kick(t); /* never from inside a Net-SNMP callback */
}

static void send_trap(struct target *t, const netsnmp_pdu *tmpl)
{
	netsnmp_pdu *pdu = t->ss ? snmp_clone_pdu((netsnmp_pdu *)tmpl) : NULL;
	if (!pdu) {
		t->dropped++;
		return;
	}
	pdu->command = SNMP_MSG_TRAP2;
	pdu->version = t->ss->version;
	pdu->reqid = snmp_get_next_reqid();
	pdu->msgid = snmp_get_next_msgid();
	if (!snmp_async_send(t->ss, pdu, NULL, NULL)) {
		snmp_free_pdu(pdu);
		t->dropped++;
		return;
	}
	t->sent++;
}

int snmp_target_send(const struct variable_list *vars)
{
	if (!nT)
		return 0;
	netsnmp_pdu *tmpl = snmp_pdu_create(SNMP_MSG_TRAP2);
	if (!tmpl)
		return -1;
	u_long up = netsnmp_get_agent_uptime();
	netsnmp_variable_list *v = snmp_pdu_add_variable(tmpl, sysuptime_oid, OID_LENGTH(sysuptime_oid),
							 ASN_TIMETICKS, &up, sizeof(up));
	if (v)
		v->next_variable = snmp_clone_varbind((netsnmp_variable_list *)vars);
	for (size_t i = 0; v && i < nT; i++) {
		if (T[i].inform)
			enqueue(&T[i], tmpl);
		else
			send_trap(&T[i], tmpl);
	}
	snmp_free_pdu(tmpl);
	return v ? 0 : -1;
}

/* ---- sessions ------------------------------------------------------------------ */

static int v3_keys(netsnmp_session *s, const struct cfg_snmp_user *u)
{
	const char *priv = snmp_priv_token(u->priv);
	size_t alen = 0, plen = 0;
	oid *a = sc_get_auth_oid(usm_lookup_auth_type(snmp_auth_token(u->auth)), &alen);
	oid *p = priv ? sc_get_priv_oid(usm_lookup_priv_type(priv), &plen) : NULL;
	if (!a || (priv && !p))
		return -1;
	s->securityAuthProto = a;
	s->securityAuthProtoLen = alen;
	s->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (generate_Ku(a, (u_int)alen, (const u_char *)u->auth_passphrase, strlen(u->auth_passphrase),
			s->securityAuthKey, &s->securityAuthKeyLen) != SNMPERR_SUCCESS)
		return -1;
	s->securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
	if (!priv)
		return 0;
	s->securityPrivProto = p;
	s->securityPrivProtoLen = plen;
	s->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(a, (u_int)alen, (const u_char *)u->priv_passphrase, strlen(u->priv_passphrase),
			s->securityPrivKey, &s->securityPrivKeyLen) != SNMPERR_SUCCESS)
		return -1;
	s->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	return 0;
}

static const struct cfg_snmp_user *find_user(const struct cfg_snmp *s, const char *name)
{
	for (size_t k = 0; name && k < s->n_v3_users; k++)
		if (!strcmp(s->v3_users[k].name, name))
			return &s->v3_users[k];
	return NULL;
}

static void open_one(struct target *t, const struct cfg_snmp *s, const struct cfg_snmp_target *c)
{
	netsnmp_session sess;
	u_char local[ENGINE_MAX];
	snmp_sess_init(&sess); /* sets SNMP_FLAGS_DONT_PROBE */
	sess.peername = t->address;
	sess.timeout = c ? c->timeout * 1000000L : SNMP_DEFAULT_TIMEOUT;
	sess.retries = c ? (int)c->retries : 0;
	if (t->v2c) {
		const char *comm = c && c->community ? c->community :
			s->n_communities ? s->communities[0].name : "public";
		sess.version = SNMP_VERSION_2c;
		sess.community = (u_char *)comm;
		sess.community_len = strlen(comm);
	} else {
		const struct cfg_snmp_user *u = find_user(s, c->user);
		sess.version = SNMP_VERSION_3;
		sess.securityModel = SNMP_SEC_MODEL_USM;
		sess.securityName = u ? u->name : NULL;
		sess.securityNameLen = u ? strlen(u->name) : 0;
		if (!u || !u->auth_passphrase || v3_keys(&sess, u) < 0) {
			log_err("snmp", "notification target %s: no usable keys for user %s", t->address, c->user);
			goto done;
		}
		if (!t->inform) {
			/* Traps: the agent is the authoritative engine. */
			sess.securityEngineID = local;
			sess.securityEngineIDLen = snmpv3_get_engineID(local, sizeof(local));
		}
	}
	netsnmp_transport *tr = netsnmp_transport_open_client("snmptrap", t->address);
	if (!tr) {
		log_err("snmp", "notification target %s: cannot open a socket to it; its notifications are "
			"dropped", t->address);
		goto done;
	}
	t->ss = snmp_add(&sess, tr, NULL, NULL);
	if (!t->ss) {
		log_err("snmp", "notification target %s: %s; its notifications are dropped", t->address,
			snmp_api_errstring(sess.s_snmp_errno));
		goto done;
	}
	/* snmp_add cleared it; set, informs never wait for a synchronous probe. */
	t->ss->flags |= SNMP_FLAGS_DONT_PROBE;
	if (t->inform && !t->v2c) {
		t->eng = ENG_UNKNOWN;
		probe(t); /* the engine ID known before the first event, if it answers */
	}
	log_info("snmp", "notifications (%s, %s) to %s", t->inform ? "informs" : "traps",
		 t->v2c ? "SNMPv2c" : "SNMPv3", t->address);
done:
	OPENSSL_cleanse(sess.securityAuthKey, sizeof(sess.securityAuthKey));
	OPENSSL_cleanse(sess.securityPrivKey, sizeof(sess.securityPrivKey));
}

void snmp_target_open(const struct cfg_snmp *s)
{
	snmp_target_close();
	nT = s->n_targets + s->n_trap_sinks;
	T = nT ? xcalloc(nT, sizeof(*T)) : NULL;
	for (size_t i = 0; i < nT; i++) {
		struct target *t = &T[i];
		const struct cfg_snmp_target *c = i < s->n_targets ? &s->targets[i] : NULL;
		t->address = xstrdup(c ? c->address : s->trap_sinks[i - s->n_targets]);
		t->inform = c && c->inform;
		t->v2c = !c || c->v2c;
		t->queue_max = c ? (unsigned)c->queue : 1;
		loop_timer_init(&t->kick, on_kick, t);
		open_one(t, s, c);
	}
}

static void free_list(struct plist *l)
{
	while (l->head) {
		struct pend *p = l->head;
		pl_remove(l, p);
		pend_free(p);
	}
}

void snmp_target_close(void)
{
	closing = 1;
	for (size_t i = 0; i < nT; i++) {
		struct target *t = &T[i];
		loop_timer_cancel(&t->kick);
		if (t->ss)
			snmp_close(t->ss); /* calls back for each request: ignored while closing */
		free_list(&t->waiting);
		free_list(&t->flying);
		free(t->address);
	}
	free(T);
	T = NULL;
	nT = 0;
	closing = 0;
}

size_t snmp_target_count(void)
{
	return nT;
}

int snmp_target_get(size_t i, struct snmp_target_info *o)
{
	if (i >= nT)
		return -1;
	const struct target *t = &T[i];
	memset(o, 0, sizeof(*o));
	o->address = t->address;
	o->inform = t->inform;
	o->v2c = t->v2c;
	o->sent = t->sent;
	o->acked = t->acked;
	o->retried = t->retried;
	o->dropped = t->dropped;
	o->queued = t->waiting.n + t->flying.n;
	o->engine_changes = t->engine_changes;
	if (t->eng == ENG_KNOWN) {
		o->engine_id = t->engine;
		o->engine_id_len = t->engine_len;
	}
	return 0;
}

/* ---- Net-SNMP's names of the algorithms ------------------------------------------ */

const char *snmp_auth_token(int a)
{
	switch (a) {
	case CFG_AUTH_SHA256: return "SHA-256";
	case CFG_AUTH_SHA384: return "SHA-384";
	case CFG_AUTH_SHA512: return "SHA-512";
	case CFG_AUTH_SHA1: return "SHA";
	default: return "MD5";
	}
}

const char *snmp_priv_token(int p)
{
	switch (p) {
	case CFG_PRIV_AES128: return "AES";
	case CFG_PRIV_AES192: return "AES-192";
	case CFG_PRIV_AES256: return "AES-256";
	case CFG_PRIV_DES: return "DES";
	default: return NULL;
	}
}
