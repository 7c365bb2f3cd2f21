/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_server.h: the real key server (core/gdoi/gks*.c) in a fuzz target's
 * process, as tests/unit/test_gks.c runs it: a state directory of its
 * own under /tmp (removed at exit), a loopback port, the loop clock
 * replaced so that time passes only when the target moves it. Included
 * by fuzz_gks_pull.c and fuzz_gm_push.c (static functions only).
 *
 * Group 1 (RFC 6407 wire profile) has unicast server-member
 * communication with an AES-256 KEK, SHA-256 signatures and ACKs; group
 * 2 uses gdoid's wire profile without a KEK; 127.0.0.0/8 holds the
 * members of both with the key FUZZ_PSK. Lifetimes and the heartbeat
 * are long so that the keys change seldom while inputs run. */
#ifndef GVPN_FUZZ_SERVER_H
#define GVPN_FUZZ_SERVER_H

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_view.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define FUZZ_PSK "fuzz group key"
#define FUZZ_S 1000000ull

static uint64_t fz_now_us = 1000 * FUZZ_S;
static char fz_dir[64];
static int fz_port;
static struct cfg *fz_cfg;

static uint64_t fz_clock(void) { return fz_now_us; }

static void fz_rmdir(void)
{
	DIR *d = opendir(fz_dir);
	struct dirent *e;
	char path[320];
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", fz_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fz_dir);
}

/* Set-up failures: the target cannot run. */
static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz target set-up: %s\n", what);
	fz_rmdir();
	abort();
}

static struct sockaddr_in fz_loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

/* A UDP socket on 127.0.0.1, any port (nonblocking); its port in *port. */
static int fz_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = fz_loopback(0);
	socklen_t l = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		fz_die("a loopback socket");
	*port = ntohs(a.sin_port);
	return fd;
}

static struct sockaddr_in fz_server(void) { return fz_loopback((uint16_t)fz_port); }

/* Moves the clock on by secs, firing the timers due on the way. */
static void fz_advance(uint64_t secs)
{
	uint64_t t = fz_now_us + secs * FUZZ_S;
	for (;;) {
		uint64_t d = loop_next_deadline_us();
		if (d == UINT64_MAX || d > t)
			break;
		if (d > fz_now_us)
			fz_now_us = d;
		loop_run_timers();
	}
	fz_now_us = t;
	loop_run_timers();
}

/* Starts the loop (fake clock), the event bus and the key server. */
static void fz_server_start(void)
{
	char path[128], text[4096];
	uint16_t port;
	int fd = fz_socket(&port);

	close(fd);
	fz_port = port;
	log_set_level(LOG_CRIT);
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/gvpn-fuzz.XXXXXX");
	if (!mkdtemp(fz_dir))
		fz_die("mkdtemp");
	atexit(fz_rmdir);
	snprintf(path, sizeof(path), "%s/secrets.json", fz_dir);
	const char *sec = "{ \"psk\": { \"k\": \"" FUZZ_PSK "\" } }";
	if (file_write_atomic(path, sec, strlen(sec), 0600) < 0)
		fz_die("the secrets file");
	snprintf(text, sizeof(text),
		 "{ \"agent\": { \"state_dir\": \"%s\", \"secrets_file\": \"%s/secrets.json\" },"
		 "  \"snmp\": { \"enabled\": false }, \"web\": { \"enabled\": false },"
		 "  \"syslog\": { \"local\": false },"
		 "  \"group_vpn_server\": { \"listen\": \"127.0.0.1:%d\", \"half_open_timeout\": 5,"
		 "    \"ike_proposals\": [ { \"dh_group\": \"ecp-256\" } ],"
		 "    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1, \"activation_time_delay\": 10,"
		 "      \"server_member_communication\": { \"communication_type\": \"unicast\","
		 "        \"encryption_algorithm\": \"aes-256-cbc\", \"sig_hash_algorithm\": \"sha-256\","
		 "        \"lifetime_seconds\": 86400, \"heartbeat\": 86400,"
		 "        \"retransmission_period\": 60, \"number_of_retransmission\": 60 },"
		 "      \"ipsec_sa\": [ { \"name\": \"sa1\", \"lifetime_seconds\": 86400,"
		 "        \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } },"
		 "                    { \"name\": \"sa2\", \"lifetime_seconds\": 86400,"
		 "        \"match\": { \"source\": \"10.3.0.0/16\", \"destination\": \"10.4.0.0/16\" } } ],"
		 "      \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] },"
		 "    { \"name\": \"g2\", \"group_id\": 2, \"wire_profile\": \"gdoid\","
		 "      \"key_id_byte_order\": \"little-endian\", \"pull_ids\": [ \"g2@fuzz.example\" ],"
		 "      \"ipsec_sa\": [ { \"name\": \"sa3\","
		 "        \"match\": { \"source\": \"10.5.0.0/16\", \"destination\": \"10.6.0.1/32\" } } ],"
		 "      \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] } }",
		 fz_dir, fz_dir, fz_port);
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	snprintf(path, sizeof(path), "%s/gvpn-agent.json", fz_dir);
	fz_cfg = cfg_load_text(path, text, strlen(text), &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "fuzz config: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	if (!fz_cfg)
		fz_die("the config");
	loop_set_clock(fz_clock);
	ev_init(16);
	if (loop_init() < 0 || gks_init(fz_cfg) < 0)
		fz_die("the key server");
}

/* SEQ payloads of 4 octets in the chain b->data[from..) (first type at
 * b->data[np_at]) read as a signed offset from base: the fuzzer's
 * mutations then stay near the SEQ the other end expects. */
static void fz_seq_relative(struct gdoi_buf *b, size_t np_at, size_t from, uint32_t base)
{
	size_t off = from;
	uint8_t type = b->data[np_at];

	while (type != ISAKMP_NP_NONE && off + 4 <= b->len) {
		size_t len = (size_t)b->data[off + 2] << 8 | b->data[off + 3];
		if (len < 4 || len > b->len - off)
			break;
		if (type == GDOI_NP_SEQ && len == 8) {
			uint8_t *v = b->data + off + 4;
			uint32_t d = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
			uint32_t s = base + d;
			v[0] = (uint8_t)(s >> 24);
			v[1] = (uint8_t)(s >> 16);
			v[2] = (uint8_t)(s >> 8);
			v[3] = (uint8_t)s;
		}
		type = b->data[off];
		off += len;
	}
}

/* Writes a seed file dir/name: flags byte, then body. */
static void fz_seed(const char *dir, const char *name, const uint8_t *body, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write\n", path);
		exit(1);
	}
}

#endif
