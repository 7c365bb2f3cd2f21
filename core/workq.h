/* SPDX-License-Identifier: BSD-2-Clause */
/* workq.h: a small pool of worker threads for CPU-heavy work (PBKDF2,
 * Diffie-Hellman, RSA) so that the event loop never runs it.
 *
 * A job's run() executes on a worker thread and may touch only the job's
 * own memory (its inputs copied in, its outputs written there); its
 * done() executes later on the loop thread, woken through an eventfd, and
 * may touch any state. The loop keeps sole ownership of everything else.
 *
 * Jobs enter through a bounded queue: workq_submit() refuses (and counts)
 * a job when the queue is full, so a flood costs a counted drop and never
 * memory or an unbounded wait. Each job names a class (its source: web,
 * GDOI, ...) and a class may hold at most its share of the queue, so one
 * source cannot starve the others.
 *
 * With zero threads (tests, fuzzing) run() executes inside workq_submit()
 * and done() still comes later from the loop, never re-entrantly. */
#ifndef GVPN_WORKQ_H
#define GVPN_WORKQ_H
#include <stddef.h>
#include <stdint.h>

enum workq_status {
	WORKQ_DONE,       /* run() completed */
	WORKQ_CANCELLED,  /* workq_cancel() before run() started, or workq_fini() */
};

#define WORKQ_CLASSES 4

struct workq_job;
typedef void (*workq_run_fn)(struct workq_job *j);
typedef void (*workq_done_fn)(struct workq_job *j, enum workq_status st);

/* Embed in the caller's own job structure; the caller keeps it alive until
 * done() has been called (done() may free it). */
struct workq_job {
	workq_run_fn run;
	workq_done_fn done;
	unsigned cls;             /* 0 .. WORKQ_CLASSES-1 */
	/* private */
	struct workq_job *next;
	int state;
	uint64_t queued_us;
};

struct workq_stats {
	uint64_t submitted;
	uint64_t completed;
	uint64_t cancelled;
	uint64_t rejected;        /* queue (or the class's share) full */
	uint64_t run_us;          /* CPU-side time spent in run(), summed */
	uint64_t wait_us_max;     /* longest time a job waited in the queue */
	size_t queued;
	size_t running;
	unsigned threads;
	size_t capacity;
};

/* threads: 0 runs jobs inline; queue_cap >= 1. Registers the eventfd with
 * the loop (loop_init() first). Returns 0 or -1 (logged). */
int workq_init(unsigned threads, size_t queue_cap);
/* Cancels queued jobs (their done() runs with WORKQ_CANCELLED), waits for
 * running ones (their done() runs with WORKQ_DONE), joins the threads. */
void workq_fini(void);
int workq_active(void);
/* A class may hold at most share percent (1..100) of the queue. */
void workq_set_share(unsigned cls, unsigned share);
/* 0: queued (done() will be called exactly once); -1: refused (counted),
 * done() will not be called. */
int workq_submit(struct workq_job *j);
/* Cancels a job not yet started: its run() is skipped and done() comes
 * with WORKQ_CANCELLED. A job already running completes normally. */
void workq_cancel(struct workq_job *j);
/* Runs every completed job's done() now (the loop does this by itself). */
size_t workq_dispatch(void);
void workq_get_stats(struct workq_stats *s);
void workq_class_stats(unsigned cls, uint64_t *submitted, uint64_t *rejected);

#endif
