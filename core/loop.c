/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.c: epoll, the timer min-heap, signalfd and prepare hooks. */
#include "config.h"
#include "core/loop.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct loop_fd {
	int fd;
	int dead;
	loop_fd_fn cb;
	void *arg;
	struct loop_fd *next_dead;
};

#define LOOP_MAX_SIGNALS 8
#define LOOP_MAX_PREPARE 8
#define LOOP_MAX_EVENTS 64

static struct {
	int epfd;
	int running;
	/* timers */
	struct loop_timer **heap;
	size_t n, cap;
	uint64_t order;
	loop_clock_fn clock;
	/* descriptors deleted during dispatch, freed after it */
	struct loop_fd *dead;
	/* signals */
	int sigfd;
	struct loop_fd *sig_h;
	sigset_t sigmask;
	struct {
		int signo;
		loop_signal_fn cb;
		void *arg;
	} sigs[LOOP_MAX_SIGNALS];
	struct {
		loop_prepare_fn fn;
		void *arg;
	} prep[LOOP_MAX_PREPARE];
} L = { .epfd = -1, .sigfd = -1 };

/* ---- clock -------------------------------------------------------- */

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t loop_now_us(void)
{
	return L.clock ? L.clock() : monotonic_us();
}

void loop_set_clock(loop_clock_fn fn)
{
	L.clock = fn;
}

/* ---- timer heap ----------------------------------------------------- */

static int timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->when_us != b->when_us)
		return a->when_us < b->when_us;
	return a->order < b->order;
}

static void heap_set(size_t i, struct loop_timer *t)
{
	L.heap[i] = t;
	t->idx = i;
}

static void heap_up(size_t i)
{
	struct loop_timer *t = L.heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(t, L.heap[parent]))
			break;
		heap_set(i, L.heap[parent]);
		i = parent;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct loop_timer *t = L.heap[i];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct loop_timer *best = t;
		if (l < L.n && timer_before(L.heap[l], best)) {
			m = l;
			best = L.heap[l];
		}
		if (r < L.n && timer_before(L.heap[r], best))
			m = r;
		if (m == i)
			break;
		heap_set(i, L.heap[m]);
		i = m;
	}
	heap_set(i, t);
}

static void heap_remove(struct loop_timer *t)
{
	size_t i = t->idx;
	struct loop_timer *last = L.heap[--L.n];
	t->idx = LOOP_TIMER_IDLE;
	if (last == t)
		return;
	heap_set(i, last);
	if (i > 0 && timer_before(last, L.heap[(i - 1) / 2]))
		heap_up(i);
	else
		heap_down(i);
}

/* In the heap? A timer that was zeroed but never initialised has idx 0:
 * it must not be taken for the heap's root. */
static int in_heap(const struct loop_timer *t)
{
	return t->idx != LOOP_TIMER_IDLE && t->idx < L.n && L.heap[t->idx] == t;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->idx = LOOP_TIMER_IDLE;
	t->cb = cb;
	t->arg = arg;
}

void loop_timer_arm_at(struct loop_timer *t, uint64_t when_us)
{
	if (in_heap(t))
		heap_remove(t);
	t->when_us = when_us;
	t->order = ++L.order;
	if (L.n == L.cap) {
		L.cap = L.cap ? L.cap * 2 : 64;
		L.heap = xrealloc(L.heap, L.cap * sizeof(*L.heap));
	}
	heap_set(L.n++, t);
	heap_up(t->idx);
}

void loop_timer_arm_us(struct loop_timer *t, uint64_t delay_us)
{
	loop_timer_arm_at(t, loop_now_us() + delay_us);
}

void loop_timer_arm_ms(struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_arm_us(t, delay_ms * 1000u);
}

void loop_timer_cancel(struct loop_timer *t)
{
	if (in_heap(t))
		heap_remove(t);
	t->idx = LOOP_TIMER_IDLE;
}

int loop_timer_armed(const struct loop_timer *t)
{
	return in_heap(t);
}

uint64_t loop_timer_remaining_us(const struct loop_timer *t)
{
	if (!in_heap(t))
		return UINT64_MAX;
	uint64_t now = loop_now_us();
	return t->when_us > now ? t->when_us - now : 0;
}

size_t loop_timer_count(void)
{
	return L.n;
}

size_t loop_run_timers(void)
{
	size_t fired = 0;
	uint64_t now = loop_now_us();
	while (L.n && L.heap[0]->when_us <= now) {
		struct loop_timer *t = L.heap[0];
		heap_remove(t);
		fired++;
		t->cb(t, t->arg);
		now = loop_now_us();
	}
	return fired;
}

uint64_t loop_next_deadline_us(void)
{
	return L.n ? L.heap[0]->when_us : UINT64_MAX;
}

int loop_next_timeout_ms(void)
{
	if (!L.n)
		return -1;
	uint64_t now = loop_now_us(), when = L.heap[0]->when_us;
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999) / 1000;
	return ms > 3600000 ? 3600000 : (int)ms;
}

/* ---- descriptors ------------------------------------------------------ */

struct loop_fd *loop_fd_add(int fd, uint32_t events, loop_fd_fn cb, void *arg)
{
	struct loop_fd *h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	struct epoll_event ev = { .events = events, .data.ptr = h };
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_err("loop", "cannot watch descriptor %d: %s", fd, strerror(errno));
		free(h);
		return NULL;
	}
	return h;
}

int loop_fd_modify(struct loop_fd *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };
	int rc = epoll_ctl(L.epfd, EPOLL_CTL_MOD, h->fd, &ev);
	/* A descriptor closed and reopened under the same number (a library
	 * reconnecting) has left the epoll set: watch it again. */
	if (rc < 0 && errno == ENOENT)
		rc = epoll_ctl(L.epfd, EPOLL_CTL_ADD, h->fd, &ev);
	if (rc < 0) {
		log_err("loop", "cannot change events of descriptor %d: %s", h->fd, strerror(errno));
		return -1;
	}
	return 0;
}

void loop_fd_del(struct loop_fd *h)
{
	if (!h || h->dead)
		return;
	/* Callers delete before they close: a closed descriptor whose file is
	 * still open elsewhere (dup, fork) would stay in the epoll set. */
	epoll_ctl(L.epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->dead = 1;
	h->next_dead = L.dead;
	L.dead = h;
}

static void reap_dead(void)
{
	while (L.dead) {
		struct loop_fd *h = L.dead;
		L.dead = h->next_dead;
		free(h);
	}
}

/* ---- signals ---------------------------------------------------------- */

static void on_signalfd(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < LOOP_MAX_SIGNALS; i++)
			if (L.sigs[i].cb && L.sigs[i].signo == (int)si.ssi_signo)
				L.sigs[i].cb((int)si.ssi_signo, L.sigs[i].arg);
	}
}

int loop_signal_add(int signo, loop_signal_fn cb, void *arg)
{
	size_t i;
	for (i = 0; i < LOOP_MAX_SIGNALS && L.sigs[i].cb; i++)
		;
	if (i == LOOP_MAX_SIGNALS)
		return -1;
	sigaddset(&L.sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &L.sigmask, NULL) < 0)
		return -1;
	int fd = signalfd(L.sigfd, &L.sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		log_err("loop", "signalfd: %s", strerror(errno));
		return -1;
	}
	if (L.sigfd < 0) {
		L.sigfd = fd;
		L.sig_h = loop_fd_add(fd, EPOLLIN, on_signalfd, NULL);
		if (!L.sig_h)
			return -1;
	}
	L.sigs[i].signo = signo;
	L.sigs[i].cb = cb;
	L.sigs[i].arg = arg;
	return 0;
}

/* ---- prepare hooks ---------------------------------------------------- */

int loop_prepare_add(loop_prepare_fn fn, void *arg)
{
	for (size_t i = 0; i < LOOP_MAX_PREPARE; i++) {
		if (!L.prep[i].fn) {
			L.prep[i].fn = fn;
			L.prep[i].arg = arg;
			return 0;
		}
	}
	return -1;
}

void loop_prepare_remove(loop_prepare_fn fn, void *arg)
{
	for (size_t i = 0; i < LOOP_MAX_PREPARE; i++)
		if (L.prep[i].fn == fn && L.prep[i].arg == arg)
			L.prep[i].fn = NULL;
}

/* ---- the loop ---------------------------------------------------------- */

int loop_init(void)
{
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L.epfd < 0) {
		log_err("loop", "epoll_create1: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&L.sigmask);
	L.sigfd = -1;
	return 0;
}

void loop_fini(void)
{
	if (L.sig_h)
		loop_fd_del(L.sig_h);
	reap_dead();
	if (L.sigfd >= 0) {
		close(L.sigfd);
		sigprocmask(SIG_UNBLOCK, &L.sigmask, NULL);
	}
	if (L.epfd >= 0)
		close(L.epfd);
	for (size_t i = 0; i < L.n; i++)
		L.heap[i]->idx = LOOP_TIMER_IDLE;
	free(L.heap);
	memset(&L, 0, sizeof(L));
	L.epfd = L.sigfd = -1;
}

int loop_run_once(int max_wait_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	for (size_t i = 0; i < LOOP_MAX_PREPARE; i++)
		if (L.prep[i].fn)
			L.prep[i].fn(L.prep[i].arg);

	int timeout = loop_next_timeout_ms();
	if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
		timeout = max_wait_ms;
	int n = epoll_wait(L.epfd, evs, LOOP_MAX_EVENTS, timeout);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		log_err("loop", "epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct loop_fd *h = evs[i].data.ptr;
		if (!h->dead)
			h->cb(h->fd, evs[i].events, h->arg);
	}
	reap_dead();
	loop_run_timers();
	return 0;
}

int loop_run(void)
{
	L.running = 1;
	while (L.running)
		if (loop_run_once(-1) < 0)
			return -1;
	return 0;
}

void loop_stop(void)
{
	L.running = 0;
}
