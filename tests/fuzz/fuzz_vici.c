/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_vici.c: libFuzzer target for everything the VICI client reads from
 * charon: the input is a stream of framed packets; each is split, its
 * message parsed, the tree walked and converted, re-encoded and re-parsed
 * (must round-trip), and read as a list-sa / list-conn event. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/monitor/vici.h"
#include "core/log.h"

static size_t walk(const struct vici_msg *m, int node, int depth)
{
	size_t n = 1, len;
	uint64_t u;
	int64_t s;
	uint32_t h;

	if (depth > VICI_DEPTH_MAX + 2)
		abort();
	(void)vici_name(m, node);
	(void)vici_value(m, node, &len);
	(void)vici_str(m, node);
	(void)vici_u64(m, node, &u);
	(void)vici_i64(m, node, &s);
	(void)vici_hex32(m, node, &h);
	for (int c = vici_first(m, node); c >= 0; c = vici_next(m, c)) {
		if (vici_parent(m, c) != node)
			abort();
		n += walk(m, c, depth + 1);
	}
	return n;
}

static void check_round_trip(const struct vici_msg *m)
{
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len, len2;
	struct vici_msg *again = NULL;

	if (vici_msg_encode(m, &buf, &len, NULL) < 0)
		abort();
	if (vici_msg_parse(buf, len, &again, NULL) < 0)
		abort();
	if (vici_msg_encode(again, &buf2, &len2, NULL) < 0 || len != len2 ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	free(buf);
	free(buf2);
	vici_msg_free(again);
}

static void one_message(const uint8_t *body, size_t len)
{
	struct vici_msg *m = NULL;
	if (vici_msg_parse(body, len, &m, NULL) < 0)
		return;
	if (walk(m, 0, 0) != vici_msg_count(m))
		abort();
	check_round_trip(m);
	(void)vici_get_str(m, 0, "a/child-sas/b/bytes-in");
	struct vici_sa_list sl = { 0 };
	(void)vici_sa_list_add(&sl, m, NULL);
	for (size_t i = 0; i < sl.n; i++)
		(void)vici_ike_sa_child(&sl.ike[i], "net");
	vici_sa_list_clear(&sl);
	struct vici_conn_list cl = { 0 };
	(void)vici_conn_list_add(&cl, m, NULL);
	vici_conn_list_clear(&cl);
	vici_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct vici_packet p;
	size_t used;

	if (!quiet) {
		log_set_level(LOG_CRIT);
		quiet = 1;
	}
	/* The whole input as one bare message, too. */
	one_message(data, size);
	while (size > 0) {
		int rc = vici_packet_split(data, size, &p, &used, NULL);
		if (rc <= 0)
			break;
		if (p.type == VICI_CMD_RESPONSE || p.type == VICI_EVENT ||
		    p.type == VICI_CMD_REQUEST)
			one_message(p.body, p.body_len);
		data += used;
		size -= used;
	}
	return 0;
}
