/*
 * check_report.c — the report module: the result store, the console summary
 * and progress line, the JSON format and its reader, JUnit XML, the HTML
 * report and the eb_html chart helpers.
 *
 * JUnit and HTML output is checked by a small well-formedness checker below;
 * when xmllint is installed the JUnit file is also validated with it.
 */
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_html.h"
#include "eb_json.h"
#include "eb_report.h"
#include "eb_rules.h"

/* ---- fixture: a temporary directory per test --------------------------------- */

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_report.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_path(const char *name)
{
	static char buf[4][160];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* ---- a well-formedness checker (XML, or HTML with void elements) ---------------- */

typedef struct xc {
	const char *start, *p, *end;
	bool html;
	char why[160];
	const char *stack[256];
	size_t stack_len[256];
	int depth;
	int roots;
} xc;

static bool xfail(xc *x, const char *why)
{
	snprintf(x->why, sizeof(x->why), "%s at byte %ld: %.40s", why,
		 (long)(x->p - x->start), x->p);
	return false;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':' || c == '.';
}

/* Characters XML 1.0 allows, entities that resolve. */
static bool check_chars(xc *x, const char *s, const char *e, char quote)
{
	for (; s < e; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			x->p = s;
			return xfail(x, "forbidden control character");
		}
		if (c == 0xEF && s + 2 < e && (unsigned char)s[1] == 0xBF &&
		    ((unsigned char)s[2] == 0xBE || (unsigned char)s[2] == 0xBF)) {
			x->p = s;
			return xfail(x, "U+FFFE/U+FFFF");
		}
		if (c == '<' && quote) {
			x->p = s;
			return xfail(x, "'<' in attribute value");
		}
		if (c == '&') {
			const char *semi = memchr(s, ';', (size_t)(e - s));
			size_t n;

			x->p = s;
			if (!semi || semi - s > 10)
				return xfail(x, "bare '&'");
			n = (size_t)(semi - s - 1);
			if (s[1] == '#') {
				const char *d = s + 2;

				if (*d == 'x')
					d++;
				if (d == semi)
					return xfail(x, "empty character reference");
				for (; d < semi; d++)
					if (!((*d >= '0' && *d <= '9') || (s[2] == 'x' &&
					      ((*d >= 'a' && *d <= 'f') || (*d >= 'A' && *d <= 'F')))))
						return xfail(x, "bad character reference");
			} else if (!((n == 3 && !strncmp(s + 1, "amp", 3)) ||
				     (n == 2 && !strncmp(s + 1, "lt", 2)) ||
				     (n == 2 && !strncmp(s + 1, "gt", 2)) ||
				     (n == 4 && !strncmp(s + 1, "quot", 4)) ||
				     (n == 4 && !strncmp(s + 1, "apos", 4)))) {
				return xfail(x, "unknown entity");
			}
		}
	}
	return true;
}

static bool is_void(const char *name, size_t n)
{
	static const char *const v[] = { "meta", "br", "hr", "img", "input", "link", NULL };
	int i;

	for (i = 0; v[i]; i++)
		if (strlen(v[i]) == n && !strncmp(v[i], name, n))
			return true;
	return false;
}

static bool tag(xc *x)
{
	const char *name, *q;
	size_t nl;
	bool closing = false;

	x->p++; /* '<' */
	if (*x->p == '/') {
		closing = true;
		x->p++;
	}
	name = x->p;
	while (x->p < x->end && name_char(*x->p))
		x->p++;
	nl = (size_t)(x->p - name);
	if (!nl)
		return xfail(x, "missing tag name");
	if (closing) {
		while (*x->p == ' ' || *x->p == '\n')
			x->p++;
		if (*x->p != '>')
			return xfail(x, "junk in end tag");
		x->p++;
		if (x->depth == 0 || x->stack_len[x->depth - 1] != nl ||
		    strncmp(x->stack[x->depth - 1], name, nl))
			return xfail(x, "end tag does not match the open element");
		x->depth--;
		return true;
	}
	for (;;) {
		const char *an;

		while (x->p < x->end && (*x->p == ' ' || *x->p == '\n' || *x->p == '\t'))
			x->p++;
		if (x->p >= x->end)
			return xfail(x, "unterminated tag");
		if (*x->p == '>' || (x->p[0] == '/' && x->p[1] == '>'))
			break;
		an = x->p;
		while (x->p < x->end && name_char(*x->p))
			x->p++;
		if (x->p == an)
			return xfail(x, "bad attribute name");
		if (x->html && *x->p != '=')
			continue; /* boolean attribute such as "open" */
		if (*x->p++ != '=' || (*x->p != '"' && *x->p != '\''))
			return xfail(x, "attribute value not quoted");
		q = strchr(x->p + 1, *x->p);
		if (!q)
			return xfail(x, "unterminated attribute value");
		if (!check_chars(x, x->p + 1, q, *x->p))
			return false;
		x->p = q + 1;
	}
	if (x->depth == 0 && ++x->roots > 1 && !x->html)
		return xfail(x, "second root element");
	if (*x->p == '/' || (x->html && is_void(name, nl))) {
		x->p += *x->p == '/' ? 2 : 1;
		return true;
	}
	x->p++;
	if (x->depth == 256)
		return xfail(x, "too deep");
	x->stack[x->depth] = name;
	x->stack_len[x->depth] = nl;
	x->depth++;
	return true;
}

static bool well_formed(const char *doc, bool html, char *why, size_t whylen)
{
	xc x;
	bool ok = true;

	memset(&x, 0, sizeof(x));
	x.start = x.p = doc;
	x.end = doc + strlen(doc);
	x.html = html;
	if (!strncmp(x.p, "<?xml", 5)) {
		x.p = strstr(x.p, "?>");
		if (!x.p) {
			snprintf(why, whylen, "unterminated XML declaration");
			return false;
		}
		x.p += 2;
	}
	if (html && !strncmp(x.p, "<!DOCTYPE html>", 15))
		x.p += 15;
	while (ok && x.p < x.end) {
		const char *lt = strchr(x.p, '<');

		if (!lt)
			lt = x.end;
		ok = check_chars(&x, x.p, lt, 0);
		if (!ok)
			break;
		if (x.depth == 0 && !x.html) {
			const char *s;

			for (s = x.p; s < lt; s++)
				if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') {
					x.p = s;
					ok = xfail(&x, "text outside the root element");
					break;
				}
		}
		x.p = lt;
		if (ok && x.p < x.end) {
			if (x.html && !strncmp(x.p, "<style>", 7)) {
				/* raw text element: no markup inside */
				const char *e = strstr(x.p, "</style>");

				if (!e) {
					ok = xfail(&x, "unterminated style");
					break;
				}
				x.p = e + 8;
				continue;
			}
			ok = tag(&x);
		}
	}
	if (ok && x.depth)
		ok = xfail(&x, "unclosed element");
	if (ok && !x.roots)
		ok = xfail(&x, "no root element");
	if (!ok)
		snprintf(why, whylen, "%s", x.why);
	return ok;
}

START_TEST(test_checker_itself_rejects_broken_xml)
{
	char why[160];

	ck_assert(well_formed("<a x=\"1\"><b/>t &amp; &#10;</a>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a><b></a></b>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a>x & y</a>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a x=1></a>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a>\x01</a>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a x=\"<\"></a>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a></a><b></b>", false, why, sizeof(why)));
	ck_assert(!well_formed("<a>", false, why, sizeof(why)));
	ck_assert(well_formed("<!DOCTYPE html><html><meta charset=\"utf-8\"><br></html>", true,
			      why, sizeof(why)));
}
END_TEST

/* s as the writers escape it (& < > " ' as entities; apos is the entity
 * used for '), in a static buffer. */
static const char *escaped(const char *s, const char *apos)
{
	static char buf[2048];
	size_t o = 0;

	for (; *s && o + 8 < sizeof(buf); s++) {
		const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
				  *s == '"' ? "&quot;" : *s == '\'' ? apos : NULL;

		if (ent) {
			memcpy(buf + o, ent, strlen(ent));
			o += strlen(ent);
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

#define XML_TEXT(s) escaped((s), "&apos;")
#define HTML_TEXT(s) escaped((s), "&#39;")

static bool have_xmllint(void)
{
	return system("command -v xmllint >/dev/null 2>&1") == 0;
}

/* ---- a sample run ---------------------------------------------------------------- */

#define WEIRD_ID "weird/<&\"'>"
#define RERUN "ebconform --url http://127.0.0.1:1 --case versioning/dense-after-batch"

static void add(eb_report *r, const char *id, eb_outcome o, const char *const *rules,
		size_t n_rules, const char *failed, const char *reason, eb_wirelog *w)
{
	eb_case_result c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.title = "a case";
	c.level = "MUST";
	c.rules = rules;
	c.n_rules = n_rules;
	c.outcome = o;
	c.failed_rule = failed;
	c.reason = reason;
	c.duration_ms = 1.5;
	c.wire = w;
	ck_assert_int_eq(eb_report_add(r, &c), 0);
}

/* Eight cases over five categories, added out of id order, with one of each
 * outcome, an unknown rule id and text that needs escaping everywhere. */
static eb_report *sample(void)
{
	static const char *const ver[] = { "VER-2", "VER-3" };
	static const char *const ver2[] = { "VER-2" };
	static const char *const sync6[] = { "SYNC-6" };
	static const char *const feed[] = { "FEED-1" };
	static const char *const auth[] = { "WS-AUTH-1" };
	static const char *const tags[] = { "fast", "batch" };
	eb_report *r = eb_report_new("ebconform", "0.1.0", "http://127.0.0.1:1",
				     "ebconform --url http://127.0.0.1:1");
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_case_result c;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(w);
	eb_report_set_meta(r, "seed", "42");
	eb_report_set_meta(r, "strict", "no");
	add(r, "sync/limit", EB_OUT_NON_STRICT, sync6, 1, "SYNC-6", "hasMore missing", NULL);
	add(r, "versioning/no-gap", EB_OUT_PASS, ver2, 1, NULL, NULL, NULL);

	static const char req[] = "POST /api/stores/s/sync HTTP/1.1\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\n\r\n{\"v\":\"<b>\"}";
	eb_wirelog_add(w, EB_WIRE_OUT, "HTTP", 1, req, sizeof(req) - 1);
	eb_wirelog_add(w, EB_WIRE_IN, "HTTP", 1, resp, sizeof(resp) - 1);
	eb_wirelog_note(w, "checking versions");
	memset(&c, 0, sizeof(c));
	c.id = "versioning/dense-after-batch";
	c.title = "Versions stay dense after a batch";
	c.level = "MUST";
	c.rules = ver;
	c.n_rules = 2;
	c.tags = tags;
	c.n_tags = 2;
	c.outcome = EB_OUT_FAIL;
	c.failed_rule = "VER-2";
	c.reason = "second change got version 3, not 2";
	c.expected = "versions 1, 2";
	c.actual = "versions 1, 3";
	c.rerun = RERUN;
	c.duration_ms = 12.25;
	c.wire = w;
	ck_assert_int_eq(eb_report_add(r, &c), 0);

	add(r, "feed/since", EB_OUT_SKIP, feed, 1, NULL, "feature not offered: changes feed", NULL);
	add(r, "ws/auth", EB_OUT_ERROR, auth, 1, NULL, "connect: refused", NULL);
	memset(&c, 0, sizeof(c));
	c.id = WEIRD_ID;
	c.title = "<script>alert(1)</script>";
	c.outcome = EB_OUT_FAIL;
	c.failed_rule = "NOPE-99";
	c.reason = "bad\x01\x02 reply \x1b[31m<&\"'>";
	c.expected = "\"quoted\" & <tagged>";
	c.actual = "tab\there\r\nnext";
	ck_assert_int_eq(eb_report_add(r, &c), 0);
	add(r, "nocategory", EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	memset(&c, 0, sizeof(c));
	c.id = "x/y";
	c.category = "custom";
	c.outcome = EB_OUT_PASS;
	ck_assert_int_eq(eb_report_add(r, &c), 0);
	eb_report_finish(r);
	return r;
}

/* The first rule of eb_rules that the sample does not cite. */
static const char *uncovered_rule(void)
{
	static const char *const cited[] = {
		"VER-2", "VER-3", "SYNC-6", "FEED-1", "WS-AUTH-1", NULL
	};
	size_t i;
	int k;

	for (i = 0; i < eb_rules_count; i++) {
		for (k = 0; cited[k]; k++)
			if (!strcmp(cited[k], eb_rules[i].id))
				break;
		if (!cited[k])
			return eb_rules[i].id;
	}
	ck_abort_msg("every rule is cited");
	return NULL;
}

/* ---- the store ----------------------------------------------------------------- */

START_TEST(test_report_counts_each_outcome_and_fail_verdict)
{
	eb_report *r = sample();

	ck_assert_uint_eq(eb_report_count(r, EB_OUT_PASS), 3);
	ck_assert_uint_eq(eb_report_count(r, EB_OUT_FAIL), 2);
	ck_assert_uint_eq(eb_report_count(r, EB_OUT_NON_STRICT), 1);
	ck_assert_uint_eq(eb_report_count(r, EB_OUT_SKIP), 1);
	ck_assert_uint_eq(eb_report_count(r, EB_OUT_ERROR), 1);
	ck_assert_uint_eq(eb_report_case_count(r), 8);
	ck_assert_int_eq(eb_report_verdict(r), EB_OUT_FAIL);
	ck_assert_str_eq(eb_outcome_name(EB_OUT_NON_STRICT), "NON-STRICT");
	ck_assert_str_eq(eb_report_meta_get(r, "seed"), "42");
	ck_assert_ptr_null(eb_report_meta_get(r, "nothing"));
	eb_report_set_meta(r, "seed", "43");
	ck_assert_str_eq(eb_report_meta_get(r, "seed"), "43");
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_verdict_is_error_without_failures_else_pass)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");

	ck_assert_int_eq(eb_report_verdict(r), EB_OUT_PASS);
	add(r, "a/skip", EB_OUT_SKIP, NULL, 0, NULL, "no", NULL);
	add(r, "a/ns", EB_OUT_NON_STRICT, NULL, 0, NULL, NULL, NULL);
	ck_assert_int_eq(eb_report_verdict(r), EB_OUT_PASS);
	add(r, "a/err", EB_OUT_ERROR, NULL, 0, NULL, "timeout", NULL);
	ck_assert_int_eq(eb_report_verdict(r), EB_OUT_ERROR);
	add(r, "a/fail", EB_OUT_FAIL, NULL, 0, NULL, NULL, NULL);
	ck_assert_int_eq(eb_report_verdict(r), EB_OUT_FAIL);
	eb_report_free(r);
	eb_report_free(NULL);
}
END_TEST

START_TEST(test_report_category_defaults_to_first_id_segment)
{
	eb_report *r = sample();
	eb_case_result v;
	size_t i, seen = 0;

	for (i = 0; i < eb_report_case_count(r); i++) {
		ck_assert_int_eq(eb_report_case_get(r, i, &v), 0);
		if (!strcmp(v.id, "versioning/no-gap")) {
			ck_assert_str_eq(v.category, "versioning");
			seen++;
		}
		if (!strcmp(v.id, "nocategory")) {
			ck_assert_str_eq(v.category, "other");
			seen++;
		}
		if (!strcmp(v.id, "x/y")) {
			ck_assert_str_eq(v.category, "custom");
			seen++;
		}
	}
	ck_assert_uint_eq(seen, 3);
	ck_assert_int_eq(eb_report_case_get(r, 8, &v), -1);
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_case_get_is_insertion_order_with_copies)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	char id[16] = "b/first";
	eb_case_result v;

	add(r, id, EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	id[0] = 'a'; /* the report copied the string */
	add(r, id, EB_OUT_FAIL, NULL, 0, NULL, NULL, NULL);
	ck_assert_int_eq(eb_report_case_get(r, 0, &v), 0);
	ck_assert_str_eq(v.id, "b/first");
	ck_assert_int_eq(eb_report_case_get(r, 1, &v), 0);
	ck_assert_str_eq(v.id, "a/first");
	ck_assert_int_eq(v.outcome, EB_OUT_FAIL);
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_replaces_invalid_utf8_so_json_stays_valid)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	eb_case_result v;
	eb_report *back;
	char err[256] = "";

	add(r, "u/bad", EB_OUT_FAIL, NULL, 0, NULL, "caf\xc3\xa9 \xff\xfe end", NULL);
	ck_assert_int_eq(eb_report_case_get(r, 0, &v), 0);
	ck_assert_str_eq(v.reason, "caf\xc3\xa9 \\xFF\\xFE end");
	ck_assert_int_eq(eb_report_write_json(r, tmp_path("u.json"), err, sizeof(err)), 0);
	back = eb_report_read_json(tmp_path("u.json"), err, sizeof(err));
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_int_eq(eb_report_case_get(back, 0, &v), 0);
	ck_assert_str_eq(v.reason, "caf\xc3\xa9 \\xFF\\xFE end");
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

typedef struct adder {
	eb_report *r;
	int id;
} adder;

static void *add_many(void *arg)
{
	adder *a = arg;
	int i;

	for (i = 0; i < 250; i++) {
		char id[32];
		eb_case_result c;
		eb_wirelog *w = eb_wirelog_new(0, 0);

		snprintf(id, sizeof(id), "t%d/case-%03d", a->id, i);
		eb_wirelog_note(w, "%s", id);
		memset(&c, 0, sizeof(c));
		c.id = id;
		c.outcome = (eb_outcome)(i % 5);
		c.wire = w;
		if (eb_report_add(a->r, &c) != 0)
			return (void *)1;
		if (i % 50 == 0)
			eb_report_set_meta(a->r, "last", id);
	}
	return NULL;
}

START_TEST(test_report_add_from_threads_keeps_every_result)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	pthread_t th[4];
	adder a[4];
	int t, k;

	for (t = 0; t < 4; t++) {
		a[t].r = r;
		a[t].id = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, add_many, &a[t]), 0);
	}
	for (t = 0; t < 4; t++) {
		void *rc;

		pthread_join(th[t], &rc);
		ck_assert_ptr_null(rc);
	}
	ck_assert_uint_eq(eb_report_case_count(r), 1000);
	for (k = 0; k < 5; k++)
		ck_assert_uint_eq(eb_report_count(r, (eb_outcome)k), 200);
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_merge_copies_results_wire_logs_and_missing_meta)
{
	eb_report *a = sample(), *b = eb_report_new("ebload", "1", "u", "c");
	eb_case_result v;
	size_t i;
	bool found = false;

	eb_report_set_meta(b, "seed", "7");
	add(b, "load/one", EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	ck_assert_int_eq(eb_report_merge(b, a), 0);
	ck_assert_uint_eq(eb_report_case_count(b), 9);
	ck_assert_uint_eq(eb_report_count(b, EB_OUT_PASS), 4);
	ck_assert_uint_eq(eb_report_count(b, EB_OUT_FAIL), 2);
	ck_assert_str_eq(eb_report_meta_get(b, "seed"), "7");
	ck_assert_str_eq(eb_report_meta_get(b, "strict"), "no");
	for (i = 0; i < eb_report_case_count(b); i++) {
		eb_report_case_get(b, i, &v);
		if (!strcmp(v.id, "versioning/dense-after-batch")) {
			found = true;
			ck_assert_ptr_nonnull(v.wire);
			ck_assert_uint_eq(eb_wirelog_count(v.wire), 3);
			ck_assert_str_eq(eb_wirelog_get(v.wire, 2)->text, "checking versions");
		}
	}
	ck_assert(found);
	eb_report_free(a); /* b holds copies */
	ck_assert_int_eq(eb_report_case_get(b, 3, &v), 0);
	ck_assert_ptr_nonnull(v.id);
	eb_report_free(b);
}
END_TEST

/* ---- JSON ---------------------------------------------------------------------- */

static const eb_case_result *find_case(const eb_report *r, const char *id, eb_case_result *v)
{
	size_t i;

	for (i = 0; i < eb_report_case_count(r); i++) {
		ck_assert_int_eq(eb_report_case_get(r, i, v), 0);
		if (!strcmp(v->id, id))
			return v;
	}
	ck_abort_msg("case %s not found", id);
	return NULL;
}

static void str_eq_or_null(const char *a, const char *b)
{
	if (!a || !b)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

START_TEST(test_report_json_written_then_read_back_is_equal)
{
	eb_report *r = sample(), *back;
	char err[256] = "";
	char *first, *second;
	size_t i, j, len1, len2;

	ck_assert_int_eq(eb_report_write_json(r, tmp_path("a.json"), err, sizeof(err)), 0);
	back = eb_report_read_json(tmp_path("a.json"), err, sizeof(err));
	ck_assert_msg(back != NULL, "read back: %s", err);

	ck_assert_str_eq(eb_report_tool(back), "ebconform");
	ck_assert_str_eq(eb_report_tool_version(back), "0.1.0");
	ck_assert_str_eq(eb_report_target(back), "http://127.0.0.1:1");
	ck_assert_str_eq(eb_report_command(back), "ebconform --url http://127.0.0.1:1");
	ck_assert_uint_eq(eb_report_started_ms(back), eb_report_started_ms(r));
	ck_assert(eb_report_duration_ms(back) == eb_report_duration_ms(r));
	ck_assert_str_eq(eb_report_meta_get(back, "seed"), "42");
	ck_assert_str_eq(eb_report_meta_get(back, "strict"), "no");
	ck_assert_uint_eq(eb_report_case_count(back), eb_report_case_count(r));
	for (i = 0; i < EB_OUT_ERROR + 1; i++)
		ck_assert_uint_eq(eb_report_count(back, (eb_outcome)i), eb_report_count(r, (eb_outcome)i));

	for (i = 0; i < eb_report_case_count(r); i++) {
		eb_case_result a, b;

		ck_assert_int_eq(eb_report_case_get(r, i, &a), 0);
		find_case(back, a.id, &b);
		ck_assert_str_eq(a.title, b.title);
		ck_assert_str_eq(a.category, b.category);
		str_eq_or_null(a.level, b.level);
		ck_assert_uint_eq(a.n_rules, b.n_rules);
		for (j = 0; j < a.n_rules; j++)
			ck_assert_str_eq(a.rules[j], b.rules[j]);
		ck_assert_uint_eq(a.n_tags, b.n_tags);
		for (j = 0; j < a.n_tags; j++)
			ck_assert_str_eq(a.tags[j], b.tags[j]);
		ck_assert_int_eq(a.outcome, b.outcome);
		str_eq_or_null(a.failed_rule, b.failed_rule);
		str_eq_or_null(a.reason, b.reason);
		str_eq_or_null(a.expected, b.expected);
		str_eq_or_null(a.actual, b.actual);
		str_eq_or_null(a.rerun, b.rerun);
		ck_assert(a.duration_ms == b.duration_ms);
		ck_assert_int_eq(a.wire == NULL, b.wire == NULL);
		ck_assert_uint_eq(eb_wirelog_count(a.wire), eb_wirelog_count(b.wire));
		ck_assert_uint_eq(eb_wirelog_dropped(a.wire), eb_wirelog_dropped(b.wire));
		for (j = 0; j < eb_wirelog_count(a.wire); j++) {
			const eb_wire_entry *x = eb_wirelog_get(a.wire, j);
			const eb_wire_entry *y = eb_wirelog_get(b.wire, j);

			ck_assert_uint_eq(x->t_us, y->t_us);
			ck_assert_int_eq(x->dir, y->dir);
			ck_assert_str_eq(x->proto, y->proto);
			ck_assert_int_eq(x->conn, y->conn);
			ck_assert_str_eq(x->text, y->text);
		}
	}
	/* and the regenerated file is byte-identical */
	ck_assert_int_eq(eb_report_write_json(back, tmp_path("b.json"), err, sizeof(err)), 0);
	first = slurp(tmp_path("a.json"), &len1);
	second = slurp(tmp_path("b.json"), &len2);
	ck_assert_uint_eq(len1, len2);
	ck_assert(memcmp(first, second, len1) == 0);
	free(first);
	free(second);
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

static const cJSON *member(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ck_assert_msg(v != NULL, "member %s missing", k);
	return v;
}

START_TEST(test_report_json_has_schema_summary_sorted_cases_and_full_coverage)
{
	eb_report *r = sample();
	char err[256] = "", *text;
	size_t len, n_rules;
	cJSON *root = NULL;
	const cJSON *sum, *cases, *rules, *it, *prev = NULL;
	eb_err e;
	bool saw_ver2 = false, saw_unknown = false;

	ck_assert_int_eq(eb_report_write_json(r, tmp_path("s.json"), err, sizeof(err)), 0);
	text = slurp(tmp_path("s.json"), &len);
	ck_assert_int_eq(eb_json_parse(text, len, 16, &root, &e), EB_OK);
	ck_assert_str_eq(member(root, "schema")->valuestring, "earlybird-report/1");
	ck_assert_str_eq(member(root, "tool")->valuestring, "ebconform");
	ck_assert(cJSON_IsNumber(member(root, "durationMs")));
	ck_assert(cJSON_IsString(member(root, "startedAt")));
	ck_assert_str_eq(member(member(root, "meta"), "seed")->valuestring, "42");
	sum = member(root, "summary");
	ck_assert_int_eq(member(sum, "pass")->valueint, 3);
	ck_assert_int_eq(member(sum, "fail")->valueint, 2);
	ck_assert_int_eq(member(sum, "nonStrict")->valueint, 1);
	ck_assert_int_eq(member(sum, "skip")->valueint, 1);
	ck_assert_int_eq(member(sum, "error")->valueint, 1);
	ck_assert_int_eq(member(sum, "total")->valueint, 8);
	ck_assert_str_eq(member(sum, "verdict")->valuestring, "FAIL");
	cases = member(root, "cases");
	ck_assert_int_eq(cJSON_GetArraySize(cases), 8);
	cJSON_ArrayForEach(it, cases) {
		if (prev)
			ck_assert_int_lt(strcmp(member(prev, "id")->valuestring,
						member(it, "id")->valuestring), 0);
		prev = it;
		member(it, "wireDropped");
		member(it, "rerun");
	}
	rules = member(root, "rules");
	n_rules = (size_t)cJSON_GetArraySize(rules);
	ck_assert_uint_eq(n_rules, eb_rules_count + 1); /* + NOPE-99 */
	cJSON_ArrayForEach(it, rules) {
		const char *id = member(it, "id")->valuestring;
		const cJSON *cs = member(it, "cases");

		if (!strcmp(id, "VER-2")) {
			saw_ver2 = true;
			ck_assert_int_eq(cJSON_GetArraySize(cs), 2);
			ck_assert_str_eq(cJSON_GetArrayItem(cs, 0)->valuestring,
					 "versioning/dense-after-batch");
			ck_assert_str_eq(member(it, "text")->valuestring, eb_rule_find("VER-2")->text);
		}
		if (!strcmp(id, "NOPE-99")) {
			saw_unknown = true;
			ck_assert_str_eq(member(it, "text")->valuestring, "");
			ck_assert_str_eq(cJSON_GetArrayItem(cs, 0)->valuestring, WEIRD_ID);
		}
	}
	ck_assert(saw_ver2 && saw_unknown);
	cJSON_Delete(root);
	free(text);
	eb_report_free(r);
}
END_TEST

static void expect_read_error(const char *text, const char *needle)
{
	char err[256] = "";
	eb_report *r;

	spit(tmp_path("bad.json"), text);
	r = eb_report_read_json(tmp_path("bad.json"), err, sizeof(err));
	ck_assert_msg(r == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

#define HEAD "{\"schema\":\"earlybird-report/1\",\"tool\":\"t\",\"toolVersion\":\"1\"," \
	"\"target\":\"u\",\"command\":\"c\",\"startedAt\":\"2024-05-01T12:00:00.123Z\"," \
	"\"durationMs\":5,"

START_TEST(test_report_read_json_rejects_malformed_reports_with_a_reason)
{
	char err[256] = "";
	eb_report *r;

	ck_assert_ptr_null(eb_report_read_json(tmp_path("missing.json"), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "missing.json"));
	expect_read_error("{\"schema\":\"earlybird-report/2\"}", "earlybird-report/2");
	expect_read_error("not json", "invalid JSON");
	expect_read_error(HEAD "\"cases\":[],\"cases\":[]}", "duplicate");
	expect_read_error(HEAD "\"meta\":{}}", "cases");
	expect_read_error(HEAD "\"cases\":[{\"id\":\"a\",\"outcome\":\"MAYBE\",\"durationMs\":1}]}",
			  "outcome");
	expect_read_error(HEAD "\"cases\":[{\"id\":\"a\",\"outcome\":\"PASS\",\"durationMs\":\"1\"}]}",
			  "cases[0]");
	expect_read_error(HEAD "\"cases\":[{\"id\":\"a\",\"outcome\":\"PASS\",\"durationMs\":1,"
			  "\"wire\":[{\"tUs\":1,\"dir\":\"up\",\"proto\":\"\",\"conn\":-1,\"text\":\"\"}]}]}",
			  "dir");
	expect_read_error("{\"schema\":\"earlybird-report/1\",\"tool\":\"t\",\"toolVersion\":\"1\","
			  "\"target\":\"u\",\"command\":\"c\",\"startedAt\":\"yesterday\","
			  "\"durationMs\":5,\"cases\":[]}", "startedAt");

	/* the minimum: optional members absent, unknown members ignored */
	spit(tmp_path("min.json"), HEAD "\"future\":{\"x\":1},\"cases\":[{\"id\":\"a/b\","
	     "\"outcome\":\"SKIP\",\"durationMs\":0,\"extra\":true}]}");
	r = eb_report_read_json(tmp_path("min.json"), err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(eb_report_count(r, EB_OUT_SKIP), 1);
	ck_assert_uint_eq(eb_report_started_ms(r), 1714564800123ull);
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_writers_fail_cleanly_on_unwritable_path)
{
	eb_report *r = sample();
	char err[256] = "";

	ck_assert_int_eq(eb_report_write_json(r, "/nonexistent-dir/x.json", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.json"));
	err[0] = '\0';
	ck_assert_int_eq(eb_report_write_junit(r, "/nonexistent-dir/x.xml", err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
	err[0] = '\0';
	ck_assert_int_eq(eb_report_write_html(r, "/nonexistent-dir/x.html", err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
	eb_report_free(r);
}
END_TEST

START_TEST(test_report_empty_run_writes_every_format)
{
	eb_report *r = eb_report_new("ebconform", "1", "http://t", "c"), *back;
	char err[256] = "", why[160] = "", *s;

	eb_report_finish(r);
	ck_assert_int_eq(eb_report_write_json(r, tmp_path("e.json"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("e.xml"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_html(r, tmp_path("e.html"), err, sizeof(err)), 0);
	back = eb_report_read_json(tmp_path("e.json"), err, sizeof(err));
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_uint_eq(eb_report_case_count(back), 0);
	s = slurp(tmp_path("e.xml"), NULL);
	ck_assert_msg(well_formed(s, false, why, sizeof(why)), "%s", why);
	free(s);
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

/* ---- JUnit --------------------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* The <testcase> element whose name attribute is name (malloc'd). */
static char *testcase_block(const char *doc, const char *name)
{
	char key[128];
	const char *s, *e;
	char *out;

	snprintf(key, sizeof(key), "<testcase name=\"%s\"", name);
	s = strstr(doc, key);
	ck_assert_msg(s != NULL, "no testcase %s", name);
	e = strstr(s, "</testcase>");
	ck_assert_ptr_nonnull(e);
	out = strndup(s, (size_t)(e - s));
	ck_assert_ptr_nonnull(out);
	return out;
}

START_TEST(test_junit_is_well_formed_with_failure_error_and_skipped)
{
	eb_report *r = sample();
	char err[256] = "", why[160] = "", cmd[256], *doc, *block;

	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("j.xml"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("j.xml"), NULL);
	ck_assert_msg(well_formed(doc, false, why, sizeof(why)), "%s", why);
	if (have_xmllint()) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", tmp_path("j.xml"));
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_ptr_nonnull(strstr(doc, "<testsuites name=\"ebconform\" tests=\"8\" failures=\"2\" "
				     "errors=\"1\" skipped=\"1\""));
	/* one suite per category: custom feed other sync versioning weird ws */
	ck_assert_uint_eq(count_of(doc, "<testsuite "), 7);
	ck_assert_uint_eq(count_of(doc, "<testcase "), 8);
	ck_assert_ptr_nonnull(strstr(doc, "<property name=\"seed\" value=\"42\"/>"));

	block = testcase_block(doc, "versioning/dense-after-batch");
	ck_assert_ptr_nonnull(strstr(block, "classname=\"ebconform.versioning\""));
	ck_assert_ptr_nonnull(strstr(block, "time=\"0.012\""));
	ck_assert_ptr_nonnull(strstr(block, "<failure message=\"second change got version 3, not 2\" "
				     "type=\"VER-2\">"));
	ck_assert_ptr_nonnull(strstr(block, XML_TEXT(eb_rule_find("VER-2")->text)));
	ck_assert_ptr_nonnull(strstr(block, RERUN));
	ck_assert_ptr_nonnull(strstr(block, "<system-out>wire log:"));
	free(block);

	block = testcase_block(doc, "ws/auth");
	ck_assert_ptr_nonnull(strstr(block, "<error message=\"connect: refused\" type=\"ERROR\">"));
	free(block);
	block = testcase_block(doc, "feed/since");
	ck_assert_ptr_nonnull(strstr(block, "<skipped message=\"feature not offered: changes feed\"/>"));
	free(block);
	block = testcase_block(doc, "versioning/no-gap");
	ck_assert_ptr_null(strstr(block, "<failure"));
	ck_assert_ptr_null(strstr(block, "<skipped"));
	free(block);
	free(doc);
	eb_report_free(r);
}
END_TEST

START_TEST(test_junit_escapes_markup_quotes_and_replaces_control_chars)
{
	eb_report *r = sample();
	char err[256] = "", *doc, *block;
	const unsigned char *u;

	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("j.xml"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("j.xml"), NULL);
	for (u = (const unsigned char *)doc; *u; u++)
		ck_assert_msg(*u >= 0x20 || *u == '\n' || *u == '\t',
			      "raw control byte 0x%02X in JUnit output", *u);
	block = testcase_block(doc, "weird/&lt;&amp;&quot;&apos;&gt;");
	ck_assert_ptr_nonnull(strstr(block, "message=\"bad\\x01\\x02 reply \\x1B[31m&lt;&amp;&quot;&apos;&gt;\""));
	ck_assert_ptr_nonnull(strstr(block, "type=\"NOPE-99\""));
	ck_assert_ptr_nonnull(strstr(block, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	/* CR in element text is a character reference, so it survives parsing */
	ck_assert_ptr_nonnull(strstr(block, "actual: tab\there&#13;\nnext"));
	free(block);
	free(doc);
	eb_report_free(r);
}
END_TEST

START_TEST(test_junit_non_strict_is_a_passing_case_with_a_system_out_note)
{
	eb_report *r = sample();
	char err[256] = "", *doc, *block;

	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("j.xml"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("j.xml"), NULL);
	block = testcase_block(doc, "sync/limit");
	ck_assert_ptr_null(strstr(block, "<failure"));
	ck_assert_ptr_null(strstr(block, "<error"));
	ck_assert_ptr_null(strstr(block, "<skipped"));
	ck_assert_ptr_nonnull(strstr(block, "<system-out>NON-STRICT"));
	ck_assert_ptr_nonnull(strstr(block, XML_TEXT(eb_rule_find("SYNC-6")->text)));
	free(block);
	free(doc);
	eb_report_free(r);
}
END_TEST

/* ---- HTML ---------------------------------------------------------------------- */

START_TEST(test_html_lists_every_rule_and_the_uncovered_ones)
{
	eb_report *r = sample();
	char err[256] = "", key[96], *doc;
	const char *unc, *uncovered_sec, *unknown_sec, *p;
	size_t i;

	ck_assert_int_eq(eb_report_write_html(r, tmp_path("r.html"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("r.html"), NULL);
	for (i = 0; i < eb_rules_count; i++) {
		snprintf(key, sizeof(key), "<tr id=\"rule-%s\"><td><b>%s</b>", eb_rules[i].id,
			 eb_rules[i].id);
		ck_assert_msg(strstr(doc, key) != NULL, "rule %s missing from the matrix",
			      eb_rules[i].id);
	}
	uncovered_sec = strstr(doc, "<h3 id=\"uncovered\">");
	ck_assert_ptr_nonnull(uncovered_sec);
	unknown_sec = strstr(doc, "<h3 id=\"unknown-rules\">");
	ck_assert_ptr_nonnull(unknown_sec);
	ck_assert(unknown_sec > uncovered_sec);
	unc = uncovered_rule();
	snprintf(key, sizeof(key), "<li><b>%s</b>", unc);
	p = strstr(uncovered_sec, key);
	ck_assert_msg(p && p < unknown_sec, "uncovered rule %s not listed", unc);
	ck_assert_ptr_nonnull(strstr(p, HTML_TEXT(eb_rule_find(unc)->text)));
	/* covered rules are not in the uncovered list */
	p = strstr(uncovered_sec, "<li><b>VER-2</b>");
	ck_assert(!p || p > unknown_sec);
	snprintf(key, sizeof(key), "Rules no case covers (%zu)", eb_rules_count - 5);
	ck_assert_ptr_nonnull(strstr(doc, key));
	ck_assert_ptr_nonnull(strstr(unknown_sec, "<b>NOPE-99</b>"));
	/* the VER-2 row lists its cases with their outcomes */
	p = strstr(doc, "<tr id=\"rule-VER-2\">");
	ck_assert_ptr_nonnull(strstr(p, "versioning/dense-after-batch</a> <span class=\"badge fail\">FAIL"));
	free(doc);
	eb_report_free(r);
}
END_TEST

START_TEST(test_html_is_self_contained_escaped_and_balanced)
{
	eb_report *r = sample();
	char err[256] = "", why[160] = "", *doc;
	const char *d;

	ck_assert_int_eq(eb_report_write_html(r, tmp_path("r.html"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("r.html"), NULL);
	ck_assert_msg(well_formed(doc, true, why, sizeof(why)), "%s", why);
	ck_assert_ptr_null(strstr(doc, "<script"));
	ck_assert_ptr_null(strstr(doc, "src="));
	ck_assert_ptr_null(strstr(doc, "<link"));
	ck_assert_ptr_nonnull(strstr(doc, "<style>"));
	ck_assert_ptr_nonnull(strstr(doc, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(doc, "VERDICT: FAIL"));
	ck_assert_ptr_nonnull(strstr(doc, "http://127.0.0.1:1"));
	/* a table per category */
	ck_assert_uint_eq(count_of(doc, "<h3 id=\"cat-"), 7);
	/* the failed case's details are open and carry the wire timeline */
	d = strstr(doc, "<details id=\"case-versioning/dense-after-batch\" open>");
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(strstr(d, "&#8594;</td><td>HTTP #1</td>"));
	ck_assert_ptr_nonnull(strstr(d, "&#8592;</td><td>HTTP #1</td>"));
	ck_assert_ptr_nonnull(strstr(d, "{&quot;v&quot;:&quot;&lt;b&gt;&quot;}"));
	ck_assert_ptr_nonnull(strstr(d, RERUN));
	ck_assert_ptr_nonnull(strstr(d, HTML_TEXT(eb_rule_find("VER-2")->text)));
	ck_assert_ptr_nonnull(strstr(doc, "<details id=\"case-versioning/no-gap\">"));
	/* control characters never reach the page raw */
	ck_assert_ptr_null(strchr(doc, '\x01'));
	ck_assert_ptr_null(strchr(doc, '\x1b'));
	free(doc);
	eb_report_free(r);
}
END_TEST

START_TEST(test_html_shows_failing_wire_logs_whole_and_bounds_passing_ones)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	eb_wirelog *pass = eb_wirelog_new(0, 0), *fail = eb_wirelog_new(0, 0);
	char chunk[1000], err[256] = "", *doc;
	const char *p, *f;
	int i;

	memset(chunk, 'q', sizeof(chunk));
	for (i = 0; i < 200; i++) {
		eb_wirelog_add(pass, EB_WIRE_IN, "HTTP", 0, chunk, sizeof(chunk));
		eb_wirelog_add(fail, EB_WIRE_IN, "HTTP", 0, chunk, sizeof(chunk));
	}
	add(r, "a/pass", EB_OUT_PASS, NULL, 0, NULL, NULL, pass);
	add(r, "b/fail", EB_OUT_FAIL, NULL, 0, NULL, "x", fail);
	ck_assert_int_eq(eb_report_write_html(r, tmp_path("w.html"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("w.html"), NULL);
	p = strstr(doc, "<details id=\"case-a/pass\">");
	f = strstr(doc, "<details id=\"case-b/fail\" open>");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(f);
	/* the failing case's details come first */
	ck_assert(f < p);
	/* 64 KiB of 1000-byte entries: 65 shown, 135 left out */
	ck_assert_ptr_nonnull(strstr(p, "135 more entries left out of this page"));
	ck_assert_uint_eq(count_of(p, "<td class=\"x\">qqqq"), 65);
	/* the failing case's block, cut off where the passing one starts: whole */
	doc[p - doc] = '\0';
	ck_assert_ptr_null(strstr(f, "more entries left out"));
	ck_assert_uint_eq(count_of(f, "<td class=\"x\">qqqq"), 200);
	free(doc);
	eb_report_free(r);
}
END_TEST

/* The first screen names what broke: the verdict comes before the run's
 * metadata, and a table of failed, erroring and non-strict cases (in that
 * order, each with its failed rule and reason) before the summary. */
START_TEST(test_html_lists_failures_under_the_verdict_before_the_summary)
{
	eb_report *r = sample();
	char err[256] = "", *doc;
	const char *verdict, *meta, *prob, *summ, *a, *b, *e, *ns, *d1, *d2, *row;

	ck_assert_int_eq(eb_report_write_html(r, tmp_path("p.html"), err, sizeof(err)), 0);
	doc = slurp(tmp_path("p.html"), NULL);
	verdict = strstr(doc, "VERDICT: FAIL");
	meta = strstr(doc, "<dt>target</dt>");
	prob = strstr(doc, "<h2 id=\"problems\">Failures, errors and SHOULDs not met (4)</h2>");
	summ = strstr(doc, "<h2 id=\"summary\">");
	ck_assert_ptr_nonnull(verdict);
	ck_assert_ptr_nonnull(meta);
	ck_assert_ptr_nonnull(prob);
	ck_assert_ptr_nonnull(summ);
	ck_assert(verdict < meta && meta < prob && prob < summ);
	ck_assert_ptr_nonnull(strstr(doc, "<a href=\"#problems\">failures</a>"));
	/* both failures, then the error, then the non-strict case */
	a = strstr(prob, "<a href=\"#case-versioning/dense-after-batch\">");
	b = strstr(prob, "<a href=\"#rule-NOPE-99\">NOPE-99</a>");
	e = strstr(prob, "<a href=\"#case-ws/auth\">");
	ns = strstr(prob, "<a href=\"#case-sync/limit\">");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(ns);
	ck_assert(a < summ && b < summ && e < summ && ns < summ);
	ck_assert(a < e && b < e && e < ns);
	ck_assert_ptr_nonnull(strstr(a, "second change got version 3, not 2"));
	ck_assert(strstr(a, "second change got version 3, not 2") < e);
	ck_assert(strstr(a, "<a href=\"#rule-VER-2\"") < e);
	/* passing and skipped cases are not in it */
	row = strstr(prob, "<a href=\"#case-versioning/no-gap\">");
	ck_assert(!row || row > summ);
	row = strstr(prob, "<a href=\"#case-feed/since\">");
	ck_assert(!row || row > summ);
	/* details: the failing ones before the passing ones */
	d1 = strstr(doc, "<details id=\"case-versioning/dense-after-batch\" open>");
	d2 = strstr(doc, "<details id=\"case-nocategory\">");
	ck_assert_ptr_nonnull(d1);
	ck_assert_ptr_nonnull(d2);
	ck_assert(d1 < d2);
	ck_assert(strstr(doc, "<details id=\"case-ws/auth\"") < d2);
	/* the coverage matrix gives each rule its worst outcome */
	row = strstr(doc, "<tr id=\"rule-VER-2\">");
	ck_assert_ptr_nonnull(row);
	ck_assert(strstr(row, "<span class=\"badge fail\">FAIL</span></td><td>") <
		  strstr(row, "</tr>"));
	row = strstr(doc, "<tr id=\"rule-SYNC-6\">");
	ck_assert_ptr_nonnull(row);
	ck_assert(strstr(row, "<span class=\"badge nonstrict\">NON-STRICT</span></td><td>") <
		  strstr(row, "</tr>"));
	/* the wire log's \xNN escapes are dimmed, their text kept */
	ck_assert_ptr_nonnull(strstr(d1, "HTTP/1.1<span class=\"esc\">\\x0D</span>"));
	free(doc);
	eb_report_free(r);
}
END_TEST

START_TEST(test_html_and_junit_regenerate_identically_from_json)
{
	eb_report *r = sample(), *back;
	char err[256] = "", *a, *b;

	ck_assert_int_eq(eb_report_write_json(r, tmp_path("a.json"), err, sizeof(err)), 0);
	back = eb_report_read_json(tmp_path("a.json"), err, sizeof(err));
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(eb_report_write_html(r, tmp_path("a.html"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_html(back, tmp_path("b.html"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("a.xml"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_junit(back, tmp_path("b.xml"), err, sizeof(err)), 0);
	a = slurp(tmp_path("a.html"), NULL);
	b = slurp(tmp_path("b.html"), NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = slurp(tmp_path("a.xml"), NULL);
	b = slurp(tmp_path("b.xml"), NULL);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

/* ---- console -------------------------------------------------------------------- */

static char *console(const eb_report *r, bool verbose)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	eb_report_console_summary(r, f, verbose);
	fclose(f);
	return buf;
}

START_TEST(test_console_summary_shows_rule_sentence_expected_actual_rerun_and_verdict)
{
	eb_report *r = sample();
	char *out = console(r, false);
	const char *fail, *counts;

	fail = strstr(out, "FAIL       versioning/dense-after-batch");
	ck_assert_msg(fail != NULL, "%s", out);
	counts = strstr(out, "Outcomes");
	ck_assert_ptr_nonnull(counts);
	ck_assert(fail < counts); /* failures come first */
	ck_assert_ptr_nonnull(strstr(fail, "VER-2 (MUST) "));
	ck_assert_ptr_nonnull(strstr(fail, eb_rule_find("VER-2")->text));
	ck_assert_ptr_nonnull(strstr(fail, "versions 1, 2"));
	ck_assert_ptr_nonnull(strstr(fail, "versions 1, 3"));
	ck_assert_ptr_nonnull(strstr(fail, RERUN));
	ck_assert_ptr_nonnull(strstr(out, "NOPE-99 (not a rule of docs/PROTOCOL.md)"));
	/* terminal escape sequences from a target are neutralized */
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_nonnull(strstr(out, "\\x1B[31m"));
	/* no wire log unless verbose */
	ck_assert_ptr_null(strstr(out, "checking versions"));
	ck_assert_ptr_nonnull(strstr(out, "3 PASS, 2 FAIL, 1 NON-STRICT, 1 SKIP, 1 ERROR"));
	ck_assert_ptr_nonnull(strstr(out, "  versioning"));
	ck_assert_ptr_nonnull(strstr(out, "feed/since: feature not offered"));
	ck_assert_ptr_nonnull(strstr(out, "\nVERDICT: FAIL — 2 of 8 cases failed"));
	free(out);

	out = console(r, true);
	ck_assert_ptr_nonnull(strstr(out, "** "));
	ck_assert_ptr_nonnull(strstr(out, "checking versions"));
	ck_assert_ptr_nonnull(strstr(out, "-> HTTP #1  POST /api/stores/s/sync"));
	free(out);
	eb_report_free(r);
}
END_TEST

START_TEST(test_console_verdict_line_for_pass_and_error_runs)
{
	eb_report *r = eb_report_new("ebconform", "1", "http://t", "c");
	char *out;

	add(r, "a/ok", EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	out = console(r, false);
	ck_assert_ptr_nonnull(strstr(out, "VERDICT: PASS — 1 cases, none failed"));
	free(out);
	add(r, "a/err", EB_OUT_ERROR, NULL, 0, NULL, "timeout after 5000 ms", NULL);
	out = console(r, false);
	ck_assert_ptr_nonnull(strstr(out, "VERDICT: ERROR — no case failed, but 1 of 2 could not run"));
	ck_assert_ptr_nonnull(strstr(out, "timeout after 5000 ms"));
	free(out);
	eb_report_free(r);
}
END_TEST

START_TEST(test_console_progress_off_tty_throttles_and_prints_the_final_line_once)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	eb_report_console_progress(r, f, 4);
	fflush(f);
	ck_assert_uint_eq(len, 0); /* not yet two seconds */
	for (i = 0; i < 4; i++) {
		char id[16];

		snprintf(id, sizeof(id), "p/%d", i);
		add(r, id, i == 3 ? EB_OUT_FAIL : EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
		eb_report_console_progress(r, f, 4);
	}
	eb_report_console_progress(r, f, 4);
	fclose(f);
	ck_assert_uint_eq(count_of(buf, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(buf, "[  4/4] 100%  pass 3  fail 1  non-strict 0  skip 0  error 0"));
	ck_assert_ptr_null(strchr(buf, '\r'));
	free(buf);
	eb_report_free(r);
}
END_TEST

/* Everything the terminal side has to read from a pty master (non-blocking). */
static size_t pty_read(int master, char *buf, size_t cap)
{
	size_t n = 0;
	struct pollfd pfd = { master, POLLIN, 0 };

	while (n + 1 < cap && poll(&pfd, 1, 200) == 1) {
		ssize_t got = read(master, buf + n, cap - 1 - n);

		if (got <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	return n;
}

START_TEST(test_console_progress_on_a_tty_rewrites_one_line_in_place)
{
	eb_report *r = eb_report_new("t", "1", "u", "c");
	int master, slave;
	FILE *tty;
	char buf[4096];

	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	tty = fdopen(slave, "w");
	ck_assert_ptr_nonnull(tty);
	eb_report_console_progress(r, tty, 3);
	pty_read(master, buf, sizeof(buf));
	ck_assert_msg(!strncmp(buf, "\r[  0/3]   0%  pass 0  fail 0",
			       strlen("\r[  0/3]   0%  pass 0  fail 0")), "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\033[K"));
	ck_assert_ptr_null(strchr(buf, '\n'));
	/* a summary right after an unfinished line starts on a new line */
	eb_report_console_summary(r, tty, false);
	pty_read(master, buf, sizeof(buf));
	ck_assert(buf[0] == '\r' || buf[0] == '\n');
	add(r, "a/1", EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	add(r, "a/2", EB_OUT_PASS, NULL, 0, NULL, NULL, NULL);
	add(r, "a/3", EB_OUT_SKIP, NULL, 0, NULL, "n/a", NULL);
	eb_report_console_progress(r, tty, 3);
	pty_read(master, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\r[  3/3] 100%  pass 2  fail 0  non-strict 0  skip 1") != NULL,
		      "%s", buf);
	ck_assert_ptr_nonnull(strchr(buf, '\n')); /* the final line is ended */
	fclose(tty);
	close(master);
	eb_report_free(r);
}
END_TEST

/* ---- eb_html charts ------------------------------------------------------------------ */

static char *mem_run(int which, eb_rc *rc)
{
	static const double x[] = { 0, 1, 2, 3, 4 };
	static const double y1[] = { 10, 12, 9, 15, 30 };
	static const double y2[] = { 1, 2, NAN, 4, 5 };
	static const char *const labels[] = { "0-1 ms", "1-2 ms", "2-5 ms", "5-10 ms" };
	static const double bars[] = { 5, 40, 12, -1 };
	eb_html_series s[2] = {
		{ "p50 <ms>", x, y1, 5 },
		{ NULL, x, y2, 5 },
	};
	eb_html_chart c = { "Latency & \"throughput\"", "time (s)", "ms", 0, 0, true, 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	if (which == 0)
		*rc = eb_html_line_chart(f, &c, s, 2);
	else if (which == 1)
		*rc = eb_html_bar_chart(f, &c, labels, bars, 4);
	else
		*rc = eb_html_line_chart(f, &c, NULL, 0);
	fclose(f);
	return buf;
}

/* The <svg> element of a chart, as its own document (malloc'd). */
static char *svg_part(const char *doc)
{
	const char *s = strstr(doc, "<svg"), *e = strstr(doc, "</svg>");
	char *out;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(e);
	out = strndup(s, (size_t)(e + 6 - s));
	ck_assert_ptr_nonnull(out);
	return out;
}

START_TEST(test_html_line_chart_has_axes_ticks_legend_and_escaped_names)
{
	eb_rc rc;
	char *svg = mem_run(0, &rc), why[160] = "", *part;

	ck_assert_int_eq(rc, EB_OK);
	part = svg_part(svg);
	ck_assert_msg(well_formed(part, false, why, sizeof(why)), "%s", why);
	free(part);
	ck_assert_ptr_nonnull(strstr(svg, "<figcaption>Latency &amp; &quot;throughput&quot;</figcaption>"));
	ck_assert_ptr_nonnull(strstr(svg, ">p50 &lt;ms&gt;</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">series 2</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">time (s)</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">30</text>")); /* nice y ticks 0..30 by 10 */
	ck_assert_ptr_nonnull(strstr(svg, ">0</text>"));
	/* the NaN point splits series 2 into two polylines */
	ck_assert_uint_eq(count_of(svg, "<polyline"), 3);
	ck_assert_uint_eq(count_of(svg, "<circle"), 9);
	/* the second series is dashed, in its lines and its legend sample, so
	 * it stays visible where it coincides with the first */
	ck_assert_uint_eq(count_of(svg, "stroke-dasharray=\"7 4\""), 2);
	ck_assert_ptr_nonnull(strstr(svg, "<g stroke=\"#d62728\" fill=\"none\" stroke-width=\"1.8\" "
					  "stroke-dasharray=\"7 4\">"));
	ck_assert_ptr_nonnull(strstr(svg, "<g stroke=\"#1f77b4\" fill=\"none\" stroke-width=\"1.8\">"));
	free(svg);

	svg = mem_run(2, &rc);
	ck_assert_int_eq(rc, EB_OK);
	ck_assert_ptr_nonnull(strstr(svg, ">no data</text>"));
	free(svg);
	ck_assert_int_eq(eb_html_line_chart(NULL, NULL, NULL, 0), EB_ERR_ARG);
}
END_TEST

START_TEST(test_html_bar_chart_draws_a_bar_per_value_with_labels)
{
	eb_rc rc;
	char *svg = mem_run(1, &rc), why[160] = "", *part;
	eb_html_chart c = { NULL, NULL, NULL, 0, 0, false, 0 };
	double v = 1;

	ck_assert_int_eq(rc, EB_OK);
	part = svg_part(svg);
	ck_assert_msg(well_formed(part, false, why, sizeof(why)), "%s", why);
	free(part);
	ck_assert_uint_eq(count_of(svg, "<rect"), 3); /* the negative value draws none */
	ck_assert_ptr_nonnull(strstr(svg, "<title>1-2 ms: 40</title>"));
	ck_assert_ptr_nonnull(strstr(svg, ">5-10 ms</text>"));
	free(svg);
	ck_assert_int_eq(eb_html_bar_chart(stdout, &c, NULL, NULL, 1), EB_ERR_ARG);
	ck_assert_int_eq(eb_html_bar_chart(stdout, NULL, NULL, &v, 1), EB_ERR_ARG);
}
END_TEST

START_TEST(test_html_escape_and_page_skeleton)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char why[160] = "";

	eb_html_page_begin(f, "a<b", "p{color:red}");
	eb_html_escape(f, "<&\"'>\x01\n");
	eb_html_escape_n(f, "z\0y", 3);
	eb_html_escape(f, NULL);
	eb_html_page_end(f, "foot & note");
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "<title>a&lt;b</title>"));
	ck_assert_ptr_nonnull(strstr(buf, "p{color:red}</style>"));
	ck_assert_ptr_nonnull(strstr(buf, eb_html_css()));
	ck_assert_ptr_nonnull(strstr(buf, "&lt;&amp;&quot;&#39;&gt;\\x01\nz\\x00y"));
	ck_assert_ptr_nonnull(strstr(buf, "<footer>foot &amp; note</footer>"));
	ck_assert_msg(well_formed(buf, true, why, sizeof(why)), "%s", why);
	free(buf);
}
END_TEST

/* An INCOMPLETE run says so in every format, with the cases not run, and
 * the JSON reads back with the mark. */
START_TEST(test_incomplete_run_says_so_in_every_format_and_reads_back)
{
	static const char *const rules[] = { "VER-2" };
	const char *not_run[] = { "ws/auth-timeout", "feed/page" };
	eb_report *r = eb_report_new("ebconform", "1", "http://x", "cmd"), *back;
	char err[256], *txt;
	size_t len;

	ck_assert_ptr_nonnull(r);
	add(r, "versioning/a", EB_OUT_PASS, rules, 1, NULL, NULL, NULL);
	ck_assert_ptr_null(eb_report_incomplete(r));
	ck_assert_str_eq(eb_report_verdict_name(r), "PASS");
	ck_assert_int_eq(eb_report_set_incomplete(r, "interrupted by a signal", not_run, 2), 0);
	ck_assert_str_eq(eb_report_verdict_name(r), "INCOMPLETE");
	ck_assert_uint_eq(eb_report_not_run_count(r), 2);
	eb_report_finish(r);
	ck_assert_int_eq(eb_report_write_json(r, tmp_path("i.json"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_junit(r, tmp_path("i.xml"), err, sizeof(err)), 0);
	ck_assert_int_eq(eb_report_write_html(r, tmp_path("i.html"), err, sizeof(err)), 0);
	txt = slurp(tmp_path("i.json"), &len);
	ck_assert_ptr_nonnull(strstr(txt, "\"INCOMPLETE\""));
	ck_assert_ptr_nonnull(strstr(txt, "ws/auth-timeout"));
	ck_assert_ptr_null(strstr(txt, "\"verdict\":\t\"PASS\""));
	free(txt);
	txt = slurp(tmp_path("i.xml"), &len);
	ck_assert_ptr_nonnull(strstr(txt, "type=\"INCOMPLETE\""));
	ck_assert_ptr_nonnull(strstr(txt, "feed/page"));
	ck_assert_ptr_nonnull(strstr(txt, "errors=\"2\""));
	free(txt);
	txt = slurp(tmp_path("i.html"), &len);
	ck_assert_ptr_nonnull(strstr(txt, "VERDICT: INCOMPLETE"));
	free(txt);
	back = eb_report_read_json(tmp_path("i.json"), err, sizeof(err));
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_str_eq(eb_report_verdict_name(back), "INCOMPLETE");
	ck_assert_str_eq(eb_report_incomplete(back), "interrupted by a signal");
	ck_assert_uint_eq(eb_report_not_run_count(back), 2);
	ck_assert_str_eq(eb_report_not_run(back, 1), "feed/page");
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

/* The matrix's status of a rule comes from the cases whose failedRule it
 * is: a case citing VER-2 and VER-3 that failed VER-3 leaves VER-2 PASS. */
START_TEST(test_matrix_rule_fails_only_through_its_own_failed_rule)
{
	static const char *const both[] = { "VER-2", "VER-3" };
	static const char *const ver2[] = { "VER-2" };
	eb_report *r = eb_report_new("ebconform", "1", "http://x", "cmd");
	char err[256], *txt, *p;
	size_t len;

	ck_assert_ptr_nonnull(r);
	add(r, "versioning/broken", EB_OUT_FAIL, both, 2, "VER-3", "bad", NULL);
	add(r, "versioning/fine", EB_OUT_PASS, ver2, 1, NULL, NULL, NULL);
	eb_report_finish(r);
	ck_assert_int_eq(eb_report_write_json(r, tmp_path("m.json"), err, sizeof(err)), 0);
	txt = slurp(tmp_path("m.json"), &len);
	p = strstr(txt, "\"id\":\t\"VER-2\"");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "\"status\":");
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(strncmp(p, "\"status\":\t\"PASS\"", 16) == 0, "VER-2: %.40s", p);
	p = strstr(txt, "\"id\":\t\"VER-3\"");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "\"status\":");
	ck_assert_msg(strncmp(p, "\"status\":\t\"FAIL\"", 16) == 0, "VER-3: %.40s", p);
	free(txt);
	eb_report_free(r);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_checker_itself_rejects_broken_xml);
	tcase_add_test(tc, test_report_counts_each_outcome_and_fail_verdict);
	tcase_add_test(tc, test_report_verdict_is_error_without_failures_else_pass);
	tcase_add_test(tc, test_report_category_defaults_to_first_id_segment);
	tcase_add_test(tc, test_report_case_get_is_insertion_order_with_copies);
	tcase_add_test(tc, test_report_replaces_invalid_utf8_so_json_stays_valid);
	tcase_add_test(tc, test_report_add_from_threads_keeps_every_result);
	tcase_add_test(tc, test_report_merge_copies_results_wire_logs_and_missing_meta);
	tcase_add_test(tc, test_report_json_written_then_read_back_is_equal);
	tcase_add_test(tc, test_report_json_has_schema_summary_sorted_cases_and_full_coverage);
	tcase_add_test(tc, test_report_read_json_rejects_malformed_reports_with_a_reason);
	tcase_add_test(tc, test_report_writers_fail_cleanly_on_unwritable_path);
	tcase_add_test(tc, test_report_empty_run_writes_every_format);
	tcase_add_test(tc, test_junit_is_well_formed_with_failure_error_and_skipped);
	tcase_add_test(tc, test_junit_escapes_markup_quotes_and_replaces_control_chars);
	tcase_add_test(tc, test_junit_non_strict_is_a_passing_case_with_a_system_out_note);
	tcase_add_test(tc, test_html_lists_every_rule_and_the_uncovered_ones);
	tcase_add_test(tc, test_html_is_self_contained_escaped_and_balanced);
	tcase_add_test(tc, test_html_shows_failing_wire_logs_whole_and_bounds_passing_ones);
	tcase_add_test(tc, test_html_lists_failures_under_the_verdict_before_the_summary);
	tcase_add_test(tc, test_html_and_junit_regenerate_identically_from_json);
	tcase_add_test(tc, test_console_summary_shows_rule_sentence_expected_actual_rerun_and_verdict);
	tcase_add_test(tc, test_console_verdict_line_for_pass_and_error_runs);
	tcase_add_test(tc, test_console_progress_off_tty_throttles_and_prints_the_final_line_once);
	tcase_add_test(tc, test_console_progress_on_a_tty_rewrites_one_line_in_place);
	tcase_add_test(tc, test_html_line_chart_has_axes_ticks_legend_and_escaped_names);
	tcase_add_test(tc, test_html_bar_chart_draws_a_bar_per_value_with_labels);
	tcase_add_test(tc, test_html_escape_and_page_skeleton);
	tcase_add_test(tc, test_incomplete_run_says_so_in_every_format_and_reads_back);
	tcase_add_test(tc, test_matrix_rule_fails_only_through_its_own_failed_rule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
