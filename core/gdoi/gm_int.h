/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_int.h: the group member's insides, shared by its files and by no
 * one else (callers use gm.h). The member is split by concern, each file
 * calling only those below it:
 *
 *   gm.c       registration (Main Mode, GROUPKEY-PULL, notifies), the
 *              socket, heartbeat watch and reregistration, life cycle
 *   gm_push.c  GROUPKEY-PUSH: open, check SEQ, apply, ACK; the KEK a
 *              push replaces; the multicast socket the SA KEK names
 *   gm_keys.c  the key table (TEKs pending, active, old; their timer)
 *              and KEKs made from a key download
 *   gm_base.c  event emission and the helpers every part uses
 *
 * None of them builds JSON: events are typed (gm.h), and
 * core/views/gm_json.c renders them and the member's state.
 *
 * Loop clock times are in microseconds. */
#ifndef GVPN_GM_INT_H
#define GVPN_GM_INT_H

#include <stdint.h>
#include <netinet/in.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/gm.h"
#include "core/gdoi/ike.h"
#include "core/loop.h"

enum gm_phase { GM_IDLE, GM_MAIN, GM_PULL1, GM_PULL3, GM_DONE };

/* A KEK as the member holds it: key, the server's public key and the
 * hash its signatures use. Two KEKs may share one RSA key. */
struct gm_kek {
	int valid;
	struct gdoi_kek k;
	struct crypto_rsa *rsa;
	int sig_hash;                  /* CRYPTO_HASH_* */
	int ack_requested;
};

struct gm {
	struct gm_config cfg;
	gm_done_fn done;
	void *arg;
	int fd;
	struct loop_fd *h;
	struct loop_timer timer;       /* retransmissions of the registration */
	enum gm_phase phase;
	struct ike_sa ike;
	struct gdoi_id id;             /* what Main Mode message 5 carries; ACKs too */
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[IKE_NONCE_LEN], nr[256];
	size_t nr_len;
	uint8_t *last_out;
	size_t last_out_len;
	unsigned tries;
	uint64_t start_us, end_us;
	struct gdoi_sa new_policy;     /* from PULL message 2, until message 4 */
	struct gdoi_sa policy;
	struct gdoi_kd keys;
	uint32_t seq;
	char error[200];
	/* after registration */
	int ever_registered;           /* 0: the next registration is a first one */
	int registered;                /* and heartbeats not lost */
	int rereg;                     /* the exchange running is a reregistration */
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	int have_ack_key;
	struct gm_kek kek, prev_kek;
	struct gm_tek *teks;
	size_t n_tek;
	uint64_t tek_order;
	struct loop_timer key_timer;   /* next TEK activation or expiry */
	struct loop_timer hb_timer;    /* heartbeat watch, then reregistration retries */
	uint64_t last_valid_us;
	int mc_fd;
	struct loop_fd *mc_h;
	struct in_addr mc_group;
	uint16_t mc_port;
	struct gm_stats st;
};

/* ---- gm_base.c ------------------------------------------------------------------------ */

/* Names e by its kind and hands it to the event callback (if any). */
void gm_emit(struct gm *m, struct gm_event *e);
/* The member's local address as text, for messages (buf, returned). */
const char *gm_local_str(const struct gm *m, char *buf, size_t len);
/* The gdoi.h profile to parse with: -1 tries both. */
int gm_wire_profile(const struct gm *m);
/* SA TEK selectors in host order (gdoid on a little-endian host) are
 * turned around to network order. */
void gm_selectors_in(const struct gm *m, struct gdoi_sa *sa);

/* ---- gm_keys.c ------------------------------------------------------------------------ */

/* The TEKs of an SA with their keys from kd, activating after delay_us
 * (0: now). */
void gm_install_teks(struct gm *m, const struct gdoi_sa *sa, const struct gdoi_kd *kd, uint64_t delay_us);
void gm_tek_remove(struct gm *m, size_t i, const char *reason);
void gm_teks_clear(struct gm *m);
/* Arms the key timer for the next activation or expiry. */
void gm_key_timer_arm(struct gm *m);
void gm_on_key_timer(struct loop_timer *tm, void *arg);
void gm_kek_drop(struct gm *m, struct gm_kek *k);
/* The KEK an SA KEK names, with its key from kd: 0, or -1 and *why. */
int gm_kek_from(struct gm *m, const struct gdoi_sa_kek *s, int profile, const struct gdoi_kd *kd,
		struct gm_kek *out, const char **why);

/* ---- gm_push.c ------------------------------------------------------------------------ */

/* A GROUPKEY-PUSH from `from`, on the unicast socket or (mcast) the
 * multicast one. */
void gm_on_push(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from, int mcast);
/* Joins (or leaves, or moves to) the multicast group the policy's SA
 * KEK names. */
void gm_mcast_follow(struct gm *m);
void gm_mcast_close(struct gm *m);
/* (Re)arms the heartbeat watch. */
void gm_heartbeat_arm(struct gm *m);
/* The ATD of an SA in microseconds, else of fallback's, else 0. */
uint64_t gm_atd_us(const struct gdoi_sa *sa, const struct gdoi_sa *fallback);

#endif
