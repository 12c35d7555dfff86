/*
 * fuzz_mock_handler.c — ebmock's socket-free core (mockserver/core) driven
 * by sequences of HTTP requests and WebSocket messages, against a fresh
 * in-memory server per input (so every finding replays exactly).
 *
 * Input: records separated by a line "====". A record is either
 *   an HTTP request:   "METHOD /path[?query]\n" header lines, "\n", body
 *                      (headers: Authorization, Content-Type, Upgrade; in
 *                      any header or body $VALID, $READONLY and $OTHER are
 *                      replaced by a read-write token, a read-only token and
 *                      a token for the stores "own*" only)
 *   a WebSocket text:  "WS " message   (binary frame: "WSB " message)
 *                      ($VALID etc. replaced as above)
 * Invariants (PROTOCOL.md):
 *  - no 5xx (the core's faults are off), status in 200..599;
 *  - every non-2xx has a JSON error body with a known code whose status is
 *    the response's (ERR-1, section 7's table) and Content-Type JSON (GEN-2);
 *    401 carries WWW-Authenticate: Bearer (ERR-4), 405 Allow (ERR-5), 429
 *    Retry-After (ERR-6);
 *  - a sync with valid auth whose body the library refuses is never 2xx;
 *  - a 200 of sync or the feed is a valid SYNC-4 response with at most
 *    `limit` changes, ascending versions above lastKnownVersion/since, and
 *    SYNC-7's toVersion when hasMore is false;
 *  - every WebSocket text the server writes is a valid server message; close
 *    codes are those of WS-CLOSE-2; a malformed message after auth closes
 *    with 4400 (WS-2), before auth with 4400 or 4401 (WS-AUTH-3);
 *  - at the end, the feed of every store written reads versions 1..N dense
 *    (VER-2).
 */
#include "../fuzz_common.h"

#include "../../mockserver/core/ebm_core.h"
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_msg.h"
#include "eb_ws.h"

#define FH_SECRET "fuzz-handler-secret"
#define FH_MAX_RECORDS 16
#define FH_MAX_STORES 8

/* Minted once: tokens are inputs, not what is fuzzed here. */
static char *fh_tok_valid, *fh_tok_readonly, *fh_tok_other;

static char *fh_mint(const char *const *read, size_t nr, const char *const *write,
		     size_t nw)
{
	eb_jwt_mint_opts o;
	char *tok = NULL;

	memset(&o, 0, sizeof(o));
	o.alg = EB_JWT_HS256;
	o.key = FH_SECRET;
	o.key_len = strlen(FH_SECRET);
	o.sub = "fuzzer";
	o.has_exp = true;
	o.exp = 4102444800; /* 2100-01-01 */
	o.read = read;
	o.n_read = nr;
	o.write = write;
	o.n_write = nw;
	if (eb_jwt_mint(&o, &tok, NULL) != EB_OK)
		abort();
	return tok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const all[] = { "*" };
	static const char *const own[] = { "own*" };

	(void)argc;
	(void)argv;
	fh_tok_valid = fh_mint(NULL, 0, all, 1);
	fh_tok_readonly = fh_mint(all, 1, NULL, 0);
	fh_tok_other = fh_mint(NULL, 0, own, 1);
	return 0;
}

/* Copy of s[0..n) with the token placeholders replaced; caller frees. */
static char *fh_expand(const char *s, size_t n, size_t *out_len)
{
	static const char *const names[] = { "$VALID", "$READONLY", "$OTHER" };
	const char *toks[] = { fh_tok_valid, fh_tok_readonly, fh_tok_other };
	size_t cap = n + 1, len = 0, i, k;
	char *out;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '$')
			cap += 1024;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (i = 0; i < n;) {
		for (k = 0; k < 3; k++) {
			size_t nl = strlen(names[k]);

			if (n - i >= nl && memcmp(s + i, names[k], nl) == 0) {
				memcpy(out + len, toks[k], strlen(toks[k]));
				len += strlen(toks[k]);
				i += nl;
				break;
			}
		}
		if (k == 3)
			out[len++] = s[i++];
	}
	out[len] = '\0';
	*out_len = len;
	return out;
}

typedef struct fh_state {
	ebm_server *srv;
	ebm_ws_session *ws;
	bool ws_authed;
	char stores[FH_MAX_STORES][EB_STORE_ID_MAX + 1];
	size_t n_stores;
} fh_state;

static void fh_note_store(fh_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n_stores; i++)
		if (strcmp(st->stores[i], id) == 0)
			return;
	if (st->n_stores < FH_MAX_STORES)
		snprintf(st->stores[st->n_stores++], EB_STORE_ID_MAX + 1, "%s", id);
}

static void fh_check_error(const ebm_http_resp *r)
{
	eb_error_body *b = NULL;
	eb_err err;
	eb_rc rc;

	FZ_CHECK(r->body && r->body_len > 0, "a non-2xx response has a body (ERR-1)");
	FZ_CHECK(r->content_type && strncmp(r->content_type, "application/json", 16) == 0,
		 "a JSON body has Content-Type application/json (GEN-2)");
	rc = eb_error_body_parse(r->body, r->body_len, &b, &err);
	if (rc != EB_OK && rc != EB_ERR_NOMEM)
		fprintf(stderr, "status %d body %.*s: %s\n", r->status, (int)r->body_len,
			r->body, err.msg);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "error bodies follow ERR-1/ERR-2");
	if (b) {
		FZ_CHECK(eb_code_http_status(b->code) == r->status,
			 "the error code belongs to the status (section 7)");
		if (r->status == 401)
			FZ_CHECK(strncmp(r->www_authenticate, "Bearer", 6) == 0,
				 "401 carries WWW-Authenticate: Bearer (ERR-4)");
		if (r->status == 405)
			FZ_CHECK(r->allow[0] != '\0', "405 carries Allow (ERR-5)");
		if (r->status == 429)
			FZ_CHECK(r->retry_after_s >= 1, "429 carries Retry-After (ERR-6)");
	}
	eb_error_body_free(b);
}

static void fh_check_page(const ebm_http_resp *r, uint64_t after, uint32_t limit)
{
	eb_sync_response *p = NULL;
	eb_err err;
	eb_rc rc = eb_sync_response_parse(r->body ? r->body : "", r->body_len, &p, &err);
	size_t i;

	if (rc != EB_OK && rc != EB_ERR_NOMEM)
		fprintf(stderr, "200 body %.*s: %s\n", (int)r->body_len, r->body ? r->body : "",
			err.msg);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "a 200 page has the shape of SYNC-4");
	if (!p)
		return;
	FZ_CHECK(p->n <= limit, "at most limit changes (SYNC-6)");
	for (i = 0; i < p->n; i++) {
		FZ_CHECK(p->changes[i].version > after, "only changes after the known version (SYNC-5)");
		FZ_CHECK(p->changes[i].version <= p->current_version,
			 "no change beyond currentVersion (VER-7)");
		if (i)
			FZ_CHECK(p->changes[i].version > p->changes[i - 1].version,
				 "ascending versions (SYNC-5, FEED-3)");
	}
	if (!p->has_more)
		FZ_CHECK(p->to_version == p->current_version,
			 "toVersion is currentVersion when nothing remains (SYNC-7)");
	else
		FZ_CHECK(p->n > 0 && p->to_version == p->changes[p->n - 1].version,
			 "toVersion is the last change's version when more remain (SYNC-6)");
	eb_sync_response_free(p);
}

static bool fh_header(const char *line, size_t n, const char *name, const char **val,
		      size_t *vlen)
{
	size_t nl = strlen(name);

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	*val = line + nl + 1;
	*vlen = n - nl - 1;
	while (*vlen && **val == ' ') {
		(*val)++;
		(*vlen)--;
	}
	return true;
}

static void fh_http(fh_state *st, const char *rec, size_t n)
{
	char method[16], *auth = NULL, *ctype = NULL, *body = NULL;
	const char *p = rec, *end = rec + n, *eol, *sp, *path, *q = NULL;
	size_t path_len, q_len = 0, body_len = 0, ml;
	ebm_http_req req;
	ebm_http_resp resp;
	eb_route route;
	bool upgrade = false;
	ebm_http_step step;

	eol = memchr(p, '\n', n);
	if (!eol)
		eol = end;
	sp = memchr(p, ' ', (size_t)(eol - p));
	if (!sp || (ml = (size_t)(sp - p)) == 0 || ml >= sizeof(method))
		return;
	memcpy(method, p, ml);
	method[ml] = '\0';
	path = sp + 1;
	path_len = (size_t)(eol - path);
	if ((q = memchr(path, '?', path_len)) != NULL) {
		q_len = path_len - (size_t)(q - path) - 1;
		path_len = (size_t)(q - path);
		q++;
	}
	p = eol < end ? eol + 1 : end;
	while (p < end) {
		const char *v;
		size_t vl, len;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		len = (size_t)(eol - p);
		if (len == 0) {
			p = eol + 1;
			break;
		}
		if (fh_header(p, len, "Authorization", &v, &vl) && !auth)
			auth = fh_expand(v, vl, &vl);
		else if (fh_header(p, len, "Content-Type", &v, &vl) && !ctype)
			ctype = fh_expand(v, vl, &vl);
		else if (fh_header(p, len, "Upgrade", &v, &vl))
			upgrade = vl >= 9 && strncasecmp(v, "websocket", 9) == 0;
		p = eol < end ? eol + 1 : end;
	}
	if (p < end)
		body = fh_expand(p, (size_t)(end - p), &body_len);
	else
		body = fh_expand("", 0, &body_len);
	if (!body)
		goto out;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.path_len = path_len;
	req.query = q;
	req.query_len = q_len;
	req.authorization = auth;
	req.content_type = ctype;
	req.content_length = (int64_t)body_len;
	req.body = body;
	req.body_len = body_len;
	req.remote_addr = "127.0.0.1";
	req.upgrade_ws = upgrade;
	memset(&resp, 0, sizeof(resp));
	step = ebm_http_handle(st->srv, &req, &resp);
	if (step == EBM_HTTP_UPGRADE)
		goto out_resp;
	FZ_CHECK(resp.status >= 200 && resp.status <= 599, "a status was decided");
	if (resp.status >= 500)
		fprintf(stderr, "5xx for %s: %.*s\n", method, (int)resp.body_len,
			resp.body ? resp.body : "");
	FZ_CHECK(resp.status < 500, "no server fault (5xx) for any request");
	if (resp.status >= 400)
		fh_check_error(&resp);

	eb_route_parse(path, path_len, &route);
	if (route.kind == EB_ROUTE_SYNC && route.store_id_ok && strcmp(method, "POST") == 0 &&
	    auth && strstr(auth, fh_tok_valid)) {
		eb_sync_request *sr = NULL;
		eb_rc rc = eb_sync_request_parse(body, body_len, ebm_server_limits(st->srv),
						 &sr, NULL, NULL);

		if (rc != EB_OK && rc != EB_ERR_NOMEM)
			FZ_CHECK(resp.status >= 400, "invalid sync bodies are refused (ERR-3 steps 7-9)");
		if (resp.status == 200 && sr) {
			fh_note_store(st, route.store_id);
			fh_check_page(&resp, sr->last_known_version, sr->limit);
		}
		eb_sync_request_free(sr);
	}
	if (route.kind == EB_ROUTE_CHANGES && resp.status == 200) {
		uint64_t since = 0;
		uint32_t limit = 1000;

		FZ_CHECK(eb_feed_query_parse(q, q ? q_len : 0, 0, &since, &limit, NULL) == EB_OK,
			 "the feed answers 200 only to a valid query (FEED-1, FEED-2, FEED-5)");
		fh_check_page(&resp, since, limit);
	}
out_resp:
	ebm_http_resp_clear(&resp);
out:
	free(auth);
	free(ctype);
	free(body);
}

static void fh_drain(fh_state *st, bool malformed)
{
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	ebm_ws_out o;
	bool closed = false;
	int guard = 0;

	while (st->ws && guard++ < 64 &&
	       (o = ebm_ws_next_out(st->ws, &text, &len, &code)) != EBM_WS_OUT_NONE) {
		if (o == EBM_WS_OUT_TEXT) {
			eb_ws_server_msg *m = NULL;
			eb_err err;
			eb_rc rc = eb_ws_server_msg_parse(text, len, &m, &err);

			if (rc != EB_OK && rc != EB_ERR_NOMEM)
				fprintf(stderr, "server wrote %.*s: %s\n", (int)len, text, err.msg);
			FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM,
				 "the server writes valid messages (section 10)");
			if (m && m->type == EB_WS_S_AUTH_OK)
				st->ws_authed = true;
			eb_ws_server_msg_free(m);
			free(text);
			text = NULL;
		} else if (o == EBM_WS_OUT_CLOSE || o == EBM_WS_OUT_DROP) {
			if (o == EBM_WS_OUT_CLOSE)
				FZ_CHECK(code == 1001 || code == 1009 || code == 1012 ||
					 code == 4400 || code == 4401 || code == 4408 ||
					 code == 4429, "close codes of WS-CLOSE-2");
			if (malformed && o == EBM_WS_OUT_CLOSE) {
				if (st->ws_authed)
					FZ_CHECK(code == 4400, "malformed after auth closes 4400 (WS-2)");
				else
					FZ_CHECK(code == 4400 || code == 4401,
						 "malformed before auth closes 4400/4401 (WS-2, WS-AUTH-3)");
			}
			closed = true;
			break;
		}
	}
	if (malformed)
		FZ_CHECK(closed, "a malformed message closes the socket (WS-2)");
	if (closed) {
		ebm_ws_free(st->ws);
		st->ws = NULL;
		st->ws_authed = false;
	}
}

static void fh_ws(fh_state *st, const char *msg, size_t n, bool binary)
{
	eb_ws_client_msg *m = NULL;
	size_t len = 0;
	char *text = fh_expand(msg, n, &len);
	bool malformed;

	if (!text)
		return;
	if (!st->ws) {
		st->ws = ebm_ws_open(st->srv, "127.0.0.1", NULL);
		st->ws_authed = false;
	}
	if (st->ws) {
		eb_rc rc = eb_ws_client_msg_parse(text, len, &m, NULL);

		malformed = binary || (rc != EB_OK && rc != EB_ERR_NOMEM &&
				       len <= ebm_ws_max_message(st->srv));
		eb_ws_client_msg_free(m);
		if (len > ebm_ws_max_message(st->srv))
			ebm_ws_on_too_big(st->ws);
		else
			ebm_ws_on_message(st->ws, text, len, binary);
		fh_drain(st, malformed);
	}
	free(text);
}

static void fh_check_stores(fh_state *st)
{
	size_t i, k;

	for (i = 0; i < st->n_stores; i++) {
		char path[EB_STORE_ID_MAX + 32], auth[2048];
		ebm_http_req req;
		ebm_http_resp resp;
		eb_sync_response *p = NULL;

		snprintf(path, sizeof(path), "/api/stores/%s/changes", st->stores[i]);
		snprintf(auth, sizeof(auth), "Bearer %s", fh_tok_valid);
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.path = path;
		req.path_len = strlen(path);
		req.query = "since=0";
		req.query_len = 7;
		req.authorization = auth;
		req.content_length = -1;
		req.remote_addr = "127.0.0.1";
		memset(&resp, 0, sizeof(resp));
		ebm_http_handle(st->srv, &req, &resp);
		FZ_CHECK(resp.status == 200, "a written store reads back");
		if (eb_sync_response_parse(resp.body, resp.body_len, &p, NULL) == EB_OK) {
			if (!p->has_more) {
				FZ_CHECK(p->n == p->current_version, "versions are dense (VER-2)");
				for (k = 0; k < p->n; k++)
					FZ_CHECK(p->changes[k].version == k + 1,
						 "versions are 1..N (VER-2)");
			}
			eb_sync_response_free(p);
		}
		ebm_http_resp_clear(&resp);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n====\n";
	const char *p = (const char *)data, *end = p + size;
	ebm_config cfg;
	fh_state st;
	int records = 0;

	memset(&st, 0, sizeof(st));
	ebm_config_default(&cfg);
	cfg.jwt_secret = FH_SECRET;
	if (ebm_server_new(&cfg, NULL, NULL, &st.srv, NULL) != EB_OK)
		return 0;
	while (p < end && records++ < FH_MAX_RECORDS) {
		const char *next = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
		size_t n = next ? (size_t)(next - p) : (size_t)(end - p);

		if (n >= 4 && memcmp(p, "WSB ", 4) == 0)
			fh_ws(&st, p + 4, n - 4, true);
		else if (n >= 3 && memcmp(p, "WS ", 3) == 0)
			fh_ws(&st, p + 3, n - 3, false);
		else
			fh_http(&st, p, n);
		p = next ? next + sizeof(sep) - 1 : end;
	}
	fh_check_stores(&st);
	ebm_ws_free(st.ws);
	ebm_server_free(st.srv);
	return 0;
}
