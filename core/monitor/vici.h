/* SPDX-License-Identifier: BSD-2-Clause */
/* vici.h: a client for strongSwan's VICI protocol over its unix socket,
 * written from the wire format alone (no strongSwan headers or libraries).
 *
 * Three layers:
 *  - the message codec: a tree of sections, key/values (binary values),
 *    lists of values; a builder, a parser for untrusted bytes, and
 *    accessors by handle or by path ("ike/child-sas/net-1/bytes-in");
 *  - packet framing: 4-byte big-endian length, operation type, name for
 *    the named operations, then the message;
 *  - a non-blocking client on the event loop: requests answered in order,
 *    streamed commands (list-sas, list-conns) collected for one callback,
 *    event registrations that survive reconnects, per-request timeouts,
 *    and reconnection with backoff when charon goes away.
 *
 * Nodes are addressed by int handles: 0 is the root section, -1 means
 * "none". Every accessor checks its handle, so a bad one is harmless.
 * Strings returned point into the message and live as long as it does
 * (or until it is built further). */
#ifndef GVPN_VICI_H
#define GVPN_VICI_H

#include <stddef.h>
#include <stdint.h>
#include "core/util.h"

/* Limits applied to everything read from charon. */
#define VICI_MSG_MAX (512 * 1024)     /* charon's VICI_MESSAGE_SIZE_MAX */
#define VICI_DEPTH_MAX 16             /* section nesting */
#define VICI_ELEMS_MAX 100000         /* nodes in one message */
#define VICI_NAME_MAX 255             /* 1-byte length */
#define VICI_VALUE_MAX 65535          /* 2-byte length */

/* Operation (packet) types. */
enum vici_op {
	VICI_CMD_REQUEST = 0,
	VICI_CMD_RESPONSE = 1,
	VICI_CMD_UNKNOWN = 2,
	VICI_EVENT_REGISTER = 3,
	VICI_EVENT_UNREGISTER = 4,
	VICI_EVENT_CONFIRM = 5,
	VICI_EVENT_UNKNOWN = 6,
	VICI_EVENT = 7,
};

/* Node kinds in the tree (not the wire element codes). */
enum vici_kind {
	VICI_NODE_SECTION = 1,
	VICI_NODE_KV,
	VICI_NODE_LIST,
	VICI_NODE_ITEM,
};

struct vici_msg;

/* ---- building ---- */

/* An empty message (just the root section). Never NULL. */
struct vici_msg *vici_msg_new(void);
void vici_msg_free(struct vici_msg *m);

/* Builder calls. A misuse (bad name, value too long, item outside a list,
 * end without begin, too deep, too many nodes) makes the message bad: later
 * calls are ignored and vici_msg_encode() fails with the first reason. */
void vici_section_begin(struct vici_msg *m, const char *name);
void vici_section_end(struct vici_msg *m);
void vici_kv(struct vici_msg *m, const char *name, const void *val, size_t len);
void vici_kv_str(struct vici_msg *m, const char *name, const char *val);
void vici_kvf(struct vici_msg *m, const char *name, const char *fmt, ...) GVPN_PRINTF(3, 4);
void vici_list_begin(struct vici_msg *m, const char *name);
void vici_list_item(struct vici_msg *m, const void *val, size_t len);
void vici_list_item_str(struct vici_msg *m, const char *val);
void vici_list_end(struct vici_msg *m);
/* NULL while the message is good, else why it is not. */
const char *vici_msg_error(const struct vici_msg *m);

/* Wire encoding of a complete, balanced message (malloc'd, caller frees).
 * Returns -1 with *why set when the message is bad, unbalanced, or larger
 * than VICI_MSG_MAX. */
int vici_msg_encode(const struct vici_msg *m, uint8_t **out, size_t *len, const char **why);

/* ---- parsing (untrusted input) ---- */

/* Parses one message body. 0 and *out (caller frees), or -1 with *why. */
int vici_msg_parse(const uint8_t *buf, size_t len, struct vici_msg **out, const char **why);

/* ---- reading ---- */

size_t vici_msg_count(const struct vici_msg *m); /* nodes, root included */
int vici_kind(const struct vici_msg *m, int node);   /* enum vici_kind or -1 */
const char *vici_name(const struct vici_msg *m, int node); /* "" for root, items */
/* Raw value of a key/value or list item (NUL-terminated for convenience,
 * but may hold NULs: use *len). NULL for other kinds. */
const uint8_t *vici_value(const struct vici_msg *m, int node, size_t *len);
/* Children of a section or list in order; -1 at the end. */
int vici_first(const struct vici_msg *m, int node);
int vici_next(const struct vici_msg *m, int node);
int vici_parent(const struct vici_msg *m, int node);
/* First child named name (one step). */
int vici_child(const struct vici_msg *m, int node, const char *name);
/* Path of '/'-separated names from node; -1 if any step is missing. */
int vici_find(const struct vici_msg *m, int node, const char *path);

/* Value conversions: the value as a C string (NULL if it is not a value or
 * holds a NUL), decimal unsigned/signed (0/-1, no sign or space tolerated
 * for unsigned, overflow rejected), hex u32 ("%.8x" SPIs). */
const char *vici_str(const struct vici_msg *m, int node);
int vici_u64(const struct vici_msg *m, int node, uint64_t *out);
int vici_i64(const struct vici_msg *m, int node, int64_t *out);
int vici_hex32(const struct vici_msg *m, int node, uint32_t *out);
/* The same, by path from node. */
const char *vici_get_str(const struct vici_msg *m, int node, const char *path);
int vici_get_u64(const struct vici_msg *m, int node, const char *path, uint64_t *out);
int vici_get_i64(const struct vici_msg *m, int node, const char *path, int64_t *out);

/* ---- framing ---- */

#define VICI_HDR_LEN 4

struct vici_packet {
	uint8_t type;                  /* enum vici_op */
	char name[VICI_NAME_MAX + 1];  /* "" for unnamed types */
	const uint8_t *body;           /* message bytes (points into input) */
	size_t body_len;
};

/* Length announced by a 4-byte header; -1 if 0 or above VICI_MSG_MAX. */
int vici_frame_len(const uint8_t hdr[VICI_HDR_LEN], size_t *len, const char **why);
/* Parses the bytes after the length header (exactly one packet). */
int vici_packet_parse(const uint8_t *buf, size_t len, struct vici_packet *p, const char **why);
/* One framed packet at the start of buf: 1 and *used when complete, 0
 * when more bytes are needed, -1 (with *why) when it is invalid. */
int vici_packet_split(const uint8_t *buf, size_t len, struct vici_packet *p,
		      size_t *used, const char **why);
/* Header, type, name (for named types), message (may be NULL). */
int vici_packet_build(uint8_t type, const char *name, const struct vici_msg *m,
		      uint8_t **out, size_t *len, const char **why);
int vici_op_named(uint8_t type);
const char *vici_op_name(uint8_t type);

/* ---- parsed list-sas / child-updown ---- */

/* Bits in .has for fields that were present and well-formed. */
enum {
	VICI_HAS_UNIQUEID = 1 << 0,
	VICI_HAS_SPI = 1 << 1,          /* spi-in and spi-out */
	VICI_HAS_BYTES = 1 << 2,        /* bytes-in/out, packets-in/out */
	VICI_HAS_REKEY = 1 << 3,
	VICI_HAS_LIFE = 1 << 4,
	VICI_HAS_INSTALL = 1 << 5,
	VICI_HAS_ESTABLISHED = 1 << 6,
	VICI_HAS_REAUTH = 1 << 7,
};

struct vici_child_sa {
	char name[VICI_NAME_MAX + 1];    /* config name ("name" key) */
	char key[VICI_NAME_MAX + 1];     /* section name, "name-uniqueid" */
	uint32_t uniqueid;
	char state[32];                  /* INSTALLED, REKEYING, ... */
	uint32_t spi_in, spi_out;
	uint64_t bytes_in, bytes_out, packets_in, packets_out;
	int64_t rekey_time, life_time;   /* seconds from now */
	int64_t install_time;            /* seconds ago */
	unsigned has;
};

struct vici_ike_sa {
	char name[VICI_NAME_MAX + 1];    /* section name = connection name */
	uint32_t uniqueid;
	char state[32];                  /* ESTABLISHED, CONNECTING, ... */
	char local_host[64], remote_host[64];
	int64_t established;             /* seconds ago */
	int64_t rekey_time, reauth_time; /* seconds from now */
	unsigned has;
	size_t nchild;
	struct vici_child_sa *child;
};

struct vici_sa_list {
	size_t n;
	struct vici_ike_sa *ike;
};

/* Appends every IKE SA section at the root of m (a list-sa event, or a
 * child-updown/ike-updown event) to l. Fields that are missing or
 * malformed are left 0 with their .has bit clear; -1 only when the shape
 * itself is wrong (an IKE SA that is not a section). */
int vici_sa_list_add(struct vici_sa_list *l, const struct vici_msg *m, const char **why);
void vici_sa_list_clear(struct vici_sa_list *l);
const struct vici_ike_sa *vici_sa_list_find(const struct vici_sa_list *l, const char *ike);
const struct vici_child_sa *vici_ike_sa_child(const struct vici_ike_sa *s, const char *child);

/* Parsed list-conns: connection names, addresses and child names. */
struct vici_conn_info {
	char name[VICI_NAME_MAX + 1];
	char local_addrs[128], remote_addrs[128]; /* comma-separated */
	size_t nchild;
	char (*child)[VICI_NAME_MAX + 1];
};

struct vici_conn_list {
	size_t n;
	struct vici_conn_info *conn;
};

int vici_conn_list_add(struct vici_conn_list *l, const struct vici_msg *m, const char **why);
void vici_conn_list_clear(struct vici_conn_list *l);

/* ---- the client ---- */

enum vici_status {
	VICI_OK = 0,
	VICI_E_UNKNOWN = -1,   /* charon does not know the command/event */
	VICI_E_CLOSED = -2,    /* connection lost with the request in flight */
	VICI_E_TIMEOUT = -3,
	VICI_E_PROTO = -4,     /* malformed or unexpected reply */
	VICI_E_TOOBIG = -5,    /* streamed reply over the collection bounds */
	VICI_E_CANCELLED = -6, /* vici_close() */
	VICI_E_FAILED = -7,    /* command answered success=no */
};
const char *vici_strerror(int status);

struct vici_conn;

struct vici_result {
	int status;                      /* enum vici_status */
	const struct vici_msg *reply;    /* CMD_RESPONSE, or NULL */
	struct vici_msg *const *events;  /* streamed events in order */
	size_t nevents;
};

/* The result and its messages are freed when the callback returns. */
typedef void (*vici_reply_fn)(const struct vici_result *r, void *arg);
typedef void (*vici_event_fn)(const char *name, const struct vici_msg *m, void *arg);
/* up: 1 on every (re)connection, 0 when it is lost. */
typedef void (*vici_state_fn)(int up, void *arg);

#define VICI_TIMEOUT_MS 10000
#define VICI_QUEUE_MAX 1024
#define VICI_STREAM_MAX_EVENTS 20000
#define VICI_STREAM_MAX_BYTES (32 * 1024 * 1024)
#define VICI_BACKOFF_MIN_MS 250
#define VICI_BACKOFF_MAX_MS 30000

/* uri: "unix:///path" or a plain absolute path. Connects on the next
 * loop round (never calls back from here) and keeps reconnecting with
 * backoff. NULL only for a bad URI (logged).
 * on_state may be NULL. Needs loop_init(). */
struct vici_conn *vici_connect(const char *uri, vici_state_fn on_state, void *arg);
/* Pending callbacks run with VICI_E_CANCELLED. Safe inside callbacks. */
void vici_close(struct vici_conn *c);
int vici_connected(const struct vici_conn *c);
/* Default per-request timeout (ms). */
void vici_set_timeout(struct vici_conn *c, unsigned ms);

/* Queues a command; msg may be NULL (empty) and stays the caller's. The
 * callback always runs exactly once, never from inside this call.
 * list-sas, list-conns, list-policies, list-certs and list-authorities
 * are streamed: their events arrive in r->events. Requests queued while
 * disconnected wait for the connection (or their timeout). -1 when the
 * queue is full, the name is bad or msg does not encode. */
int vici_request(struct vici_conn *c, const char *cmd, const struct vici_msg *msg,
		 vici_reply_fn cb, void *arg);
/* The same with an explicit timeout and stream event (NULL: none). */
int vici_request_ex(struct vici_conn *c, const char *cmd, const char *stream_event,
		    const struct vici_msg *msg, unsigned timeout_ms,
		    vici_reply_fn cb, void *arg);

/* Subscribes to an event ("child-updown", "ike-updown", ...); kept across
 * reconnects. Several callbacks may share an event. */
int vici_register(struct vici_conn *c, const char *event, vici_event_fn cb, void *arg);

/* Convenience wrappers. status is VICI_OK, VICI_E_FAILED with charon's
 * errmsg, or a transport error (errmsg NULL). */
typedef void (*vici_ctl_fn)(int status, const char *errmsg, void *arg);
typedef void (*vici_sas_fn)(int status, const struct vici_sa_list *sas, void *arg);
typedef void (*vici_conns_fn)(int status, const struct vici_conn_list *conns, void *arg);

/* ike may be NULL. timeout_ms 0: charon answers at once ("initiated"). */
int vici_initiate(struct vici_conn *c, const char *child, const char *ike,
		  unsigned timeout_ms, vici_ctl_fn cb, void *arg);
/* By name, or by unique id when child_id != 0 (name then ignored). */
int vici_terminate_child(struct vici_conn *c, const char *child, uint32_t child_id,
			 unsigned timeout_ms, vici_ctl_fn cb, void *arg);
int vici_rekey_child(struct vici_conn *c, const char *child, uint32_t child_id,
		     vici_ctl_fn cb, void *arg);
int vici_rekey_ike(struct vici_conn *c, const char *ike, uint32_t ike_id, int reauth,
		   vici_ctl_fn cb, void *arg);
/* ike may be NULL (all). */
int vici_list_sas(struct vici_conn *c, const char *ike, vici_sas_fn cb, void *arg);
int vici_list_conns(struct vici_conn *c, vici_conns_fn cb, void *arg);

#endif
