/* SPDX-License-Identifier: BSD-2-Clause */
/* vici.c: strongSwan VICI client: message codec, packet framing, the
 * non-blocking connection on the event loop, and parsed list results.
 * Everything read from the socket is untrusted: lengths are checked
 * against what is left, nesting and node counts are bounded. */
#include "config.h"
#include "core/monitor/vici.h"
#include "core/log.h"
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Wire element codes (vici_message.h). */
enum {
	EL_SECTION_START = 1,
	EL_SECTION_END = 2,
	EL_KEY_VALUE = 3,
	EL_LIST_START = 4,
	EL_LIST_ITEM = 5,
	EL_LIST_END = 6,
};

struct vici_node {
	uint8_t kind;
	uint32_t name_off;  /* into pool, NUL-terminated */
	uint32_t val_off;   /* into pool, value then a NUL */
	uint32_t val_len;
	int parent, first, last, next;
};

struct vici_msg {
	struct vici_node *n;
	size_t count, cap;
	char *pool;
	size_t pool_len, pool_cap;
	int cur;          /* open section or list while building */
	int depth;
	const char *err;  /* sticky builder error */
};

/* ---------------------------------------------------------------- */
/* tree storage */

static uint32_t pool_add(struct vici_msg *m, const void *data, size_t len)
{
	if (m->pool_len + len + 1 > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap : 256;
		while (cap < m->pool_len + len + 1)
			cap *= 2;
		m->pool = xrealloc(m->pool, cap);
		m->pool_cap = cap;
	}
	uint32_t off = (uint32_t)m->pool_len;
	if (len)
		memcpy(m->pool + off, data, len);
	m->pool[off + len] = '\0';
	m->pool_len += len + 1;
	return off;
}

static int node_add(struct vici_msg *m, int parent, uint8_t kind,
		    const char *name, size_t nlen, const void *val, size_t vlen)
{
	if (m->count >= VICI_ELEMS_MAX)
		return -1;
	if (m->count == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->n = xrealloc(m->n, m->cap * sizeof(*m->n));
	}
	int i = (int)m->count++;
	struct vici_node *n = &m->n[i];
	n->kind = kind;
	n->name_off = nlen ? pool_add(m, name, nlen) : 0;
	n->val_off = (kind == VICI_NODE_KV || kind == VICI_NODE_ITEM) ?
		pool_add(m, val, vlen) : 0;
	n->val_len = (uint32_t)vlen;
	n->parent = parent;
	n->first = n->last = n->next = -1;
	if (parent >= 0) {
		struct vici_node *p = &m->n[parent];
		if (p->last >= 0)
			m->n[p->last].next = i;
		else
			p->first = i;
		p->last = i;
	}
	return i;
}

struct vici_msg *vici_msg_new(void)
{
	struct vici_msg *m = xcalloc(1, sizeof(*m));
	pool_add(m, NULL, 0); /* offset 0: the empty string */
	node_add(m, -1, VICI_NODE_SECTION, NULL, 0, NULL, 0);
	m->cur = 0;
	return m;
}

void vici_msg_free(struct vici_msg *m)
{
	if (!m)
		return;
	free(m->n);
	free(m->pool);
	free(m);
}

/* ---------------------------------------------------------------- */
/* builder */

static int name_ok(const char *name, size_t *len)
{
	if (!name)
		return 0;
	*len = strlen(name);
	return *len >= 1 && *len <= VICI_NAME_MAX;
}

static int build_check(struct vici_msg *m, int want_list, const char *what)
{
	if (m->err)
		return -1;
	int in_list = m->n[m->cur].kind == VICI_NODE_LIST;
	if (in_list != want_list) {
		m->err = what;
		return -1;
	}
	return 0;
}

static void build_add(struct vici_msg *m, uint8_t kind, const char *name,
		      const void *val, size_t vlen)
{
	size_t nlen = 0;
	if (kind != VICI_NODE_ITEM && !name_ok(name, &nlen)) {
		m->err = "name empty or longer than 255";
		return;
	}
	if (vlen > VICI_VALUE_MAX) {
		m->err = "value longer than 65535";
		return;
	}
	if (kind == VICI_NODE_SECTION && m->depth >= VICI_DEPTH_MAX) {
		m->err = "sections nested too deep";
		return;
	}
	int i = node_add(m, m->cur, kind, name, nlen, val, vlen);
	if (i < 0) {
		m->err = "too many elements";
		return;
	}
	if (kind == VICI_NODE_SECTION)
		m->depth++;
	if (kind == VICI_NODE_SECTION || kind == VICI_NODE_LIST)
		m->cur = i;
}

void vici_section_begin(struct vici_msg *m, const char *name)
{
	if (build_check(m, 0, "section inside a list") == 0)
		build_add(m, VICI_NODE_SECTION, name, NULL, 0);
}

void vici_section_end(struct vici_msg *m)
{
	if (build_check(m, 0, "section end inside a list") < 0)
		return;
	if (m->cur == 0) {
		m->err = "section end without begin";
		return;
	}
	m->cur = m->n[m->cur].parent;
	m->depth--;
}

void vici_kv(struct vici_msg *m, const char *name, const void *val, size_t len)
{
	if (build_check(m, 0, "key/value inside a list") == 0)
		build_add(m, VICI_NODE_KV, name, val, len);
}

void vici_kv_str(struct vici_msg *m, const char *name, const char *val)
{
	vici_kv(m, name, val, strlen(val));
}

void vici_kvf(struct vici_msg *m, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	vici_kv_str(m, name, s);
	free(s);
}

void vici_list_begin(struct vici_msg *m, const char *name)
{
	if (build_check(m, 0, "list inside a list") == 0)
		build_add(m, VICI_NODE_LIST, name, NULL, 0);
}

void vici_list_item(struct vici_msg *m, const void *val, size_t len)
{
	if (build_check(m, 1, "list item outside a list") == 0)
		build_add(m, VICI_NODE_ITEM, NULL, val, len);
}

void vici_list_item_str(struct vici_msg *m, const char *val)
{
	vici_list_item(m, val, strlen(val));
}

void vici_list_end(struct vici_msg *m)
{
	if (build_check(m, 1, "list end outside a list") == 0)
		m->cur = m->n[m->cur].parent;
}

const char *vici_msg_error(const struct vici_msg *m)
{
	return m->err;
}

/* ---------------------------------------------------------------- */
/* encoding */

static size_t node_wire_len(const struct vici_msg *m, int i)
{
	const struct vici_node *n = &m->n[i];
	size_t nlen = strlen(m->pool + n->name_off);
	switch (n->kind) {
	case VICI_NODE_SECTION:
	case VICI_NODE_LIST:
		return 2 + nlen + 1; /* start, name, end */
	case VICI_NODE_KV:
		return 2 + nlen + 2 + n->val_len;
	default:
		return 1 + 2 + n->val_len;
	}
}

static uint8_t *put_name(uint8_t *p, const struct vici_msg *m, const struct vici_node *n)
{
	size_t len = strlen(m->pool + n->name_off);
	*p++ = (uint8_t)len;
	memcpy(p, m->pool + n->name_off, len);
	return p + len;
}

static uint8_t *put_value(uint8_t *p, const struct vici_msg *m, const struct vici_node *n)
{
	*p++ = (uint8_t)(n->val_len >> 8);
	*p++ = (uint8_t)n->val_len;
	memcpy(p, m->pool + n->val_off, n->val_len);
	return p + n->val_len;
}

static uint8_t *encode_node(const struct vici_msg *m, int i, uint8_t *p)
{
	const struct vici_node *n = &m->n[i];
	switch (n->kind) {
	case VICI_NODE_SECTION:
	case VICI_NODE_LIST: {
		int sec = n->kind == VICI_NODE_SECTION;
		*p++ = sec ? EL_SECTION_START : EL_LIST_START;
		p = put_name(p, m, n);
		for (int c = n->first; c >= 0; c = m->n[c].next)
			p = encode_node(m, c, p);
		*p++ = sec ? EL_SECTION_END : EL_LIST_END;
		return p;
	}
	case VICI_NODE_KV:
		*p++ = EL_KEY_VALUE;
		p = put_name(p, m, n);
		return put_value(p, m, n);
	default:
		*p++ = EL_LIST_ITEM;
		return put_value(p, m, n);
	}
}

int vici_msg_encode(const struct vici_msg *m, uint8_t **out, size_t *len, const char **why)
{
	const char *reason = m->err;
	if (!reason && m->cur != 0)
		reason = "section or list not closed";
	size_t total = 0;
	for (size_t i = 1; i < m->count && !reason; i++)
		total += node_wire_len(m, (int)i);
	if (!reason && total > VICI_MSG_MAX)
		reason = "message larger than 512 KiB";
	if (reason) {
		if (why)
			*why = reason;
		return -1;
	}
	uint8_t *buf = xmalloc(total ? total : 1);
	uint8_t *p = buf;
	for (int c = m->n[0].first; c >= 0; c = m->n[c].next)
		p = encode_node(m, c, p);
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* ---------------------------------------------------------------- */
/* parsing */

struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static int rd_name(struct rd *r, const char **name, size_t *nlen)
{
	if (r->pos >= r->len)
		return -1;
	size_t n = r->p[r->pos];
	if (n == 0 || n > r->len - r->pos - 1)
		return -1;
	*name = (const char *)r->p + r->pos + 1;
	if (memchr(*name, '\0', n))
		return -1;
	*nlen = n;
	r->pos += 1 + n;
	return 0;
}

static int rd_value(struct rd *r, const uint8_t **val, size_t *vlen)
{
	if (r->len - r->pos < 2)
		return -1;
	size_t n = ((size_t)r->p[r->pos] << 8) | r->p[r->pos + 1];
	if (n > r->len - r->pos - 2)
		return -1;
	*val = r->p + r->pos + 2;
	*vlen = n;
	r->pos += 2 + n;
	return 0;
}

/* One element; returns NULL or the reason it is invalid. */
static const char *parse_el(struct vici_msg *m, struct rd *r, uint8_t type)
{
	int in_list = m->n[m->cur].kind == VICI_NODE_LIST;
	const char *name = NULL;
	const uint8_t *val = NULL;
	size_t nlen = 0, vlen = 0;
	uint8_t kind;

	switch (type) {
	case EL_SECTION_START:
	case EL_LIST_START:
		if (in_list)
			return "section or list inside a list";
		if (rd_name(r, &name, &nlen) < 0)
			return "bad or truncated name";
		if (type == EL_SECTION_START && m->depth >= VICI_DEPTH_MAX)
			return "sections nested too deep";
		kind = type == EL_SECTION_START ? VICI_NODE_SECTION : VICI_NODE_LIST;
		break;
	case EL_KEY_VALUE:
		if (in_list)
			return "key/value inside a list";
		if (rd_name(r, &name, &nlen) < 0)
			return "bad or truncated name";
		if (rd_value(r, &val, &vlen) < 0)
			return "truncated value";
		kind = VICI_NODE_KV;
		break;
	case EL_LIST_ITEM:
		if (!in_list)
			return "list item outside a list";
		if (rd_value(r, &val, &vlen) < 0)
			return "truncated value";
		kind = VICI_NODE_ITEM;
		break;
	case EL_SECTION_END:
		if (in_list || m->cur == 0)
			return "section end without section";
		m->cur = m->n[m->cur].parent;
		m->depth--;
		return NULL;
	case EL_LIST_END:
		if (!in_list)
			return "list end without list";
		m->cur = m->n[m->cur].parent;
		return NULL;
	default:
		return "unknown element type";
	}
	int i = node_add(m, m->cur, kind, name, nlen, val, vlen);
	if (i < 0)
		return "too many elements";
	if (kind == VICI_NODE_SECTION)
		m->depth++;
	if (kind == VICI_NODE_SECTION || kind == VICI_NODE_LIST)
		m->cur = i;
	return NULL;
}

int vici_msg_parse(const uint8_t *buf, size_t len, struct vici_msg **out, const char **why)
{
	const char *reason = NULL;
	if (len > VICI_MSG_MAX) {
		reason = "message larger than 512 KiB";
		goto done;
	}
	struct vici_msg *m = vici_msg_new();
	struct rd r = { buf, len, 0 };
	while (!reason && r.pos < r.len) {
		uint8_t type = r.p[r.pos++];
		reason = parse_el(m, &r, type);
	}
	if (!reason && m->cur != 0)
		reason = m->n[m->cur].kind == VICI_NODE_LIST ?
			"list not closed" : "section not closed";
	if (reason) {
		vici_msg_free(m);
		goto done;
	}
	*out = m;
	return 0;
done:
	if (why)
		*why = reason;
	return -1;
}

/* ---------------------------------------------------------------- */
/* reading */

static const struct vici_node *node_get(const struct vici_msg *m, int i)
{
	if (!m || i < 0 || (size_t)i >= m->count)
		return NULL;
	return &m->n[i];
}

size_t vici_msg_count(const struct vici_msg *m)
{
	return m->count;
}

int vici_kind(const struct vici_msg *m, int node)
{
	const struct vici_node *n = node_get(m, node);
	return n ? n->kind : -1;
}

const char *vici_name(const struct vici_msg *m, int node)
{
	const struct vici_node *n = node_get(m, node);
	return n ? m->pool + n->name_off : NULL;
}

const uint8_t *vici_value(const struct vici_msg *m, int node, size_t *len)
{
	const struct vici_node *n = node_get(m, node);
	if (!n || (n->kind != VICI_NODE_KV && n->kind != VICI_NODE_ITEM))
		return NULL;
	if (len)
		*len = n->val_len;
	return (const uint8_t *)m->pool + n->val_off;
}

int vici_first(const struct vici_msg *m, int node)
{
	const struct vici_node *n = node_get(m, node);
	return n ? n->first : -1;
}

int vici_next(const struct vici_msg *m, int node)
{
	const struct vici_node *n = node_get(m, node);
	return n ? n->next : -1;
}

int vici_parent(const struct vici_msg *m, int node)
{
	const struct vici_node *n = node_get(m, node);
	return n ? n->parent : -1;
}

static int child_n(const struct vici_msg *m, int node, const char *name, size_t len)
{
	for (int c = vici_first(m, node); c >= 0; c = m->n[c].next) {
		const char *cn = m->pool + m->n[c].name_off;
		if (strncmp(cn, name, len) == 0 && cn[len] == '\0' && len)
			return c;
	}
	return -1;
}

int vici_child(const struct vici_msg *m, int node, const char *name)
{
	return name ? child_n(m, node, name, strlen(name)) : -1;
}

int vici_find(const struct vici_msg *m, int node, const char *path)
{
	if (!path || !node_get(m, node))
		return -1;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len > VICI_NAME_MAX)
			return -1;
		node = child_n(m, node, p, len);
		if (node < 0 || !slash)
			return node;
		p = slash + 1;
	}
}

const char *vici_str(const struct vici_msg *m, int node)
{
	size_t len;
	const uint8_t *v = vici_value(m, node, &len);
	if (!v || memchr(v, '\0', len))
		return NULL;
	return (const char *)v;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int vici_u64(const struct vici_msg *m, int node, uint64_t *out)
{
	return parse_u64(vici_str(m, node), out);
}

int vici_i64(const struct vici_msg *m, int node, int64_t *out)
{
	const char *s = vici_str(m, node);
	uint64_t v;
	if (!s)
		return -1;
	int neg = *s == '-';
	if (parse_u64(s + neg, &v) < 0)
		return -1;
	if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int vici_hex32(const struct vici_msg *m, int node, uint32_t *out)
{
	const char *s = vici_str(m, node);
	uint32_t v = 0;
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > 8)
		return -1;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

const char *vici_get_str(const struct vici_msg *m, int node, const char *path)
{
	return vici_str(m, vici_find(m, node, path));
}

int vici_get_u64(const struct vici_msg *m, int node, const char *path, uint64_t *out)
{
	return vici_u64(m, vici_find(m, node, path), out);
}

int vici_get_i64(const struct vici_msg *m, int node, const char *path, int64_t *out)
{
	return vici_i64(m, vici_find(m, node, path), out);
}

/* ---------------------------------------------------------------- */
/* framing */

int vici_op_named(uint8_t type)
{
	return type == VICI_CMD_REQUEST || type == VICI_EVENT_REGISTER ||
	       type == VICI_EVENT_UNREGISTER || type == VICI_EVENT;
}

const char *vici_op_name(uint8_t type)
{
	static const char *const names[] = {
		"cmd-request", "cmd-response", "cmd-unknown", "event-register",
		"event-unregister", "event-confirm", "event-unknown", "event",
	};
	return type < ARRAY_SIZE(names) ? names[type] : "invalid";
}

int vici_frame_len(const uint8_t hdr[VICI_HDR_LEN], size_t *len, const char **why)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		     (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > VICI_MSG_MAX) {
		if (why)
			*why = n ? "packet larger than 512 KiB" : "empty packet";
		return -1;
	}
	*len = n;
	return 0;
}

int vici_packet_parse(const uint8_t *buf, size_t len, struct vici_packet *p, const char **why)
{
	const char *reason = NULL;
	struct rd r = { buf, len, 0 };
	const char *name = NULL;
	size_t nlen = 0;

	memset(p, 0, sizeof(*p));
	if (len == 0 || len > VICI_MSG_MAX)
		reason = len ? "packet larger than 512 KiB" : "empty packet";
	else if ((p->type = buf[r.pos++]) > VICI_EVENT)
		reason = "unknown operation type";
	else if (vici_op_named(p->type) && rd_name(&r, &name, &nlen) < 0)
		reason = "bad or truncated operation name";
	if (reason) {
		if (why)
			*why = reason;
		return -1;
	}
	if (nlen)
		memcpy(p->name, name, nlen);
	p->name[nlen] = '\0';
	p->body = buf + r.pos;
	p->body_len = len - r.pos;
	return 0;
}

int vici_packet_split(const uint8_t *buf, size_t len, struct vici_packet *p,
		      size_t *used, const char **why)
{
	size_t plen;
	if (len < VICI_HDR_LEN)
		return 0;
	if (vici_frame_len(buf, &plen, why) < 0)
		return -1;
	if (len - VICI_HDR_LEN < plen)
		return 0;
	if (vici_packet_parse(buf + VICI_HDR_LEN, plen, p, why) < 0)
		return -1;
	*used = VICI_HDR_LEN + plen;
	return 1;
}

int vici_packet_build(uint8_t type, const char *name, const struct vici_msg *m,
		      uint8_t **out, size_t *len, const char **why)
{
	uint8_t *body = NULL;
	size_t blen = 0, nlen = 0;
	int named = vici_op_named(type);

	if (type > VICI_EVENT || (named && !name_ok(name, &nlen))) {
		if (why)
			*why = "bad operation type or name";
		return -1;
	}
	if (m && vici_msg_encode(m, &body, &blen, why) < 0)
		return -1;
	size_t plen = 1 + (named ? 1 + nlen : 0) + blen;
	if (plen > VICI_MSG_MAX) {
		free(body);
		if (why)
			*why = "packet larger than 512 KiB";
		return -1;
	}
	uint8_t *buf = xmalloc(VICI_HDR_LEN + plen), *q = buf;
	*q++ = (uint8_t)(plen >> 24);
	*q++ = (uint8_t)(plen >> 16);
	*q++ = (uint8_t)(plen >> 8);
	*q++ = (uint8_t)plen;
	*q++ = type;
	if (named) {
		*q++ = (uint8_t)nlen;
		memcpy(q, name, nlen);
		q += nlen;
	}
	if (blen)
		memcpy(q, body, blen);
	free(body);
	*out = buf;
	*len = VICI_HDR_LEN + plen;
	return 0;
}

/* ---------------------------------------------------------------- */
/* parsed list-sas and list-conns */

static void copy_str(char *dst, size_t size, const struct vici_msg *m, int node, const char *key)
{
	const char *s = vici_str(m, vici_child(m, node, key));
	str_copy(dst, s ? s : "", size);
}

static void get_i64_has(const struct vici_msg *m, int node, const char *key,
			int64_t *out, unsigned *has, unsigned bit)
{
	if (vici_i64(m, vici_child(m, node, key), out) == 0)
		*has |= bit;
}

static void parse_child_sa(const struct vici_msg *m, int node, struct vici_child_sa *c)
{
	uint64_t v;
	memset(c, 0, sizeof(*c));
	str_copy(c->key, vici_name(m, node), sizeof(c->key));
	copy_str(c->name, sizeof(c->name), m, node, "name");
	copy_str(c->state, sizeof(c->state), m, node, "state");
	if (vici_u64(m, vici_child(m, node, "uniqueid"), &v) == 0 && v <= UINT32_MAX) {
		c->uniqueid = (uint32_t)v;
		c->has |= VICI_HAS_UNIQUEID;
	}
	if (vici_hex32(m, vici_child(m, node, "spi-in"), &c->spi_in) == 0 &&
	    vici_hex32(m, vici_child(m, node, "spi-out"), &c->spi_out) == 0)
		c->has |= VICI_HAS_SPI;
	if (vici_u64(m, vici_child(m, node, "bytes-in"), &c->bytes_in) == 0 &&
	    vici_u64(m, vici_child(m, node, "bytes-out"), &c->bytes_out) == 0 &&
	    vici_u64(m, vici_child(m, node, "packets-in"), &c->packets_in) == 0 &&
	    vici_u64(m, vici_child(m, node, "packets-out"), &c->packets_out) == 0)
		c->has |= VICI_HAS_BYTES;
	get_i64_has(m, node, "rekey-time", &c->rekey_time, &c->has, VICI_HAS_REKEY);
	get_i64_has(m, node, "life-time", &c->life_time, &c->has, VICI_HAS_LIFE);
	get_i64_has(m, node, "install-time", &c->install_time, &c->has, VICI_HAS_INSTALL);
}

static int parse_ike_sa(const struct vici_msg *m, int node, struct vici_ike_sa *s)
{
	uint64_t v;
	memset(s, 0, sizeof(*s));
	str_copy(s->name, vici_name(m, node), sizeof(s->name));
	copy_str(s->state, sizeof(s->state), m, node, "state");
	copy_str(s->local_host, sizeof(s->local_host), m, node, "local-host");
	copy_str(s->remote_host, sizeof(s->remote_host), m, node, "remote-host");
	if (vici_u64(m, vici_child(m, node, "uniqueid"), &v) == 0 && v <= UINT32_MAX) {
		s->uniqueid = (uint32_t)v;
		s->has |= VICI_HAS_UNIQUEID;
	}
	get_i64_has(m, node, "established", &s->established, &s->has, VICI_HAS_ESTABLISHED);
	get_i64_has(m, node, "rekey-time", &s->rekey_time, &s->has, VICI_HAS_REKEY);
	get_i64_has(m, node, "reauth-time", &s->reauth_time, &s->has, VICI_HAS_REAUTH);

	int cs = vici_child(m, node, "child-sas");
	if (cs < 0)
		return 0;
	if (vici_kind(m, cs) != VICI_NODE_SECTION)
		return -1;
	for (int c = vici_first(m, cs); c >= 0; c = vici_next(m, c))
		if (vici_kind(m, c) != VICI_NODE_SECTION)
			return -1;
		else
			s->nchild++;
	s->child = s->nchild ? xcalloc(s->nchild, sizeof(*s->child)) : NULL;
	size_t i = 0;
	for (int c = vici_first(m, cs); c >= 0; c = vici_next(m, c))
		parse_child_sa(m, c, &s->child[i++]);
	return 0;
}

int vici_sa_list_add(struct vici_sa_list *l, const struct vici_msg *m, const char **why)
{
	for (int n = vici_first(m, 0); n >= 0; n = vici_next(m, n)) {
		if (vici_kind(m, n) != VICI_NODE_SECTION)
			continue; /* "up = yes" in updown events */
		struct vici_ike_sa s;
		if (parse_ike_sa(m, n, &s) < 0) {
			free(s.child);
			if (why)
				*why = "child-sas is not a section of sections";
			return -1;
		}
		l->ike = xrealloc(l->ike, (l->n + 1) * sizeof(*l->ike));
		l->ike[l->n++] = s;
	}
	return 0;
}

void vici_sa_list_clear(struct vici_sa_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ike[i].child);
	free(l->ike);
	l->ike = NULL;
	l->n = 0;
}

const struct vici_ike_sa *vici_sa_list_find(const struct vici_sa_list *l, const char *ike)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->ike[i].name, ike) == 0)
			return &l->ike[i];
	return NULL;
}

const struct vici_child_sa *vici_ike_sa_child(const struct vici_ike_sa *s, const char *child)
{
	for (size_t i = 0; i < s->nchild; i++)
		if (strcmp(s->child[i].name, child) == 0)
			return &s->child[i];
	return NULL;
}

/* Joins a list's items with commas, truncating at size. */
static void join_list(char *dst, size_t size, const struct vici_msg *m, int list)
{
	size_t used = 0;
	dst[0] = '\0';
	if (vici_kind(m, list) != VICI_NODE_LIST)
		return;
	for (int i = vici_first(m, list); i >= 0 && used + 1 < size; i = vici_next(m, i)) {
		const char *s = vici_str(m, i);
		if (!s)
			continue;
		int n = snprintf(dst + used, size - used, "%s%s", used ? "," : "", s);
		if (n < 0)
			break;
		used += (size_t)n < size - used ? (size_t)n : size - used - 1;
	}
}

static void parse_conn(const struct vici_msg *m, int node, struct vici_conn_info *c)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->name, vici_name(m, node), sizeof(c->name));
	join_list(c->local_addrs, sizeof(c->local_addrs), m, vici_child(m, node, "local_addrs"));
	join_list(c->remote_addrs, sizeof(c->remote_addrs), m, vici_child(m, node, "remote_addrs"));
	int ch = vici_child(m, node, "children");
	if (vici_kind(m, ch) != VICI_NODE_SECTION)
		return;
	for (int i = vici_first(m, ch); i >= 0; i = vici_next(m, i))
		if (vici_kind(m, i) == VICI_NODE_SECTION)
			c->nchild++;
	c->child = c->nchild ? xcalloc(c->nchild, sizeof(*c->child)) : NULL;
	size_t k = 0;
	for (int i = vici_first(m, ch); i >= 0; i = vici_next(m, i))
		if (vici_kind(m, i) == VICI_NODE_SECTION)
			str_copy(c->child[k++], vici_name(m, i), sizeof(c->child[0]));
}

int vici_conn_list_add(struct vici_conn_list *l, const struct vici_msg *m, const char **why GVPN_UNUSED)
{
	for (int n = vici_first(m, 0); n >= 0; n = vici_next(m, n)) {
		if (vici_kind(m, n) != VICI_NODE_SECTION)
			continue;
		l->conn = xrealloc(l->conn, (l->n + 1) * sizeof(*l->conn));
		parse_conn(m, n, &l->conn[l->n++]);
	}
	return 0;
}

void vici_conn_list_clear(struct vici_conn_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->conn[i].child);
	free(l->conn);
	l->conn = NULL;
	l->n = 0;
}

/* ---------------------------------------------------------------- */
/* the client
 *
 * One request is on the wire at a time: the next is sent only after the
 * previous one is answered. That keeps the reply-to-request mapping, and
 * the attribution of streamed events, unambiguous. All socket I/O happens
 * in on_fd(); vici_request() only queues and asks for EPOLLOUT, so user
 * callbacks never run from inside a user call. */

enum { REQ_CMD, REQ_REGISTER };
enum { ST_DOWN, ST_CONNECTING, ST_UP };

struct vici_req {
	struct vici_req *next;
	struct vici_conn *conn;
	int kind;
	int internal;                        /* made by the client (registrations) */
	char name[VICI_NAME_MAX + 1];
	char stream[VICI_NAME_MAX + 1];      /* streamed event name, "" if none */
	uint8_t *pkt;
	size_t pkt_len;
	unsigned timeout_ms;
	vici_reply_fn cb;
	void *arg;
	struct loop_timer timer;
	struct vici_msg **ev;
	size_t nev, ev_bytes;
	int overflow;
};

struct vici_reg {
	char name[VICI_NAME_MAX + 1];
	vici_event_fn cb;
	void *arg;
};

struct vici_conn {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd, state;
	struct loop_fd *h;
	uint32_t mask;
	vici_state_fn on_state;
	void *state_arg;
	struct vici_req *head, *tail;
	size_t nreq;
	int sending;        /* head's packet is (being) written */
	size_t out_done;
	uint8_t hdr[VICI_HDR_LEN];
	size_t hdr_got, in_len, in_got;
	uint8_t *in;
	struct loop_timer retry;
	unsigned backoff_ms, timeout_ms;
	struct vici_reg *regs;
	size_t nregs;
	char (*streams)[VICI_NAME_MAX + 1];  /* stream events registered now */
	size_t nstreams;
	int busy, dead;
	int connect_err;    /* errno of the last failed connect; 0: none since the last success */
};

static void conn_start(struct vici_conn *c);
static void update_events(struct vici_conn *c);

const char *vici_strerror(int status)
{
	switch (status) {
	case VICI_OK: return "ok";
	case VICI_E_UNKNOWN: return "unknown command or event";
	case VICI_E_CLOSED: return "connection to charon lost";
	case VICI_E_TIMEOUT: return "timed out";
	case VICI_E_PROTO: return "protocol error";
	case VICI_E_TOOBIG: return "reply too large";
	case VICI_E_CANCELLED: return "cancelled";
	case VICI_E_FAILED: return "command failed";
	default: return "unknown error";
	}
}

static void req_free(struct vici_req *r)
{
	loop_timer_cancel(&r->timer);
	for (size_t i = 0; i < r->nev; i++)
		vici_msg_free(r->ev[i]);
	free(r->ev);
	free(r->pkt);
	free(r);
}

/* Runs the callback once and frees the request (already unlinked). */
static void req_complete(struct vici_req *r, int status, const struct vici_msg *reply)
{
	if (r->kind == REQ_REGISTER && status != VICI_OK &&
	    status != VICI_E_CLOSED && status != VICI_E_CANCELLED)
		log_warn("vici", "registration for event %s failed: %s",
			 r->name, vici_strerror(status));
	if (r->cb) {
		struct vici_result res = {
			.status = status == VICI_OK && r->overflow ? VICI_E_TOOBIG : status,
			.reply = status == VICI_OK ? reply : NULL,
			.events = r->ev,
			.nevents = r->nev,
		};
		r->cb(&res, r->arg);
	}
	req_free(r);
}

static struct vici_req *pop_head(struct vici_conn *c)
{
	struct vici_req *r = c->head;
	c->head = r->next;
	if (!c->head)
		c->tail = NULL;
	c->nreq--;
	c->sending = 0;
	c->out_done = 0;
	r->next = NULL;
	loop_timer_cancel(&r->timer);
	return r;
}

static void unlink_req(struct vici_conn *c, struct vici_req *r)
{
	struct vici_req **pp = &c->head, *prev = NULL;
	while (*pp && *pp != r) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = r->next;
	if (c->tail == r)
		c->tail = prev;
	c->nreq--;
	r->next = NULL;
}

static void maybe_free(struct vici_conn *c)
{
	if (!c->dead || c->busy)
		return;
	free(c->regs);
	free(c->streams);
	free(c);
}

/* ---- connection state ---- */

static void close_fd(struct vici_conn *c)
{
	if (c->h)
		loop_fd_del(c->h);
	c->h = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->mask = 0;
	free(c->in);
	c->in = NULL;
	c->hdr_got = c->in_len = c->in_got = 0;
	c->nstreams = 0;
}

/* Drops the client's own registrations: they are redone on connect. */
static void drop_internal(struct vici_conn *c)
{
	struct vici_req *r = c->head, *next;
	for (; r; r = next) {
		next = r->next;
		if (r->internal && !(r == c->head && c->sending)) {
			unlink_req(c, r);
			req_free(r);
		}
	}
}

static void schedule_retry(struct vici_conn *c)
{
	loop_timer_arm_ms(&c->retry, c->backoff_ms);
	c->backoff_ms = c->backoff_ms * 2 > VICI_BACKOFF_MAX_MS ?
		VICI_BACKOFF_MAX_MS : c->backoff_ms * 2;
}

/* Connection lost: fail the request in flight, keep the unsent ones. */
static void conn_drop(struct vici_conn *c, const char *why)
{
	int was_up = c->state == ST_UP;
	struct vici_req *r = c->sending && c->head ? pop_head(c) : NULL;

	if (was_up)
		log_warn("vici", "connection to charon at %s lost: %s", c->path, why);
	close_fd(c);
	c->state = ST_DOWN;
	c->sending = 0;
	c->out_done = 0;
	drop_internal(c);
	schedule_retry(c);
	if (r)
		req_complete(r, VICI_E_CLOSED, NULL);
	if (was_up && !c->dead && c->on_state)
		c->on_state(0, c->state_arg);
}

static struct vici_req *req_new(struct vici_conn *c, int kind, const char *name)
{
	struct vici_req *r = xcalloc(1, sizeof(*r));
	r->conn = c;
	r->kind = kind;
	str_copy(r->name, name, sizeof(r->name));
	return r;
}

static void on_req_timeout(struct loop_timer *t, void *arg);

static struct vici_req *reg_req(struct vici_conn *c, const char *event)
{
	struct vici_req *r = req_new(c, REQ_REGISTER, event);
	r->internal = 1;
	r->timeout_ms = c->timeout_ms;
	loop_timer_init(&r->timer, on_req_timeout, r);
	if (vici_packet_build(VICI_EVENT_REGISTER, event, NULL, &r->pkt, &r->pkt_len, NULL) < 0) {
		req_free(r);
		return NULL;
	}
	return r;
}

static void push_front(struct vici_conn *c, struct vici_req *r)
{
	r->next = c->head;
	c->head = r;
	if (!c->tail)
		c->tail = r;
	c->nreq++;
}

static void push_back(struct vici_conn *c, struct vici_req *r)
{
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->nreq++;
}

static int reg_is_first(const struct vici_conn *c, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(c->regs[k].name, c->regs[i].name) == 0)
			return 0;
	return 1;
}

/* Re-registers every subscribed event ahead of the unsent requests. */
static void queue_registrations(struct vici_conn *c)
{
	for (size_t i = c->nregs; i-- > 0;) {
		if (!reg_is_first(c, i))
			continue;
		struct vici_req *r = reg_req(c, c->regs[i].name);
		if (r)
			push_front(c, r);
	}
}

static void conn_up(struct vici_conn *c)
{
	c->state = ST_UP;
	c->backoff_ms = VICI_BACKOFF_MIN_MS;
	c->connect_err = 0;
	log_info("vici", "connected to charon at %s", c->path);
	queue_registrations(c);
	update_events(c);
	if (c->on_state)
		c->on_state(1, c->state_arg);
}

static void on_retry(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct vici_conn *c = arg;
	c->busy++;
	conn_start(c);
	c->busy--;
	maybe_free(c);
}

/* ---- I/O ---- */

static int stream_registered(struct vici_conn *c, const char *ev)
{
	for (size_t i = 0; i < c->nstreams; i++)
		if (strcmp(c->streams[i], ev) == 0)
			return 1;
	return 0;
}

/* Before a streamed command goes out, make sure its event is registered
 * on this connection (charon streams only to registered clients). */
static void prepare_head(struct vici_conn *c)
{
	struct vici_req *r = c->head;
	if (r->kind == REQ_CMD && r->stream[0] && !stream_registered(c, r->stream)) {
		c->streams = xrealloc(c->streams, (c->nstreams + 1) * sizeof(*c->streams));
		str_copy(c->streams[c->nstreams++], r->stream, sizeof(c->streams[0]));
		struct vici_req *reg = reg_req(c, r->stream);
		if (reg)
			push_front(c, reg);
	}
	if (c->head->internal)
		loop_timer_arm_ms(&c->head->timer, c->head->timeout_ms);
	c->sending = 1;
}

/* Writes the head request; -1 on a socket error. */
static int pump(struct vici_conn *c)
{
	while (c->head && (!c->sending || c->out_done < c->head->pkt_len)) {
		if (!c->sending)
			prepare_head(c);
		struct vici_req *r = c->head;
		ssize_t n = send(c->fd, r->pkt + c->out_done, r->pkt_len - c->out_done,
				 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n < 0)
			return -1;
		c->out_done += (size_t)n;
		if (c->out_done == r->pkt_len)
			return 0; /* now wait for the answer */
	}
	return 0;
}

static void update_events(struct vici_conn *c)
{
	if (c->state != ST_UP || !c->h)
		return;
	uint32_t want = EPOLLIN;
	if (c->head && (!c->sending || c->out_done < c->head->pkt_len))
		want |= EPOLLOUT;
	if (want != c->mask && loop_fd_modify(c->h, want) == 0)
		c->mask = want;
}

static int in_flight(const struct vici_conn *c, int kind)
{
	return c->head && c->sending && c->out_done == c->head->pkt_len &&
	       c->head->kind == kind;
}

static void collect_event(struct vici_req *r, struct vici_msg *m, size_t wire)
{
	if (r->overflow || r->nev >= VICI_STREAM_MAX_EVENTS ||
	    r->ev_bytes + wire > VICI_STREAM_MAX_BYTES) {
		r->overflow = 1;
		vici_msg_free(m);
		return;
	}
	r->ev = xrealloc(r->ev, (r->nev + 1) * sizeof(*r->ev));
	r->ev[r->nev++] = m;
	r->ev_bytes += wire;
}

static void dispatch_event(struct vici_conn *c, const char *name, const struct vici_msg *m)
{
	int found = 0;
	/* By index: a callback may register more (realloc) or close. */
	for (size_t i = 0; i < c->nregs && !c->dead; i++) {
		if (strcmp(c->regs[i].name, name) != 0)
			continue;
		found = 1;
		c->regs[i].cb(name, m, c->regs[i].arg);
	}
	if (!found)
		log_debug("vici", "event %s without subscriber ignored", name);
}

static int on_event(struct vici_conn *c, const struct vici_packet *p, const char **why)
{
	struct vici_msg *m;
	if (vici_msg_parse(p->body, p->body_len, &m, why) < 0)
		return -1;
	if (in_flight(c, REQ_CMD) && c->head->stream[0] &&
	    strcmp(c->head->stream, p->name) == 0) {
		collect_event(c->head, m, p->body_len);
		return 0;
	}
	dispatch_event(c, p->name, m);
	vici_msg_free(m);
	return 0;
}

static int on_response(struct vici_conn *c, const struct vici_packet *p, const char **why)
{
	struct vici_msg *m = NULL;
	if (!in_flight(c, REQ_CMD)) {
		*why = "response without a request";
		return -1;
	}
	if (p->type == VICI_CMD_RESPONSE &&
	    vici_msg_parse(p->body, p->body_len, &m, why) < 0)
		return -1;
	struct vici_req *r = pop_head(c);
	req_complete(r, m ? VICI_OK : VICI_E_UNKNOWN, m);
	vici_msg_free(m);
	return 0;
}

static int on_confirm(struct vici_conn *c, const struct vici_packet *p, const char **why)
{
	if (!in_flight(c, REQ_REGISTER)) {
		*why = "event confirmation without a registration";
		return -1;
	}
	struct vici_req *r = pop_head(c);
	req_complete(r, p->type == VICI_EVENT_CONFIRM ? VICI_OK : VICI_E_UNKNOWN, NULL);
	return 0;
}

static int on_packet(struct vici_conn *c, const uint8_t *buf, size_t len)
{
	struct vici_packet p;
	const char *why = NULL;
	int rc = vici_packet_parse(buf, len, &p, &why);

	if (rc == 0) {
		switch (p.type) {
		case VICI_EVENT:
			rc = on_event(c, &p, &why);
			break;
		case VICI_CMD_RESPONSE:
		case VICI_CMD_UNKNOWN:
			rc = on_response(c, &p, &why);
			break;
		case VICI_EVENT_CONFIRM:
		case VICI_EVENT_UNKNOWN:
			rc = on_confirm(c, &p, &why);
			break;
		default:
			why = "unexpected operation from charon";
			rc = -1;
		}
	}
	if (rc < 0)
		log_err("vici", "bad %s packet from charon at %s: %s",
			vici_op_name(len ? buf[0] : 0xff), c->path, why);
	return rc;
}

/* Reads into hdr then the body; 1 when a packet is complete, 0 on
 * EAGAIN, -1 on EOF or error (with *why). */
static int read_some(struct vici_conn *c, const char **why)
{
	ssize_t n;
	if (c->hdr_got < VICI_HDR_LEN) {
		n = recv(c->fd, c->hdr + c->hdr_got, VICI_HDR_LEN - c->hdr_got, 0);
		if (n <= 0)
			goto io;
		c->hdr_got += (size_t)n;
		if (c->hdr_got < VICI_HDR_LEN)
			return 0;
		if (vici_frame_len(c->hdr, &c->in_len, why) < 0)
			return -1;
		c->in = xmalloc(c->in_len);
		c->in_got = 0;
	}
	n = recv(c->fd, c->in + c->in_got, c->in_len - c->in_got, 0);
	if (n <= 0)
		goto io;
	c->in_got += (size_t)n;
	return c->in_got == c->in_len;
io:
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	*why = n == 0 ? "closed by charon" : strerror(errno);
	return -1;
}

#define VICI_PACKETS_PER_WAKEUP 64

static int read_packets(struct vici_conn *c, const char **why)
{
	for (int i = 0; i < VICI_PACKETS_PER_WAKEUP; i++) {
		int rc = read_some(c, why);
		if (rc <= 0)
			return rc;
		uint8_t *buf = c->in;  /* ours now: a callback may close c */
		size_t len = c->in_len;
		c->in = NULL;
		c->hdr_got = c->in_len = c->in_got = 0;
		rc = on_packet(c, buf, len);
		free(buf);
		if (rc < 0) {
			*why = "protocol error";
			return -1;
		}
		if (c->dead || c->state != ST_UP)
			return 0;
	}
	return 0;
}

/* A failed connect: a warning the first time and whenever the reason
 * changes (retries every few seconds would flood the log otherwise),
 * with what to check; the same reason again is a debug line. */
static void connect_failed(struct vici_conn *c, int err)
{
	if (err == c->connect_err) {
		log_debug("vici", "connect to %s: %s", c->path, strerror(err));
		return;
	}
	c->connect_err = err;
	const char *hint = err == ENOENT || err == ECONNREFUSED ?
		"; is charon running with its vici plugin, and is vici_socket its socket?" :
		err == EACCES || err == EPERM ?
		"; the agent's user needs write access to it (charon's socket is root-only by default: "
		"see \"Deploying\" in the README)" : "";
	log_warn("vici", "cannot connect to charon at %s: %s%s (retrying)", c->path, strerror(err), hint);
}

static void on_connected(struct vici_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		connect_failed(c, err);
		close_fd(c);
		c->state = ST_DOWN;
		schedule_retry(c);
		return;
	}
	conn_up(c);
}

static void on_fd(int fd GVPN_UNUSED, uint32_t revents, void *arg)
{
	struct vici_conn *c = arg;
	const char *why = NULL;

	c->busy++;
	if (c->state == ST_CONNECTING) {
		on_connected(c);
		goto done;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (read_packets(c, &why) < 0) {
			conn_drop(c, why);
			goto done;
		}
	}
	if (!c->dead && c->state == ST_UP && pump(c) < 0) {
		conn_drop(c, strerror(errno));
		goto done;
	}
	if (!c->dead)
		update_events(c);
done:
	c->busy--;
	maybe_free(c);
}

static void conn_start(struct vici_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	str_copy(sa.sun_path, c->path, sizeof(sa.sun_path));

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		log_err("vici", "socket: %s", strerror(errno));
		schedule_retry(c);
		return;
	}
	int rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno != EINPROGRESS) {
		connect_failed(c, errno);
		close_fd(c);
		schedule_retry(c);
		return;
	}
	c->state = rc == 0 ? ST_UP : ST_CONNECTING;
	c->mask = rc == 0 ? EPOLLIN : EPOLLOUT;
	c->h = loop_fd_add(c->fd, c->mask, on_fd, c);
	if (!c->h) {
		close_fd(c);
		c->state = ST_DOWN;
		schedule_retry(c);
		return;
	}
	if (rc == 0)
		conn_up(c);
}

static int uri_path(const char *uri, char *path, size_t size)
{
	if (!uri)
		return -1;
	if (strncmp(uri, "unix://", 7) == 0)
		uri += 7;
	if (uri[0] != '/' || strlen(uri) >= size)
		return -1;
	str_copy(path, uri, size);
	return 0;
}

struct vici_conn *vici_connect(const char *uri, vici_state_fn on_state, void *arg)
{
	struct vici_conn *c = xcalloc(1, sizeof(*c));
	if (uri_path(uri, c->path, sizeof(c->path)) < 0) {
		log_err("vici", "bad VICI socket URI %s (want unix:///path)", uri ? uri : "(null)");
		free(c);
		return NULL;
	}
	c->fd = -1;
	c->on_state = on_state;
	c->state_arg = arg;
	c->timeout_ms = VICI_TIMEOUT_MS;
	c->backoff_ms = VICI_BACKOFF_MIN_MS;
	loop_timer_init(&c->retry, on_retry, c);
	loop_timer_arm_ms(&c->retry, 0); /* connect from the loop, not from here */
	return c;
}

void vici_close(struct vici_conn *c)
{
	if (!c || c->dead)
		return;
	c->dead = 1;
	c->busy++;
	loop_timer_cancel(&c->retry);
	close_fd(c);
	c->state = ST_DOWN;
	while (c->head)
		req_complete(pop_head(c), VICI_E_CANCELLED, NULL);
	c->busy--;
	maybe_free(c);
}

int vici_connected(const struct vici_conn *c)
{
	return c && c->state == ST_UP;
}

void vici_set_timeout(struct vici_conn *c, unsigned ms)
{
	c->timeout_ms = ms ? ms : VICI_TIMEOUT_MS;
}

static void on_req_timeout(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct vici_req *r = arg;
	struct vici_conn *c = r->conn;
	int was_sent = r == c->head && c->sending;

	c->busy++;
	if (c->state == ST_UP)
		log_warn("vici", "%s %s timed out after %u ms", r->kind == REQ_CMD ? "command" : "registration",
			 r->name, r->timeout_ms);
	else
		log_warn("vici", "%s %s timed out after %u ms: not connected to charon at %s%s%s",
			 r->kind == REQ_CMD ? "command" : "registration", r->name, r->timeout_ms, c->path,
			 c->connect_err ? ": " : "", c->connect_err ? strerror(c->connect_err) : "");
	if (was_sent)
		pop_head(c);
	else
		unlink_req(c, r);
	req_complete(r, VICI_E_TIMEOUT, NULL);
	/* Its answer may still come: only a new connection resynchronises. */
	if (was_sent && !c->dead && c->state == ST_UP) {
		c->backoff_ms = VICI_BACKOFF_MIN_MS;
		conn_drop(c, "request timed out");
	}
	c->busy--;
	maybe_free(c);
}

static const char *stream_for(const char *cmd)
{
	static const char *const map[][2] = {
		{ "list-sas", "list-sa" },
		{ "list-conns", "list-conn" },
		{ "list-policies", "list-policy" },
		{ "list-certs", "list-cert" },
		{ "list-authorities", "list-authority" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(cmd, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

int vici_request_ex(struct vici_conn *c, const char *cmd, const char *stream_event,
		    const struct vici_msg *msg, unsigned timeout_ms,
		    vici_reply_fn cb, void *arg)
{
	const char *why = NULL;
	size_t len;
	if (!c || c->dead || c->nreq >= VICI_QUEUE_MAX || !cb)
		return -1;
	if (stream_event && !name_ok(stream_event, &len))
		return -1;
	struct vici_req *r = req_new(c, REQ_CMD, cmd ? cmd : "");
	struct vici_msg *empty = msg ? NULL : vici_msg_new();
	int rc = vici_packet_build(VICI_CMD_REQUEST, cmd, msg ? msg : empty,
				   &r->pkt, &r->pkt_len, &why);
	vici_msg_free(empty);
	if (rc < 0) {
		log_err("vici", "command %s not sent: %s", cmd ? cmd : "(null)", why);
		req_free(r);
		return -1;
	}
	if (stream_event)
		str_copy(r->stream, stream_event, sizeof(r->stream));
	r->cb = cb;
	r->arg = arg;
	r->timeout_ms = timeout_ms ? timeout_ms : c->timeout_ms;
	loop_timer_init(&r->timer, on_req_timeout, r);
	loop_timer_arm_ms(&r->timer, r->timeout_ms);
	push_back(c, r);
	update_events(c);
	return 0;
}

int vici_request(struct vici_conn *c, const char *cmd, const struct vici_msg *msg,
		 vici_reply_fn cb, void *arg)
{
	return vici_request_ex(c, cmd, cmd ? stream_for(cmd) : NULL, msg, 0, cb, arg);
}

int vici_register(struct vici_conn *c, const char *event, vici_event_fn cb, void *arg)
{
	size_t len;
	if (!c || c->dead || !cb || !name_ok(event, &len))
		return -1;
	c->regs = xrealloc(c->regs, (c->nregs + 1) * sizeof(*c->regs));
	struct vici_reg *g = &c->regs[c->nregs++];
	str_copy(g->name, event, sizeof(g->name));
	g->cb = cb;
	g->arg = arg;
	if (c->state == ST_UP && reg_is_first(c, c->nregs - 1)) {
		struct vici_req *r = reg_req(c, event);
		if (r)
			push_back(c, r);
		update_events(c);
	}
	return 0;
}

/* ---- convenience wrappers ---- */

struct wrap {
	void (*fn)(void);
	void *arg;
};

static struct wrap *wrap_new(void (*fn)(void), void *arg)
{
	struct wrap *w = xmalloc(sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	return w;
}

static void on_ctl_reply(const struct vici_result *r, void *arg)
{
	struct wrap *w = arg;
	vici_ctl_fn cb = (vici_ctl_fn)w->fn;
	const char *err = NULL;
	int status = r->status;

	if (status == VICI_OK) {
		const char *ok = vici_get_str(r->reply, 0, "success");
		if (!ok || strcmp(ok, "yes") != 0) {
			status = VICI_E_FAILED;
			err = vici_get_str(r->reply, 0, "errmsg");
			if (!err)
				err = ok ? "command failed" : "reply without success";
		}
	}
	cb(status, err, w->arg);
	free(w);
}

static int ctl_send(struct vici_conn *c, const char *cmd, struct vici_msg *m,
		    unsigned timeout_ms, vici_ctl_fn cb, void *arg)
{
	struct wrap *w = wrap_new((void (*)(void))cb, arg);
	int rc = cb ? vici_request_ex(c, cmd, NULL, m, timeout_ms, on_ctl_reply, w) : -1;
	if (rc < 0)
		free(w);
	vici_msg_free(m);
	return rc;
}

/* Our own wait must outlast charon's. */
static unsigned outer_timeout(const struct vici_conn *c, unsigned charon_ms)
{
	return charon_ms ? charon_ms + c->timeout_ms : 0;
}

int vici_initiate(struct vici_conn *c, const char *child, const char *ike,
		  unsigned timeout_ms, vici_ctl_fn cb, void *arg)
{
	if (!c || !child)
		return -1;
	struct vici_msg *m = vici_msg_new();
	vici_kv_str(m, "child", child);
	if (ike)
		vici_kv_str(m, "ike", ike);
	vici_kvf(m, "timeout", "%u", timeout_ms);
	return ctl_send(c, "initiate", m, outer_timeout(c, timeout_ms), cb, arg);
}

int vici_terminate_child(struct vici_conn *c, const char *child, uint32_t child_id,
			 unsigned timeout_ms, vici_ctl_fn cb, void *arg)
{
	if (!c || (!child && !child_id))
		return -1;
	struct vici_msg *m = vici_msg_new();
	if (child_id)
		vici_kvf(m, "child-id", "%u", child_id);
	else
		vici_kv_str(m, "child", child);
	vici_kvf(m, "timeout", "%u", timeout_ms);
	return ctl_send(c, "terminate", m, outer_timeout(c, timeout_ms), cb, arg);
}

int vici_rekey_child(struct vici_conn *c, const char *child, uint32_t child_id,
		     vici_ctl_fn cb, void *arg)
{
	if (!c || (!child && !child_id))
		return -1;
	struct vici_msg *m = vici_msg_new();
	if (child_id)
		vici_kvf(m, "child-id", "%u", child_id);
	else
		vici_kv_str(m, "child", child);
	return ctl_send(c, "rekey", m, 0, cb, arg);
}

int vici_rekey_ike(struct vici_conn *c, const char *ike, uint32_t ike_id, int reauth,
		   vici_ctl_fn cb, void *arg)
{
	if (!c || (!ike && !ike_id))
		return -1;
	struct vici_msg *m = vici_msg_new();
	if (ike_id)
		vici_kvf(m, "ike-id", "%u", ike_id);
	else
		vici_kv_str(m, "ike", ike);
	if (reauth)
		vici_kv_str(m, "reauth", "yes");
	return ctl_send(c, "rekey", m, 0, cb, arg);
}

static void on_sas_reply(const struct vici_result *r, void *arg)
{
	struct wrap *w = arg;
	vici_sas_fn cb = (vici_sas_fn)w->fn;
	struct vici_sa_list l = { 0 };
	int status = r->status;
	const char *why = NULL;

	for (size_t i = 0; status == VICI_OK && i < r->nevents; i++)
		if (vici_sa_list_add(&l, r->events[i], &why) < 0) {
			log_err("vici", "bad list-sa event: %s", why);
			status = VICI_E_PROTO;
		}
	cb(status, status == VICI_OK ? &l : NULL, w->arg);
	vici_sa_list_clear(&l);
	free(w);
}

int vici_list_sas(struct vici_conn *c, const char *ike, vici_sas_fn cb, void *arg)
{
	if (!c || !cb)
		return -1;
	struct vici_msg *m = vici_msg_new();
	vici_kv_str(m, "noblock", "yes"); /* do not wait on busy IKE SAs */
	if (ike)
		vici_kv_str(m, "ike", ike);
	struct wrap *w = wrap_new((void (*)(void))cb, arg);
	int rc = vici_request(c, "list-sas", m, on_sas_reply, w);
	if (rc < 0)
		free(w);
	vici_msg_free(m);
	return rc;
}

static void on_conns_reply(const struct vici_result *r, void *arg)
{
	struct wrap *w = arg;
	vici_conns_fn cb = (vici_conns_fn)w->fn;
	struct vici_conn_list l = { 0 };

	for (size_t i = 0; r->status == VICI_OK && i < r->nevents; i++)
		vici_conn_list_add(&l, r->events[i], NULL);
	cb(r->status, r->status == VICI_OK ? &l : NULL, w->arg);
	vici_conn_list_clear(&l);
	free(w);
}

int vici_list_conns(struct vici_conn *c, vici_conns_fn cb, void *arg)
{
	if (!c || !cb)
		return -1;
	struct wrap *w = wrap_new((void (*)(void))cb, arg);
	int rc = vici_request(c, "list-conns", NULL, on_conns_reply, w);
	if (rc < 0)
		free(w);
	return rc;
}
