/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_tx.h: the syslog transports behind one interface, all driven by
 * the event loop and never blocking it (except name resolution, below).
 *
 *   UDP   RFC 5426: one message per datagram, at most SYSLOG_TX_UDP_MAX
 *         bytes; longer messages are refused (dropped and counted).
 *   TCP   RFC 6587 octet counting: "LEN SP MSG" (LEN in decimal ASCII).
 *   TLS   RFC 5425: the same octet counting inside TLS (OpenSSL, TLS >= 1.2),
 *         the server certificate verified against cfg_collector.ca_file and
 *         checked against the configured host (name, or IP address).
 *   local AF_UNIX SOCK_DGRAM to /dev/log (unconnected: sendto() each
 *         time, so a restarted syslogd is found again); EAGAIN or any
 *         error drops that message and counts it (never retried); the
 *         rest are tried at the next writable event.
 *
 * syslog_tx_send() only copies the message into a bounded queue (the
 * collector's `queue` count) and asks the loop for writability; writing
 * happens in loop callbacks. It never logs, so it is safe to call from a
 * log sink. When the queue is full the OLDEST queued message (the one at
 * the head, not yet started on the wire) is dropped and counted. A stream
 * frame already partly written is held outside the queue; it is lost (and
 * counted as dropped) if the connection breaks under it, and re-sent whole
 * after a reconnect if none of it had been written.
 *
 * TCP/TLS reconnect with exponential backoff: 1 s doubling to 60 s, back to
 * 1 s once a connection is up (for TLS: once the handshake is done).
 * Host names are resolved with getaddrinfo(), which BLOCKS: once at each
 * connection attempt (TCP/TLS) or once at creation (UDP; retried with the
 * same backoff if it fails). Give numeric addresses to avoid any stall.
 *
 * Ownership: the transport copies everything it needs from the config and
 * from each message. loop_init() must have been called first. */
#ifndef GVPN_SYSLOG_TX_H
#define GVPN_SYSLOG_TX_H

#include <stddef.h>
#include <stdint.h>

#include "core/cfg.h"

#define SYSLOG_TX_UDP_MAX    2048    /* RFC 5426 §3.2: SHOULD accept 2048 */
#define SYSLOG_TX_LOCAL_MAX  8192
#define SYSLOG_TX_STREAM_MAX 65536
#define SYSLOG_TX_BACKOFF_MIN_MS 1000
#define SYSLOG_TX_BACKOFF_MAX_MS 60000
#define SYSLOG_TX_DEV_LOG "/dev/log"

struct syslog_tx;

struct syslog_tx_stats {
	uint64_t sent;            /* messages fully handed to the kernel */
	uint64_t dropped;         /* all losses: the three below */
	uint64_t dropped_queue;   /* oldest dropped because the queue was full */
	uint64_t dropped_error;   /* send errors, frames cut by a broken connection */
	uint64_t dropped_size;    /* refused: empty or over the transport's maximum */
	uint64_t reconnects;      /* connection attempts after the first one */
	size_t queued;            /* waiting now (a partly written frame included) */
	int connected;            /* stream: connection up (TLS: handshake done);
	                           * datagram: the last send succeeded */
};

/* NULL (logged) on a bad config: unknown transport, port out of range,
 * TLS without a readable ca_file, queue < 1. A collector that is down is
 * not an error: it is retried. */
struct syslog_tx *syslog_tx_new(const struct cfg_collector *c);
/* The local syslog daemon on /dev/log; queue is the bound of its queue. */
struct syslog_tx *syslog_tx_new_local(long queue);
/* Same, on another datagram socket path (tests). */
struct syslog_tx *syslog_tx_new_unix(const char *path, long queue);

/* Queues a copy of msg (len bytes, no terminator needed). */
void syslog_tx_send(struct syslog_tx *t, const char *msg, size_t len);

const struct syslog_tx_stats *syslog_tx_stats(const struct syslog_tx *t);

/* Closes without flushing; queued messages are discarded. NULL is fine. */
void syslog_tx_free(struct syslog_tx *t);

#endif
