/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_store.h: where the key server keeps what must outlive it, per
 * group: the SEQ reservation (no push ever went out with a SEQ above
 * it) and the keys. A back end is a struct of function pointers, so a
 * shared one for a cluster of servers (etcd) can stand beside the file
 * one without the rest of the server knowing which it talks to.
 *
 * SEQ numbers are reserved in blocks: a server asks for a block above
 * the last SEQ it used, and may use the block's numbers once the store
 * has made the reservation durable. A shared back end hands each block
 * out once, whichever server asks, so the block it returns may start
 * higher than asked.
 *
 * The file back end (gks_store_file.c) keeps the reservations in
 * <state_dir>/gks-seq.json and no keys: after a restart every group
 * gets new keys and the members reregister, as they always have. */
#ifndef GVPN_GKS_STORE_H
#define GVPN_GKS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"

/* A group's keys as a store holds them: plain values and wall-clock
 * times (CLOCK_REALTIME seconds), so another server, or this one after
 * a restart, can take them over. Holds key material: wipe it after use
 * (OPENSSL_cleanse). */
struct gks_stored_tek {
	char policy[64];                 /* the ipsec_sa it protects, by name ... */
	int proposal;                    /* ... and proposal */
	uint32_t spi;
	uint8_t enc[32], integ[64];
	size_t enc_len, integ_len;
	uint32_t lifetime;
	int64_t created, active, due, expires;
};

struct gks_keyset {
	uint64_t generation;             /* +1 whenever the keys change */
	int has_kek;
	struct gdoi_kek kek;             /* the current KEK (algorithm, SPI, key) */
	uint32_t kek_lifetime;
	int64_t kek_created, kek_due, kek_expires;
	size_t n_tek;
	struct gks_stored_tek tek[GDOI_MAX_TEKS];
};

struct gks_store;

struct gks_store_ops {
	const char *name;                /* "file" */
	/* What it is kept in, for messages (a path, a URL). */
	const char *(*where)(const struct gks_store *s);
	/* The group's reservation: every SEQ it used is at most *upto (0:
	 * nothing saved). 0, or -1 when the store cannot say. */
	int (*seq_load)(struct gks_store *s, long group_id, uint32_t *upto);
	/* Reserves up to `block` numbers above `used`, the last SEQ the
	 * caller used: *first .. *last, durable when it returns 0. -1 with
	 * errno set: nothing reserved, the saved reservation unchanged. */
	int (*seq_reserve)(struct gks_store *s, long group_id, uint32_t used, uint32_t block, uint32_t *first,
			   uint32_t *last);
	/* The group's keys as last saved: 1, 0 when there are none, -1 on
	 * an error (the caller makes new keys either way but 1). */
	int (*keys_load)(struct gks_store *s, long group_id, struct gks_keyset *out);
	/* Keeps the group's keys (after they changed). 0 or -1. */
	int (*keys_save)(struct gks_store *s, long group_id, const struct gks_keyset *ks);
	void (*close)(struct gks_store *s);
};

/* Back ends embed this first. */
struct gks_store {
	const struct gks_store_ops *ops;
};

/* The file back end in state_dir (NULL: the working directory). NULL
 * when the file exists but cannot be read as reservations (logged): a
 * lost reservation could make SEQ numbers repeat, so the server must not
 * start. */
struct gks_store *gks_store_file_open(const char *state_dir);

/* The store the next gks_init() uses instead of the file one (NULL: the
 * file one again); gks_fini() closes it. For tests and other back ends. */
void gks_use_store(struct gks_store *s);

#endif
