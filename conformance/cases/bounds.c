/*
 * bounds.c — numeric bounds probed at bound - 1, bound and bound + 1, built
 * from the ADVERTISED limits (ctx->run->limits; the defaults when the server
 * offers no GET /api/limits, LIMIT-11):
 *   HTTP: path segments, segment bytes, value depth, change-id bytes, page
 *   limit of the feed and of sync (the "at" and "over" halves also live in
 *   limits.c; here all three sit in one case so a bound that is off by one
 *   in either direction is named);
 *   socket: requestId length (1..64), storeIds entries (1..100, WS-SUB-10),
 *   the subscription count, which must go down again after an unsubscribe
 *   (LIMIT-8), and messages around maxFrameBytes (LIMIT-6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "../ebc.h"

/* ---- HTTP --------------------------------------------------------------------- */

typedef enum bd_kind { BD_SEGS, BD_SEG_BYTES, BD_DEPTH, BD_ID_BYTES } bd_kind;

/* One set change whose measured quantity is k. Caller frees. */
static char *bd_change(ebc_ctx *ctx, bd_kind kind, size_t k)
{
	char id[32];
	eb_buf b = { 0 };
	size_t i;

	ebc_cid(ctx, id, sizeof(id));
	eb_buf_fmt(&b, "{\"id\":\"");
	if (kind == BD_ID_BYTES) {
		size_t l = strlen(id);

		eb_buf_put(&b, id, l < k ? l : k);
		for (i = l; i < k; i++)
			eb_buf_put(&b, "i", 1);
	} else {
		eb_buf_put(&b, id, strlen(id));
	}
	eb_buf_fmt(&b, "\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[");
	if (kind == BD_SEGS) {
		for (i = 0; i < k; i++)
			eb_buf_put(&b, i ? ",\"s\"" : "\"s\"", i ? 4 : 3);
	} else if (kind == BD_SEG_BYTES) {
		eb_buf_put(&b, "\"", 1);
		for (i = 0; i < k; i++)
			eb_buf_put(&b, "b", 1);
		eb_buf_put(&b, "\"", 1);
	} else {
		eb_buf_put(&b, "\"a\"", 3);
	}
	eb_buf_put(&b, "],\"value\":", 10);
	if (kind == BD_DEPTH) {
		for (i = 0; i < k; i++)
			eb_buf_put(&b, "[", 1);
		eb_buf_put(&b, "1", 1);
		for (i = 0; i < k; i++)
			eb_buf_put(&b, "]", 1);
	} else {
		eb_buf_put(&b, "1", 1);
	}
	eb_buf_put(&b, "}", 1);
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

/* Pushes the change of quantity k alone to a fresh store: ok expected for
 * k <= max, 422 LIMIT_EXCEEDED at field otherwise. */
static bool bd_try(ebc_ctx *ctx, bd_kind kind, size_t k, size_t max, const char *field,
		   const char *rule, const char *what)
{
	char store[160];
	char *ch = bd_change(ctx, kind, k), *body = NULL;
	const char *one[1] = { ch };
	eb_http_resp resp;
	eb_error_body *eb = NULL;
	bool ok = false;

	memset(&resp, 0, sizeof(resp));
	body = ch ? ebc_body(0, one, 1, -1) : NULL;
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (k <= max) {
		if (resp.status != 200) {
			ebc_fail(ctx, "LIMIT-9", "200: within the advertised limit",
				 "status %ld for %s %zu (limit %zu)", resp.status, what, k, max);
			goto out;
		}
	} else {
		if (resp.status == 200) {
			ebc_fail(ctx, rule, "422 LIMIT_EXCEEDED: one over the advertised limit",
				 "200 for %s %zu (limit %zu)", what, k, max);
			goto out;
		}
		if (!ebc_expect_error(ctx, &resp, 422, "LIMIT_EXCEEDED", rule, &eb) ||
		    (field && !ebc_expect_problem(ctx, eb, 0, field, "LIMIT_EXCEEDED", "ERR-2")))
			goto out;
	}
	ok = true;
out:
	eb_error_body_free(eb);
	eb_http_resp_clear(&resp);
	free(body);
	free(ch);
	return ok;
}

static void bd_change_bounds(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	const struct {
		bd_kind kind;
		size_t max;
		const char *field, *rule, *what;
	} t[] = {
		{ BD_SEGS, l->max_path_segments, "changes[0].path", "LIMIT-3", "path segments" },
		{ BD_SEG_BYTES, l->max_path_segment_bytes, "changes[0].path[0]", "LIMIT-3", "segment bytes" },
		{ BD_DEPTH, l->max_value_depth, "changes[0].value", "LIMIT-4", "value depth" },
		{ BD_ID_BYTES, l->max_change_id_bytes, "changes[0].id", "LIMIT-5", "id bytes" },
	};
	size_t i, d;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].max > 100000 || (t[i].kind == BD_DEPTH && t[i].max > 60)) {
			ebc_note(ctx, "%s: advertised %zu, beyond what this case builds; left out",
				 t[i].what, t[i].max);
			continue;
		}
		for (d = 0; d < 3; d++)
			if (!bd_try(ctx, t[i].kind, t[i].max - 1 + d, t[i].max,
				    t[i].kind == BD_SEGS ? NULL : t[i].field, t[i].rule, t[i].what))
				return;
	}
}

/* limit = max - 1, max, max + 1 on the feed and on sync. */
static void bd_page_limit(ebc_ctx *ctx)
{
	unsigned max = ctx->run->limits.max_page_limit, k;
	char store[160], q[64], body[96];
	eb_http_resp resp;
	eb_sync_response *r;
	int via;

	ebc_store(ctx, NULL, store, sizeof(store));
	for (via = 0; via < 2; via++) {
		for (k = max - 1; k <= max + 1; k++) {
			if (via == 0) {
				snprintf(q, sizeof(q), "since=0&limit=%u", k);
				if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), q, &resp))
					return;
			} else {
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"limit\":%u}", k);
				if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
					return;
			}
			if (k <= max) {
				r = ebc_expect_ok(ctx, &resp, "LIMIT-9");
				eb_sync_response_free(r);
			} else {
				ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "LIMIT-7", NULL);
			}
			if (ebc_done(ctx))
				ebc_note(ctx, "%s with limit %u (advertised maxPageLimit %u)",
					 via ? "sync" : "the feed", k, max);
			eb_http_resp_clear(&resp);
			if (ebc_done(ctx))
				return;
		}
	}
}

/* ---- the socket ----------------------------------------------------------------- */

/* A ping with a requestId of n bytes: echoed by pong for 1..64, close 4400
 * otherwise (WS-2). */
static void bd_request_id(ebc_ctx *ctx)
{
	static const size_t lens[] = { 1, 63, 64, 65, 0 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]) && !ebc_done(ctx); i++) {
		ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
		char rid[80], text[160];
		eb_ws_server_msg *m = NULL;
		int r;

		if (!w)
			return;
		memset(rid, 'q', lens[i]);
		rid[lens[i]] = '\0';
		snprintf(text, sizeof(text), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
		if (!ebc_ws_send(w, text))
			goto next;
		r = ebc_ws_reply(w, text, &m);
		if (lens[i] >= 1 && lens[i] <= 64) {
			if (r != 1 || m->type != EB_WS_S_PONG || !m->request_id ||
			    strcmp(m->request_id, rid) != 0)
				ebc_fail(ctx, "WS-4", "pong echoing a requestId of 1 to 64 bytes",
					 "requestId of %zu bytes: %s", lens[i],
					 r == 1 ? (m->type_str ? m->type_str : "?") :
					 w->closed ? "socket closed" : "no reply");
		} else if (!(r < 0 && w->closed && w->close_code == 4400)) {
			ebc_fail(ctx, "WS-2", "close 4400 for a requestId outside 1 to 64 bytes",
				 "requestId of %zu bytes: %s (code %d)", lens[i],
				 r == 1 ? (m->type_str ? m->type_str : "?") :
				 w->closed ? "closed" : "no reply", w->close_code);
		}
next:
		eb_ws_server_msg_free(m);
		ebc_ws_free(w);
	}
}

/* Store ids "<case prefix>-s<from>.." n of them into ids (n slots of 160). */
static void bd_ids(ebc_ctx *ctx, char (*ids)[160], const char **ptrs, size_t from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(ids[i], 160, "%s-s%zu", ctx->store_prefix, from + i);
		ptrs[i] = ids[i];
	}
}

/* storeIds of 99 and 100 entries subscribed at once; 101: 4400 where the
 * advertised maximum is 100 (WS-SUB-10), 0: 4400. */
static void bd_store_ids(ebc_ctx *ctx)
{
	size_t adv = ctx->run->limits.max_subscriptions;
	char (*mine)[160] = NULL;
	const char *ptrs[101];
	const size_t counts[] = { 99, 100, 101, 0 };
	size_t i;

	mine = calloc(101, sizeof(*mine));
	if (!mine) {
		ebc_error(ctx, "out of memory");
		return;
	}
	for (i = 0; i < 4 && !ebc_done(ctx); i++) {
		ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
		eb_ws_server_msg *m = NULL;
		char rid[16], *text = NULL;
		size_t n = counts[i];

		if (!w)
			break;
		bd_ids(ctx, mine, ptrs, i * 200, n);
		if (n >= 1 && n <= 100) {
			m = ebc_ws_sub(w, false, ptrs, n, "WS-SUB-1");
			if (m && m->n_stores != n)
				ebc_fail(ctx, "LIMIT-8", "every store of the message subscribed",
					 "%zu of %zu stores in the ack (%zu errors, first %s)", m->n_stores, n,
					 m->n_errors, m->n_errors ? m->errors[0].code : "-");
		} else {
			ebc_ws_rid(w, rid, sizeof(rid));
			if (eb_ws_encode_subscribe(rid, false, ptrs, n, &text) != EB_OK) {
				ebc_error(ctx, "out of memory");
			} else if (ebc_ws_send(w, text)) {
				bool closed = ebc_ws_wait_close(w, ebc_timeout(ctx));

				if (n > 100 && adv > 100 && !closed) {
					ebc_note(ctx, "the server advertises %zu subscriptions and took 101 ids "
						 "in one message (allowed, WS-SUB-10)", adv);
				} else if (!closed || w->close_code != 4400) {
					ebc_fail(ctx, "WS-SUB-10", "close 4400 for storeIds outside 1 to 100 entries",
						 "%zu entries: %s %d", n, closed ? "closed with code" : "still open, code",
						 w->close_code);
				}
			}
			free(text);
		}
		eb_ws_server_msg_free(m);
		ebc_ws_free(w);
	}
	free(mine);
}

/* Fill the socket to its maximum, one more is refused, an unsubscribe frees
 * a slot for a new store, then the socket is full again. */
static void bd_subs_go_down(ebc_ctx *ctx)
{
	size_t max = ctx->run->limits.max_subscriptions, done = 0, chunk, i;
	char (*ids)[160] = NULL;
	const char **ptrs = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	const char *one[1];

	if (max > 2000) {
		ebc_skip(ctx, "advertised maxSubscriptionsPerSocket %zu is beyond this case's budget", max);
		return;
	}
	ids = calloc(max + 3, sizeof(*ids));
	ptrs = calloc(max + 3, sizeof(*ptrs));
	if (!ids || !ptrs) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	bd_ids(ctx, ids, ptrs, 0, max + 3);
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	while (done < max) {
		chunk = max - done < 100 ? max - done : 100;
		m = ebc_ws_sub(w, false, ptrs + done, chunk, "WS-SUB-1");
		if (!m)
			goto out;
		if (m->n_stores != chunk) {
			ebc_fail(ctx, "LIMIT-8", "room for the advertised maxSubscriptionsPerSocket",
				 "%zu of %zu stores subscribed after %zu (maximum %zu)", m->n_stores, chunk,
				 done, max);
			goto out;
		}
		eb_ws_server_msg_free(m);
		m = NULL;
		done += chunk;
	}
	for (i = 0; i < 3; i++) {
		if (i == 1) {
			/* one down: its slot must be usable again */
			one[0] = ptrs[0];
			m = ebc_ws_sub(w, true, one, 1, "WS-SUB-5");
			if (!m)
				goto out;
			eb_ws_server_msg_free(m);
			m = NULL;
		}
		one[0] = ptrs[max + i];
		m = ebc_ws_sub(w, false, one, 1, "WS-SUB-1");
		if (!m)
			goto out;
		if (i == 1 && m->n_stores != 1) {
			ebc_fail(ctx, "LIMIT-8", "subscribed: the unsubscribe freed a slot",
				 "%s", m->n_errors ? m->errors[0].code : "not in the ack");
			goto out;
		}
		if (i != 1 && (m->n_stores != 0 || m->n_errors != 1 ||
			       strcmp(m->errors[0].code, "LIMIT_EXCEEDED") != 0)) {
			ebc_fail(ctx, "LIMIT-8", "a per-store error LIMIT_EXCEEDED beyond the maximum",
				 "%zu stores, %zu errors (first %s) with %zu subscriptions held",
				 m->n_stores, m->n_errors, m->n_errors ? m->errors[0].code : "-", max);
			goto out;
		}
		eb_ws_server_msg_free(m);
		m = NULL;
	}
	if (!ebc_done(ctx)) {
		char rid[16], text[64];

		ebc_ws_rid(w, rid, sizeof(rid));
		snprintf(text, sizeof(text), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
		m = ebc_ws_call(w, text, rid, "WS-CLOSE-5");
	}
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	free(ids);
	free(ptrs);
}

/* A ping padded with an unknown member to exactly n bytes. */
static char *bd_padded_ping(const char *rid, size_t n)
{
	char head[96];
	int hl = snprintf(head, sizeof(head), "{\"type\":\"ping\",\"requestId\":\"%s\",\"x\":\"", rid);
	char *p;

	if (hl < 0 || (size_t)hl + 2 > n)
		return NULL;
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, head, (size_t)hl);
	memset(p + hl, 'p', n - (size_t)hl - 2);
	memcpy(p + n - 2, "\"}", 2);
	p[n] = '\0';
	return p;
}

static void bd_frame(ebc_ctx *ctx)
{
	size_t max = ctx->run->limits.max_frame_bytes, k;

	if (max > 8u * 1024u * 1024u) {
		ebc_skip(ctx, "advertised maxFrameBytes %zu is beyond this case's budget", max);
		return;
	}
	for (k = max - 1; k <= max && !ebc_done(ctx); k++) {
		ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
		char rid[16];
		char *p;
		eb_ws_server_msg *m = NULL;

		if (!w)
			return;
		ebc_ws_rid(w, rid, sizeof(rid));
		p = bd_padded_ping(rid, k);
		if (!p) {
			ebc_error(ctx, "out of memory");
			ebc_ws_free(w);
			return;
		}
		m = ebc_ws_call(w, p, rid, "LIMIT-6");
		if (m && m->type != EB_WS_S_PONG)
			ebc_fail(ctx, "LIMIT-6", "pong for a message within maxFrameBytes", "%s",
				 m->type_str ? m->type_str : "?");
		if (ebc_done(ctx))
			ebc_note(ctx, "a ping of %zu bytes (maxFrameBytes %zu)", k, max);
		eb_ws_server_msg_free(m);
		free(p);
		ebc_ws_free(w);
	}
}

/* WS-CLOSE-4: a client that sends many requests at once and reads its
 * replies gets every one of them; only a socket whose replies stay over
 * the bound without draining may be dropped. 30 subscribes of the same
 * stores (at most 100, LIMIT-8) in one write: their acks make well over
 * the 64 KiB bound, all asked for before the first is read. 31 messages
 * with the auth stay within any bucket of the suite's runs (burst 50). */
static void bd_pipelined_subscribes(ebc_ctx *ctx)
{
	enum { N = 30, ID = 72 };
	const eb_limits *l = &ctx->run->limits;
	size_t stores = l->max_subscriptions < 100 ? l->max_subscriptions : 100;
	static const unsigned char mask[4] = { 0x5a, 0x21, 0x7c, 0x03 };
	ebc_ws *w;
	size_t got = 0, i, k, len = 0, tlen = 0;
	char *text = NULL, rid[16];
	unsigned char *buf = NULL;
	uint64_t end;

	if (l->rate_limit_on && l->ws_per_second > 0 && l->ws_burst < N + 2) {
		ebc_skip(ctx, "the advertised WebSocket bucket (burst %.0f) is smaller than the %d "
			 "pipelined messages", l->ws_burst, N + 1);
		return;
	}
	if ((size_t)l->max_frame_bytes < stores * (ID + 3) + 128)
		stores = ((size_t)l->max_frame_bytes - 128) / (ID + 3);
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		return;
	text = malloc(stores * (ID + 3) + 128);
	buf = malloc((size_t)N * (stores * (ID + 3) + 128 + 8));
	if (!text || !buf) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	for (i = 0; i < N; i++) {
		tlen = (size_t)snprintf(text, 128, "{\"type\":\"subscribe\",\"requestId\":\"ps%zu\","
					"\"storeIds\":[", i);
		for (k = 0; k < stores; k++)
			tlen += (size_t)snprintf(text + tlen, ID + 4, "%s\"%s-p%03zu-%0*d\"",
						 k ? "," : "", ctx->store_prefix, k,
						 (int)(ID - strlen(ctx->store_prefix) - 6), 0);
		tlen += (size_t)snprintf(text + tlen, 8, "]}");
		/* one masked text frame, 16-bit length */
		buf[len++] = 0x81;
		buf[len++] = 0x80 | 126;
		buf[len++] = (unsigned char)(tlen >> 8);
		buf[len++] = (unsigned char)tlen;
		memcpy(buf + len, mask, 4);
		len += 4;
		for (k = 0; k < tlen; k++)
			buf[len++] = (unsigned char)text[k] ^ mask[k & 3];
	}
	ebc_note(ctx, "%d subscribes of %zu stores (%zu bytes of frames) sent in one write", N,
		 stores, len);
	if (eb_wsc_send_raw(w->c, buf, len, NULL) != EB_OK) {
		ebc_fail(ctx, "WS-CLOSE-4", "a client that reads its replies can pipeline requests",
			 "sending %d pipelined subscribes failed", N);
		goto out;
	}
	end = ebc_now_ms() + 10000 + (uint64_t)ebc_timeout(ctx);
	while (got < N && ebc_now_ms() < end) {
		eb_ws_server_msg *m = NULL;
		int r = ebc_ws_next(w, (long)(end - ebc_now_ms()), &m);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		snprintf(rid, sizeof(rid), "ps%zu", got);
		if (m->type == EB_WS_S_SUBSCRIBED && m->request_id && strcmp(m->request_id, rid) == 0)
			got++;
		eb_ws_server_msg_free(m);
	}
	if (got < N)
		ebc_fail(ctx, "WS-CLOSE-4", "every ack of 30 pipelined subscribes, read as they come",
			 "%zu acks, then %s", got,
			 w->closed ? (w->close_code ? "a close frame" : "a TCP close without a close frame")
				   : "nothing more");
out:
	free(text);
	free(buf);
	ebc_ws_free(w);
}

const ebc_case ebc_cases_bounds[] = {
	{ "limits/bounds-change-fields", "Segments, segment bytes, depth, id bytes at advertised limit -1, limit, +1",
	  "MUST", { "LIMIT-3", "LIMIT-4", "LIMIT-5", "LIMIT-9", "LIMIT-11" }, { "limits", "bounds" }, 0,
	  bd_change_bounds },
	{ "limits/bounds-page-limit", "Feed and sync limit at maxPageLimit -1, maxPageLimit, +1",
	  "MUST", { "LIMIT-7", "LIMIT-9", "LIMIT-11" }, { "limits", "bounds" }, 0, bd_page_limit },
	{ "ws/bounds-request-id", "requestId of 1, 63, 64 bytes echoed; 0 and 65 bytes close 4400",
	  "MUST", { "WS-2", "WS-4" }, { "ws", "bounds" }, 0, bd_request_id },
	{ "ws/bounds-store-ids", "storeIds of 99 and 100 entries subscribed; 0 and 101 close 4400",
	  "MUST", { "WS-SUB-10", "WS-SUB-6", "LIMIT-8" }, { "ws", "bounds" }, 0, bd_store_ids },
	{ "ws/bounds-subscriptions-go-down", "A full socket refuses one more; an unsubscribe frees a slot",
	  "MUST", { "LIMIT-8", "WS-SUB-5", "WS-CLOSE-5" }, { "ws", "bounds" }, 0, bd_subs_go_down },
	{ "ws/bounds-frame-size", "Messages of maxFrameBytes - 1 and maxFrameBytes are processed",
	  "MUST", { "LIMIT-6", "LIMIT-9" }, { "ws", "bounds" }, 0, bd_frame },
	{ "ws/bounds-pipelined-subscribes", "30 subscribes of 100 stores sent at once, acks read as they come: every ack arrives",
	  "MUST", { "WS-CLOSE-4" }, { "ws", "bounds" }, 0, bd_pipelined_subscribes },
};
const size_t ebc_cases_bounds_n = sizeof(ebc_cases_bounds) / sizeof(ebc_cases_bounds[0]);
