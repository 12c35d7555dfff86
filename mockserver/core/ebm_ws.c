/*
 * ebm_ws.c — WebSocket sessions of ebmock (PROTOCOL.md section 10): auth and
 * re-auth, subscriptions, the notification index, coalescing, rate limits,
 * timers (auth timeout, token expiry, pings, fault drops) and the bounded
 * reply queue.
 *
 * Memory per session is what keeps 10 000 idle sockets cheap: the session
 * struct, the claims, one ebm_sub per subscription, and queued replies only
 * while the client is slow. Notifications are never queued as messages: a
 * commit sets the pending flag of each (session, store) pair and the message
 * is built when the socket is writable, with the store's version of that
 * moment (WS-CLOSE-3, WS-NOTIF-3).
 */
#include "ebm_ws.h"
#include "ebm_int.h"
#include "ebm_auth.h"
#include "ebm_evlog.h"
#include "ebm_extras.h"
#include "ebm_pg.h"
#include "ebm_rate.h"
#include "ebm_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_time.h"
#include "eb_ws.h"

#define EBM_WS_RATE_WINDOW_MS 10000u
#define EBM_WS_DEFECT_MAX_MESSAGE (1024u * 1024u)
#define EBM_FORBIDDEN_CLOSE 4403

static void ws_wake(ebm_ws_session *s)
{
	if (s->srv->wake)
		s->srv->wake(s->srv->glue, s->user);
}

/* stall and silentWs: the server says nothing on its sockets (no reply,
 * notification, ping or timed close) and ignores what arrives; only an
 * explicit admin action (dropWs, closeWs, revoke) still closes one. */
static bool ws_silent(const ebm_server *srv)
{
	return srv->faults.stall || srv->faults.silent_ws;
}

size_t ebm_ws_max_message(const ebm_server *srv)
{
	if (ebm_defect_on(srv, EBM_DEFECT_WS_FRAME_LIMIT_IGNORED))
		return EBM_WS_DEFECT_MAX_MESSAGE;
	return srv->cfg.limits.max_frame_bytes;
}

size_t ebm_ws_count(const ebm_server *srv)
{
	return srv->n_sessions;
}

ebm_ws_session *ebm_ws_open(ebm_server *srv, const char *remote_addr, void *user)
{
	ebm_ws_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->srv = srv;
	s->user = user;
	s->opened_ms = ebm_mono_ms();
	snprintf(s->addr, sizeof s->addr, "%s", remote_addr ? remote_addr : "unknown");
	if (srv->cfg.ping_interval_s)
		s->ping_due_ms = s->opened_ms + (uint64_t)srv->cfg.ping_interval_s * 1000u;
	if (srv->cfg.no_auth) {
		s->authed = true;
		s->subject = strdup(s->addr);
		if (!s->subject) {
			free(s);
			return NULL;
		}
	}
	s->next = srv->sessions;
	if (srv->sessions)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->n_sessions++;
	return s;
}

static void out_clear(ebm_ws_session *s)
{
	while (s->out_head) {
		ebm_outmsg *m = s->out_head;
		s->out_head = m->next;
		free(m);
	}
	s->out_tail = NULL;
	ebm_mem_give(s->srv, s->out_bytes);
	s->out_bytes = 0;
	s->full_since_ms = 0;
}

static void sub_remove(ebm_ws_session *s, ebm_sub *sub)
{
	ebm_sub **pp = &s->subs;
	while (*pp && *pp != sub)
		pp = &(*pp)->sess_next;
	if (*pp)
		*pp = sub->sess_next;
	if (sub->store_prev)
		sub->store_prev->store_next = sub->store_next;
	else
		sub->store->subs = sub->store_next;
	if (sub->store_next)
		sub->store_next->store_prev = sub->store_prev;
	sub->store->n_subs--;
	if (sub->pending)
		s->n_pending--;
	s->n_subs--;
	s->srv->n_subs_total--;
	ebm_store *st = sub->store;
	free(sub);
	ebm_store_maybe_release(s->srv, st);
}

/* Forgets the parked messages and the jobs they wait for. */
static void ws_unpark(ebm_ws_session *s)
{
	for (size_t i = 0; i < s->n_jobs; i++)
		ebm_job_release(s->jobs[i]);
	free(s->jobs);
	s->jobs = NULL;
	s->n_jobs = 0;
	while (s->park_head) {
		ebm_outmsg *m = s->park_head;
		s->park_head = m->next;
		free(m);
	}
	s->park_tail = NULL;
	s->park_bytes = 0;
}

void ebm_ws_free(ebm_ws_session *s)
{
	if (!s)
		return;
	ebm_server *srv = s->srv;
	while (s->subs)
		sub_remove(s, s->subs);
	out_clear(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->n_sessions--;
	eb_claims_free(s->claims);
	free(s->subject);
	free(s->jti);
	ws_unpark(s);
	free(s);
}

/* Queues a reply (takes msg). The queue is bounded by pausing the socket's
 * reads once it holds EBM_WS_MAX_PENDING (ebm_ws_rx_paused): replies only
 * come from messages read, so a pipelining client is served as fast as it
 * reads, and one that stops reading is dropped by the timer (WS-CLOSE-4,
 * ws_stall_ms). Replies are charged to the memory budget. */
static void ws_queue(ebm_ws_session *s, char *msg)
{
	if (!msg)
		return;
	size_t len = strlen(msg);
	if (s->drop || s->close_code) {
		free(msg);
		return;
	}
	if (ebm_defect_on(s->srv, EBM_DEFECT_PIPELINE_DROPPED) &&
	    s->out_bytes + len > EBM_WS_MAX_PENDING) {
		/* the old rule: over the bound is taken as a client not
		 * reading, even one that reads and only sent many requests */
		free(msg);
		out_clear(s);
		s->drop = true;
		s->srv->m.ws_drops_total++;
		return;
	}
	ebm_outmsg *m = malloc(sizeof *m + len + 1);
	if (!m) {
		free(msg);
		s->drop = true;
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len + 1);
	free(msg);
	if (s->out_tail)
		s->out_tail->next = m;
	else
		s->out_head = m;
	s->out_tail = m;
	s->out_bytes += len;
	ebm_mem_force(s->srv, len);
	if (s->out_bytes >= EBM_WS_MAX_PENDING && !s->full_since_ms) {
		s->full_since_ms = ebm_mono_ms();
		ebm_metrics_refusal(s->srv, EBM_REFUSE_WS_PAUSED);
	}
}

bool ebm_ws_rx_paused(const ebm_ws_session *s)
{
	if (s->drop || s->close_code)
		return false;
	return s->park_head || s->out_bytes >= EBM_WS_MAX_PENDING ||
	       (s->out_bytes && ebm_mem_spent(s->srv));
}

/* WS-CLOSE-4: replies at the bound for ws_stall_ms without draining below
 * it: the client does not read, drop it. */
static uint64_t stall_deadline(const ebm_ws_session *s)
{
	if (!s->full_since_ms)
		return 0;
	return s->full_since_ms + s->srv->cfg.ws_stall_ms;
}

static void ws_close(ebm_ws_session *s, int code)
{
	if (!s->close_code && !s->drop) {
		s->close_code = code;
		s->srv->m.ws_closes_total++;
	}
}

static void ws_error(ebm_ws_session *s, const char *rid, const char *code,
		     const char *message)
{
	char *out = NULL;
	if (eb_ws_encode_error(rid, code, message, &out) == EB_OK)
		ws_queue(s, out);
}

static ebm_sub *sub_find(const ebm_ws_session *s, const char *store_id)
{
	for (ebm_sub *sub = s->subs; sub; sub = sub->sess_next)
		if (strcmp(sub->store->id, store_id) == 0)
			return sub;
	return NULL;
}

static bool ws_can_read(const ebm_ws_session *s, const char *store_id)
{
	return !s->claims || eb_claims_can_read(s->claims, store_id);
}

/* The request id of a message that is being refused (rate limit): taken from
 * the JSON if it has one. */
static char *peek_request_id(const char *buf, size_t len)
{
	cJSON *root = NULL;
	char *rid = NULL;
	if (eb_json_parse(buf, len, 64, &root, NULL) != EB_OK)
		return NULL;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "requestId");
	if (cJSON_IsString(r))
		rid = strdup(r->valuestring);
	cJSON_Delete(root);
	return rid;
}

static void on_auth(ebm_ws_session *s, const eb_ws_client_msg *m)
{
	ebm_server *srv = s->srv;
	eb_claims *c = NULL;
	eb_err err;
	char *out = NULL;

	eb_err_clear(&err);
	if (srv->cfg.no_auth) {
		/* WS-AUTH-7: a server without auth may ignore `auth` or answer it */
		if (srv->cfg.no_auth_ws_ignore)
			return;
		uint64_t exp_ms = eb_time_now_ms() + 24u * 3600u * 1000u;
		if (eb_ws_encode_auth_ok(m->request_id, s->subject, exp_ms, &out) == EB_OK)
			ws_queue(s, out);
		return;
	}
	if (!m->token || ebm_auth_verify(srv, m->token, strlen(m->token), &c, &err) != EB_OK) {
		ws_close(s, EB_WS_CLOSE_AUTH);
		return;
	}
	if (s->authed && strcmp(s->subject, c->sub) != 0) {
		/* WS-AUTH-6: another subject on the same socket */
		eb_claims_free(c);
		ws_close(s, EB_WS_CLOSE_AUTH);
		return;
	}
	char *subj = strdup(c->sub);
	if (!subj) {
		eb_claims_free(c);
		s->drop = true;
		return;
	}
	bool reauth = s->authed;
	uint64_t exp_s = c->exp;
	/* WS-AUTH-8: the new token alone governs the socket from here on */
	bool keep_perms = reauth && ebm_defect_on(srv, EBM_DEFECT_REAUTH_KEEPS_PERMISSIONS);
	if (keep_perms) {
		eb_claims_free(c);
	} else {
		eb_claims_free(s->claims);
		s->claims = c;
	}
	free(s->subject);
	free(s->jti);
	s->jti = ebm_auth_jti(m->token, strlen(m->token));   /* revoke fault */
	s->subject = subj;
	s->authed = true;
	if (!reauth || !ebm_defect_on(srv, EBM_DEFECT_REAUTH_KEEPS_EXPIRY)) {
		uint64_t now_wall = eb_time_now_ms();
		uint64_t end_wall = (exp_s + srv->cfg.jwt_leeway_s) * 1000u;
		s->expire_ms = ebm_mono_ms() + (end_wall > now_wall ? end_wall - now_wall : 0);
	}
	if (reauth && !keep_perms &&
	    !ebm_defect_on(srv, EBM_DEFECT_REAUTH_KEEPS_SUBSCRIPTIONS)) {
		/* subscriptions the new token may not read end now */
		ebm_sub *sub = s->subs, *next;
		for (; sub; sub = next) {
			next = sub->sess_next;
			if (!ws_can_read(s, sub->store->id))
				sub_remove(s, sub);
		}
	}
	if (eb_ws_encode_auth_ok(m->request_id, subj, exp_s * 1000u, &out) == EB_OK)
		ws_queue(s, out);
}

/* no-ack-version: the ack without "version" members. */
static char *strip_versions(char *ack)
{
	cJSON *root = NULL;
	if (eb_json_parse(ack, strlen(ack), 16, &root, NULL) != EB_OK)
		return ack;
	cJSON *stores = cJSON_GetObjectItemCaseSensitive(root, "stores");
	for (cJSON *e = stores ? stores->child : NULL; e; e = e->next)
		cJSON_DeleteItemFromObjectCaseSensitive(e, "version");
	char *out = ebm_print(root);
	cJSON_Delete(root);
	if (!out)
		return ack;
	free(ack);
	return out;
}

static void on_subscribe(ebm_ws_session *s, const eb_ws_client_msg *m, bool unsub)
{
	ebm_server *srv = s->srv;
	size_t n = m->n_store_ids;
	eb_ws_store_version *ok = calloc(n + 1, sizeof *ok);
	eb_ws_store_error *bad = calloc(n + 1, sizeof *bad);
	size_t n_ok = 0, n_bad = 0;
	char *out = NULL;

	if (!ok || !bad) {
		s->drop = true;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = m->store_ids[i];
		if (!eb_store_id_valid(id, strlen(id))) {
			bad[n_bad].store_id = (char *)id;
			bad[n_bad++].code = (char *)EB_CODE_INVALID_STORE_ID;
			continue;
		}
		if (unsub) {
			ebm_sub *sub = sub_find(s, id);
			if (sub && !ebm_defect_on(srv, EBM_DEFECT_NOTIFY_AFTER_UNSUBSCRIBE))
				sub_remove(s, sub);
			if (!ws_can_read(s, id)) {
				/* WS-SUB-8/9: ended, but its version is not told */
				bad[n_bad].store_id = (char *)id;
				bad[n_bad++].code = (char *)EB_CODE_FORBIDDEN;
				continue;
			}
			ebm_store *st = ebm_store_find(srv, id);
			ok[n_ok].store_id = (char *)id;
			ok[n_ok++].version = st ? st->version : 0;
			continue;
		}
		if (!ws_can_read(s, id)) {
			if (ebm_defect_on(srv, EBM_DEFECT_FORBIDDEN_SUBSCRIBE_CLOSES)) {
				ws_close(s, EBM_FORBIDDEN_CLOSE);
				goto out;
			}
			bad[n_bad].store_id = (char *)id;
			bad[n_bad++].code = (char *)EB_CODE_FORBIDDEN;
			continue;
		}
		ebm_sub *sub = sub_find(s, id);
		if (sub && ebm_defect_on(srv, EBM_DEFECT_SUBSCRIBE_TWICE_DOUBLES)) {
			/* a store named again in the same message: a second subscription */
			for (size_t j = 0; j < i; j++)
				if (strcmp(m->store_ids[j], id) == 0)
					sub = NULL;
		}
		if (!sub) {
			if (s->n_subs >= srv->cfg.limits.max_subscriptions) {
				bad[n_bad].store_id = (char *)id;
				bad[n_bad++].code = (char *)EB_CODE_LIMIT_EXCEEDED;
				continue;
			}
			ebm_store *st = ebm_store_get(srv, id);
			sub = st ? calloc(1, sizeof *sub) : NULL;
			if (!sub) {
				ebm_store_maybe_release(srv, st);
				bad[n_bad].store_id = (char *)id;
				bad[n_bad++].code = (char *)EB_CODE_INTERNAL;
				continue;
			}
			sub->store = st;
			sub->sess = s;
			sub->last_sent = st->version;
			sub->sess_next = s->subs;
			s->subs = sub;
			sub->store_next = st->subs;
			if (st->subs)
				st->subs->store_prev = sub;
			st->subs = sub;
			st->n_subs++;
			s->n_subs++;
			srv->n_subs_total++;
		}
		ok[n_ok].store_id = (char *)id;
		ok[n_ok++].version = sub->store->version;
	}
	if (eb_ws_encode_sub_ack(m->request_id, unsub, ok, n_ok, bad, n_bad, &out) == EB_OK) {
		if (!unsub && ebm_defect_on(srv, EBM_DEFECT_NO_ACK_VERSION))
			out = strip_versions(out);
		ws_queue(s, out);
	}
out:
	free(ok);
	free(bad);
}

/* Messages that wait behind a parked subscribe, in order; the reads are
 * paused meanwhile (ebm_ws_rx_paused), so only what was already read
 * lands here, and at most the WS-CLOSE-4 bound of it. */
static void ws_park(ebm_ws_session *s, const char *buf, size_t len, bool binary)
{
	ebm_outmsg *m = malloc(sizeof *m + len + 2);
	if (!m || s->park_bytes + len > EBM_WS_MAX_PENDING) {
		free(m);
		s->drop = true;
		ws_wake(s);
		return;
	}
	m->next = NULL;
	m->len = len;
	m->data[0] = binary ? 'b' : 't';
	memcpy(m->data + 1, buf, len);
	m->data[len + 1] = '\0';
	if (s->park_tail)
		s->park_tail->next = m;
	else
		s->park_head = m;
	s->park_tail = m;
	s->park_bytes += len;
}

static void ws_job_done(void *arg);

/* Shared backend: a subscribe or unsubscribe first reads its stores'
 * newer changes from the database (another node may have committed them:
 * the ack's versions are current). true: parked, answered by
 * ws_job_done. */
static bool ws_park_refresh(ebm_ws_session *s, const eb_ws_client_msg *m,
			    const char *buf, size_t len)
{
	size_t n = 0;
	s->jobs = calloc(m->n_store_ids + 1, sizeof *s->jobs);
	if (!s->jobs)
		return false;
	for (size_t i = 0; i < m->n_store_ids; i++) {
		const char *id = m->store_ids[i];
		if (!eb_store_id_valid(id, strlen(id)))
			continue;
		ebm_store *st = ebm_store_find(s->srv, id);
		ebm_job *j = ebm_pg_refresh(s->srv, id, st ? st->version : 0);
		if (!j)
			continue;   /* answered from the copy */
		ebm_job_on_done(j, ws_job_done, s);
		s->jobs[n++] = j;
	}
	s->n_jobs = n;
	if (!n) {
		free(s->jobs);
		s->jobs = NULL;
		return false;
	}
	ws_park(s, buf, len, false);
	return true;
}

static void ws_handle(ebm_ws_session *s, const char *buf, size_t len, bool binary,
		      bool replay);

/* ebm_server_poll: one of the session's jobs is done. */
static void ws_job_done(void *arg)
{
	ebm_ws_session *s = arg;

	for (size_t i = 0; i < s->n_jobs; i++)
		if (ebm_job_status_of(s->jobs[i], NULL, 0) == EBM_JOB_RUNNING)
			return;
	for (size_t i = 0; i < s->n_jobs; i++)
		ebm_job_release(s->jobs[i]);
	free(s->jobs);
	s->jobs = NULL;
	s->n_jobs = 0;
	/* the parked subscribe now, then what waited behind it, until one
	 * parks again */
	bool first = true;
	while (s->park_head && !s->n_jobs) {
		ebm_outmsg *m = s->park_head;
		s->park_head = m->next;
		if (!s->park_head)
			s->park_tail = NULL;
		s->park_bytes -= m->len;
		ws_handle(s, m->data + 1, m->len, m->data[0] == 'b', first);
		first = false;
		free(m);
	}
	ws_wake(s);
}

void ebm_ws_on_message(ebm_ws_session *s, const char *buf, size_t len,
		       bool binary)
{
	s->srv->m.ws_messages_total++;
	ebm_evlog_ws_in(s, buf, len, binary);
	if (s->park_head) {
		ws_park(s, buf, len, binary);   /* behind a parked subscribe */
		return;
	}
	ws_handle(s, buf, len, binary, false);
}

/* One message; replay: a parked subscribe whose stores were read (already
 * counted against the rate limit). */
static void ws_handle(ebm_ws_session *s, const char *buf, size_t len, bool binary,
		      bool replay)
{
	ebm_server *srv = s->srv;
	eb_ws_client_msg *m = NULL;
	eb_err err;
	char *out = NULL;
	uint64_t now = ebm_mono_ms();

	if (s->close_code || s->drop || ws_silent(srv))
		return;
	eb_err_clear(&err);
	if (binary || eb_ws_client_msg_parse(buf, len, &m, &err) != EB_OK) {
		if (!ebm_defect_on(srv, EBM_DEFECT_MALFORMED_KEEPS_OPEN))
			ws_close(s, EB_WS_CLOSE_MALFORMED);
		goto out;
	}
	/* RATE-4: the first message over the limit gets an error, a second
	 * within 10 s closes the socket. An unauthenticated socket can send
	 * one message (auth, or anything else, which closes it), so only
	 * authenticated traffic is counted, per subject: many clients behind
	 * one address do not share a bucket for their auth messages, unless
	 * --rate-ws-preauth-addr charges them to the address (RATE-5 allows
	 * either). */
	const char *rkey = s->authed ? s->subject
				     : srv->cfg.rate_ws_preauth_addr ? s->addr : NULL;
	if (rkey && !replay && !ebm_rate_take(&srv->rate_ws, rkey, now, NULL)) {
		srv->m.rate_limited_total++;
		if (s->last_rate_err_ms && now - s->last_rate_err_ms < EBM_WS_RATE_WINDOW_MS &&
		    !ebm_defect_on(srv, EBM_DEFECT_WS_RATE_NO_CLOSE)) {
			ws_close(s, EB_WS_CLOSE_RATE_LIMITED);
		} else {
			char *rid = m->request_id ? strdup(m->request_id)
						  : peek_request_id(buf, len);
			ws_error(s, rid, EB_CODE_RATE_LIMITED, "message rate limit exceeded");
			free(rid);
			s->last_rate_err_ms = now;
		}
		goto out;
	}
	if (!s->authed && m->type != EB_WS_C_AUTH) {
		ws_close(s, EB_WS_CLOSE_AUTH);   /* WS-AUTH-3 */
		goto out;
	}
	switch (m->type) {
	case EB_WS_C_AUTH:
		on_auth(s, m);
		break;
	case EB_WS_C_SUBSCRIBE:
	case EB_WS_C_UNSUBSCRIBE:
		if (srv->be->remote && !replay && ws_park_refresh(s, m, buf, len))
			break;
		on_subscribe(s, m, m->type == EB_WS_C_UNSUBSCRIBE);
		break;
	case EB_WS_C_PING:
		if (ebm_defect_on(srv, EBM_DEFECT_PONG_WITHOUT_REQUEST_ID))
			ws_queue(s, strdup("{\"type\":\"pong\"}"));
		else if (!ebm_defect_on(srv, EBM_DEFECT_NO_PONG) &&
			 eb_ws_encode_pong(m->request_id, &out) == EB_OK)
			ws_queue(s, out);
		break;
	case EB_WS_C_UNKNOWN:
	default: {
		/* WS-3: the socket stays open; an id that is not 1-64 bytes cannot
		 * be echoed in a valid reply, so the error goes without one */
		const char *rid = m->request_id;
		size_t rl = rid ? strlen(rid) : 0;
		if (rl < 1 || rl > EB_WS_REQUEST_ID_MAX)
			rid = NULL;
		ws_error(s, rid, EB_CODE_UNKNOWN_TYPE, "unknown message type");
		break;
	}
	}
out:
	eb_ws_client_msg_free(m);
}

void ebm_ws_on_too_big(ebm_ws_session *s)
{
	ebm_evlog_ws_too_big(s);
	ws_close(s, EB_WS_CLOSE_TOO_BIG);
}

static uint64_t drop_deadline(const ebm_ws_session *s)
{
	const ebm_faults *f = &s->srv->faults;
	if (!f->drop_ws_after_s)
		return 0;
	uint64_t base = s->opened_ms > f->drop_set_ms ? s->opened_ms : f->drop_set_ms;
	return base + (uint64_t)f->drop_ws_after_s * 1000u;
}

static uint64_t auth_deadline(const ebm_ws_session *s)
{
	const ebm_server *srv = s->srv;
	if (s->authed || ws_silent(srv) ||
	    ebm_defect_on(srv, EBM_DEFECT_NO_AUTH_TIMEOUT))
		return 0;
	if (ebm_defect_on(srv, EBM_DEFECT_AUTH_TIMEOUT_EARLY))
		return s->opened_ms + srv->cfg.auth_timeout_ms / 2;
	return s->opened_ms + srv->cfg.auth_timeout_ms;
}

static uint64_t expire_deadline(const ebm_ws_session *s)
{
	if (!s->authed || !s->expire_ms || ws_silent(s->srv) ||
	    ebm_defect_on(s->srv, EBM_DEFECT_EXPIRED_SOCKET_OPEN))
		return 0;
	return s->expire_ms;
}

void ebm_ws_on_timer(ebm_ws_session *s)
{
	uint64_t now = ebm_mono_ms(), d;

	if (s->close_code || s->drop)
		return;
	d = drop_deadline(s);
	if (d && now >= d) {
		s->drop = true;
		s->srv->m.ws_drops_total++;
		return;
	}
	d = stall_deadline(s);
	if (d && now >= d) {
		s->drop = true;
		s->srv->m.ws_drops_total++;
		ebm_metrics_refusal(s->srv, EBM_REFUSE_WS_STALLED);
		out_clear(s);
		return;
	}
	d = auth_deadline(s);
	if (d && now >= d) {
		ws_close(s, EB_WS_CLOSE_AUTH_TIMEOUT);
		return;
	}
	d = expire_deadline(s);
	if (d && now >= d) {
		ws_close(s, EB_WS_CLOSE_AUTH);
		return;
	}
	if (s->ping_due_ms && now >= s->ping_due_ms) {
		s->ping_now = !ws_silent(s->srv);
		s->ping_due_ms = now + (uint64_t)s->srv->cfg.ping_interval_s * 1000u;
	}
	if (s->flush_ms && now >= s->flush_ms)
		s->flush_ms = 0;
}

uint64_t ebm_ws_next_deadline_ms(const ebm_ws_session *s)
{
	uint64_t best = 0;
	uint64_t c[6] = { drop_deadline(s), auth_deadline(s), expire_deadline(s),
			  s->ping_due_ms, s->flush_ms, stall_deadline(s) };
	if (s->close_code || s->drop)
		return 0;
	for (size_t i = 0; i < 6; i++)
		if (c[i] && (!best || c[i] < best))
			best = c[i];
	return best;
}

/* WS-NOTIF-3 (as amended): a store_changed of one store and version is
 * encoded once per fan-out pass and the same bytes go to every subscriber,
 * with the clock of the encoding while it is at most this old; the JSON
 * writer ran once per socket before (a tenth of the fan-out's user time). */
#define EBM_NOTIF_REUSE_MS 20u

/* The store_changed of (st, v) for one socket, malloc'd (NULL: out of memory
 * or an id the encoder refuses), from the pass's encoding when it fits. */
static char *notif_text(ebm_server *srv, const ebm_store *st, uint64_t v,
			size_t *len)
{
	ebm_notif_cache *c = &srv->notif;
	uint64_t now = eb_time_now_ms();
	char *t = NULL;

	if (c->built_ms && c->version == v && now >= c->built_ms &&
	    now - c->built_ms <= EBM_NOTIF_REUSE_MS && strcmp(c->id, st->id) == 0) {
		t = malloc(c->len + 1);
		if (t) {
			memcpy(t, c->text, c->len + 1);
			*len = c->len;
		}
		return t;
	}
	if (eb_ws_encode_store_changed(st->id, v, now, &t) != EB_OK)
		return NULL;
	*len = strlen(t);
	size_t id_len = strlen(st->id);
	if (*len < sizeof c->text && id_len < sizeof c->id) {
		memcpy(c->text, t, *len + 1);
		memcpy(c->id, st->id, id_len + 1);
		c->len = *len;
		c->version = v;
		c->built_ms = now;
	} else {
		c->built_ms = 0;   /* too long to keep: this socket's own */
	}
	return t;
}

static bool notify_ready(const ebm_ws_session *s)
{
	return s->n_pending && !s->flush_ms && !s->srv->faults.no_notify;
}

bool ebm_ws_wants_write(const ebm_ws_session *s)
{
	if (s->drop || s->close_code)
		return true;
	if (ws_silent(s->srv))
		return false;
	return s->out_head || s->ping_now || notify_ready(s);
}

/* A text message leaves: the extras fault decorates it, the event log
 * records it. */
static void ws_out_text(ebm_ws_session *s, char **text, size_t *len)
{
	if (s->srv->faults.extras) {
		char *d = ebm_extras_decorate(*text, *len);
		if (d) {
			free(*text);
			*text = d;
			*len = strlen(d);
		}
	}
	ebm_evlog_ws_out(s, *text, *len);
}

/* extras: an unknown message type after each store_changed (GEN-7). */
static void queue_future(ebm_ws_session *s, const char *store_id)
{
	char buf[EB_STORE_ID_MAX + 64];
	snprintf(buf, sizeof buf, "{\"type\":\"x-future\",\"storeId\":\"%s\"}", store_id);
	ws_queue(s, strdup(buf));
}

ebm_ws_out ebm_ws_next_out(ebm_ws_session *s, char **text, size_t *len,
			   int *close_code)
{
	ebm_server *srv = s->srv;

	*text = NULL;
	*len = 0;
	*close_code = 0;
	if (s->drop)
		return EBM_WS_OUT_DROP;
	if (s->close_code) {
		*close_code = s->close_code;
		return EBM_WS_OUT_CLOSE;
	}
	if (ws_silent(srv))
		return EBM_WS_OUT_NONE;
	if (s->out_head) {
		ebm_outmsg *m = s->out_head;
		s->out_head = m->next;
		if (!s->out_head)
			s->out_tail = NULL;
		s->out_bytes -= m->len;
		ebm_mem_give(srv, m->len);
		if (s->out_bytes < EBM_WS_MAX_PENDING)
			s->full_since_ms = 0;
		*text = malloc(m->len + 1);
		if (!*text) {
			free(m);
			s->drop = true;
			return EBM_WS_OUT_DROP;
		}
		memcpy(*text, m->data, m->len + 1);
		*len = m->len;
		free(m);
		ws_out_text(s, text, len);
		return EBM_WS_OUT_TEXT;
	}
	while (notify_ready(s)) {
		ebm_sub *sub = s->subs;
		while (sub && !sub->pending)
			sub = sub->sess_next;
		if (!sub) {
			s->n_pending = 0;
			break;
		}
		sub->pending = false;
		s->n_pending--;
		bool stale = ebm_defect_on(srv, EBM_DEFECT_STALE_NOTIFY_VERSION);
		uint64_t v = stale ? sub->pending_old : sub->store->version;
		bool force = stale || sub->dup_pending;
		sub->dup_pending = false;
		if (v <= sub->last_sent && !force)
			continue;   /* WS-NOTIF-4: already told this version */
		if (v > sub->last_sent)
			sub->last_sent = v;
		*text = notif_text(srv, sub->store, v, len);
		if (!*text)
			continue;
		srv->m.notifications_sent_total++;
		if (srv->faults.extras)
			queue_future(s, sub->store->id);
		ws_out_text(s, text, len);
		return EBM_WS_OUT_TEXT;
	}
	if (s->ping_now) {
		s->ping_now = false;
		return EBM_WS_OUT_PING;
	}
	return EBM_WS_OUT_NONE;
}

void ebm_ws_notify_commit(ebm_server *srv, ebm_store *st, uint64_t old_version,
		       const char *pusher_subject, bool only_duplicates)
{
	uint64_t now = ebm_mono_ms();
	bool skip_pusher = ebm_defect_on(srv, EBM_DEFECT_NO_NOTIFY_PUSHER);

	if (!st || srv->faults.no_notify)
		return;
	for (ebm_sub *sub = st->subs; sub; sub = sub->store_next) {
		ebm_ws_session *s = sub->sess;
		if (skip_pusher && pusher_subject && s->subject &&
		    strcmp(s->subject, pusher_subject) == 0)
			continue;
		/* the window opens with the first pending notification of the
		 * socket; later commits join it instead of pushing it back */
		if (srv->cfg.limits.coalesce_ms && !s->n_pending && !s->flush_ms)
			s->flush_ms = now + srv->cfg.limits.coalesce_ms;
		if (!sub->pending) {
			sub->pending = true;
			sub->pending_old = old_version;
			s->n_pending++;
		}
		if (only_duplicates)
			sub->dup_pending = true;
		ws_wake(s);
	}
	if (ebm_defect_on(srv, EBM_DEFECT_NOTIFY_NON_SUBSCRIBER)) {
		for (ebm_ws_session *s = srv->sessions; s; s = s->next) {
			if (!s->authed || sub_find(s, st->id))
				continue;
			char *out = NULL;
			if (eb_ws_encode_store_changed(st->id, st->version, eb_time_now_ms(),
						       &out) == EB_OK) {
				ws_queue(s, out);
				srv->m.notifications_sent_total++;
			}
			ws_wake(s);
		}
	}
}

void ebm_ws_faults_changed(ebm_server *srv, bool drop_now)
{
	for (ebm_ws_session *s = srv->sessions; s; s = s->next) {
		if (drop_now && !s->close_code) {
			s->drop = true;
			srv->m.ws_drops_total++;
		}
		ws_wake(s);
	}
}

size_t ebm_ws_close_all(ebm_server *srv, int code)
{
	size_t n = 0;
	for (ebm_ws_session *s = srv->sessions; s; s = s->next) {
		if (s->close_code || s->drop)
			continue;
		ws_close(s, code);
		ws_wake(s);
		n++;
	}
	return n;
}

size_t ebm_ws_close_revoked(ebm_server *srv)
{
	size_t n = 0;
	for (ebm_ws_session *s = srv->sessions; s; s = s->next) {
		if (s->close_code || s->drop || !s->jti || !ebm_auth_jti_revoked(srv, s->jti))
			continue;
		ws_close(s, EB_WS_CLOSE_AUTH);
		ws_wake(s);
		n++;
	}
	return n;
}

void ebm_ws_store_reset(ebm_server *srv, ebm_store *st)
{
	(void)srv;
	for (ebm_sub *sub = st->subs; sub; sub = sub->store_next) {
		sub->last_sent = 0;
		sub->pending_old = 0;
	}
}

size_t ebm_ws_shutdown_step(ebm_server *srv, size_t max_closing)
{
	size_t closing = 0, waiting = 0;
	for (ebm_ws_session *s = srv->sessions; s; s = s->next) {
		if (s->close_code || s->drop) {
			closing++;
		} else if (closing < max_closing) {
			ws_close(s, EB_WS_CLOSE_GOING_AWAY);
			ws_wake(s);
			closing++;
		} else {
			waiting++;
		}
	}
	return waiting;
}
