/*
 * ebc_util.c — the helpers cases are written with: verdicts, fresh ids,
 * tokens, HTTP with Retry-After handling, response checks, paginated reads.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eb_buf.h"
#include "eb_time.h"
#include "ebc.h"

/* ---- verdicts ------------------------------------------------------------ */

/* Truncating copy (snprintf "%s" of a larger buffer trips -Wformat-truncation). */
static void util_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void util_verdict(ebc_ctx *ctx, ebc_raw raw, const char *rule,
			 const char *expected, const char *fmt, va_list ap)
{
	char msg[2048];
	bool first;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&ctx->mu);
	first = ctx->raw == EBC_RAW_PASS;
	if (first) {
		ctx->raw = raw;
		snprintf(ctx->failed_rule, sizeof(ctx->failed_rule), "%s", rule ? rule : "");
		snprintf(ctx->expected, sizeof(ctx->expected), "%s", expected ? expected : "");
		util_copy(ctx->actual, sizeof(ctx->actual), msg);
		if (raw == EBC_RAW_FAIL) {
			size_t k;

			util_copy(ctx->reason, sizeof(ctx->reason), rule ? rule : "?");
			k = strlen(ctx->reason);
			util_copy(ctx->reason + k, sizeof(ctx->reason) - k, ": ");
			k = strlen(ctx->reason);
			util_copy(ctx->reason + k, sizeof(ctx->reason) - k, msg);
		} else {
			util_copy(ctx->reason, sizeof(ctx->reason), msg);
		}
		/* one line */
		for (char *p = ctx->reason; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	pthread_mutex_unlock(&ctx->mu);
	eb_wirelog_note(ctx->wire, "%s%s %s: %s", first ? "" : "(later) ",
			raw == EBC_RAW_FAIL ? "FAIL" : raw == EBC_RAW_SKIP ? "SKIP" : "ERROR",
			rule ? rule : "", msg);
}

void ebc_fail(ebc_ctx *ctx, const char *rule, const char *expected, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_verdict(ctx, EBC_RAW_FAIL, rule, expected, fmt, ap);
	va_end(ap);
}

void ebc_skip(ebc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_verdict(ctx, EBC_RAW_SKIP, NULL, NULL, fmt, ap);
	va_end(ap);
}

void ebc_error(ebc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_verdict(ctx, EBC_RAW_ERROR, NULL, NULL, fmt, ap);
	va_end(ap);
}

bool ebc_done(ebc_ctx *ctx)
{
	bool d;

	pthread_mutex_lock(&ctx->mu);
	d = ctx->raw != EBC_RAW_PASS;
	pthread_mutex_unlock(&ctx->mu);
	return d;
}

void ebc_note(ebc_ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eb_wirelog_note(ctx->wire, "%s", msg);
}

long ebc_ms(const ebc_ctx *ctx, long ms)
{
	double f = ctx->run->opts->time_scale;

	/* Patience only ever grows: a factor below 1 (refused by the option
	 * parser) would shorten the deadlines the spec gives the server. */
	return (long)((double)ms * (f > 1.0 ? f : 1.0));
}

long ebc_timeout(const ebc_ctx *ctx)
{
	return ebc_ms(ctx, ctx->run->opts->timeout_ms);
}

const char *ebc_store(ebc_ctx *ctx, const char *tag, char *buf, size_t len)
{
	unsigned n;

	pthread_mutex_lock(&ctx->mu);
	n = ++ctx->next_store;
	pthread_mutex_unlock(&ctx->mu);
	snprintf(buf, len, "%s%u%s%s", ctx->store_prefix, n, tag ? "-" : "", tag ? tag : "");
	return buf;
}

const char *ebc_cid(ebc_ctx *ctx, char *buf, size_t len)
{
	unsigned n;

	pthread_mutex_lock(&ctx->mu);
	n = ++ctx->next_id;
	pthread_mutex_unlock(&ctx->mu);
	snprintf(buf, len, "%s-c%u", ctx->run->prefix, n);
	return buf;
}

uint64_t ebc_now_ms(void)
{
	return eb_time_now_ms();
}

void ebc_sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

void ebc_parallel(size_t n, void *(*fn)(void *), void *args, size_t arg_size)
{
	pthread_t th[64];
	bool started[64] = { false };
	size_t i;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		started[i] = pthread_create(&th[i], NULL, fn, (char *)args + i * arg_size) == 0;
	for (i = 0; i < n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			fn((char *)args + i * arg_size);
	}
}

void ebc_subst(char *out, size_t len, const char *tmpl, const char *s)
{
	size_t at = 0, sl = strlen(s);

	if (len == 0)
		return;
	while (*tmpl && at + 1 < len) {
		if (tmpl[0] == '%' && tmpl[1] == 's') {
			size_t k = sl < len - 1 - at ? sl : len - 1 - at;

			memcpy(out + at, s, k);
			at += k;
			tmpl += 2;
		} else {
			out[at++] = *tmpl++;
		}
	}
	out[at] = '\0';
}

/* ---- tokens -------------------------------------------------------------- */

void ebc_tok_default(ebc_ctx *ctx, eb_jwt_mint_opts *o, const char **pats,
		     char *patbuf, size_t patlen)
{
	const ebc_run *r = ctx->run;

	/* signed as the target is configured (eb_target.h) */
	eb_target_mint_opts(&r->opts->target, ctx->subject, 3600, o);
	snprintf(patbuf, patlen, "%s*", ctx->store_prefix);
	pats[0] = patbuf;
	pats[1] = NULL;
	o->write = pats;
	o->n_write = 1;
}

char *ebc_mint(ebc_ctx *ctx, const eb_jwt_mint_opts *o)
{
	char *tok = NULL;
	eb_err err;

	eb_err_clear(&err);
	if (o->alg != EB_JWT_NONE && !o->key && ctx->run->opts->no_auth_server) {
		/* the server takes no token: "" means none (see ebc_req) */
		tok = strdup("");
		if (!tok)
			ebc_error(ctx, "out of memory");
		return tok;
	}
	if (o->alg != EB_JWT_NONE && !o->key) {
		ebc_error(ctx, "no signing key: give --jwt-secret or --jwt-private-key");
		return NULL;
	}
	if (eb_jwt_mint(o, &tok, &err) != EB_OK) {
		ebc_error(ctx, "minting a token failed: %s", err.msg);
		return NULL;
	}
	return tok;
}

char *ebc_mint_signed(ebc_ctx *ctx, eb_jwt_alg alg, const char *key)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.alg = alg;
	o.key = key;
	o.key_len = key ? strlen(key) : 0;
	return ebc_mint(ctx, &o);
}

const char *ebc_token(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];

	if (ctx->token)
		return ctx->token;
	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	ctx->token = ebc_mint(ctx, &o);
	return ctx->token;
}

char *ebc_token_perm(ebc_ctx *ctx, const char *const *read, size_t n_read,
		     const char *const *write, size_t n_write)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.read = read;
	o.n_read = n_read;
	o.write = write;
	o.n_write = n_write;
	return ebc_mint(ctx, &o);
}

char *ebc_token_sub(ebc_ctx *ctx, const char *tag)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160], sub[200];

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	snprintf(sub, sizeof(sub), "%s#%s", ctx->subject, tag);
	o.sub = sub;
	return ebc_mint(ctx, &o);
}

/* ---- HTTP ---------------------------------------------------------------- */

size_t ebc_n_nodes(const ebc_ctx *ctx)
{
	return ctx->run->opts->n_urls > 1 ? ctx->run->opts->n_urls : 1;
}

void ebc_pin_node(ebc_ctx *ctx, int node)
{
	ctx->pin_node = node >= 0 && (size_t)node < ebc_n_nodes(ctx) ? node + 1 : 0;
}

const char *ebc_url_for(ebc_ctx *ctx, int conn)
{
	const ebc_opts *o = ctx->run->opts;
	size_t n = ebc_n_nodes(ctx), h = 0;

	if (n < 2)
		return o->url;
	if (ctx->pin_node)
		return o->urls[ctx->pin_node - 1];
	/* buckets are a node's own in many deployments (ebmock's too): the
	 * rate cases measure one node's */
	if (ctx->c && ((ctx->c->flags & EBC_F_RATE) || strncmp(ctx->c->id, "rate/", 5) == 0))
		return o->urls[0];
	/* the case's own offset, so first connections do not all meet on
	 * node 0; then its connections take the nodes in turn */
	for (const char *p = ctx->c ? ctx->c->id : ""; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return o->urls[(h + (size_t)(conn > 0 ? conn - 1 : 0)) % n];
}

eb_http *ebc_http_new(ebc_ctx *ctx)
{
	int conn;

	pthread_mutex_lock(&ctx->mu);
	conn = ctx->next_conn + 1;
	pthread_mutex_unlock(&ctx->mu);
	eb_http *h = eb_http_new(ebc_url_for(ctx, conn), ebc_timeout(ctx));

	if (!h || eb_http_set_tls(h, &ctx->run->opts->target.tls_opts) != EB_OK) {
		eb_http_free(h);
		ebc_error(ctx, "cannot create an HTTP client");
		return NULL;
	}
	/* over it: an ERROR naming the cap and --max-response-mib (eb_http.h) */
	eb_http_set_max_body(h, (size_t)ctx->run->opts->target.max_response_mib << 20);
	pthread_mutex_lock(&ctx->mu);
	conn = ++ctx->next_conn;
	pthread_mutex_unlock(&ctx->mu);
	eb_http_set_wirelog(h, ctx->wire, conn);
	eb_http_set_budget(h, ctx->run->budget);
	return h;
}

eb_http *ebc_http(ebc_ctx *ctx)
{
	if (!ctx->http)
		ctx->http = ebc_http_new(ctx);
	return ctx->http;
}

static long util_retry_after(const eb_http_resp *resp)
{
	char v[64];
	char *end = NULL;
	long s;

	if (!eb_http_resp_header(resp, "Retry-After", v, sizeof(v)))
		return 1;
	s = strtol(v, &end, 10);
	if (end == v || s < 1)
		return 1;
	return s > 10 ? 10 : s;
}

bool ebc_req(ebc_ctx *ctx, eb_http *h, const char *method, const char *path,
	     const char *token, const char *ctype, const char *body, size_t len,
	     const eb_http_header *extra, size_t n_extra, unsigned flags,
	     eb_http_resp *resp)
{
	int attempt;

	if (token && !*token)
		token = NULL;   /* no-auth server: no Authorization header */
	if (!h)
		h = ebc_http(ctx);
	if (!h) {
		memset(resp, 0, sizeof(*resp));
		return false;
	}
	for (attempt = 0;; attempt++) {
		eb_rc rc = eb_http_request(h, method, path, token, ctype, body, len,
					   extra, n_extra, resp);
		long wait;

		if (rc != EB_OK) {
			ebc_error(ctx, "%s %s: network error: %s", method, path,
				  resp->error[0] ? resp->error : "no response");
			return false;
		}
		if (resp->status != 429 || (flags & EBC_REQ_NO_RETRY) || attempt >= 4)
			return true;
		/* Rate limiting is not what this case tests: honour Retry-After
		 * (RATE-3) and try again rather than fail for the wrong reason. */
		wait = util_retry_after(resp);
		ebc_note(ctx, "429 on %s %s: waiting Retry-After %ld s before retry %d",
			 method, path, wait, attempt + 1);
		eb_http_resp_clear(resp);
		ebc_sleep_ms(wait * 1000);
	}
}

bool ebc_post_sync(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		   const char *body, eb_http_resp *resp)
{
	char path[512];

	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	return ebc_req(ctx, h, "POST", path, token, NULL, body, strlen(body), NULL, 0, 0, resp);
}

bool ebc_get_changes(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		     const char *query, eb_http_resp *resp)
{
	char path[1024];

	snprintf(path, sizeof(path), "/api/stores/%s/changes%s%s", store,
		 query ? "?" : "", query ? query : "");
	return ebc_req(ctx, h, "GET", path, token, NULL, NULL, 0, NULL, 0, 0, resp);
}

static void util_snip(const eb_http_resp *resp, char *buf, size_t len)
{
	size_t n = resp->body_len < 300 ? resp->body_len : 300;
	size_t i;

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++) {
		char ch = resp->body ? resp->body[i] : 0;

		buf[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '.';
	}
	buf[n] = '\0';
}

static bool util_json_ctype(ebc_ctx *ctx, const eb_http_resp *resp)
{
	char ct[128];

	if (!eb_http_resp_header(resp, "Content-Type", ct, sizeof(ct)) ||
	    !strstr(ct, "application/json")) {
		ebc_fail(ctx, "GEN-2", "Content-Type: application/json",
			 "status %ld with Content-Type '%s'", resp->status,
			 eb_http_resp_header(resp, "Content-Type", ct, sizeof(ct)) ? ct : "(none)");
		return false;
	}
	return true;
}

eb_sync_response *ebc_expect_ok(ebc_ctx *ctx, const eb_http_resp *resp, const char *rule)
{
	eb_sync_response *r = NULL;
	char snip[320];
	eb_err err;

	util_snip(resp, snip, sizeof(snip));
	if (resp->status != 200) {
		ebc_fail(ctx, rule, "200 with a sync response",
			 "status %ld: %s", resp->status, snip);
		return NULL;
	}
	if (!util_json_ctype(ctx, resp))
		return NULL;
	eb_err_clear(&err);
	if (eb_sync_response_parse(resp->body, resp->body_len, &r, &err) != EB_OK) {
		ebc_fail(ctx, err.rule[0] ? err.rule : "SYNC-4",
			 "a response object with currentVersion, changes, toVersion, hasMore",
			 "%s%s%s: %s", err.msg, err.field[0] ? " at " : "", err.field, snip);
		return NULL;
	}
	return r;
}

bool ebc_expect_error(ebc_ctx *ctx, const eb_http_resp *resp, long status,
		      const char *code, const char *rule, eb_error_body **out)
{
	eb_error_body *b = NULL;
	char snip[320], exp[160];
	eb_err err;

	if (out)
		*out = NULL;
	util_snip(resp, snip, sizeof(snip));
	snprintf(exp, sizeof(exp), "%ld %s", status, code ? code : "");
	if (resp->status != status) {
		ebc_fail(ctx, rule, exp, "status %ld: %s", resp->status, snip);
		return false;
	}
	if (!util_json_ctype(ctx, resp))
		return false;
	eb_err_clear(&err);
	if (eb_error_body_parse(resp->body, resp->body_len, &b, &err) != EB_OK) {
		ebc_fail(ctx, err.rule[0] ? err.rule : "ERR-1",
			 "an error body {\"code\": string, \"message\": string}",
			 "%s: %s", err.msg, snip);
		return false;
	}
	if (code && strcmp(b->code, code) != 0) {
		ebc_fail(ctx, rule, exp, "status %ld with code %s: %s", resp->status, b->code, snip);
		eb_error_body_free(b);
		return false;
	}
	if (out)
		*out = b;
	else
		eb_error_body_free(b);
	return true;
}

bool ebc_expect_problem(ebc_ctx *ctx, const eb_error_body *b, long idx,
			const char *field, const char *code, const char *rule)
{
	char exp[256];
	const eb_problem *p;

	snprintf(exp, sizeof(exp), "errors: [{\"index\": %ld, \"field\": \"%s\", \"code\": \"%s\"}]",
		 idx, field, code ? code : "(any)");
	if (!b->has_errors || b->errors.n != 1) {
		ebc_fail(ctx, rule, exp, "errors %s with %zu entries",
			 b->has_errors ? "present" : "absent", b->errors.n);
		return false;
	}
	p = &b->errors.items[0];
	if (p->index != idx || strcmp(p->field, field) != 0 || (code && strcmp(p->code, code) != 0)) {
		ebc_fail(ctx, rule, exp, "errors: [{\"index\": %ld, \"field\": \"%s\", \"code\": \"%s\"}]",
			 p->index, p->field, p->code);
		return false;
	}
	return true;
}

/* ---- bodies and changes -------------------------------------------------- */

char *ebc_body(uint64_t lkv, const char *const *changes, size_t n, long limit)
{
	eb_buf b = { 0 };
	size_t i;

	eb_buf_fmt(&b, "{\"lastKnownVersion\":%llu", (unsigned long long)lkv);
	if (changes) {
		eb_buf_str(&b, ",\"changes\":[");
		for (i = 0; i < n; i++) {
			if (i)
				eb_buf_str(&b, ",");
			eb_buf_str(&b, changes[i]);
		}
		eb_buf_str(&b, "]");
	}
	if (limit >= 0)
		eb_buf_fmt(&b, ",\"limit\":%ld", limit);
	eb_buf_str(&b, "}");
	return eb_buf_take(&b, NULL);
}

char *ebc_set_json(const char *id, uint64_t ts, const char *key, const char *value)
{
	eb_buf b = { 0 };

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\","
		   "\"path\":[\"k\",\"%s\"],\"value\":%s}", id,
		   (unsigned long long)ts, key, value);
	return eb_buf_take(&b, NULL);
}

eb_sync_response *ebc_sync_ok(ebc_ctx *ctx, eb_http *h, const char *store,
			      const char *token, const char *body, const char *rule)
{
	eb_http_resp resp;
	eb_sync_response *r = NULL;

	if (!body) {
		ebc_error(ctx, "out of memory");
		return NULL;
	}
	if (!ebc_post_sync(ctx, h, store, token, body, &resp))
		goto out;
	r = ebc_expect_ok(ctx, &resp, rule);
out:
	eb_http_resp_clear(&resp);
	return r;
}

bool ebc_push_n(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		size_t n, uint64_t lkv, char (*ids)[32], eb_sync_response **res,
		const char *rule)
{
	char **ch = calloc(n ? n : 1, sizeof(*ch));
	char *body = NULL;
	eb_sync_response *r = NULL;
	uint64_t ts = ebc_now_ms() - 1000;
	bool ok = false;
	size_t i;

	if (res)
		*res = NULL;
	if (!ch) {
		ebc_error(ctx, "out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		char id[32], val[48];

		ebc_cid(ctx, id, sizeof(id));
		if (ids)
			memcpy(ids[i], id, sizeof(id));
		snprintf(val, sizeof(val), "{\"n\":%zu}", i);
		ch[i] = ebc_set_json(id, ts + i, id, val);
		if (!ch[i]) {
			ebc_error(ctx, "out of memory");
			goto out;
		}
	}
	body = ebc_body(lkv, (const char *const *)ch, n, -1);
	r = ebc_sync_ok(ctx, h, store, token, body, rule);
	if (!r)
		goto out;
	ok = true;
	if (res) {
		*res = r;
		r = NULL;
	}
out:
	eb_sync_response_free(r);
	for (i = 0; i < n; i++)
		free(ch[i]);
	free(ch);
	free(body);
	return ok;
}

void ebc_changes_free(eb_change *c, size_t n)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < n; i++)
		eb_change_clear(&c[i]);
	free(c);
}

bool ebc_read_all(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		  uint64_t since, unsigned limit, bool via_sync,
		  eb_change **out, size_t *n, uint64_t *current)
{
	eb_change *all = NULL;
	size_t nall = 0, cap = 0, page;
	/* the default page size (FEED-2, SYNC-1): the advertised maximum
	 * replaces the 1000 of the defaults (LIMIT-11) */
	unsigned eff = limit ? limit : ctx->run->limits.max_page_limit;
	const char *order_rule = via_sync ? "SYNC-5" : "FEED-3";
	bool ok = false;

	*out = NULL;
	*n = 0;
	for (page = 0; page < 2000; page++) {
		eb_http_resp resp;
		eb_sync_response *r = NULL;
		char q[128];
		size_t i;
		bool got;

		if (via_sync) {
			char body[160];

			if (limit)
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":%llu,\"limit\":%u}",
					 (unsigned long long)since, limit);
			else
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":%llu}",
					 (unsigned long long)since);
			got = ebc_post_sync(ctx, h, store, token, body, &resp);
		} else {
			if (limit)
				snprintf(q, sizeof(q), "since=%llu&limit=%u", (unsigned long long)since, limit);
			else
				snprintf(q, sizeof(q), "since=%llu", (unsigned long long)since);
			got = ebc_get_changes(ctx, h, store, token, q, &resp);
		}
		if (!got)
			goto out;
		r = ebc_expect_ok(ctx, &resp, via_sync ? "SYNC-9" : "FEED-3");
		eb_http_resp_clear(&resp);
		if (!r)
			goto out;
		if (r->n > eff) {
			ebc_fail(ctx, "SYNC-6", "at most limit changes per page",
				 "page from %llu held %zu changes with limit %u",
				 (unsigned long long)since, r->n, eff);
			goto page_fail;
		}
		for (i = 0; i < r->n; i++) {
			uint64_t v = r->changes[i].version;
			uint64_t prev = i ? r->changes[i - 1].version : since;

			if (v <= prev) {
				ebc_fail(ctx, order_rule,
					 "changes with version > since, ascending, each once",
					 "reading from %llu: change %zu has version %llu after %llu",
					 (unsigned long long)since, i, (unsigned long long)v,
					 (unsigned long long)prev);
				goto page_fail;
			}
			if (v > r->current_version) {
				ebc_fail(ctx, "VER-7", "no change above currentVersion",
					 "change version %llu > currentVersion %llu",
					 (unsigned long long)v, (unsigned long long)r->current_version);
				goto page_fail;
			}
		}
		if (r->has_more) {
			if (r->n == 0 || r->to_version >= r->current_version) {
				ebc_fail(ctx, "SYNC-7",
					 "hasMore false when no change beyond the page remains",
					 "hasMore true with %zu changes, toVersion %llu, currentVersion %llu",
					 r->n, (unsigned long long)r->to_version,
					 (unsigned long long)r->current_version);
				goto page_fail;
			}
			if (r->to_version != r->changes[r->n - 1].version) {
				ebc_fail(ctx, "SYNC-6", "toVersion = version of the last change of the page",
					 "toVersion %llu, last change %llu",
					 (unsigned long long)r->to_version,
					 (unsigned long long)r->changes[r->n - 1].version);
				goto page_fail;
			}
		} else if (r->to_version != r->current_version) {
			ebc_fail(ctx, "SYNC-7", "toVersion = currentVersion on the last page",
				 "toVersion %llu, currentVersion %llu",
				 (unsigned long long)r->to_version,
				 (unsigned long long)r->current_version);
			goto page_fail;
		}
		if (nall + r->n > cap) {
			size_t nc = cap ? cap * 2 : 64;
			eb_change *p;

			while (nc < nall + r->n)
				nc *= 2;
			p = realloc(all, nc * sizeof(*p));
			if (!p) {
				ebc_error(ctx, "out of memory");
				goto page_fail;
			}
			all = p;
			cap = nc;
		}
		/* take the changes over: the response keeps empty shells */
		for (i = 0; i < r->n; i++) {
			all[nall++] = r->changes[i];
			memset(&r->changes[i], 0, sizeof(r->changes[i]));
		}
		if (current)
			*current = r->current_version;
		since = r->to_version;
		if (!r->has_more) {
			eb_sync_response_free(r);
			ok = true;
			goto out;
		}
		eb_sync_response_free(r);
		continue;
page_fail:
		eb_sync_response_free(r);
		goto out;
	}
	ebc_fail(ctx, "SYNC-10", "a paginated read that ends", "still hasMore after 2000 pages");
out:
	if (ok) {
		*out = all;
		*n = nall;
	} else {
		ebc_changes_free(all, nall);
	}
	return ok;
}

bool ebc_version(ebc_ctx *ctx, const char *store, uint64_t *v)
{
	eb_http_resp resp;
	eb_sync_response *r;

	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0&limit=1", &resp))
		return false;
	r = ebc_expect_ok(ctx, &resp, "FEED-3");
	eb_http_resp_clear(&resp);
	if (!r)
		return false;
	*v = r->current_version;
	eb_sync_response_free(r);
	return true;
}

bool ebc_check_dense(ebc_ctx *ctx, const eb_change *c, size_t n, uint64_t from, const char *rule)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].version != from + 1 + i) {
			ebc_fail(ctx, rule, "dense versions, each previous + 1",
				 "change %zu (id %s) has version %llu, expected %llu",
				 i, c[i].id ? c[i].id : "?",
				 (unsigned long long)c[i].version,
				 (unsigned long long)(from + 1 + i));
			return false;
		}
	}
	return true;
}

/* ---- reports -------------------------------------------------------------- */

static int util_write(eb_report *rep, const char *dir, const char *name,
		      int (*wr)(const eb_report *, const char *, char *, size_t))
{
	char path[4096], err[256];

	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	err[0] = '\0';
	if (wr(rep, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "ebconform: writing %s failed: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* Writes every report asked for; rc, or EBC_EXIT_USAGE when one failed. */
int ebc_outputs(const ebc_opts *o, eb_report *rep, int rc)
{
	if (o->report_dir) {
		int w = 0;

		w |= util_write(rep, o->report_dir, "report.json", eb_report_write_json);
		w |= util_write(rep, o->report_dir, "junit.xml", eb_report_write_junit);
		w |= util_write(rep, o->report_dir, "report.html", eb_report_write_html);
		if (w)
			rc = EBC_EXIT_USAGE;
		else
			fprintf(stderr, "ebconform: reports in %s/ (report.json, junit.xml, report.html)\n",
				o->report_dir);
	}
	if (o->json && util_write(rep, NULL, o->json, eb_report_write_json))
		rc = EBC_EXIT_USAGE;
	if (o->junit && util_write(rep, NULL, o->junit, eb_report_write_junit))
		rc = EBC_EXIT_USAGE;
	if (o->html && util_write(rep, NULL, o->html, eb_report_write_html))
		rc = EBC_EXIT_USAGE;
	return rc;
}
