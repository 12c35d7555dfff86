/*
 * ebm_http.c — the HTTP request handler of ebmock: routes, the fixed order of
 * checks of ERR-3, sync (section 3), the changes feed (section 4), limits,
 * health, metrics and the admin endpoint for scripted faults.
 *
 * The handler runs in two steps so the glue can answer 401/403/413/415
 * before reading a body: ebm_http_begin decides everything the request head
 * allows (steps 1-6), ebm_http_finish the rest once the body is complete.
 */
#include "ebm_int.h"
#include "ebm_auth.h"
#include "ebm_backend.h"
#include "ebm_evlog.h"
#include "ebm_extras.h"
#include "ebm_faults.h"
#include "ebm_pg.h"
#include "ebm_rate.h"
#include "ebm_store.h"
#include "ebm_ws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_time.h"

#define EBM_BODY_LIMIT_DEFECT (8u * 1024u * 1024u)
#define EBM_JSON_CT "application/json"

typedef enum ebm_ctx_kind { CTX_SYNC = 1, CTX_ADMIN_POST } ebm_ctx_kind;

struct ebm_http_ctx {
	ebm_ctx_kind kind;
	ebm_route route;
	eb_route r;
	eb_claims *claims;      /* NULL with --no-auth */
	char *subject;
	uint64_t max_body;
	bool deferred;          /* check-order-wrong: steps 2-6 after the body */
	uint32_t delay_ms;
	/* shared backend (ebm_backend.h): the job the request waits for */
	ebm_job *job;
	bool refreshed;         /* the store was read from the database */
	bool committing;        /* job is the commit */
	bool replay;            /* committed: answered as the duplicates it now is */
	unsigned retries;       /* commits lost to another node's */
	uint64_t deadline_ms;
	void *user;             /* the glue's handle, for http_wake */
};

/* A request waits at most this long for the database, then 503. */
#define EBM_PENDING_MS 4000u
/* Commits of one request lost to other nodes' before it gives up (503). */
#define EBM_COMMIT_RETRIES 50u

void ebm_http_ctx_free(ebm_http_ctx *ctx)
{
	if (!ctx)
		return;
	eb_claims_free(ctx->claims);
	free(ctx->subject);
	ebm_job_release(ctx->job);
	free(ctx);
}

uint64_t ebm_http_ctx_max_body(const ebm_http_ctx *ctx)
{
	return ctx->max_body;
}

/* Frees what the event-log part of resp owns. */
static void ev_clear(ebm_http_resp *resp)
{
	free(resp->ev.subject);
	free(resp->ev.change_ids);
	memset(&resp->ev, 0, sizeof resp->ev);
}

void ebm_http_resp_clear(ebm_http_resp *resp)
{
	if (!resp)
		return;
	ev_clear(resp);
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* ---- responses ------------------------------------------------------------ */

static void resp_body(ebm_http_resp *resp, int status, char *body,
		      const char *ctype)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
	resp->body_len = body ? strlen(body) : 0;
	resp->content_type = body ? ctype : NULL;
	if (!body && status != 204) {
		/* allocation failed: still a JSON body (ERR-1) */
		static const char oom[] = "{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}";
		resp->status = 500;
		resp->body = strdup(oom);
		resp->body_len = resp->body ? sizeof oom - 1 : 0;
		resp->content_type = EBM_JSON_CT;
	}
}

static void resp_error(ebm_server *srv, ebm_http_resp *resp, const char *code,
		       const char *message, const eb_problems *problems,
		       int64_t current_version)
{
	char *out = NULL;
	int status = eb_code_http_status(code);

	if (ebm_defect_on(srv, EBM_DEFECT_ERROR_WITHOUT_CODE)) {
		cJSON *o = cJSON_CreateObject();
		if (o && cJSON_AddStringToObject(o, "message", message))
			out = ebm_print(o);
		cJSON_Delete(o);
	} else if (eb_error_body_encode(code, message, problems, current_version,
					&out) != EB_OK) {
		out = NULL;
	}
	resp_body(resp, status, out, EBM_JSON_CT);
	resp->ev.code = code;
	if (status == 429 && !resp->retry_after_s)
		resp->retry_after_s = 1;
	if (status == 429 && ebm_defect_on(srv, EBM_DEFECT_NO_RETRY_AFTER))
		resp->retry_after_s = 0;
}

static void resp_err_from(ebm_server *srv, ebm_http_resp *resp, eb_rc rc,
			  const eb_err *err, const eb_problems *probs)
{
	const char *code;
	switch (rc) {
	case EB_ERR_JSON: code = EB_CODE_INVALID_JSON; break;
	case EB_ERR_SHAPE: code = EB_CODE_INVALID_REQUEST; break;
	case EB_ERR_LIMIT: code = EB_CODE_LIMIT_EXCEEDED; break;
	case EB_ERR_TIMESTAMP: code = EB_CODE_TIMESTAMP_IN_FUTURE; break;
	case EB_ERR_CONFLICT: code = EB_CODE_CHANGE_ID_CONFLICT; break;
	case EB_ERR_AUTH: code = EB_CODE_UNAUTHORIZED; break;
	case EB_ERR_FORBIDDEN: code = EB_CODE_FORBIDDEN; break;
	case EB_ERR_NOT_FOUND: code = EB_CODE_NOT_FOUND; break;
	default: code = EB_CODE_INTERNAL; break;
	}
	char msg[400];
	snprintf(msg, sizeof msg, "%s", err && err->msg[0] ? err->msg : code);
	resp_error(srv, resp, code, msg, probs && probs->n ? probs : NULL, -1);
}

static void resp_405(ebm_server *srv, ebm_http_resp *resp, const char *allow)
{
	snprintf(resp->allow, sizeof resp->allow, "%s", allow);
	resp_error(srv, resp, EB_CODE_METHOD_NOT_ALLOWED, "method not allowed on this route",
		   NULL, -1);
}

/* ---- helpers ------------------------------------------------------------ */

static bool path_is(const ebm_http_req *req, const char *lit)
{
	size_t l = strlen(lit);
	return req->path_len == l && memcmp(req->path, lit, l) == 0;
}

static bool method_is(const ebm_http_req *req, const char *m)
{
	return req->method && strcmp(req->method, m) == 0;
}

static const char *addr_of(const ebm_http_req *req)
{
	return req->remote_addr && req->remote_addr[0] ? req->remote_addr : "unknown";
}

/* Token of "Bearer <token>" (scheme case-insensitive). NULL when the header
 * is absent; sets *malformed when present but not a bearer token. */
static const char *bearer_of(const char *h, size_t *len, bool *malformed)
{
	*malformed = false;
	if (!h)
		return NULL;
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) {
		*malformed = true;
		return NULL;
	}
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	size_t l = strlen(h);
	while (l && (h[l - 1] == ' ' || h[l - 1] == '\t'))
		l--;
	if (!l) {
		*malformed = true;
		return NULL;
	}
	*len = l;
	return h;
}

/* The Authorization header names the Bearer scheme (with or without a
 * credential): another scheme counts as no token at all (ERR-9). */
static bool scheme_is_bearer(const char *h)
{
	while (h && (*h == ' ' || *h == '\t'))
		h++;
	return h && strncasecmp(h, "Bearer", 6) == 0 &&
	       (h[6] == '\0' || h[6] == ' ' || h[6] == '\t');
}

/* application/json, any case, optionally followed by parameters. */
static bool media_is_json(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, EBM_JSON_CT, sizeof EBM_JSON_CT - 1) != 0)
		return false;
	ct += sizeof EBM_JSON_CT - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static bool can_read(const ebm_http_ctx *ctx, const char *store)
{
	return !ctx->claims || eb_claims_can_read(ctx->claims, store);
}

static bool can_write(const ebm_http_ctx *ctx, const char *store)
{
	return !ctx->claims || eb_claims_can_write(ctx->claims, store);
}

/* ---- limits, health, metrics ----------------------------------------------- */

static void handle_limits(ebm_server *srv, ebm_http_resp *resp)
{
	char *out = NULL;
	if (eb_limits_encode(&srv->cfg.limits, &out) != EB_OK)
		out = NULL;
	resp_body(resp, 200, out, EBM_JSON_CT);
}

static void handle_healthz(ebm_http_resp *resp)
{
	char buf[64];
	snprintf(buf, sizeof buf, "{\"status\":\"ok\",\"pid\":%ld}", (long)getpid());
	resp_body(resp, 200, strdup(buf), EBM_JSON_CT);
}

static const char *const ebm_route_names[EBM_R__COUNT] = {
	"other", "sync", "changes", "notifications", "limits", "healthz",
	"metrics", "admin"
};

typedef struct ebm_sb {
	char *p;
	size_t len, cap;
	bool failed;
} ebm_sb;

static void sb_printf(ebm_sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(ebm_sb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static void handle_metrics(ebm_server *srv, ebm_http_resp *resp)
{
	ebm_sb b = { 0 };
	const ebm_metrics *m = &srv->m;
	size_t changes = 0;

	for (size_t i = 0; i < srv->stores_cap; i++)
		for (ebm_store *st = srv->stores[i]; st; st = st->hnext)
			changes += st->n;
	sb_printf(&b, "# TYPE ebmock_connections gauge\nebmock_connections %lld\n",
		  (long long)m->connections);
	sb_printf(&b, "# TYPE ebmock_ws_sessions gauge\nebmock_ws_sessions %zu\n",
		  srv->n_sessions);
	sb_printf(&b, "# TYPE ebmock_subscriptions gauge\nebmock_subscriptions %zu\n",
		  srv->n_subs_total);
	sb_printf(&b, "# TYPE ebmock_stores gauge\nebmock_stores %zu\n", srv->n_stores);
	sb_printf(&b, "# TYPE ebmock_changes gauge\nebmock_changes %zu\n", changes);
	sb_printf(&b, "# TYPE ebmock_http_requests_total counter\n");
	for (size_t i = 0; i < m->n_http; i++)
		sb_printf(&b, "ebmock_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
			  ebm_route_names[m->http[i].route < EBM_R__COUNT ? m->http[i].route : 0],
			  (unsigned)m->http[i].status, (unsigned long long)m->http[i].n);
#define EBM_COUNTER(name, v) \
	sb_printf(&b, "# TYPE ebmock_" name " counter\nebmock_" name " %llu\n", \
		  (unsigned long long)(v))
	EBM_COUNTER("notifications_sent_total", m->notifications_sent_total);
	EBM_COUNTER("changes_stored_total", m->changes_stored_total);
	EBM_COUNTER("duplicates_total", m->duplicates_total);
	EBM_COUNTER("ws_messages_total", m->ws_messages_total);
	EBM_COUNTER("ws_closes_total", m->ws_closes_total);
	EBM_COUNTER("ws_drops_total", m->ws_drops_total);
	EBM_COUNTER("rate_limited_total", m->rate_limited_total);
	EBM_COUNTER("auth_failures_total", m->auth_failures_total);
#undef EBM_COUNTER
	static const char *const why[EBM_REFUSE__COUNT] = {
		"memory", "body_timeout", "fd_limit", "ws_paused", "ws_stalled"
	};
	sb_printf(&b, "# TYPE ebmock_refusals_total counter\n");
	for (size_t i = 0; i < EBM_REFUSE__COUNT; i++)
		sb_printf(&b, "ebmock_refusals_total{reason=\"%s\"} %llu\n", why[i],
			  (unsigned long long)m->refusals[i]);
	sb_printf(&b, "# TYPE ebmock_memory_used_bytes gauge\nebmock_memory_used_bytes %llu\n",
		  (unsigned long long)srv->mem_used);
	sb_printf(&b, "# TYPE ebmock_memory_budget_bytes gauge\n"
		  "ebmock_memory_budget_bytes %llu\n",
		  (unsigned long long)srv->cfg.mem_budget_bytes);
	if (b.failed) {
		free(b.p);
		b.p = NULL;
	}
	resp_body(resp, 200, b.p, "text/plain; version=0.0.4");
}

/* ---- admin ---------------------------------------------------------------- */

static unsigned secs_left(uint64_t until, uint64_t now)
{
	if (!until || until <= now)
		return 0;
	return (unsigned)((until - now + 999) / 1000);
}

static void admin_state(ebm_server *srv, ebm_http_resp *resp)
{
	resp_body(resp, 200, ebm_faults_state_json(srv), EBM_JSON_CT);
}

/* The fields, their checks and actions live in ebm_faults.c. */
static void admin_post(ebm_server *srv, const ebm_http_req *req,
		       ebm_http_resp *resp)
{
	char msg[400];
	int st = ebm_faults_admin_post(srv, req->body, req->body ? req->body_len : 0, msg,
				       sizeof msg);
	if (st == 200)
		admin_state(srv, resp);
	else
		resp_error(srv, resp, st == 400 ? EB_CODE_INVALID_REQUEST : EB_CODE_INTERNAL,
			   msg, NULL, -1);
}

static ebm_http_step handle_admin(ebm_server *srv, const ebm_http_req *req,
				  ebm_http_ctx **ctxp, ebm_http_resp *resp)
{
	size_t tl = 0;
	bool malformed;
	const char *tok = bearer_of(req->authorization, &tl, &malformed);
	const char *want = srv->cfg.admin_token;

	if (!want) {
		resp_error(srv, resp, EB_CODE_NOT_FOUND, "no such route", NULL, -1);
		return EBM_HTTP_DONE;
	}
	if (!method_is(req, "GET") && !method_is(req, "POST") && !method_is(req, "DELETE")) {
		resp_405(srv, resp, "GET, POST, DELETE");
		return EBM_HTTP_DONE;
	}
	unsigned char diff = (unsigned char)(tl != strlen(want));
	for (size_t i = 0; tok && i < tl && want[i]; i++)
		diff |= (unsigned char)(tok[i] ^ want[i]);
	if (!tok || diff) {
		snprintf(resp->www_authenticate, sizeof resp->www_authenticate,
			 tok || malformed ? "Bearer error=\"invalid_token\"" : "Bearer");
		resp_error(srv, resp, EB_CODE_UNAUTHORIZED, "admin token required", NULL, -1);
		return EBM_HTTP_DONE;
	}
	if (method_is(req, "GET")) {
		admin_state(srv, resp);
	} else if (method_is(req, "DELETE")) {
		memset(&srv->faults, 0, sizeof srv->faults);
		ebm_ws_faults_changed(srv, false);
		ebm_faults_log_clear(srv);
		admin_state(srv, resp);
	} else {
		if (req->content_length > 65536) {
			resp_error(srv, resp, EB_CODE_PAYLOAD_TOO_LARGE, "admin body too large", NULL, -1);
			return EBM_HTTP_DONE;
		}
		ebm_http_ctx *ctx = calloc(1, sizeof *ctx);
		if (!ctx) {
			resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
			return EBM_HTTP_DONE;
		}
		ctx->kind = CTX_ADMIN_POST;
		ctx->route = EBM_R_ADMIN;
		ctx->max_body = 65536;
		*ctxp = ctx;
		return EBM_HTTP_NEED_BODY;
	}
	return EBM_HTTP_DONE;
}

/* ---- the changes feed and sync ---------------------------------------------- */

/* A page of st's changes after `after`, skipping versions in skip (sorted,
 * n_skip), at most limit. */
static void read_page(ebm_server *srv, const ebm_store *st, uint64_t after,
		      bool feed, const uint64_t *skip, size_t n_skip,
		      uint32_t limit, eb_sync_response *out, eb_change **arr)
{
	size_t i = st ? ebm_store_first_after(st, after) : 0;
	size_t n = st ? st->n : 0, k = 0, si = 0;

	memset(out, 0, sizeof *out);
	*arr = NULL;
	if (srv->faults.page_max && limit > srv->faults.page_max)
		limit = srv->faults.page_max;   /* the pageMax fault (SYNC-6) */
	out->current_version = st ? st->version : 0;
	if (feed && st && after > 0 && ebm_defect_on(srv, EBM_DEFECT_SINCE_OFF_BY_ONE))
		i = ebm_store_first_after(st, after - 1);
	if (i < n) {
		size_t want = n - i < limit ? n - i : limit;
		*arr = malloc(want * sizeof **arr);
	}
	for (; i < n; i++) {
		uint64_t v = st->changes[i].version;
		while (skip && si < n_skip && skip[si] < v)
			si++;
		if (skip && si < n_skip && skip[si] == v)
			continue;
		if (feed && st->changes[i].op == EB_OP_DELETE &&
		    ebm_defect_on(srv, EBM_DEFECT_FEED_HIDES_DELETES))
			continue;
		if (k == limit || !*arr) {
			out->has_more = true;
			break;
		}
		(*arr)[k++] = st->changes[i];   /* shallow: borrowed members */
	}
	out->changes = *arr;
	out->n = k;
	out->to_version = out->has_more && k ? out->changes[k - 1].version
					     : out->current_version;
	if (ebm_defect_on(srv, EBM_DEFECT_HASMORE_WRONG))
		out->has_more = true;
	if (feed && ebm_defect_on(srv, EBM_DEFECT_CHANGES_OUT_OF_ORDER))
		for (size_t a = 0, b = k ? k - 1 : 0; a < b; a++, b--) {
			eb_change t = (*arr)[a];
			(*arr)[a] = (*arr)[b];
			(*arr)[b] = t;
		}
}

static void send_page(ebm_server *srv, ebm_http_resp *resp, eb_sync_response *page,
		      eb_change *arr)
{
	char *out = NULL;
	if (eb_sync_response_encode(page, &out) != EB_OK)
		out = NULL;
	resp->ev.has_page = true;
	resp->ev.n = page->n;
	resp->ev.current_version = page->current_version;
	resp->ev.has_more = page->has_more;
	free(arr);
	if (!out) {
		resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
		return;
	}
	resp_body(resp, 200, out, EBM_JSON_CT);
}

/* limit-clamped: rewrites "limit=N" above the page maximum to the maximum. */
static char *clamp_query(const char *q, size_t len, uint32_t max)
{
	ebm_sb b = { 0 };
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && q[j] != '&')
			j++;
		uint64_t v;
		if (j - i > 6 && memcmp(q + i, "limit=", 6) == 0 &&
		    eb_parse_uint53(q + i + 6, j - i - 6, &v) && v > max)
			sb_printf(&b, "%slimit=%u", b.len ? "&" : "", (unsigned)max);
		else
			sb_printf(&b, "%s%.*s", b.len ? "&" : "", (int)(j - i), q + i);
		i = j + 1;
	}
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static void handle_changes(ebm_server *srv, const ebm_http_ctx *ctx,
			   const ebm_http_req *req, ebm_http_resp *resp)
{
	uint64_t since = 0;
	uint32_t limit = 0;
	eb_err err;
	const eb_limits *lim = &srv->cfg.limits;
	char *clamped = NULL;
	const char *q = req->query;
	size_t ql = req->query ? req->query_len : 0;

	eb_err_clear(&err);
	if (q && ebm_defect_on(srv, EBM_DEFECT_LIMIT_CLAMPED)) {
		clamped = clamp_query(q, ql, lim->max_page_limit);
		if (clamped) {
			q = clamped;
			ql = strlen(clamped);
		}
	}
	eb_rc rc = eb_feed_query_parse(q, ql, lim->max_page_limit, &since, &limit, &err);
	free(clamped);
	if (rc != EB_OK) {
		eb_problems p = { 0 };
		eb_problem one;
		memset(&one, 0, sizeof one);
		one.index = -1;
		snprintf(one.field, sizeof one.field, "%s", err.field);
		snprintf(one.code, sizeof one.code, "%s", EB_CODE_INVALID_FIELD);
		if (err.field[0]) {
			p.items = &one;
			p.n = p.cap = 1;
		}
		char msg[400];
		snprintf(msg, sizeof msg, "%s: %s", err.field[0] ? err.field : "query", err.msg);
		resp_error(srv, resp, EB_CODE_INVALID_REQUEST, msg, &p, -1);
		return;
	}
	ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
	uint64_t cur = st ? st->version : 0;
	if (since > cur) {
		resp_error(srv, resp, EB_CODE_RESYNC_REQUIRED,
			   "since is ahead of the store's version", NULL, (int64_t)cur);
		return;
	}
	eb_sync_response page;
	eb_change *arr;
	read_page(srv, st, since, true, NULL, 0, limit, &page, &arr);
	send_page(srv, resp, &page, arr);
}

/* Removes members named like an earlier one, keeping the last (dup-key). */
static void dedupe_keep_last(cJSON *v)
{
	if (!v)
		return;
	if (cJSON_IsObject(v)) {
		for (cJSON *a = v->child; a;) {
			cJSON *next = a->next;
			bool later = false;
			for (cJSON *b = a->next; b; b = b->next)
				if (b->string && a->string && strcmp(a->string, b->string) == 0)
					later = true;
			if (later)
				cJSON_Delete(cJSON_DetachItemViaPointer(v, a));
			a = next;
		}
	}
	for (cJSON *c = v->child; c; c = c->next)
		dedupe_keep_last(c);
}

/* The defects that accept what the library refuses rewrite the body into one
 * it accepts. Returns a malloc'd body or NULL (use the original). */
static char *defect_rewrite(ebm_server *srv, const char *body, size_t len)
{
	bool dupk = ebm_defect_on(srv, EBM_DEFECT_DUP_KEY_ACCEPTED);
	bool delv = ebm_defect_on(srv, EBM_DEFECT_DELETE_VALUE_ACCEPTED);
	bool clamp = ebm_defect_on(srv, EBM_DEFECT_LIMIT_CLAMPED);
	cJSON *root = NULL;
	char *out = NULL;

	if (!dupk && !delv && !clamp)
		return NULL;
	if (dupk) {
		/* The one place that bypasses eb_json_parse: the defect is that
		 * duplicate names get through. */
		const char *end = NULL;
		root = cJSON_ParseWithLengthOpts(body, len, &end, 0); /* style-allow: dup-key-accepted defect */
		while (root && end && end < body + len &&
		       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
			end++;
		if (root && end != body + len) {
			cJSON_Delete(root);
			root = NULL;
		}
		dedupe_keep_last(root);
	} else if (eb_json_parse(body, len, 1000, &root, NULL) != EB_OK) {
		root = NULL;
	}
	if (!cJSON_IsObject(root))
		goto out;
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "changes");
	if (delv && cJSON_IsArray(arr))
		for (cJSON *c = arr->child; c; c = c->next) {
			cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "operation");
			if (cJSON_IsString(op) && strcmp(op->valuestring, "delete") == 0)
				cJSON_DeleteItemFromObjectCaseSensitive(c, "value");
		}
	cJSON *lim = cJSON_GetObjectItemCaseSensitive(root, "limit");
	uint64_t lv;
	if (clamp && eb_json_get_uint53(lim, &lv) && lv > srv->cfg.limits.max_page_limit)
		cJSON_SetNumberValue(lim, srv->cfg.limits.max_page_limit);
	out = ebm_print(root);
out:
	cJSON_Delete(root);
	return out;
}

static int cmp_problem(const void *a, const void *b)
{
	const eb_problem *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void problems_add(eb_problems *p, long index, const char *field,
			 const char *code, const char *msg)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		eb_problem *ni = realloc(p->items, ncap * sizeof *ni);
		if (!ni)
			return;
		p->items = ni;
		p->cap = ncap;
	}
	eb_problem *e = &p->items[p->n++];
	memset(e, 0, sizeof *e);
	e->index = index;
	snprintf(e->field, sizeof e->field, "%s", field);
	snprintf(e->code, sizeof e->code, "%s", code);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Characters (UTF-8 lead bytes) of s: what the id-length-chars and
 * value-size-chars defects count instead of bytes. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* id-length-chars, value-size-chars: the id and value limits applied to
 * characters instead of bytes (the parse ran with the byte limits raised).
 * true when a change breaks them; probs gets one entry per such change. */
static bool defect_char_limits(ebm_server *srv, const eb_sync_request *r,
			       const eb_limits *lim, eb_problems *probs)
{
	bool ids = ebm_defect_on(srv, EBM_DEFECT_ID_LENGTH_CHARS);
	bool vals = ebm_defect_on(srv, EBM_DEFECT_VALUE_SIZE_CHARS);
	char field[48];

	for (size_t i = 0; (ids || vals) && i < r->n; i++) {
		const eb_change *c = &r->changes[i];
		if (ids && utf8_chars(c->id, strlen(c->id)) > lim->max_change_id_bytes) {
			snprintf(field, sizeof field, "changes[%zu].id", i);
			eb_problems_add(probs, (long)i, field, EB_CODE_LIMIT_EXCEEDED, "LIMIT-5",
					"change id longer than maxChangeIdBytes");
			continue;
		}
		char *canon = NULL;
		size_t cl = 0;
		if (vals && c->value && eb_json_canonical(c->value, &canon, &cl) == EB_OK &&
		    utf8_chars(canon, cl) > lim->max_value_bytes) {
			snprintf(field, sizeof field, "changes[%zu].value", i);
			eb_problems_add(probs, (long)i, field, EB_CODE_LIMIT_EXCEEDED, "CHG-7",
					"value larger than maxValueBytes");
		}
		free(canon);
	}
	return probs->n > 0;
}

typedef enum { CH_NEW = 0, CH_DUP, CH_CONFLICT } ebm_ch_class;

/* Commits changes[0..n) of req (only the new ones; duplicates and internal
 * duplicates skipped): used by sync and by the partial-batch defect. Fills
 * cls (n entries), the skip list for the response and the new version. */
static eb_rc commit_batch(ebm_server *srv, ebm_http_ctx *ctx,
			  eb_sync_request *req, size_t n, const ebm_ch_class *cls,
			  uint64_t *new_version, eb_err *err)
{
	ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
	uint64_t cur = st ? st->version : 0, v = cur;
	size_t n_new = 0;
	eb_change *batch = NULL;
	eb_rc rc = EB_OK;
	bool gap = ebm_defect_on(srv, EBM_DEFECT_VERSION_GAP);
	uint64_t now = eb_time_now_ms();

	for (size_t i = 0; i < n; i++)
		if (cls[i] == CH_NEW)
			n_new++;
	bool bump = n == 0 && req->n == 0 &&
		    ebm_defect_on(srv, EBM_DEFECT_EMPTY_BATCH_BUMPS_VERSION);
	*new_version = cur;
	if (!n_new && !bump)
		return EB_OK;
	/* VER-8: the last version may be 2^53-1 itself (version-gap takes one
	 * more when the batch has two new changes or more) */
	if (cur + n_new + (gap && n_new > 1 ? 1 : 0) > EB_MAX_UINT53)
		return eb_err_set(err, EB_ERR_LIMIT, "VER-8", "changes", EB_CODE_LIMIT_EXCEEDED,
				  -1, "the store's version would exceed 2^53-1");
	st = ebm_store_get(srv, ctx->r.store_id);
	batch = n_new ? calloc(n_new, sizeof *batch) : NULL;
	if (!st || (n_new && !batch)) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1, "out of memory");
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (cls[i] != CH_NEW)
			continue;
		v += 1;
		if (gap && k == 1)
			v += 1;   /* version-gap: the second change skips one */
		batch[k] = req->changes[i];          /* moved; req keeps a zeroed slot */
		memset(&req->changes[i], 0, sizeof req->changes[i]);
		batch[k].version = v;
		batch[k].has_version = true;
		if (ebm_defect_on(srv, EBM_DEFECT_TIMESTAMP_REWRITTEN))
			batch[k].timestamp = now;
		if (batch[k].timestamp > now &&
		    ebm_defect_on(srv, EBM_DEFECT_FUTURE_TIMESTAMP_CLAMPED))
			batch[k].timestamp = now;
		k++;
	}
	if (bump)
		v = cur + 1;
	if (srv->be->remote) {
		/* the database decides (ebm_pg.c); the request waits for it */
		ctx->job = ebm_pg_commit(srv, st->id, cur, batch, n_new, v, ctx->subject);
		ctx->committing = ctx->job != NULL;
		ctx->deadline_ms = ebm_mono_ms() + EBM_PENDING_MS;
		if (!ctx->job)
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1,
					"out of memory");
		goto out;
	}
	rc = ebm_store_commit(srv, st, batch, n_new, v, err);
	if (rc == EB_OK)
		*new_version = v;
out:
	for (size_t i = 0; batch && i < n_new; i++)
		eb_change_clear(&batch[i]);
	free(batch);
	if (st && rc != EB_OK)
		ebm_store_maybe_release(srv, st);
	return rc;
}

/* IDEM-2/3/4 for changes[0..n): classifies every change and collects the
 * conflicts (ascending index). */
static eb_rc classify(ebm_server *srv, const ebm_http_ctx *ctx,
		      const eb_sync_request *req, size_t n, ebm_ch_class *cls,
		      uint64_t *dup_versions, size_t *n_dupv, eb_problems *probs)
{
	ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
	bool dupnew = ebm_defect_on(srv, EBM_DEFECT_DUPLICATE_NEW_VERSION);
	bool confl_ok = ebm_defect_on(srv, EBM_DEFECT_CONFLICT_ACCEPTED);
	bool iconfl_ok = ebm_defect_on(srv, EBM_DEFECT_INTERNAL_CONFLICT_ACCEPTED);
	eb_problems ip = { 0 };
	eb_err err;

	*n_dupv = 0;
	if (!iconfl_ok && n == req->n)
		eb_sync_request_check_internal_conflicts(req, &ip, &err);
	for (size_t i = 0; i < n; i++) {
		const eb_change *c = &req->changes[i];
		char field[48];
		snprintf(field, sizeof field, "changes[%zu].id", i);
		cls[i] = CH_NEW;
		long k = st ? ebm_store_lookup(st, c->id) : -1;
		if (k >= 0) {
			if (eb_change_same_content(&st->changes[k], c)) {
				if (!dupnew) {
					cls[i] = CH_DUP;
					dup_versions[(*n_dupv)++] = st->changes[k].version;
				}
			} else if (!confl_ok) {
				cls[i] = CH_CONFLICT;
				problems_add(probs, (long)i, field, EB_CODE_CHANGE_ID_CONFLICT,
					     "change id already used with other content");
			}
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(req->changes[j].id, c->id) != 0)
				continue;
			if (eb_change_same_content(&req->changes[j], c)) {
				if (!dupnew)
					cls[i] = CH_DUP;
			} else if (!iconfl_ok) {
				cls[i] = CH_CONFLICT;
			}
			break;
		}
	}
	/* the library's internal-conflict entries, merged in index order */
	for (size_t i = 0; i < ip.n; i++) {
		bool have = false;
		for (size_t j = 0; j < probs->n; j++)
			if (probs->items[j].index == ip.items[i].index)
				have = true;
		if (!have)
			problems_add(probs, ip.items[i].index, ip.items[i].field,
				     EB_CODE_CHANGE_ID_CONFLICT, ip.items[i].msg);
	}
	/* internal conflicts the library did not name (it should name them all) */
	for (size_t i = 0; i < n; i++) {
		if (cls[i] != CH_CONFLICT)
			continue;
		bool have = false;
		for (size_t j = 0; j < probs->n; j++)
			if (probs->items[j].index == (long)i)
				have = true;
		if (!have) {
			char field[48];
			snprintf(field, sizeof field, "changes[%zu].id", i);
			problems_add(probs, (long)i, field, EB_CODE_CHANGE_ID_CONFLICT,
				     "change id used twice with other content");
		}
	}
	eb_problems_clear(&ip);
	if (probs->n > 1)
		qsort(probs->items, probs->n, sizeof probs->items[0], cmp_problem);
	return probs->n ? EB_ERR_CONFLICT : EB_OK;
}

/* partial-batch: on a per-change failure at index k, the changes before it
 * are committed anyway (and the error is still returned). */
static void partial_commit(ebm_server *srv, ebm_http_ctx *ctx,
			   const char *body, size_t len, const eb_problems *probs,
			   eb_sync_request *req)
{
	long k = -1;
	eb_sync_request *pre = NULL;
	cJSON *root = NULL;
	char *prefix = NULL;

	for (size_t i = 0; probs && i < probs->n; i++)
		if (probs->items[i].index >= 0 && (k < 0 || probs->items[i].index < k))
			k = probs->items[i].index;
	if (k <= 0 || srv->be->remote)
		return;
	if (!req) {
		if (eb_json_parse(body, len, 1000, &root, NULL) != EB_OK)
			return;
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "changes");
		if (!cJSON_IsArray(arr))
			goto out;
		while (cJSON_GetArraySize(arr) > k)
			cJSON_DeleteItemFromArray(arr, k);
		prefix = ebm_print(root);
		if (!prefix || eb_sync_request_parse(prefix, strlen(prefix), &srv->cfg.limits,
						     &pre, NULL, NULL) != EB_OK)
			goto out;
		req = pre;
	}
	/* cppcheck-suppress nullPointerRedundantCheck ; req was parsed above or the goto left */
	size_t n = (size_t)k < req->n ? (size_t)k : req->n;
	ebm_ch_class *cls = calloc(n + 1, sizeof *cls);
	uint64_t *dv = calloc(n + 1, sizeof *dv);
	eb_problems cp = { 0 };
	size_t ndv;
	uint64_t nv;
	eb_err err;
	if (cls && dv && classify(srv, ctx, req, n, cls, dv, &ndv, &cp) == EB_OK) {
		ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
		uint64_t old = st ? st->version : 0;
		if (commit_batch(srv, ctx, req, n, cls, &nv, &err) == EB_OK && nv > old)
			ebm_ws_notify_commit(srv, ebm_store_find(srv, ctx->r.store_id), old,
					  ctx->subject, false);
	}
	eb_problems_clear(&cp);
	free(cls);
	free(dv);
out:
	eb_sync_request_free(pre);
	cJSON_Delete(root);
	free(prefix);
}

/* Event log: what a sync asked for (lastKnownVersion, pushed ids). */
static void ev_sync_request(ebm_http_resp *resp, const eb_sync_request *sreq)
{
	size_t cap = 3, len = 0;
	char *p;

	resp->ev.has_lkv = true;
	resp->ev.lkv = sreq->last_known_version;
	for (size_t i = 0; i < sreq->n; i++)
		cap += 3 + 6 * (sreq->changes[i].id ? strlen(sreq->changes[i].id) : 0);
	p = malloc(cap);
	if (!p)
		return;
	p[len++] = '[';
	for (size_t i = 0; i < sreq->n; i++) {
		const char *id = sreq->changes[i].id ? sreq->changes[i].id : "";
		if (i)
			p[len++] = ',';
		if (!ebm_json_str_append(&p, &len, &cap, id, strlen(id))) {
			free(p);
			return;
		}
	}
	p[len++] = ']';
	p[len] = '\0';
	free(resp->ev.change_ids);
	resp->ev.change_ids = p;
}

static void handle_sync(ebm_server *srv, ebm_http_ctx *ctx,
			const ebm_http_req *req, ebm_http_resp *resp)
{
	const eb_limits *lim = &srv->cfg.limits;
	eb_limits plim = *lim;
	eb_sync_request *sreq = NULL;
	eb_problems probs = { 0 };
	eb_err err;
	char *rewritten = NULL;
	const char *body = req->body ? req->body : "";
	size_t len = req->body ? req->body_len : 0;
	ebm_ch_class *cls = NULL;
	uint64_t *skip = NULL;
	eb_rc rc;

	eb_err_clear(&err);
	rewritten = defect_rewrite(srv, body, len);
	if (rewritten) {
		body = rewritten;
		len = strlen(rewritten);
	}
	/* AUTH-11 before the body is judged: a push without write permission is
	 * 403 whatever else is wrong with it (once it is JSON at all). */
	if (ctx->claims && !ebm_defect_on(srv, EBM_DEFECT_READONLY_CAN_PUSH) &&
	    !can_write(ctx, ctx->r.store_id)) {
		cJSON *root = NULL;
		if (eb_json_parse(body, len, 1000, &root, NULL) == EB_OK) {
			cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "changes");
			bool push = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0;
			cJSON_Delete(root);
			if (push) {
				resp_error(srv, resp, EB_CODE_FORBIDDEN,
					   "no write permission for this store", NULL, -1);
				goto out;
			}
		}
	}
	if (ebm_defect_on(srv, EBM_DEFECT_BODY_LIMIT_IGNORED))
		plim.max_body_bytes = EBM_BODY_LIMIT_DEFECT;
	if (ebm_defect_on(srv, EBM_DEFECT_ID_LENGTH_CHARS))
		plim.max_change_id_bytes *= 4;
	if (ebm_defect_on(srv, EBM_DEFECT_VALUE_SIZE_CHARS))
		plim.max_value_bytes *= 4;
	rc = eb_sync_request_parse(body, len, &plim, &sreq, &probs, &err);
	if (rc != EB_OK) {
		if (rc == EB_ERR_NOMEM) {
			resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
			goto out;
		}
		if (ebm_defect_on(srv, EBM_DEFECT_PARTIAL_BATCH))
			partial_commit(srv, ctx, body, len, &probs, NULL);
		resp_err_from(srv, resp, rc, &err, &probs);
		goto out;
	}
	if (ebm_evlog_of(srv))
		ev_sync_request(resp, sreq);
	eb_problems_clear(&probs);
	if (defect_char_limits(srv, sreq, lim, &probs)) {
		resp_error(srv, resp, EB_CODE_LIMIT_EXCEEDED, probs.items[0].msg, &probs, -1);
		goto out;
	}
	if (sreq->n && ctx->claims && !can_write(ctx, ctx->r.store_id) &&
	    !ebm_defect_on(srv, EBM_DEFECT_READONLY_CAN_PUSH)) {
		resp_error(srv, resp, EB_CODE_FORBIDDEN, "no write permission for this store",
			   NULL, -1);
		goto out;
	}
	if (!ebm_defect_on(srv, EBM_DEFECT_FUTURE_TIMESTAMP_ACCEPTED)) {
		rc = eb_sync_request_check_timestamps(sreq, eb_time_now_ms(),
						      lim->timestamp_skew_ms, &probs, &err);
		if (rc != EB_OK) {
			if (ebm_defect_on(srv, EBM_DEFECT_PARTIAL_BATCH))
				partial_commit(srv, ctx, body, len, &probs, sreq);
			resp_err_from(srv, resp, rc, &err, &probs);
			goto out;
		}
	}
	ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
	uint64_t cur = st ? st->version : 0;
	if (sreq->last_known_version > cur && !ebm_defect_on(srv, EBM_DEFECT_NO_RESYNC)) {
		resp_error(srv, resp, EB_CODE_RESYNC_REQUIRED,
			   "lastKnownVersion is ahead of the store's version", NULL, (int64_t)cur);
		goto out;
	}
	cls = calloc(sreq->n + 1, sizeof *cls);
	skip = calloc(2 * sreq->n + 2, sizeof *skip);
	if (!cls || !skip) {
		resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
		goto out;
	}
	size_t n_skip = 0;
	eb_problems_clear(&probs);
	rc = classify(srv, ctx, sreq, sreq->n, cls, skip, &n_skip, &probs);
	if (rc != EB_OK) {
		ebm_store *burnt = ebm_store_find(srv, ctx->r.store_id);
		if (burnt && ebm_defect_on(srv, EBM_DEFECT_CONFLICT_BURNS_VERSION))
			burnt->version++;
		resp_error(srv, resp, EB_CODE_CHANGE_ID_CONFLICT,
			   probs.n ? probs.items[0].msg : "change id conflict", &probs, -1);
		goto out;
	}
	size_t n_dups = 0;
	for (size_t i = 0; i < sreq->n; i++)
		if (cls[i] == CH_DUP)
			n_dups++;
	if (!ctx->replay)
		srv->m.duplicates_total += n_dups;
	uint64_t nv = cur;
	rc = commit_batch(srv, ctx, sreq, sreq->n, cls, &nv, &err);
	if (rc != EB_OK) {
		resp_error(srv, resp, rc == EB_ERR_LIMIT ? EB_CODE_LIMIT_EXCEEDED : EB_CODE_INTERNAL,
			   err.msg, NULL, -1);
		goto out;
	}
	if (ctx->job)
		goto out;   /* the commit is the database's: ebm_http_resume */
	st = ebm_store_find(srv, ctx->r.store_id);
	if (nv > cur)
		ebm_ws_notify_commit(srv, st, cur, ctx->subject, false);
	else if (st && sreq->n && n_dups == sreq->n && !ctx->replay &&
		 ebm_defect_on(srv, EBM_DEFECT_NOTIFY_DUPLICATE))
		ebm_ws_notify_commit(srv, st, cur, ctx->subject, true);
	/* SYNC-5: leave out what this request pushed, committed or duplicate */
	if (!ebm_defect_on(srv, EBM_DEFECT_ECHO_OWN_CHANGES)) {
		size_t from = st ? ebm_store_first_after(st, cur) : 0;
		for (size_t i = from; st && i < st->n; i++)
			skip[n_skip++] = st->changes[i].version;
		qsort(skip, n_skip, sizeof *skip, cmp_u64);
	} else {
		n_skip = 0;
	}
	eb_sync_response page;
	eb_change *arr;
	if (ebm_defect_on(srv, EBM_DEFECT_OWN_FILTER_AFTER_LIMIT)) {
		/* the page is cut to limit first, the pushed changes dropped after */
		read_page(srv, st, sreq->last_known_version, false, NULL, 0, sreq->limit,
			  &page, &arr);
		size_t kept = 0;
		for (size_t i = 0; i < page.n; i++)
			if (!bsearch(&arr[i].version, skip, n_skip, sizeof *skip, cmp_u64))
				arr[kept++] = arr[i];
		page.n = kept;
	} else {
		read_page(srv, st, sreq->last_known_version, false, skip, n_skip, sreq->limit,
			  &page, &arr);
	}
	send_page(srv, resp, &page, arr);
out:
	free(cls);
	free(skip);
	eb_problems_clear(&probs);
	eb_sync_request_free(sreq);
	free(rewritten);
}

/* ---- the order of checks --------------------------------------------------- */

/* Steps 2-6 of ERR-3 for a store route. true when resp was decided. */
static bool pre_checks(ebm_server *srv, const ebm_http_req *req,
		       ebm_http_ctx *ctx, int64_t body_len, ebm_http_resp *resp)
{
	char tok_key[80] = "";   /* rate-bucket-per-token: the bucket's key */

	/* 2. authentication */
	if (srv->cfg.no_auth) {
		ctx->subject = strdup(addr_of(req));
	} else {
		size_t tl = 0;
		bool malformed;
		eb_err err;
		const char *tok = bearer_of(req->authorization, &tl, &malformed);
		eb_err_clear(&err);
		if (!tok) {
			bool given = malformed && scheme_is_bearer(req->authorization);
			snprintf(resp->www_authenticate, sizeof resp->www_authenticate, "%s",
				 given ? "Bearer error=\"invalid_token\"" : "Bearer");
			resp_error(srv, resp, EB_CODE_UNAUTHORIZED,
				   malformed ? "Authorization is not a bearer token"
					     : "missing bearer token", NULL, -1);
			return true;
		}
		if (ebm_auth_verify(srv, tok, tl, &ctx->claims, &err) != EB_OK) {
			char msg[300];
			if (strcmp(err.rule, "revoked") == 0)
				resp->ev.fault = "revoke";
			snprintf(msg, sizeof msg, "token refused (%s): %s", err.rule, err.msg);
			snprintf(resp->www_authenticate, sizeof resp->www_authenticate,
				 "Bearer error=\"invalid_token\"");
			resp_error(srv, resp, EB_CODE_UNAUTHORIZED, msg, NULL, -1);
			return true;
		}
		ctx->subject = strdup(ctx->claims->sub);
		if (ebm_defect_on(srv, EBM_DEFECT_RATE_BUCKET_PER_TOKEN))
			snprintf(tok_key, sizeof tok_key, "tok:%.*s", (int)(tl > 64 ? 64 : tl),
				 tok + (tl > 64 ? tl - 64 : 0));
		if (ebm_evlog_of(srv) && !resp->ev.subject)
			resp->ev.subject = strdup(ctx->claims->sub);
	}
	if (!ctx->subject) {
		resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
		return true;
	}
	/* 3. rate limit */
	unsigned retry = 0;
	bool exempt = ctx->kind == CTX_SYNC && ebm_defect_on(srv, EBM_DEFECT_SYNC_NOT_RATE_LIMITED);
	if (!exempt && !ebm_rate_take(&srv->rate_http, tok_key[0] ? tok_key : ctx->subject,
				      ebm_mono_ms(), &retry)) {
		srv->m.rate_limited_total++;
		resp->retry_after_s = retry;
		resp_error(srv, resp, EB_CODE_RATE_LIMITED, "rate limit exceeded", NULL, -1);
		return true;
	}
	/* 4. store id */
	if (!ctx->r.store_id_ok) {
		resp_error(srv, resp, EB_CODE_INVALID_STORE_ID,
			   "store id must be 1-128 characters of A-Z a-z 0-9 . _ : -", NULL, -1);
		return true;
	}
	/* 5. permission (write is decided once the body shows a push) */
	if (!can_read(ctx, ctx->r.store_id)) {
		resp_error(srv, resp, EB_CODE_FORBIDDEN, "no read permission for this store",
			   NULL, -1);
		return true;
	}
	/* 6. media type, then size */
	if (ctx->kind == CTX_SYNC) {
		if (!media_is_json(req->content_type)) {
			resp_error(srv, resp, EB_CODE_UNSUPPORTED_MEDIA,
				   "Content-Type must be application/json", NULL, -1);
			return true;
		}
		if (body_len >= 0 && (uint64_t)body_len > ctx->max_body) {
			resp_error(srv, resp, EB_CODE_PAYLOAD_TOO_LARGE,
				   "request body larger than maxBodyBytes", NULL, -1);
			return true;
		}
	}
	return false;
}

/* Faults that answer for the server (only /api routes: the admin endpoint
 * and health stay usable to clear them). true when resp was decided. */
static bool api_faults(ebm_server *srv, ebm_http_resp *resp)
{
	const ebm_faults *f = &srv->faults;
	uint64_t now = ebm_mono_ms();

	resp->delay_ms = f->delay_ms;
	if (f->stall) {
		resp->stall = true;
		resp->status = 0;
		resp->ev.fault = "stall";
		return true;
	}
	if (f->http_reset_until_ms > now) {
		/* a network error for the client: the glue closes the connection */
		resp->reset = true;
		resp->status = 0;
		resp->delay_ms = 0;
		resp->ev.fault = "http-reset";
		return true;
	}
	if (f->http503_until_ms > now) {
		resp->retry_after_s = f->retry_after_s ? f->retry_after_s
						       : secs_left(f->http503_until_ms, now);
		resp_error(srv, resp, EB_CODE_UNAVAILABLE, "temporarily unavailable (fault)",
			   NULL, -1);
		resp->ev.fault = "http-503";
		return true;
	}
	if (f->http429_until_ms > now) {
		resp->retry_after_s = f->retry_after_s ? f->retry_after_s
						       : secs_left(f->http429_until_ms, now);
		resp_error(srv, resp, EB_CODE_RATE_LIMITED, "rate limited (fault)", NULL, -1);
		resp->ev.fault = "http-429";
		return true;
	}
	return false;
}

/* Shared backend: the request first waits for its store's changes from the
 * database (a change acknowledged by another node is in this read), then
 * runs on the memory copy like on every backend. true: ctx is parked in
 * srv->pending (ebm_http_pending_take). */
static bool park_for_refresh(ebm_server *srv, ebm_http_ctx *ctx)
{
	if (!srv->be->remote || ctx->refreshed)
		return false;
	ebm_store *st = ebm_store_find(srv, ctx->r.store_id);
	ctx->job = ebm_pg_refresh(srv, ctx->r.store_id, st ? st->version : 0);
	ctx->deadline_ms = ebm_mono_ms() + EBM_PENDING_MS;
	/* without a job (no memory) the deadline answers 503 */
	srv->pending = ctx;
	return true;
}

static ebm_http_step http_begin(ebm_server *srv, const ebm_http_req *req,
				ebm_http_ctx **ctxp, ebm_http_resp *resp)
{
	eb_route r;
	ebm_http_ctx *ctx = NULL;

	*ctxp = NULL;
	memset(resp, 0, sizeof *resp);
	if (!req->method || !req->path) {
		resp_error(srv, resp, EB_CODE_NOT_FOUND, "no such route", NULL, -1);
		return EBM_HTTP_DONE;
	}
	/* the kit's extensions (section 13) */
	if (path_is(req, "/healthz") || path_is(req, "/metrics")) {
		resp->route = path_is(req, "/healthz") ? EBM_R_HEALTHZ : EBM_R_METRICS;
		if (!method_is(req, "GET"))
			resp_405(srv, resp, "GET");
		else if (resp->route == EBM_R_HEALTHZ)
			handle_healthz(resp);
		else
			handle_metrics(srv, resp);
		return EBM_HTTP_DONE;
	}
	if (path_is(req, "/admin/faults")) {
		resp->route = EBM_R_ADMIN;
		return handle_admin(srv, req, ctxp, resp);
	}
	eb_route_parse(req->path, req->path_len, &r);
	switch (r.kind) {
	case EB_ROUTE_NONE:
		resp_error(srv, resp, EB_CODE_NOT_FOUND, "no such route", NULL, -1);
		return EBM_HTTP_DONE;
	case EB_ROUTE_LIMITS:
		resp->route = EBM_R_LIMITS;
		if (api_faults(srv, resp))
			return EBM_HTTP_DONE;
		if (srv->cfg.no_limits_endpoint) {
			/* a server that does not offer it (LIMIT-10 "where offered") */
			resp_error(srv, resp, EB_CODE_NOT_FOUND, "no such route", NULL, -1);
			return EBM_HTTP_DONE;
		}
		if (!method_is(req, "GET"))
			resp_405(srv, resp, "GET");
		else
			handle_limits(srv, resp);
		return EBM_HTTP_DONE;
	case EB_ROUTE_NOTIFICATIONS:
		resp->route = EBM_R_NOTIFICATIONS;
		if (!method_is(req, "GET")) {
			resp_405(srv, resp, "GET");
			return EBM_HTTP_DONE;
		}
		if (srv->faults.stall) {
			/* WS stall: the upgrade is accepted, nothing is answered */
			if (req->upgrade_ws)
				return EBM_HTTP_UPGRADE;
			resp->stall = true;
			return EBM_HTTP_DONE;
		}
		if (srv->faults.refuse_ws) {
			resp->retry_after_s = 1;
			resp_error(srv, resp, EB_CODE_UNAVAILABLE,
				   "WebSocket upgrades refused (fault)", NULL, -1);
			return EBM_HTTP_DONE;
		}
		if (!req->upgrade_ws) {
			resp_error(srv, resp, EB_CODE_INVALID_REQUEST,
				   "this route needs a WebSocket upgrade", NULL, -1);
			return EBM_HTTP_DONE;
		}
		return EBM_HTTP_UPGRADE;
	case EB_ROUTE_SYNC:
	case EB_ROUTE_CHANGES:
		break;
	}
	resp->route = r.kind == EB_ROUTE_SYNC ? EBM_R_SYNC : EBM_R_CHANGES;
	/* 1. route and method */
	if (r.kind == EB_ROUTE_SYNC && !method_is(req, "POST")) {
		resp_405(srv, resp, "POST");
		return EBM_HTTP_DONE;
	}
	if (r.kind == EB_ROUTE_CHANGES && !method_is(req, "GET")) {
		resp_405(srv, resp, "GET");
		return EBM_HTTP_DONE;
	}
	if (api_faults(srv, resp))
		return EBM_HTTP_DONE;
	ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		resp_error(srv, resp, EB_CODE_INTERNAL, "out of memory", NULL, -1);
		return EBM_HTTP_DONE;
	}
	ctx->r = r;
	ctx->route = resp->route;
	ctx->delay_ms = resp->delay_ms;
	ctx->kind = CTX_SYNC;
	ctx->max_body = ebm_defect_on(srv, EBM_DEFECT_BODY_LIMIT_IGNORED)
			? EBM_BODY_LIMIT_DEFECT : srv->cfg.limits.max_body_bytes;
	if (r.kind == EB_ROUTE_SYNC && ebm_defect_on(srv, EBM_DEFECT_CHECK_ORDER_WRONG)) {
		ctx->deferred = true;
		*ctxp = ctx;
		return EBM_HTTP_NEED_BODY;
	}
	if (r.kind == EB_ROUTE_CHANGES)
		ctx->kind = 0;
	if (pre_checks(srv, req, ctx, req->content_length, resp)) {
		ebm_http_ctx_free(ctx);
		return EBM_HTTP_DONE;
	}
	if (r.kind == EB_ROUTE_CHANGES) {
		if (park_for_refresh(srv, ctx))
			return EBM_HTTP_DONE;   /* pending: ebm_http_resume */
		handle_changes(srv, ctx, req, resp);
		ebm_http_ctx_free(ctx);
		return EBM_HTTP_DONE;
	}
	*ctxp = ctx;
	return EBM_HTTP_NEED_BODY;
}

static void http_body_too_large(ebm_server *srv, ebm_http_ctx *ctx,
				ebm_http_resp *resp)
{
	uint32_t delay = ctx ? ctx->delay_ms : 0;
	ebm_route route = ctx ? ctx->route : EBM_R_OTHER;
	ebm_http_ctx_free(ctx);
	memset(resp, 0, sizeof *resp);
	resp->route = route;
	resp->delay_ms = delay;
	resp_error(srv, resp, EB_CODE_PAYLOAD_TOO_LARGE, "request body larger than maxBodyBytes",
		   NULL, -1);
}

static void http_finish(ebm_server *srv, ebm_http_ctx *ctx,
			const ebm_http_req *req, ebm_http_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	if (!ctx) {
		resp_error(srv, resp, EB_CODE_INTERNAL, "no request context", NULL, -1);
		return;
	}
	resp->route = ctx->route;
	resp->delay_ms = ctx->delay_ms;
	if (ctx->kind == CTX_ADMIN_POST) {
		admin_post(srv, req, resp);
		goto out;
	}
	if (req->body_len > ctx->max_body) {
		resp_error(srv, resp, EB_CODE_PAYLOAD_TOO_LARGE,
			   "request body larger than maxBodyBytes", NULL, -1);
		goto out;
	}
	if (ctx->deferred) {
		/* check-order-wrong: JSON judged before the token */
		cJSON *root = NULL;
		eb_err err;
		eb_err_clear(&err);
		if (eb_json_parse(req->body ? req->body : "", req->body_len, 1000, &root,
				  &err) != EB_OK) {
			resp_err_from(srv, resp, EB_ERR_JSON, &err, NULL);
			goto out;
		}
		cJSON_Delete(root);
		if (pre_checks(srv, req, ctx, (int64_t)req->body_len, resp))
			goto out;
	}
	if (park_for_refresh(srv, ctx))
		return;
	handle_sync(srv, ctx, req, resp);
	if (ctx->job) {
		srv->pending = ctx;   /* the commit: ebm_http_resume */
		return;
	}
out:
	ebm_http_ctx_free(ctx);
}

/* ---- what every answer gets: extras fault, event-log details ---------- */

static bool route_is_api(ebm_route r)
{
	return r == EBM_R_SYNC || r == EBM_R_CHANGES || r == EBM_R_LIMITS ||
	       r == EBM_R_NOTIFICATIONS;
}

static void answer_done(ebm_server *srv, ebm_http_resp *resp)
{
	if (!srv->faults.extras || !resp->body || !route_is_api(resp->route) ||
	    !resp->content_type || strcmp(resp->content_type, EBM_JSON_CT) != 0)
		return;
	char *d = ebm_extras_decorate(resp->body, resp->body_len);
	if (d) {
		free(resp->body);
		resp->body = d;
		resp->body_len = strlen(d);
	}
}

ebm_http_step ebm_http_begin(ebm_server *srv, const ebm_http_req *req,
			     ebm_http_ctx **ctxp, ebm_http_resp *resp)
{
	ebm_http_step st = http_begin(srv, req, ctxp, resp);
	if (st == EBM_HTTP_NEED_BODY)
		ev_clear(resp);   /* finish fills it again */
	else if (st == EBM_HTTP_DONE && !srv->pending)
		answer_done(srv, resp);
	return st;
}

void ebm_http_body_too_large(ebm_server *srv, ebm_http_ctx *ctx,
			     ebm_http_resp *resp)
{
	char *sub = ebm_evlog_of(srv) && ctx && ctx->claims ? strdup(ctx->claims->sub) : NULL;
	ev_clear(resp);
	http_body_too_large(srv, ctx, resp);
	resp->ev.subject = sub;
	answer_done(srv, resp);
}

void ebm_http_refuse_busy(ebm_server *srv, ebm_http_resp *resp)
{
	ebm_route route = resp->route;
	ebm_http_resp_clear(resp);
	resp->route = route;
	/* 503, not 429: 429 is kept for the advertised buckets of RATE-1/2 */
	resp->retry_after_s = 1;
	resp_error(srv, resp, EB_CODE_UNAVAILABLE,
		   "server busy: memory for request bodies is used up, retry later", NULL, -1);
	ebm_metrics_refusal(srv, EBM_REFUSE_MEMORY);
}

void ebm_http_finish(ebm_server *srv, ebm_http_ctx *ctx,
		     const ebm_http_req *req, ebm_http_resp *resp)
{
	char *sub = ebm_evlog_of(srv) && ctx && ctx->claims ? strdup(ctx->claims->sub) : NULL;
	ev_clear(resp);
	http_finish(srv, ctx, req, resp);
	if (srv->pending) {
		free(sub);   /* ebm_http_resume answers */
		return;
	}
	if (!resp->ev.subject)
		resp->ev.subject = sub;
	else
		free(sub);
	answer_done(srv, resp);
}

ebm_http_ctx *ebm_http_pending_take(ebm_server *srv, void *user)
{
	ebm_http_ctx *ctx = srv->pending;
	srv->pending = NULL;
	if (ctx) {
		ctx->user = user;
		ebm_job_set_user(ctx->job, user);
	}
	return ctx;
}

uint64_t ebm_http_ctx_deadline_ms(const ebm_http_ctx *ctx)
{
	return ctx->deadline_ms;
}

bool ebm_http_resume(ebm_server *srv, ebm_http_ctx *ctx,
		     const ebm_http_req *req, ebm_http_resp *resp)
{
	char msg[200] = "";
	ebm_job_status js = ctx->job ? ebm_job_status_of(ctx->job, msg, sizeof msg)
				     : EBM_JOB_FAILED;
	if (js == EBM_JOB_RUNNING) {
		if (ebm_mono_ms() < ctx->deadline_ms)
			return false;
		js = EBM_JOB_FAILED;
		snprintf(msg, sizeof msg, "the database did not answer within %u ms",
			 EBM_PENDING_MS);
	}
	char *sub = ebm_evlog_of(srv) && ctx->claims ? strdup(ctx->claims->sub) : NULL;
	ebm_http_resp_clear(resp);
	resp->route = ctx->route;
	resp->delay_ms = ctx->delay_ms;
	ebm_job_release(ctx->job);
	ctx->job = NULL;
	if (ctx->committing) {
		ctx->committing = false;
		if (js == EBM_JOB_OK)
			ctx->replay = true;   /* its changes are in the copy now */
		else if (js == EBM_JOB_CONFLICT && ++ctx->retries > EBM_COMMIT_RETRIES) {
			js = EBM_JOB_FAILED;
			snprintf(msg, sizeof msg, "the store is too busy (%u commits lost)",
				 EBM_COMMIT_RETRIES);
		}
	}
	if (js == EBM_JOB_FAILED) {
		if (!msg[0])
			snprintf(msg, sizeof msg, "database unavailable");
		resp->retry_after_s = 1;
		resp_error(srv, resp, EB_CODE_UNAVAILABLE, msg, NULL, -1);
		goto done;
	}
	ctx->refreshed = true;
	if (ctx->route == EBM_R_CHANGES) {
		handle_changes(srv, ctx, req, resp);
		goto done;
	}
	handle_sync(srv, ctx, req, resp);
	if (ctx->job) {
		/* judged again and committing again (or for the first time) */
		ebm_job_set_user(ctx->job, ctx->user);
		free(sub);
		return false;
	}
done:
	if (!resp->ev.subject)
		resp->ev.subject = sub;
	else
		free(sub);
	answer_done(srv, resp);
	ebm_http_ctx_free(ctx);
	return true;
}

ebm_http_step ebm_http_handle(ebm_server *srv, const ebm_http_req *req,
			      ebm_http_resp *resp)
{
	ebm_http_ctx *ctx = NULL;
	ebm_http_step st = ebm_http_begin(srv, req, &ctx, resp);
	if (st != EBM_HTTP_NEED_BODY)
		return st;
	if (req->body_len > ebm_http_ctx_max_body(ctx)) {
		ebm_http_body_too_large(srv, ctx, resp);
		return EBM_HTTP_DONE;
	}
	ebm_http_finish(srv, ctx, req, resp);
	return EBM_HTTP_DONE;
}
