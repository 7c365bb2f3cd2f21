/* vici.c: strongSwan VICI client: message codec, packet framing, the
 * non-blocking connection on the event loop, and parsed list results.
 * Everything read from the socket is untrusted: lengths are checked
 * against what is left, nesting and node counts are bounded. */
#include "config.h"
#include "vici.h"
#include "log.h"
#include "loop.h"

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
	const char *name;
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
	memcpy(p->name, name, nlen);
	p->name[nlen] = '\0';
	p->body = buf + r.pos;
	p->body_len = len - r.pos;
	return 0;
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
