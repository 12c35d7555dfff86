/*
 * check_buf.c — the growable string the encoders, the conformance runner
 * and ebfuzz build their text in.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"

START_TEST(test_appends_keep_the_buffer_nul_terminated)
{
	eb_buf b = { 0 };

	eb_buf_put(&b, "abcdef", 3);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(b.p[3], '\0');
	ck_assert_str_eq(b.p, "abc");
	eb_buf_str(&b, "de");
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.p, "abcde");
	eb_buf_fmt(&b, "%d", 42);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_str_eq(b.p, "abcde42");
	ck_assert_uint_ge(b.cap, b.len + 1);
	eb_buf_clear(&b);
}
END_TEST

START_TEST(test_an_empty_append_still_gives_an_empty_string)
{
	eb_buf a = { 0 }, f = { 0 };

	eb_buf_put(&a, NULL, 0);
	ck_assert_ptr_nonnull(a.p);
	ck_assert_str_eq(a.p, "");
	ck_assert_uint_eq(a.len, 0);
	eb_buf_fmt(&f, "%s", "");
	ck_assert_ptr_nonnull(f.p);
	ck_assert_str_eq(f.p, "");
	ck_assert_uint_eq(f.len, 0);
	eb_buf_clear(&a);
	eb_buf_clear(&f);
}
END_TEST

START_TEST(test_put_keeps_embedded_nul_bytes)
{
	eb_buf b = { 0 };

	eb_buf_put(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.p, "a\0b", 4);
	eb_buf_clear(&b);
}
END_TEST

START_TEST(test_many_appends_grow_the_buffer_and_keep_every_byte)
{
	eb_buf b = { 0 };
	size_t i, n = 100000;

	for (i = 0; i < n; i++)
		eb_buf_put(&b, &"0123456789"[i % 10], 1);
	ck_assert(!b.oom);
	ck_assert_uint_eq(b.len, n);
	ck_assert_uint_ge(b.cap, n + 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(b.p[i], '0' + (int)(i % 10));
	ck_assert_int_eq(b.p[n], '\0');
	eb_buf_clear(&b);
}
END_TEST

START_TEST(test_format_appends_beyond_the_initial_capacity)
{
	eb_buf b = { 0 };
	char *want = malloc(5001);

	ck_assert_ptr_nonnull(want);
	memset(want, 'x', 5000);
	want[5000] = '\0';
	eb_buf_str(&b, "<");
	eb_buf_fmt(&b, "%s>%d", want, 7);
	ck_assert(!b.oom);
	ck_assert_uint_eq(b.len, 5003);
	ck_assert_int_eq(b.p[0], '<');
	ck_assert_mem_eq(b.p + 1, want, 5000);
	ck_assert_str_eq(b.p + 5001, ">7");
	free(want);
	eb_buf_clear(&b);
}
END_TEST

/* Formatting straight into the spare room must give the same text whether
 * it fits, ends exactly at the end of the room, or spills past it. */
START_TEST(test_format_matches_snprintf_at_every_fill_level)
{
	char want[1024], got_tail[64];

	for (size_t k = 0; k < 600; k++) {
		eb_buf b = { 0 };

		for (size_t i = 0; i < k; i++)
			eb_buf_put(&b, "a", 1);
		eb_buf_fmt(&b, "[%zu|%s]", k, "tail-of-some-length");
		snprintf(got_tail, sizeof(got_tail), "[%zu|%s]", k, "tail-of-some-length");
		ck_assert(!b.oom);
		ck_assert_uint_eq(b.len, k + strlen(got_tail));
		memset(want, 'a', k);
		ck_assert_mem_eq(b.p, want, k);
		ck_assert_str_eq(b.p + k, got_tail);
		eb_buf_clear(&b);
	}
}
END_TEST

START_TEST(test_take_hands_over_the_string_and_leaves_the_buffer_empty)
{
	eb_buf b = { 0 };
	size_t len = 99;
	char *s;

	eb_buf_str(&b, "hello");
	s = eb_buf_take(&b, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "hello");
	ck_assert_uint_eq(len, 5);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert(!b.oom);
	/* the buffer is reusable and no longer shares storage with s */
	eb_buf_str(&b, "again");
	ck_assert_str_eq(b.p, "again");
	ck_assert_str_eq(s, "hello");
	free(s);
	s = eb_buf_take(&b, NULL);
	ck_assert_str_eq(s, "again");
	free(s);
}
END_TEST

/* The contract: NULL from take means out of memory, never "nothing written". */
START_TEST(test_an_empty_buffer_takes_as_an_allocated_empty_string)
{
	eb_buf b = { 0 };
	size_t len = 99;
	char *s = eb_buf_take(&b, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

START_TEST(test_an_append_too_large_for_memory_sets_oom_and_keeps_the_text)
{
	eb_buf b = { 0 };

	eb_buf_str(&b, "kept");
	eb_buf_put(&b, "x", SIZE_MAX - 2);
	ck_assert(b.oom);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq(b.p, "kept");
	eb_buf_clear(&b);
}
END_TEST

START_TEST(test_appends_after_oom_are_ignored)
{
	eb_buf b = { 0 };

	eb_buf_str(&b, "abc");
	b.oom = true;
	eb_buf_put(&b, "def", 3);
	eb_buf_str(&b, "ghi");
	eb_buf_fmt(&b, "%s", "jkl");
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq(b.p, "abc");
	eb_buf_clear(&b);
}
END_TEST

START_TEST(test_take_after_oom_gives_null_and_leaves_the_buffer_empty)
{
	eb_buf b = { 0 };
	size_t len = 99;

	eb_buf_str(&b, "abc");
	b.oom = true;
	ck_assert_ptr_null(eb_buf_take(&b, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(!b.oom);
}
END_TEST

START_TEST(test_clear_frees_and_resets_oom_and_accepts_null)
{
	eb_buf b = { 0 };

	eb_buf_str(&b, "abc");
	b.oom = true;
	eb_buf_clear(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert(!b.oom);
	eb_buf_str(&b, "x");
	ck_assert_str_eq(b.p, "x");
	eb_buf_clear(&b);
	eb_buf_clear(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_appends_keep_the_buffer_nul_terminated);
	tcase_add_test(tc, test_an_empty_append_still_gives_an_empty_string);
	tcase_add_test(tc, test_put_keeps_embedded_nul_bytes);
	tcase_add_test(tc, test_many_appends_grow_the_buffer_and_keep_every_byte);
	tcase_add_test(tc, test_format_appends_beyond_the_initial_capacity);
	tcase_add_test(tc, test_format_matches_snprintf_at_every_fill_level);
	tcase_add_test(tc, test_take_hands_over_the_string_and_leaves_the_buffer_empty);
	tcase_add_test(tc, test_an_empty_buffer_takes_as_an_allocated_empty_string);
	tcase_add_test(tc, test_an_append_too_large_for_memory_sets_oom_and_keeps_the_text);
	tcase_add_test(tc, test_appends_after_oom_are_ignored);
	tcase_add_test(tc, test_take_after_oom_gives_null_and_leaves_the_buffer_empty);
	tcase_add_test(tc, test_clear_frees_and_resets_oom_and_accepts_null);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
