/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_ack.c: test tool. One group member (the real one, core/gdoi/gm.c)
 * that registers and then takes pushes and ACKs them as gvpn-member
 * --stay does, and on a signal also sends, from its own socket, an ACK
 * for a SEQ the server never pushed (the member's last SEQ + 1), signed
 * with its real ACK key: a forged but valid ACK, which the server must
 * not count. SIGUSR1 sends one whose HASH is spoilt (it must fail to
 * verify: shows the server found the member and its KEK), SIGUSR2 one
 * with a valid HASH. One JSON object per line on stdout for each event
 * (gm's events, "registered", "failed", "forged_ack"). Stops on SIGTERM
 * or SIGINT.
 *   gdoi_ack SERVER_ADDR:PORT GROUP PSK_FILE LOCAL_ADDR:PORT */
#include "config.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/gm.h"
#include "core/views/gm_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct gm *M;

static void emit(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void on_event(struct gm *m GVPN_UNUSED, const char *event, cJSON *detail, void *arg GVPN_UNUSED)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", event);
	while (detail->child) {
		cJSON *it = cJSON_DetachItemViaPointer(detail, detail->child);
		cJSON_AddItemToObject(o, it->string, it);
	}
	emit(o);
}

static void on_gm_event(struct gm *m, const struct gm_event *ev, void *arg)
{
	cJSON *detail = gm_event_json(ev);
	on_event(m, ev->name, detail, arg);
	cJSON_Delete(detail);
}

static void on_done(struct gm *m, enum gm_result r, void *arg GVPN_UNUSED)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", r == GM_REGISTERED ? "registered" : "failed");
	if (r == GM_REGISTERED) {
		cJSON_AddNumberToObject(o, "seq", gm_seq(m));
		cJSON_AddNumberToObject(o, "port", ntohs(gm_local(m)->sin_port));
	} else {
		cJSON_AddStringToObject(o, "error", gm_error(m));
	}
	emit(o);
	if (r != GM_REGISTERED)
		loop_stop();
}

/* The member's own socket: the one bound to its local address and port
 * (gm keeps the descriptor to itself; the ACK must come from there, as
 * the server knows members by address and port). */
static int member_fd(const struct sockaddr_in *local)
{
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_in sin;
		socklen_t l = sizeof(sin);
		int type = 0;
		socklen_t tl = sizeof(type);
		if (getsockname(fd, (struct sockaddr *)&sin, &l) == 0 && sin.sin_family == AF_INET &&
		    sin.sin_addr.s_addr == local->sin_addr.s_addr && sin.sin_port == local->sin_port &&
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM)
			return fd;
	}
	return -1;
}

static void forge(int valid)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", "forged_ack");
	cJSON_AddStringToObject(o, "hash", valid ? "valid" : "spoilt");
	const struct ike_sa *ike = gm_ike(M);
	const struct gdoi_sa *pol = gm_policy(M);
	uint8_t key[GDOI_ACK_KEY_LEN];
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	memcpy(id.data, &gm_local(M)->sin_addr, 4);
	uint32_t seq = gm_seq(M) + 1;
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	int fd = member_fd(gm_local(M));
	const char *err = NULL;
	if (!gm_registered(M) || !pol->has_kek)
		err = "not registered (or no KEK)";
	else if (fd < 0)
		err = "the member's socket was not found";
	else if (gdoi_ack_key(ike->keys.skeyid_a, ike->keys.hash_len, ike->icky, ike->rcky, key) < 0 ||
		 gdoi_ack_build(&b, pol->kek.spi, seq, &id, key) < 0)
		err = "cannot build the ACK";
	if (!err) {
		if (!valid)
			b.data[ISAKMP_HDR_LEN + 4] ^= 0x5a; /* the HASH payload's first byte */
		if (sendto(fd, b.data, b.len, 0, (const struct sockaddr *)&ike->peer, sizeof(struct sockaddr_in)) < 0)
			err = "sendto failed";
	}
	cJSON_AddNumberToObject(o, "seq", seq);
	if (err)
		cJSON_AddStringToObject(o, "error", err);
	emit(o);
	OPENSSL_cleanse(key, sizeof(key));
	gdoi_buf_free(&b);
}

static void on_usr(int signo, void *arg GVPN_UNUSED)
{
	forge(signo == SIGUSR2);
}

static void on_stop(int signo GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	loop_stop();
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: gdoi_ack SERVER_ADDR:PORT GROUP PSK_FILE LOCAL_ADDR:PORT\n");
		return 2;
	}
	struct gm_config cfg = { 0 };
	if (parse_addr(argv[1], &cfg.server) < 0 || parse_addr(argv[4], &cfg.local) < 0) {
		fprintf(stderr, "gdoi_ack: bad address\n");
		return 2;
	}
	cfg.group_id = (uint32_t)strtoul(argv[2], NULL, 10);
	char *psk = file_read_all(argv[3], 4096, NULL);
	if (!psk || !cfg.group_id) {
		fprintf(stderr, "gdoi_ack: cannot read %s, or group 0\n", argv[3]);
		free(psk);
		return 2;
	}
	psk[strcspn(psk, "\r\n")] = '\0';
	cfg.psk = psk;
	cfg.props[0] = (struct ike_proposal){ .cipher = CRYPTO_CIPHER_AES, .key_bits = 256,
					      .hash = CRYPTO_HASH_SHA256, .group = CRYPTO_DH_ECP256,
					      .life_seconds = 86400 };
	cfg.n_props = 1;
	cfg.event = on_gm_event;
	log_init("gdoi_ack");
	if (loop_init() < 0)
		return 1;
	loop_signal_add(SIGINT, on_stop, NULL);
	loop_signal_add(SIGTERM, on_stop, NULL);
	loop_signal_add(SIGUSR1, on_usr, NULL);
	loop_signal_add(SIGUSR2, on_usr, NULL);
	int rc = 1;
	M = gm_new(&cfg, on_done, NULL);
	if (M && gm_start(M) == 0) {
		loop_run();
		rc = gm_registered(M) ? 0 : 1;
	}
	gm_free(M);
	secret_free(psk);
	loop_fini();
	return rc;
}
