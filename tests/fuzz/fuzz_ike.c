/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ike.c: libFuzzer target for the Main Mode state machine as the key
 * server runs it: a fresh responder SA fed the input as message 1, and a
 * responder that has already answered a valid message 1 fed the input as
 * message 3 (KE and nonce processing, the check of a hostile public value
 * before any Diffie-Hellman), and one that has answered messages 1 and 3
 * fed the input as message 5, twice (decryption, the count of failed
 * authentications and the same bytes failing again). The cookies of the
 * input are replaced by the exchange's, since anything else is dropped
 * before. Nothing may crash, leak or read out of bounds. */
#include "config.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/ike.h"
#include "core/log.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const char *psk(void *arg, const struct sockaddr *peer, size_t idx)
{
	(void)arg;
	(void)peer;
	return idx == 0 ? "fuzz key" : NULL;
}

static const struct ike_proposal allowed[] = {
	{ CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_ECP256, 0 },
	{ CRYPTO_CIPHER_3DES, 0, CRYPTO_HASH_SHA1, CRYPTO_DH_MODP1024, 0 },
};

/* As message 5 (cookies kept, E flag set), twice, once the responder
 * has answered the initiator's genuine message 3. */
static void fuzz_msg5(struct ike_sa *i, struct ike_sa *r, const struct gdoi_buf *m2,
		      const uint8_t *data, size_t size)
{
	struct gdoi_buf m3, m4;
	gdoi_buf_init(&m3);
	gdoi_buf_init(&m4);
	if (r->state == IKE_R_SA_SENT && size >= ISAKMP_HDR_LEN &&
	    ike_input(i, m2->data, m2->len, NULL, 0, NULL, NULL, &m3) == 1 &&
	    ike_input(r, m3.data, m3.len, allowed, 2, psk, NULL, &m4) == 1) {
		uint8_t *msg = malloc(size);
		memcpy(msg, data, size);
		memcpy(msg, r->icky, 8);
		memcpy(msg + 8, r->rcky, 8);
		msg[19] |= ISAKMP_FLAG_ENC;
		for (int k = 0; k < 2; k++) {
			struct gdoi_buf o;
			gdoi_buf_init(&o);
			ike_input(r, msg, size, allowed, 2, psk, NULL, &o);
			gdoi_buf_free(&o);
		}
		free(msg);
	}
	gdoi_buf_free(&m3);
	gdoi_buf_free(&m4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		log_set_level(LOG_CRIT);
		quiet = 1;
	}
	struct sockaddr_in peer = { .sin_family = AF_INET };
	struct ike_sa r;
	struct gdoi_buf out;

	/* As message 1 to a new responder. */
	ike_sa_init(&r, 0, (struct sockaddr *)&peer, sizeof(peer));
	gdoi_buf_init(&out);
	ike_input(&r, data, size, allowed, 2, psk, NULL, &out);
	gdoi_buf_free(&out);
	ike_sa_free(&r);

	/* As message 3, after a real message 1 from a real initiator. */
	struct ike_sa i;
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	struct gdoi_buf m1, m2;
	ike_sa_init(&i, 1, (struct sockaddr *)&peer, sizeof(peer));
	ike_sa_init(&r, 0, (struct sockaddr *)&peer, sizeof(peer));
	gdoi_buf_init(&m1);
	gdoi_buf_init(&m2);
	if (ike_initiator_start(&i, allowed, 1, "fuzz key", &id, &m1) == 0 &&
	    ike_input(&r, m1.data, m1.len, allowed, 2, psk, NULL, &m2) == 1 && size >= ISAKMP_HDR_LEN) {
		uint8_t *msg = malloc(size);
		memcpy(msg, data, size);
		memcpy(msg, r.icky, 8);           /* keep the cookies so the input reaches the state */
		memcpy(msg + 8, r.rcky, 8);
		struct gdoi_buf o;
		gdoi_buf_init(&o);
		ike_input(&r, msg, size, allowed, 2, psk, NULL, &o);
		gdoi_buf_free(&o);
		free(msg);
	}
	fuzz_msg5(&i, &r, &m2, data, size);
	gdoi_buf_free(&m1);
	gdoi_buf_free(&m2);
	ike_sa_free(&i);
	ike_sa_free(&r);
	return 0;
}
