/*
 * check_error.c — the error record and the status table of PROTOCOL.md
 * section 7.
 */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_error.h"
#include "eb_json.h"

START_TEST(test_err_set_fills_every_member_and_returns_rc)
{
	eb_err e;

	eb_err_clear(&e);
	ck_assert_int_eq(eb_err_set(&e, EB_ERR_SHAPE, "CHG-4", "changes[3].path[1]",
				    EB_CODE_INVALID_FIELD, 3, "segment %d empty", 1),
			 EB_ERR_SHAPE);
	ck_assert_str_eq(e.rule, "CHG-4");
	ck_assert_str_eq(e.field, "changes[3].path[1]");
	ck_assert_str_eq(e.code, "INVALID_FIELD");
	ck_assert_str_eq(e.msg, "segment 1 empty");
	ck_assert_int_eq(e.index, 3);
}
END_TEST

START_TEST(test_err_set_accepts_null_strings_and_null_record)
{
	eb_err e;

	ck_assert_int_eq(eb_err_set(&e, EB_ERR_JSON, NULL, NULL, NULL, -1, NULL),
			 EB_ERR_JSON);
	ck_assert_str_eq(e.rule, "");
	ck_assert_str_eq(e.field, "");
	ck_assert_str_eq(e.code, "");
	ck_assert_str_eq(e.msg, "");
	ck_assert_int_eq(e.index, -1);
	ck_assert_int_eq(eb_err_set(NULL, EB_ERR_LIMIT, "X", "y", "z", 0, "m"),
			 EB_ERR_LIMIT);
	eb_err_clear(NULL);
}
END_TEST

START_TEST(test_err_set_truncates_long_strings)
{
	eb_err e;
	char longs[600];

	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	eb_err_set(&e, EB_ERR_ARG, longs, longs, longs, 0, "%s", longs);
	ck_assert_uint_eq(strlen(e.rule), sizeof(e.rule) - 1);
	ck_assert_uint_eq(strlen(e.field), sizeof(e.field) - 1);
	ck_assert_uint_eq(strlen(e.code), sizeof(e.code) - 1);
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
}
END_TEST

START_TEST(test_err_set_truncates_on_utf8_boundaries_GEN_1)
{
	eb_err e;
	char s[700];
	size_t i, k;

	/* "é" (2 bytes) and "€" (3 bytes) and an emoji (4) at every offset */
	const char *chars[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };

	for (k = 0; k < 3; k++) {
		for (i = 0; i < 4; i++) {
			size_t n = i, cl = strlen(chars[k]);

			memset(s, 'a', i);
			while (n + cl < sizeof(s) - 1) {
				memcpy(s + n, chars[k], cl);
				n += cl;
			}
			s[n] = '\0';
			eb_err_set(&e, EB_ERR_ARG, s, s, s, 0, "%s", s);
			ck_assert(eb_utf8_valid(e.rule, strlen(e.rule)));
			ck_assert(eb_utf8_valid(e.field, strlen(e.field)));
			ck_assert(eb_utf8_valid(e.code, strlen(e.code)));
			ck_assert(eb_utf8_valid(e.msg, strlen(e.msg)));
			ck_assert_uint_ge(strlen(e.msg), sizeof(e.msg) - 4);
			/* "%s" is copied, other formats go through vsnprintf:
			 * both cut the same way */
			eb_err e2;
			eb_err_set(&e2, EB_ERR_ARG, NULL, NULL, NULL, 0, "%.*s", (int)strlen(s), s);
			ck_assert_str_eq(e.msg, e2.msg);
		}
	}
}
END_TEST

#define X10 "xxxxxxxxxx"
#define X250 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 \
	X10 X10 X10 X10 X10 X10 X10 X10 X10

/* Messages without conversions and "%s: %s" are copied, not formatted:
 * same text and the same cut as vsnprintf's ("%s%s%s" goes through it),
 * for every length around the record's size and every UTF-8 width. */
START_TEST(test_err_set_copied_formats_cut_as_vsnprintf_GEN_1)
{
	const char *chars[] = { "b", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	char a[400], b[400];
	const char *volatile nul = NULL;
	eb_err e, v;
	size_t la, lb, k, n;

	for (k = 0; k < 4; k++) {
		for (la = 0; la < 300; la += (la < 240 ? 37 : 1)) {
			memset(a, 'a', la);
			a[la] = '\0';
			for (lb = 0; lb < 270; lb += (lb < 200 ? 23 : 1)) {
				n = 0;
				while (n + strlen(chars[k]) <= lb) {
					memcpy(b + n, chars[k], strlen(chars[k]));
					n += strlen(chars[k]);
				}
				b[n] = '\0';
				eb_err_set(&e, EB_ERR_ARG, NULL, NULL, NULL, 0, "%s: %s", a, b);
				eb_err_set(&v, EB_ERR_ARG, NULL, NULL, NULL, 0, "%s%s%s", a, ": ", b);
				ck_assert_str_eq(e.msg, v.msg);
			}
		}
	}
	eb_err_set(&e, EB_ERR_ARG, NULL, NULL, NULL, 0, "%s: %s", nul, "x");
	ck_assert_str_eq(e.msg, "(null): x");
	eb_err_set(&e, EB_ERR_ARG, NULL, NULL, NULL, 0, X250 "abc\xe2\x82\xac\xe2\x82\xac");
	eb_err_set(&v, EB_ERR_ARG, NULL, NULL, NULL, 0, "%s", X250 "abc\xe2\x82\xac\xe2\x82\xac");
	ck_assert_str_eq(e.msg, v.msg);
	ck_assert_uint_eq(strlen(e.msg), 253);
	eb_err_set(&e, EB_ERR_ARG, NULL, NULL, NULL, 0, X250 "ab\xe2\x82\xac\xe2\x82\xac");
	ck_assert_uint_eq(strlen(e.msg), 255);
	eb_err_set(&e, EB_ERR_ARG, NULL, NULL, NULL, 0, "100%% sure");
	ck_assert_str_eq(e.msg, "100% sure");
}
END_TEST

static int vf(char *dst, size_t cap, bool ours, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int vf(char *dst, size_t cap, bool ours, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = ours ? eb_err_vformat(dst, cap, fmt, ap) : vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	return n;
}

/* eb_err_vformat is vsnprintf for what it copies itself: same bytes, same
 * return, at every buffer size, NULL strings included. */
START_TEST(test_err_vformat_is_vsnprintf_at_every_size)
{
	const char *volatile nul = NULL;
	char x[64], y[64];
	size_t cap;

	for (cap = 1; cap <= 24; cap++) {
		memset(x, 'Z', sizeof x);
		memset(y, 'Z', sizeof y);
		ck_assert_int_eq(vf(x, cap, true, "no conversions"),
				 vf(y, cap, false, "no conversions"));
		ck_assert_mem_eq(x, y, sizeof x);
		ck_assert_int_eq(vf(x, cap, true, "%s", "one string"),
				 vf(y, cap, false, "%s", "one string"));
		ck_assert_mem_eq(x, y, sizeof x);
		ck_assert_int_eq(vf(x, cap, true, "%s: %s", "field", "message"),
				 vf(y, cap, false, "%s: %s", "field", "message"));
		ck_assert_mem_eq(x, y, sizeof x);
		ck_assert_int_eq(vf(x, cap, true, "%s: %s", "field", nul),
				 vf(y, cap, false, "%s: %s", "field", nul));
		ck_assert_mem_eq(x, y, sizeof x);
		ck_assert_int_eq(vf(x, cap, true, "%s", nul), vf(y, cap, false, "%s", nul));
		ck_assert_mem_eq(x, y, sizeof x);
		ck_assert_int_eq(vf(x, cap, true, "n=%d", 42), vf(y, cap, false, "n=%d", 42));
		ck_assert_mem_eq(x, y, sizeof x);
	}
}
END_TEST

START_TEST(test_err_clear_resets_to_no_error)
{
	eb_err e;

	eb_err_set(&e, EB_ERR_SHAPE, "A-1", "f", "C", 7, "m");
	eb_err_clear(&e);
	ck_assert_str_eq(e.rule, "");
	ck_assert_str_eq(e.field, "");
	ck_assert_str_eq(e.code, "");
	ck_assert_str_eq(e.msg, "");
	ck_assert_int_eq(e.index, -1);
}
END_TEST

START_TEST(test_rc_names_are_distinct_and_never_null)
{
	int i, j;

	for (i = EB_OK; i <= EB_ERR_INTERNAL; i++) {
		ck_assert_ptr_nonnull(eb_rc_name((eb_rc)i));
		ck_assert(strncmp(eb_rc_name((eb_rc)i), "EB_", 3) == 0);
		for (j = EB_OK; j < i; j++)
			ck_assert_str_ne(eb_rc_name((eb_rc)i), eb_rc_name((eb_rc)j));
	}
	ck_assert_str_eq(eb_rc_name(EB_ERR_SHAPE), "EB_ERR_SHAPE");
	ck_assert_ptr_nonnull(eb_rc_name((eb_rc)999));
}
END_TEST

START_TEST(test_code_status_follows_the_table_ERR_1)
{
	ck_assert_int_eq(eb_code_http_status("INVALID_JSON"), 400);
	ck_assert_int_eq(eb_code_http_status("INVALID_REQUEST"), 400);
	ck_assert_int_eq(eb_code_http_status("INVALID_STORE_ID"), 400);
	ck_assert_int_eq(eb_code_http_status("UNAUTHORIZED"), 401);
	ck_assert_int_eq(eb_code_http_status("FORBIDDEN"), 403);
	ck_assert_int_eq(eb_code_http_status("NOT_FOUND"), 404);
	ck_assert_int_eq(eb_code_http_status("METHOD_NOT_ALLOWED"), 405);
	ck_assert_int_eq(eb_code_http_status("RESYNC_REQUIRED"), 409);
	ck_assert_int_eq(eb_code_http_status("CHANGE_ID_CONFLICT"), 409);
	ck_assert_int_eq(eb_code_http_status("PAYLOAD_TOO_LARGE"), 413);
	ck_assert_int_eq(eb_code_http_status("UNSUPPORTED_MEDIA_TYPE"), 415);
	ck_assert_int_eq(eb_code_http_status("LIMIT_EXCEEDED"), 422);
	ck_assert_int_eq(eb_code_http_status("TIMESTAMP_IN_FUTURE"), 422);
	ck_assert_int_eq(eb_code_http_status("RATE_LIMITED"), 429);
	ck_assert_int_eq(eb_code_http_status("INTERNAL"), 500);
	ck_assert_int_eq(eb_code_http_status("UNAVAILABLE"), 503);
}
END_TEST

START_TEST(test_code_status_of_unknown_code_is_500)
{
	ck_assert_int_eq(eb_code_http_status("NO_SUCH_CODE"), 500);
	ck_assert_int_eq(eb_code_http_status("invalid_json"), 500);
	ck_assert_int_eq(eb_code_http_status(""), 500);
	ck_assert_int_eq(eb_code_http_status(NULL), 500);
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("eb_error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_err_set_fills_every_member_and_returns_rc);
	tcase_add_test(tc, test_err_set_accepts_null_strings_and_null_record);
	tcase_add_test(tc, test_err_set_truncates_long_strings);
	tcase_add_test(tc, test_err_set_truncates_on_utf8_boundaries_GEN_1);
	tcase_add_test(tc, test_err_set_copied_formats_cut_as_vsnprintf_GEN_1);
	tcase_add_test(tc, test_err_vformat_is_vsnprintf_at_every_size);
	tcase_add_test(tc, test_err_clear_resets_to_no_error);
	tcase_add_test(tc, test_rc_names_are_distinct_and_never_null);
	tcase_add_test(tc, test_code_status_follows_the_table_ERR_1);
	tcase_add_test(tc, test_code_status_of_unknown_code_is_500);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(error_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
