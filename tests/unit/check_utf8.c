/*
 * check_utf8.c — the UTF-8 helpers every parser and writer shares.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_utf8.h"

static size_t seq(const char *s)
{
	return eb_utf8_seq_len((const unsigned char *)s, strlen(s));
}

START_TEST(test_ascii_is_one_byte)
{
	ck_assert_uint_eq(seq("a"), 1);
}
END_TEST

START_TEST(test_valid_sequences_of_two_to_four_bytes)
{
	ck_assert_uint_eq(seq("\xC3\xA9"), 2);          /* é */
	ck_assert_uint_eq(seq("\xE2\x82\xAC"), 3);      /* € */
	ck_assert_uint_eq(seq("\xF0\x9F\x98\x80"), 4);  /* U+1F600 */
	ck_assert_uint_eq(seq("\xF4\x8F\xBF\xBF"), 4);  /* U+10FFFF */
}
END_TEST

START_TEST(test_overlongs_surrogates_and_beyond_max_are_invalid)
{
	ck_assert_uint_eq(seq("\xC0\xAF"), 0);
	ck_assert_uint_eq(seq("\xC1\xBF"), 0);
	ck_assert_uint_eq(seq("\xE0\x80\xAF"), 0);
	ck_assert_uint_eq(seq("\xED\xA0\x80"), 0);      /* U+D800 */
	ck_assert_uint_eq(seq("\xF0\x80\x80\xAF"), 0);
	ck_assert_uint_eq(seq("\xF4\x90\x80\x80"), 0);  /* U+110000 */
	ck_assert_uint_eq(seq("\xF5\x80\x80\x80"), 0);
	ck_assert_uint_eq(seq("\x80"), 0);              /* lone continuation */
}
END_TEST

START_TEST(test_incomplete_sequence_is_invalid)
{
	ck_assert_uint_eq(eb_utf8_seq_len((const unsigned char *)"\xE2\x82", 2), 0);
	ck_assert_uint_eq(eb_utf8_seq_len((const unsigned char *)"\xF0\x9F\x98", 3), 0);
}
END_TEST

START_TEST(test_cut_never_splits_a_sequence)
{
	const char *s = "ab\xE2\x82\xAC";   /* "ab€": 5 bytes */

	ck_assert_uint_eq(eb_utf8_cut(s, 5), 5);
	ck_assert_uint_eq(eb_utf8_cut(s, 4), 2);
	ck_assert_uint_eq(eb_utf8_cut(s, 3), 2);
	ck_assert_uint_eq(eb_utf8_cut(s, 2), 2);
	ck_assert_uint_eq(eb_utf8_cut("\xF0\x9F\x98\x80", 3), 0);
	ck_assert_uint_eq(eb_utf8_cut("abc", 2), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_ascii_is_one_byte);
	tcase_add_test(tc, test_valid_sequences_of_two_to_four_bytes);
	tcase_add_test(tc, test_overlongs_surrogates_and_beyond_max_are_invalid);
	tcase_add_test(tc, test_incomplete_sequence_is_invalid);
	tcase_add_test(tc, test_cut_never_splits_a_sequence);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
