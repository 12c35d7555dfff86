/*
 * proto_http.c — the HTTP side of ebmock on lws: collects the request head
 * and body, hands them to the core (ebm_http_begin / ebm_http_finish) and
 * writes the answer from the WRITEABLE callback, in bounded chunks. Scripted
 * delays use the wsi timer, never a sleep; a stalled request simply never
 * asks for WRITEABLE.
 */
#include "ebmock.h"
#include "core/ebm_evlog.h"
#include "core/ebm_backend.h"
#include "eb_ids.h"

#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_CHUNK 16384
#define HTTP_LINGER_S 2        /* at most this long reading a refused body */
#define HTTP_HDR_MAX 2048

typedef struct http_pss {
	ebm_http_ctx *ctx;
	ebm_http_ctx *pending;    /* waits for the database (--backend) */
	char *path;
	char *query;
	char *auth;
	char *ctype;
	const char *method;
	int64_t clen;
	char *body;               /* request body being read */
	size_t body_len, body_cap;
	bool body_refused;        /* 413 decided while reading */
	bool chunked;             /* lws hands chunked bodies over undecoded */
	bool close_after;         /* body left unread, chunked, or asked for */
	bool has_body;            /* Content-Length > 0 or Transfer-Encoding */
	bool body_end;            /* the whole request body was read */
	bool lingering;           /* answered and half-closed: dropping the rest */
	uint8_t ck_state;
	bool ck_line_empty;
	uint64_t ck_left;
	size_t charged;           /* body buffer + response, on the memory budget */
	ebm_http_resp resp;
	size_t sent;
	bool have_resp;
	bool headers_sent;
	uint64_t t0;
	uint64_t t0_us;           /* arrival, for the event log */
	char addr[48];
	ebm_server *srv;          /* set while p->charged may be non-zero */
	/* in the glue's list of requests waiting for their body */
	struct http_pss *bnext, *bprev;
	struct lws *bwsi;
	uint64_t body_deadline_ms;
	bool in_body_list;
} http_pss;

size_t ebmock_http_pss_size(void)
{
	return sizeof(http_pss);
}

ebmock_glue *ebmock_glue_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

uint64_t ebmock_conn_of(struct lws *wsi)
{
	uint64_t n = (uint64_t)(uintptr_t)lws_get_opaque_user_data(wsi);
	if (!n) {
		/* numbered at its first request (lws sets the pointer itself
		 * while adopting the socket, after WSI_CREATE) */
		n = ++ebmock_glue_of(wsi)->last_conn;
		lws_set_opaque_user_data(wsi, (void *)(uintptr_t)n);
	}
	return n;
}

static const struct {
	enum lws_token_indexes tok;
	const char *name;
} http_methods[] = {
	{ WSI_TOKEN_GET_URI, "GET" },
	{ WSI_TOKEN_POST_URI, "POST" },
	{ WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
	{ WSI_TOKEN_PUT_URI, "PUT" },
	{ WSI_TOKEN_PATCH_URI, "PATCH" },
	{ WSI_TOKEN_DELETE_URI, "DELETE" },
	{ WSI_TOKEN_HEAD_URI, "HEAD" },
};

static const char *http_method(struct lws *wsi, enum lws_token_indexes *tok)
{
	for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++)
		if (lws_hdr_total_length(wsi, http_methods[i].tok) > 0) {
			if (tok)
				*tok = http_methods[i].tok;
			return http_methods[i].name;
		}
	return NULL;
}

static char *hdr_dup(struct lws *wsi, enum lws_token_indexes t)
{
	int n = lws_hdr_total_length(wsi, t);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	if (lws_hdr_copy(wsi, s, n + 1, t) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* lws splits the query at '&' into fragments; join them back. */
static char *query_dup(struct lws *wsi)
{
	int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	if (total <= 0)
		return NULL;
	size_t cap = (size_t)total + 64;
	char *q = malloc(cap);
	size_t len = 0;
	if (!q)
		return NULL;
	q[0] = '\0';
	for (int i = 0;; i++) {
		char frag[1024];
		int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		if (len + (size_t)n + 2 > cap) {
			cap = (len + (size_t)n + 2) * 2;
			char *nq = realloc(q, cap);
			if (!nq) {
				free(q);
				return NULL;
			}
			q = nq;
		}
		if (i)
			q[len++] = '&';
		memcpy(q + len, frag, (size_t)n);
		len += (size_t)n;
		q[len] = '\0';
	}
	return q;
}

static void http_fill_req(http_pss *p, ebm_http_req *req, bool with_body)
{
	memset(req, 0, sizeof *req);
	req->method = p->method;
	req->path = p->path ? p->path : "";
	req->path_len = strlen(req->path);
	req->query = p->query;
	req->query_len = p->query ? strlen(p->query) : 0;
	req->authorization = p->auth;
	req->content_type = p->ctype;
	req->content_length = p->clen;
	req->remote_addr = p->addr;
	if (with_body) {
		req->body = p->body ? p->body : "";
		req->body_len = p->body_len;
	}
}

static void body_wait_end(http_pss *p)
{
	if (!p->in_body_list || !p->bwsi)
		return;
	ebmock_glue *g = ebmock_glue_of(p->bwsi);
	if (p->bprev)
		p->bprev->bnext = p->bnext;
	else
		g->body_first = p->bnext;
	if (p->bnext)
		p->bnext->bprev = p->bprev;
	else
		g->body_last = p->bprev;
	p->bnext = p->bprev = NULL;
	p->in_body_list = false;
}

static void body_sweep(lws_sorted_usec_list_t *sul);

static void body_sweep_arm(ebmock_glue *g)
{
	if (g->body_sul_armed || !g->body_first)
		return;
	uint64_t now = ebm_mono_ms(), d = g->body_first->body_deadline_ms;
	g->body_sul_armed = true;
	lws_sul_schedule(g->ctx, 0, &g->body_sul, body_sweep,
			 (lws_usec_t)(d > now ? d - now : 1) * 1000);
}

/* The body deadline (not restarted by each byte, unlike lws's own
 * timeout): the requests past it are closed without an answer (a client
 * this slow would not read one either). */
static void body_sweep(lws_sorted_usec_list_t *sul)
{
	ebmock_glue *g = lws_container_of(sul, ebmock_glue, body_sul);
	uint64_t now = ebm_mono_ms();
	g->body_sul_armed = false;
	while (g->body_first && g->body_first->body_deadline_ms <= now) {
		http_pss *p = g->body_first;
		struct lws *wsi = p->bwsi;
		body_wait_end(p);
		ebm_metrics_refusal(g->srv, EBM_REFUSE_BODY_TIMEOUT);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	body_sweep_arm(g);
}

static void body_wait_begin(struct lws *wsi, http_pss *p)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	p->bwsi = wsi;
	p->body_deadline_ms = ebm_mono_ms() + ebm_server_config(g->srv)->body_timeout_ms;
	p->bprev = g->body_last;
	p->bnext = NULL;
	if (g->body_last)
		g->body_last->bnext = p;
	else
		g->body_first = p;
	g->body_last = p;
	p->in_body_list = true;
	body_sweep_arm(g);
}

static void http_pss_clear(http_pss *p)
{
	body_wait_end(p);
	ebm_http_ctx_free(p->ctx);
	ebm_http_ctx_free(p->pending);
	free(p->path);
	free(p->query);
	free(p->auth);
	free(p->ctype);
	free(p->body);
	ebm_http_resp_clear(&p->resp);
	if (p->charged && p->srv)
		ebm_mem_give(p->srv, p->charged);
	memset(p, 0, sizeof *p);
}

static void http_log(ebmock_glue *g, const http_pss *p, int status, size_t bytes)
{
	if (g->quiet)
		return;
	double ms = (double)(ebm_mono_ms() - p->t0);
	fprintf(stderr, "%s %s%s%s %d %zu %.0fms\n", p->method ? p->method : "?",
		p->path ? p->path : "?", p->query ? "?" : "", p->query ? p->query : "",
		status, bytes, ms);
}

/* A query parameter whose name looks like a credential: its value is not
 * written to the event log. */
static bool query_name_secret(const char *name, size_t n)
{
	static const char *const words[] = { "token", "jwt", "auth", "secret", "key",
					     "password", "sig" };
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(name + i, words[w], wl) == 0)
				return true;
	}
	return false;
}

/* The query with the values of credential-like parameters replaced. */
static char *query_redacted(const char *q)
{
	size_t ql = strlen(q);
	char *out = malloc(ql * 2 + 16);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i <= ql;) {
		size_t j = i;
		while (j < ql && q[j] != '&')
			j++;
		const char *eq = memchr(q + i, '=', j - i);
		if (o)
			out[o++] = '&';
		if (eq && query_name_secret(q + i, (size_t)(eq - (q + i)))) {
			size_t nl = (size_t)(eq - (q + i)) + 1;
			memcpy(out + o, q + i, nl);
			o += nl;
			memcpy(out + o, "REDACTED", 8);
			o += 8;
		} else {
			memcpy(out + o, q + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	out[o] = '\0';
	return out;
}

/* The "http" line of the event log for the answer in p->resp (status 0:
 * the connection was closed without one). Admin, health and metrics are
 * not logged (the admin actions have their own lines). */
static void http_event(struct lws *wsi, const http_pss *p, int status)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	ebm_evlog *l = ebm_evlog_of(g->srv);
	const ebm_http_resp *r = &p->resp;
	ebm_ev e;

	if (r->route == EBM_R_ADMIN || r->route == EBM_R_HEALTHZ || r->route == EBM_R_METRICS)
		return;
	if (!ebm_ev_begin(l, &e, "http"))
		return;
	ebm_ev_uint(&e, "conn", ebmock_conn_of(wsi));
	ebm_ev_time(&e, "t0", p->t0_us);
	ebm_ev_str(&e, "method", p->method);
	ebm_ev_str(&e, "path", p->path);
	char *q = p->query ? query_redacted(p->query) : NULL;
	ebm_ev_str(&e, "query", q);
	free(q);
	if (r->route == EBM_R_SYNC || r->route == EBM_R_CHANGES) {
		eb_route rt;
		eb_route_parse(p->path, strlen(p->path), &rt);
		ebm_ev_str(&e, "store", rt.store_id_ok ? rt.store_id : NULL);
	}
	ebm_ev_int(&e, "status", status);
	if ((status < 200 || status > 299) && r->ev.code)
		ebm_ev_str(&e, "code", r->ev.code);
	ebm_ev_str(&e, "subject", r->ev.subject);
	if (r->ev.has_lkv)
		ebm_ev_uint(&e, "lkv", r->ev.lkv);
	if (r->ev.change_ids)
		ebm_ev_raw(&e, "changeIds", r->ev.change_ids);
	if (r->ev.has_page) {
		ebm_ev_uint(&e, "n", r->ev.n);
		ebm_ev_uint(&e, "currentVersion", r->ev.current_version);
		ebm_ev_bool(&e, "hasMore", r->ev.has_more);
	}
	if (r->ev.fault)
		ebm_ev_str(&e, "fault", r->ev.fault);
	ebm_ev_end(l, &e);
}

/* The core left the request waiting for the database (--backend): keep
 * its context; ebmock_http_wake or the deadline's timer resumes it. */
static bool http_park(struct lws *wsi, http_pss *p)
{
	ebm_server *srv = ebmock_glue_of(wsi)->srv;
	p->pending = ebm_http_pending_take(srv, wsi);
	if (!p->pending)
		return false;
	uint64_t now = ebm_mono_ms(), dl = ebm_http_ctx_deadline_ms(p->pending);
	lws_set_timer_usecs(wsi, (lws_usec_t)(dl > now ? dl - now : 1) * 1000);
	return true;
}

/* The response is decided: keep it and ask for WRITEABLE (now, after the
 * fault delay, or never when stalled). */
static int http_respond(struct lws *wsi, http_pss *p)
{
	ebm_server *srv = ebmock_glue_of(wsi)->srv;
	if (http_park(wsi, p))
		return 0;
	p->have_resp = true;
	if (p->resp.reset) {
		/* the httpResetMs fault: no answer at all, a network error */
		http_event(wsi, p, 0);
		ebm_metrics_http(srv, p->resp.route, 0);
		return -1;
	}
	if (p->resp.stall) {
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		return 0;
	}
	/* the answer is held until the client has read it: on the budget
	 * (forced: it is decided, a commit may stand behind it) */
	ebm_mem_force(srv, p->resp.body_len);
	p->charged += p->resp.body_len;
	p->srv = srv;
	ebm_metrics_http(srv, p->resp.route, p->resp.status);
	if (p->resp.delay_ms) {
		lws_set_timer_usecs(wsi, (lws_usec_t)p->resp.delay_ms * 1000);
		return 0;
	}
	body_wait_end(p);
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_add_header(struct lws *wsi, const char *name, const char *val,
			   unsigned char **pp, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)val, (int)strlen(val), pp, end);
}

/* Writes status line and headers of r into buf (LWS_PRE reserved in front). */
static int http_headers(struct lws *wsi, const ebm_http_resp *r, bool close,
			unsigned char *start, unsigned char *end)
{
	unsigned char *pp = start;
	char num[24];
	if (lws_add_http_common_headers(wsi, (unsigned int)r->status,
					r->content_type ? r->content_type : "application/json",
					(lws_filepos_t)r->body_len, &pp, end))
		return -1;
	if (r->allow[0] && http_add_header(wsi, "Allow:", r->allow, &pp, end))
		return -1;
	if (r->www_authenticate[0] &&
	    http_add_header(wsi, "WWW-Authenticate:", r->www_authenticate, &pp, end))
		return -1;
	if (r->retry_after_s) {
		snprintf(num, sizeof num, "%u", r->retry_after_s);
		if (http_add_header(wsi, "Retry-After:", num, &pp, end))
			return -1;
	}
	if (http_add_header(wsi, "Cache-Control:", "no-store", &pp, end))
		return -1;
	if (close && http_add_header(wsi, "Connection:", "close", &pp, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &pp, end))
		return -1;
	return 0;
}

static int http_writeable(struct lws *wsi, http_pss *p)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	if (!p->have_resp || p->resp.stall)
		return 0;
	if (!p->headers_sent) {
		unsigned char buf[LWS_PRE + HTTP_HDR_MAX];
		if (http_headers(wsi, &p->resp, p->close_after, buf + LWS_PRE, buf + sizeof buf))
			return -1;
		p->headers_sent = true;
		if (p->method && strcmp(p->method, "HEAD") == 0)
			p->sent = p->resp.body_len;   /* HEAD: headers only */
		if (p->sent < p->resp.body_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	size_t left = p->resp.body_len - p->sent;
	size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
	bool fin = n == left;
	/* a chunk at a time from the response: no second copy of it */
	unsigned char chunk[LWS_PRE + HTTP_CHUNK];
	if (n) {
		memcpy(chunk + LWS_PRE, p->resp.body + p->sent, n);
		if (lws_write(wsi, chunk + LWS_PRE, n,
			      fin ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
			return -1;
	}
	p->sent += n;
	if (!fin) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	http_log(g, p, p->resp.status, p->resp.body_len);
	http_event(wsi, p, p->resp.status);
	/* keep-alive: the next request on this connection starts clean; clear
	 * first, lws may free the pss while completing the transaction */
	bool close_now = p->close_after;
	bool body_left = p->has_body && !p->body_end;
	http_pss_clear(p);
	if (close_now && body_left) {
		/* answered before the request body was read (413, 401, ...):
		 * closing with unread data resets the connection and the client
		 * may lose the answer (RFC 9112 9.6), so half-close, drop what
		 * still arrives, and close when it ends or after a moment */
		p->lingering = true;
		shutdown(lws_get_socket_fd(wsi), SHUT_WR);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, HTTP_LINGER_S);
		return 0;
	}
	if (close_now)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void http_collect_head(struct lws *wsi, http_pss *p, const char *path)
{
	char cl[32];
	http_pss_clear(p);
	p->t0 = ebm_mono_ms();
	p->t0_us = ebm_evlog_now_us();
	p->method = http_method(wsi, NULL);
	p->path = strdup(path ? path : "");
	p->query = query_dup(wsi);
	p->auth = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	p->ctype = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
	p->clen = -1;
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		char *end = NULL;
		unsigned long long v = strtoull(cl, &end, 10);
		if (end && *end == '\0' && cl[0] >= '0' && cl[0] <= '9')
			p->clen = (int64_t)(v > INT64_MAX ? INT64_MAX : v);
	}
	if (!lws_get_peer_simple(wsi, p->addr, sizeof p->addr))
		snprintf(p->addr, sizeof p->addr, "unknown");
	char conn[64];
	p->has_body = p->clen > 0 ||
		      lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	if (lws_hdr_copy(wsi, conn, sizeof conn, WSI_TOKEN_CONNECTION) > 0 &&
	    strcasestr(conn, "close"))
		p->close_after = true;
}

static int http_on_request(struct lws *wsi, http_pss *p, const char *path)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	ebm_http_req req;

	http_collect_head(wsi, p, path);
	http_fill_req(p, &req, false);
	ebm_http_step st = ebm_http_begin(g->srv, &req, &p->ctx, &p->resp);
	bool body_method = p->method && (strcmp(p->method, "POST") == 0 ||
					  strcmp(p->method, "PUT") == 0 ||
					  strcmp(p->method, "PATCH") == 0);
	if ((st != EBM_HTTP_NEED_BODY &&
	     (p->clen > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)) ||
	    (body_method && p->clen < 0))
		/* answered before the body, or lws cannot tell where the body
		 * ends: do not let it read the next request as body */
		p->close_after = true;
	if (st == EBM_HTTP_NEED_BODY) {
		if (p->clen < 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
			/* lws does not frame chunked request bodies: decode them
			 * here and close afterwards */
			p->chunked = true;
			p->close_after = true;
		}
		if ((p->clen > 0 || p->chunked) && ebm_mem_spent(g->srv)) {
			/* no memory left for bodies: answer before reading */
			p->close_after = true;
			ebm_http_ctx_free(p->ctx);
			p->ctx = NULL;
			ebm_http_refuse_busy(g->srv, &p->resp);
			return http_respond(wsi, p);
		}
		if (p->clen > 0 || p->chunked) {
			/* the whole body within body_timeout_ms of the head: lws's
			 * own timeout restarts with every byte (a drip of one byte
			 * a second kept a body open for ever) */
			body_wait_begin(wsi, p);
			return 0;   /* body callbacks follow */
		}
		http_fill_req(p, &req, true);
		ebm_http_finish(g->srv, p->ctx, &req, &p->resp);
		p->ctx = NULL;
	} else if (st == EBM_HTTP_DONE && p->resp.status == 200 &&
		   p->resp.route == EBM_R_CHANGES && ebm_mem_spent(g->srv)) {
		/* a page (up to max-page-limit changes) held for a client that
		 * may not read it: not while the budget is spent */
		ebm_http_refuse_busy(g->srv, &p->resp);
	} else if (st == EBM_HTTP_UPGRADE) {
		/* a plain request cannot upgrade; the core only says so for
		 * upgrade requests, which lws routes elsewhere */
		ebm_http_resp_clear(&p->resp);
		p->resp.status = 400;
		p->resp.body = strdup("{\"code\":\"INVALID_REQUEST\",\"message\":\"upgrade expected\"}");
		p->resp.body_len = p->resp.body ? strlen(p->resp.body) : 0;
		p->resp.content_type = "application/json";
	}
	return http_respond(wsi, p);
}

enum { CK_SIZE = 0, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER, CK_DONE };

static int http_append(struct lws *wsi, http_pss *p, const void *in, size_t len);

/* Decodes chunked transfer coding in place of lws; a malformed framing just
 * ends the body (the JSON check then answers 400). true when complete. */
static bool http_dechunk(struct lws *wsi, http_pss *p, const unsigned char *in, size_t len,
			 int *rc)
{
	*rc = 0;
	for (size_t i = 0; i < len && p->ck_state != CK_DONE; i++) {
		unsigned char ch = in[i];
		switch (p->ck_state) {
		case CK_SIZE: {
			int v = ch >= '0' && ch <= '9' ? ch - '0'
				: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
				: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
			if (v >= 0 && p->ck_left < (1ULL << 40))
				p->ck_left = p->ck_left * 16 + (uint64_t)v;
			else if (ch == ';' || ch == ' ' || ch == '\t')
				p->ck_state = CK_EXT;
			else if (ch == '\r')
				p->ck_state = CK_SIZE_LF;
			else
				p->ck_state = CK_DONE;
			break;
		}
		case CK_EXT:
			if (ch == '\r')
				p->ck_state = CK_SIZE_LF;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				p->ck_state = CK_DONE;
			else if (!p->ck_left) {
				p->ck_state = CK_TRAILER;
				p->ck_line_empty = true;
			} else
				p->ck_state = CK_DATA;
			break;
		case CK_DATA: {
			size_t n = len - i;
			if (n > p->ck_left)
				n = (size_t)p->ck_left;
			*rc = http_append(wsi, p, in + i, n);
			if (*rc || p->body_refused)
				return true;
			p->ck_left -= n;
			i += n - 1;
			if (!p->ck_left)
				p->ck_state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			p->ck_state = ch == '\r' ? CK_DATA_LF : CK_DONE;
			break;
		case CK_DATA_LF:
			p->ck_state = ch == '\n' ? CK_SIZE : CK_DONE;
			break;
		case CK_TRAILER:
			if (ch == '\n') {
				if (p->ck_line_empty)
					p->ck_state = CK_DONE;
				p->ck_line_empty = true;
			} else if (ch != '\r') {
				p->ck_line_empty = false;
			}
			break;
		default:
			break;
		}
	}
	return p->ck_state == CK_DONE;
}

static int http_on_body_done(struct lws *wsi, http_pss *p);

static int http_on_body(struct lws *wsi, http_pss *p, const void *in, size_t len)
{
	if (p->lingering)
		return 0;
	if (p->chunked && !p->body_refused && p->ctx) {
		int rc;
		/* body_end only at the real end: refused early (413, 503), the
		 * rest must still be read and dropped, or closing resets the
		 * connection and the client loses the answer */
		if (http_dechunk(wsi, p, in, len, &rc) && p->ck_state == CK_DONE) {
			p->body_end = true;
			if (!rc && !p->body_refused && p->ctx)
				return http_on_body_done(wsi, p);
		}
		return rc;
	}
	return http_append(wsi, p, in, len);
}

/* The memory budget is spent: 503 with Retry-After instead of reading the
 * body, and the connection closes after the answer (the rest of the body
 * is read and dropped, as after a 413). */
static int http_refuse_busy(struct lws *wsi, http_pss *p)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	p->body_refused = true;
	p->close_after = true;
	ebm_http_ctx_free(p->ctx);
	p->ctx = NULL;
	free(p->body);
	p->body = NULL;
	if (p->charged) {
		ebm_mem_give(g->srv, p->charged);
		p->charged = 0;
	}
	p->body_len = p->body_cap = 0;
	ebm_http_refuse_busy(g->srv, &p->resp);
	return http_respond(wsi, p);
}

static int http_append(struct lws *wsi, http_pss *p, const void *in, size_t len)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	if (p->body_refused || !p->ctx)
		return 0;
	uint64_t max = ebm_http_ctx_max_body(p->ctx);
	if ((uint64_t)p->body_len + len > max) {
		/* chunked or lying Content-Length: 413 without keeping more */
		p->body_refused = true;
		p->close_after = true;
		ebm_http_body_too_large(g->srv, p->ctx, &p->resp);
		p->ctx = NULL;
		free(p->body);
		p->body = NULL;
		ebm_mem_give(g->srv, p->charged);
		p->charged = 0;
		p->body_len = p->body_cap = 0;
		return http_respond(wsi, p);
	}
	if (p->body_len + len + 1 > p->body_cap) {
		/* grows with what arrived (never to the announced length at
		 * once: a client dripping a long body holds only what it sent),
		 * each growth charged to the memory budget */
		size_t ncap = p->body_cap ? p->body_cap : 4096;
		while (ncap < p->body_len + len + 1)
			ncap *= 2;
		if (p->clen > 0 && (uint64_t)p->clen + 1 < ncap &&
		    (uint64_t)p->clen + 1 >= p->body_len + len + 1)
			ncap = (size_t)p->clen + 1;
		if (!ebm_mem_take(g->srv, ncap - p->body_cap))
			return http_refuse_busy(wsi, p);
		p->charged += ncap - p->body_cap;
		p->srv = g->srv;
		char *nb = realloc(p->body, ncap);
		if (!nb)
			return -1;
		p->body = nb;
		p->body_cap = ncap;
	}
	memcpy(p->body + p->body_len, in, len);
	p->body_len += len;
	p->body[p->body_len] = '\0';
	return 0;
}

static int http_on_body_done(struct lws *wsi, http_pss *p)
{
	body_wait_end(p);   /* the body is in: its deadline no longer applies */
	ebmock_glue *g = ebmock_glue_of(wsi);
	ebm_http_req req;
	if (p->body_refused || !p->ctx)
		return 0;
	http_fill_req(p, &req, true);
	ebm_http_finish(g->srv, p->ctx, &req, &p->resp);
	p->ctx = NULL;
	return http_respond(wsi, p);
}

/* The upgrade to the notification socket: the core decides (route, refuse-ws
 * fault, ...). lws wants a refusal written here, synchronously. */
int ebmock_confirm_upgrade(struct lws *wsi)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	ebm_http_req req;
	char path[256];
	int rc = 1;
	http_pss pss, *p = &pss;

	memset(&pss, 0, sizeof pss);

	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0)
		path[0] = '\0';
	http_collect_head(wsi, p, path);
	http_fill_req(p, &req, false);
	req.upgrade_ws = true;
	if (g->shutting_down) {
		http_pss_clear(p);
		return -1;
	}
	ebm_http_step st = ebm_http_begin(g->srv, &req, &p->ctx, &p->resp);
	if (st == EBM_HTTP_UPGRADE) {
		http_pss_clear(p);
		return 0;
	}
	ebm_http_ctx_free(p->ctx);
	p->ctx = NULL;
	if (p->resp.stall) {
		http_pss_clear(p);
		return -1;
	}
	size_t blen = p->resp.body_len;
	unsigned char *buf = malloc(LWS_PRE + HTTP_HDR_MAX + blen);
	if (!buf) {
		http_pss_clear(p);
		return -1;
	}
	if (http_headers(wsi, &p->resp, false, buf + LWS_PRE, buf + LWS_PRE + HTTP_HDR_MAX)) {
		rc = -1;
		goto out;
	}
	if (blen) {
		memcpy(buf + LWS_PRE, p->resp.body, blen);
		if (lws_write(wsi, buf + LWS_PRE, blen, LWS_WRITE_HTTP_FINAL) != (int)blen)
			rc = -1;
	}
	ebm_metrics_http(g->srv, p->resp.route, p->resp.status);
	http_log(g, p, p->resp.status, blen);
	{
		ebm_evlog *l = ebm_evlog_of(g->srv);
		ebm_ev e;
		if (ebm_ev_begin(l, &e, "ws_refused")) {
			ebm_ev_uint(&e, "conn", ebmock_conn_of(wsi));
			ebm_ev_time(&e, "t0", p->t0_us);
			ebm_ev_int(&e, "status", p->resp.status);
			if (p->resp.ev.code)
				ebm_ev_str(&e, "code", p->resp.ev.code);
			if (ebm_server_faults(g->srv)->refuse_ws)
				ebm_ev_str(&e, "fault", "refuse-ws");
			ebm_ev_end(l, &e);
		}
	}
out:
	free(buf);
	http_pss_clear(p);
	return rc;
}

void ebmock_http_wake(void *glue, void *user)
{
	(void)glue;
	lws_callback_on_writable(user);
}

/* A pending request's job is done (or its deadline came). */
static int http_resume(struct lws *wsi, http_pss *p)
{
	ebm_http_req req;
	http_fill_req(p, &req, true);
	if (!ebm_http_resume(ebmock_glue_of(wsi)->srv, p->pending, &req, &p->resp)) {
		uint64_t now = ebm_mono_ms(), dl = ebm_http_ctx_deadline_ms(p->pending);
		lws_set_timer_usecs(wsi, (lws_usec_t)(dl > now ? dl - now : 1) * 1000);
		return 0;
	}
	p->pending = NULL;
	return http_respond(wsi, p);
}

int ebmock_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	http_pss *p = user;
	ebmock_glue *g;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* wsi is the listen socket here, in the accepted fd */
		g = ebmock_glue_of(wsi);
		if (g->shutting_down || (g->max_conns && g->n_conns >= g->max_conns))
			return 1;
		if (!ebmock_accept_ok(g, wsi, (int)(intptr_t)in))
			return 1;
		return 0;
	case LWS_CALLBACK_WSI_CREATE:
		g = ebmock_glue_of(wsi);
		g->n_conns++;
		ebm_metrics_conn(g->srv, 1);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		g = ebmock_glue_of(wsi);
		if (g->n_conns)
			g->n_conns--;
		ebm_metrics_conn(g->srv, -1);
		return 0;
	case LWS_CALLBACK_HTTP:
		if (!p)
			return -1;
		return http_on_request(wsi, p, in);
	case LWS_CALLBACK_HTTP_BODY:
		if (!p)
			return -1;
		return http_on_body(wsi, p, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!p || p->lingering)
			return -1;   /* lingering: the rest was read, close now */
		p->body_end = true;
		return http_on_body_done(wsi, p);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* the database thread has results (--backend) */
		ebm_server_poll(ebmock_glue_of(wsi)->srv);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return ebmock_confirm_upgrade(wsi);
	case LWS_CALLBACK_TIMER:
		if (p && p->pending)
			return http_resume(wsi, p);
		if (p && p->have_resp)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!p)
			return -1;
		if (p->pending)
			return http_resume(wsi, p);
		return http_writeable(wsi, p);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (p)
			http_pss_clear(p);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
