/*
 * ebcc_core.c — the pure pieces of the client suite: driver line framing,
 * parsing of ebmock's event log, interval windows. No I/O; in libebconform.a
 * so tests/unit/check_clientsuite.c links it like ebconform does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ebcc.h"
#include "eb_json.h"

/* ---- line framing ------------------------------------------------------------ */

void ebcc_lines_init(ebcc_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max ? max : EBCC_MAX_LINE;
}

void ebcc_lines_clear(ebcc_lines *l)
{
	if (!l)
		return;
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

int ebcc_lines_push(ebcc_lines *l, const char *data, size_t n)
{
	size_t start = 0, i;

	if (l->too_long)
		return -1;
	/* The bytes after the last newline form the pending line: it must stay
	 * within max, checked as they arrive so a peer that never sends a
	 * newline cannot grow the buffer. */
	for (i = l->len; i > 0; i--)
		if (l->buf[i - 1] == '\n') {
			start = i;
			break;
		}
	{
		size_t pending = l->len - start, j;

		for (j = 0; j < n; j++) {
			if (data[j] == '\n') {
				pending = 0;
				continue;
			}
			if (++pending > l->max) {
				l->too_long = true;
				return -1;
			}
		}
	}
	if (l->len + n + 1 > l->cap) {
		size_t nc = l->cap ? l->cap : 4096;
		char *p;

		while (nc < l->len + n + 1)
			nc *= 2;
		p = realloc(l->buf, nc);
		if (!p)
			return -1;
		l->buf = p;
		l->cap = nc;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	return 0;
}

int ebcc_lines_next(ebcc_lines *l, char **out, size_t *len)
{
	char *nl, *s;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!l->buf || l->len == 0)
		return 0;
	nl = memchr(l->buf, '\n', l->len);
	if (!nl)
		return 0;
	n = (size_t)(nl - l->buf);
	s = malloc(n + 1);
	if (!s)
		return -1;
	memcpy(s, l->buf, n);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	s[n] = '\0';
	memmove(l->buf, nl + 1, l->len - (size_t)(nl - l->buf) - 1);
	l->len -= (size_t)(nl - l->buf) + 1;
	*out = s;
	*len = n;
	return 1;
}

/* ---- event log ----------------------------------------------------------------- */

static const struct { const char *name; ebcc_ev_kind kind; } core_kinds[] = {
	{ "http", EBCC_EV_HTTP },
	{ "ws_open", EBCC_EV_WS_OPEN },
	{ "ws_refused", EBCC_EV_WS_REFUSED },
	{ "ws_in", EBCC_EV_WS_IN },
	{ "ws_out", EBCC_EV_WS_OUT },
	{ "ws_close", EBCC_EV_WS_CLOSE },
	{ "fault", EBCC_EV_FAULT },
	{ "admin", EBCC_EV_ADMIN },
};

const char *ebcc_ev_kind_name(ebcc_ev_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(core_kinds) / sizeof(core_kinds[0]); i++)
		if (core_kinds[i].kind == k)
			return core_kinds[i].name;
	return "other";
}

static void core_str(const cJSON *o, const char *name, char *dst, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	dst[0] = '\0';
	if (cJSON_IsString(v) && v->valuestring)
		snprintf(dst, len, "%s", v->valuestring);
}

static bool core_num(const cJSON *o, const char *name, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v))
		return false;
	*out = v->valuedouble;
	return true;
}

static long core_long(const cJSON *o, const char *name)
{
	double d;

	return core_num(o, name, &d) ? (long)d : -1;
}

static int64_t core_i64(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	uint64_t u;

	if (v && eb_json_get_uint53(v, &u))
		return (int64_t)u;
	return -1;
}

/* since=N from a query string, -1 when absent. */
static int64_t core_query_since(const char *q)
{
	const char *p = q;

	while (p && *p) {
		if (strncmp(p, "since=", 6) == 0) {
			char *end = NULL;
			unsigned long long v = strtoull(p + 6, &end, 10);

			if (end != p + 6)
				return (int64_t)v;
			return -1;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return -1;
}

/* The store id out of /api/stores/<id>/... */
static void core_path_store(const char *path, char *dst, size_t len)
{
	const char *p = "/api/stores/";
	const char *s, *e;

	if (strncmp(path, p, strlen(p)) != 0)
		return;
	s = path + strlen(p);
	e = strchr(s, '/');
	if (!e)
		e = s + strlen(s);
	if ((size_t)(e - s) < len) {
		memcpy(dst, s, (size_t)(e - s));
		dst[e - s] = '\0';
	}
}

int ebcc_ev_parse(const char *line, size_t len, ebcc_ev *out, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *ids, *hm, *it;
	eb_err e;
	double d;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->conn = out->status = out->n = out->close_code = -1;
	out->lkv = out->since = out->current_version = -1;
	out->has_more = -1;
	eb_err_clear(&e);
	if (eb_json_parse(line, len, EB_JSON_MAX_DEPTH, &root, &e) != EB_OK) {
		snprintf(err, errlen, "not JSON: %s", e.msg);
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	if (!core_num(root, "t", &d)) {
		snprintf(err, errlen, "no time \"t\"");
		cJSON_Delete(root);
		return -1;
	}
	out->raw = root;
	out->t = d;
	out->t0 = core_num(root, "t0", &d) ? d : out->t;
	core_str(root, "ev", out->name, sizeof(out->name));
	if (!out->name[0])
		core_str(root, "event", out->name, sizeof(out->name));
	out->kind = EBCC_EV_OTHER;
	for (i = 0; i < sizeof(core_kinds) / sizeof(core_kinds[0]); i++)
		if (strcmp(core_kinds[i].name, out->name) == 0)
			out->kind = core_kinds[i].kind;
	out->conn = core_long(root, "conn");
	core_str(root, "method", out->method, sizeof(out->method));
	core_str(root, "path", out->path, sizeof(out->path));
	core_str(root, "query", out->query, sizeof(out->query));
	core_str(root, "store", out->store, sizeof(out->store));
	if (!out->store[0])
		core_path_store(out->path, out->store, sizeof(out->store));
	out->status = core_long(root, "status");
	core_str(root, "code", out->code, sizeof(out->code));
	core_str(root, "subject", out->subject, sizeof(out->subject));
	core_str(root, "type", out->type, sizeof(out->type));
	core_str(root, "fault", out->fault, sizeof(out->fault));
	out->lkv = core_i64(root, "lkv");
	out->since = core_query_since(out->query);
	out->n = core_long(root, "n");
	out->current_version = core_i64(root, "currentVersion");
	hm = cJSON_GetObjectItemCaseSensitive(root, "hasMore");
	if (cJSON_IsBool(hm))
		out->has_more = cJSON_IsTrue(hm) ? 1 : 0;
	if (out->kind == EBCC_EV_WS_CLOSE) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "code");

		/* ws_close's code is the close code (a number; null or absent
		 * for a drop without a close frame). */
		out->code[0] = '\0';
		out->close_code = cJSON_IsNumber(c) ? (long)c->valuedouble : 0;
	}
	ids = cJSON_GetObjectItemCaseSensitive(root, "changeIds");
	if (cJSON_IsArray(ids)) {
		size_t n = (size_t)cJSON_GetArraySize(ids), k = 0;

		if (n > 0) {
			out->change_ids = calloc(n, sizeof(char *));
			if (!out->change_ids) {
				snprintf(err, errlen, "out of memory");
				ebcc_ev_clear(out);
				return -1;
			}
		}
		cJSON_ArrayForEach(it, ids) {
			if (k < n && cJSON_IsString(it) && it->valuestring) {
				out->change_ids[k] = strdup(it->valuestring);
				if (!out->change_ids[k]) {
					snprintf(err, errlen, "out of memory");
					ebcc_ev_clear(out);
					return -1;
				}
				k++;
			}
		}
		out->n_change_ids = k;
	}
	return 0;
}

void ebcc_ev_clear(ebcc_ev *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n_change_ids; i++)
		free(e->change_ids[i]);
	free(e->change_ids);
	e->change_ids = NULL;
	e->n_change_ids = 0;
	cJSON_Delete(e->raw);
	e->raw = NULL;
}

bool ebcc_ev_is_store_req(const ebcc_ev *e)
{
	return e->kind == EBCC_EV_HTTP && e->store[0] != '\0';
}

bool ebcc_ev_is_feed(const ebcc_ev *e)
{
	return ebcc_ev_is_store_req(e) && strcmp(e->method, "GET") == 0;
}

bool ebcc_ev_is_push(const ebcc_ev *e)
{
	return ebcc_ev_is_store_req(e) && strcmp(e->method, "POST") == 0 &&
	       (e->n_change_ids > 0 || e->n > 0);
}

void ebcc_ev_describe(const ebcc_ev *e, double t0, char *buf, size_t len)
{
	double rel = e->t - t0;

	switch (e->kind) {
	case EBCC_EV_HTTP:
		snprintf(buf, len, "%+.0f ms %s %s%s%s -> %ld%s%s%s lkv=%lld n=%ld cur=%lld%s",
			 rel, e->method, e->path, e->query[0] ? "?" : "", e->query, e->status,
			 e->code[0] ? " " : "", e->code, e->fault[0] ? " (fault)" : "",
			 (long long)e->lkv, e->n, (long long)e->current_version,
			 e->has_more == 1 ? " hasMore" : "");
		break;
	case EBCC_EV_WS_CLOSE:
		snprintf(buf, len, "%+.0f ms ws_close conn %ld code %ld", rel, e->conn, e->close_code);
		break;
	case EBCC_EV_WS_IN:
	case EBCC_EV_WS_OUT:
		snprintf(buf, len, "%+.0f ms %s conn %ld %s", rel, e->name, e->conn, e->type);
		break;
	default: {
		char *txt = NULL;

		if (e->raw && eb_json_print(e->raw, &txt, NULL) == EB_OK && txt) {
			snprintf(buf, len, "%+.0f ms %s %.300s", rel, e->name, txt);
			free(txt);
		} else {
			snprintf(buf, len, "%+.0f ms %s conn %ld", rel, e->name, e->conn);
		}
		break;
	}
	}
}

/* ---- timing ---------------------------------------------------------------------- */

void ebcc_window_for(double nominal_ms, double jitter, double time_scale, ebcc_window *w)
{
	double f = time_scale > 1.0 ? time_scale : 1.0;

	w->nominal = nominal_ms;
	w->jitter = jitter;
	w->slack = (EBCC_SLACK_MS + 0.10 * nominal_ms) * f;
	/* A slow machine makes timers late, never early: --time-scale
	 * stretches the late side only, so a client firing early is caught
	 * at every time scale. */
	w->lo = nominal_ms * (1.0 - jitter) - (EBCC_SLACK_MS + 0.10 * nominal_ms);
	if (w->lo < 0)
		w->lo = 0;
	w->hi = nominal_ms * (1.0 + jitter) + w->slack;
}

bool ebcc_window_holds(const ebcc_window *w, double measured_ms)
{
	return measured_ms >= w->lo && measured_ms <= w->hi;
}

void ebcc_window_text(const ebcc_window *w, char *buf, size_t len)
{
	snprintf(buf, len, "%.0f ms ±%.0f %% + slack %.0f ms = %.0f-%.0f ms",
		 w->nominal, w->jitter * 100.0, w->slack, w->lo, w->hi);
}

double ebcc_backoff_s(unsigned k)
{
	static const double seq[] = { 30, 60, 120, 240, 300 };

	if (k == 0)
		return 0;
	if (k > 5)
		k = 5;
	return seq[k - 1];
}

long ebcc_check_gaps(const double *t, size_t n, const ebcc_window *w)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (!ebcc_window_holds(w, t[i + 1] - t[i]))
			return (long)i;
	return -1;
}
