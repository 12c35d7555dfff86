/*
 * driver.c — `ebclient --driver`: the driver of docs/CLIENT-DRIVER.md for
 * the kit's own SDK. JSON lines on stdin (commands) and stdout (answers and
 * events), one poll loop over stdin and the client.
 */
#include "ebcl_prog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_buf.h"
#include "eb_json.h"
#include "eb_time.h"

#define DRV_MAX_LINE    ((size_t)1024 * 1024)   /* CLIENT-DRIVER.md */
#define DRV_MAX_FLUSHES 64
#define DRV_MAX_PATH    32
#define DRV_TICK_MS     1000

typedef struct drv_flush {
	char *id;
	uint64_t deadline;   /* mono ms */
} drv_flush;

typedef struct drv {
	const ebcl_opts *o;
	ebcl_client *client;
	char *token;
	eb_buf in;           /* stdin bytes not yet a whole line */
	bool eof;
	bool stop;
	drv_flush flushes[DRV_MAX_FLUSHES];
	size_t n_flushes;
} drv;

static uint64_t drv_now(void)
{
	return eb_time_mono_ns() / 1000000u;
}

/* Writes one line (object j plus '\n') in one write, as the interface asks. */
static void drv_emit(cJSON *j)
{
	char *text = NULL;
	size_t len = 0;
	if (j == NULL || eb_json_print(j, &text, &len) != EB_OK) {
		cJSON_Delete(j);
		return;
	}
	cJSON_Delete(j);
	char *line = realloc(text, len + 2);
	if (line == NULL) {
		free(text);
		return;
	}
	line[len] = '\n';
	size_t off = 0, n = len + 1;
	while (off < n) {
		ssize_t w = write(STDOUT_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(line);
}

static cJSON *drv_event(const char *name)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "event", name);
	return j;
}

static void drv_log(const char *msg)
{
	cJSON *j = drv_event("log");
	cJSON_AddStringToObject(j, "message", msg);
	drv_emit(j);
}

static cJSON *drv_answer(const char *id, bool ok, const char *error)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddBoolToObject(j, "ok", ok);
	if (!ok)
		cJSON_AddStringToObject(j, "error", error ? error : "failed");
	return j;
}

/* ---- SDK callbacks ------------------------------------------------------------- */

static char *drv_cb_token(void *ud)
{
	drv *d = ud;
	drv_emit(drv_event("token_requested"));
	return d->token ? strdup(d->token) : NULL;
}

static void drv_cb_rejected(void *ud, const char *store, const char *id,
			    int status, const char *code)
{
	(void)ud;
	cJSON *j = drv_event("rejected");
	cJSON_AddStringToObject(j, "store", store);
	cJSON_AddStringToObject(j, "changeId", id);
	cJSON_AddNumberToObject(j, "status", status);
	cJSON_AddStringToObject(j, "code", code);
	drv_emit(j);
}

static void drv_cb_state(void *ud, ebcl_conn s)
{
	(void)ud;
	if (s == EBCL_STOPPED)
		return;
	cJSON *j = drv_event("state");
	cJSON_AddStringToObject(j, "state", ebcl_conn_name(s));
	drv_emit(j);
}

static void drv_cb_log(void *ud, const char *line)
{
	(void)ud;
	cJSON *j = drv_event("log");
	cJSON_AddStringToObject(j, "message", line);
	drv_emit(j);
}

/* ---- commands ------------------------------------------------------------------ */

static const char *drv_str(const cJSON *m, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *drv_start(drv *d, const char *id, const cJSON *m)
{
	char err[256];
	if (d->client != NULL)
		return drv_answer(id, false, "already started");
	const char *url = getenv("EB_DRIVER_URL");
	if (url == NULL || url[0] == '\0')
		return drv_answer(id, false, "EB_DRIVER_URL is not set");
	ebcl_activity act = d->o->activity;
	const char *as = drv_str(m, "activity");
	if (as != NULL && !ebcl_activity_parse(as, &act))
		return drv_answer(id, false, "activity: active, idle or background");
	double scale = d->o->clock_scale > 0 ? d->o->clock_scale : 1.0;
	const char *sc = getenv("EB_DRIVER_CLOCK_SCALE");
	if (sc != NULL && sc[0] != '\0' &&
	    !eb_parse_double(sc, 1e-6, 1e6, &scale))
		return drv_answer(id, false, "EB_DRIVER_CLOCK_SCALE is not a number");
	eb_buf path = { 0 };
	const char *dir = getenv("EB_DRIVER_DATA_DIR");
	if (d->o->data_file != NULL)
		eb_buf_str(&path, d->o->data_file);
	else if (dir != NULL && dir[0] != '\0')
		eb_buf_fmt(&path, "%s/ebclient-queue.db", dir);
	ebcl_config cfg = {
		.url = url, .clock_scale = scale, .activity = act,
		.data_file = path.len ? path.p : NULL,
		.cb = { .token = drv_cb_token, .rejected = drv_cb_rejected,
			.state = drv_cb_state, .log = drv_cb_log, .ud = d },
	};
	d->client = ebcl_client_new(&cfg, err, sizeof err);
	eb_buf_clear(&path);
	if (d->client == NULL)
		return drv_answer(id, false, err);
	for (int i = 0; i < EBCL_DEFECT_COUNT; i++)
		if (d->o->defects[i])
			ebcl_client_defect(d->client, (ebcl_defect)i);
	if (ebcl_client_start(d->client, err, sizeof err) != 0)
		return drv_answer(id, false, err);
	return drv_answer(id, true, NULL);
}

/* set / delete: path an array of 1-32 strings. */
static cJSON *drv_change(drv *d, const char *id, const cJSON *m, bool del)
{
	char err[256];
	const char *store = drv_str(m, "store");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "path");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "value");
	if (store == NULL || !cJSON_IsArray(p))
		return drv_answer(id, false, "needs store and path");
	if (!del && v == NULL)
		return drv_answer(id, false, "set needs value");
	const char *segs[DRV_MAX_PATH];
	size_t n = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, p) {
		if (!cJSON_IsString(s) || n >= DRV_MAX_PATH)
			return drv_answer(id, false, "path: 1 to 32 strings");
		segs[n++] = s->valuestring;
	}
	char cid[64];
	uint64_t ts = 0;
	if (ebcl_client_change(d->client, store, segs, n, del ? NULL : v, cid,
			       &ts, err, sizeof err) != 0)
		return drv_answer(id, false, err);
	cJSON *a = drv_answer(id, true, NULL);
	cJSON_AddStringToObject(a, "changeId", cid);
	cJSON_AddNumberToObject(a, "timestamp", (double)ts);
	return a;
}

static cJSON *drv_state(drv *d, const char *id, const cJSON *m)
{
	const char *store = drv_str(m, "store");
	if (store == NULL)
		return drv_answer(id, false, "needs store");
	cJSON *st = ebcl_client_state(d->client, store);
	if (st == NULL)
		return drv_answer(id, false, "store not open");
	cJSON *a = drv_answer(id, true, NULL);
	cJSON_AddItemToObject(a, "state", st);
	cJSON_AddNumberToObject(a, "version",
				(double)ebcl_client_version(d->client, store));
	cJSON_AddNumberToObject(a, "pending",
				(double)ebcl_client_pending(d->client, store));
	return a;
}

/* Handles one command line; the answer is emitted here or, for flush,
 * later. */
static void drv_command(drv *d, const char *line, size_t len)
{
	cJSON *m = NULL;
	char err[300];
	eb_err e;
	if (eb_json_parse(line, len, EB_JSON_MAX_DEPTH, &m, &e) != EB_OK ||
	    !cJSON_IsObject(m)) {
		snprintf(err, sizeof err, "ignored a command line, not a JSON "
			 "object: %s", e.msg);
		drv_log(err);
		cJSON_Delete(m);
		return;
	}
	const char *id = drv_str(m, "id");
	const char *cmd = drv_str(m, "cmd");
	if (cmd == NULL)
		cmd = drv_str(m, "command");
	if (id == NULL) {
		snprintf(err, sizeof err, "ignored a command without an id (%s)",
			 cmd ? cmd : "?");
		drv_log(err);
		goto out;
	}
	cJSON *a = NULL;
	if (cmd == NULL) {
		a = drv_answer(id, false, "no cmd");
	} else if (strcmp(cmd, "hello") == 0) {
		a = drv_answer(id, true, NULL);
		cJSON_AddStringToObject(a, "name", "ebclient");
		cJSON_AddStringToObject(a, "version", EBCL_VERSION);
		cJSON_AddBoolToObject(a, "clockScale", true);
	} else if (strcmp(cmd, "token") == 0) {
		const char *t = drv_str(m, "token");
		if (t == NULL) {
			a = drv_answer(id, false, "needs token");
		} else {
			free(d->token);
			d->token = strdup(t);
			a = drv_answer(id, d->token != NULL, "out of memory");
		}
	} else if (strcmp(cmd, "start") == 0) {
		a = drv_start(d, id, m);
	} else if (strcmp(cmd, "stop") == 0) {
		if (d->client != NULL)
			ebcl_client_stop(d->client);
		d->stop = true;
		a = drv_answer(id, true, NULL);
	} else if (d->client == NULL) {
		snprintf(err, sizeof err, "%s before start", cmd);
		a = drv_answer(id, false, err);
	} else if (strcmp(cmd, "open") == 0) {
		const char *store = drv_str(m, "store");
		if (store == NULL)
			a = drv_answer(id, false, "needs store");
		else if (ebcl_client_open(d->client, store, err, sizeof err) != 0)
			a = drv_answer(id, false, err);
		else
			a = drv_answer(id, true, NULL);
	} else if (strcmp(cmd, "set") == 0 || strcmp(cmd, "delete") == 0) {
		a = drv_change(d, id, m, strcmp(cmd, "delete") == 0);
	} else if (strcmp(cmd, "activity") == 0) {
		ebcl_activity act;
		if (!ebcl_activity_parse(drv_str(m, "state"), &act)) {
			a = drv_answer(id, false, "state: active, idle or background");
		} else {
			ebcl_client_set_activity(d->client, act);
			a = drv_answer(id, true, NULL);
		}
	} else if (strcmp(cmd, "state") == 0) {
		a = drv_state(d, id, m);
	} else if (strcmp(cmd, "flush") == 0) {
		uint64_t tmo = 5000;
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "timeoutMs");
		if (t != NULL && !eb_json_get_uint53(t, &tmo)) {
			a = drv_answer(id, false, "timeoutMs: an integer");
		} else if (d->n_flushes >= DRV_MAX_FLUSHES) {
			a = drv_answer(id, false, "too many flushes waiting");
		} else {
			char *fid = strdup(id);
			if (fid == NULL) {
				a = drv_answer(id, false, "out of memory");
			} else {
				if (tmo > 3600000)
					tmo = 3600000;
				d->flushes[d->n_flushes].id = fid;
				d->flushes[d->n_flushes].deadline = drv_now() + tmo;
				d->n_flushes++;
			}
		}
	} else {
		snprintf(err, sizeof err, "unknown command %s", cmd);
		a = drv_answer(id, false, err);
	}
	if (a != NULL)
		drv_emit(a);
out:
	cJSON_Delete(m);
}

/* Answers the flushes that are done or out of time. */
static void drv_flushes(drv *d)
{
	uint64_t now = drv_now();
	bool quiet = d->client != NULL && ebcl_client_quiet(d->client);
	for (size_t i = 0; i < d->n_flushes;) {
		drv_flush *f = &d->flushes[i];
		if (quiet || now >= f->deadline || d->stop) {
			drv_emit(drv_answer(f->id, quiet, "flush timed out"));
			free(f->id);
			d->flushes[i] = d->flushes[--d->n_flushes];
			continue;
		}
		i++;
	}
}

/* Reads what stdin has; handles each whole line. -1 on a line over the
 * cap (a broken suite). */
static int drv_read(drv *d)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0;   /* EAGAIN */
		if (n == 0) {
			d->eof = true;
			return 0;
		}
		eb_buf_put(&d->in, buf, (size_t)n);
		if (d->in.oom)
			return -1;
		char *start = d->in.p;
		char *nl;
		while ((nl = memchr(start, '\n', d->in.len - (size_t)(start - d->in.p))) != NULL) {
			size_t l = (size_t)(nl - start);
			if (l > 0 && start[l - 1] == '\r')
				l--;
			if (l > 0)
				drv_command(d, start, l);
			start = nl + 1;
			if (d->stop)
				return 0;
		}
		size_t rest = d->in.len - (size_t)(start - d->in.p);
		memmove(d->in.p, start, rest);
		d->in.len = rest;
		d->in.p[rest] = '\0';
		if (rest > DRV_MAX_LINE)
			return -1;
		if ((size_t)n < sizeof buf)
			return 0;
	}
}

int ebcl_driver_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag)
{
	drv d;
	memset(&d, 0, sizeof d);
	d.o = o;
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl >= 0)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	int rc = 0;
	const char *cs = getenv("EB_DRIVER_CASE");
	const char *cn = getenv("EB_DRIVER_CLIENT");
	char up[200];
	snprintf(up, sizeof up, "ebclient driver up (case %s, client %s)",
		 cs ? cs : "-", cn ? cn : "-");
	drv_log(up);
	while (!d.stop && !d.eof && !*stop_flag) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		long wait = DRV_TICK_MS;
		if (d.n_flushes > 0)
			wait = 5;
		int r;
		if (d.client != NULL) {
			r = ebcl_client_step(d.client, &p, 1, wait);
		} else {
			r = poll(&p, 1, (int)wait);
			if (r < 0 && errno == EINTR)
				r = 0;
		}
		if (r < 0) {
			fprintf(stderr, "ebclient: poll failed: %s\n", strerror(errno));
			rc = 2;
			break;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (drv_read(&d) != 0) {
				fprintf(stderr, "ebclient: a command line over %zu bytes\n",
					DRV_MAX_LINE);
				rc = 2;
				break;
			}
		}
		drv_flushes(&d);
	}
	d.stop = true;
	drv_flushes(&d);
	ebcl_client_free(d.client);
	free(d.token);
	eb_buf_clear(&d.in);
	return rc;
}
