/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_rekey.c: the key server's rekey rounds (GROUPKEY-PUSH, gdoi_push.h).
 * A rekey (scheduled every lifetime - 4 x ATD for the KEK and each TEK,
 * after a membership change, on a policy change, or on demand) replaces
 * the keys due (gks_keys.c) and, with server-member communication,
 * pushes them: unicast, one copy per member, paced so the ACKs
 * (RFC 8263) never outrun our receive buffer, sent again every
 * retransmission_period to members that have not ACKed and removing
 * them after 1 + number_of_retransmission sends; multicast, one copy to
 * the group's address, no ACKs. A push without a durable SEQ is held and
 * retried. Heartbeats go out every `heartbeat` seconds. The last rounds
 * are kept as history (SNMP, gvpnctl). */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/ev.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/pcapw.h"
#include "core/util.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- history ------------------------------------------------------------------------ */

static struct gks_history *history_add(const struct gks_group *g, const char *reason, uint32_t seq)
{
	struct gks_history *h = &G.hist[G.hist_count % GKS_HISTORY];
	memset(h, 0, sizeof(*h));
	h->index = ++G.hist_count;
	clock_gettime(CLOCK_REALTIME, &h->when);
	h->group_id = g->cfg->group_id;
	str_copy(h->reason, reason, sizeof(h->reason));
	h->seq = seq;
	return h;
}

/* ---- rounds ------------------------------------------------------------------------ */

/* Sends a sealed push to the group: each member (unicast) or the
 * group's multicast address. Returns the number of copies sent. */
static size_t send_multicast(const struct gks_group *g, const uint8_t *msg, size_t len)
{
	const struct cfg_smc *smc = g->cfg->smc;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)smc->multicast_port) };
	if (!smc->multicast_group || inet_pton(AF_INET, smc->multicast_group, &to.sin_addr) != 1)
		return 0;
	struct ip_mreqn mr = { 0 };
	if (smc->multicast_interface) {
		mr.imr_ifindex = (int)if_nametoindex(smc->multicast_interface);
		if (!mr.imr_ifindex)
			log_warn("gks", "group %s: multicast interface %s: %s", g->cfg->name,
				 smc->multicast_interface, strerror(errno));
	}
	int ttl = (int)smc->multicast_ttl;
	if (setsockopt(G.fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
	    setsockopt(G.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0)
		log_warn("gks", "group %s: multicast options: %s", g->cfg->name, strerror(errno));
	return gks_send_from(NULL, &to, msg, len) == 0;
}

/* Builds HDR*, SEQ, [D,] SA [, KD], SIG sealed under kek; D names the
 * TEKs of policies deleted since the last push (RFC 6407 4: "a group
 * policy is added or deleted"), and a group left without policies gets
 * HDR*, SEQ, D, SIG. */
static int build_push(struct gks_group *g, const struct gks_kek *kek, uint32_t seq, int with_kd,
		      int ack, struct gdoi_buf *b)
{
	struct gdoi_sa sa;
	gks_build_sa(g, &sa, ack ? GDOI_ACK_REQUESTED_SHA256 : 0);
	gdoi_push_hdr(b, &kek->k);
	gdoi_put_seq(b, seq);
	int deleted = g->del.n > 0;
	if (deleted) {
		gdoi_put_delete(b, &g->del);
		g->del.n = 0;
	}
	if (!deleted || sa.n_tek || kek != &g->kek) {
		gdoi_put_sa(b, &sa);
		if (with_kd) {
			struct gdoi_kd kd;
			gks_build_kd(g, kek, &kd);
			gdoi_put_kd(b, &kd);
			gdoi_kd_wipe(&kd);
		}
	}
	if (G.pcap) { /* the plaintext (without SIG), for tshark; the wire copy is encrypted */
		gdoi_finish(b);
		b->data[19] &= (uint8_t)~ISAKMP_FLAG_ENC;
		struct sockaddr_in to = G.local;
		if (g->members)
			to = g->members->sa;
		pcapw_udp(G.pcap, &G.local, &to, b->data, b->len);
		b->data[19] |= ISAKMP_FLAG_ENC;
	}
	return gdoi_push_seal(b, &kek->k, G.rsa, gks_hash_of(g->cfg->smc->sig_hash_algorithm));
}

/* Unicast copies go out G.fan_batch at a time, in member index order,
 * with the event loop (and so the ACKs already queued) in between: a
 * burst never outruns the socket's receive buffer. Members whose copy
 * is still due have pending_seq == the round's SEQ. */
static void fan_out(struct gks_group *g)
{
	struct gks_round *r = &g->round;
	size_t room = G.fan_batch;
	/* A round that waits for ACKs keeps at most a batch of them
	 * outstanding: members answer as fast as they can verify, and
	 * copies sent faster than that only pile their ACKs up in our
	 * receive buffer until the kernel drops them (seen at 100,000
	 * members). Members that never answer would hold the window shut:
	 * after GKS_FAN_STALL_US without room the next batch goes anyway. */
	if (r->want_ack) {
		size_t inflight = r->fan_sent > r->acked ? r->fan_sent - r->acked : 0;
		room = G.fan_batch > inflight ? G.fan_batch - inflight : 0;
		uint64_t now = loop_now_us();
		if (room < G.fan_batch / 2) {
			if (!r->fan_full_us)
				r->fan_full_us = now;
			if (now - r->fan_full_us < GKS_FAN_STALL_US) {
				loop_timer_arm_us(&g->fan_timer, GKS_FAN_POLL_US);
				return;
			}
			r->fan_sent = r->acked;  /* those are not coming: they leave the window */
			room = G.fan_batch;
		}
		r->fan_full_us = 0;
	}
	size_t sent = 0, i = gks_by_index_search(g, r->fan_next);
	for (; i < g->n_by_index && sent < room; i++) {
		struct gks_member *m = g->by_index[i];
		if (!m || m->pending_seq != r->seq)
			continue;
		gks_send_from(&m->local, &m->sa, r->msg, r->len);
		r->fan_next = m->index + 1;
		sent++;
	}
	r->fan_sent += sent;
	r->fanning = i < g->n_by_index;
	if (r->fanning) {
		G.st.fan_pauses++;
		loop_timer_arm_ms(&g->fan_timer, 0);
	} else if (r->want_ack && g->cfg->smc) {
		/* The retransmission period counts from the last copy of this
		 * fan-out, not from its first: a paced round of many members
		 * takes longer than the period, and its last members would
		 * otherwise be sent a second copy before they had the first. */
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)g->cfg->smc->retransmission_period * 1000u);
	}
}

void gks_set_fan_batch(size_t n)
{
	G.fan_batch = n ? n : 1;
}

static void fan_start(struct gks_group *g)
{
	g->round.fan_next = 0;
	g->round.fan_sent = g->round.acked;  /* the window counts this fan's copies and later ACKs */
	g->round.fan_full_us = 0;
	fan_out(g);
}

static void on_fan_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	if (g->round.active && g->round.fanning)
		fan_out(g);
}

void gks_round_end(struct gks_group *g)
{
	struct gks_round *r = &g->round;
	if (!r->active)
		return;
	loop_timer_cancel(&g->retx_timer);
	loop_timer_cancel(&g->fan_timer);
	uint64_t dur = loop_now_us() - r->started_us;
	struct gks_history *h = r->hist_index ? &G.hist[(r->hist_index - 1) % GKS_HISTORY] : NULL;
	if (h && h->index == r->hist_index) {
		h->acked = r->acked;
		h->removed = r->removed;
		h->duration_us = dur;
		h->done = 1;
	}
	struct event e;
	ev_begin(&e, EV_REKEY_SENT);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_uint(&e, "index", r->hist_index);
	ev_param_str(&e, "reason", r->reason);
	ev_param_uint(&e, "seq", r->seq);
	ev_param_str(&e, "transport", r->want_ack ? "unicast" : "multicast");
	ev_param_uint(&e, "targeted", r->targeted);
	ev_param_uint(&e, "acked", r->acked);
	ev_param_uint(&e, "removed", r->removed);
	ev_param(&e, "duration_ms", "%.1f", (double)dur / 1000.0);
	ev_publish(&e, "rekey SEQ %u of group %s (%ld): %zu member%s targeted, %zu acknowledged, %zu removed, "
		   "%.1f ms", r->seq, g->cfg->name, g->cfg->group_id, r->targeted, r->targeted == 1 ? "" : "s",
		   r->acked, r->removed, (double)dur / 1000.0);
	free(r->msg);
	memset(r, 0, sizeof(*r));
}

static void round_check(struct gks_group *g)
{
	if (g->round.active && !g->round.outstanding)
		gks_round_end(g);
}

/* No durable SEQ for the push: it is held and tried again every
 * GKS_PUSH_RETRY_MS (on_push_timer), announced once. */
static void push_hold(struct gks_group *g, const char *reason, int kek_rotated)
{
	if (!g->push_held) {
		struct event e;
		ev_begin(&e, EV_REKEY_STARTED);
		ev_param_int(&e, "group", g->cfg->group_id);
		ev_param_str(&e, "reason", reason);
		ev_param_uint(&e, "seq", 0u);
		ev_param_str(&e, "transport", "held");
		ev_param_uint(&e, "targeted", 0);
		ev_publish(&e, "group %s (%ld): rekey (%s) held: no SEQ can be saved; retrying every %u s",
			   g->cfg->name, g->cfg->group_id, reason, GKS_PUSH_RETRY_MS / 1000u);
	}
	G.st.pushes_held++;
	g->push_held = 1;
	g->held_kek_rotated = kek_rotated;
	str_copy(g->held_reason, reason, sizeof(g->held_reason));
	loop_timer_arm_ms(&g->push_timer, GKS_PUSH_RETRY_MS);
}

/* A SEQ came: a held push is held no longer. */
static void push_unhold(struct gks_group *g)
{
	int kek_was_held = g->push_held && g->held_kek_rotated;
	g->push_held = 0;
	g->held_kek_rotated = 0;
	loop_timer_cancel(&g->push_timer);
	if (kek_was_held)
		gks_schedule_rekey(g);
}

static uint8_t *copy_of(const uint8_t *p, size_t len)
{
	uint8_t *c = xmalloc(len);
	memcpy(c, p, len);
	return c;
}

/* The round of a new push, msg: it becomes the group's last push too
 * (for members that register across it). */
static void round_start(struct gks_group *g, const struct gdoi_buf *msg, uint32_t seq, const char *reason,
			int unicast)
{
	struct gks_round *r = &g->round;
	r->active = 1;
	r->msg = copy_of(msg->data, msg->len);
	r->len = msg->len;
	free(g->last.msg);
	g->last.msg = copy_of(msg->data, msg->len);
	g->last.len = msg->len;
	g->last.seq = seq;
	r->seq = seq;
	r->want_ack = unicast;
	str_copy(r->reason, reason, sizeof(r->reason));
	r->started_us = loop_now_us();
	r->sends = 1;
	r->targeted = g->n_members;
	struct gks_history *h = history_add(g, reason, seq);
	h->targeted = r->targeted;
	r->hist_index = h->index;
	g->pushes++;
	G.st.rekeys_sent++;
}

/* The round's first copies: one per member, paced (unicast), or one to
 * the group's address. */
static void round_send(struct gks_group *g, int unicast)
{
	struct gks_round *r = &g->round;
	if (unicast) {
		for (struct gks_member *m = g->members; m; m = m->next) {
			m->pending_seq = r->seq;
			m->last_sent_seq = r->seq;
			m->sends = 1;
			m->rekeys_sent++;
			r->outstanding++;
		}
		fan_start(g);
	} else {
		send_multicast(g, r->msg, r->len);
		for (struct gks_member *m = g->members; m; m = m->next)
			m->rekeys_sent++;
	}
}

static void rekey_started(const struct gks_group *g, const char *reason, int unicast)
{
	const struct gks_round *r = &g->round;
	struct event e;
	ev_begin(&e, EV_REKEY_STARTED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "reason", reason);
	ev_param_uint(&e, "seq", r->seq);
	ev_param_str(&e, "transport", unicast ? "unicast" : "multicast");
	ev_param_uint(&e, "targeted", r->targeted);
	ev_publish(&e, "group %s (%ld): rekey SEQ %u (%s) sent %s to %zu member%s", g->cfg->name,
		   g->cfg->group_id, r->seq, reason, unicast ? "unicast" : "multicast", r->targeted,
		   r->targeted == 1 ? "" : "s");
}

/* The push of a rekey: the group's keys, sealed under the KEK members
 * hold (the previous one when the KEK was just replaced). Without a
 * durable SEQ it is held (push_hold()). */
static void push_rekey(struct gks_group *g, const char *reason, int kek_rotated)
{
	int unicast = g->cfg->smc->communication_type == CFG_COMM_UNICAST;
	uint32_t seq = gks_seq_next(g);
	if (!seq) {
		push_hold(g, reason, kek_rotated);
		return;
	}
	push_unhold(g);
	if (g->round.active) /* a new rekey supersedes the one in flight: report it as it stands */
		gks_round_end(g);
	struct gdoi_buf buf;
	gdoi_buf_init(&buf);
	/* A new KEK travels under the one members hold. */
	if (build_push(g, kek_rotated ? &g->prev_kek : &g->kek, seq, 1, unicast, &buf) < 0) {
		log_err("gks", "group %s: cannot build the rekey push", g->cfg->name);
		gdoi_buf_free(&buf);
		return;
	}
	round_start(g, &buf, seq, reason, unicast);
	gdoi_buf_free(&buf);
	round_send(g, unicast);
	rekey_started(g, reason, unicast);
	if (unicast && g->round.outstanding)
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)g->cfg->smc->retransmission_period * 1000u);
	else
		gks_round_end(g);
}

void gks_rekey(struct gks_group *g, const char *reason, int rotate)
{
	/* A KEK replaced by a push still held: members hold the one before,
	 * which must stay until that push goes out. */
	int kek_held = g->push_held && g->held_kek_rotated;
	int kek_rotated = gks_keys_rotate(g, reason, rotate, kek_held);
	g->rekeys++;
	g->key_gen++;
	clock_gettime(CLOCK_REALTIME, &g->last_rekey);
	gks_keys_save(g);
	gks_schedule_rekey(g);
	if (!g->cfg->smc || !g->has_kek)
		return; /* members pick the new keys up when they reregister */
	push_rekey(g, reason, kek_rotated || kek_held);
}

static void remove_member(struct gks_group *g, struct gks_member *m, unsigned sends)
{
	G.st.members_removed++;
	g->removed++;
	log_warn("gks", "member %s (%s) of group %s removed: no ACK of SEQ %u after %u sends", m->addr,
		 m->identity, g->cfg->name, m->pending_seq, sends);
	struct event e;
	ev_begin(&e, EV_MEMBER_REMOVED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "member", m->addr);
	ev_param_str(&e, "identity", m->identity);
	ev_param_uint(&e, "index", m->index);
	ev_param_uint(&e, "seq", m->pending_seq);
	ev_param_uint(&e, "sends", sends);
	ev_param_str(&e, "reason", "no ACK");
	ev_publish(&e, "member %s (%s) removed from group %s (%ld): no ACK of SEQ %u after %u sends", m->addr,
		   m->identity, g->cfg->name, g->cfg->group_id, m->pending_seq, sends);
	gks_member_free(m);
	gks_membership_changed(g);
}

static void on_retx_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	struct gks_round *r = &g->round;
	const struct cfg_smc *smc = g->cfg->smc;
	if (!r->active || !smc)
		return;
	unsigned max_sends = 1u + (unsigned)smc->number_of_retransmission;
	size_t resent = 0, removed = 0;
	for (struct gks_member *m = g->members, *next; m; m = next) {
		next = m->next;
		if (m->pending_seq != r->seq)
			continue;
		if (m->sends >= max_sends) {
			remove_member(g, m, max_sends);
			r->removed++;
			removed++;
			continue;
		}
		m->sends++;
		m->retransmissions++;
		g->retransmissions++;
		G.st.retransmissions++;
		resent++;
	}
	if (resent)
		fan_start(g);
	if (resent) {
		r->sends++;
		struct event e;
		ev_begin(&e, EV_REKEY_RETRANSMITTED);
		ev_param_int(&e, "group", g->cfg->group_id);
		ev_param_uint(&e, "seq", r->seq);
		ev_param_uint(&e, "members", resent);
		ev_param_uint(&e, "send", r->sends);
		ev_publish(&e, "group %s (%ld): rekey SEQ %u sent again (copy %u of %u) to %zu member%s without an ACK",
			   g->cfg->name, g->cfg->group_id, r->seq, r->sends, max_sends, resent,
			   resent == 1 ? "" : "s");
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)smc->retransmission_period * 1000u);
	}
	round_check(g);
}

void gks_on_ack(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	uint8_t spi[16];
	uint32_t seq;
	struct gdoi_id id;
	if (gdoi_ack_parse(msg, len, spi, &seq, &id) < 0) {
		G.st.drop_malformed++;
		return;
	}
	struct gks_member *m = gks_member_find(from);
	struct gks_group *g = m ? m->group : NULL;
	if (!g || !g->has_kek ||
	    (memcmp(spi, g->kek.k.spi, 16) && (!g->has_prev_kek || memcmp(spi, g->prev_kek.k.spi, 16)))) {
		G.st.drop_ack_unknown++;
		return;
	}
	if (gdoi_ack_verify(msg, len, m->ack_key) < 0) {
		G.st.drop_ack_bad++;
		log_limited(&G.lim_ack, loop_now_us(), LOG_INFO, "gks", "ACK from %s with a HASH that does not verify: dropped",
			    m->addr);
		return;
	}
	/* Only a push this member was sent can be acknowledged. */
	if (!seq || seq > m->last_sent_seq) {
		G.st.drop_ack_unknown++;
		return;
	}
	G.st.acks++;
	if (seq > m->last_acked_seq)
		m->last_acked_seq = seq;
	if (!m->pending_seq || seq != m->pending_seq) {
		G.st.acks_duplicate++;
		return;
	}
	m->pending_seq = 0;
	m->rekeys_acked++;
	struct gks_round *r = &g->round;
	if (r->active && seq == r->seq) {
		r->acked++;
		if (r->outstanding)
			r->outstanding--;
		round_check(g);
	}
}

static void on_rekey_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	gks_rekey(arg, "scheduled", 0);
}

static void on_push_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	if (g->push_held && g->cfg->smc && g->has_kek)
		push_rekey(g, g->held_reason, g->held_kek_rotated);
}

static void on_member_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	g->member_change_us = 0;
	gks_rekey(g, "membership-change", 1);
}

/* A heartbeat: SEQ, [D,] SA [, KD], SIG under the current KEK to every
 * member or the group's address. Returns the copies sent. */
static size_t heartbeat_send(struct gks_group *g, uint32_t seq)
{
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	/* gdoid wants SA and KD (or D) in every push: its heartbeat
	 * repeats the keys in force. */
	if (build_push(g, &g->kek, seq, gks_group_profile(g) == GDOI_PROFILE_GDOID, 0, &b) < 0) {
		gdoi_buf_free(&b);
		return (size_t)-1;
	}
	size_t sent = 0;
	if (g->cfg->smc->communication_type == CFG_COMM_UNICAST) {
		for (struct gks_member *m = g->members; m; m = m->next)
			sent += gks_send_from(&m->local, &m->sa, b.data, b.len) == 0;
	} else {
		sent = send_multicast(g, b.data, b.len);
	}
	gdoi_buf_free(&b);
	return sent;
}

static void on_hb_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	const struct cfg_smc *smc = g->cfg->smc;
	if (!smc || !g->has_kek)
		return;
	loop_timer_arm_ms(&g->hb_timer, (uint64_t)smc->heartbeat * 1000u);
	/* A unicast round in flight: its copies (and retransmissions) carry
	 * the SEQ its members wait for, and a heartbeat with a higher one
	 * would make them refuse the copies they missed as replays. The
	 * round's copies show the server is alive; the next heartbeat goes
	 * out on schedule. */
	if (g->round.active && g->round.want_ack) {
		g->heartbeats_deferred++;
		log_debug("gks", "group %s: heartbeat skipped: rekey SEQ %u is still awaiting ACKs", g->cfg->name,
			  g->round.seq);
		return;
	}
	uint32_t seq = g->push_held ? 0 : gks_seq_next(g);
	if (!seq) /* no SEQ can be saved (logged, counted); a held push retries */
		return;
	size_t sent = heartbeat_send(g, seq);
	if (sent == (size_t)-1)
		return;
	g->heartbeats++;
	G.st.heartbeats++;
	struct event e;
	ev_begin(&e, EV_HEARTBEAT_SENT);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_uint(&e, "seq", seq);
	ev_param_uint(&e, "copies", sent);
	ev_publish(&e, "group %s (%ld): heartbeat SEQ %u, %zu cop%s", g->cfg->name, g->cfg->group_id, seq, sent,
		   sent == 1 ? "y" : "ies");
}

/* Arms the rekey timer for the first KEK or TEK due. */
void gks_schedule_rekey(struct gks_group *g)
{
	uint64_t due = UINT64_MAX;
	/* A KEK that members still need (its replacement's push is held)
	 * cannot be replaced yet: its due time, maybe past, counts again
	 * once that push has gone (push_rekey()), else the timer would
	 * fire again at once, forever. */
	int kek_held = g->push_held && g->held_kek_rotated;
	if (g->has_kek && g->cfg->smc && !kek_held && g->kek.due_us < due)
		due = g->kek.due_us;
	for (size_t i = 0; i < g->n_tek; i++)
		if (g->tek[i].due_us < due)
			due = g->tek[i].due_us;
	if (due == UINT64_MAX)
		loop_timer_cancel(&g->rekey_timer);
	else
		loop_timer_arm_at(&g->rekey_timer, due);
}

static void start_heartbeats(struct gks_group *g)
{
	if (g->cfg->smc && g->has_kek)
		loop_timer_arm_ms(&g->hb_timer, (uint64_t)g->cfg->smc->heartbeat * 1000u);
	else
		loop_timer_cancel(&g->hb_timer);
}

void gks_group_start(struct gks_group *g)
{
	gks_schedule_rekey(g);
	start_heartbeats(g);
}

void gks_rounds_init_group(struct gks_group *g)
{
	loop_timer_init(&g->rekey_timer, on_rekey_timer, g);
	loop_timer_init(&g->retx_timer, on_retx_timer, g);
	loop_timer_init(&g->hb_timer, on_hb_timer, g);
	loop_timer_init(&g->member_timer, on_member_timer, g);
	loop_timer_init(&g->push_timer, on_push_timer, g);
	loop_timer_init(&g->fan_timer, on_fan_timer, g);
}

void gks_rounds_stop_group(struct gks_group *g)
{
	loop_timer_cancel(&g->rekey_timer);
	loop_timer_cancel(&g->retx_timer);
	loop_timer_cancel(&g->hb_timer);
	loop_timer_cancel(&g->member_timer);
	loop_timer_cancel(&g->push_timer);
	loop_timer_cancel(&g->fan_timer);
	if (g->round.active) {
		free(g->round.msg);
		g->round.active = 0;
	}
	free(g->last.msg);
	g->last.msg = NULL;
}

/* A member that registered with the keys of before the last rekey gets
 * that rekey's push right after message 4 (the caller sends it). With
 * unicast it is awaited like any copy: it joins the round still in
 * flight for that SEQ, or a "catch-up" round of its own (events and
 * history like any round), and is retransmitted and removed alike. */
void gks_round_catch_up(struct gks_group *g, struct gks_member *m)
{
	const struct cfg_smc *smc = g->cfg->smc;
	struct gks_round *r = &g->round;
	if (!g->last.msg || !smc)
		return;
	if (smc->communication_type == CFG_COMM_UNICAST) {
		if (r->active && r->seq != g->last.seq)
			gks_round_end(g);
		if (!r->active) {
			r->active = 1;
			r->msg = xmalloc(g->last.len);
			memcpy(r->msg, g->last.msg, g->last.len);
			r->len = g->last.len;
			r->seq = g->last.seq;
			r->want_ack = 1;
			str_copy(r->reason, "catch-up", sizeof(r->reason));
			r->started_us = loop_now_us();
			r->sends = 1;
			r->hist_index = history_add(g, "catch-up", r->seq)->index;
			loop_timer_arm_ms(&g->retx_timer, (uint64_t)smc->retransmission_period * 1000u);
		}
		m->pending_seq = r->seq;
		m->sends = 1;
		r->outstanding++;
		r->targeted++;
		struct gks_history *h = &G.hist[(r->hist_index - 1) % GKS_HISTORY];
		if (h->index == r->hist_index)
			h->targeted = r->targeted;
	}
	m->last_sent_seq = g->last.seq;
	m->rekeys_sent++;
	G.st.catch_ups++;
	log_info("gks", "member %s of group %s registered across rekey SEQ %u: that push follows", m->addr,
		 g->cfg->name, g->last.seq);
}
