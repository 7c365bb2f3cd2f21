/* SPDX-License-Identifier: BSD-2-Clause */
/* test_workq.c: unit tests of core/workq.c, the worker pool: jobs run on
 * worker threads and complete on the loop thread, the queue is bounded
 * (also per class), cancelled jobs never run, the pool stops cleanly with
 * work still queued, and the inline mode (no threads) never calls done()
 * re-entrantly. A "gate" (a mutex and condition variable) holds a job in
 * run() so the tests control what is running and what is queued. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/workq.h"

struct tjob {
	struct workq_job j;
	unsigned long in, out;
	int ran, done_calls;
	enum workq_status st;
	pthread_t ran_on;
	int gated;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open, waiting;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static unsigned done_total;

static void gate_reset(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = 0;
	gate.waiting = 0;
	pthread_mutex_unlock(&gate.mu);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
}

/* Waits (on the test thread) until n gated jobs sit in run(). */
static void gate_wait_for(int n)
{
	pthread_mutex_lock(&gate.mu);
	while (gate.waiting < n)
		pthread_cond_wait(&gate.cv, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
}

static void run_fn(struct workq_job *j)
{
	struct tjob *t = (struct tjob *)j;
	t->ran++;
	t->ran_on = pthread_self();
	if (t->gated) {
		pthread_mutex_lock(&gate.mu);
		gate.waiting++;
		pthread_cond_broadcast(&gate.cv);
		while (!gate.open)
			pthread_cond_wait(&gate.cv, &gate.mu);
		pthread_mutex_unlock(&gate.mu);
	}
	unsigned long x = t->in;
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	t->out = x;
}

static void done_fn(struct workq_job *j, enum workq_status st)
{
	struct tjob *t = (struct tjob *)j;
	t->done_calls++;
	t->st = st;
	done_total++;
}

static unsigned long expect(unsigned long x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

static void tjob_init(struct tjob *t, unsigned long in, unsigned cls)
{
	memset(t, 0, sizeof(*t));
	t->j.run = run_fn;
	t->j.done = done_fn;
	t->j.cls = cls;
	t->in = in;
}

/* Runs the loop until done_total reaches n (bounded: 5 s of waiting). */
static void loop_until(unsigned n)
{
	for (int i = 0; i < 500 && done_total < n; i++)
		loop_run_once(10);
	assert_int_equal(done_total, n);
}

static int setup(void **state)
{
	(void)state;
	done_total = 0;
	gate_reset();
	return loop_init();
}

static int teardown(void **state)
{
	(void)state;
	workq_fini();
	loop_fini();
	return 0;
}

static void test_jobs_complete_on_loop(void **state)
{
	(void)state;
	static struct tjob t[200];
	assert_int_equal(workq_init(2, 256), 0);
	for (unsigned i = 0; i < 200; i++) {
		tjob_init(&t[i], i, i % 2);
		assert_int_equal(workq_submit(&t[i].j), 0);
	}
	loop_until(200);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(t[i].ran, 1);
		assert_int_equal(t[i].done_calls, 1);
		assert_int_equal(t[i].st, WORKQ_DONE);
		assert_true(t[i].out == expect(i));
		assert_false(pthread_equal(t[i].ran_on, pthread_self()));
	}
	struct workq_stats s;
	workq_get_stats(&s);
	assert_int_equal(s.submitted, 200);
	assert_int_equal(s.completed, 200);
	assert_int_equal(s.rejected, 0);
	assert_int_equal(s.queued, 0);
	assert_int_equal(s.running, 0);
	assert_int_equal(s.threads, 2);
}

static void test_queue_bounded(void **state)
{
	(void)state;
	struct tjob busy, q[3];
	assert_int_equal(workq_init(1, 2), 0);
	tjob_init(&busy, 1, 0);
	busy.gated = 1;
	assert_int_equal(workq_submit(&busy.j), 0);
	gate_wait_for(1);               /* the only worker is busy */
	for (int i = 0; i < 3; i++)
		tjob_init(&q[i], 10 + i, 0);
	assert_int_equal(workq_submit(&q[0].j), 0);
	assert_int_equal(workq_submit(&q[1].j), 0);
	assert_int_equal(workq_submit(&q[2].j), -1);
	struct workq_stats s;
	workq_get_stats(&s);
	assert_int_equal(s.queued, 2);
	assert_int_equal(s.running, 1);
	assert_int_equal(s.rejected, 1);
	gate_open();
	loop_until(3);
	assert_int_equal(q[2].ran, 0);
	assert_int_equal(q[2].done_calls, 0);
	assert_true(q[1].out == expect(11));
}

static void test_class_share(void **state)
{
	(void)state;
	struct tjob busy, a[3], b[2];
	assert_int_equal(workq_init(1, 4), 0);
	workq_set_share(1, 50);
	tjob_init(&busy, 1, 0);
	busy.gated = 1;
	assert_int_equal(workq_submit(&busy.j), 0);
	gate_wait_for(1);
	for (int i = 0; i < 3; i++)
		tjob_init(&a[i], 20 + i, 1);
	assert_int_equal(workq_submit(&a[0].j), 0);
	assert_int_equal(workq_submit(&a[1].j), 0);
	assert_int_equal(workq_submit(&a[2].j), -1);   /* class 1 holds its half */
	for (int i = 0; i < 2; i++) {
		tjob_init(&b[i], 30 + i, 0);
		assert_int_equal(workq_submit(&b[i].j), 0);   /* class 0 still gets in */
	}
	uint64_t sub, rej;
	workq_class_stats(1, &sub, &rej);
	assert_int_equal(sub, 3);
	assert_int_equal(rej, 1);
	workq_class_stats(0, &sub, &rej);
	assert_int_equal(sub, 3);
	assert_int_equal(rej, 0);
	gate_open();
	loop_until(5);
}

static void test_cancel_queued(void **state)
{
	(void)state;
	struct tjob busy, c, d;
	assert_int_equal(workq_init(1, 8), 0);
	tjob_init(&busy, 1, 0);
	busy.gated = 1;
	assert_int_equal(workq_submit(&busy.j), 0);
	gate_wait_for(1);
	tjob_init(&c, 2, 0);
	tjob_init(&d, 3, 0);
	assert_int_equal(workq_submit(&c.j), 0);
	assert_int_equal(workq_submit(&d.j), 0);
	workq_cancel(&c.j);
	workq_cancel(&busy.j);          /* running: completes normally */
	gate_open();
	loop_until(3);
	assert_int_equal(c.ran, 0);
	assert_int_equal(c.done_calls, 1);
	assert_int_equal(c.st, WORKQ_CANCELLED);
	assert_int_equal(busy.st, WORKQ_DONE);
	assert_int_equal(d.st, WORKQ_DONE);
	struct workq_stats s;
	workq_get_stats(&s);
	assert_int_equal(s.cancelled, 1);
	assert_int_equal(s.completed, 2);
}

static void test_fini_cancels_queued(void **state)
{
	(void)state;
	struct tjob busy, q[4];
	assert_int_equal(workq_init(1, 8), 0);
	tjob_init(&busy, 1, 0);
	busy.gated = 1;
	assert_int_equal(workq_submit(&busy.j), 0);
	gate_wait_for(1);
	for (int i = 0; i < 4; i++) {
		tjob_init(&q[i], 40 + i, 0);
		assert_int_equal(workq_submit(&q[i].j), 0);
	}
	gate_open();
	workq_fini();
	assert_int_equal(done_total, 5);
	assert_int_equal(busy.st, WORKQ_DONE);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(q[i].done_calls, 1);
		/* each either ran before the stop or was cancelled unrun */
		assert_int_equal(q[i].ran, q[i].st == WORKQ_DONE);
	}
	assert_int_equal(workq_active(), 0);
	assert_int_equal(workq_submit(&q[0].j), -1);
}

static void test_inline_mode(void **state)
{
	(void)state;
	struct tjob t;
	assert_int_equal(workq_init(0, 1), 0);
	tjob_init(&t, 7, 0);
	assert_int_equal(workq_submit(&t.j), 0);
	assert_int_equal(t.ran, 1);              /* ran inside submit */
	assert_true(pthread_equal(t.ran_on, pthread_self()));
	assert_int_equal(t.done_calls, 0);       /* but done() waits for the loop */
	loop_until(1);
	assert_int_equal(t.done_calls, 1);
	assert_true(t.out == expect(7));
}

/* done() may submit its job again: a chain of ten runs. */
static void chain_done(struct workq_job *j, enum workq_status st)
{
	struct tjob *t = (struct tjob *)j;
	t->done_calls++;
	done_total++;
	if (st == WORKQ_DONE && t->done_calls < 10) {
		t->in = t->out;
		assert_int_equal(workq_submit(j), 0);
	}
}

static void test_resubmit_from_done(void **state)
{
	(void)state;
	struct tjob t;
	assert_int_equal(workq_init(2, 4), 0);
	tjob_init(&t, 5, 0);
	t.j.done = chain_done;
	assert_int_equal(workq_submit(&t.j), 0);
	loop_until(10);
	assert_int_equal(t.ran, 10);
	unsigned long x = 5;
	for (int i = 0; i < 10; i++)
		x = expect(x);
	assert_true(t.out == x);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct tjob t;
	tjob_init(&t, 1, 0);
	assert_int_equal(workq_submit(&t.j), -1);   /* not initialised */
	assert_int_equal(workq_init(1, 0), -1);
	assert_int_equal(workq_init(1000, 4), -1);
	assert_int_equal(workq_init(1, 4), 0);
	assert_int_equal(workq_init(1, 4), -1);     /* already running */
	tjob_init(&t, 1, WORKQ_CLASSES);
	assert_int_equal(workq_submit(&t.j), -1);
	tjob_init(&t, 1, 0);
	t.j.run = NULL;
	assert_int_equal(workq_submit(&t.j), -1);
}

int main(void)
{
	log_init("test_workq");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_complete_on_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_class_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fini_cancels_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inline_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resubmit_from_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
