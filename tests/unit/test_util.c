/* SPDX-License-Identifier: BSD-2-Clause */
/* test_util.c: unit tests of core/util.c's text hygiene: UTF-8 validation
 * (RFC 3629: overlong forms, surrogates, above U+10FFFF and truncated
 * sequences refused) and str_escape, which keeps outside text on one line
 * and in UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/util.h"

static int valid(const char *s)
{
	return utf8_valid(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(valid(""));
	assert_true(valid("plain ascii"));
	assert_true(valid("caf\xc3\xa9"));                 /* U+00E9 */
	assert_true(valid("\xe2\x82\xac"));                /* U+20AC */
	assert_true(valid("\xf0\x9f\x94\x91"));            /* U+1F511 */
	assert_true(valid("\xf4\x8f\xbf\xbf"));            /* U+10FFFF */
	assert_false(valid("\xc0\xaf"));                   /* overlong '/' */
	assert_false(valid("\xe0\x80\xaf"));               /* overlong, 3 bytes */
	assert_false(valid("\xf0\x80\x80\xaf"));           /* overlong, 4 bytes */
	assert_false(valid("\xed\xa0\x80"));               /* surrogate U+D800 */
	assert_false(valid("\xf4\x90\x80\x80"));           /* U+110000 */
	assert_false(valid("\xff"));
	assert_false(valid("\x80"));                       /* lone continuation */
	assert_false(valid("\xc3"));                       /* truncated */
	assert_false(valid("\xe2\x82"));
	assert_false(utf8_valid("a\0b", 3));               /* NUL inside */
}

static void test_escape(void **state)
{
	(void)state;
	char b[64];
	assert_string_equal(str_escape(b, sizeof(b), "admin"), "admin");
	assert_string_equal(str_escape(b, sizeof(b), "a\nb\rc\td\x7f"), "a\\x0ab\\x0dc\\x09d\\x7f");
	assert_string_equal(str_escape(b, sizeof(b), "caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(str_escape(b, sizeof(b), "x\xff\xc3(y"), "x\\xff\\xc3(y");
	assert_string_equal(str_escape(b, sizeof(b), "\xed\xa0\x80"), "\\xed\\xa0\\x80");
	/* cut only at whole characters and whole escapes */
	assert_string_equal(str_escape(b, 6, "abc\ndef"), "abc");
	assert_string_equal(str_escape(b, 7, "ab\xe2\x82\xac"), "ab\xe2\x82\xac");
	assert_string_equal(str_escape(b, 5, "ab\xe2\x82\xac"), "ab");
	assert_string_equal(str_escape(b, 1, "abc"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
