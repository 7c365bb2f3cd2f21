/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_gdoi.c: libFuzzer target for core/gdoi/gdoi.c, the parser of every
 * ISAKMP/GDOI byte that arrives from the network. The input is taken as
 * a whole message: header, then the payload chain both with and without
 * padding allowed, then every payload-specific parser on every payload
 * found (whatever its type, so each parser also sees foreign bodies).
 * Seeds: tests/fuzz/corpus/gdoi/ (written by tests/tools/gdoi_pcap). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "core/gdoi/gdoi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_payload(const struct gdoi_payload *p)
{
	struct gdoi_delete del;
	struct gdoi_p1_sa p1;
	struct gdoi_id id;
	struct gdoi_sa sa;
	struct gdoi_kd kd;
	struct gdoi_notify n;
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	uint16_t atd, dtd;
	uint32_t seq;
	size_t na;

	(void)gdoi_p1_sa_parse(p->body, p->len, &p1);
	(void)gdoi_id_parse(p->body, p->len, &id);
	(void)gdoi_sa_parse(p->body, p->len, &sa);
	(void)gdoi_sa_parse_profile(p->body, p->len, -1, &sa);
	(void)gdoi_delete_parse(p->body, p->len, &del);
	(void)gdoi_gap_parse(p->body, p->len, &atd, &dtd);
	(void)gdoi_kd_parse(p->body, p->len, &kd);
	gdoi_kd_wipe(&kd);
	(void)gdoi_seq_parse(p->body, p->len, &seq);
	(void)gdoi_notify_parse(p->body, p->len, &n);
	(void)gdoi_attrs_parse(p->body, p->len, attrs, GDOI_MAX_ATTRS, &na);
	(void)gdoi_payload_name(p->type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isakmp_hdr h;
	struct gdoi_chain c;

	if (isakmp_hdr_parse(data, size, &h) < 0)
		return 0;
	for (int pad = 0; pad < 2; pad++) {
		if (gdoi_chain_parse(h.np, data + ISAKMP_HDR_LEN, h.len - ISAKMP_HDR_LEN, pad, &c) < 0)
			continue;
		(void)gdoi_chain_find(&c, ISAKMP_NP_SA);
		(void)gdoi_chain_count(&c, GDOI_NP_SAT);
		for (size_t i = 0; i < c.n; i++)
			parse_payload(&c.p[i]);
	}
	return 0;
}
