/*
 * check_rules.c — the rule table generated from docs/PROTOCOL.md.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_rules.h"

START_TEST(test_rules_table_is_not_empty)
{
	ck_assert_uint_gt(eb_rules_count, 100);
}
END_TEST

START_TEST(test_every_rule_id_is_unique)
{
	size_t i, j;

	for (i = 0; i < eb_rules_count; i++)
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(eb_rules[i].id, eb_rules[j].id) != 0,
				      "rule id %s twice", eb_rules[i].id);
}
END_TEST

START_TEST(test_every_rule_has_a_level_section_and_text)
{
	size_t i;
	const char *lv;

	for (i = 0; i < eb_rules_count; i++) {
		lv = eb_rules[i].level;
		ck_assert_msg(strcmp(lv, "MUST") == 0 || strcmp(lv, "SHOULD") == 0 ||
			      strcmp(lv, "MAY") == 0, "%s: level %s",
			      eb_rules[i].id, lv);
		ck_assert_msg(eb_rules[i].section[0] != '\0', "%s: no section",
			      eb_rules[i].id);
		ck_assert_msg(strlen(eb_rules[i].text) > 10, "%s: no text",
			      eb_rules[i].id);
		/* markdown is stripped */
		ck_assert_ptr_null(strchr(eb_rules[i].text, '`'));
		ck_assert_ptr_null(strstr(eb_rules[i].text, "**"));
	}
}
END_TEST

START_TEST(test_rule_find_knows_the_rules_the_library_cites)
{
	const char *ids[] = {
		"GEN-1", "GEN-5", "GEN-6", "STORE-1", "CHG-1", "CHG-2", "CHG-3",
		"CHG-4", "CHG-5", "CHG-6", "CHG-7", "CHG-8", "TS-2", "SYNC-1",
		"SYNC-4", "SYNC-5", "SYNC-8", "VER-6", "FEED-1", "FEED-2",
		"FEED-5", "IDEM-4", "ERR-1", "ERR-2", "ERR-3", "LIMIT-2",
		"LIMIT-3", "LIMIT-4", "LIMIT-5", "LIMIT-7", "LIMIT-9",
		"LIMIT-10", "AUTH-9", "WS-AUTH-1", "WS-NOTIF-5",
	};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const eb_rule *r = eb_rule_find(ids[i]);

		ck_assert_msg(r != NULL, "rule %s missing", ids[i]);
		ck_assert_str_eq(r->id, ids[i]);
	}
}
END_TEST

START_TEST(test_rule_find_returns_sync_5_with_its_text)
{
	const eb_rule *r = eb_rule_find("SYNC-5");

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->level, "MUST");
	ck_assert_ptr_nonnull(strstr(r->section, "Sync"));
	ck_assert_ptr_nonnull(strstr(r->text, "lastKnownVersion"));
}
END_TEST

START_TEST(test_rule_levels_follow_the_keywords)
{
	ck_assert_str_eq(eb_rule_find("WS-6")->level, "SHOULD");
	ck_assert_str_eq(eb_rule_find("RATE-1")->level, "MUST");
	ck_assert_str_eq(eb_rule_find("CLIENT-POLL-4")->level, "MAY");
}
END_TEST

START_TEST(test_rule_find_refuses_unknown_ids)
{
	ck_assert_ptr_null(eb_rule_find("SYNC-99"));
	ck_assert_ptr_null(eb_rule_find("sync-5"));
	ck_assert_ptr_null(eb_rule_find(""));
	ck_assert_ptr_null(eb_rule_find(NULL));
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("eb_rules");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rules_table_is_not_empty);
	tcase_add_test(tc, test_every_rule_id_is_unique);
	tcase_add_test(tc, test_every_rule_has_a_level_section_and_text);
	tcase_add_test(tc, test_rule_find_knows_the_rules_the_library_cites);
	tcase_add_test(tc, test_rule_find_returns_sync_5_with_its_text);
	tcase_add_test(tc, test_rule_levels_follow_the_keywords);
	tcase_add_test(tc, test_rule_find_refuses_unknown_ids);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
