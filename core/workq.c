/* SPDX-License-Identifier: BSD-2-Clause */
/* workq.c: the worker pool (see workq.h). One mutex guards the queue, the
 * completed list and the counters; workers sleep on a condition variable;
 * completions wake the loop through an eventfd. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/workq.h"

#define WORKQ_MAX_THREADS 64

enum { J_IDLE, J_QUEUED, J_RUNNING, J_FINISHED, J_CANCELLED };

struct list {
	struct workq_job *head, *tail;
};

static struct {
	int active;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t tid[WORKQ_MAX_THREADS];
	unsigned nthreads;
	int stop;
	struct list queue, finished;
	size_t cap, in_class[WORKQ_CLASSES];
	unsigned share[WORKQ_CLASSES];
	uint64_t cls_submitted[WORKQ_CLASSES], cls_rejected[WORKQ_CLASSES];
	struct workq_stats st;
	int efd;
	struct loop_fd *lfd;
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .efd = -1 };

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void push(struct list *l, struct workq_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct workq_job *pop(struct list *l)
{
	struct workq_job *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static int unlink_job(struct list *l, struct workq_job *j)
{
	struct workq_job *prev = NULL;
	for (struct workq_job *c = l->head; c; prev = c, c = c->next) {
		if (c != j)
			continue;
		if (prev)
			prev->next = c->next;
		else
			l->head = c->next;
		if (l->tail == c)
			l->tail = prev;
		c->next = NULL;
		return 0;
	}
	return -1;
}

static void wake_loop(void)
{
	uint64_t one = 1;
	ssize_t n = write(W.efd, &one, sizeof(one));
	(void)n;   /* EAGAIN: the counter is already non-zero, the loop wakes anyway */
}

/* Caller holds the mutex. */
static void finish_locked(struct workq_job *j, int state)
{
	j->state = state;
	push(&W.finished, j);
}

static void run_job(struct workq_job *j)
{
	uint64_t t0 = mono_us();
	j->run(j);
	uint64_t spent = mono_us() - t0;
	pthread_mutex_lock(&W.mu);
	W.st.running--;
	W.st.run_us += spent;
	finish_locked(j, J_FINISHED);
	pthread_mutex_unlock(&W.mu);
	wake_loop();
}

/* Caller holds the mutex; takes the next job off the queue. */
static struct workq_job *take_locked(void)
{
	struct workq_job *j = pop(&W.queue);
	if (!j)
		return NULL;
	W.st.queued--;
	W.in_class[j->cls]--;
	W.st.running++;
	j->state = J_RUNNING;
	uint64_t waited = mono_us() - j->queued_us;
	if (waited > W.st.wait_us_max)
		W.st.wait_us_max = waited;
	return j;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&W.mu);
		while (!W.stop && !W.queue.head)
			pthread_cond_wait(&W.cv, &W.mu);
		struct workq_job *j = take_locked();
		pthread_mutex_unlock(&W.mu);
		if (!j)
			return NULL;   /* stopping and nothing left */
		run_job(j);
	}
}

static void on_eventfd(int fd, uint32_t revents, void *arg)
{
	(void)revents;
	(void)arg;
	uint64_t n;
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	workq_dispatch();
}

size_t workq_dispatch(void)
{
	pthread_mutex_lock(&W.mu);
	struct list done = W.finished;
	W.finished.head = W.finished.tail = NULL;
	pthread_mutex_unlock(&W.mu);
	size_t n = 0;
	struct workq_job *j;
	while ((j = pop(&done))) {
		enum workq_status st = j->state == J_CANCELLED ? WORKQ_CANCELLED : WORKQ_DONE;
		pthread_mutex_lock(&W.mu);
		if (st == WORKQ_CANCELLED)
			W.st.cancelled++;
		else
			W.st.completed++;
		pthread_mutex_unlock(&W.mu);
		j->state = J_IDLE;
		j->done(j, st);   /* may free j or submit it again */
		n++;
	}
	return n;
}

static int start_threads(unsigned threads)
{
	for (unsigned i = 0; i < threads; i++) {
		int rc = pthread_create(&W.tid[i], NULL, worker, NULL);
		if (rc) {
			log_err("workq", "cannot start worker thread %u: %s", i + 1, strerror(rc));
			return -1;
		}
		W.nthreads++;
	}
	return 0;
}

int workq_init(unsigned threads, size_t queue_cap)
{
	if (W.active || queue_cap == 0 || threads > WORKQ_MAX_THREADS) {
		log_err("workq", "invalid worker pool (%u threads, queue %zu)", threads, queue_cap);
		return -1;
	}
	memset(&W.st, 0, sizeof(W.st));
	memset(W.in_class, 0, sizeof(W.in_class));
	memset(W.cls_submitted, 0, sizeof(W.cls_submitted));
	memset(W.cls_rejected, 0, sizeof(W.cls_rejected));
	for (unsigned c = 0; c < WORKQ_CLASSES; c++)
		W.share[c] = 100;
	W.queue.head = W.queue.tail = W.finished.head = W.finished.tail = NULL;
	W.cap = queue_cap;
	W.stop = 0;
	W.nthreads = 0;
	W.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (W.efd < 0) {
		log_err("workq", "eventfd: %s", strerror(errno));
		return -1;
	}
	W.lfd = loop_fd_add(W.efd, EPOLLIN, on_eventfd, NULL);
	W.active = 1;
	if (!W.lfd || start_threads(threads) < 0) {
		workq_fini();
		return -1;
	}
	return 0;
}

void workq_fini(void)
{
	if (!W.active)
		return;
	pthread_mutex_lock(&W.mu);
	W.stop = 1;
	struct workq_job *j;
	while ((j = pop(&W.queue))) {
		W.in_class[j->cls]--;
		W.st.queued--;
		finish_locked(j, J_CANCELLED);
	}
	pthread_cond_broadcast(&W.cv);
	pthread_mutex_unlock(&W.mu);
	for (unsigned i = 0; i < W.nthreads; i++)
		pthread_join(W.tid[i], NULL);
	W.nthreads = 0;
	workq_dispatch();
	if (W.lfd)
		loop_fd_del(W.lfd);
	W.lfd = NULL;
	close(W.efd);
	W.efd = -1;
	W.active = 0;
}

int workq_active(void)
{
	return W.active;
}

void workq_set_share(unsigned cls, unsigned share)
{
	if (cls < WORKQ_CLASSES)
		W.share[cls] = share < 1 ? 1 : share > 100 ? 100 : share;
}

static size_t class_cap(unsigned cls)
{
	size_t c = W.cap * W.share[cls] / 100;
	return c ? c : 1;
}

/* Caller holds the mutex: 0 when the job may be queued. */
static int admit_locked(struct workq_job *j)
{
	W.cls_submitted[j->cls]++;
	if (W.st.queued >= W.cap || W.in_class[j->cls] >= class_cap(j->cls)) {
		W.cls_rejected[j->cls]++;
		W.st.rejected++;
		return -1;
	}
	W.st.submitted++;
	return 0;
}

int workq_submit(struct workq_job *j)
{
	if (!W.active || !j->run || !j->done || j->cls >= WORKQ_CLASSES)
		return -1;
	pthread_mutex_lock(&W.mu);
	if (admit_locked(j) < 0) {
		pthread_mutex_unlock(&W.mu);
		return -1;
	}
	j->queued_us = mono_us();
	if (W.nthreads == 0) {
		W.st.running++;
		j->state = J_RUNNING;
		pthread_mutex_unlock(&W.mu);
		run_job(j);
		return 0;
	}
	j->state = J_QUEUED;
	push(&W.queue, j);
	W.st.queued++;
	W.in_class[j->cls]++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	return 0;
}

void workq_cancel(struct workq_job *j)
{
	pthread_mutex_lock(&W.mu);
	int was_queued = j->state == J_QUEUED && unlink_job(&W.queue, j) == 0;
	if (was_queued) {
		W.st.queued--;
		W.in_class[j->cls]--;
		finish_locked(j, J_CANCELLED);
	}
	pthread_mutex_unlock(&W.mu);
	if (was_queued)
		wake_loop();
}

void workq_get_stats(struct workq_stats *s)
{
	pthread_mutex_lock(&W.mu);
	*s = W.st;
	s->threads = W.nthreads;
	s->capacity = W.cap;
	pthread_mutex_unlock(&W.mu);
}

void workq_class_stats(unsigned cls, uint64_t *submitted, uint64_t *rejected)
{
	pthread_mutex_lock(&W.mu);
	*submitted = cls < WORKQ_CLASSES ? W.cls_submitted[cls] : 0;
	*rejected = cls < WORKQ_CLASSES ? W.cls_rejected[cls] : 0;
	pthread_mutex_unlock(&W.mu);
}
