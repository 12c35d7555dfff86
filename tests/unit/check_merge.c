/*
 * check_merge.c — the merge oracle of PROTOCOL.md section 6: the worked
 * cases of MERGE-2..5 and the convergence property of MERGE-1 (every order
 * of the same changes gives the same state).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_merge.h"

/* ---- helpers -------------------------------------------------------------- */

static cJSON *json(const char *s)
{
	cJSON *v = NULL;
	ck_assert_msg(eb_json_parse(s, strlen(s), EB_JSON_MAX_DEPTH, &v, NULL) == EB_OK,
		      "bad test JSON %s", s);
	return v;
}

/* A change at path "a/b/c"; value JSON text for set, NULL for delete. */
static eb_change mk(const char *id, uint64_t ts, const char *path,
		    const char *value)
{
	eb_change c = { 0 };
	c.id = strdup(id);
	c.timestamp = ts;
	c.op = value ? EB_OP_SET : EB_OP_DELETE;
	c.value = value ? json(value) : NULL;
	char *p = strdup(path);
	c.path = calloc(33, sizeof *c.path);
	ck_assert_ptr_nonnull(c.id);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(c.path);
	char *save = p;
	for (char *seg = p;; ) {
		char *slash = strchr(seg, '/');
		if (slash)
			*slash = '\0';
		c.path[c.path_len++] = strdup(seg);
		if (!slash)
			break;
		seg = slash + 1;
	}
	free(save);
	return c;
}

static void clear_all(eb_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		eb_change_clear(&c[i]);
}

static char *canon(const cJSON *v)
{
	char *s = NULL;
	ck_assert_int_eq(eb_json_canonical(v, &s, NULL), EB_OK);
	return s;
}

/* The state of changes must canonically equal want (a JSON text). */
static void state_is(const eb_change *c, size_t n, const char *want)
{
	cJSON *st = NULL;
	eb_err err;
	ck_assert_int_eq(eb_merge_state(c, n, &st, &err), EB_OK);
	cJSON *w = json(want);
	char *got = canon(st), *exp = canon(w);
	ck_assert_str_eq(got, exp);
	free(got);
	free(exp);
	cJSON_Delete(w);
	cJSON_Delete(st);
}

/* As state_is, for the changes both in the given and in reversed order. */
static void state_is_both_ways(eb_change *c, size_t n, const char *want)
{
	state_is(c, n, want);
	for (size_t i = 0; i < n / 2; i++) {
		eb_change t = c[i];
		c[i] = c[n - 1 - i];
		c[n - 1 - i] = t;
	}
	state_is(c, n, want);
}

/* ---- worked cases ------------------------------------------------------------ */

START_TEST(test_merge_empty_set_of_changes_is_empty_object_MERGE_1)
{
	state_is(NULL, 0, "{}");
}
END_TEST

START_TEST(test_merge_set_creates_missing_intermediates_MERGE_2)
{
	eb_change c[] = { mk("1", 1, "users/u1/name", "\"Alice\"") };
	state_is(c, 1, "{\"users\":{\"u1\":{\"name\":\"Alice\"}}}");
	clear_all(c, 1);
}
END_TEST

START_TEST(test_merge_set_replaces_whole_subtree_MERGE_2)
{
	eb_change c[] = {
		mk("1", 1, "a", "{\"x\":1,\"y\":{\"z\":2}}"),
		mk("2", 2, "a", "{\"w\":3}"),
	};
	state_is_both_ways(c, 2, "{\"a\":{\"w\":3}}");
	clear_all(c, 2);
}
END_TEST

START_TEST(test_merge_set_null_value_is_kept_CHG_5)
{
	eb_change c[] = { mk("1", 1, "a/b", "null") };
	state_is(c, 1, "{\"a\":{\"b\":null}}");
	clear_all(c, 1);
}
END_TEST

START_TEST(test_merge_newer_set_below_applies_on_top_MERGE_4)
{
	eb_change c[] = {
		mk("1", 1, "a", "{\"x\":1}"),
		mk("2", 2, "a/y", "2"),
	};
	state_is_both_ways(c, 2, "{\"a\":{\"x\":1,\"y\":2}}");
	clear_all(c, 2);
}
END_TEST

START_TEST(test_merge_older_set_below_is_hidden_by_newer_set_above_MERGE_4)
{
	eb_change c[] = {
		mk("1", 1, "a/y", "2"),
		mk("2", 2, "a", "{\"x\":1}"),
		mk("3", 1, "a/x/deep", "true"),
	};
	state_is_both_ways(c, 3, "{\"a\":{\"x\":1}}");
	clear_all(c, 3);
}
END_TEST

START_TEST(test_merge_delete_then_newer_set_below_MERGE_3_MERGE_4)
{
	eb_change c[] = {
		mk("1", 1, "a", "{\"x\":1,\"y\":2}"),
		mk("2", 2, "a", NULL),
		mk("3", 3, "a/z", "3"),
		mk("4", 1, "a/w", "4"),   /* older than the delete: hidden */
	};
	state_is_both_ways(c, 4, "{\"a\":{\"z\":3}}");
	clear_all(c, 4);
}
END_TEST

START_TEST(test_merge_delete_removes_member_MERGE_3)
{
	eb_change c[] = {
		mk("1", 1, "a", "{\"x\":1,\"y\":2}"),
		mk("2", 2, "a/x", NULL),
	};
	state_is_both_ways(c, 2, "{\"a\":{\"y\":2}}");
	clear_all(c, 2);
}
END_TEST

START_TEST(test_merge_set_on_non_object_intermediate_replaces_it_MERGE_2)
{
	const char *scalars[] = { "5", "\"s\"", "[1,2]", "null", "true" };
	for (size_t i = 0; i < 5; i++) {
		eb_change c[] = {
			mk("1", 1, "a", scalars[i]),
			mk("2", 2, "a/b/c", "true"),
		};
		state_is_both_ways(c, 2, "{\"a\":{\"b\":{\"c\":true}}}");
		clear_all(c, 2);
	}
}
END_TEST

START_TEST(test_merge_delete_of_non_existent_path_creates_nothing_MERGE_3)
{
	eb_change c1[] = { mk("1", 1, "x/y/z", NULL) };
	state_is(c1, 1, "{}");
	clear_all(c1, 1);

	/* Below a scalar and below an array: no-op, the scalar stays. */
	eb_change c2[] = {
		mk("1", 1, "a", "5"),
		mk("2", 2, "a/b", NULL),
		mk("3", 1, "l", "[{\"b\":1}]"),
		mk("4", 2, "l/b", NULL),
		mk("5", 3, "m/n", NULL),
	};
	state_is_both_ways(c2, 5, "{\"a\":5,\"l\":[{\"b\":1}]}");
	clear_all(c2, 5);
}
END_TEST

START_TEST(test_merge_later_timestamp_wins_whatever_arrival_MERGE_1)
{
	eb_change c[] = {
		mk("z", 10, "k", "\"new\""),
		mk("a", 9, "k", "\"old\""),
	};
	state_is_both_ways(c, 2, "{\"k\":\"new\"}");
	clear_all(c, 2);
}
END_TEST

START_TEST(test_merge_equal_timestamps_order_by_id_bytewise_MERGE_1)
{
	eb_change c[] = {
		mk("b", 5, "k", "\"from b\""),
		mk("a", 5, "k", "\"from a\""),
	};
	state_is_both_ways(c, 2, "{\"k\":\"from b\"}");
	clear_all(c, 2);

	/* Unsigned bytes: 0xC3 (start of "é") sorts after 'z'. */
	eb_change u[] = {
		mk("\xc3\xa9", 5, "k", "\"accent\""),
		mk("z", 5, "k", "\"zed\""),
	};
	ck_assert_int_gt(eb_change_stamp_cmp(&u[0], &u[1]), 0);
	state_is_both_ways(u, 2, "{\"k\":\"accent\"}");
	clear_all(u, 2);

	/* A prefix sorts first. */
	eb_change p[] = { mk("ab", 5, "k", "2"), mk("a", 5, "k", "1") };
	state_is_both_ways(p, 2, "{\"k\":2}");
	clear_all(p, 2);
}
END_TEST

START_TEST(test_merge_equal_stamps_order_by_canonical_json_MERGE_5)
{
	/* Same id and timestamp, different content: the canonical JSON of
	 * {"id":"x","operation":"set","path":["k"],"timestamp":1,"value":V}
	 * orders value 2 after value 1, and "set" after "delete". */
	eb_change c[] = { mk("x", 1, "k", "2"), mk("x", 1, "k", "1") };
	ck_assert_int_gt(eb_change_stamp_cmp(&c[0], &c[1]), 0);
	state_is_both_ways(c, 2, "{\"k\":2}");
	clear_all(c, 2);

	eb_change d[] = { mk("x", 1, "k", "7"), mk("x", 1, "k", NULL) };
	state_is_both_ways(d, 2, "{\"k\":7}");
	clear_all(d, 2);

	/* Member order inside the value does not matter: canonical. */
	eb_change e[] = { mk("x", 1, "k", "{\"b\":1,\"a\":2}"),
			  mk("x", 1, "k", "{\"a\":2,\"b\":1}") };
	ck_assert_int_eq(eb_change_stamp_cmp(&e[0], &e[1]), 0);
	clear_all(e, 2);
}
END_TEST

START_TEST(test_merge_version_does_not_take_part_in_ordering_MERGE_5)
{
	eb_change a = mk("x", 1, "k", "1");
	eb_change b = mk("x", 1, "k", "1");
	b.has_version = true;
	b.version = 42;
	ck_assert_int_eq(eb_change_stamp_cmp(&a, &b), 0);
	ck_assert_int_eq(eb_change_stamp_cmp(&b, &a), 0);
	eb_change_clear(&a);
	eb_change_clear(&b);
}
END_TEST

START_TEST(test_merge_stamp_cmp_is_antisymmetric_MERGE_1)
{
	eb_change c[] = { mk("a", 1, "k", "1"), mk("a", 2, "k", "1"),
			  mk("b", 1, "k", "1"), mk("a", 1, "k", "2"),
			  mk("a", 1, "j", "1"), mk("a", 1, "k", NULL) };
	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(eb_change_stamp_cmp(&c[i], &c[i]), 0);
		for (size_t j = 0; j < 6; j++) {
			int x = eb_change_stamp_cmp(&c[i], &c[j]);
			int y = eb_change_stamp_cmp(&c[j], &c[i]);
			ck_assert_int_eq(x > 0, y < 0);
			ck_assert_int_eq(x == 0, i == j);
		}
	}
	clear_all(c, 6);
}
END_TEST

START_TEST(test_merge_duplicates_are_harmless_IDEM_2)
{
	eb_change c[] = { mk("1", 1, "a", "{\"x\":1}"), mk("2", 2, "a/y", "2"),
			  mk("1", 1, "a", "{\"x\":1}"), mk("2", 2, "a/y", "2") };
	state_is_both_ways(c, 4, "{\"a\":{\"x\":1,\"y\":2}}");
	clear_all(c, 4);
}
END_TEST

START_TEST(test_merge_values_are_deep_copied)
{
	eb_change c = mk("1", 1, "a", "{\"x\":[1,2]}");
	cJSON *st = NULL;
	ck_assert_int_eq(eb_merge_state(&c, 1, &st, NULL), EB_OK);
	eb_change_clear(&c);   /* the state must not borrow from the change */
	char *s = canon(st);
	ck_assert_str_eq(s, "{\"a\":{\"x\":[1,2]}}");
	free(s);

	/* Changing a change's value after applying it leaves the state alone. */
	eb_change d = mk("2", 2, "b", "{\"n\":1}");
	ck_assert_int_eq(eb_merge_apply(st, &d, NULL), EB_OK);
	cJSON_ReplaceItemInObjectCaseSensitive(d.value, "n", cJSON_CreateNumber(9));
	s = canon(st);
	ck_assert_str_eq(s, "{\"a\":{\"x\":[1,2]},\"b\":{\"n\":1}}");
	free(s);
	eb_change_clear(&d);
	s = canon(st);
	ck_assert_str_eq(s, "{\"a\":{\"x\":[1,2]},\"b\":{\"n\":1}}");
	free(s);
	cJSON_Delete(st);
}
END_TEST

START_TEST(test_merge_apply_refuses_bad_arguments)
{
	eb_err err;
	cJSON *arr = cJSON_CreateArray();
	cJSON *obj = cJSON_CreateObject();
	eb_change c = mk("1", 1, "a", "1");
	ck_assert_int_eq(eb_merge_apply(arr, &c, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_merge_apply(NULL, &c, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_merge_apply(obj, NULL, &err), EB_ERR_ARG);
	size_t len = c.path_len;
	c.path_len = 0;
	ck_assert_int_eq(eb_merge_apply(obj, &c, &err), EB_ERR_ARG);
	c.path_len = len;
	cJSON *v = c.value;
	c.value = NULL;   /* a set without a value */
	ck_assert_int_eq(eb_merge_apply(obj, &c, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_merge_state(&c, 1, NULL, &err), EB_ERR_ARG);
	cJSON *st = (cJSON *)1;
	ck_assert_int_eq(eb_merge_state(&c, 1, &st, &err), EB_ERR_ARG);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(err.index, 0);
	c.value = v;
	ck_assert_int_eq(eb_merge_state(NULL, 2, &st, &err), EB_ERR_ARG);
	char *s = canon(obj);
	ck_assert_str_eq(s, "{}");   /* nothing half-applied */
	free(s);
	eb_change_clear(&c);
	cJSON_Delete(arr);
	cJSON_Delete(obj);
}
END_TEST

/* ---- convergence property (MERGE-1) ------------------------------------------- */

/* Small deterministic PRNG (xorshift64*), so failures replay. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static const char *const rnd_values[] = {
	"1", "2", "\"s\"", "null", "true", "[1,2]", "{\"k\":1}",
	"{\"x\":{\"y\":2}}", "{\"y\":3,\"z\":[]}", "{}",
};

/* A random change drawn so that paths, stamps and even whole (ts, id)
 * pairs collide often. */
static eb_change rnd_change(uint64_t *s)
{
	static const char *const ids[] = { "a", "b", "c", "\xc3\xa9", "a1" };
	static const char *const segs[] = { "x", "y", "z" };
	char path[16] = "";
	size_t depth = 1 + rnd(s) % 3, n = 0;
	for (size_t i = 0; i < depth; i++)
		n += (size_t)snprintf(path + n, sizeof path - n, "%s%s", i ? "/" : "",
				      segs[rnd(s) % 3]);
	const char *val = rnd(s) % 3 == 0 ? NULL
				: rnd_values[rnd(s) % (sizeof rnd_values / sizeof *rnd_values)];
	return mk(ids[rnd(s) % 5], 1 + rnd(s) % 4, path, val);
}

/* Folds the changes one by one in stamp order with eb_merge_apply: the
 * incremental path a client uses must agree with eb_merge_state. */
static int cmp_ptr(const void *a, const void *b)
{
	return eb_change_stamp_cmp(*(const eb_change *const *)a,
				   *(const eb_change *const *)b);
}

static char *fold_state(const eb_change *c, size_t n)
{
	const eb_change **p = calloc(n ? n : 1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = &c[i];
	qsort(p, n, sizeof *p, cmp_ptr);
	cJSON *st = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(eb_merge_apply(st, p[i], NULL), EB_OK);
	char *s = canon(st);
	cJSON_Delete(st);
	free(p);
	return s;
}

static char *merged(const eb_change *c, size_t n)
{
	cJSON *st = NULL;
	ck_assert_int_eq(eb_merge_state(c, n, &st, NULL), EB_OK);
	char *s = canon(st);
	cJSON_Delete(st);
	return s;
}

START_TEST(test_merge_every_permutation_of_six_changes_converges_MERGE_1)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t distinct_states = 0;
	for (int set = 0; set < 8; set++) {
		eb_change c[6];
		for (int i = 0; i < 6; i++)
			c[i] = rnd_change(&seed);
		/* Half the sets get an equal stamp with other content (MERGE-5). */
		if (set % 2) {
			eb_change_clear(&c[5]);
			c[5] = mk(c[4].id, c[4].timestamp, "x", set % 4 == 1 ? "\"tie\"" : NULL);
		}
		char *want = merged(c, 6);
		char *fold = fold_state(c, 6);
		ck_assert_str_eq(fold, want);
		free(fold);
		if (strcmp(want, "{}"))
			distinct_states++;

		/* Heap's algorithm: all 720 orders. */
		eb_change perm[6];
		memcpy(perm, c, sizeof c);
		int cnt[6] = { 0 };
		size_t orders = 1;
		for (int i = 0; i < 6;) {
			if (cnt[i] < i) {
				int j = (i % 2) ? cnt[i] : 0;
				eb_change t = perm[j];
				perm[j] = perm[i];
				perm[i] = t;
				char *got = merged(perm, 6);
				ck_assert_msg(!strcmp(got, want), "set %d order %zu: %s != %s",
					      set, orders, got, want);
				free(got);
				orders++;
				cnt[i]++;
				i = 0;
			} else {
				cnt[i] = 0;
				i++;
			}
		}
		ck_assert_uint_eq(orders, 720);
		free(want);
		clear_all(c, 6);
	}
	/* The generator is not degenerate. */
	ck_assert_uint_ge(distinct_states, 4);
}
END_TEST

START_TEST(test_merge_random_shuffles_of_thirty_changes_converge_MERGE_1)
{
	uint64_t seed = 20240601;
	size_t ties = 0;
	for (int set = 0; set < 200; set++) {
		eb_change c[30];
		for (int i = 0; i < 30; i++)
			c[i] = rnd_change(&seed);
		/* Plant exact duplicates and equal stamps with other content. */
		eb_change_clear(&c[29]);
		ck_assert_int_eq(eb_change_copy(&c[29], &c[0]), EB_OK);
		eb_change_clear(&c[28]);
		c[28] = mk(c[1].id, c[1].timestamp, "x", "\"tie\"");
		for (int i = 0; i < 30; i++)
			for (int j = i + 1; j < 30; j++)
				if (c[i].timestamp == c[j].timestamp &&
				    !strcmp(c[i].id, c[j].id))
					ties++;

		char *want = merged(c, 30);
		char *fold = fold_state(c, 30);
		ck_assert_str_eq(fold, want);
		free(fold);
		eb_change sh[30];
		memcpy(sh, c, sizeof c);
		for (int round = 0; round < 10; round++) {
			for (int i = 29; i > 0; i--) {
				int j = (int)(rnd(&seed) % (uint64_t)(i + 1));
				eb_change t = sh[i];
				sh[i] = sh[j];
				sh[j] = t;
			}
			char *got = merged(sh, 30);
			ck_assert_msg(!strcmp(got, want), "set %d round %d: %s != %s",
				      set, round, got, want);
			free(got);
		}
		free(want);
		clear_all(c, 30);
	}
	ck_assert_uint_ge(ties, 400);
}
END_TEST

static Suite *merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *c = tcase_create("cases");
	tcase_add_test(c, test_merge_empty_set_of_changes_is_empty_object_MERGE_1);
	tcase_add_test(c, test_merge_set_creates_missing_intermediates_MERGE_2);
	tcase_add_test(c, test_merge_set_replaces_whole_subtree_MERGE_2);
	tcase_add_test(c, test_merge_set_null_value_is_kept_CHG_5);
	tcase_add_test(c, test_merge_newer_set_below_applies_on_top_MERGE_4);
	tcase_add_test(c, test_merge_older_set_below_is_hidden_by_newer_set_above_MERGE_4);
	tcase_add_test(c, test_merge_delete_then_newer_set_below_MERGE_3_MERGE_4);
	tcase_add_test(c, test_merge_delete_removes_member_MERGE_3);
	tcase_add_test(c, test_merge_set_on_non_object_intermediate_replaces_it_MERGE_2);
	tcase_add_test(c, test_merge_delete_of_non_existent_path_creates_nothing_MERGE_3);
	tcase_add_test(c, test_merge_later_timestamp_wins_whatever_arrival_MERGE_1);
	tcase_add_test(c, test_merge_equal_timestamps_order_by_id_bytewise_MERGE_1);
	tcase_add_test(c, test_merge_equal_stamps_order_by_canonical_json_MERGE_5);
	tcase_add_test(c, test_merge_version_does_not_take_part_in_ordering_MERGE_5);
	tcase_add_test(c, test_merge_stamp_cmp_is_antisymmetric_MERGE_1);
	tcase_add_test(c, test_merge_duplicates_are_harmless_IDEM_2);
	tcase_add_test(c, test_merge_values_are_deep_copied);
	tcase_add_test(c, test_merge_apply_refuses_bad_arguments);
	suite_add_tcase(s, c);

	c = tcase_create("property");
	tcase_set_timeout(c, 120);
	tcase_add_test(c, test_merge_every_permutation_of_six_changes_converges_MERGE_1);
	tcase_add_test(c, test_merge_random_shuffles_of_thirty_changes_converge_MERGE_1);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(merge_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
