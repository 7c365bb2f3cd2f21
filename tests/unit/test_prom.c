/* SPDX-License-Identifier: BSD-2-Clause */
/* test_prom.c: unit tests of core/prom.c, the Prometheus text format
 * writer: exact output, the escapes of label values and HELP text, bytes
 * that are not UTF-8, special float values, a buffer that has to grow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prom.h"

static char *text_of(struct prom *p)
{
	size_t len = 0;
	char *t = prom_finish(p, &len);
	assert_int_equal(len, strlen(t));
	return t;
}

static void test_family_and_samples(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	prom_family(p, "gvpn_x_total", "counter", "Things counted");
	prom_u64(p, "gvpn_x_total", 18446744073709551615u, NULL);
	prom_u64(p, "gvpn_x_total", 0, "a", "1", "b", "two", NULL);
	char *t = text_of(p);
	assert_string_equal(t, "# HELP gvpn_x_total Things counted\n"
			       "# TYPE gvpn_x_total counter\n"
			       "gvpn_x_total 18446744073709551615\n"
			       "gvpn_x_total{a=\"1\",b=\"two\"} 0\n");
	free(t);
}

static void test_label_escapes(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	prom_u64(p, "m", 1, "vpn", "a\"b\\c\nd", "empty", "", "null", NULL, NULL);
	char *t = text_of(p);
	assert_string_equal(t, "m{vpn=\"a\\\"b\\\\c\\nd\",empty=\"\",null=\"\"} 1\n");
	free(t);
}

static void test_help_escapes(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	/* In HELP a quote stays as it is; backslash and newline are escaped. */
	prom_family(p, "m", "gauge", "say \"x\\y\"\nnext");
	char *t = text_of(p);
	assert_string_equal(t, "# HELP m say \"x\\\\y\"\\nnext\n# TYPE m gauge\n");
	free(t);
}

static void test_utf8(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	/* Valid multibyte kept; a lone continuation byte, an overlong "/",
	 * a surrogate, a code point past U+10FFFF and a cut sequence each
	 * become U+FFFD, byte by byte, and nothing after them is lost. */
	prom_u64(p, "m", 1, "l", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91", NULL);
	prom_u64(p, "m", 2, "l", "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf4\x90\x80\x80" "e\xe2\x82", NULL);
	char *t = text_of(p);
	assert_string_equal(t, "m{l=\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91\"} 1\n"
			       "m{l=\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
			       "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "e\xef\xbf\xbd\xef\xbf\xbd\"} 2\n");
	free(t);
}

static void test_doubles(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	prom_double(p, "d", 0.000123, NULL);
	prom_double(p, "d", 1796224060.5, NULL);
	prom_double(p, "d", NAN, NULL);
	prom_double(p, "d", INFINITY, NULL);
	prom_double(p, "d", -INFINITY, NULL);
	char *t = text_of(p);
	assert_string_equal(t, "d 0.000123\nd 1796224060.5\nd NaN\nd +Inf\nd -Inf\n");
	free(t);
}

static void test_grows(void **state)
{
	(void)state;
	struct prom *p = prom_new();
	char name[40];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		prom_u64(p, "gvpn_gks_members", (uint64_t)i, "group", name, NULL);
	}
	size_t len;
	char *t = prom_finish(p, &len);
	assert_true(len > 100000);
	assert_int_equal(len, strlen(t));
	assert_non_null(strstr(t, "gvpn_gks_members{group=\"g4999\"} 4999\n"));
	assert_memory_equal(t, "gvpn_gks_members{group=\"g0\"} 0\n", 31);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_label_escapes),
		cmocka_unit_test(test_help_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_grows),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
