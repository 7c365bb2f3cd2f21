/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_tables.c: the GVPN-AGENT-MIB objects beyond gvpnAgent (layout in
 * doc/mib-design.md): key server and syslog scalars, the group, member,
 * KEK, TEK, rekey and VPN tables, the monitor scalars.
 *
 * One handler serves each table without Net-SNMP's table helpers: the
 * rows live in the key server and the monitor, which answer "the row
 * with this index" and "the first row after this index" directly
 * (gks_*_lookup, O(log n) for members). GETNEXT walks column by column
 * as SNMP orders a table; GETBULK comes in as repeated GETNEXTs. */
#include "config.h"
#include "core/cfg_edit.h"
#include "snmp/snmp_agent.h"
#include "snmp/snmp_tables.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_view.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/monitor/mon.h"
#include "core/monitor/mon_vici.h"
#include "core/syslog/syslog_out.h"
#include "core/syslog/syslog_tx.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#define OBJ(...) { 1, 3, 6, 1, 4, 1, GVPN_PEN, 1, 1, __VA_ARGS__ }
#define OBJ_LEN 9           /* .1.3.6.1.4.1.32473.1.1 */
#define MAX_INDEX 2

/* ---- values ------------------------------------------------------------------ */

static void set_u32(netsnmp_variable_list *vb, u_char type, uint64_t v)
{
	u_long x = (u_long)(v & 0xffffffffu);
	snmp_set_var_typed_value(vb, type, &x, sizeof(x));
}

static void set_int(netsnmp_variable_list *vb, long v)
{
	snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof(v));
}

static void set_str(netsnmp_variable_list *vb, const void *s, size_t len)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, len);
}

/* DateAndTime (SNMPv2-TC) in UTC: 11 octets with direction '+' 0 0. */
static void set_date(netsnmp_variable_list *vb, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	int y = tm.tm_year + 1900;
	u_char d[11] = { (u_char)(y >> 8), (u_char)y, (u_char)(tm.tm_mon + 1), (u_char)tm.tm_mday,
			 (u_char)tm.tm_hour, (u_char)tm.tm_min, (u_char)(tm.tm_sec > 59 ? 59 : tm.tm_sec), 0,
			 '+', 0, 0 };
	set_str(vb, d, sizeof(d));
}

static void set_ipv4(netsnmp_variable_list *vb, const struct in_addr *a)
{
	set_str(vb, a, 4);
}

/* ---- the table engine ------------------------------------------------------------ */

struct table {
	const char *name;
	oid base[MAX_OID_LEN];       /* the table's OID */
	size_t base_len;
	unsigned n_index;
	const unsigned *cols;        /* accessible columns, ascending, 0-terminated */
	/* Row with index idx (next: the first after it) into row; its index in out. */
	int (*lookup)(const uint32_t *idx, int next, void *row, uint32_t *out);
	/* The column's value of row; -1 if the column has none for it. */
	int (*value)(const void *row, unsigned col, netsnmp_variable_list *vb);
	size_t row_size;
	/* SET RESERVE1 of one varbind: checks it and adds it to the edit;
	 * returns an SNMP error status (SNMP_ERR_NOERROR when fine). NULL:
	 * the table is read-only. */
	int (*set)(const uint32_t *idx, unsigned col, const netsnmp_variable_list *vb, struct cfg_edit *e);
};

static int is_col(const struct table *t, unsigned c)
{
	for (const unsigned *p = t->cols; *p; p++)
		if (*p == c)
			return 1;
	return 0;
}

static unsigned col_at_or_after(const struct table *t, oid c)
{
	for (const unsigned *p = t->cols; *p; p++)
		if (*p >= c)
			return *p;
	return 0;
}

static unsigned col_after(const struct table *t, unsigned c)
{
	for (const unsigned *p = t->cols; *p; p++)
		if (*p > c)
			return *p;
	return 0;
}

/* Sets the varbind to column col of row; -1 (varbind untouched) when
 * the column has no value for it. */
static int answer(const struct table *t, netsnmp_request_info *r, unsigned col, const uint32_t *idx,
		  const void *row)
{
	netsnmp_variable_list probe = { 0 };
	if (t->value(row, col, &probe) < 0)
		return -1;
	oid o[MAX_OID_LEN];
	size_t n = t->base_len;
	memcpy(o, t->base, n * sizeof(oid));
	o[n++] = 1;
	o[n++] = col;
	for (unsigned i = 0; i < t->n_index; i++)
		o[n++] = idx[i];
	snmp_set_var_objid(r->requestvb, o, n);
	snmp_set_var_typed_value(r->requestvb, probe.type, probe.val.string, probe.val_len);
	snmp_free_var_internals(&probe);
	return 0;
}

/* GET: exactly base.1.col.idx. noSuchObject for anything but an
 * accessible column, noSuchInstance for a row that is not there (RFC
 * 3416 4.2.1). The errors need reqinfo: netsnmp_set_request_error()
 * does nothing without it. */
static void table_get(const struct table *t, netsnmp_agent_request_info *ri, netsnmp_request_info *r,
		      void *row)
{
	const oid *o = r->requestvb->name;
	size_t len = r->requestvb->name_length, b = t->base_len;
	uint32_t idx[MAX_INDEX], got[MAX_INDEX];
	if (len < b + 2 || o[b] != 1 || !is_col(t, (unsigned)o[b + 1])) {
		netsnmp_set_request_error(ri, r, SNMP_NOSUCHOBJECT);
		return;
	}
	if (len != b + 2 + t->n_index) {
		netsnmp_set_request_error(ri, r, SNMP_NOSUCHINSTANCE);
		return;
	}
	for (unsigned i = 0; i < t->n_index; i++) {
		if (o[b + 2 + i] > 0xffffffffu) {
			netsnmp_set_request_error(ri, r, SNMP_NOSUCHINSTANCE);
			return;
		}
		idx[i] = (uint32_t)o[b + 2 + i];
	}
	if (t->lookup(idx, 0, row, got) < 0 || t->value(row, (unsigned)o[b + 1], r->requestvb) < 0)
		netsnmp_set_request_error(ri, r, SNMP_NOSUCHINSTANCE);
}

/* GETNEXT: the first instance after the requested OID; nothing when the
 * table has none (the agent goes on to the next subtree). */
static void table_getnext(const struct table *t, netsnmp_request_info *r, void *row)
{
	const oid *o = r->requestvb->name;
	size_t len = r->requestvb->name_length, b = t->base_len;
	unsigned col;
	uint32_t idx[MAX_INDEX] = { 0 }, got[MAX_INDEX];
	int first = 1;             /* start at the first row of col */
	if (snmp_oid_compare(o, len, t->base, b) < 0 || len <= b || o[b] < 1) {
		col = t->cols[0];
	} else if (o[b] > 1) {
		return;
	} else if (len == b + 1) {
		col = t->cols[0];
	} else {
		col = col_at_or_after(t, o[b + 1]);
		if (col && col == o[b + 1] && len > b + 2) {
			/* Index components given: rows after them in this column. */
			size_t k = len - b - 2;
			int beyond = 0;
			for (unsigned i = 0; i < t->n_index; i++) {
				if (i >= k)
					break;
				if (o[b + 2 + i] > 0xffffffffu) {
					beyond = 1;
					for (unsigned j = i; j < t->n_index; j++)
						idx[j] = 0xffffffffu;
					break;
				}
				idx[i] = (uint32_t)o[b + 2 + i];
			}
			if (beyond && idx[0] == 0xffffffffu && o[b + 2] > 0xffffffffu) {
				col = col_after(t, col); /* past every row of this column */
			} else {
				first = 0;
				if (k < t->n_index) {
					/* A partial index: rows starting with it come after it. */
					for (unsigned i = (unsigned)k; i < t->n_index; i++)
						idx[i] = 0;
				}
			}
		}
	}
	while (col) {
		int rc = first ? t->lookup((uint32_t[MAX_INDEX]){ 0, 0 }, 1, row, got)
			       : t->lookup(idx, 1, row, got);
		if (rc == 0 && answer(t, r, col, got, row) == 0)
			return;
		col = col_after(t, col);
		first = 1;
	}
}

/* ---- SET: one edit per transaction, applied at ACTION ------------------------------
 *
 * Net-SNMP calls each registration's handler once per phase: RESERVE1,
 * RESERVE2, ACTION, then COMMIT or FREE, or UNDO. In master mode all the
 * phases of a SET share one agent session; as an AgentX subagent each
 * AgentX PDU (TestSet, CommitSet, CleanupSet, UndoSet) comes with an
 * agent session of its own. What the phases share in both modes is the
 * PDU's transaction id (for AgentX, the master's, from the AgentX header;
 * with its session id): the pending edit is keyed on that. Master agents
 * process one SET at a time, but nothing here relies on it: each
 * transaction has its own edit, and one left behind (a master agent gone
 * between phases) is dropped when the slots run out, oldest first. */

#define SET_PENDING_MAX 8

struct set_txn {
	int used;
	long transid, sessid;
	unsigned long age;         /* order of creation, for eviction */
	struct cfg_edit *e;
	int applied;
	int failed;                /* the SNMP error status of a refused edit; 0 applied */
	long fault;                /* the varbind (index in the PDU) refused at ACTION */
	long first;                /* the lowest varbind index in the edit */
};

static struct {
	struct set_txn t[SET_PENDING_MAX];
	unsigned long seq;
} SET;

static const struct snmp_ops *ops;

/* The monitor's settings in force; NULL without a monitor. */
static const struct cfg_mon *mon_cfg(void)
{
	return ops->cfg()->mon;
}

static void txn_drop(struct set_txn *t)
{
	cfg_edit_free(t->e);
	memset(t, 0, sizeof(*t));
}

/* The transaction of ri's PDU; with create, a new one when there is none. */
static struct set_txn *txn_get(netsnmp_agent_request_info *ri, int create)
{
	if (!ri->asp || !ri->asp->pdu)
		return NULL;
	long transid = ri->asp->pdu->transid, sessid = ri->asp->pdu->sessid;
	struct set_txn *slot = NULL;
	for (size_t i = 0; i < SET_PENDING_MAX; i++) {
		struct set_txn *t = &SET.t[i];
		if (t->used && t->transid == transid && t->sessid == sessid)
			return t;
		if (!slot || (slot->used && (!t->used || t->age < slot->age)))
			slot = t;
	}
	if (!create)
		return NULL;
	if (slot->used) {
		log_warn("snmp", "SET transaction %ld never finished (%d pending): its edit is dropped", slot->transid,
			 SET_PENDING_MAX);
		txn_drop(slot);
	}
	*slot = (struct set_txn){ .used = 1, .transid = transid, .sessid = sessid, .age = ++SET.seq,
				  .e = cfg_edit_new() };
	return slot;
}

static const char *set_mode_name(int mode)
{
	switch (mode) {
	case MODE_SET_RESERVE1: return "RESERVE1";
	case MODE_SET_RESERVE2: return "RESERVE2";
	case MODE_SET_ACTION: return "ACTION";
	case MODE_SET_COMMIT: return "COMMIT";
	case MODE_SET_FREE: return "FREE";
	case MODE_SET_UNDO: return "UNDO";
	default: return "?";
	}
}

/* The error status of a SET refused at ACTION (RFC 3416 4.2.5). */
static int set_error(enum cfg_edit_err kind)
{
	switch (kind) {
	case CFG_EDIT_NOT_FOUND: return SNMP_ERR_NOCREATION;  /* the row is gone from the file */
	case CFG_EDIT_IO: return SNMP_ERR_COMMITFAILED;       /* the file could not be written */
	default: return SNMP_ERR_INCONSISTENTVALUE;           /* invalid, or changed on disk */
	}
}

/* ACTION: the first handler called applies the whole edit; each marks
 * the varbind at fault if it is one of its own, so the error index
 * names it whichever handler owns it. */
static void txn_action(struct set_txn *t, netsnmp_agent_request_info *ri, netsnmp_request_info *requests)
{
	if (!t->applied) {
		struct cfg_errors errs;
		struct cfg_edit_fault fault;
		cfg_errors_init(&errs);
		t->applied = 1;
		if (ops->apply_edit(t->e, &errs, &fault) != CFG_EDIT_OK) {
			t->failed = set_error(fault.kind);
			t->fault = fault.tag > 0 ? fault.tag : t->first;
			for (size_t i = 0; i < errs.n; i++)
				log_warn("snmp", "SET refused: %s", errs.msg[i]);
		}
		cfg_errors_free(&errs);
	}
	if (!t->failed)
		return;
	for (netsnmp_request_info *r = requests; r; r = r->next)
		if (r->index == t->fault)
			netsnmp_set_request_error(ri, r, t->failed);
}

void snmp_set_phase(netsnmp_agent_request_info *ri, netsnmp_request_info *requests,
		      int (*reserve1)(netsnmp_request_info *r, struct cfg_edit *e, void *arg), void *arg)
{
	struct set_txn *t = txn_get(ri, ri->mode == MODE_SET_RESERVE1);
	log_debug("snmp", "SET %s, transaction %ld%s", set_mode_name(ri->mode),
		  ri->asp && ri->asp->pdu ? ri->asp->pdu->transid : -1L, t ? "" : " (no edit pending)");
	switch (ri->mode) {
	case MODE_SET_RESERVE1:
		for (netsnmp_request_info *r = requests; r; r = r->next) {
			int err = t ? SNMP_ERR_NOERROR : SNMP_ERR_GENERR;
			if (t) {
				cfg_edit_tag(t->e, r->index);
				err = reserve1(r, t->e, arg);
				if (!t->first || r->index < t->first)
					t->first = r->index;
			}
			if (err != SNMP_ERR_NOERROR)
				netsnmp_set_request_error(ri, r, err);
		}
		break;
	case MODE_SET_ACTION:
		if (t) {
			txn_action(t, ri, requests);
		} else {
			/* RESERVE1 was not seen for this transaction: never
			 * answer noError for an edit that was not made. */
			log_err("snmp", "SET ACTION without a pending edit: refused");
			netsnmp_set_request_error(ri, requests, SNMP_ERR_GENERR);
		}
		break;
	case MODE_SET_COMMIT:
	case MODE_SET_FREE:
	case MODE_SET_UNDO:
		if (t)
			txn_drop(t);
		break;
	default: /* RESERVE2: nothing to allocate */
		break;
	}
}

void snmp_tables_fini(void)
{
	for (size_t i = 0; i < SET_PENDING_MAX; i++)
		if (SET.t[i].used)
			txn_drop(&SET.t[i]);
}

struct table_set_arg {
	const struct table *t;
};

static int table_reserve1(netsnmp_request_info *r, struct cfg_edit *e, void *arg)
{
	const struct table *t = ((struct table_set_arg *)arg)->t;
	const oid *o = r->requestvb->name;
	size_t len = r->requestvb->name_length, b = t->base_len;
	if (len != b + 2 + t->n_index || o[b] != 1 || !is_col(t, (unsigned)o[b + 1]))
		return SNMP_ERR_NOTWRITABLE;
	uint32_t idx[MAX_INDEX];
	for (unsigned i = 0; i < t->n_index; i++) {
		if (o[b + 2 + i] > 0xffffffffu)
			return SNMP_ERR_NOCREATION;
		idx[i] = (uint32_t)o[b + 2 + i];
	}
	return t->set(idx, (unsigned)o[b + 1], r->requestvb, e);
}

static int table_handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg GVPN_UNUSED,
			 netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct table *t = h->myvoid;
	union {
		long double align;
		uint8_t bytes[8192];
	} buf;
	void *row = buf.bytes;
	if (t->row_size > sizeof(buf))
		return SNMP_ERR_GENERR;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		if (r->processed)
			continue;
		switch (reqinfo->mode) {
		case MODE_GET:
			table_get(t, reqinfo, r, row);
			break;
		case MODE_GETNEXT:
			table_getnext(t, r, row);
			break;
		default:
			if (!t->set) {
				netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
				break;
			}
			struct table_set_arg a = { t };
			snmp_set_phase(reqinfo, requests, table_reserve1, &a);
			return SNMP_ERR_NOERROR;
		}
	}
	return SNMP_ERR_NOERROR;
}

static int register_table(const struct table *t)
{
	netsnmp_mib_handler *h = netsnmp_create_handler(t->name, table_handler);
	h->myvoid = (void *)t;
	netsnmp_handler_registration *reg = netsnmp_handler_registration_create(
		t->name, h, t->base, t->base_len, t->set ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg || netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
		log_err("snmp", "cannot register %s", t->name);
		return -1;
	}
	return 0;
}

/* ---- gvpnGroupTable ------------------------------------------------------------------ */

static int group_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct gks_group_info *g = row;
	if (gks_group_lookup(idx[0], next, g) < 0)
		return -1;
	out[0] = (uint32_t)g->group_id;
	return 0;
}

static int group_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct gks_group_info *g = row;
	switch (col) {
	case 2: set_str(vb, g->name, strlen(g->name)); break;
	case 3: set_int(vb, g->communication); break;
	case 4: set_u32(vb, ASN_GAUGE, g->members); break;
	case 5: set_u32(vb, ASN_UNSIGNED, g->seq); break;
	case 6: set_u32(vb, ASN_UNSIGNED, g->next_rekey); break;
	case 7: set_u32(vb, ASN_COUNTER, g->rekeys); break;
	case 8: set_u32(vb, ASN_COUNTER, g->heartbeats); break;
	case 9: set_u32(vb, ASN_COUNTER, g->retransmissions); break;
	case 10: set_u32(vb, ASN_COUNTER, g->removed); break;
	case 11: set_u32(vb, ASN_UNSIGNED, g->atd); break;
	default: return -1;
	}
	return 0;
}

static const unsigned group_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0 };
static const struct table group_table = {
	"gvpnGroupTable", OBJ(3), OBJ_LEN + 1, 1, group_cols, group_lookup, group_value,
	sizeof(struct gks_group_info), NULL };

/* ---- gvpnMemberTable ------------------------------------------------------------------ */

static int member_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct gks_member_info *m = row;
	if (gks_member_lookup(idx[0], idx[1], next, m) < 0)
		return -1;
	out[0] = (uint32_t)m->group_id;
	out[1] = m->index;
	return 0;
}

static int member_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct gks_member_info *m = row;
	switch (col) {
	case 2: set_int(vb, 1); break; /* ipv4(1) */
	case 3: set_ipv4(vb, &m->addr); break;
	case 4: set_u32(vb, ASN_UNSIGNED, m->port); break;
	case 5: set_str(vb, m->identity, strlen(m->identity)); break;
	case 6: set_int(vb, m->state); break;
	case 7: set_date(vb, m->registered); break;
	case 8: set_u32(vb, ASN_UNSIGNED, m->last_acked_seq); break;
	case 9: set_u32(vb, ASN_COUNTER, m->rekeys_sent); break;
	case 10: set_u32(vb, ASN_COUNTER, m->rekeys_acked); break;
	case 11: set_u32(vb, ASN_COUNTER, m->retransmissions); break;
	default: return -1;
	}
	return 0;
}

static const unsigned member_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0 };
static const struct table member_table = {
	"gvpnMemberTable", OBJ(4), OBJ_LEN + 1, 2, member_cols, member_lookup, member_value,
	sizeof(struct gks_member_info), NULL };

/* ---- gvpnKekTable ------------------------------------------------------------------- */

static int kek_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct gks_kek_info *k = row;
	unsigned i = idx[1];
	/* Only 1 and 2 exist: gks_kek_lookup() takes any other index for
	 * the previous KEK, and index + 1 wraps at 4294967295. */
	if (!next && (i < 1 || i > 2))
		return -1;
	if (next && i > 2)
		i = 2; /* the next row is in a later group */
	if (gks_kek_lookup(idx[0], i, next, k) < 0)
		return -1;
	out[0] = (uint32_t)k->group_id;
	out[1] = k->index;
	return 0;
}

static int kek_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct gks_kek_info *k = row;
	switch (col) {
	case 2: set_str(vb, k->spi, sizeof(k->spi)); break;
	case 3: set_int(vb, k->alg); break;
	case 4: set_u32(vb, ASN_UNSIGNED, k->key_bits); break;
	case 5: set_int(vb, k->sig_hash); break;
	case 6: set_u32(vb, ASN_UNSIGNED, k->sig_key_bits); break;
	case 7: set_u32(vb, ASN_UNSIGNED, k->lifetime); break;
	case 8: set_u32(vb, ASN_UNSIGNED, k->remaining); break;
	case 9: set_int(vb, k->status); break;
	default: return -1;
	}
	return 0;
}

static const unsigned kek_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 0 };
static const struct table kek_table = {
	"gvpnKekTable", OBJ(5), OBJ_LEN + 1, 2, kek_cols, kek_lookup, kek_value, sizeof(struct gks_kek_info), NULL };

/* ---- gvpnTekTable ------------------------------------------------------------------- */

static int tek_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct gks_tek_info *t = row;
	if (gks_tek_lookup(idx[0], idx[1], next, t) < 0)
		return -1;
	out[0] = (uint32_t)t->group_id;
	out[1] = t->index;
	return 0;
}

static int tek_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct gks_tek_info *t = row;
	switch (col) {
	case 2: set_str(vb, t->policy, strlen(t->policy)); break;
	case 3: set_u32(vb, ASN_UNSIGNED, t->spi); break;
	case 4: set_int(vb, t->transform); break;
	case 5: set_u32(vb, ASN_UNSIGNED, t->key_bits); break;
	case 6: set_int(vb, t->auth); break;
	case 7: set_u32(vb, ASN_UNSIGNED, t->lifetime); break;
	case 8: set_u32(vb, ASN_UNSIGNED, t->remaining); break;
	case 9: set_int(vb, t->status); break;
	default: return -1;
	}
	return 0;
}

static const unsigned tek_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 0 };
static const struct table tek_table = {
	"gvpnTekTable", OBJ(6), OBJ_LEN + 1, 2, tek_cols, tek_lookup, tek_value, sizeof(struct gks_tek_info), NULL };

/* ---- gvpnRekeyTable ----------------------------------------------------------------- */

static int rekey_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct gks_rekey_info *k = row;
	if (gks_rekey_lookup(idx[0], next, k) < 0)
		return -1;
	out[0] = k->index;
	return 0;
}

static int rekey_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct gks_rekey_info *k = row;
	switch (col) {
	case 2: set_date(vb, k->when); break;
	case 3: set_u32(vb, ASN_UNSIGNED, (uint64_t)k->group_id); break;
	case 4: set_int(vb, k->reason); break;
	case 5: set_u32(vb, ASN_UNSIGNED, k->seq); break;
	case 6: set_u32(vb, ASN_UNSIGNED, k->targeted); break;
	case 7: set_u32(vb, ASN_UNSIGNED, k->acked); break;
	case 8: set_u32(vb, ASN_UNSIGNED, k->removed); break;
	case 9: set_u32(vb, ASN_UNSIGNED, k->duration_ms); break;
	case 10: set_int(vb, k->done ? 1 : 2); break;
	default: return -1;
	}
	return 0;
}

static const unsigned rekey_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 0 };
static const struct table rekey_table = {
	"gvpnRekeyTable", OBJ(7), OBJ_LEN + 1, 1, rekey_cols, rekey_lookup, rekey_value,
	sizeof(struct gks_rekey_info), NULL };

/* ---- gvpnVpnTable ------------------------------------------------------------------- */

struct vpn_row {
	uint32_t index;
	struct mon_vpn_status st;
	const struct cfg_vpn *cfg;
	int has_sa;
	struct vici_child_sa ch;
	struct vici_ike_sa ike;
};

static int vpn_lookup(const uint32_t *idx, int next, void *row, uint32_t *out)
{
	struct vpn_row *v = row;
	size_t i = next ? idx[0] : (idx[0] ? idx[0] - 1 : (size_t)-1);
	const struct cfg_mon *m = mon_cfg();
	if (!m || i >= mon_count() || i >= m->n_vpns || mon_status_at(i, &v->st) < 0)
		return -1;
	v->index = (uint32_t)i + 1;
	v->cfg = &m->vpns[i];
	v->has_sa = mon_vici_child(v->st.name, &v->ch, &v->ike) == 0;
	out[0] = v->index;
	return 0;
}

/* An IPv4 address from text into vb as InetAddress (empty if not IPv4). */
static void set_inet_text(netsnmp_variable_list *vb, const char *s, int type_col)
{
	struct in_addr a;
	int ok = s && inet_pton(AF_INET, s, &a) == 1;
	if (type_col)
		set_int(vb, ok ? 1 : 0);
	else if (ok)
		set_ipv4(vb, &a);
	else
		set_str(vb, "", 0);
}

static int vpn_value(const void *row, unsigned col, netsnmp_variable_list *vb)
{
	const struct vpn_row *v = row;
	const struct mon_vpn_status *st = &v->st;
	const char *local = v->has_sa ? v->ike.local_host : NULL;
	const char *remote = v->has_sa ? v->ike.remote_host : NULL;
	int up = st->state == MON_UP;
	switch (col) {
	case 2: set_str(vb, st->name, strlen(st->name)); break;
	case 3: set_inet_text(vb, local, 1); break;
	case 4: set_inet_text(vb, local, 0); break;
	case 5: set_inet_text(vb, remote, 1); break;
	case 6: set_inet_text(vb, remote, 0); break;
	case 7: set_int(vb, st->monitor ? 1 : 2); break;
	case 8: set_int(vb, st->optimized ? 1 : 2); break;
	case 9: set_int(vb, st->rekey ? 1 : 2); break;
	case 10: {
		const char *s = v->cfg->source_interface ? v->cfg->source_interface : "";
		set_str(vb, s, strlen(s));
		break;
	}
	case 11: set_inet_text(vb, v->cfg->destination_ip, 1); break;
	case 12: set_inet_text(vb, v->cfg->destination_ip, 0); break;
	case 13: set_int(vb, st->state == MON_DISABLED ? 3 : up ? 1 : 2); break;
	case 14: set_int(vb, v->has_sa && !strcmp(v->ike.state, "ESTABLISHED") ? 1 : 2); break;
	case 15: set_int(vb, v->has_sa && !strcmp(v->ch.state, "INSTALLED") ? 1 : 2); break;
	case 16: set_int(vb, v->has_sa && v->ike.rekey_time > 0 ? (long)v->ike.rekey_time : -1); break;
	case 17: set_int(vb, v->has_sa && v->ch.life_time > 0 ? (long)v->ch.life_time : -1); break;
	case 18: set_u32(vb, ASN_UNSIGNED, st->delay_last_us < 0 ? 0 : (uint64_t)st->delay_last_us / 1000u); break;
	case 19: set_u32(vb, ASN_UNSIGNED, st->delay_avg_us < 0 ? 0 : (uint64_t)st->delay_avg_us / 1000u); break;
	case 20: set_u32(vb, ASN_UNSIGNED, st->availability); break;
	case 21: set_u32(vb, ASN_UNSIGNED, st->consecutive_misses); break;
	case 22: set_u32(vb, ASN_COUNTER, st->rekey_attempts); break;
	case 23: set_u32(vb, ASN_COUNTER, st->rekey_successes); break;
	case 24: {
		uint64_t ago = (loop_now_us() - st->last_change_us) / 1000000u;
		set_date(vb, time(NULL) - (time_t)ago);
		break;
	}
	default: return -1;
	}
	return 0;
}

static int truth(const netsnmp_variable_list *vb, int *v)
{
	if (vb->type != ASN_INTEGER)
		return SNMP_ERR_WRONGTYPE;
	if (*vb->val.integer != 1 && *vb->val.integer != 2)
		return SNMP_ERR_WRONGVALUE;
	*v = *vb->val.integer == 1;
	return SNMP_ERR_NOERROR;
}

/* gvpnVpnSourceInterface: an interface name, or empty for none. */
static int set_ifname(const netsnmp_variable_list *vb, const char *path, struct cfg_edit *e)
{
	if (vb->type != ASN_OCTET_STR)
		return SNMP_ERR_WRONGTYPE;
	if (vb->val_len > 15)
		return SNMP_ERR_WRONGLENGTH;
	char ifn[16];
	memcpy(ifn, vb->val.string, vb->val_len);
	ifn[vb->val_len] = '\0';
	for (size_t i = 0; i < vb->val_len; i++)
		if (ifn[i] <= ' ' || ifn[i] > '~' || ifn[i] == '/')
			return SNMP_ERR_WRONGVALUE;
	if (vb->val_len)
		cfg_edit_str(e, path, ifn);
	else
		cfg_edit_remove(e, path);
	return SNMP_ERR_NOERROR;
}

/* gvpnVpnDestinationType: unknown(0) is the remote gateway; ipv4(1)
 * keeps the address there is. */
static int set_dest_type(const netsnmp_variable_list *vb, const struct cfg_vpn *v, const char *path,
			 struct cfg_edit *e)
{
	if (vb->type != ASN_INTEGER)
		return SNMP_ERR_WRONGTYPE;
	if (*vb->val.integer == 0) {
		cfg_edit_remove(e, path);
		return SNMP_ERR_NOERROR;
	}
	if (*vb->val.integer != 1)
		return SNMP_ERR_WRONGVALUE;
	return v->destination_ip ? SNMP_ERR_NOERROR : SNMP_ERR_INCONSISTENTVALUE;
}

/* gvpnVpnDestination: four octets, or none (the remote gateway). */
static int set_dest(const netsnmp_variable_list *vb, const char *path, struct cfg_edit *e)
{
	if (vb->type != ASN_OCTET_STR)
		return SNMP_ERR_WRONGTYPE;
	if (vb->val_len == 0) {
		cfg_edit_remove(e, path);
		return SNMP_ERR_NOERROR;
	}
	if (vb->val_len != 4)
		return SNMP_ERR_WRONGLENGTH;
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, vb->val.string, a, sizeof(a));
	cfg_edit_str(e, path, a);
	return SNMP_ERR_NOERROR;
}

static int vpn_set_col(unsigned col, const netsnmp_variable_list *vb, const struct cfg_vpn *v, const char *path,
		       struct cfg_edit *e)
{
	int b, err;
	switch (col) {
	case 7: case 8: case 9:
		if ((err = truth(vb, &b)) != SNMP_ERR_NOERROR)
			return err;
		cfg_edit_bool(e, path, b);
		return SNMP_ERR_NOERROR;
	case 10: return set_ifname(vb, path, e);
	case 11: return set_dest_type(vb, v, path, e);
	default: return set_dest(vb, path, e);
	}
}

static int vpn_set(const uint32_t *idx, unsigned col, const netsnmp_variable_list *vb, struct cfg_edit *e)
{
	/* The writable columns, and the settings they are. */
	static const enum cfg_setting_id setting[] = {
		[7] = CFG_SETTING_VPN_MONITOR, [8] = CFG_SETTING_VPN_OPTIMIZED, [9] = CFG_SETTING_VPN_REKEY,
		[10] = CFG_SETTING_VPN_SOURCE_INTERFACE, [11] = CFG_SETTING_VPN_DESTINATION_IP,
		[12] = CFG_SETTING_VPN_DESTINATION_IP };
	const struct cfg_mon *m = mon_cfg();
	if (!m || idx[0] < 1 || idx[0] > m->n_vpns)
		return SNMP_ERR_NOCREATION;
	if (col < 7 || col > 12)
		return SNMP_ERR_NOTWRITABLE;
	const struct cfg_vpn *v = &m->vpns[idx[0] - 1];
	char *path = cfg_setting_path(setting[col], v->name);
	int err = vpn_set_col(col, vb, v, path, e);
	free(path);
	return err;
}

static const unsigned vpn_cols[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
				     21, 22, 23, 24, 0 };
static const struct table vpn_table = {
	"gvpnVpnTable", OBJ(9), OBJ_LEN + 1, 1, vpn_cols, vpn_lookup, vpn_value, sizeof(struct vpn_row),
	vpn_set };

/* ---- scalars ---------------------------------------------------------------------- */

enum scalar {
	SV_MEMBERS = 201, SV_REGISTRATIONS, SV_REFUSED, SV_REKEYS, SV_RETRANSMISSIONS, SV_REMOVED,
	SV_HEARTBEATS, SV_ACKS, SV_DROPS, SV_SEQ_SAVE_ERRORS, SV_PUSHES_HELD,
	SV_MON_INTERVAL = 801, SV_MON_THRESHOLD,
	SV_SYSLOG_SENT = 1101, SV_SYSLOG_DROPPED,
};

static int scalar_value(enum scalar id, netsnmp_variable_list *vb)
{
	const struct gks_stats *g = gks_stats();
	switch (id) {
	case SV_MEMBERS: set_u32(vb, ASN_GAUGE, gks_member_count()); break;
	case SV_REGISTRATIONS: set_u32(vb, ASN_COUNTER, g->registrations); break;
	case SV_REFUSED: set_u32(vb, ASN_COUNTER, g->refused); break;
	case SV_REKEYS: set_u32(vb, ASN_COUNTER, g->rekeys_sent); break;
	case SV_RETRANSMISSIONS: set_u32(vb, ASN_COUNTER, g->retransmissions); break;
	case SV_REMOVED: set_u32(vb, ASN_COUNTER, g->members_removed); break;
	case SV_HEARTBEATS: set_u32(vb, ASN_COUNTER, g->heartbeats); break;
	case SV_ACKS: set_u32(vb, ASN_COUNTER, g->acks); break;
	case SV_DROPS:
		set_u32(vb, ASN_COUNTER, g->drop_malformed + g->drop_unknown_sa + g->drop_half_open +
						  g->drop_ack_bad + g->drop_ack_unknown);
		break;
	case SV_SEQ_SAVE_ERRORS: set_u32(vb, ASN_COUNTER, g->seq_save_errors); break;
	case SV_PUSHES_HELD: set_u32(vb, ASN_COUNTER, g->pushes_held); break;
	case SV_MON_INTERVAL: set_u32(vb, ASN_UNSIGNED, mon_cfg() ? (uint64_t)mon_cfg()->interval : 0); break;
	case SV_MON_THRESHOLD: set_u32(vb, ASN_UNSIGNED, mon_cfg() ? (uint64_t)mon_cfg()->threshold : 0); break;
	case SV_SYSLOG_SENT:
	case SV_SYSLOG_DROPPED: {
		uint64_t sent = 0, dropped = 0;
		const struct syslog_tx_stats *st;
		const char *tr, *host;
		long port;
		for (size_t i = 0; syslog_out_get(i, &tr, &host, &port, &st) == 0; i++) {
			sent += st->sent;
			dropped += st->dropped;
		}
		set_u32(vb, ASN_COUNTER, id == SV_SYSLOG_SENT ? sent : dropped);
		break;
	}
	default: return -1;
	}
	return 0;
}

static int scalar_reserve1(netsnmp_request_info *r, struct cfg_edit *e, void *arg)
{
	enum scalar id = (enum scalar)(uintptr_t)arg;
	const netsnmp_variable_list *vb = r->requestvb;
	if (id != SV_MON_INTERVAL && id != SV_MON_THRESHOLD)
		return SNMP_ERR_NOTWRITABLE;
	if (!mon_cfg())
		return SNMP_ERR_NOCREATION;
	if (vb->type != ASN_UNSIGNED)
		return SNMP_ERR_WRONGTYPE;
	enum cfg_setting_id setting = id == SV_MON_INTERVAL ? CFG_SETTING_MON_INTERVAL : CFG_SETTING_MON_THRESHOLD;
	u_long v = *vb->val.integer & 0xffffffffu;
	if (v < (u_long)cfg_settings[setting].min || v > (u_long)cfg_settings[setting].max)
		return SNMP_ERR_WRONGVALUE;
	char *path = cfg_setting_path(setting, NULL);
	cfg_edit_int(e, path, (long)v);
	free(path);
	return SNMP_ERR_NOERROR;
}

static int scalar_handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg GVPN_UNUSED,
			  netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	enum scalar id = (enum scalar)(uintptr_t)h->myvoid;
	if (reqinfo->mode != MODE_GET) {
		snmp_set_phase(reqinfo, requests, scalar_reserve1, (void *)(uintptr_t)id);
		return SNMP_ERR_NOERROR;
	}
	for (netsnmp_request_info *r = requests; r; r = r->next)
		if (scalar_value(id, r->requestvb) < 0)
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
	return SNMP_ERR_NOERROR;
}

static int register_scalar(const char *name, enum scalar id)
{
	oid o[] = OBJ((oid)id / 100, (oid)id % 100);
	netsnmp_mib_handler *h = netsnmp_create_handler(name, scalar_handler);
	h->myvoid = (void *)(uintptr_t)id;
	int rw = id == SV_MON_INTERVAL || id == SV_MON_THRESHOLD;
	netsnmp_handler_registration *reg = netsnmp_handler_registration_create(
		name, h, o, OID_LENGTH(o), rw ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
	if (!reg || (rw ? netsnmp_register_scalar(reg) : netsnmp_register_read_only_scalar(reg)) !=
			    MIB_REGISTERED_OK) {
		log_err("snmp", "cannot register %s", name);
		return -1;
	}
	return 0;
}

int snmp_tables_init(const struct snmp_ops *o)
{
	ops = o;
	static const struct { const char *name; enum scalar id; } scalars[] = {
		{ "gvpnServerMembers", SV_MEMBERS }, { "gvpnServerRegistrations", SV_REGISTRATIONS },
		{ "gvpnServerRegistrationsRefused", SV_REFUSED }, { "gvpnServerRekeysSent", SV_REKEYS },
		{ "gvpnServerRetransmissions", SV_RETRANSMISSIONS }, { "gvpnServerMembersRemoved", SV_REMOVED },
		{ "gvpnServerHeartbeats", SV_HEARTBEATS }, { "gvpnServerAcks", SV_ACKS },
		{ "gvpnServerDrops", SV_DROPS }, { "gvpnServerSeqSaveErrors", SV_SEQ_SAVE_ERRORS },
		{ "gvpnServerPushesHeld", SV_PUSHES_HELD }, { "gvpnMonitorInterval", SV_MON_INTERVAL },
		{ "gvpnMonitorThreshold", SV_MON_THRESHOLD }, { "gvpnSyslogMessagesSent", SV_SYSLOG_SENT },
		{ "gvpnSyslogMessagesDropped", SV_SYSLOG_DROPPED },
	};
	for (size_t i = 0; i < ARRAY_SIZE(scalars); i++)
		if (register_scalar(scalars[i].name, scalars[i].id) < 0)
			return -1;
	const struct table *tables[] = { &group_table, &member_table, &kek_table, &tek_table, &rekey_table,
					 &vpn_table };
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		if (register_table(tables[i]) < 0)
			return -1;
	return 0;
}
