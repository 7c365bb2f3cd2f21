/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.h: the one event loop. epoll for descriptors, a binary min-heap of
 * timers keyed by a monotonic clock, one signalfd for signals, and
 * "prepare" hooks run before each wait (Net-SNMP and libmicrohttpd use
 * them to tell the loop their descriptors and timeouts).
 *
 * Timers are embedded in the objects they belong to: free the object
 * after loop_timer_cancel() (or from within its own callback, which runs
 * after the timer has left the heap). The clock is read through
 * loop_now_us() only; tests replace it with loop_set_clock(). */
#ifndef GVPN_LOOP_H
#define GVPN_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop_timer *t, void *arg);

struct loop_timer {
	uint64_t when_us;   /* absolute, on the loop clock */
	uint64_t order;     /* FIFO among equal deadlines */
	size_t idx;         /* position in the heap, or LOOP_TIMER_IDLE */
	loop_timer_fn cb;
	void *arg;
};
#define LOOP_TIMER_IDLE ((size_t)-1)

typedef uint64_t (*loop_clock_fn)(void);

/* Monotonic microseconds. */
uint64_t loop_now_us(void);
/* NULL restores CLOCK_MONOTONIC. */
void loop_set_clock(loop_clock_fn fn);

void loop_timer_init(struct loop_timer *t, loop_timer_fn cb, void *arg);
/* Arming an armed timer moves it. */
void loop_timer_arm_ms(struct loop_timer *t, uint64_t delay_ms);
void loop_timer_arm_us(struct loop_timer *t, uint64_t delay_us);
void loop_timer_arm_at(struct loop_timer *t, uint64_t when_us);
void loop_timer_cancel(struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);
/* Microseconds until it fires (0 if due), or UINT64_MAX if idle. */
uint64_t loop_timer_remaining_us(const struct loop_timer *t);

/* Fires every due timer in deadline order; returns how many fired.
 * Timers armed by callbacks for "now" fire in the same call. */
size_t loop_run_timers(void);
/* The earliest deadline on the loop clock, UINT64_MAX when none. */
uint64_t loop_next_deadline_us(void);
/* Milliseconds to the next deadline (rounded up), -1 when none. */
int loop_next_timeout_ms(void);
size_t loop_timer_count(void);

struct loop_fd;
typedef void (*loop_fd_fn)(int fd, uint32_t revents, void *arg);
typedef void (*loop_signal_fn)(int signo, void *arg);
typedef void (*loop_prepare_fn)(void *arg);

int loop_init(void);
void loop_fini(void);

/* events are EPOLLIN/EPOLLOUT/...; NULL on failure (logged). */
struct loop_fd *loop_fd_add(int fd, uint32_t events, loop_fd_fn cb, void *arg);
int loop_fd_modify(struct loop_fd *h, uint32_t events);
/* Stops watching; the handle is freed after the current dispatch round,
 * so deleting from inside any callback is safe. Does not close fd: call
 * it before close(). */
void loop_fd_del(struct loop_fd *h);

/* Blocks the signal and routes it through the loop's signalfd. */
int loop_signal_add(int signo, loop_signal_fn cb, void *arg);

int loop_prepare_add(loop_prepare_fn fn, void *arg);
void loop_prepare_remove(loop_prepare_fn fn, void *arg);

/* One round: prepare hooks, wait at most max_wait_ms (-1: until the next
 * timer or descriptor), dispatch. Returns 0, or -1 on a fatal epoll error. */
int loop_run_once(int max_wait_ms);
/* Runs until loop_stop(). */
int loop_run(void);
void loop_stop(void);

#endif
