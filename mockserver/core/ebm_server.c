/*
 * ebm_server.c — configuration, lifetime, the defect table, fault specs, the
 * token-bucket rate limiter and metrics counters of the ebmock core.
 */
#include "ebm_int.h"
#include "eb_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Mirrors the table of docs/DEFECTS.md row by row (a test compares them). */
static const ebm_defect_info ebm_defects[EBM_DEFECT__COUNT] = {
	[EBM_DEFECT_VERSION_GAP] = { "version-gap", "VER-2",
		"the second change of every batch skips a version (gap of one)" },
	[EBM_DEFECT_DUPLICATE_NEW_VERSION] = { "duplicate-new-version", "IDEM-2",
		"a duplicate change (same id, same content) is stored again with a new version" },
	[EBM_DEFECT_CONFLICT_ACCEPTED] = { "conflict-accepted", "IDEM-3",
		"the same id with other content across requests is accepted as a new change" },
	[EBM_DEFECT_INTERNAL_CONFLICT_ACCEPTED] = { "internal-conflict-accepted", "IDEM-4",
		"the same id twice with different content inside one request is accepted" },
	[EBM_DEFECT_ECHO_OWN_CHANGES] = { "echo-own-changes", "SYNC-5",
		"the sync response includes the changes the same request pushed" },
	[EBM_DEFECT_CHANGES_OUT_OF_ORDER] = { "changes-out-of-order", "FEED-3",
		"the changes feed returns changes in descending version order" },
	[EBM_DEFECT_SINCE_OFF_BY_ONE] = { "since-off-by-one", "FEED-3",
		"the changes feed includes the change whose version equals `since`" },
	[EBM_DEFECT_HASMORE_WRONG] = { "hasmore-wrong", "SYNC-7",
		"`hasMore` is true on the last page" },
	[EBM_DEFECT_PARTIAL_BATCH] = { "partial-batch", "SYNC-2",
		"a batch with an invalid change commits the valid changes before it" },
	[EBM_DEFECT_NO_RESYNC] = { "no-resync", "SYNC-8",
		"a `lastKnownVersion` ahead of the store is answered 200 instead of 409" },
	[EBM_DEFECT_EMPTY_BATCH_BUMPS_VERSION] = { "empty-batch-bumps-version", "VER-5",
		"a sync without changes increments the version" },
	[EBM_DEFECT_TIMESTAMP_REWRITTEN] = { "timestamp-rewritten", "TS-1",
		"the server replaces each change's timestamp with its own clock" },
	[EBM_DEFECT_FUTURE_TIMESTAMP_ACCEPTED] = { "future-timestamp-accepted", "TS-2",
		"timestamps far in the future are accepted" },
	[EBM_DEFECT_DELETE_VALUE_ACCEPTED] = { "delete-value-accepted", "CHG-6",
		"a `delete` carrying a `value` is accepted" },
	[EBM_DEFECT_DUP_KEY_ACCEPTED] = { "dup-key-accepted", "GEN-6",
		"a body with a duplicate member name is accepted (last one wins)" },
	[EBM_DEFECT_LIMIT_CLAMPED] = { "limit-clamped", "LIMIT-7",
		"`limit` above 1000 is silently clamped instead of 400" },
	[EBM_DEFECT_BODY_LIMIT_IGNORED] = { "body-limit-ignored", "LIMIT-1",
		"bodies over the size limit (up to 8 MiB) are accepted" },
	[EBM_DEFECT_ERROR_WITHOUT_CODE] = { "error-without-code", "ERR-1",
		"error bodies carry only `message`, no `code`" },
	[EBM_DEFECT_CHECK_ORDER_WRONG] = { "check-order-wrong", "ERR-3",
		"the body is validated before authentication (bad JSON without a token gives 400, not 401)" },
	[EBM_DEFECT_ALG_NONE_ACCEPTED] = { "alg-none-accepted", "AUTH-3",
		"tokens with `alg: none` are accepted" },
	[EBM_DEFECT_EXP_IGNORED] = { "exp-ignored", "AUTH-4",
		"expired tokens are accepted" },
	[EBM_DEFECT_NBF_IGNORED] = { "nbf-ignored", "AUTH-5",
		"tokens not yet valid are accepted" },
	[EBM_DEFECT_ISSUER_IGNORED] = { "issuer-ignored", "AUTH-6",
		"a wrong `iss` is accepted" },
	[EBM_DEFECT_READONLY_CAN_PUSH] = { "readonly-can-push", "AUTH-11",
		"a token with read but not write permission can push changes" },
	[EBM_DEFECT_NO_RETRY_AFTER] = { "no-retry-after", "ERR-6",
		"429 responses carry no `Retry-After`" },
	[EBM_DEFECT_NO_NOTIFY_PUSHER] = { "no-notify-pusher", "WS-NOTIF-1",
		"sockets authenticated with the pushing request's subject are not notified" },
	[EBM_DEFECT_STALE_NOTIFY_VERSION] = { "stale-notify-version", "WS-NOTIF-3",
		"`store_changed` carries the version before the commit" },
	[EBM_DEFECT_NOTIFY_DUPLICATE] = { "notify-duplicate", "WS-NOTIF-7",
		"a push of only duplicates still notifies (with an unchanged version)" },
	[EBM_DEFECT_NOTIFY_NON_SUBSCRIBER] = { "notify-non-subscriber", "WS-NOTIF-6",
		"notifications go to every authenticated socket, subscribed or not" },
	[EBM_DEFECT_NOTIFY_AFTER_UNSUBSCRIBE] = { "notify-after-unsubscribe", "WS-SUB-5",
		"unsubscribe is acknowledged but the subscription stays" },
	[EBM_DEFECT_NO_ACK_VERSION] = { "no-ack-version", "WS-SUB-1",
		"the `subscribed` ack omits each store's `version`" },
	[EBM_DEFECT_FORBIDDEN_SUBSCRIBE_CLOSES] = { "forbidden-subscribe-closes", "WS-SUB-3",
		"subscribing to a forbidden store closes the socket with 4403" },
	[EBM_DEFECT_NO_AUTH_TIMEOUT] = { "no-auth-timeout", "WS-AUTH-1",
		"an unauthenticated socket is never closed" },
	[EBM_DEFECT_EXPIRED_SOCKET_OPEN] = { "expired-socket-open", "WS-AUTH-5",
		"a socket whose token expires stays open" },
	[EBM_DEFECT_MALFORMED_KEEPS_OPEN] = { "malformed-keeps-open", "WS-2",
		"a malformed message is ignored instead of closing with 4400" },
	[EBM_DEFECT_NO_PONG] = { "no-pong", "WS-5",
		"application-level `ping` gets no `pong`" },
	[EBM_DEFECT_WS_FRAME_LIMIT_IGNORED] = { "ws-frame-limit-ignored", "LIMIT-6",
		"WebSocket messages over the size limit (up to 1 MiB) are processed" },
	[EBM_DEFECT_WS_RATE_NO_CLOSE] = { "ws-rate-no-close", "RATE-4",
		"WebSocket messages over the rate limit get errors but the socket is never closed" },
	[EBM_DEFECT_FUTURE_TIMESTAMP_CLAMPED] = { "future-timestamp-clamped", "TS-1",
		"a timestamp ahead of the server's clock but within the skew allowance is stored as the server's clock" },
	[EBM_DEFECT_OWN_FILTER_AFTER_LIMIT] = { "own-filter-after-limit", "SYNC-7",
		"the sync response takes `limit` changes first and only then leaves out the pushed ones, so a page comes back short or empty with `hasMore: true`" },
	[EBM_DEFECT_AUD_ARRAY_UNCHECKED] = { "aud-array-unchecked", "AUTH-6",
		"a token whose `aud` is an array is accepted without looking at its members" },
	[EBM_DEFECT_REAUTH_KEEPS_EXPIRY] = { "reauth-keeps-expiry", "WS-AUTH-6",
		"a re-auth is answered `auth_ok` but the socket keeps the first token's expiry" },
	[EBM_DEFECT_REAUTH_KEEPS_PERMISSIONS] = { "reauth-keeps-permissions", "WS-AUTH-6",
		"a re-auth is answered `auth_ok` but the socket keeps the first token's permissions" },
	[EBM_DEFECT_ID_LENGTH_CHARS] = { "id-length-chars", "LIMIT-5",
		"the change-id limit counts characters instead of UTF-8 bytes" },
	[EBM_DEFECT_RATE_BUCKET_PER_TOKEN] = { "rate-bucket-per-token", "RATE-1",
		"the HTTP rate bucket is kept per token instead of per subject: a new token of the same subject starts full" },
	[EBM_DEFECT_SYNC_NOT_RATE_LIMITED] = { "sync-not-rate-limited", "RATE-2",
		"`POST …/sync` is never rate-limited (the changes feed still is)" },
	[EBM_DEFECT_FEED_HIDES_DELETES] = { "feed-hides-deletes", "FEED-6",
		"the changes feed leaves out `delete` changes" },
	[EBM_DEFECT_PONG_WITHOUT_REQUEST_ID] = { "pong-without-request-id", "WS-4",
		"`pong` carries no `requestId`" },
	[EBM_DEFECT_VALUE_SIZE_CHARS] = { "value-size-chars", "CHG-7",
		"the value size limit counts characters of the canonical form instead of UTF-8 bytes" },
	[EBM_DEFECT_CONFLICT_BURNS_VERSION] = { "conflict-burns-version", "VER-2",
		"a request refused with `CHANGE_ID_CONFLICT` still uses up a version: the next commit leaves a gap" },
	[EBM_DEFECT_REAUTH_KEEPS_SUBSCRIPTIONS] = { "reauth-keeps-subscriptions", "WS-AUTH-8",
		"after a re-auth with fewer permissions, subscriptions to stores the new token may not read stay and keep notifying" },
	[EBM_DEFECT_AUTH_TIMEOUT_EARLY] = { "auth-timeout-early", "WS-AUTH-9",
		"an unauthenticated socket is closed with 4408 after half the auth timeout (5 s instead of 10 s)" },
	[EBM_DEFECT_SUBSCRIBE_TWICE_DOUBLES] = { "subscribe-twice-doubles", "WS-SUB-7",
		"a store named twice in one `subscribe` gets two subscriptions: two notifications per commit" },
	[EBM_DEFECT_CLUSTER_LOCAL_NOTIFY] = { "cluster-local-notify", "CLUSTER-5",
		"with `--backend`: a commit notifies only the sockets of the node that made it (other nodes' NOTIFYs are ignored)" },
	[EBM_DEFECT_CLUSTER_VERSIONS_PER_NODE] = { "cluster-versions-per-node", "CLUSTER-3",
		"with `--backend`: a node numbers a commit from its own copy of the store without checking the database (two nodes at once give out one version; one change is lost)" },
	[EBM_DEFECT_CLUSTER_IDEM_PER_NODE] = { "cluster-idempotency-per-node", "CLUSTER-4",
		"with `--backend`: a node looks change ids up only among the changes it committed itself (a duplicate sent to another node is not recognized)" },
	[EBM_DEFECT_CLUSTER_NOTIFY_BEFORE_COMMIT] = { "cluster-notify-before-commit", "CLUSTER-5",
		"with `--backend`: the NOTIFY goes out before the transaction commits (100 ms before): other nodes read nothing new and never notify" },
	[EBM_DEFECT_PIPELINE_DROPPED] = { "pipelined-replies-dropped", "WS-CLOSE-4",
		"a client that pipelines requests is dropped (no close frame) as soon as 64 KiB of its replies are pending, although it reads them" },
};

const ebm_defect_info *ebm_defect_get(ebm_defect d)
{
	if ((unsigned)d >= EBM_DEFECT__COUNT)
		return NULL;
	return &ebm_defects[d];
}

int ebm_defect_by_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < EBM_DEFECT__COUNT; i++)
		if (strcmp(ebm_defects[i].name, name) == 0)
			return i;
	return -1;
}

bool ebm_defect_on(const ebm_server *srv, ebm_defect d)
{
	return srv && (unsigned)d < EBM_DEFECT__COUNT &&
	       (srv->cfg.defects & ((uint64_t)1 << d)) != 0;
}

uint64_t ebm_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *ebm_print(const cJSON *v)
{
	char *out = NULL;
	if (!v || eb_json_print(v, &out, NULL) != EB_OK)
		return NULL;
	return out;
}

/* ---- faults ---------------------------------------------------------------- */

static bool ebm_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end = NULL;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

eb_rc ebm_fault_parse(const char *spec, uint64_t now_ms, ebm_faults *f,
		      eb_err *err)
{
	const char *eq = strchr(spec, '=');
	size_t nlen = eq ? (size_t)(eq - spec) : strlen(spec);
	const char *arg = eq ? eq + 1 : NULL;
	uint32_t v = 0;

#define EBM_NAME_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(spec, lit, nlen) == 0)
	if (EBM_NAME_IS("refuse-ws") && !arg) {
		f->refuse_ws = true;
	} else if (EBM_NAME_IS("stall") && !arg) {
		f->stall = true;
	} else if (EBM_NAME_IS("no-notify") && !arg) {
		f->no_notify = true;
	} else if (EBM_NAME_IS("drop-ws-after") && ebm_parse_u32(arg, 86400, &v)) {
		f->drop_ws_after_s = v;
		f->drop_set_ms = now_ms;
	} else if (EBM_NAME_IS("http-503") && ebm_parse_u32(arg, 86400, &v)) {
		f->http503_until_ms = v ? now_ms + (uint64_t)v * 1000u : 0;
	} else if (EBM_NAME_IS("http-429") && ebm_parse_u32(arg, 86400, &v)) {
		f->http429_until_ms = v ? now_ms + (uint64_t)v * 1000u : 0;
	} else if (EBM_NAME_IS("delay-ms") && ebm_parse_u32(arg, 600000, &v)) {
		f->delay_ms = v;
	} else if (EBM_NAME_IS("silent-ws") && !arg) {
		f->silent_ws = true;
	} else if (EBM_NAME_IS("extras") && !arg) {
		f->extras = true;
	} else if (EBM_NAME_IS("http-reset-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http_reset_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("http-503-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http503_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("http-429-ms") && ebm_parse_u32(arg, 86400000, &v)) {
		f->http429_until_ms = v ? now_ms + v : 0;
	} else if (EBM_NAME_IS("retry-after") && ebm_parse_u32(arg, 86400, &v)) {
		f->retry_after_s = v;
	} else if (EBM_NAME_IS("page-max") && ebm_parse_u32(arg, 1000000, &v)) {
		f->page_max = v;
	} else {
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "unknown or malformed fault '%s' (refuse-ws, stall, no-notify, drop-ws-after=N, http-503=S, http-429=S, delay-ms=N, silent-ws, extras, http-reset-ms=N, http-503-ms=N, http-429-ms=N, retry-after=S, page-max=N)",
				  spec);
	}
#undef EBM_NAME_IS
	return EB_OK;
}

/* ---- config and lifetime ------------------------------------------------- */

void ebm_config_default(ebm_config *c)
{
	memset(c, 0, sizeof *c);
	eb_limits_default(&c->limits);
	c->jwt_leeway_s = 5;
	c->auth_timeout_ms = 10000;
	c->ping_interval_s = 30;
	c->mem_budget_bytes = EBM_MEM_BUDGET_DEFAULT;
	c->body_timeout_ms = EBM_BODY_TIMEOUT_DEFAULT_MS;
	c->ws_stall_ms = EBM_WS_STALL_DEFAULT_MS;
}

static eb_rc ebm_dup(const char *s, char **own)
{
	*own = NULL;
	if (!s)
		return EB_OK;
	*own = strdup(s);
	return *own ? EB_OK : EB_ERR_NOMEM;
}

static void ebm_buckets_clear(ebm_buckets *b)
{
	for (size_t i = 0; i < b->cap; i++) {
		ebm_bucket *k = b->tab[i];
		while (k) {
			ebm_bucket *nx = k->next;
			free(k);
			k = nx;
		}
	}
	free(b->tab);
	b->tab = NULL;
	b->cap = b->n = 0;
}

eb_rc ebm_server_new(const ebm_config *cfg, ebm_wake_fn wake, void *glue,
		     ebm_server **out, eb_err *err)
{
	eb_rc rc = EB_OK;
	ebm_server *srv = NULL;

	*out = NULL;
	if (!cfg->no_auth && !cfg->jwt_secret && !cfg->jwt_public_pem)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "no JWT key configured and --no-auth not given");
	if (cfg->jwt_leeway_s > 60)
		return eb_err_set(err, EB_ERR_ARG, "AUTH-7", NULL, NULL, -1,
				  "leeway above 60 s");
	if (cfg->limits.coalesce_ms > 250)
		return eb_err_set(err, EB_ERR_ARG, "WS-NOTIF-5", NULL, NULL, -1,
				  "coalescing window above 250 ms");
	srv = calloc(1, sizeof *srv);
	if (!srv)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	srv->cfg = *cfg;
	srv->be = ebm_store_memory_ops();
	if (ebm_dup(cfg->jwt_secret, &srv->own_secret) ||
	    ebm_dup(cfg->jwt_public_pem, &srv->own_pem) ||
	    ebm_dup(cfg->jwt_issuer, &srv->own_issuer) ||
	    ebm_dup(cfg->jwt_audience, &srv->own_audience) ||
	    ebm_dup(cfg->data_path, &srv->own_data) ||
	    ebm_dup(cfg->admin_token, &srv->own_admin)) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	srv->cfg.jwt_secret = srv->own_secret;
	srv->cfg.jwt_public_pem = srv->own_pem;
	srv->cfg.jwt_issuer = srv->own_issuer;
	srv->cfg.jwt_audience = srv->own_audience;
	srv->cfg.data_path = srv->own_data;
	srv->cfg.admin_token = srv->own_admin;
	srv->faults = cfg->faults;
	srv->wake = wake;
	srv->glue = glue;
	srv->rate_http.per_s = cfg->limits.rate_limit_on ? cfg->limits.http_per_second : 0;
	srv->rate_http.burst = cfg->limits.http_burst;
	srv->rate_ws.per_s = cfg->limits.rate_limit_on ? cfg->limits.ws_per_second : 0;
	srv->rate_ws.burst = cfg->limits.ws_burst;

	if (!cfg->no_auth) {
		eb_jwt_verifier_opts o;
		memset(&o, 0, sizeof o);
		o.hs256_secret = srv->own_secret;
		o.hs256_secret_len = srv->own_secret ? strlen(srv->own_secret) : 0;
		o.rs256_public_pem = srv->own_pem;
		o.issuer = srv->own_issuer;
		o.audience = srv->own_audience;
		o.leeway_s = cfg->jwt_leeway_s;
		rc = eb_jwt_verifier_new(&o, &srv->jwt, err);
		if (rc != EB_OK)
			goto out;
		if (ebm_defect_on(srv, EBM_DEFECT_ISSUER_IGNORED)) {
			o.issuer = NULL;
			rc = eb_jwt_verifier_new(&o, &srv->jwt_noiss, err);
			if (rc != EB_OK)
				goto out;
		}
		if (ebm_defect_on(srv, EBM_DEFECT_AUD_ARRAY_UNCHECKED)) {
			o.issuer = srv->own_issuer;
			o.audience = NULL;
			rc = eb_jwt_verifier_new(&o, &srv->jwt_noaud, err);
			if (rc != EB_OK)
				goto out;
		}
	}
	srv->stores_cap = 64;
	srv->stores = calloc(srv->stores_cap, sizeof *srv->stores);
	if (!srv->stores) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	if (srv->cfg.data_path) {
		rc = ebm_store_open_db(srv, srv->cfg.data_path, err);
		if (rc != EB_OK)
			goto out;
	}
	*out = srv;
	srv = NULL;
out:
	ebm_server_free(srv);
	return rc;
}

void ebm_server_free(ebm_server *srv)
{
	if (!srv)
		return;
	while (srv->sessions)
		ebm_ws_free(srv->sessions);
	ebm_store_close_all(srv);
	eb_jwt_verifier_free(srv->jwt);
	eb_jwt_verifier_free(srv->jwt_noiss);
	eb_jwt_verifier_free(srv->jwt_noaud);
	ebm_buckets_clear(&srv->rate_http);
	ebm_buckets_clear(&srv->rate_ws);
	free(srv->own_secret);
	free(srv->own_pem);
	free(srv->own_issuer);
	free(srv->own_audience);
	free(srv->own_data);
	free(srv->own_admin);
	free(srv);
}

const eb_limits *ebm_server_limits(const ebm_server *srv)
{
	return &srv->cfg.limits;
}

const ebm_config *ebm_server_config(const ebm_server *srv)
{
	return &srv->cfg;
}

const ebm_faults *ebm_server_faults(const ebm_server *srv)
{
	return &srv->faults;
}

/* ---- rate limiter ----------------------------------------------------------- */

static uint64_t ebm_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A full bucket is the same as no bucket: drop those so that many distinct
 * addresses cannot grow the table without bound. */
static void ebm_buckets_sweep(ebm_buckets *b, uint64_t now_ms)
{
	for (size_t i = 0; i < b->cap; i++) {
		ebm_bucket **pp = &b->tab[i];
		while (*pp) {
			ebm_bucket *k = *pp;
			double t = k->tokens + (double)(now_ms - k->last_ms) * b->per_s / 1000.0;
			if (t >= b->burst) {
				*pp = k->next;
				free(k);
				b->n--;
			} else {
				pp = &k->next;
			}
		}
	}
}

bool ebm_rate_take(ebm_buckets *b, const char *key, uint64_t now_ms,
		   unsigned *retry_s)
{
	if (b->per_s <= 0)
		return true;
	if (!b->tab) {
		b->cap = 256;
		b->tab = calloc(b->cap, sizeof *b->tab);
		if (!b->tab) {
			b->cap = 0;
			return true;
		}
	}
	if (b->n > 4 * b->cap)
		ebm_buckets_sweep(b, now_ms);
	size_t slot = ebm_hash(key) % b->cap;
	ebm_bucket *k = b->tab[slot];
	while (k && strcmp(k->key, key) != 0)
		k = k->next;
	if (!k) {
		size_t kl = strlen(key);
		k = malloc(sizeof *k + kl + 1);
		if (!k)
			return true;
		memcpy(k->key, key, kl + 1);
		k->tokens = b->burst > 0 ? b->burst : 1;
		k->last_ms = now_ms;
		k->next = b->tab[slot];
		b->tab[slot] = k;
		b->n++;
	}
	double burst = b->burst > 0 ? b->burst : 1;
	k->tokens += (double)(now_ms - k->last_ms) * b->per_s / 1000.0;
	if (k->tokens > burst)
		k->tokens = burst;
	k->last_ms = now_ms;
	if (k->tokens >= 1.0) {
		k->tokens -= 1.0;
		return true;
	}
	if (retry_s) {
		double wait = (1.0 - k->tokens) / b->per_s;
		unsigned s = (unsigned)wait;
		if ((double)s < wait)
			s++;
		*retry_s = s < 1 ? 1 : s;
	}
	return false;
}

/* ---- metrics -------------------------------------------------------------- */

void ebm_metrics_http(ebm_server *srv, ebm_route route, int status)
{
	ebm_metrics *m = &srv->m;
	m->http_requests_total++;
	for (size_t i = 0; i < m->n_http; i++) {
		if (m->http[i].route == route && m->http[i].status == status) {
			m->http[i].n++;
			return;
		}
	}
	if (m->n_http < sizeof m->http / sizeof m->http[0]) {
		m->http[m->n_http].route = (uint8_t)route;
		m->http[m->n_http].status = (uint16_t)status;
		m->http[m->n_http].n = 1;
		m->n_http++;
	}
}

void ebm_metrics_conn(ebm_server *srv, int delta)
{
	srv->m.connections += delta;
}

void ebm_metrics_refusal(ebm_server *srv, ebm_refusal why)
{
	if ((unsigned)why < EBM_REFUSE__COUNT)
		srv->m.refusals[why]++;
}

/* ---- memory budget --------------------------------------------------------- */

bool ebm_mem_take(ebm_server *srv, size_t n)
{
	if (srv->mem_used + n > srv->cfg.mem_budget_bytes)
		return false;
	srv->mem_used += n;
	return true;
}

void ebm_mem_force(ebm_server *srv, size_t n)
{
	srv->mem_used += n;
}

void ebm_mem_give(ebm_server *srv, size_t n)
{
	srv->mem_used = n > srv->mem_used ? 0 : srv->mem_used - n;
}

bool ebm_mem_spent(const ebm_server *srv)
{
	return srv->mem_used >= srv->cfg.mem_budget_bytes;
}
