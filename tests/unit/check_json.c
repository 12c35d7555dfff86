/*
 * check_json.c — strict parsing (GEN-1, GEN-6), integers (GEN-5) and the
 * canonical form of PROTOCOL.md 1.1.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"

/* Parses the literal s with the default depth; returns rc, frees the tree. */
static eb_rc parse_rc(const char *s, size_t len, eb_err *e)
{
	cJSON *v = NULL;
	eb_rc rc;

	eb_err_clear(e);
	rc = eb_json_parse(s, len, EB_JSON_MAX_DEPTH, &v, e);
	if (rc == EB_OK)
		ck_assert_ptr_nonnull(v);
	else
		ck_assert_ptr_null(v);
	cJSON_Delete(v);
	return rc;
}

#define ACCEPTS(lit) do { eb_err e_; \
	ck_assert_msg(parse_rc(lit, sizeof(lit) - 1, &e_) == EB_OK, \
		      "rejected %s: %s", #lit, e_.msg); } while (0)
#define REJECTS(lit, want_rule) do { eb_err e_; \
	ck_assert_int_eq(parse_rc(lit, sizeof(lit) - 1, &e_), EB_ERR_JSON); \
	ck_assert_str_eq(e_.rule, want_rule); \
	ck_assert_str_eq(e_.code, "INVALID_JSON"); } while (0)

static cJSON *must_parse(const char *s)
{
	cJSON *v = NULL;
	eb_err e;

	ck_assert_msg(eb_json_parse(s, strlen(s), EB_JSON_MAX_DEPTH, &v, &e) ==
		      EB_OK, "parse %s: %s", s, e.msg);
	return v;
}

static char *canon_of(const char *s)
{
	cJSON *v = must_parse(s);
	char *c = NULL;
	size_t n = 0;

	ck_assert_int_eq(eb_json_canonical(v, &c, &n), EB_OK);
	ck_assert_uint_eq(n, strlen(c));
	cJSON_Delete(v);
	return c;
}

static void assert_canon(const char *in, const char *want)
{
	char *c = canon_of(in);

	ck_assert_str_eq(c, want);
	free(c);
}

START_TEST(test_parse_accepts_valid_json_texts_GEN_1)
{
	ACCEPTS("{}");
	ACCEPTS("[]");
	ACCEPTS(" \t\r\n{\"a\" : [1, -0, 0.5, 1e2, 1E-2, true, false, null, \"x\"]} \n");
	ACCEPTS("0");
	ACCEPTS("\"\"");
	ACCEPTS("\"\\u00e9\\ud83d\\ude00 \\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	ACCEPTS("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(test_parse_rejects_malformed_json_GEN_1)
{
	REJECTS("", "GEN-1");
	REJECTS("   ", "GEN-1");
	REJECTS("{", "GEN-1");
	REJECTS("[1,]", "GEN-1");
	REJECTS("{\"a\":1,}", "GEN-1");
	REJECTS("{a:1}", "GEN-1");
	REJECTS("{'a':1}", "GEN-1");
	REJECTS("01", "GEN-1");
	REJECTS("-", "GEN-1");
	REJECTS("1.", "GEN-1");
	REJECTS(".5", "GEN-1");
	REJECTS("+1", "GEN-1");
	REJECTS("0x10", "GEN-1");
	REJECTS("NaN", "GEN-1");
	REJECTS("Infinity", "GEN-1");
	REJECTS("tru", "GEN-1");
	REJECTS("nulll", "GEN-1");
	REJECTS("\"abc", "GEN-1");
	REJECTS("\"a\\x\"", "GEN-1");
	REJECTS("\"\\u12\"", "GEN-1");
	REJECTS("\"tab\there\"", "GEN-1");
	REJECTS("\f{}", "GEN-1");
	REJECTS("\xef\xbb\xbf{}", "GEN-1");
}
END_TEST

START_TEST(test_parse_rejects_trailing_garbage_GEN_1)
{
	REJECTS("{} x", "GEN-1");
	REJECTS("{}{}", "GEN-1");
	REJECTS("1 2", "GEN-1");
	REJECTS("[1]]", "GEN-1");
	REJECTS("{}\0", "GEN-1"); /* an embedded NUL is not whitespace */
}
END_TEST

/* The refusal names the byte where the check stopped and why. */
START_TEST(test_parse_error_names_the_byte_and_the_reason_GEN_1)
{
	char big[12400];
	eb_err e;

	ck_assert_int_eq(parse_rc("", 0, &e), EB_ERR_JSON);
	ck_assert_str_eq(e.msg, "invalid JSON at byte 0: empty body");
	ck_assert_int_eq(parse_rc("[1,2}", 5, &e), EB_ERR_JSON);
	ck_assert_str_eq(e.msg, "invalid JSON at byte 4: expected ',' or ']'");
	memset(big, ' ', sizeof(big));
	big[12345] = 'x';
	ck_assert_int_eq(parse_rc(big, sizeof(big), &e), EB_ERR_JSON);
	ck_assert_str_eq(e.msg, "invalid JSON at byte 12345: unexpected character");
	ck_assert_int_eq(e.index, -1);
	ck_assert_str_eq(e.field, "");
}
END_TEST

/* Field by field: type, valueint, the double's bits, strings, names, links
 * (prev of a first child is the last, as cJSON links them). */
static void assert_same_tree(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y, *lx = NULL, *ly = NULL;

	ck_assert_int_eq(a->type, b->type);
	ck_assert_int_eq(a->valueint, b->valueint);
	ck_assert(memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) == 0);
	ck_assert(!a->valuestring == !b->valuestring);
	if (a->valuestring)
		ck_assert_str_eq(a->valuestring, b->valuestring);
	ck_assert(!a->string == !b->string);
	if (a->string)
		ck_assert_str_eq(a->string, b->string);
	for (x = a->child, y = b->child; x && y; lx = x, ly = y, x = x->next, y = y->next) {
		if (lx) {
			ck_assert_ptr_eq(x->prev, lx);
			ck_assert_ptr_eq(y->prev, ly);
		}
		assert_same_tree(x, y);
	}
	ck_assert(!x && !y);
	if (a->child) {
		ck_assert_ptr_eq(a->child->prev, lx);
		ck_assert_ptr_eq(b->child->prev, ly);
	}
}

START_TEST(test_parse_block_builds_the_tree_cjson_builds_GEN_1)
{
	static const char *texts[] = {
		"0", "-0", "1.5e+300", "-2147483648", "2147483647", "2147483648.5",
		"-2147483649", "1E-400", "123456789012345678901234567890",
		"0.1", "[1,-1.25e-7,3E2]", " \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n",
		"\"\"", "\"plain ascii run of more than eight bytes\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0001\\u007f\\u0080\\u07FF\\u0800\\uFFFF\"",
		"\"\\ud800\\udc00\\udbff\\udfff\\uD83D\\uDE00 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"{\"\\u00e9\":1,\"e\\u0301\":[true,false,null],\"\":{\"\":\"\"}}",
		"[[[[[[[[[[[\"deep\"]]]]]]]]]]]", "[\"a\",[\"b\",{\"c\":[1,2,3]}],4]",
		"{\"a\":1}x", "[1,2", "{\"a\":1,\"a\":2}", "1e999", "\"\\ud800\"", "",
	};
	size_t i;
	int limit;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (limit = 0; limit <= 40; limit += 20) {
			cJSON *a = NULL, *b = NULL;
			eb_err ea, eb;
			eb_rc ra, rb;

			memset(&ea, 0, sizeof(ea));
			memset(&eb, 0, sizeof(eb));
			ra = eb_json_parse(texts[i], strlen(texts[i]), limit, &a, &ea);
			rb = eb_json_parse_block(texts[i], strlen(texts[i]), limit, &b, &eb);
			ck_assert_int_eq(ra, rb);
			ck_assert_str_eq(ea.msg, eb.msg);
			ck_assert_str_eq(ea.rule, eb.rule);
			ck_assert(!a == !b);
			if (a)
				assert_same_tree(a, b);
			cJSON_Delete(a);
			eb_json_block_free(b);
		}
	}
	eb_json_block_free(NULL);
}
END_TEST

/* The counted size is the length of the canonical text, escapes, numbers,
 * sorted and large objects included. */
START_TEST(test_canonical_size_is_the_canonical_length)
{
	static const char *texts[] = {
		"0", "-0", "1.5e+300", "0.30000000000000004", "9007199254740993",
		"\"\\u0001\\u001f\\\"\\\\/\\t\\n\xc3\xa9\"", "[]", "{}", "[true,false,null]",
		"{\"b\":[1,{\"z\":\"\",\"a\":-2.5}],\"a\":{\"\":null}}",
	};
	char big[2048];
	cJSON *v;
	char *c;
	size_t i, n, len, k = 0;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = must_parse(texts[i]);
		ck_assert_int_eq(eb_json_canonical(v, &c, &len), EB_OK);
		ck_assert_int_eq(eb_json_canonical_size(v, &n), EB_OK);
		ck_assert_uint_eq(n, len);
		free(c);
		cJSON_Delete(v);
	}
	/* 40 members: sorted in an allocation */
	k += (size_t)snprintf(big + k, sizeof(big) - k, "{");
	for (i = 0; i < 40; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s\"m%zu\":%zu.5", i ? "," : "",
				      (i * 7) % 40, i);
	snprintf(big + k, sizeof(big) - k, "}");
	v = must_parse(big);
	ck_assert_int_eq(eb_json_canonical(v, &c, &len), EB_OK);
	ck_assert_int_eq(eb_json_canonical_size(v, &n), EB_OK);
	ck_assert_uint_eq(n, len);
	free(c);
	cJSON_Delete(v);
	ck_assert_int_eq(eb_json_canonical_size(NULL, NULL), EB_ERR_ARG);
}
END_TEST

START_TEST(test_parse_reads_exactly_len_bytes_GEN_1)
{
	cJSON *v = NULL;
	eb_err e;
	const char buf[] = "[1,2]garbage-not-read";

	ck_assert_int_eq(eb_json_parse(buf, 5, 4, &v, &e), EB_OK);
	ck_assert_int_eq(cJSON_GetArraySize(v), 2);
	cJSON_Delete(v);
	ck_assert_int_eq(eb_json_parse(buf, 4, 4, &v, &e), EB_ERR_JSON);
}
END_TEST

START_TEST(test_parse_rejects_bad_utf8_GEN_1)
{
	REJECTS("\"\xff\"", "GEN-1");
	REJECTS("\"\x80\"", "GEN-1");             /* lone continuation byte */
	REJECTS("\"\xc3\"", "GEN-1");             /* truncated sequence */
	REJECTS("\"\xe2\x82\"", "GEN-1");
	REJECTS("\"\xed\xa0\x80\"", "GEN-1");     /* encoded surrogate */
	REJECTS("\"\xf4\x90\x80\x80\"", "GEN-1"); /* above U+10FFFF */
	REJECTS("{\"k\xfe\":1}", "GEN-1");        /* in a member name */
}
END_TEST

START_TEST(test_parse_rejects_overlong_utf8_GEN_1)
{
	REJECTS("\"\xc0\xaf\"", "GEN-1");         /* '/' in 2 bytes */
	REJECTS("\"\xc1\xbf\"", "GEN-1");
	REJECTS("\"\xe0\x80\xaf\"", "GEN-1");     /* '/' in 3 bytes */
	REJECTS("\"\xe0\x9f\xbf\"", "GEN-1");
	REJECTS("\"\xf0\x80\x80\xaf\"", "GEN-1"); /* '/' in 4 bytes */
	REJECTS("\"\xf0\x8f\xbf\xbf\"", "GEN-1");
	ACCEPTS("\"\xe0\xa0\x80\"");              /* U+0800, shortest form */
	ACCEPTS("\"\xf0\x90\x80\x80\"");          /* U+10000 */
	ACCEPTS("\"\xf4\x8f\xbf\xbf\"");          /* U+10FFFF */
}
END_TEST

START_TEST(test_parse_rejects_lone_surrogate_escapes_GEN_1)
{
	REJECTS("\"\\ud800\"", "GEN-1");
	REJECTS("\"\\ud800x\"", "GEN-1");
	REJECTS("\"\\ud800\\u0041\"", "GEN-1");
	REJECTS("\"\\udc00\"", "GEN-1");
	REJECTS("\"\\udc00\\ud800\"", "GEN-1");
	ACCEPTS("\"\\uD83D\\uDE00\"");
}
END_TEST

START_TEST(test_parse_rejects_nul_escape_it_cannot_keep_GEN_1)
{
	REJECTS("\"a\\u0000b\"", "GEN-1");
	ACCEPTS("\"a\\u0001b\"");
}
END_TEST

START_TEST(test_parse_rejects_numbers_outside_double_range_GEN_1)
{
	REJECTS("1e400", "GEN-1");
	REJECTS("[-1e400]", "GEN-1");
	ACCEPTS("1e-400"); /* underflows to 0: still a finite value */
}
END_TEST

START_TEST(test_parse_rejects_number_literals_cjson_would_truncate_GEN_1)
{
	char buf[80];

	memset(buf, '1', 63);
	ck_assert_int_eq(parse_rc(buf, 63, &(eb_err){0}), EB_OK);
	memset(buf, '1', 64);
	ck_assert_int_eq(parse_rc(buf, 64, &(eb_err){0}), EB_ERR_JSON);
}
END_TEST

START_TEST(test_parse_rejects_duplicate_member_names_GEN_6)
{
	REJECTS("{\"a\":1,\"a\":1}", "GEN-6");
	REJECTS("{\"a\":1,\"b\":2,\"a\":3}", "GEN-6");
	REJECTS("{\"\":1,\"\":2}", "GEN-6");
	/* an escaped spelling of the same name is the same name */
	REJECTS("{\"a\":1,\"\\u0061\":2}", "GEN-6");
}
END_TEST

START_TEST(test_parse_rejects_nested_duplicate_member_names_GEN_6)
{
	REJECTS("{\"x\":{\"y\":[{\"a\":1,\"a\":2}]}}", "GEN-6");
	REJECTS("[[{\"k\":{}, \"k\":[]}]]", "GEN-6");
	ACCEPTS("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
	ACCEPTS("{\"a\":1,\"A\":2}");
}
END_TEST

START_TEST(test_parse_rejects_duplicates_in_a_large_object_GEN_6)
{
	size_t cap = 20000 * 16, n = 0;
	char *buf = malloc(cap);
	int i;

	ck_assert_ptr_nonnull(buf);
	buf[n++] = '{';
	for (i = 0; i < 20000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s\"k%d\":1",
				      i ? "," : "", i);
	buf[n++] = '}';
	ck_assert_int_eq(parse_rc(buf, n, &(eb_err){0}), EB_OK);
	n--;
	n += (size_t)snprintf(buf + n, cap - n, ",\"k777\":2}");
	ck_assert_int_eq(parse_rc(buf, n, &(eb_err){0}), EB_ERR_JSON);
	free(buf);
}
END_TEST

/* Text of depth d: d '[' then d ']'. */
static char *nested(int d, size_t *len)
{
	char *s = malloc((size_t)d * 2 + 1);
	int i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < d; i++) {
		s[i] = '[';
		s[d + i] = ']';
	}
	s[2 * d] = '\0';
	*len = (size_t)d * 2;
	return s;
}

START_TEST(test_parse_enforces_depth_limit_exactly)
{
	cJSON *v = NULL;
	eb_err e;
	size_t len;
	char *s = nested(10, &len);

	ck_assert_int_eq(eb_json_parse(s, len, 10, &v, &e), EB_OK);
	ck_assert_int_eq(eb_json_depth(v), 10);
	cJSON_Delete(v);
	ck_assert_int_eq(eb_json_parse(s, len, 9, &v, &e), EB_ERR_JSON);
	ck_assert_str_eq(e.code, "INVALID_JSON");
	free(s);
	/* braces count as well, and brackets inside strings do not */
	ck_assert_int_eq(eb_json_parse("{\"a\":{}}", 8, 1, &v, &e), EB_ERR_JSON);
	ck_assert_int_eq(eb_json_parse("[\"[[[[\"]", 8, 1, &v, &e), EB_OK);
	cJSON_Delete(v);
}
END_TEST

START_TEST(test_parse_survives_very_deep_nesting)
{
	size_t len;
	char *s = nested(100000, &len);
	cJSON *v = NULL;
	eb_err e;

	ck_assert_int_eq(eb_json_parse(s, len, EB_JSON_MAX_DEPTH, &v, &e),
			 EB_ERR_JSON);
	ck_assert_int_eq(eb_json_parse(s, len, 1 << 30, &v, &e), EB_ERR_JSON);
	free(s);
}
END_TEST

START_TEST(test_parse_refuses_bad_arguments)
{
	cJSON *v = NULL;
	eb_err e;

	ck_assert_int_eq(eb_json_parse("{}", 2, 4, NULL, &e), EB_ERR_ARG);
	ck_assert_int_eq(eb_json_parse(NULL, 2, 4, &v, &e), EB_ERR_ARG);
	ck_assert_int_eq(eb_json_parse("{}", 2, -1, &v, &e), EB_ERR_ARG);
	ck_assert_int_eq(eb_json_parse(NULL, 0, 4, &v, NULL), EB_ERR_JSON);
}
END_TEST

START_TEST(test_depth_counts_containers)
{
	cJSON *v = must_parse("[1,{\"a\":[[]]},{}]");

	ck_assert_int_eq(eb_json_depth(v), 4);
	ck_assert_int_eq(eb_json_depth(v->child), 0);
	ck_assert_int_eq(eb_json_depth(NULL), 0);
	cJSON_Delete(v);
}
END_TEST

START_TEST(test_uint53_accepts_integral_values_GEN_5)
{
	const char *ok[] = { "0", "1", "1.0", "1e2", "100E0", "9007199254740991",
			     "-0" };
	const uint64_t want[] = { 0, 1, 1, 100, 100, 9007199254740991ULL, 0 };
	size_t i;
	uint64_t u;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cJSON *v = must_parse(ok[i]);

		u = 77;
		ck_assert_msg(eb_json_get_uint53(v, &u), "%s refused", ok[i]);
		ck_assert_uint_eq(u, want[i]);
		cJSON_Delete(v);
	}
}
END_TEST

START_TEST(test_uint53_rejects_fractions_negatives_and_range_GEN_5)
{
	const char *bad[] = { "1.5", "-1", "1e300", "9007199254740992",
			      "0.1", "\"1\"", "true", "null", "[1]", "{}" };
	size_t i;
	uint64_t u = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *v = must_parse(bad[i]);

		ck_assert_msg(!eb_json_get_uint53(v, &u), "%s accepted", bad[i]);
		cJSON_Delete(v);
	}
	ck_assert(!eb_json_get_uint53(NULL, &u));
}
END_TEST

START_TEST(test_canonical_sorts_members_bytewise)
{
	assert_canon("{\"b\":1,\"a\":2,\"B\":3,\"\":0}", "{\"\":0,\"B\":3,\"a\":2,\"b\":1}");
	assert_canon("{\"z\":{\"y\":1,\"x\":[{\"d\":1,\"c\":2}]}}",
		     "{\"z\":{\"x\":[{\"c\":2,\"d\":1}],\"y\":1}}");
	/* bytewise on UTF-8: U+00E9 (0xC3..) sorts after 'z' */
	assert_canon("{\"\xc3\xa9\":1,\"z\":2}", "{\"z\":2,\"\xc3\xa9\":1}");
}
END_TEST

START_TEST(test_canonical_has_no_whitespace_and_minimal_escapes)
{
	assert_canon(" [ 1 , \"a\" , { } , [ ] ] ", "[1,\"a\",{},[]]");
	assert_canon("\"\\u0041\\/\\u00e9\"", "\"A/\xc3\xa9\"");
	assert_canon("\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\\u007f\"",
		     "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\x7f\"");
	/* strings are scanned and printed eight bytes at a time: each
	 * escaped byte at every place of a 20-byte string, next to UTF-8 */
	static const char *const esc[][2] = {
		{ "\\\"", "\\\"" }, { "\\\\", "\\\\" }, { "\\n", "\\n" },
		{ "\\u0001", "\\u0001" }, { "\\u001f", "\\u001f" }, { "\\u00e9", "\xc3\xa9" },
	};
	for (size_t e = 0; e < sizeof esc / sizeof esc[0]; e++)
		for (int at = 0; at <= 20; at++) {
			char in[64], want[64];

			snprintf(in, sizeof in, "\"%.*s%s%.*s\xc3\xa9!\"", at, "abcdefghijklmnopqrst",
				 esc[e][0], 20 - at, "ABCDEFGHIJKLMNOPQRST");
			snprintf(want, sizeof want, "\"%.*s%s%.*s\xc3\xa9!\"", at, "abcdefghijklmnopqrst",
				 esc[e][1], 20 - at, "ABCDEFGHIJKLMNOPQRST");
			assert_canon(in, want);
		}
}
END_TEST

START_TEST(test_canonical_prints_integers_as_integers)
{
	assert_canon("[1.0,1e2,-0,-5,9007199254740992,1640995200000]",
		     "[1,100,0,-5,9007199254740992,1640995200000]");
	assert_canon("[0.5,1e300]", "[0.5,1.0000000000000001e+300]");
}
END_TEST

START_TEST(test_canon_equal_one_and_one_point_zero)
{
	cJSON *a = must_parse("1"), *b = must_parse("1.0"), *c = must_parse("10e-1");

	ck_assert(eb_json_canon_equal(a, b));
	ck_assert(eb_json_canon_equal(b, a));
	ck_assert(eb_json_canon_equal(a, c));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}
END_TEST

START_TEST(test_canon_equal_is_key_order_independent_and_symmetric)
{
	cJSON *a = must_parse("{\"a\":1,\"b\":{\"c\":[1,2],\"d\":null}}");
	cJSON *b = must_parse("{ \"b\" : { \"d\" : null, \"c\" : [1, 2.0] }, \"a\" : 1 }");
	cJSON *c = must_parse("{\"a\":1,\"b\":{\"c\":[2,1],\"d\":null}}");

	ck_assert(eb_json_canon_equal(a, b));
	ck_assert(eb_json_canon_equal(b, a));
	ck_assert(!eb_json_canon_equal(a, c)); /* array order matters */
	ck_assert(!eb_json_canon_equal(c, a));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}
END_TEST

START_TEST(test_canon_equal_distinguishes_types_and_null_pointers)
{
	cJSON *n = must_parse("null"), *z = must_parse("0"), *s = must_parse("\"0\"");
	cJSON *f = must_parse("false");

	ck_assert(!eb_json_canon_equal(n, z));
	ck_assert(!eb_json_canon_equal(z, s));
	ck_assert(!eb_json_canon_equal(z, f));
	ck_assert(eb_json_canon_equal(NULL, NULL));
	ck_assert(!eb_json_canon_equal(n, NULL));
	ck_assert(!eb_json_canon_equal(NULL, n));
	cJSON_Delete(n);
	cJSON_Delete(z);
	cJSON_Delete(s);
	cJSON_Delete(f);
}
END_TEST

/* canon_equal(a, b) is exactly "same canonical text", also on trees a
 * parse never yields: -0, non-finite numbers and raw nodes (printed
 * null), repeated member names, integers past 2^53, objects larger than
 * the printer's stack array. */
static void assert_equal_iff_same_canonical(const cJSON *a, const cJSON *b)
{
	char *ca = NULL, *cb = NULL;
	bool same;

	ck_assert_int_eq(eb_json_canonical(a, &ca, NULL), EB_OK);
	ck_assert_int_eq(eb_json_canonical(b, &cb, NULL), EB_OK);
	same = strcmp(ca, cb) == 0;
	ck_assert_msg(eb_json_canon_equal(a, b) == same, "%s vs %s", ca, cb);
	ck_assert_msg(eb_json_canon_equal(b, a) == same, "%s vs %s", cb, ca);
	free(ca);
	free(cb);
}

static cJSON *big_object(int n, int skip, const char *extra)
{
	cJSON *o = cJSON_CreateObject();
	char name[16];
	int i;

	for (i = n - 1; i >= 0; i--) {
		if (i == skip)
			continue;
		snprintf(name, sizeof name, "m%02d", i);
		cJSON_AddNumberToObject(o, name, i);
	}
	if (extra)
		cJSON_AddStringToObject(o, extra, "x");
	return o;
}

START_TEST(test_canon_equal_is_equal_canonical_text_on_built_trees)
{
	cJSON *v[18];
	size_t i, j, n = 0;
	cJSON *d1, *d2;

	v[n++] = cJSON_CreateNumber(0.0);
	v[n++] = cJSON_CreateNumber(-0.0);
	v[n++] = cJSON_CreateNumber(HUGE_VAL);
	v[n++] = cJSON_CreateNumber(-HUGE_VAL);
	v[n++] = cJSON_CreateNull();
	v[n++] = cJSON_CreateRaw("[1]");
	v[n++] = cJSON_CreateNumber(9007199254740992.0);
	v[n++] = cJSON_CreateNumber(9007199254740994.0);
	v[n++] = cJSON_CreateNumber(0.1);
	v[n++] = cJSON_CreateNumber(0.30000000000000004);
	v[n++] = cJSON_CreateString("");
	v[n++] = cJSON_CreateString("a\"b");
	/* repeated names: printed in the sorted order of both trees */
	d1 = cJSON_CreateObject();
	cJSON_AddNumberToObject(d1, "k", 1);
	cJSON_AddNumberToObject(d1, "k", 2);
	d2 = cJSON_CreateObject();
	cJSON_AddNumberToObject(d2, "k", 2);
	cJSON_AddNumberToObject(d2, "k", 1);
	v[n++] = d1;
	v[n++] = d2;
	v[n++] = big_object(40, -1, NULL);
	v[n++] = big_object(40, 7, "m07");
	v[n++] = big_object(41, -1, NULL);
	v[n++] = cJSON_CreateArray();
	ck_assert_uint_eq(n, sizeof v / sizeof v[0]);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(v[i]);
		for (j = 0; j < n; j++)
			assert_equal_iff_same_canonical(v[i], v[j]);
	}
	/* the cases the check above must see both ways */
	ck_assert(eb_json_canon_equal(v[0], v[1]));   /* -0 prints 0 */
	ck_assert(eb_json_canon_equal(v[2], v[4]));   /* inf prints null */
	ck_assert(eb_json_canon_equal(v[5], v[4]));   /* raw prints null */
	ck_assert(!eb_json_canon_equal(v[6], v[7]));
	ck_assert(!eb_json_canon_equal(v[14], v[16]));
	ck_assert(!eb_json_canon_equal(v[14], v[15]));
	for (i = 0; i < n; i++)
		cJSON_Delete(v[i]);
}
END_TEST

START_TEST(test_round_trip_parse_encode_parse_is_canonically_equal)
{
	const char *texts[] = {
		"{\"b\":[1,2.5,-3e-7,\"x\\ny\"],\"a\":{\"\":null,\"t\":true}}",
		"[\"\\ud83d\\ude00\",\"\\u0001\",0.1,123456789012345]",
		"\"only a string\"",
		"[[[[[]]]],{}]",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cJSON *a = must_parse(texts[i]), *b, *c;
		char *canon = NULL, *printed = cJSON_PrintUnformatted(a);

		ck_assert_int_eq(eb_json_canonical(a, &canon, NULL), EB_OK);
		b = must_parse(canon);
		c = must_parse(printed);
		ck_assert(eb_json_canon_equal(a, b));
		ck_assert(eb_json_canon_equal(a, c));
		free(canon);
		free(printed);
		cJSON_Delete(a);
		cJSON_Delete(b);
		cJSON_Delete(c);
	}
}
END_TEST

START_TEST(test_print_keeps_member_order_and_is_compact)
{
	cJSON *v = must_parse(" { \"b\" : 1 , \"a\" : [ true , null , \"x\" ] } ");
	char *out = NULL;
	size_t n = 0;

	ck_assert_int_eq(eb_json_print(v, &out, &n), EB_OK);
	ck_assert_str_eq(out, "{\"b\":1,\"a\":[true,null,\"x\"]}");
	ck_assert_uint_eq(n, strlen(out));
	free(out);
	cJSON_Delete(v);
}
END_TEST

START_TEST(test_print_numbers_read_back_exactly)
{
	const char *texts[] = { "9007199254740991", "-9007199254740991",
				"0.30000000000000004", "0.1", "1e300", "5e-324",
				"1.7976931348623157e308", "123456789.123456789",
				"1640995200000" };
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cJSON *a = must_parse(texts[i]), *b;
		char *out = NULL;

		ck_assert_int_eq(eb_json_print(a, &out, NULL), EB_OK);
		b = must_parse(out);
		ck_assert_msg(a->valuedouble == b->valuedouble, "%s printed as %s",
			      texts[i], out);
		free(out);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	assert_canon("9007199254740991", "9007199254740991");
}
END_TEST

START_TEST(test_print_uses_shortest_exact_form)
{
	cJSON *v = must_parse("[0.1,2.5,1e21,100]");
	char *out = NULL;

	ck_assert_int_eq(eb_json_print(v, &out, NULL), EB_OK);
	ck_assert_str_eq(out, "[0.1,2.5,1e+21,100]");
	free(out);
	cJSON_Delete(v);
}
END_TEST

START_TEST(test_utf8_valid_checks_sequences)
{
	ck_assert(eb_utf8_valid("", 0));
	ck_assert(eb_utf8_valid("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 12));
	ck_assert(eb_utf8_valid("a\0b", 3));
	ck_assert(!eb_utf8_valid("\xc0\x80", 2));
	ck_assert(!eb_utf8_valid("\xed\xbf\xbf", 3));
	ck_assert(!eb_utf8_valid("\xe2\x82", 2));
	ck_assert(!eb_utf8_valid("\xf5\x80\x80\x80", 4));
	ck_assert(!eb_utf8_valid("\xc3\xa9", 1)); /* cut by len */
	/* runs of ASCII are read eight bytes at a time: a bad byte at any
	 * place of a word, and a sequence across two words */
	for (int at = 0; at < 17; at++) {
		char t[24];

		memset(t, 'a', sizeof t);
		t[at] = (char)0xff;
		ck_assert_msg(!eb_utf8_valid(t, sizeof t), "0xff at %d", at);
		memset(t, 'a', sizeof t);
		t[at] = (char)0xc3;
		t[at + 1] = (char)0xa9;
		ck_assert_msg(eb_utf8_valid(t, sizeof t), "U+00E9 at %d", at);
		ck_assert_msg(!eb_utf8_valid(t, (size_t)at + 1), "cut U+00E9 at %d", at);
	}
	ck_assert(eb_utf8_valid("abcdefgh\0ijklmnop", 17));
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("eb_json");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_parse_accepts_valid_json_texts_GEN_1);
	tcase_add_test(tc, test_parse_rejects_malformed_json_GEN_1);
	tcase_add_test(tc, test_parse_rejects_trailing_garbage_GEN_1);
	tcase_add_test(tc, test_parse_error_names_the_byte_and_the_reason_GEN_1);
	tcase_add_test(tc, test_parse_block_builds_the_tree_cjson_builds_GEN_1);
	tcase_add_test(tc, test_canonical_size_is_the_canonical_length);
	tcase_add_test(tc, test_parse_reads_exactly_len_bytes_GEN_1);
	tcase_add_test(tc, test_parse_rejects_bad_utf8_GEN_1);
	tcase_add_test(tc, test_parse_rejects_overlong_utf8_GEN_1);
	tcase_add_test(tc, test_parse_rejects_lone_surrogate_escapes_GEN_1);
	tcase_add_test(tc, test_parse_rejects_nul_escape_it_cannot_keep_GEN_1);
	tcase_add_test(tc, test_parse_rejects_numbers_outside_double_range_GEN_1);
	tcase_add_test(tc, test_parse_rejects_number_literals_cjson_would_truncate_GEN_1);
	tcase_add_test(tc, test_parse_rejects_duplicate_member_names_GEN_6);
	tcase_add_test(tc, test_parse_rejects_nested_duplicate_member_names_GEN_6);
	tcase_add_test(tc, test_parse_rejects_duplicates_in_a_large_object_GEN_6);
	tcase_add_test(tc, test_parse_enforces_depth_limit_exactly);
	tcase_add_test(tc, test_parse_survives_very_deep_nesting);
	tcase_add_test(tc, test_parse_refuses_bad_arguments);
	tcase_add_test(tc, test_depth_counts_containers);
	tcase_add_test(tc, test_uint53_accepts_integral_values_GEN_5);
	tcase_add_test(tc, test_uint53_rejects_fractions_negatives_and_range_GEN_5);
	tcase_add_test(tc, test_canonical_sorts_members_bytewise);
	tcase_add_test(tc, test_canonical_has_no_whitespace_and_minimal_escapes);
	tcase_add_test(tc, test_canonical_prints_integers_as_integers);
	tcase_add_test(tc, test_canon_equal_one_and_one_point_zero);
	tcase_add_test(tc, test_canon_equal_is_key_order_independent_and_symmetric);
	tcase_add_test(tc, test_canon_equal_distinguishes_types_and_null_pointers);
	tcase_add_test(tc, test_canon_equal_is_equal_canonical_text_on_built_trees);
	tcase_add_test(tc, test_round_trip_parse_encode_parse_is_canonically_equal);
	tcase_add_test(tc, test_print_keeps_member_order_and_is_compact);
	tcase_add_test(tc, test_print_numbers_read_back_exactly);
	tcase_add_test(tc, test_print_uses_shortest_exact_form);
	tcase_add_test(tc, test_utf8_valid_checks_sequences);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
