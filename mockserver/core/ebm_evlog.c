/*
 * ebm_evlog.c — the event log of ebmock (see ebm_evlog.h): the line builder,
 * the capped writer and the WebSocket message summaries.
 */
#include "ebm_evlog.h"
#include "ebm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "eb_json.h"
#include "eb_ws.h"

/* Room kept for the closing {"t":..,"ev":"log_full"} line. */
#define EBM_EVLOG_FULL_RESERVE 64u

struct ebm_evlog {
	int fd;
	uint64_t max_bytes;
	uint64_t written;
	bool full;
};

eb_rc ebm_evlog_open(const char *path, uint64_t max_bytes, ebm_evlog **out,
		     eb_err *err)
{
	*out = NULL;
	if (max_bytes < EBM_EVLOG_MIN_MAX)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "event log cap below %u bytes", EBM_EVLOG_MIN_MAX);
	ebm_evlog *l = calloc(1, sizeof *l);
	if (!l)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	l->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		eb_rc rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				      "cannot open event log %s: %s", path, strerror(errno));
		free(l);
		return rc;
	}
	l->max_bytes = max_bytes;
	*out = l;
	return EB_OK;
}

void ebm_evlog_free(ebm_evlog *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}

ebm_evlog *ebm_evlog_of(const ebm_server *srv)
{
	return srv && srv->evlog && !srv->evlog->full ? srv->evlog : NULL;
}

uint64_t ebm_evlog_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the line builder ------------------------------------------------------ */

static bool buf_reserve(char **p, size_t *len, size_t *cap, size_t more)
{
	if (*len + more + 1 <= *cap)
		return true;
	size_t ncap = *cap ? *cap : 256;
	while (ncap < *len + more + 1)
		ncap *= 2;
	char *np = realloc(*p, ncap);
	if (!np)
		return false;
	*p = np;
	*cap = ncap;
	return true;
}

static bool buf_put(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (!buf_reserve(p, len, cap, n))
		return false;
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
	return true;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

bool ebm_json_str_append(char **p, size_t *len, size_t *cap, const char *v,
			 size_t n)
{
	const unsigned char *s = (const unsigned char *)v;
	if (!buf_put(p, len, cap, "\"", 1))
		return false;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (!buf_put(p, len, cap, esc, 2))
				return false;
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			if (!buf_put(p, len, cap, esc, 6))
				return false;
			i++;
		} else {
			size_t k = utf8_len(s + i, n - i);
			if (!k) {
				if (!buf_put(p, len, cap, "\\ufffd", 6))
					return false;
				i++;
			} else {
				if (!buf_put(p, len, cap, v + i, k))
					return false;
				i += k;
			}
		}
	}
	return buf_put(p, len, cap, "\"", 1);
}

static void ev_put(ebm_ev *e, const char *s, size_t n)
{
	if (!e->on || e->failed)
		return;
	if (!buf_put(&e->p, &e->len, &e->cap, s, n))
		e->failed = true;
}

static void ev_key(ebm_ev *e, const char *k)
{
	if (!e->on || e->failed)
		return;
	if (e->need_comma)
		ev_put(e, ",", 1);
	ev_put(e, "\"", 1);
	ev_put(e, k, strlen(k));
	ev_put(e, "\":", 2);
	e->need_comma = true;
}

static void ev_time_text(char *buf, size_t len, uint64_t us)
{
	snprintf(buf, len, "%llu.%03u", (unsigned long long)(us / 1000u),
		 (unsigned)(us % 1000u));
}

bool ebm_ev_begin(ebm_evlog *l, ebm_ev *e, const char *ev)
{
	memset(e, 0, sizeof *e);
	if (!l || l->full)
		return false;
	e->on = true;
	ev_put(e, "{", 1);
	ebm_ev_time(e, "t", ebm_evlog_now_us());
	ebm_ev_str(e, "ev", ev);
	return true;
}

void ebm_ev_strn(ebm_ev *e, const char *k, const char *v, size_t n)
{
	if (!e->on || e->failed)
		return;
	ev_key(e, k);
	if (!v) {
		ev_put(e, "null", 4);
		return;
	}
	if (!ebm_json_str_append(&e->p, &e->len, &e->cap, v, n))
		e->failed = true;
}

void ebm_ev_str(ebm_ev *e, const char *k, const char *v)
{
	ebm_ev_strn(e, k, v, v ? strlen(v) : 0);
}

void ebm_ev_int(ebm_ev *e, const char *k, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%lld", (long long)v);
	ev_key(e, k);
	ev_put(e, num, (size_t)n);
}

void ebm_ev_uint(ebm_ev *e, const char *k, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	ev_key(e, k);
	ev_put(e, num, (size_t)n);
}

void ebm_ev_bool(ebm_ev *e, const char *k, bool v)
{
	ev_key(e, k);
	ev_put(e, v ? "true" : "false", v ? 4 : 5);
}

void ebm_ev_null(ebm_ev *e, const char *k)
{
	ev_key(e, k);
	ev_put(e, "null", 4);
}

void ebm_ev_time(ebm_ev *e, const char *k, uint64_t us)
{
	char num[32];
	ev_time_text(num, sizeof num, us);
	ev_key(e, k);
	ev_put(e, num, strlen(num));
}

void ebm_ev_raw(ebm_ev *e, const char *k, const char *json)
{
	ev_key(e, k);
	if (json)
		ev_put(e, json, strlen(json));
	else
		ev_put(e, "null", 4);
}

/* write(2) the whole line; a short write (disk full) is retried, an error
 * ends logging rather than leave a torn line behind and go on. */
static void evlog_write(ebm_evlog *l, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(l->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			l->full = true;
			return;
		}
		s += w;
		n -= (size_t)w;
		l->written += (uint64_t)w;
	}
}

void ebm_ev_end(ebm_evlog *l, ebm_ev *e)
{
	if (e->on && !e->failed && l && !l->full) {
		ev_put(e, "}\n", 2);
		if (!e->failed) {
			if (l->written + e->len + EBM_EVLOG_FULL_RESERVE > l->max_bytes) {
				char line[96], t[32];
				ev_time_text(t, sizeof t, ebm_evlog_now_us());
				int n = snprintf(line, sizeof line,
						 "{\"t\":%s,\"ev\":\"log_full\"}\n", t);
				evlog_write(l, line, (size_t)n);
				l->full = true;
			} else {
				evlog_write(l, e->p, e->len);
			}
		}
	}
	free(e->p);
	memset(e, 0, sizeof *e);
}

/* ---- WebSocket summaries ------------------------------------------------- */

/* storeIds / stores / errors arrays as compact JSON (only the members a
 * client test looks at). NULL when v is not an array. */
static char *ws_array(const cJSON *v, const char *const *members, size_t n_members)
{
	char *p = NULL;
	size_t len = 0, cap = 0;
	bool ok = true;
	if (!cJSON_IsArray(v))
		return NULL;
	ok = buf_put(&p, &len, &cap, "[", 1);
	for (const cJSON *it = v->child; ok && it; it = it->next) {
		if (it != v->child)
			ok = buf_put(&p, &len, &cap, ",", 1);
		if (!ok)
			break;
		if (cJSON_IsString(it)) {
			ok = ebm_json_str_append(&p, &len, &cap, it->valuestring,
						 strlen(it->valuestring));
			continue;
		}
		if (!cJSON_IsObject(it)) {
			ok = buf_put(&p, &len, &cap, "null", 4);
			continue;
		}
		ok = buf_put(&p, &len, &cap, "{", 1);
		bool first = true;
		for (size_t i = 0; ok && i < n_members; i++) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, members[i]);
			uint64_t u;
			if (!m)
				continue;
			if (!first)
				ok = buf_put(&p, &len, &cap, ",", 1);
			first = false;
			ok = ok && ebm_json_str_append(&p, &len, &cap, members[i],
						       strlen(members[i])) &&
			     buf_put(&p, &len, &cap, ":", 1);
			if (!ok)
				break;
			if (cJSON_IsString(m)) {
				ok = ebm_json_str_append(&p, &len, &cap, m->valuestring,
							 strlen(m->valuestring));
			} else if (eb_json_get_uint53(m, &u)) {
				char num[24];
				int k = snprintf(num, sizeof num, "%llu", (unsigned long long)u);
				ok = buf_put(&p, &len, &cap, num, (size_t)k);
			} else {
				ok = buf_put(&p, &len, &cap, "null", 4);
			}
		}
		ok = ok && buf_put(&p, &len, &cap, "}", 1);
	}
	ok = ok && buf_put(&p, &len, &cap, "]", 1);
	if (!ok) {
		free(p);
		return NULL;
	}
	return p;
}

void ebm_ws_set_conn(ebm_ws_session *s, uint64_t conn)
{
	if (s)
		s->conn = conn;
}

static void ev_conn(ebm_ev *e, const ebm_ws_session *s)
{
	ebm_ev_uint(e, "conn", s->conn);
}

static void ev_str_member(ebm_ev *e, const cJSON *root, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (cJSON_IsString(v))
		ebm_ev_str(e, name, v->valuestring);
}

static void ev_uint_member(ebm_ev *e, const cJSON *root, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	uint64_t u;
	if (eb_json_get_uint53(v, &u))
		ebm_ev_uint(e, name, u);
}

void ebm_evlog_ws_in(ebm_ws_session *s, const char *buf, size_t len, bool binary)
{
	ebm_evlog *l = ebm_evlog_of(s->srv);
	ebm_ev e;
	cJSON *root = NULL;
	eb_ws_client_msg *m = NULL;

	if (!ebm_ev_begin(l, &e, "ws_in"))
		return;
	ev_conn(&e, s);
	if (!binary)
		eb_json_parse(buf, len, 64, &root, NULL);
	if (!binary && cJSON_IsObject(root)) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
		if (cJSON_IsString(t))
			ebm_ev_str(&e, "type", t->valuestring);
		else
			ebm_ev_null(&e, "type");
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(root, "requestId");
		if (cJSON_IsString(rid))
			ebm_ev_str(&e, "requestId", rid->valuestring);
		char *ids = ws_array(cJSON_GetObjectItemCaseSensitive(root, "storeIds"), NULL, 0);
		if (ids)
			ebm_ev_raw(&e, "storeIds", ids);
		free(ids);
	} else {
		ebm_ev_null(&e, "type");
	}
	/* the same parser the session uses decides validity */
	if (binary || eb_ws_client_msg_parse(buf, len, &m, NULL) != EB_OK)
		ebm_ev_bool(&e, "valid", false);
	eb_ws_client_msg_free(m);
	cJSON_Delete(root);
	ebm_ev_end(l, &e);
}

void ebm_evlog_ws_too_big(ebm_ws_session *s)
{
	ebm_evlog *l = ebm_evlog_of(s->srv);
	ebm_ev e;
	if (!ebm_ev_begin(l, &e, "ws_in"))
		return;
	ev_conn(&e, s);
	ebm_ev_null(&e, "type");
	ebm_ev_bool(&e, "valid", false);
	ebm_ev_bool(&e, "tooBig", true);
	ebm_ev_end(l, &e);
}

void ebm_evlog_ws_out(ebm_ws_session *s, const char *text, size_t len)
{
	static const char *const store_members[] = { "storeId", "version" };
	static const char *const error_members[] = { "storeId", "code" };
	ebm_evlog *l = ebm_evlog_of(s->srv);
	ebm_ev e;
	cJSON *root = NULL;

	if (!ebm_ev_begin(l, &e, "ws_out"))
		return;
	ev_conn(&e, s);
	if (eb_json_parse(text, len, 64, &root, NULL) == EB_OK && cJSON_IsObject(root)) {
		ev_str_member(&e, root, "type");
		ev_str_member(&e, root, "requestId");
		ev_str_member(&e, root, "storeId");
		ev_uint_member(&e, root, "version");
		char *a = ws_array(cJSON_GetObjectItemCaseSensitive(root, "stores"),
				   store_members, 2);
		if (a)
			ebm_ev_raw(&e, "stores", a);
		free(a);
		a = ws_array(cJSON_GetObjectItemCaseSensitive(root, "errors"), error_members, 2);
		if (a)
			ebm_ev_raw(&e, "errors", a);
		free(a);
		ev_str_member(&e, root, "code");
		ev_str_member(&e, root, "subject");
		ev_uint_member(&e, root, "expiresAt");
	}
	cJSON_Delete(root);
	ebm_ev_end(l, &e);
}
