/*
 * ebm_faults.c — the admin side of ebmock's scripted faults: the state as
 * JSON, the strict parser of POST /admin/faults (every field checked before
 * anything changes), the actions it triggers (close sockets, drop or
 * re-version a store, revoke tokens) and the "fault"/"admin" lines of the
 * event log. (The "extras" fault's decoration is ebm_extras.c.)
 */
#include "ebm_faults.h"
#include "ebm_int.h"
#include "ebm_evlog.h"
#include "ebm_store.h"
#include "ebm_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eb_ids.h"
#include "eb_json.h"

#define EBM_FAULT_MAX_S 86400u
#define EBM_FAULT_MAX_MS (86400u * 1000u)

static uint64_t ms_left(uint64_t until, uint64_t now)
{
	return until > now ? until - now : 0;
}

static unsigned s_left(uint64_t until, uint64_t now)
{
	uint64_t ms = ms_left(until, now);
	return (unsigned)((ms + 999) / 1000);
}

char *ebm_faults_state_json(const ebm_server *srv)
{
	const ebm_faults *f = &srv->faults;
	uint64_t now = ebm_mono_ms();
	char *p = NULL;
	size_t len = 0, cap = 0;
	char head[768], drop[24];

	if (f->drop_ws_after_s)
		snprintf(drop, sizeof drop, "%u", (unsigned)f->drop_ws_after_s);
	else
		snprintf(drop, sizeof drop, "null");
	int n = snprintf(head, sizeof head,
			 "{\"refuseWs\":%s,\"dropWs\":%s,\"stall\":%s,\"http503Seconds\":%u,"
			 "\"http429Seconds\":%u,\"delayMs\":%u,\"noNotify\":%s,"
			 "\"silentWs\":%s,\"httpResetMs\":%llu,\"http503Ms\":%llu,"
			 "\"http429Ms\":%llu,\"retryAfterSeconds\":%u,\"extras\":%s,"
			 "\"pageMax\":%u,\"revoke\":[",
			 f->refuse_ws ? "true" : "false", drop, f->stall ? "true" : "false",
			 s_left(f->http503_until_ms, now), s_left(f->http429_until_ms, now),
			 (unsigned)f->delay_ms, f->no_notify ? "true" : "false",
			 f->silent_ws ? "true" : "false",
			 (unsigned long long)ms_left(f->http_reset_until_ms, now),
			 (unsigned long long)ms_left(f->http503_until_ms, now),
			 (unsigned long long)ms_left(f->http429_until_ms, now),
			 (unsigned)f->retry_after_s, f->extras ? "true" : "false",
			 (unsigned)f->page_max);
	cap = (size_t)n + 64 + (size_t)f->n_revoke * (EBM_REVOKE_JTI_MAX * 6 + 4);
	p = malloc(cap);
	if (!p)
		return NULL;
	memcpy(p, head, (size_t)n + 1);
	len = (size_t)n;
	for (uint32_t i = 0; i < f->n_revoke; i++) {
		if (i)
			p[len++] = ',';
		if (!ebm_json_str_append(&p, &len, &cap, f->revoke[i], strlen(f->revoke[i]))) {
			free(p);
			return NULL;
		}
	}
	if (len + 3 > cap) {
		char *np = realloc(p, len + 3);
		if (!np) {
			free(p);
			return NULL;
		}
		p = np;
	}
	memcpy(p + len, "]}", 3);
	return p;
}

/* ---- event log lines -------------------------------------------------------- */

void ebm_faults_log_state(ebm_server *srv)
{
	ebm_evlog *l = ebm_evlog_of(srv);
	ebm_ev e;
	if (!ebm_ev_begin(l, &e, "fault"))
		return;
	char *state = ebm_faults_state_json(srv);
	ebm_ev_raw(&e, "faults", state ? state : "null");
	free(state);
	ebm_ev_end(l, &e);
}

static void log_admin(ebm_server *srv, const char *action, const char *store,
		      bool has_n, const char *n_name, uint64_t n, bool has_code, int code)
{
	ebm_evlog *l = ebm_evlog_of(srv);
	ebm_ev e;
	if (!ebm_ev_begin(l, &e, "admin"))
		return;
	ebm_ev_str(&e, "action", action);
	if (store)
		ebm_ev_str(&e, "store", store);
	if (has_code)
		ebm_ev_int(&e, "code", code);
	if (has_n)
		ebm_ev_uint(&e, n_name, n);
	ebm_ev_end(l, &e);
}

void ebm_faults_log_clear(ebm_server *srv)
{
	log_admin(srv, "clear", NULL, false, NULL, 0, false, 0);
	ebm_faults_log_state(srv);
}

/* ---- POST /admin/faults -------------------------------------------------- */

/* After a store was dropped or re-versioned: its subscribers forget what
 * they were told, so the next commit notifies them again. A store without
 * subscribers may be gone already (nothing to tell then). */
static void subscribers_reset(ebm_server *srv, const char *id)
{
	ebm_store *st = ebm_store_find(srv, id);
	if (st)
		ebm_ws_store_reset(srv, st);
}

static bool close_code_ok(uint64_t c)
{
	/* RFC 6455 7.4.1: 1004-1006 and 1015 are never sent in a close frame */
	return c >= 1000 && c <= 4999 && !(c >= 1004 && c <= 1006) && c != 1015 &&
	       !(c >= 1016 && c < 3000);
}

static int bad(char *msg, size_t len, const char *what)
{
	snprintf(msg, len, "%s", what);
	return 400;
}

int ebm_faults_admin_post(ebm_server *srv, const char *body, size_t body_len,
			  char *msg, size_t msg_len)
{
	cJSON *root = NULL;
	eb_err err;
	ebm_faults f = srv->faults;
	uint64_t now = ebm_mono_ms(), v;
	bool drop_now = false, has_close = false, has_revoke = false;
	int close_code = 0;
	const char *drop_store = NULL, *ver_store = NULL;
	uint64_t ver = 0;
	int status = 200;

	eb_err_clear(&err);
	if (eb_json_parse(body ? body : "", body_len, 8, &root, &err) != EB_OK) {
		snprintf(msg, msg_len, "body is not JSON: %s", err.msg);
		return 400;
	}
	if (!cJSON_IsObject(root)) {
		status = bad(msg, msg_len, "expected a JSON object of fault fields");
		goto out;
	}
	for (const cJSON *m = root->child; m; m = m->next) {
		const char *k = m->string;
#define FIELD(name) (strcmp(k, name) == 0)
#define NEED(cond, what) do { if (!(cond)) { status = bad(msg, msg_len, what); goto out; } } while (0)
		if (FIELD("refuseWs")) {
			NEED(cJSON_IsBool(m), "refuseWs must be true or false");
			f.refuse_ws = cJSON_IsTrue(m);
		} else if (FIELD("stall")) {
			NEED(cJSON_IsBool(m), "stall must be true or false");
			f.stall = cJSON_IsTrue(m);
		} else if (FIELD("noNotify")) {
			NEED(cJSON_IsBool(m), "noNotify must be true or false");
			f.no_notify = cJSON_IsTrue(m);
		} else if (FIELD("silentWs")) {
			NEED(cJSON_IsBool(m), "silentWs must be true or false");
			f.silent_ws = cJSON_IsTrue(m);
		} else if (FIELD("extras")) {
			NEED(cJSON_IsBool(m), "extras must be true or false");
			f.extras = cJSON_IsTrue(m);
		} else if (FIELD("dropWs")) {
			if (cJSON_IsString(m) && strcmp(m->valuestring, "now") == 0) {
				drop_now = true;
			} else if (cJSON_IsNull(m)) {
				f.drop_ws_after_s = 0;
			} else {
				NEED(eb_json_get_uint53(m, &v) && v <= EBM_FAULT_MAX_S,
				     "dropWs must be \"now\", null or seconds 0-86400");
				f.drop_ws_after_s = (uint32_t)v;
				f.drop_set_ms = now;
			}
		} else if (FIELD("http503Seconds") || FIELD("http429Seconds")) {
			NEED(eb_json_get_uint53(m, &v) && v <= EBM_FAULT_MAX_S,
			     "http503Seconds/http429Seconds must be seconds 0-86400");
			uint64_t until = v ? now + v * 1000u : 0;
			if (FIELD("http503Seconds"))
				f.http503_until_ms = until;
			else
				f.http429_until_ms = until;
		} else if (FIELD("http503Ms") || FIELD("http429Ms") || FIELD("httpResetMs")) {
			NEED(eb_json_get_uint53(m, &v) && v <= EBM_FAULT_MAX_MS,
			     "http503Ms/http429Ms/httpResetMs must be milliseconds 0-86400000");
			uint64_t until = v ? now + v : 0;
			if (FIELD("http503Ms"))
				f.http503_until_ms = until;
			else if (FIELD("http429Ms"))
				f.http429_until_ms = until;
			else
				f.http_reset_until_ms = until;
		} else if (FIELD("retryAfterSeconds")) {
			NEED(eb_json_get_uint53(m, &v) && v <= EBM_FAULT_MAX_S,
			     "retryAfterSeconds must be seconds 0-86400 (0: time left)");
			f.retry_after_s = (uint32_t)v;
		} else if (FIELD("delayMs")) {
			NEED(eb_json_get_uint53(m, &v) && v <= 600000,
			     "delayMs must be milliseconds 0-600000");
			f.delay_ms = (uint32_t)v;
		} else if (FIELD("pageMax")) {
			NEED(eb_json_get_uint53(m, &v) && v <= 1000000,
			     "pageMax must be an integer 0-1000000 (0: off)");
			f.page_max = (uint32_t)v;
		} else if (FIELD("closeWs")) {
			NEED(eb_json_get_uint53(m, &v) && close_code_ok(v),
			     "closeWs must be a close code 1000-4999 that may be sent "
			     "(not 1004-1006, 1015, 1016-2999)");
			has_close = true;
			close_code = (int)v;
		} else if (FIELD("dropStore")) {
			NEED(cJSON_IsString(m) &&
			     eb_store_id_valid(m->valuestring, strlen(m->valuestring)),
			     "dropStore must be a valid store id");
			drop_store = m->valuestring;
		} else if (FIELD("storeVersion")) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "store");
			const cJSON *vv = cJSON_GetObjectItemCaseSensitive(m, "version");
			NEED(cJSON_IsObject(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(s) &&
			     eb_store_id_valid(s->valuestring, strlen(s->valuestring)) &&
			     eb_json_get_uint53(vv, &ver),
			     "storeVersion must be {\"store\":ID,\"version\":N}");
			NEED(ver <= EB_MAX_UINT53 - 1,
			     "storeVersion: version above 2^53-2 leaves no room for a change");
			ver_store = s->valuestring;
		} else if (FIELD("revoke")) {
			NEED(cJSON_IsArray(m) && cJSON_GetArraySize(m) <= EBM_REVOKE_MAX,
			     "revoke must be an array of at most 16 jti strings");
			uint32_t n = 0;
			for (const cJSON *j = m->child; j; j = j->next) {
				NEED(cJSON_IsString(j) && j->valuestring[0] &&
				     strlen(j->valuestring) <= EBM_REVOKE_JTI_MAX,
				     "revoke: every jti must be a string of 1-128 bytes");
				memcpy(f.revoke[n], j->valuestring, strlen(j->valuestring) + 1);
				n++;
			}
			f.n_revoke = n;
			has_revoke = true;
		} else {
			snprintf(msg, msg_len,
				 "unknown field \"%.64s\" (refuseWs, dropWs, stall, http503Seconds, "
				 "http429Seconds, http503Ms, http429Ms, httpResetMs, retryAfterSeconds, "
				 "delayMs, noNotify, silentWs, extras, pageMax, closeWs, dropStore, "
				 "storeVersion, revoke)", k);
			status = 400;
			goto out;
		}
#undef NEED
#undef FIELD
	}
	if (ver_store) {
		ebm_store *st = ebm_store_find(srv, ver_store);
		bool dropped = drop_store && strcmp(drop_store, ver_store) == 0;
		if (st && st->n && !dropped) {
			snprintf(msg, msg_len, "storeVersion: store %s has changes (dropStore it first)",
				 ver_store);
			status = 400;
			goto out;
		}
	}
	if ((drop_store || ver_store) && srv->be->remote) {
		/* docs/EBMOCK.md, cluster mode: every node's copy would have to
		 * change with the database at once */
		snprintf(msg, msg_len, "%s: not in cluster mode (--backend)",
			 drop_store ? "dropStore" : "storeVersion");
		status = 400;
		goto out;
	}
	/* everything checked: apply */
	srv->faults = f;
	if (drop_store) {
		if (ebm_store_drop(srv, drop_store, &err) != EB_OK) {
			snprintf(msg, msg_len, "dropStore: %s", err.msg);
			status = 500;
			goto out;
		}
		subscribers_reset(srv, drop_store);
		log_admin(srv, "dropStore", drop_store, false, NULL, 0, false, 0);
	}
	if (ver_store) {
		eb_rc rc = ebm_store_set_version(srv, ver_store, ver, &err);
		if (rc != EB_OK) {
			snprintf(msg, msg_len, "storeVersion: %s", err.msg);
			status = rc == EB_ERR_ARG ? 400 : 500;
			goto out;
		}
		subscribers_reset(srv, ver_store);
		log_admin(srv, "storeVersion", ver_store, true, "version", ver, false, 0);
	}
	if (drop_now) {
		size_t n = ebm_ws_count(srv);
		log_admin(srv, "dropWs", NULL, true, "sockets", n, false, 0);
	}
	ebm_ws_faults_changed(srv, drop_now);
	if (has_close) {
		size_t n = ebm_ws_close_all(srv, close_code);
		log_admin(srv, "closeWs", NULL, true, "sockets", n, true, close_code);
	}
	if (has_revoke) {
		size_t n = ebm_ws_close_revoked(srv);
		log_admin(srv, "revoke", NULL, true, "sockets", n, false, 0);
	}
	ebm_faults_log_state(srv);
out:
	cJSON_Delete(root);
	return status;
}
