/* SPDX-License-Identifier: BSD-2-Clause */
/* svc.c: sd_notify(3) messages and the watchdog timer. See svc.h. */
#include "config.h"
#include "agent/svc.h"
#include "core/log.h"
#include "core/loop.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static struct {
	struct loop_timer watchdog;
	uint64_t interval_us;
} S;

static void svc_send(const char *state)
{
	int rc = sd_notify(0, state);
	if (rc < 0)
		log_msg_stderr(LOG_DEBUG, "svc", "sd_notify failed: %d", rc);
}

static void on_watchdog(struct loop_timer *t, void *arg GVPN_UNUSED)
{
	svc_send("WATCHDOG=1");
	loop_timer_arm_us(t, S.interval_us);
}

void svc_init(void)
{
	uint64_t usec = 0;
	loop_timer_init(&S.watchdog, on_watchdog, NULL);
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2) {
		S.interval_us = usec / 2;
		log_info("svc", "service manager watchdog: %llu ms; a keep-alive every %llu ms",
			 (unsigned long long)(usec / 1000), (unsigned long long)(S.interval_us / 1000));
		svc_send("WATCHDOG=1");
		loop_timer_arm_us(&S.watchdog, S.interval_us);
	}
}

void svc_fini(void)
{
	loop_timer_cancel(&S.watchdog);
	S.interval_us = 0;
}

static void send_with_status(const char *state, const char *fmt, va_list ap) GVPN_PRINTF(2, 0);
static void send_with_status(const char *state, const char *fmt, va_list ap)
{
	char text[256], msg[320];
	vsnprintf(text, sizeof(text), fmt, ap);
	snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", state, *state ? "\n" : "", text);
	svc_send(msg);
}

void svc_ready(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_with_status("READY=1", fmt, ap);
	va_end(ap);
}

void svc_status(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_with_status("", fmt, ap);
	va_end(ap);
}

void svc_reloading(void)
{
	struct timespec ts;
	char msg[64];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull);
	svc_send(msg);
}

void svc_stopping(void)
{
	svc_send("STOPPING=1");
}

unsigned long long svc_watchdog_interval_us(void)
{
	return S.interval_us;
}

#else /* !HAVE_LIBSYSTEMD */

void svc_init(void) {}
void svc_fini(void) {}
void svc_ready(const char *fmt GVPN_UNUSED, ...) {}
void svc_reloading(void) {}
void svc_stopping(void) {}
void svc_status(const char *fmt GVPN_UNUSED, ...) {}
unsigned long long svc_watchdog_interval_us(void) { return 0; }

#endif
