/*
 * check_startat.c — ebload's synchronized start (eb_startat): the forms of
 * --start-at, the refusal of a time in the past or too far ahead, and a
 * wait that ends at the instant (not before, and not later than a scheduler
 * delay) or at a stop.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "eb_startat.h"

#define NOW_MS 1800000000000ULL   /* 2027-01-15, a fixed clock */

START_TEST(test_start_at_takes_relative_seconds_unix_seconds_and_unix_ms)
{
	uint64_t at = 0;
	char err[256];
	ck_assert_int_eq(eb_startat_parse("+20", NOW_MS, &at, err, sizeof err), 0);
	ck_assert_uint_eq(at, NOW_MS + 20000);
	ck_assert_int_eq(eb_startat_parse("+0.25", NOW_MS, &at, err, sizeof err), 0);
	ck_assert_uint_eq(at, NOW_MS + 250);
	ck_assert_int_eq(eb_startat_parse("1800000030", NOW_MS, &at, err, sizeof err), 0);
	ck_assert_uint_eq(at, NOW_MS + 30000);
	ck_assert_int_eq(eb_startat_parse("1800000000500", NOW_MS, &at, err, sizeof err), 0);
	ck_assert_uint_eq(at, NOW_MS + 500);
	ck_assert_int_eq(eb_startat_parse("+3600", NOW_MS, &at, err, sizeof err), 0);
}
END_TEST

START_TEST(test_start_at_in_the_past_or_over_an_hour_ahead_is_refused_with_a_reason)
{
	uint64_t at = 7;
	char err[256];
	ck_assert_int_eq(eb_startat_parse("1799999999", NOW_MS, &at, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "in the past"));
	ck_assert_int_eq(eb_startat_parse("1800000000000", NOW_MS, &at, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "in the past"));
	ck_assert_int_eq(eb_startat_parse("+3600.001", NOW_MS, &at, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "ahead"));
	/* a Unix time in ms with a digit lost reads as seconds, centuries ahead */
	ck_assert_int_eq(eb_startat_parse("18000000005", NOW_MS, &at, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "ahead"));
	static const char *const bad[] = { "", "+", "+0", "+-5", "+1.", "+1.2345", "12x",
					   "-5", "+999999", "now", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(eb_startat_parse(bad[i], NOW_MS, &at, err, sizeof err) == -1,
			      "'%s' accepted", bad[i]);
	ck_assert_uint_eq(at, 7);   /* untouched on failure */
}
END_TEST

START_TEST(test_start_wait_ends_at_the_instant_not_before)
{
	uint64_t at_ms = eb_startat_now_us() / 1000 + 150;
	uint64_t t = eb_startat_wait(at_ms, NULL);
	ck_assert_uint_ge(t, at_ms * 1000);
	/* a loaded machine may wake us late, never a whole second */
	ck_assert_uint_lt(t, at_ms * 1000 + 500000);
	/* an instant already past: at once */
	uint64_t before = eb_startat_now_us();
	t = eb_startat_wait(at_ms - 1000, NULL);
	ck_assert_uint_lt(t - before, 100000);
}
END_TEST

START_TEST(test_start_wait_ends_at_a_stop)
{
	volatile sig_atomic_t stop = 1;
	uint64_t before = eb_startat_now_us();
	uint64_t t = eb_startat_wait(before / 1000 + 60000, &stop);
	ck_assert_uint_lt(t - before, 100000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("startat");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_start_at_takes_relative_seconds_unix_seconds_and_unix_ms);
	tcase_add_test(t, test_start_at_in_the_past_or_over_an_hour_ahead_is_refused_with_a_reason);
	tcase_add_test(t, test_start_wait_ends_at_the_instant_not_before);
	tcase_add_test(t, test_start_wait_ends_at_a_stop);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
