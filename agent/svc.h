/* SPDX-License-Identifier: BSD-2-Clause */
/* svc.h: what the agent tells its service manager (systemd's sd_notify(3)
 * protocol, for Type=notify units): READY=1 once the listeners are bound
 * and the config is loaded, RELOADING=1 / READY=1 around a SIGHUP reload,
 * STOPPING=1 on the way out, a STATUS= line, and the watchdog keep-alive
 * (WATCHDOG=1 every half WATCHDOG_USEC) sent from a timer on the event
 * loop, so a loop that stalls stops the keep-alives and gets the agent
 * restarted. Without $NOTIFY_SOCKET, or when built without libsystemd
 * (HAVE_LIBSYSTEMD), every call does nothing. */
#ifndef GVPN_SVC_H
#define GVPN_SVC_H

#include "core/util.h"

/* Arms the watchdog timer when the service manager asks for one
 * (WATCHDOG_USEC, and WATCHDOG_PID naming this process if set). After
 * loop_init(). */
void svc_init(void);
void svc_fini(void);

/* READY=1 and STATUS= with the text. */
void svc_ready(const char *fmt, ...) GVPN_PRINTF(1, 2);
/* RELOADING=1 and MONOTONIC_USEC= (systemd >= 253 wants both). */
void svc_reloading(void);
void svc_stopping(void);
void svc_status(const char *fmt, ...) GVPN_PRINTF(1, 2);

/* Microseconds between keep-alives, 0 when there is no watchdog. */
unsigned long long svc_watchdog_interval_us(void);

#endif
