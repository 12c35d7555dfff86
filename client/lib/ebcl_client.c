/*
 * ebcl_client.c — the client of ebclient.h: the state machine of PROTOCOL.md
 * section 12 (connecting, live, polling), HTTP through libcurl's multi
 * interface and the notification socket through eb_wsc, both driven from
 * ebcl_client_step without blocking.
 */
#include "ebclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "eb_buf.h"
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_msg.h"
#include "eb_target.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "eb_wsc.h"
#include "ebcl_db.h"
#include "ebcl_store.h"
#include "ebcl_timing.h"

#define EBCL_MAX_STORES        10000u
#define EBCL_MAX_RESPONSE      ((size_t)32 * 1024 * 1024)  /* one HTTP body */
/* All HTTP bodies being received at once: one read per store runs in
 * parallel, and 40 stores against a server sending endless bodies held
 * 542 MiB with the per-body cap alone. A read refused by it fails like a
 * server error (backoff, then again), so the others finish first. */
#define EBCL_MAX_IN_FLIGHT     ((size_t)64 * 1024 * 1024)
/* Body bytes taken in per step: past it the transfers pause until the next
 * step, so one step stays short whatever the servers send (40 endless
 * bodies filled 64 MiB in one step: 0.4-0.9 s under ASan before the
 * application's loop saw its stop flag). */
#define EBCL_STEP_BYTES        ((size_t)4 * 1024 * 1024)
#define EBCL_MAX_WS_MESSAGE    ((size_t)1024 * 1024)
#define EBCL_WS_PER_STEP       1000    /* messages handled per step */
#define EBCL_SUB_BATCH         100     /* WS-SUB-6 */
#define EBCL_HTTP_TIMEOUT_MS   30000u  /* nominal, scaled, floored below */
#define EBCL_HTTP_TIMEOUT_MIN  3000u   /* real ms: scheduling noise under ASan */
#define EBCL_DEFECT_PING_MS    5000u
#define EBCL_REAUTH_RETRY_MS   1000u   /* real ms between token requests when none is fresher */
#define EBCL_PAGE_LIMIT        1000u

typedef enum req_kind { REQ_LIMITS = 1, REQ_READ, REQ_PUSH } req_kind;

typedef struct ebcl_req {
	struct ebcl_req *next;
	ebcl_client *c;
	CURL *easy;
	struct curl_slist *hdrs;
	req_kind kind;
	ebcl_store *st;
	char url[1024];
	char *post;               /* request body (push) */
	eb_buf resp;
	size_t drawn;             /* bytes of resp counted in c->in_flight */
	bool paused;              /* by EBCL_STEP_BYTES, until the next step */
	bool too_big;
	unsigned retry_after;
	size_t n_push;            /* changes of the queue this push carries */
	bool from_zero;           /* a read that restarts the store at 0 */
	bool retried_401;
} ebcl_req;

/* Per-store sync control, beside the data of ebcl_store. */
typedef struct store_ctl {
	ebcl_store *st;
	bool want_read;           /* a read is due (round, catch-up, ack, open) */
	bool extra_read;          /* reads-twice-per-round: one more */
	uint64_t notified;        /* highest store_changed version */
	bool resync;              /* read from 0 before anything else */
	bool paging;              /* the running read has more pages */
	int inflight;
	size_t batch_cap;         /* push batch bound, halved on 413 */
	uint64_t stalled_until;   /* after an answer that does not count as failure */
	bool subscribed;
	unsigned pending_notes;   /* parallel-syncs: notifications not yet read */
} store_ctl;

struct ebcl_client {
	ebcl_config cfg;
	char *url_text, *data_path;
	char *cacert;             /* cfg.tls.cacert, copied */
	eb_tls_ctx *tls;          /* https://: the socket's TLS context */
	eb_url url;
	double scale;
	bool defects[EBCL_DEFECT_COUNT];
	ebcl_conn state;
	bool started;
	ebcl_db *db;
	CURLM *multi;
	ebcl_req *reqs;
	size_t in_flight;         /* bytes of response bodies held (EBCL_MAX_IN_FLIGHT) */
	size_t step_bytes;        /* body bytes taken in this step (EBCL_STEP_BYTES) */
	bool paused;              /* a transfer waits for the next step */
	store_ctl *stores;
	size_t n_stores, cap_stores;
	ebcl_sched sched;
	uint64_t rng;
	/* limits */
	bool limits_known;
	unsigned max_changes;
	/* token */
	char *token;
	uint64_t reauth_at_wall;  /* wall ms; 0 none */
	/* socket */
	eb_wsc *ws;
	bool ws_upgrading;        /* the upgrade of eb_wsc_connect_start runs */
	bool ws_authed;
	bool ws_attempt_failed;   /* the current attempt ended */
	unsigned subs_outstanding;
	uint64_t attempt_deadline;
	uint64_t reconnect_at;    /* 0: none */
	uint64_t last_rx;
	uint64_t ping_sent_at;    /* 0: no ping outstanding */
	uint64_t last_ping;
	unsigned req_seq;
	bool used_4401;           /* the immediate reconnect after 4401 was used */
	bool ever_polled;         /* never-stops-polling */
	bool defer_attempt;       /* subscribe-before-auth-ok: attempt at the first open */
	bool attempt_now;         /* the first attempt, made in the next step */
	uint64_t id_seq;
	char id_prefix[20];
};

/* ---- small helpers ----------------------------------------------------------- */

static uint64_t now_ms(void)
{
	return eb_time_mono_ns() / 1000000u;
}

static void cl_log(ebcl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void cl_log(ebcl_client *c, const char *fmt, ...)
{
	if (c->cfg.cb.log == NULL)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cfg.cb.log(c->cfg.cb.ud, line);
}

static double cl_rand01(ebcl_client *c)
{
	/* xorshift64*: jitter only, no secrets. */
	uint64_t x = c->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void cl_set_state(ebcl_client *c, ebcl_conn s)
{
	if (c->state == s)
		return;
	c->state = s;
	if (c->cfg.cb.state != NULL)
		c->cfg.cb.state(c->cfg.cb.ud, s);
}

static void cl_changed(ebcl_client *c, const ebcl_store *st)
{
	if (c->cfg.cb.changed != NULL)
		c->cfg.cb.changed(c->cfg.cb.ud, st->id);
}

static store_ctl *cl_find(const ebcl_client *c, const char *id)
{
	for (size_t i = 0; i < c->n_stores; i++)
		if (strcmp(c->stores[i].st->id, id) == 0)
			return &c->stores[i];
	return NULL;
}

static store_ctl *cl_ctl_of(ebcl_client *c, const ebcl_store *st)
{
	for (size_t i = 0; i < c->n_stores; i++)
		if (c->stores[i].st == st)
			return &c->stores[i];
	return NULL;
}

/* The version as it goes on the wire; version-as-double loses digits. */
static uint64_t cl_wire_version(const ebcl_client *c, uint64_t v)
{
	if (!c->defects[EBCL_DEFECT_VERSION_AS_DOUBLE])
		return v;
	char buf[40];
	snprintf(buf, sizeof buf, "%.15g", (double)v);
	double d = strtod(buf, NULL);
	return d < 0 ? 0 : (uint64_t)d;
}

/* ---- tokens ------------------------------------------------------------------ */

/* exp and iat (seconds) of a JWT's payload, read without verifying: the
 * client only needs to know when to refresh. false when not a JWT. */
static bool cl_jwt_times(const char *tok, uint64_t *exp_s, uint64_t *iat_s)
{
	const char *p1 = strchr(tok, '.');
	if (p1 == NULL)
		return false;
	const char *p2 = strchr(p1 + 1, '.');
	if (p2 == NULL)
		return false;
	size_t n = (size_t)(p2 - p1 - 1);
	if (n == 0 || n > 8192)
		return false;
	char b64[8200];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = p1[1 + i];
		b64[k++] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	while (k % 4 != 0)
		b64[k++] = '=';
	b64[k] = '\0';
	unsigned char raw[6200];
	int rl = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)k);
	if (rl <= 0)
		return false;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (rl > 0 && raw[rl - 1] == '\0')
		rl--;
	cJSON *j = NULL;
	if (eb_json_parse((const char *)raw, (size_t)rl, EB_JSON_MAX_DEPTH, &j,
			  NULL) != EB_OK)
		return false;
	bool ok = eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(j, "exp"),
				     exp_s);
	if (!eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(j, "iat"), iat_s))
		*iat_s = 0;
	cJSON_Delete(j);
	return ok;
}

/* Asks the provider for a token (CLIENT-TOKEN-1) and plans the re-auth at
 * 90 % of its lifetime (CLIENT-TOKEN-2; token lifetimes are not scaled). */
static void cl_fetch_token(ebcl_client *c)
{
	if (c->cfg.cb.token == NULL)
		return;
	char *t = c->cfg.cb.token(c->cfg.cb.ud);
	if (t == NULL)
		return;
	free(c->token);
	c->token = t;
	uint64_t exp_s = 0, iat_s = 0;
	uint64_t wall = eb_time_now_ms();
	c->reauth_at_wall = 0;
	if (cl_jwt_times(t, &exp_s, &iat_s)) {
		uint64_t iat = iat_s ? iat_s * 1000u : wall;
		uint64_t at = ebcl_reauth_at(iat, exp_s * 1000u);
		/* The provider had nothing fresher (90 % already passed): ask
		 * again shortly rather than at every step. */
		if (at <= wall)
			at = wall + EBCL_REAUTH_RETRY_MS;
		c->reauth_at_wall = at;
	}
}

/* ---- HTTP -------------------------------------------------------------------- */

static size_t cl_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	ebcl_req *r = ud;
	size_t n = size * nmemb;
	size_t one = r->c->cfg.max_response ? r->c->cfg.max_response : EBCL_MAX_RESPONSE;
	size_t all = one > EBCL_MAX_IN_FLIGHT ? one : EBCL_MAX_IN_FLIGHT;
	if (r->resp.len + n > one || r->c->in_flight + n > all) {
		r->too_big = true;
		return 0;   /* aborts the transfer: a failure */
	}
	if (r->c->step_bytes >= EBCL_STEP_BYTES) {
		/* curl hands the same bytes again once resumed */
		r->paused = true;
		r->c->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	eb_buf_put(&r->resp, ptr, n);
	if (r->resp.oom)
		return 0;
	r->drawn += n;
	r->c->in_flight += n;
	r->c->step_bytes += n;
	return n;
}

/* Empties r's response body and gives its bytes back to the budget. */
static void cl_req_release(ebcl_req *r)
{
	r->c->in_flight -= r->drawn;
	r->drawn = 0;
	eb_buf_clear(&r->resp);
}

static size_t cl_header_cb(char *ptr, size_t size, size_t nitems, void *ud)
{
	ebcl_req *r = ud;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";
	if (n > sizeof name - 1 && n < 200 &&
	    strncasecmp(ptr, name, sizeof name - 1) == 0) {
		char v[200];
		memcpy(v, ptr + sizeof name - 1, n - (sizeof name - 1));
		v[n - (sizeof name - 1)] = '\0';
		r->retry_after = ebcl_retry_after_parse(v);
	}
	return n;
}

static void cl_req_free(ebcl_req *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL) {
		curl_multi_remove_handle(r->c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->hdrs);
	free(r->post);
	cl_req_release(r);
	free(r);
}

static void cl_req_unlink(ebcl_client *c, ebcl_req *r)
{
	for (ebcl_req **pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

/* Starts r (url, post and kind set) on the multi handle. 0 or -1. */
static int cl_req_launch(ebcl_client *c, ebcl_req *r)
{
	cl_req_release(r);
	r->too_big = false;
	r->retry_after = 0;
	if (r->easy != NULL) {
		curl_multi_remove_handle(c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		return -1;
	CURL *e = r->easy;
	uint64_t tmo = ebcl_scaled(EBCL_HTTP_TIMEOUT_MS, c->scale);
	if (tmo < EBCL_HTTP_TIMEOUT_MIN)
		tmo = EBCL_HTTP_TIMEOUT_MIN;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)tmo);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cl_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, cl_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	/* https: the socket's trust (eb_tls.h) for HTTP too */
	if (c->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	if (c->cfg.tls.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (r->kind != REQ_LIMITS && c->token != NULL && c->token[0] != '\0') {
		eb_buf h = { 0 };
		eb_buf_fmt(&h, "Authorization: Bearer %s", c->token);
		if (!h.oom)
			r->hdrs = curl_slist_append(r->hdrs, h.p);
		eb_buf_clear(&h);
	}
	if (r->post != NULL) {
		r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->post);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->post));
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
		return -1;
	return 0;
}

static ebcl_req *cl_req_new(ebcl_client *c, req_kind kind, ebcl_store *st)
{
	ebcl_req *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->c = c;
	r->kind = kind;
	r->st = st;
	return r;
}

/* Adds r to the client and starts it; frees it on failure. 0 or -1. */
static int cl_req_start(ebcl_client *c, ebcl_req *r)
{
	if (cl_req_launch(c, r) != 0) {
		cl_req_free(r);
		return -1;
	}
	r->next = c->reqs;
	c->reqs = r;
	if (r->st != NULL) {
		store_ctl *sc = cl_ctl_of(c, r->st);
		if (sc != NULL)
			sc->inflight++;
	}
	return 0;
}

static void cl_start_limits(ebcl_client *c)
{
	ebcl_req *r = cl_req_new(c, REQ_LIMITS, NULL);
	if (r == NULL)
		return;
	snprintf(r->url, sizeof r->url, "%s/api/limits", c->url.http);
	if (cl_req_start(c, r) != 0)
		c->limits_known = true;   /* keep the defaults */
}

/* A read of sc from its known version (0 when from_zero). */
static void cl_start_read(ebcl_client *c, store_ctl *sc, bool from_zero)
{
	ebcl_req *r = cl_req_new(c, REQ_READ, sc->st);
	if (r == NULL)
		return;
	if (from_zero)
		ebcl_store_reset(sc->st);
	r->from_zero = from_zero;
	snprintf(r->url, sizeof r->url, "%s/api/stores/%s/changes?since=%llu&limit=%u",
		 c->url.http, sc->st->id,
		 (unsigned long long)cl_wire_version(c, sc->st->known),
		 EBCL_PAGE_LIMIT);
	(void)cl_req_start(c, r);
}

static char *cl_new_id(ebcl_client *c)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s-%012llu", c->id_prefix,
		 (unsigned long long)++c->id_seq);
	return strdup(buf);
}

/* A push of the first changes of sc's queue (CLIENT-QUEUE-6). */
static void cl_start_push(ebcl_client *c, store_ctl *sc)
{
	ebcl_store *st = sc->st;
	size_t n = st->n_queue;
	if (!c->defects[EBCL_DEFECT_BATCH_TOO_LARGE]) {
		if (n > c->max_changes)
			n = c->max_changes;
		if (sc->batch_cap > 0 && n > sc->batch_cap)
			n = sc->batch_cap;
	}
	if (n == 0)
		return;
	eb_change *view = malloc(n * sizeof *view);
	if (view == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		view[i] = st->queue[c->defects[EBCL_DEFECT_QUEUE_OUT_OF_ORDER]
				    ? n - 1 - i : i];
	eb_sync_request rq = {
		.last_known_version = cl_wire_version(c, st->known),
		.changes = view, .n = n, .limit = EBCL_PAGE_LIMIT, .has_limit = true,
	};
	char *body = NULL;
	eb_rc rc = eb_sync_request_encode(&rq, &body);
	free(view);
	if (rc != EB_OK)
		return;
	ebcl_req *r = cl_req_new(c, REQ_PUSH, st);
	if (r == NULL) {
		free(body);
		return;
	}
	r->post = body;
	r->n_push = n;
	snprintf(r->url, sizeof r->url, "%s/api/stores/%s/sync", c->url.http,
		 st->id);
	(void)cl_req_start(c, r);
}

/* Applies a 200 body of a read or push to the store. 0, or -1 when the
 * body does not parse (counted as a failed request). */
static int cl_apply_page(ebcl_client *c, store_ctl *sc, const ebcl_req *r)
{
	eb_sync_response *resp = NULL;
	eb_err err;
	if (eb_sync_response_parse(r->resp.p ? r->resp.p : "", r->resp.len,
				   &resp, &err) != EB_OK) {
		cl_log(c, "store %s: unreadable sync response: %s", sc->st->id,
		       err.msg);
		return -1;
	}
	ebcl_store *st = sc->st;
	/* A server behind the client's known version (CLIENT-WS-5). */
	if (!r->from_zero && resp->current_version < st->known &&
	    !c->defects[EBCL_DEFECT_IGNORES_LOWER_VERSION]) {
		cl_log(c, "store %s: server at version %llu, below the known %llu: "
		       "reading from 0", st->id,
		       (unsigned long long)resp->current_version,
		       (unsigned long long)st->known);
		sc->resync = true;
		sc->paging = false;
		eb_sync_response_free(resp);
		return 0;
	}
	bool added = false;
	for (size_t i = 0; i < resp->n; i++) {
		/* CLIENT-QUEUE-7: nothing beyond toVersion. */
		if (resp->changes[i].version > resp->to_version)
			continue;
		if (ebcl_store_add_seen(st, &resp->changes[i]) > 0)
			added = true;
	}
	st->known = c->defects[EBCL_DEFECT_KNOWN_VERSION_CURRENT]
		? resp->current_version : resp->to_version;
	sc->paging = resp->has_more && !c->defects[EBCL_DEFECT_FIRST_PAGE_ONLY];
	eb_sync_response_free(resp);
	if (added)
		cl_changed(c, st);
	return 0;
}

/* The error body's code and the indexes it names. */
typedef struct err_info {
	char code[40];
	size_t *idx;
	size_t n_idx;
} err_info;

static void cl_err_info(const ebcl_req *r, err_info *ei)
{
	memset(ei, 0, sizeof *ei);
	eb_error_body *b = NULL;
	if (r->resp.p == NULL ||
	    eb_error_body_parse(r->resp.p, r->resp.len, &b, NULL) != EB_OK)
		return;
	snprintf(ei->code, sizeof ei->code, "%s", b->code);
	if (b->errors.n > 0) {
		ei->idx = calloc(b->errors.n, sizeof *ei->idx);
		for (size_t i = 0; ei->idx != NULL && i < b->errors.n; i++)
			if (b->errors.items[i].index >= 0 &&
			    (size_t)b->errors.items[i].index < r->n_push)
				ei->idx[ei->n_idx++] = (size_t)b->errors.items[i].index;
	}
	eb_error_body_free(b);
}

/* Position in the queue of batch entry i of a push (the batch may have
 * been sent newest first by a defect). */
static size_t cl_batch_pos(const ebcl_client *c, const ebcl_req *r, size_t i)
{
	return c->defects[EBCL_DEFECT_QUEUE_OUT_OF_ORDER] ? r->n_push - 1 - i : i;
}

/* Drops queue entries (positions, any order) as rejected (CLIENT-QUEUE-5). */
static void cl_reject(ebcl_client *c, store_ctl *sc, size_t *pos, size_t n,
		      int status, const char *code)
{
	ebcl_store *st = sc->st;
	if (c->defects[EBCL_DEFECT_RETRIES_REJECTED]) {
		/* Keeps them; pushes again after an interval. */
		sc->stalled_until = now_ms() + ebcl_sched_interval(&c->sched);
		return;
	}
	/* Highest position first so lower ones stay valid. */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (pos[b] > pos[a]) {
				size_t t = pos[a];
				pos[a] = pos[b];
				pos[b] = t;
			}
	for (size_t k = 0; k < n; k++) {
		if (k > 0 && pos[k] == pos[k - 1])
			continue;
		if (pos[k] >= st->n_queue)
			continue;
		eb_change *ch = &st->queue[pos[k]];
		cl_log(c, "store %s: change %s rejected (%d %s), dropped", st->id,
		       ch->id, status, code);
		if (c->cfg.cb.rejected != NULL)
			c->cfg.cb.rejected(c->cfg.cb.ud, st->id, ch->id, status, code);
		if (c->db != NULL)
			(void)ebcl_db_remove(c->db, st->id, ch->id);
		ebcl_store_dequeue_at(st, pos[k]);
	}
	cl_changed(c, st);
}

/* A push was answered with a rejection of some or all of its changes. */
static void cl_push_rejected(ebcl_client *c, store_ctl *sc, ebcl_req *r,
			     int status, const err_info *ei)
{
	const char *code = ei->code[0] ? ei->code : "REJECTED";
	size_t all[1];
	if (status == 403) {
		size_t *pos = calloc(r->n_push, sizeof *pos);
		if (pos == NULL)
			return;
		for (size_t i = 0; i < r->n_push; i++)
			pos[i] = i;
		cl_reject(c, sc, pos, r->n_push, status, code);
		free(pos);
		return;
	}
	if (ei->n_idx > 0 && status != 413) {
		size_t *pos = calloc(ei->n_idx, sizeof *pos);
		if (pos == NULL)
			return;
		for (size_t i = 0; i < ei->n_idx; i++)
			pos[i] = cl_batch_pos(c, r, ei->idx[i]);
		cl_reject(c, sc, pos, ei->n_idx, status, code);
		free(pos);
		return;
	}
	if (r->n_push == 1) {
		all[0] = 0;
		cl_reject(c, sc, all, 1, status, code);
		return;
	}
	/* The batch as a whole: push smaller batches until the culprit is
	 * alone (413, or an error that names no index). */
	sc->batch_cap = r->n_push / 2 ? r->n_push / 2 : 1;
	cl_log(c, "store %s: %d %s for a batch of %zu, pushing %zu at a time",
	       sc->st->id, status, code, r->n_push, sc->batch_cap);
}

/* Gives the changes of a failed push new ids (the queue-new-ids defect). */
static void cl_renew_ids(ebcl_client *c, store_ctl *sc, size_t n)
{
	for (size_t i = 0; i < n && i < sc->st->n_queue; i++) {
		char *nid = cl_new_id(c);
		if (nid == NULL)
			return;
		if (c->db != NULL)
			(void)ebcl_db_rename(c->db, sc->st->id,
					     sc->st->queue[i].id, nid);
		free(sc->st->queue[i].id);
		sc->st->queue[i].id = nid;
	}
}

static bool cl_status_fails(long status)
{
	return status == 0 || status == 429 || status >= 500;
}

/* One finished transfer. */
static void cl_req_done(ebcl_client *c, ebcl_req *r, CURLcode res)
{
	long status = 0;
	if (res == CURLE_OK)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	uint64_t now = now_ms();
	if (r->kind == REQ_LIMITS) {
		if (status == 200) {
			eb_limits l;
			eb_limits_default(&l);
			if (eb_limits_parse(r->resp.p, r->resp.len, &l, NULL) == EB_OK &&
			    l.max_changes_per_request > 0)
				c->max_changes = l.max_changes_per_request;
		}
		c->limits_known = true;
		cl_req_unlink(c, r);
		cl_req_free(r);
		return;
	}
	store_ctl *sc = cl_ctl_of(c, r->st);
	if (sc == NULL) {
		cl_req_unlink(c, r);
		cl_req_free(r);
		return;
	}
	/* HTTP 401: a fresh token and one retry (CLIENT-TOKEN-3). */
	if (status == 401 && !r->retried_401) {
		r->retried_401 = true;
		if (!c->defects[EBCL_DEFECT_NO_401_REFRESH])
			cl_fetch_token(c);
		cl_log(c, "store %s: 401, retrying with %s token", sc->st->id,
		       c->defects[EBCL_DEFECT_NO_401_REFRESH] ? "the same" : "a fresh");
		if (cl_req_launch(c, r) == 0)
			return;
	}
	cl_req_unlink(c, r);
	sc->inflight--;
	if (res != CURLE_OK || cl_status_fails(status) || status == 401) {
		/* A failure: back off (CLIENT-POLL-2, -7); the queue stays
		 * as it is, pushed again with the same ids (CLIENT-QUEUE-4). */
		cl_log(c, "store %s: %s failed (%s), backing off", sc->st->id,
		       r->kind == REQ_PUSH ? "push" : "read",
		       r->too_big ? "the response went over the client's cap on a body "
				    "(32 MiB unless set) or on all in flight (64 MiB)" :
		       res != CURLE_OK ? curl_easy_strerror(res) :
		       status == 401 ? "401 twice" : "server error");
		ebcl_sched_failure(&c->sched, now, r->retry_after);
		if (r->kind == REQ_READ)
			sc->want_read = true;
		if (r->kind == REQ_PUSH && c->defects[EBCL_DEFECT_QUEUE_NEW_IDS])
			cl_renew_ids(c, sc, r->n_push);
		cl_req_free(r);
		return;
	}
	ebcl_sched_success(&c->sched);
	if (status == 200) {
		if (r->kind == REQ_PUSH) {
			size_t n = r->n_push;
			if (c->db != NULL)
				for (size_t i = 0; i < n && i < sc->st->n_queue; i++)
					(void)ebcl_db_remove(c->db, sc->st->id,
							     sc->st->queue[i].id);
			ebcl_store_acked(sc->st, n);
			sc->batch_cap = 0;
		}
		if (cl_apply_page(c, sc, r) != 0) {
			ebcl_sched_failure(&c->sched, now, 0);
			sc->want_read = true;
		}
		cl_req_free(r);
		return;
	}
	err_info ei;
	cl_err_info(r, &ei);
	if (status == 409 && strcmp(ei.code, EB_CODE_RESYNC_REQUIRED) == 0) {
		/* CLIENT-QUEUE-2: read from 0, then push the queue again. */
		/* The defects: no-resync-after-409 for pushes, and
		 * ignores-lower-version for reads (a store behind the known
		 * version, CLIENT-WS-5). */
		bool skip = r->kind == REQ_PUSH
			? c->defects[EBCL_DEFECT_NO_RESYNC_AFTER_409]
			: c->defects[EBCL_DEFECT_IGNORES_LOWER_VERSION];
		if (!skip) {
			cl_log(c, "store %s: 409 RESYNC_REQUIRED, reading from 0",
			       sc->st->id);
			sc->resync = true;
		} else {
			sc->stalled_until = now + ebcl_sched_interval(&c->sched);
		}
		sc->paging = false;
	} else if (r->kind == REQ_PUSH &&
		   (status == 400 || status == 403 || status == 413 ||
		    status == 422 ||
		    (status == 409 && strcmp(ei.code, EB_CODE_CHANGE_ID_CONFLICT) == 0))) {
		cl_push_rejected(c, sc, r, (int)status, &ei);
	} else {
		/* Another answer (404, 405, a 4xx of a read): not a failure
		 * of the network, not a verdict on a change; wait for the next
		 * round or notification. */
		cl_log(c, "store %s: %s answered %ld %s", sc->st->id,
		       r->kind == REQ_PUSH ? "push" : "read", status, ei.code);
		sc->stalled_until = now + ebcl_sched_interval(&c->sched);
		sc->paging = false;
	}
	free(ei.idx);
	cl_req_free(r);
}

/* A new step: the transfers EBCL_STEP_BYTES paused go on (resuming may
 * deliver bytes at once, and pause them again). */
static void cl_http_resume(ebcl_client *c)
{
	c->step_bytes = 0;
	if (!c->paused)
		return;
	c->paused = false;
	for (ebcl_req *r = c->reqs; r != NULL; r = r->next)
		if (r->paused && r->easy != NULL) {
			r->paused = false;
			(void)curl_easy_pause(r->easy, CURLPAUSE_CONT);
		}
}

static void cl_http_progress(ebcl_client *c)
{
	int running = 0;
	curl_multi_perform(c->multi, &running);
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		ebcl_req *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r != NULL)
			cl_req_done(c, r, m->data.result);
	}
}

/* ---- the socket ---------------------------------------------------------------- */

static void cl_ws_send(ebcl_client *c, char *msg)
{
	if (msg == NULL || c->ws == NULL)
		goto out;
	eb_err err;
	if (eb_wsc_send_text(c->ws, msg, strlen(msg), &err) != EB_OK)
		cl_log(c, "socket: send failed: %s", err.msg);
out:
	free(msg);
}

static void cl_next_rid(ebcl_client *c, char *buf, size_t len, char kind)
{
	snprintf(buf, len, "%c%u", kind, ++c->req_seq);
}

/* Subscribes the given stores in batches of at most 100 (CLIENT-WS-4). */
static void cl_subscribe(ebcl_client *c, store_ctl **list, size_t n, bool count)
{
	size_t batch = c->defects[EBCL_DEFECT_SUBSCRIBE_BATCH_TOO_LARGE]
		? (n ? n : 1) : EBCL_SUB_BATCH;
	for (size_t i = 0; i < n; i += batch) {
		size_t k = n - i < batch ? n - i : batch;
		const char **ids = malloc(k * sizeof *ids);
		if (ids == NULL)
			return;
		for (size_t j = 0; j < k; j++)
			ids[j] = list[i + j]->st->id;
		char rid[24];
		cl_next_rid(c, rid, sizeof rid, 's');
		char *msg = NULL;
		if (eb_ws_encode_subscribe(rid, false, ids, k, &msg) == EB_OK) {
			cl_ws_send(c, msg);
			if (count)
				c->subs_outstanding++;
		}
		free(ids);
	}
}

static void cl_subscribe_all(ebcl_client *c)
{
	if (c->n_stores == 0)
		return;
	store_ctl **list = malloc(c->n_stores * sizeof *list);
	if (list == NULL)
		return;
	for (size_t i = 0; i < c->n_stores; i++)
		list[i] = &c->stores[i];
	cl_subscribe(c, list, c->n_stores, true);
	free(list);
}

/* Begins polling (the socket was lost or an attempt failed). */
static void cl_enter_polling(ebcl_client *c, int close_code, const char *why)
{
	uint64_t now = now_ms();
	if (c->ws != NULL) {
		eb_wsc_free(c->ws);
		c->ws = NULL;
	}
	c->ws_upgrading = false;
	c->ws_authed = false;
	c->subs_outstanding = 0;
	c->ping_sent_at = 0;
	for (size_t i = 0; i < c->n_stores; i++)
		c->stores[i].subscribed = false;
	cl_log(c, "socket: %s (close %d), polling", why, close_code);
	/* The catch-up of CLIENT-POLL-5 when polling begins: after the loss
	 * of a live socket or the failure of the first attempt. A reconnect
	 * attempt that fails while polling keeps the poll cadence (the
	 * stores were read on it all along). */
	bool polls_while_live = c->defects[EBCL_DEFECT_POLLS_WHILE_LIVE] ||
		(c->defects[EBCL_DEFECT_NEVER_STOPS_POLLING] && c->ever_polled);
	if (!c->sched.polling || (polls_while_live && c->state == EBCL_LIVE)) {
		ebcl_sched_stop_polling(&c->sched);
		ebcl_sched_start_polling(&c->sched, now);
		if (c->defects[EBCL_DEFECT_NO_CATCH_UP])
			ebcl_sched_round_started(&c->sched, now);
	}
	c->ever_polled = true;
	cl_set_state(c, EBCL_POLLING);
	if (c->defects[EBCL_DEFECT_NEVER_RECONNECTS]) {
		c->reconnect_at = 0;
		return;
	}
	c->reconnect_at = now + ebcl_reconnect_delay(
		c->scale, cl_rand01(c), c->defects[EBCL_DEFECT_RECONNECT_EVERY_5S]);
	if (close_code == EB_WS_CLOSE_AUTH && !c->used_4401 &&
	    !c->defects[EBCL_DEFECT_NO_4401_RECONNECT]) {
		/* CLIENT-TOKEN-3: a fresh token, one reconnect at once. */
		c->used_4401 = true;
		cl_fetch_token(c);
		c->reconnect_at = now;
	}
}

static void cl_go_live(ebcl_client *c)
{
	cl_set_state(c, EBCL_LIVE);
	c->reconnect_at = 0;
	c->used_4401 = false;
	c->last_rx = now_ms();
	c->ping_sent_at = 0;
	bool keep = c->defects[EBCL_DEFECT_POLLS_WHILE_LIVE] ||
		(c->defects[EBCL_DEFECT_NEVER_STOPS_POLLING] && c->ever_polled);
	if (!keep)
		ebcl_sched_stop_polling(&c->sched);
	cl_log(c, "socket: live");
}

/* The upgrade of the attempt made progress: once done, auth (CLIENT-WS-4). */
static void cl_upgrade_step(ebcl_client *c)
{
	bool done = false;
	int st = 0;
	eb_err err;
	if (eb_wsc_connect_step(c->ws, &done, &st, &err) != EB_OK) {
		cl_enter_polling(c, 0, err.msg);
		return;
	}
	if (!done)
		return;
	c->ws_upgrading = false;
	eb_wsc_set_max_message(c->ws, EBCL_MAX_WS_MESSAGE);
	eb_wsc_set_send_timeout(c->ws, 2000);
	c->last_rx = now_ms();
	/* The defect subscribes first: auth is no longer the first message
	 * and subscribe comes before auth_ok (CLIENT-WS-4). */
	if (c->defects[EBCL_DEFECT_SUBSCRIBE_BEFORE_AUTH_OK])
		cl_subscribe_all(c);
	char rid[24];
	cl_next_rid(c, rid, sizeof rid, 'a');
	char *msg = NULL;
	if (eb_ws_encode_auth(rid, c->token ? c->token : "", &msg) == EB_OK)
		cl_ws_send(c, msg);
}

/* Starts a connection attempt (CONNECTING): a non-blocking upgrade, then
 * auth and the subscriptions, all driven by the loop within the attempt
 * deadline. */
static void cl_attempt(ebcl_client *c)
{
	uint64_t now = now_ms();
	c->reconnect_at = 0;
	cl_set_state(c, EBCL_CONNECTING);
	c->attempt_deadline = now + ebcl_round_trip_ms(EBCL_ATTEMPT_MS, c->scale);
	eb_err err;
	eb_wsc *ws = NULL;
	/* url.ws carries the base path; eb_wsc prefixes it. */
	if (eb_wsc_connect_start_tls(c->url.ws, "/api/sync/notifications", c->tls, NULL, 0,
				     &ws, &err) != EB_OK) {
		cl_enter_polling(c, 0, err.msg);
		return;
	}
	c->ws = ws;
	c->ws_upgrading = true;
	c->ws_authed = false;
	c->subs_outstanding = 0;
	cl_upgrade_step(c);   /* a local server may have answered already */
}

static void cl_ws_message(ebcl_client *c, const char *data, size_t len)
{
	eb_ws_server_msg *m = NULL;
	eb_err err;
	if (eb_ws_server_msg_parse(data, len, &m, &err) != EB_OK) {
		cl_log(c, "socket: ignoring a malformed message: %s", err.msg);
		return;
	}
	switch (m->type) {
	case EB_WS_S_AUTH_OK:
		if (!c->ws_authed) {
			c->ws_authed = true;
			if (!c->defects[EBCL_DEFECT_SUBSCRIBE_BEFORE_AUTH_OK])
				cl_subscribe_all(c);
			if (c->subs_outstanding == 0 && c->state == EBCL_CONNECTING)
				cl_go_live(c);
		}
		break;
	case EB_WS_S_SUBSCRIBED:
		for (size_t i = 0; i < m->n_stores; i++) {
			store_ctl *sc = cl_find(c, m->stores[i].store_id);
			if (sc == NULL)
				continue;
			uint64_t v = m->stores[i].version;
			sc->subscribed = true;
			if (v > sc->st->known) {
				if (!c->defects[EBCL_DEFECT_NO_SYNC_ON_HIGHER_ACK])
					sc->want_read = true;
			} else if (v < sc->st->known &&
				   !c->defects[EBCL_DEFECT_IGNORES_LOWER_VERSION]) {
				cl_log(c, "store %s: ack version %llu below the known "
				       "%llu: reading from 0", sc->st->id,
				       (unsigned long long)v,
				       (unsigned long long)sc->st->known);
				sc->resync = true;
			}
		}
		for (size_t i = 0; i < m->n_errors; i++)
			cl_log(c, "store %s: subscribe refused: %s",
			       m->errors[i].store_id, m->errors[i].code);
		if (c->subs_outstanding > 0 && m->request_id != NULL &&
		    m->request_id[0] == 's') {
			c->subs_outstanding--;
			if (c->subs_outstanding == 0 && c->ws_authed &&
			    c->state == EBCL_CONNECTING)
				cl_go_live(c);
		}
		break;
	case EB_WS_S_STORE_CHANGED: {
		store_ctl *sc = cl_find(c, m->store_id);
		if (c->defects[EBCL_DEFECT_IGNORES_NOTIFICATION])
			break;
		if (sc == NULL)
			break;   /* CLIENT-WS-8 */
		if (m->version > sc->st->known) {
			if (m->version > sc->notified)
				sc->notified = m->version;
			if (c->defects[EBCL_DEFECT_PARALLEL_SYNCS])
				sc->pending_notes++;
		}
		/* The defect reads on every notification, whatever its
		 * version (the client's own push included). */
		if (c->defects[EBCL_DEFECT_SYNCS_STALE_NOTIFICATION])
			sc->want_read = true;
		break;
	}
	case EB_WS_S_ERROR:
		cl_log(c, "socket: error %s: %s", m->code ? m->code : "?",
		       m->message ? m->message : "");
		break;
	case EB_WS_S_UNKNOWN:
		if (c->defects[EBCL_DEFECT_UNKNOWN_TYPE_CLOSES]) {
			eb_ws_server_msg_free(m);
			(void)eb_wsc_send_close(c->ws, 1002, "unknown type", NULL);
			cl_enter_polling(c, 1002, "closed on an unknown message type");
			return;
		}
		break;   /* GEN-7 */
	case EB_WS_S_PONG:
	case EB_WS_S_UNSUBSCRIBED:
	default:
		break;
	}
	eb_ws_server_msg_free(m);
}

static void cl_ws_progress(ebcl_client *c)
{
	if (c->ws_upgrading) {
		cl_upgrade_step(c);
		return;
	}
	for (int k = 0; k < EBCL_WS_PER_STEP && c->ws != NULL; k++) {
		eb_wsc_msg msg;
		eb_err err;
		if (eb_wsc_recv(c->ws, 0, &msg, &err) != EB_OK) {
			cl_enter_polling(c, 0, err.msg);
			return;
		}
		eb_wsc_event ev = msg.ev;
		if (ev == EB_WSC_TIMEOUT) {
			eb_wsc_msg_clear(&msg);
			return;
		}
		c->last_rx = now_ms();
		c->ping_sent_at = 0;
		if (ev == EB_WSC_TEXT) {
			cl_ws_message(c, msg.data, msg.len);
		} else if (ev == EB_WSC_CLOSE || ev == EB_WSC_EOF ||
			   ev == EB_WSC_PROTOCOL_ERROR) {
			int code = ev == EB_WSC_CLOSE ? msg.close_code : 1006;
			char why[160];
			snprintf(why, sizeof why, "%s%s%s",
				 ev == EB_WSC_CLOSE ? "closed by the server" :
				 ev == EB_WSC_EOF ? "connection lost" : "protocol error",
				 msg.data[0] ? ": " : "", msg.data);
			eb_wsc_msg_clear(&msg);
			cl_enter_polling(c, code, why);
			return;
		}
		eb_wsc_msg_clear(&msg);
	}
}

/* Timers of the socket: attempt deadline, ping and pong, re-auth,
 * reconnect. */
static void cl_ws_timers(ebcl_client *c, uint64_t now)
{
	if (c->attempt_now) {
		c->attempt_now = false;
		cl_attempt(c);
		return;
	}
	if (c->state == EBCL_POLLING && c->reconnect_at != 0 &&
	    now >= c->reconnect_at) {
		cl_attempt(c);
		return;
	}
	if (c->ws == NULL)
		return;
	if (c->state == EBCL_CONNECTING && now >= c->attempt_deadline &&
	    !c->defects[EBCL_DEFECT_NO_ATTEMPT_DEADLINE]) {
		/* CLIENT-RECONNECT-4; what arrived during a stall first. */
		cl_ws_progress(c);
		if (c->ws == NULL || c->state != EBCL_CONNECTING)
			return;
		if (!c->ws_upgrading)
			(void)eb_wsc_send_close(c->ws, 1000, "attempt deadline", NULL);
		cl_enter_polling(c, 0, "no auth_ok or ack within the attempt deadline");
		return;
	}
	if (c->state != EBCL_LIVE)
		return;
	uint64_t ping_ms = ebcl_scaled(EBCL_PING_MS, c->scale);
	uint64_t pong_ms = ebcl_round_trip_ms(EBCL_PONG_MS, c->scale);
	if (c->defects[EBCL_DEFECT_PING_FLOOD]) {
		uint64_t every = ebcl_scaled(EBCL_DEFECT_PING_MS, c->scale);
		if (now >= c->last_ping + every) {
			char rid[24];
			char *msg = NULL;
			cl_next_rid(c, rid, sizeof rid, 'p');
			if (eb_ws_encode_ping(rid, &msg) == EB_OK)
				cl_ws_send(c, msg);
			c->last_ping = now;
		}
	} else if (!c->defects[EBCL_DEFECT_NO_SILENT_SOCKET_DETECTION]) {
		/* CLIENT-WS-6 */
		if (c->ping_sent_at != 0 && now >= c->ping_sent_at + pong_ms) {
			/* Read once more first: after a stall of this process
			 * the answer may be waiting unread. */
			cl_ws_progress(c);
			if (c->ws == NULL || c->ping_sent_at == 0)
				return;
			(void)eb_wsc_send_close(c->ws, 1000, "no pong", NULL);
			cl_enter_polling(c, 0, "silent socket: no answer to ping");
			return;
		}
		if (c->ping_sent_at == 0 && now >= c->last_rx + ping_ms) {
			char rid[24];
			char *msg = NULL;
			cl_next_rid(c, rid, sizeof rid, 'p');
			if (eb_ws_encode_ping(rid, &msg) == EB_OK)
				cl_ws_send(c, msg);
			/* The deadline counts from the send itself. */
			c->ping_sent_at = now_ms();
			c->last_ping = c->ping_sent_at;
		}
	}
}

static void cl_token_timer(ebcl_client *c)
{
	if (c->reauth_at_wall == 0 || c->defects[EBCL_DEFECT_NO_REAUTH])
		return;
	if (eb_time_now_ms() < c->reauth_at_wall)
		return;
	cl_fetch_token(c);   /* plans the next re-auth */
	if (c->ws != NULL && c->ws_authed) {
		char rid[24];
		char *msg = NULL;
		cl_next_rid(c, rid, sizeof rid, 'r');
		if (eb_ws_encode_auth(rid, c->token ? c->token : "", &msg) == EB_OK)
			cl_ws_send(c, msg);
		cl_log(c, "socket: re-auth with a fresh token");
	}
}

/* ---- scheduling of store requests ------------------------------------------------ */

static void cl_store_work(ebcl_client *c, store_ctl *sc, uint64_t now)
{
	bool parallel = c->defects[EBCL_DEFECT_PARALLEL_SYNCS];
	if (parallel && sc->pending_notes > 0 && c->state == EBCL_LIVE) {
		/* One read per notification, whatever runs. */
		while (sc->pending_notes > 0 && sc->inflight < 8) {
			sc->pending_notes--;
			cl_start_read(c, sc, false);
		}
		sc->notified = sc->st->known;
	}
	if (sc->inflight > 0)
		return;
	if (!ebcl_sched_may_request(&c->sched, now))
		return;
	if (sc->resync) {
		sc->resync = false;
		sc->paging = false;
		cl_start_read(c, sc, true);
		return;
	}
	if (sc->paging) {
		cl_start_read(c, sc, false);
		return;
	}
	if (now < sc->stalled_until)
		return;
	if (sc->st->n_queue > 0 && c->limits_known) {
		cl_start_push(c, sc);
		return;
	}
	bool notified = sc->notified > sc->st->known &&
		(c->state == EBCL_LIVE || c->state == EBCL_CONNECTING);
	if (sc->want_read || notified) {
		sc->want_read = false;
		if (!notified || sc->notified <= sc->st->known)
			sc->notified = 0;
		cl_start_read(c, sc, false);
		if (sc->extra_read) {
			sc->extra_read = false;
			sc->want_read = true;
		}
		return;
	}
	sc->notified = 0;
}

static void cl_work(ebcl_client *c)
{
	if (!c->started || c->state == EBCL_STOPPED)
		return;
	uint64_t now = now_ms();
	cl_token_timer(c);
	cl_ws_timers(c, now);
	now = now_ms();
	if (ebcl_sched_round_due(&c->sched, now)) {
		/* CLIENT-POLL-9: every open store once per round. */
		ebcl_sched_round_started(&c->sched, now);
		for (size_t i = 0; i < c->n_stores; i++) {
			c->stores[i].want_read = true;
			c->stores[i].extra_read =
				c->defects[EBCL_DEFECT_READS_TWICE_PER_ROUND];
		}
	}
	for (size_t i = 0; i < c->n_stores; i++)
		cl_store_work(c, &c->stores[i], now);
}

/* Milliseconds until the next timer of the client (max when none). */
static long cl_next_wait(ebcl_client *c, long max)
{
	if (!c->started || c->state == EBCL_STOPPED)
		return max;
	if (c->attempt_now)
		return 0;
	uint64_t now = now_ms();
	uint64_t d = ebcl_sched_next_deadline(&c->sched, now);
	if (c->state == EBCL_POLLING && c->reconnect_at != 0 && c->reconnect_at < d)
		d = c->reconnect_at;
	if (c->ws != NULL) {
		if (c->state == EBCL_CONNECTING && c->attempt_deadline < d)
			d = c->attempt_deadline;
		if (c->state == EBCL_LIVE) {
			uint64_t p = c->ping_sent_at
				? c->ping_sent_at + ebcl_round_trip_ms(EBCL_PONG_MS, c->scale)
				: c->last_rx + ebcl_scaled(EBCL_PING_MS, c->scale);
			if (c->defects[EBCL_DEFECT_PING_FLOOD])
				p = c->last_ping + ebcl_scaled(EBCL_DEFECT_PING_MS, c->scale);
			if (p < d)
				d = p;
		}
	}
	for (size_t i = 0; i < c->n_stores; i++) {
		uint64_t s = c->stores[i].stalled_until;
		if (s > now && s < d && c->stores[i].st->n_queue > 0)
			d = s;
	}
	if (c->reauth_at_wall != 0) {
		uint64_t w = eb_time_now_ms();
		uint64_t r = c->reauth_at_wall > w ? now + (c->reauth_at_wall - w) : now;
		if (r < d)
			d = r;
	}
	if (d == UINT64_MAX)
		return max;
	if (d <= now)
		return 0;
	uint64_t left = d - now;
	return left < (uint64_t)max ? (long)left : max;
}

/* ---- public API ------------------------------------------------------------------- */

ebcl_client *ebcl_client_new(const ebcl_config *cfg, char *err, size_t errlen)
{
	ebcl_client *c = NULL;
	eb_err e;
	if (cfg == NULL || cfg->url == NULL) {
		snprintf(err, errlen, "no url");
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto nomem;
	c->cfg = *cfg;
	if (eb_url_parse(cfg->url, &c->url, &e) != EB_OK) {
		snprintf(err, errlen, "bad url %s: %s", cfg->url, e.msg);
		goto fail;
	}
	c->url_text = strdup(cfg->url);
	if (c->url_text == NULL)
		goto nomem;
	c->cfg.url = c->url_text;
	if (cfg->tls.cacert != NULL && (c->cacert = strdup(cfg->tls.cacert)) == NULL)
		goto nomem;
	c->cfg.tls.cacert = c->cacert;
	if (c->url.tls && eb_tls_ctx_new(&c->cfg.tls, &c->tls, &e) != EB_OK) {
		snprintf(err, errlen, "%s", e.msg);
		goto fail;
	}
	if (cfg->data_file != NULL) {
		c->data_path = strdup(cfg->data_file);
		if (c->data_path == NULL)
			goto nomem;
		c->cfg.data_file = c->data_path;
		c->db = ebcl_db_open(cfg->data_file, err, errlen);
		if (c->db == NULL)
			goto fail;
	}
	c->scale = cfg->clock_scale > 0 ? cfg->clock_scale : 1.0;
	c->max_changes = 500;
	c->state = EBCL_STOPPED;
	c->rng = cfg->seed;
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memset(rnd, 0x5a, sizeof rnd);
	if (c->rng == 0)
		memcpy(&c->rng, rnd, sizeof c->rng);
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ULL;
	snprintf(c->id_prefix, sizeof c->id_prefix, "%02x%02x%02x%02x%02x%02x",
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	c->multi = curl_multi_init();
	if (c->multi == NULL)
		goto nomem;
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 16L);
	ebcl_sched_init(&c->sched, c->scale, cfg->activity, 0);
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	ebcl_client_free(c);
	return NULL;
}

void ebcl_client_stop(ebcl_client *c)
{
	if (c == NULL)
		return;
	while (c->reqs != NULL) {
		ebcl_req *r = c->reqs;
		c->reqs = r->next;
		cl_req_free(r);
	}
	for (size_t i = 0; i < c->n_stores; i++)
		c->stores[i].inflight = 0;
	if (c->ws != NULL) {
		if (!c->ws_upgrading)
			(void)eb_wsc_send_close(c->ws, 1000, "client stopped", NULL);
		eb_wsc_free(c->ws);
		c->ws = NULL;
		c->ws_upgrading = false;
	}
	if (c->started)
		cl_set_state(c, EBCL_STOPPED);
	c->state = EBCL_STOPPED;
}

void ebcl_client_free(ebcl_client *c)
{
	if (c == NULL)
		return;
	ebcl_client_stop(c);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->n_stores; i++)
		ebcl_store_free(c->stores[i].st);
	free(c->stores);
	ebcl_db_close(c->db);
	free(c->token);
	free(c->url_text);
	free(c->data_path);
	free(c->cacert);
	eb_tls_ctx_free(c->tls);
	free(c);
}

void ebcl_client_defect(ebcl_client *c, ebcl_defect d)
{
	if (c == NULL || (int)d < 0 || d >= EBCL_DEFECT_COUNT)
		return;
	c->defects[d] = true;
	unsigned f = 0;
	if (c->defects[EBCL_DEFECT_NO_BACKOFF])
		f |= EBCL_SF_NO_BACKOFF;
	if (c->defects[EBCL_DEFECT_BACKOFF_NO_CAP])
		f |= EBCL_SF_BACKOFF_NO_CAP;
	if (c->defects[EBCL_DEFECT_BACKOFF_NO_RESET])
		f |= EBCL_SF_BACKOFF_NO_RESET;
	if (c->defects[EBCL_DEFECT_IGNORES_RETRY_AFTER])
		f |= EBCL_SF_IGNORE_RETRY_AFTER;
	if (c->defects[EBCL_DEFECT_IGNORES_ACTIVITY])
		f |= EBCL_SF_IGNORE_ACTIVITY;
	if (c->defects[EBCL_DEFECT_ACTIVITY_CHANGE_LATE])
		f |= EBCL_SF_ACTIVITY_LATE;
	c->sched.flags = f;
	c->sched.round_interval = ebcl_sched_interval(&c->sched);
}

bool ebcl_defect_on(const ebcl_client *c, ebcl_defect d)
{
	return c != NULL && (int)d >= 0 && d < EBCL_DEFECT_COUNT && c->defects[d];
}

int ebcl_client_start(ebcl_client *c, char *err, size_t errlen)
{
	if (c->started) {
		snprintf(err, errlen, "already started");
		return -1;
	}
	c->started = true;
	c->state = EBCL_CONNECTING;
	if (c->cfg.cb.state != NULL)
		c->cfg.cb.state(c->cfg.cb.ud, EBCL_CONNECTING);
	cl_fetch_token(c);
	cl_start_limits(c);
	if (c->defects[EBCL_DEFECT_POLLS_WHILE_LIVE])
		ebcl_sched_start_polling(&c->sched, now_ms());
	/* subscribe-before-auth-ok needs a store to subscribe ahead of auth:
	 * its first attempt waits for the first open. */
	if (c->defects[EBCL_DEFECT_SUBSCRIBE_BEFORE_AUTH_OK] && c->n_stores == 0)
		c->defer_attempt = true;
	else
		c->attempt_now = true;   /* in the next step: start never waits */
	return 0;
}

int ebcl_client_open(ebcl_client *c, const char *store, char *err, size_t errlen)
{
	if (store == NULL || !eb_store_id_valid(store, strlen(store))) {
		snprintf(err, errlen, "invalid store id");
		return -1;
	}
	if (cl_find(c, store) != NULL)
		return 0;
	if (c->n_stores >= EBCL_MAX_STORES) {
		snprintf(err, errlen, "too many stores (%u)", EBCL_MAX_STORES);
		return -1;
	}
	if (c->n_stores == c->cap_stores) {
		size_t cap = c->cap_stores ? c->cap_stores * 2 : 8;
		store_ctl *ns = realloc(c->stores, cap * sizeof *ns);
		if (ns == NULL)
			goto nomem;
		c->stores = ns;
		c->cap_stores = cap;
	}
	ebcl_store *st = ebcl_store_new(store);
	if (st == NULL)
		goto nomem;
	if (c->db != NULL) {
		eb_change *arr = NULL;
		size_t n = 0;
		if (ebcl_db_load(c->db, store, EBCL_MAX_QUEUE, &arr, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (ebcl_store_enqueue(st, &arr[i]) != 0)
					eb_change_clear(&arr[i]);
			free(arr);
			if (n > 0)
				cl_log(c, "store %s: %zu queued changes from %s",
				       store, n, c->data_path);
		}
	}
	store_ctl *sc = &c->stores[c->n_stores++];
	memset(sc, 0, sizeof *sc);
	sc->st = st;
	if (c->state == EBCL_POLLING) {
		sc->want_read = true;   /* its first read */
	} else if (c->ws != NULL && c->ws_authed) {
		/* On the open socket (CLIENT-WS-4); the ack says whether to
		 * read. While connecting it also holds back live. */
		store_ctl *one[1] = { sc };
		cl_subscribe(c, one, 1, c->state == EBCL_CONNECTING);
	}
	if (c->defer_attempt) {
		c->defer_attempt = false;
		c->attempt_now = true;
	}
	/* Before start or before auth_ok: cl_subscribe_all includes it, and
	 * its ack (or the catch-up of a failed attempt) makes it read. */
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int ebcl_client_change(ebcl_client *c, const char *store,
		       const char *const *path, size_t n, const cJSON *value,
		       char *id_out, uint64_t *ts_out, char *err, size_t errlen)
{
	store_ctl *sc = cl_find(c, store);
	if (sc == NULL) {
		snprintf(err, errlen, "store %s is not open", store);
		return -1;
	}
	if (n < 1 || n > 32) {
		snprintf(err, errlen, "a path has 1 to 32 segments");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = path[i] ? strlen(path[i]) : 0;
		if (l < 1 || l > 256 || !eb_utf8_valid(path[i], l)) {
			snprintf(err, errlen, "path segment %zu: 1 to 256 bytes of UTF-8", i);
			return -1;
		}
	}
	eb_change ch;
	memset(&ch, 0, sizeof ch);
	ch.id = cl_new_id(c);
	ch.timestamp = eb_time_now_ms();
	ch.op = value ? EB_OP_SET : EB_OP_DELETE;
	ch.path = calloc(n, sizeof *ch.path);
	ch.path_len = n;
	if (ch.id == NULL || ch.path == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if ((ch.path[i] = strdup(path[i])) == NULL)
			goto nomem;
	if (value != NULL && (ch.value = cJSON_Duplicate(value, true)) == NULL)
		goto nomem;
	if (id_out != NULL)
		snprintf(id_out, 64, "%s", ch.id);
	if (ts_out != NULL)
		*ts_out = ch.timestamp;
	if (c->db != NULL && ebcl_db_add(c->db, store, &ch) != 0) {
		snprintf(err, errlen, "cannot write the queue file");
		eb_change_clear(&ch);
		return -1;
	}
	if (ebcl_store_enqueue(sc->st, &ch) != 0) {
		snprintf(err, errlen, "queue full");
		if (c->db != NULL)
			(void)ebcl_db_remove(c->db, store, ch.id);
		eb_change_clear(&ch);
		return -1;
	}
	cl_changed(c, sc->st);
	return 0;
nomem:
	eb_change_clear(&ch);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void ebcl_client_set_activity(ebcl_client *c, ebcl_activity a)
{
	ebcl_sched_set_activity(&c->sched, a, now_ms());
}

cJSON *ebcl_client_state(ebcl_client *c, const char *store)
{
	store_ctl *sc = cl_find(c, store);
	if (sc == NULL)
		return NULL;
	cJSON *out = NULL;
	if (ebcl_store_state(sc->st, c->defects[EBCL_DEFECT_MERGE_BY_ARRIVAL],
			     &out) != 0)
		return NULL;
	return out;
}

uint64_t ebcl_client_version(const ebcl_client *c, const char *store)
{
	store_ctl *sc = cl_find(c, store);
	return sc ? sc->st->known : 0;
}

size_t ebcl_client_pending(const ebcl_client *c, const char *store)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_stores; i++)
		if (store == NULL || strcmp(c->stores[i].st->id, store) == 0)
			n += c->stores[i].st->n_queue;
	return n;
}

bool ebcl_client_quiet(const ebcl_client *c)
{
	if (ebcl_client_pending(c, NULL) > 0)
		return false;
	for (const ebcl_req *r = c->reqs; r != NULL; r = r->next)
		if (r->kind != REQ_LIMITS)
			return false;
	return true;
}

ebcl_conn ebcl_client_conn_state(const ebcl_client *c)
{
	return c->state;
}

const char *ebcl_conn_name(ebcl_conn s)
{
	switch (s) {
	case EBCL_CONNECTING: return "connecting";
	case EBCL_LIVE: return "live";
	case EBCL_POLLING: return "polling";
	case EBCL_STOPPED: return "stopped";
	}
	return "?";
}

bool ebcl_activity_parse(const char *s, ebcl_activity *out)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "active") == 0)
		*out = EBCL_ACTIVE;
	else if (strcmp(s, "idle") == 0)
		*out = EBCL_IDLE;
	else if (strcmp(s, "background") == 0)
		*out = EBCL_BACKGROUND;
	else
		return false;
	return true;
}

int ebcl_client_step(ebcl_client *c, struct pollfd *extra, size_t n_extra,
		     long max_wait_ms)
{
	struct curl_waitfd wfd[17];
	size_t nw = 0;
	if (n_extra > 16)
		n_extra = 16;
	for (size_t i = 0; i < n_extra; i++) {
		extra[i].revents = 0;
		wfd[nw].fd = extra[i].fd;
		wfd[nw].events = (short)((extra[i].events & POLLIN ? CURL_WAIT_POLLIN : 0) |
				(extra[i].events & POLLOUT ? CURL_WAIT_POLLOUT : 0) |
				(extra[i].events & POLLPRI ? CURL_WAIT_POLLPRI : 0));
		wfd[nw].revents = 0;
		nw++;
	}
	long wait = max_wait_ms < 0 ? 0 : max_wait_ms;
	cl_http_resume(c);
	cl_work(c);
	wait = cl_next_wait(c, wait);
	if (c->paused)
		wait = 0;   /* paused transfers hold data: no sleeping on them */
	bool ws_open = c->ws != NULL && c->state != EBCL_STOPPED;
	if (ws_open) {
		if (!c->ws_upgrading && eb_wsc_pending(c->ws))
			wait = 0;
		wfd[nw].fd = eb_wsc_fd(c->ws);
		wfd[nw].events = c->ws_upgrading &&
			(eb_wsc_connect_events(c->ws) & POLLOUT)
			? CURL_WAIT_POLLOUT : CURL_WAIT_POLLIN;
		wfd[nw].revents = 0;
		nw++;
	}
	long ct = -1;
	if (c->reqs != NULL && curl_multi_timeout(c->multi, &ct) == CURLM_OK &&
	    ct >= 0 && ct < wait)
		wait = ct;
	int numfds = 0;
	CURLMcode mc = curl_multi_poll(c->multi, wfd, (unsigned)nw,
				       (int)(wait > 0x7fffffff ? 0x7fffffff : wait),
				       &numfds);
	/* curl reports POLLIN/OUT/PRI only (no POLLHUP: a closed pipe would
	 * never show); ask poll itself, without waiting. */
	int hits = 0;
	if (n_extra > 0) {
		int pr;
		do {
			pr = poll(extra, (nfds_t)n_extra, 0);
		} while (pr < 0 && errno == EINTR);
		hits = pr > 0 ? pr : 0;
	}
	if (c->started && c->state != EBCL_STOPPED) {
		cl_http_progress(c);
		if (c->ws != NULL)
			cl_ws_progress(c);
		cl_work(c);
	}
	if (mc != CURLM_OK) {
		errno = EIO;
		return -1;
	}
	return hits;
}
