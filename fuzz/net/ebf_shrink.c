/*
 * ebf_shrink.c — shrinks a finding to a small reproducer before it is saved.
 *
 * Greedy and structure-aware, as Schemathesis and libFuzzer's minimizer do:
 * drop JSON array elements and object members (so a 40-change push becomes
 * the one change that matters), query parameters and script steps, then
 * bytes. A candidate is kept only when it still gives a finding of the same
 * category against the live server.
 *
 * Category alone would let a shrunk case lie: a defect that accepts a
 * delete-with-value (finding accepted-invalid/CHG-6) also "accepts" a body
 * whose offending change was dropped, because the expectation recorded in
 * the case no longer fits its body. So every candidate's own expectation is
 * derived again from the protocol library, exactly as the generator derives
 * it, and must equal the original's; where no expectation can be derived
 * (WebSocket scripts, paths) only categories whose oracle does not depend
 * on the input (5xx, resets, hangs, malformed answers) shrink the script.
 *
 * Each rerun writes a store of its own (the store id gets a suffix), so the
 * generator's premise "the store is at version 0" holds for every try.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "ebf.h"

/* Strings longer than this are tried at half their length. */
#define SHRINK_STR_MIN 8

typedef struct shrink {
	ebf_ctx *x;
	const char *category;
	ebf_expect body_ex;      /* expectation the body itself gives (sync bodies) */
	bool sync_body;
	bool input_free;         /* the category's oracle ignores the input */
	unsigned max_runs;
	uint64_t deadline_ns;
	unsigned fresh;          /* store id suffix counter */
	size_t id_len;           /* length of the original store id, 0: none */
	bool stop;               /* budget spent or harness failure */
	ebf_shrink_stats *st;
} shrink;

/* Categories judged without the case's expectation: any input may show them. */
static bool category_input_free(const char *category)
{
	static const char *const free_kinds[] = { "server-error", "connection-reset", "hang",
		"error-body", "error-code-status", "content-type", "response-shape", "page",
		"www-authenticate", "allow", "retry-after", "ws-protocol-error",
		"ws-bad-message", "ws-binary-message", "ws-no-pong-frame", NULL };
	size_t n = strcspn(category, "/");

	for (int i = 0; free_kinds[i]; i++)
		if (strlen(free_kinds[i]) == n && strncmp(category, free_kinds[i], n) == 0)
			return true;
	return false;
}

static size_t case_size(const ebf_case *c)
{
	size_t n = c->body_len + (c->path ? strlen(c->path) : 0);

	for (size_t i = 0; i < c->n_steps; i++)
		n += c->steps[i].len;
	return n;
}

static bool expect_equal(const ebf_expect *a, const ebf_expect *b)
{
	return strcmp(a->rule, b->rule) == 0 && a->want_status == b->want_status &&
	       strcmp(a->want_code, b->want_code) == 0 && a->valid == b->valid;
}

static bool is_sync_body(const ebf_case *c)
{
	size_t n = c->path ? strcspn(c->path, "?") : 0;

	return c->kind == EBF_HTTP && c->has_body && strcmp(c->method, "POST") == 0 &&
	       n >= 5 && strncmp(c->path + n - 5, "/sync", 5) == 0 &&
	       (!c->content_type || strcmp(c->content_type, "application/json") == 0);
}

/* Where the store id sits in "/api/stores/<id>/...": *at its offset, the
 * return its length; 0 when the path names no valid store id (a case about
 * a bad id keeps its id). */
static size_t store_id_span(const char *path, size_t *at)
{
	static const char pre[] = "/api/stores/";
	const char *p = path ? strstr(path, pre) : NULL;
	size_t n;

	if (!p)
		return 0;
	*at = (size_t)(p - path) + sizeof(pre) - 1;
	n = strcspn(path + *at, "/?");
	return eb_store_id_valid(path + *at, n) ? n : 0;
}

/* Gives c's store a name no earlier try used: the original id (its first
 * s->id_len bytes) plus "-s<n>", when that is a valid id too. */
static int fresh_store(shrink *s, ebf_case *c)
{
	char suffix[24], *np;
	size_t at = 0, n, slen;
	eb_buf b = { 0 };

	if (c->kind != EBF_HTTP || s->id_len == 0 || (n = store_id_span(c->path, &at)) == 0 ||
	    n < s->id_len)
		return 0;
	slen = (size_t)snprintf(suffix, sizeof(suffix), "-s%u", ++s->fresh);
	eb_buf_put(&b, c->path, at + s->id_len);
	eb_buf_put(&b, suffix, slen);
	eb_buf_str(&b, c->path + at + n);
	np = eb_buf_take(&b, NULL);
	if (!np)
		return -1;
	if (!eb_store_id_valid(np + at, s->id_len + slen)) {
		free(np);      /* too long with the suffix: reuse the id */
		return 0;
	}
	free(c->path);
	c->path = np;
	return 0;
}

/* Reruns cand: 1 when it gives the same category, 0 when not, -1 when the
 * budget is spent or the harness cannot run it (shrinking stops). */
static int try_case(shrink *s, ebf_case *cand)
{
	ebf_finding f;
	int r;

	if (s->stop || s->st->runs >= s->max_runs || eb_time_mono_ns() >= s->deadline_ns) {
		s->stop = true;
		return -1;
	}
	if (s->sync_body) {
		ebf_case probe = { 0 };

		/* Only the body's own verdict is derived; the rest of ex stays. */
		probe.body = cand->body;
		probe.body_len = cand->body_len;
		ebf_gen_expect_sync_body(s->x, &probe);
		if (!expect_equal(&probe.ex, &s->body_ex))
			return 0;
	}
	if (fresh_store(s, cand) != 0) {
		s->stop = true;
		return -1;
	}
	s->st->runs++;
	memset(&f, 0, sizeof(f));
	r = ebf_run_case(s->x, cand, &f, NULL);
	if (r < 0) {
		s->stop = true;
		return -1;
	}
	/* A hang or reset leaves the connection cache unusable. */
	if (r == 1 && (strncmp(f.category, "hang", 4) == 0 ||
		       strncmp(f.category, "connection-reset", 16) == 0) &&
	    ebf_http_reset(s->x) != 0) {
		s->stop = true;
		return -1;
	}
	return r == 1 && strcmp(f.category, s->category) == 0;
}

/* ---- JSON: drop the k-th removable node (preorder) ------------------------------ */

/* Detaches and deletes the *k-th node that sits in an array or object
 * (counting down *k); true when one was removed. */
static bool json_drop_nth(cJSON *v, long *k)
{
	for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
		if ((*k)-- == 0) {
			cJSON_Delete(cJSON_DetachItemViaPointer(v, c));
			return true;
		}
		if (json_drop_nth(c, k))
			return true;
	}
	return false;
}

/* Halves the *k-th long string (preorder); true when one was cut. */
static bool json_halve_nth(cJSON *v, long *k)
{
	for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
		if (cJSON_IsString(c) && strlen(c->valuestring) > SHRINK_STR_MIN && (*k)-- == 0) {
			size_t n = strlen(c->valuestring) / 2;

			/* Cut on a UTF-8 boundary so the string stays valid. */
			while (n > 0 && ((unsigned char)c->valuestring[n] & 0xC0) == 0x80)
				n--;
			c->valuestring[n] = '\0';
			return true;
		}
		if (json_halve_nth(c, k))
			return true;
	}
	return false;
}

/* A NUL-terminated copy of len bytes of text; NULL when out of memory. */
static char *text_dup(const char *text, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, text, len);
		d[len] = '\0';
	}
	return d;
}

/* Puts text (copied) into the body (idx ignored) or step idx of c. 0 or -1. */
typedef int (*text_set)(ebf_case *c, size_t idx, char *text, size_t len);

/* try_text's answer when memory ran out (shrinking then fails). */
#define SHRINK_OOM (-2)

/* Tries c with out (owned, out_len bytes) as its text idx. When it still
 * reproduces, out becomes *cur (the old one freed) and c takes it, with the
 * candidate's path (it carries the fresh store id); else out is freed.
 * Returns try_case's answer (1 kept, 0 not, -1 shrinking stops) or
 * SHRINK_OOM. */
static int try_text(shrink *s, ebf_case *c, size_t idx, text_set set, char **cur,
		    size_t *cur_len, char *out, size_t out_len)
{
	ebf_case cand;
	int r;

	if (ebf_case_copy(&cand, c) != 0 || set(&cand, idx, out, out_len) != 0) {
		free(out);
		ebf_case_clear(&cand);
		return SHRINK_OOM;
	}
	r = try_case(s, &cand);
	if (r == 1) {
		free(*cur);
		*cur = out;
		*cur_len = out_len;
		free(c->path);
		c->path = cand.path;
		cand.path = NULL;
		if (set(c, idx, *cur, *cur_len) != 0)
			r = SHRINK_OOM;
	} else {
		free(out);
	}
	ebf_case_clear(&cand);
	return r;
}

/* Tries cand, a copy of c with one part dropped: when it still reproduces it
 * replaces c and *kept grows; else it is cleared. Returns try_case's answer
 * (1 kept, 0 not, -1 shrinking stops). */
static int try_replace(shrink *s, ebf_case *c, ebf_case *cand, int *kept)
{
	int r = try_case(s, cand);

	if (r == 1) {
		ebf_case_clear(c);
		*c = *cand;
		(*kept)++;
	} else {
		ebf_case_clear(cand);
	}
	return r;
}

/* The JSON text text (the body or step idx of c) with one change of the
 * given mode (0 drop the k-th node, 1 halve the k-th long string), printed
 * into *out; 1 done, 0 no k-th place (or text no longer parses), -1 out of
 * memory. */
static int json_variant(const char *text, size_t len, int mode, long k, char **out,
			size_t *out_len)
{
	cJSON *tree = NULL;
	eb_err err;
	bool changed;
	int rc;

	if (eb_json_parse(text, len, EB_JSON_MAX_DEPTH, &tree, &err) != EB_OK)
		return 0;
	changed = mode == 0 ? json_drop_nth(tree, &k) : json_halve_nth(tree, &k);
	rc = !changed ? 0 : eb_json_print(tree, out, out_len) == EB_OK ? 1 : -1;
	cJSON_Delete(tree);
	return rc;
}

/* Shrinks the JSON text (the body or step idx of c) by dropping nodes, then
 * by halving long strings, keeping each change that still reproduces.
 * Returns the reductions kept, -1 on allocation failure. */
static int shrink_json(shrink *s, ebf_case *c, size_t idx, const char *text, size_t len,
		       text_set set)
{
	int kept = 0;
	char *cur = text_dup(text, len);
	size_t cur_len = len;

	if (!cur)
		return -1;
	for (int mode = 0; mode < 2 && !s->stop; mode++) {
		for (long k = 0;;) {
			char *out = NULL;
			size_t out_len = 0;
			int r = json_variant(cur, cur_len, mode, k, &out, &out_len);

			if (r == 0)
				break;
			r = r < 0 ? SHRINK_OOM :
			    try_text(s, c, idx, set, &cur, &cur_len, out, out_len);
			if (r == SHRINK_OOM)
				kept = -1;
			if (r < 0)
				goto done;
			if (r == 1)
				kept++;
			else
				k++;
		}
	}
done:
	free(cur);
	return kept;
}

/* ---- bytes: drop chunks, halving their size ----------------------------------- */

static int shrink_bytes(shrink *s, ebf_case *c, size_t idx, const char *text, size_t len,
			text_set set)
{
	int kept = 0;
	char *cur = text_dup(text, len);
	size_t cur_len = len;

	if (!cur)
		return -1;
	for (size_t chunk = cur_len / 2; chunk >= 1 && !s->stop; chunk /= 2) {
		for (size_t at = 0; at + chunk <= cur_len && !s->stop;) {
			char *out = malloc(cur_len - chunk + 1);
			int r;

			if (!out) {
				free(cur);
				return -1;
			}
			memcpy(out, cur, at);
			memcpy(out + at, cur + at + chunk, cur_len - at - chunk);
			r = try_text(s, c, idx, set, &cur, &cur_len, out, cur_len - chunk);
			if (r == SHRINK_OOM) {
				free(cur);
				return -1;
			}
			if (r == 1)
				kept++;
			else
				at += chunk;
		}
		if (chunk == 1)
			break;
	}
	free(cur);
	return kept;
}

/* Setters: put a text into the body, a step, or the query. */
static int set_body(ebf_case *c, size_t idx, char *text, size_t len)
{
	char *b = text_dup(text, len);

	(void)idx;
	if (!b)
		return -1;
	free(c->body);
	c->body = b;
	c->body_len = len;
	return 0;
}

static int set_step(ebf_case *c, size_t idx, char *text, size_t len)
{
	char *d = text_dup(text, len);

	if (!d)
		return -1;
	free(c->steps[idx].data);
	c->steps[idx].data = d;
	c->steps[idx].len = len;
	return 0;
}

/* Drops query parameters one at a time (input-free categories only). */
static int shrink_query(shrink *s, ebf_case *c)
{
	int kept = 0;

	for (size_t k = 0; !s->stop;) {
		char *q = c->path ? strchr(c->path, '?') : NULL;
		char *p, *start, *stop;
		size_t i = 0;
		ebf_case cand;
		int r;

		if (!q)
			break;
		/* Find parameter k. */
		start = q + 1;
		for (p = start; i < k && *p; p++)
			if (*p == '&') {
				i++;
				start = p + 1;
			}
		if (i < k || !*start)
			break;
		stop = start + strcspn(start, "&");
		if (ebf_case_copy(&cand, c) != 0)
			return -1;
		{
			size_t off = (size_t)(start - c->path), n = (size_t)(stop - start);
			char *np = cand.path;

			if (*stop == '&')
				n++;            /* "a&b" -> "b" */
			else if (off > 0 && (np[off - 1] == '&' || np[off - 1] == '?'))
				off--, n++;     /* "a&b" -> "a", "?a" -> "" */
			memmove(np + off, np + off + n, strlen(np + off + n) + 1);
		}
		r = try_replace(s, c, &cand, &kept);
		if (r < 0)
			break;
		if (r == 0)
			k++;
	}
	return kept;
}

/* Drops script steps one at a time (input-free categories only). */
static int shrink_steps(shrink *s, ebf_case *c)
{
	int kept = 0;

	for (size_t k = 0; k < c->n_steps && c->n_steps > 1 && !s->stop;) {
		ebf_case cand;
		int r;

		if (ebf_case_copy(&cand, c) != 0)
			return -1;
		free(cand.steps[k].data);
		memmove(&cand.steps[k], &cand.steps[k + 1],
			(cand.n_steps - k - 1) * sizeof(cand.steps[0]));
		cand.n_steps--;
		r = try_replace(s, c, &cand, &kept);
		if (r < 0)
			break;
		if (r == 0)
			k++;
	}
	return kept;
}

static bool is_json_text(const char *t, size_t len)
{
	cJSON *v = NULL;
	eb_err err;
	bool ok = eb_json_parse(t, len, EB_JSON_MAX_DEPTH, &v, &err) == EB_OK;

	cJSON_Delete(v);
	return ok;
}

int ebf_shrink(ebf_ctx *x, ebf_case *c, const ebf_finding *f, unsigned max_runs,
	       uint64_t deadline_ns, ebf_shrink_stats *st)
{
	shrink s = { 0 };
	ebf_case first;
	int r, kept = 0;

	memset(st, 0, sizeof(*st));
	st->before = st->after = case_size(c);
	s.x = x;
	s.category = f->category;
	s.input_free = category_input_free(f->category);
	s.sync_body = is_sync_body(c);
	s.max_runs = max_runs;
	s.deadline_ns = deadline_ns;
	s.st = st;
	if (c->kind == EBF_HTTP) {
		size_t at;

		s.id_len = store_id_span(c->path, &at);
	}
	if (s.sync_body) {
		ebf_case probe = { 0 };

		probe.body = c->body;
		probe.body_len = c->body_len;
		ebf_gen_expect_sync_body(x, &probe);
		s.body_ex = probe.ex;
	}
	/* A finding that does not come back on a plain rerun depends on state
	 * or timing; a shrunk copy of it would prove nothing. */
	if (ebf_case_copy(&first, c) != 0)
		return -1;
	r = try_case(&s, &first);
	if (r != 1) {
		ebf_case_clear(&first);
		return 0;
	}
	st->reproduced = true;
	free(c->path);
	c->path = first.path;
	first.path = NULL;
	ebf_case_clear(&first);

	if (c->kind == EBF_HTTP && c->has_body && c->body_len > 0 && (s.sync_body || s.input_free)) {
		r = is_json_text(c->body, c->body_len)
			? shrink_json(&s, c, 0, c->body, c->body_len, set_body)
			: s.input_free ? shrink_bytes(&s, c, 0, c->body, c->body_len, set_body) : 0;
		if (r < 0)
			return -1;
		kept += r;
	}
	if (c->kind == EBF_HTTP && s.input_free) {
		if ((r = shrink_query(&s, c)) < 0)
			return -1;
		kept += r;
	}
	if (c->kind != EBF_HTTP && s.input_free) {
		if ((r = shrink_steps(&s, c)) < 0)
			return -1;
		kept += r;
		for (size_t i = 0; i < c->n_steps && !s.stop; i++) {
			const ebf_step *sp = &c->steps[i];

			if (sp->op == EBF_S_SLEEP || sp->len == 0)
				continue;
			r = is_json_text(sp->data, sp->len)
				? shrink_json(&s, c, i, sp->data, sp->len, set_step)
				: shrink_bytes(&s, c, i, sp->data, sp->len, set_step);
			if (r < 0)
				return -1;
			kept += r;
		}
	}
	st->kept = (unsigned)kept;
	st->after = case_size(c);
	return kept;
}
