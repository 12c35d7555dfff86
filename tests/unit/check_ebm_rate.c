/*
 * check_ebm_rate.c — ebmock's token-bucket rate limiter
 * (mockserver/core/ebm_rate.c), driven by an explicit clock: no test
 * sleeps. RATE-1..5 of docs/PROTOCOL.md rest on these rules.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ebm_rate.h"

#define T0 1000000u   /* an arbitrary monotonic start, ms */

/* How many takes in a row succeed for key at now (stops at limit). */
static unsigned drain(ebm_buckets *b, const char *key, uint64_t now, unsigned limit)
{
	unsigned n = 0;
	while (n < limit && ebm_rate_take(b, key, now, NULL))
		n++;
	return n;
}

START_TEST(test_a_new_key_starts_with_a_full_bucket_of_burst_tokens)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 1, 5);
	ck_assert_uint_eq(drain(&b, "alice", T0, 100), 5);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_an_empty_bucket_refills_at_the_rate)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 4, 4);   /* one token every 250 ms */
	ck_assert_uint_eq(drain(&b, "k", T0, 100), 4);
	ck_assert(!ebm_rate_take(&b, "k", T0 + 249, NULL));
	ck_assert(ebm_rate_take(&b, "k", T0 + 250, NULL));
	ck_assert(!ebm_rate_take(&b, "k", T0 + 250, NULL));
	/* 750 ms later: three tokens */
	ck_assert_uint_eq(drain(&b, "k", T0 + 1000, 100), 3);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_a_long_pause_refills_no_more_than_the_burst)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 10, 3);
	ck_assert_uint_eq(drain(&b, "k", T0, 100), 3);
	ck_assert_uint_eq(drain(&b, "k", T0 + 3600 * 1000, 100), 3);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_retry_after_is_the_whole_seconds_until_the_next_token_at_least_one)
{
	ebm_buckets b = { 0 };
	unsigned retry = 0;
	ebm_rate_init(&b, 0.25, 1);   /* one token every 4 s */
	ck_assert(ebm_rate_take(&b, "slow", T0, &retry));
	ck_assert(!ebm_rate_take(&b, "slow", T0, &retry));
	ck_assert_uint_eq(retry, 4);
	ck_assert(!ebm_rate_take(&b, "slow", T0 + 2500, &retry));
	ck_assert_uint_eq(retry, 2);   /* 1.5 s rounded up */
	ebm_rate_clear(&b);

	ebm_rate_init(&b, 100, 1);     /* 10 ms to the next token: still 1 s */
	ck_assert(ebm_rate_take(&b, "fast", T0, &retry));
	ck_assert(!ebm_rate_take(&b, "fast", T0, &retry));
	ck_assert_uint_eq(retry, 1);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_each_key_has_a_bucket_of_its_own)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 1, 2);
	ck_assert_uint_eq(drain(&b, "alice", T0, 100), 2);
	ck_assert(!ebm_rate_take(&b, "alice", T0, NULL));
	/* another subject, and a key that only starts like alice's */
	ck_assert_uint_eq(drain(&b, "bob", T0, 100), 2);
	ck_assert_uint_eq(drain(&b, "alice2", T0, 100), 2);
	ck_assert(!ebm_rate_take(&b, "alice", T0, NULL));
	ck_assert_uint_eq(ebm_rate_count(&b), 3);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_a_rate_of_zero_limits_nothing_and_keeps_no_bucket)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 0, 1);
	ck_assert_uint_eq(drain(&b, "k", T0, 10000), 10000);
	ck_assert_uint_eq(ebm_rate_count(&b), 0);
	ebm_rate_clear(&b);
}
END_TEST

START_TEST(test_a_burst_of_zero_is_taken_as_one)
{
	ebm_buckets b = { 0 };
	ebm_rate_init(&b, 1, 0);
	ck_assert_uint_eq(drain(&b, "k", T0, 100), 1);
	ck_assert_uint_eq(drain(&b, "k", T0 + 1000, 100), 1);
	ebm_rate_clear(&b);
}
END_TEST

/* Many one-off keys (addresses) must not grow the table without bound:
 * once it holds 4 keys a slot, buckets that have refilled are dropped
 * (a full bucket is the same as none); those still short stay. */
START_TEST(test_refilled_buckets_are_swept_so_many_keys_cannot_grow_the_table)
{
	ebm_buckets b = { 0 };
	char key[32];
	unsigned i;
	ebm_rate_init(&b, 1, 1);
	for (i = 0; i < 1025; i++) {
		snprintf(key, sizeof key, "10.0.%u.%u", i / 256, i % 256);
		ck_assert(ebm_rate_take(&b, key, T0, NULL));
	}
	ck_assert_uint_eq(ebm_rate_count(&b), 1025);
	/* 1 ms later nothing has refilled: the sweep drops nothing */
	ck_assert(ebm_rate_take(&b, "late-1", T0 + 1, NULL));
	ck_assert_uint_eq(ebm_rate_count(&b), 1026);
	/* a second later every bucket is full again: swept */
	ck_assert(ebm_rate_take(&b, "late-2", T0 + 1000, NULL));
	ck_assert_uint_eq(ebm_rate_count(&b), 2);   /* late-1 (0.999 tokens), late-2 */
	/* a swept key starts over with a full bucket, not a fresh empty one */
	ck_assert(ebm_rate_take(&b, "10.0.0.0", T0 + 1000, NULL));
	ebm_rate_clear(&b);
	ck_assert_uint_eq(ebm_rate_count(&b), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ebm_rate");
	TCase *tc = tcase_create("buckets");
	tcase_add_test(tc, test_a_new_key_starts_with_a_full_bucket_of_burst_tokens);
	tcase_add_test(tc, test_an_empty_bucket_refills_at_the_rate);
	tcase_add_test(tc, test_a_long_pause_refills_no_more_than_the_burst);
	tcase_add_test(tc, test_retry_after_is_the_whole_seconds_until_the_next_token_at_least_one);
	tcase_add_test(tc, test_each_key_has_a_bucket_of_its_own);
	tcase_add_test(tc, test_a_rate_of_zero_limits_nothing_and_keeps_no_bucket);
	tcase_add_test(tc, test_a_burst_of_zero_is_taken_as_one);
	tcase_add_test(tc, test_refilled_buckets_are_swept_so_many_keys_cannot_grow_the_table);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
