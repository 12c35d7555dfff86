/*
 * ebcc_run.c — ebconform's client mode: the catalogue, the per-case stage (a
 * fresh ebmock on --port 0 with an event log, an admin token and a random
 * secret; the drivers), the event-log reader, timing verdicts, the case
 * timeline, and the runner with its reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eb_http.h"
#include "eb_time.h"
#include "eb_json.h"
#include "eb_merge.h"
#include "eb_timeline.h"
#include "eb_file.h"
#include "ebcc.h"
#include "ebcc_priv.h"
#include "ebcc_proc.h"

/* ---- catalogue --------------------------------------------------------------- */

size_t ebcc_catalogue(const ebcc_case **out, size_t cap)
{
	const struct { const ebcc_case *cases; size_t n; } t[] = {
		{ ebcc_cases_live, ebcc_cases_live_n },
		{ ebcc_cases_poll, ebcc_cases_poll_n },
		{ ebcc_cases_queue, ebcc_cases_queue_n },
	};
	size_t i, j, n = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 0; j < t[i].n && n < cap; j++)
			/* cppcheck-suppress autoVariables ; t[i].cases points into a static table */
			out[n++] = &t[i].cases[j];
	return n;
}

/* ---- clocks ------------------------------------------------------------------- */

double ebcc_now(void)
{
	return (double)eb_time_mono_ns() / 1e6;
}

double ebcc_proto_ms(const ebcc_ctx *cc, double spec_s)
{
	return spec_s * 1000.0 * cc->clock_scale;
}

double ebcc_rt_deadline_ms(const ebcc_ctx *cc, double spec_s)
{
	double d = ebcc_proto_ms(cc, spec_s);

	return d > 1000.0 ? d : 1000.0;
}

bool ebcc_sleep_until(ebcc_ctx *cc, double t)
{
	bool cut = false;

	if (t > cc->deadline) {
		t = cc->deadline;
		cut = true;
	}
	for (;;) {
		double now = ebcc_now(), left = t - now;
		struct timespec ts;

		if (cc->stop && *cc->stop)
			return false;
		if (left <= 0)
			break;
		if (left > 50)
			left = 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e6);
		nanosleep(&ts, NULL);
		/* Keep the event log read as it grows: the cap applies per read. */
		ebcc_evlog_poll(cc);
	}
	return !cut;
}

bool ebcc_sleep(ebcc_ctx *cc, double ms)
{
	return ebcc_sleep_until(cc, ebcc_now() + ms);
}

const char *ebcc_store(ebcc_ctx *cc, int i)
{
	if (i < 0 || i > 3)
		i = 0;
	if (!cc->store_buf[i][0])
		snprintf(cc->store_buf[i], sizeof(cc->store_buf[i]), "%ss%d",
			 cc->base.store_prefix, i);
	return cc->store_buf[i];
}

/* ---- event log ------------------------------------------------------------------- */

/* Whose event e is: the token subject ("<prefix>:<case>#a" is client a, no
 * "#" the suite), else the connection's owner seen earlier (keep-alive
 * HTTP connections, sockets after auth_ok), else with one client in the
 * case that client (only clients make requests during faults), else -1. */
static void run_resolve_who(ebcc_ctx *cc, ebcc_ev *e)
{
	const char *sub = e->subject;
	bool ws = e->kind >= EBCC_EV_WS_OPEN && e->kind <= EBCC_EV_WS_CLOSE;
	long slot = e->conn >= 0 && e->conn < 2048 ? e->conn + (ws ? 2048 : 0) : -1;

	if (e->kind == EBCC_EV_WS_OUT && strcmp(e->type, "auth_ok") == 0) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(e->raw, "subject");

		sub = cJSON_IsString(s) ? s->valuestring : "";
	}
	e->who = -1;
	if (sub[0]) {
		const char *h = strrchr(sub, '#');

		if (h && h[1] >= 'a' && h[1] <= 'c' && h[2] == '\0')
			e->who = h[1] - 'a';
		else
			e->who = -2;
		if (slot >= 0)
			cc->conn_who[slot] = (signed char)(e->who + 10);
		return;
	}
	if (slot >= 0 && cc->conn_who[slot])
		e->who = cc->conn_who[slot] - 10;
	else if (cc->cc->n_clients == 1)
		e->who = 0;
}

void ebcc_evlog_poll(ebcc_ctx *cc)
{
	int fd;
	char buf[65536];
	ssize_t n;
	int rounds = 0;

	if (cc->ev_overflow)
		return;
	fd = open(cc->evlog_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (lseek(fd, cc->evlog_off, SEEK_SET) != cc->evlog_off) {
		close(fd);
		return;
	}
	/* Bounded per call (64 x 64 KiB); the rest is read on the next. */
	while (rounds++ < 64 && (n = read(fd, buf, sizeof(buf))) > 0) {
		char *line;
		size_t len;

		cc->evlog_off += n;
		if (ebcc_lines_push(&cc->evlog_lines, buf, (size_t)n) != 0) {
			cc->ev_overflow = true;
			break;
		}
		while (ebcc_lines_next(&cc->evlog_lines, &line, &len) == 1) {
			ebcc_ev ev;
			char err[160];

			if (ebcc_ev_parse(line, len, &ev, err, sizeof(err)) == 0) {
				if (cc->n_ev >= EBCC_MAX_EVENTS) {
					cc->ev_overflow = true;
					ebcc_ev_clear(&ev);
				} else {
					if (cc->n_ev == cc->cap_ev) {
						size_t nc = cc->cap_ev ? cc->cap_ev * 2 : 256;
						ebcc_ev *p = realloc(cc->ev, nc * sizeof(*p));

						if (!p) {
							ebcc_ev_clear(&ev);
							free(line);
							cc->ev_overflow = true;
							close(fd);
							return;
						}
						cc->ev = p;
						cc->cap_ev = nc;
					}
					run_resolve_who(cc, &ev);
					cc->ev[cc->n_ev++] = ev;
				}
			} else {
				eb_wirelog_note(cc->base.wire, "event log: unreadable line (%s): %.200s",
						err, line);
			}
			free(line);
		}
	}
	close(fd);
}

long ebcc_wait_ev(ebcc_ctx *cc, size_t from, double deadline,
		  bool (*pred)(const ebcc_ev *e, const void *arg), const void *arg)
{
	size_t i = from;

	if (deadline > cc->deadline)
		deadline = cc->deadline;
	for (;;) {
		ebcc_evlog_poll(cc);
		for (; i < cc->n_ev; i++)
			if (pred(&cc->ev[i], arg))
				return (long)i;
		if (ebcc_now() >= deadline || (cc->stop && *cc->stop))
			return -1;
		{
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

size_t ebcc_find(ebcc_ctx *cc, size_t from, double t_lo, double t_hi,
		 bool (*pred)(const ebcc_ev *e, const void *arg), const void *arg,
		 size_t *out, size_t cap)
{
	size_t i, n = 0;

	ebcc_evlog_poll(cc);
	for (i = from; i < cc->n_ev; i++) {
		const ebcc_ev *e = &cc->ev[i];

		if (e->t0 < t_lo || e->t0 >= t_hi || !pred(e, arg))
			continue;
		if (n < cap && out)
			out[n] = i;
		n++;
	}
	return n;
}

static bool run_store_is(const ebcc_ev *e, const void *arg)
{
	return !arg || strcmp(e->store, (const char *)arg) == 0;
}

bool ebcc_p_ws_open(const ebcc_ev *e, const void *arg)
{
	(void)arg;
	return e->kind == EBCC_EV_WS_OPEN;
}

bool ebcc_p_subscribed(const ebcc_ev *e, const void *arg)
{
	(void)arg;
	return e->kind == EBCC_EV_WS_OUT && strcmp(e->type, "subscribed") == 0;
}

bool ebcc_p_feed(const ebcc_ev *e, const void *arg)
{
	return ebcc_ev_is_feed(e) && run_store_is(e, arg);
}

bool ebcc_p_store_req(const ebcc_ev *e, const void *arg)
{
	return ebcc_ev_is_store_req(e) && run_store_is(e, arg);
}

bool ebcc_p_push(const ebcc_ev *e, const void *arg)
{
	return ebcc_ev_is_push(e) && run_store_is(e, arg);
}

bool ebcc_p_ws_close(const ebcc_ev *e, const void *arg)
{
	(void)arg;
	return e->kind == EBCC_EV_WS_CLOSE;
}

bool ebcc_p_ws_in_type(const ebcc_ev *e, const void *arg)
{
	return e->kind == EBCC_EV_WS_IN && strcmp(e->type, (const char *)arg) == 0;
}

/* ---- faults --------------------------------------------------------------------------- */

static bool run_admin(ebcc_ctx *cc, const char *method, const char *json)
{
	eb_http *h = eb_http_new(cc->url, ebc_ms(&cc->base, 5000));
	eb_http_resp r;
	bool ok = false;

	memset(&r, 0, sizeof(r));
	if (!h) {
		ebc_error(&cc->base, "cannot create an HTTP client");
		return false;
	}
	ebcc_tl_note(cc, ebcc_now(), json ? json : "clear faults");
	eb_wirelog_note(cc->base.wire, "admin %s /admin/faults %s", method, json ? json : "");
	if (eb_http_request(h, method, "/admin/faults", cc->admin, NULL, json,
			    json ? strlen(json) : 0, NULL, 0, &r) != EB_OK) {
		ebc_error(&cc->base, "ebmock's admin endpoint did not answer: %s", r.error);
	} else if (r.status != 200) {
		ebc_error(&cc->base, "ebmock refused the fault %s: %ld %.300s", json ? json : "(clear)",
			  r.status, r.body);
	} else {
		ok = true;
	}
	eb_http_resp_clear(&r);
	eb_http_free(h);
	return ok;
}

bool ebcc_fault(ebcc_ctx *cc, const char *json)
{
	return run_admin(cc, "POST", json);
}

bool ebcc_fault_clear(ebcc_ctx *cc)
{
	return run_admin(cc, "DELETE", NULL);
}

/* ---- verdicts and timeline ------------------------------------------------------------ */

bool ebcc_expect_in(ebcc_ctx *cc, const char *rule, const char *what,
		    const ebcc_window *w, double measured)
{
	char win[160], exp[300];

	ebcc_window_text(w, win, sizeof(win));
	if (ebcc_window_holds(w, measured)) {
		eb_wirelog_note(cc->base.wire, "%s: %.0f ms within %s", what, measured, win);
		return true;
	}
	snprintf(exp, sizeof(exp), "%s: %s (clock scale %g, time scale %g)", what, win,
		 cc->clock_scale, cc->time_scale);
	ebc_fail(&cc->base, rule, exp, "%s: measured %.0f ms, outside %.0f-%.0f ms", what,
		 measured, w->lo, w->hi);
	return false;
}

void ebcc_keep_mark(ebcc_ctx *cc, const ebcc_mark *m)
{
	pthread_mutex_lock(&cc->tl_mu);
	if (cc->n_marks < EBCC_MAX_MARKS)
		cc->marks[cc->n_marks++] = *m;
	pthread_mutex_unlock(&cc->tl_mu);
}

void ebcc_tl_note(ebcc_ctx *cc, double t, const char *label)
{
	ebcc_mark m;

	m.t = t;
	m.lane = -1;
	snprintf(m.label, sizeof(m.label), "%s", label);
	ebcc_keep_mark(cc, &m);
}

void ebcc_tl_expect(ebcc_ctx *cc, int lane, double t_lo, double t_hi, const char *label)
{
	pthread_mutex_lock(&cc->tl_mu);
	if (cc->n_spans < EBCC_MAX_SPANS) {
		ebcc_span *s = &cc->spans[cc->n_spans++];

		s->t0 = t_lo;
		s->t1 = t_hi;
		s->lane = lane;
		snprintf(s->label, sizeof(s->label), "%s", label);
	}
	pthread_mutex_unlock(&cc->tl_mu);
}

static eb_timeline *run_timeline(ebcc_ctx *cc)
{
	eb_timeline *tl = eb_timeline_new();
	int lanes[EBCC_MAX_CLIENTS + 1];
	size_t i;
	int k;
	double t0 = cc->t_start;

	if (!tl)
		return NULL;
	for (k = 0; k < cc->cc->n_clients && k < EBCC_MAX_CLIENTS; k++) {
		char name[16];

		snprintf(name, sizeof(name), "client %c", 'a' + k);
		lanes[k] = eb_timeline_lane(tl, name);
	}
	lanes[EBCC_MAX_CLIENTS] = eb_timeline_lane(tl, "suite");
	tl->span_ms = (cc->n_ev ? cc->ev[cc->n_ev - 1].t : ebcc_now()) - t0;
	for (i = 0; i < cc->n_ev; i++) {
		const ebcc_ev *e = &cc->ev[i];
		int who = e->who, lane;
		char lab[640];

		lane = who >= 0 && who < cc->cc->n_clients ? lanes[who] : lanes[EBCC_MAX_CLIENTS];
		switch (e->kind) {
		case EBCC_EV_HTTP:
			if (!e->store[0])
				break;
			snprintf(lab, sizeof(lab), "%s %s%s%s -> %ld %s", e->method, e->store,
				 e->query[0] ? "?" : "", e->query, e->status, e->code);
			eb_timeline_add(tl, lane,
					e->status >= 400 || e->status <= 0 ? EB_TL_ERROR :
					ebcc_ev_is_push(e) ? EB_TL_PUSH : EB_TL_READ,
					e->t0 - t0, e->t - t0, lab);
			break;
		case EBCC_EV_WS_OPEN:
			eb_timeline_add(tl, lane, EB_TL_WS_OPEN, e->t - t0, e->t - t0, "socket open");
			break;
		case EBCC_EV_WS_REFUSED:
			eb_timeline_add(tl, lane, EB_TL_WS_REFUSED, e->t - t0, e->t - t0, "upgrade refused");
			break;
		case EBCC_EV_WS_CLOSE:
			snprintf(lab, sizeof(lab), "%ld", e->close_code);
			eb_timeline_add(tl, lane, EB_TL_WS_CLOSE, e->t - t0, e->t - t0,
					e->close_code > 0 ? lab : "drop");
			break;
		case EBCC_EV_WS_IN:
			if (strcmp(e->type, "auth") == 0 || strcmp(e->type, "ping") == 0 ||
			    strcmp(e->type, "subscribe") == 0)
				eb_timeline_add(tl, lane, EB_TL_WS_MSG, e->t - t0, e->t - t0, e->type);
			break;
		case EBCC_EV_FAULT:
		case EBCC_EV_ADMIN: {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(e->raw, "action");

			eb_timeline_add(tl, lanes[EBCC_MAX_CLIENTS], EB_TL_FAULT, e->t - t0, e->t - t0,
					cJSON_IsString(a) ? a->valuestring : e->name);
			break;
		}
		default:
			break;
		}
	}
	pthread_mutex_lock(&cc->tl_mu);
	for (i = 0; i < cc->n_marks; i++) {
		const ebcc_mark *m = &cc->marks[i];
		int lane = m->lane >= 0 && m->lane < cc->cc->n_clients ? lanes[m->lane] :
			   lanes[EBCC_MAX_CLIENTS];

		eb_timeline_add(tl, lane, EB_TL_NOTE, m->t - t0, m->t - t0, m->label);
	}
	for (i = 0; i < cc->n_spans; i++) {
		const ebcc_span *s = &cc->spans[i];
		int lane = s->lane >= 0 && s->lane < cc->cc->n_clients ? lanes[s->lane] :
			   lanes[EBCC_MAX_CLIENTS];

		eb_timeline_add(tl, lane, EB_TL_EXPECT, s->t0 - t0, s->t1 - t0, s->label);
		if (s->t1 - t0 > tl->span_ms)
			tl->span_ms = s->t1 - t0;
	}
	pthread_mutex_unlock(&cc->tl_mu);
	return tl;
}

/* ---- the stage: scratch directory, ebmock ------------------------------------------------ */

static void run_rand_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	uint64_t x = eb_time_mono_ns() ^ ((uint64_t)getpid() << 20);

	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		for (i = 0; i < sizeof(r); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i + 1 < n && i < 2 * sizeof(r); i++)
		buf[i] = hex[(r[i / 2] >> ((i % 2) ? 0 : 4)) & 15];
	buf[i] = '\0';
}

static int run_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes the case's scratch directory (ours: made by mkdtemp under /tmp),
 * depth first, never following links. */
static void run_rmtree(const char *dir)
{
	if (strncmp(dir, "/tmp/ebcc.", 10) != 0)
		return;
	nftw(dir, run_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void run_file_tail(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)(len - 1))
		lseek(fd, end - (off_t)(len - 1), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static bool run_mock_start(ebcc_ctx *cc)
{
	char port_file[320], log_path[320], err[300], extra[512];
	char *argv[48];
	int n = 0, logfd;
	double until;

	snprintf(port_file, sizeof(port_file), "%s/mock.port", cc->dir);
	snprintf(log_path, sizeof(log_path), "%s/mock.log", cc->dir);
	snprintf(cc->evlog_path, sizeof(cc->evlog_path), "%s/events.jsonl", cc->dir);
	logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		ebc_error(&cc->base, "cannot create %s: %s", log_path, strerror(errno));
		return false;
	}
	argv[n++] = (char *)cc->ebmock_path;
	argv[n++] = (char *)"--port";
	argv[n++] = (char *)"0";
	argv[n++] = (char *)"--port-file";
	argv[n++] = port_file;
	argv[n++] = (char *)"--event-log";
	argv[n++] = cc->evlog_path;
	argv[n++] = (char *)"--admin-token";
	argv[n++] = cc->admin;
	argv[n++] = (char *)"--jwt-secret";
	argv[n++] = cc->secret;
	argv[n++] = (char *)"--quiet";
	if (cc->cc->mock_args) {
		char *p = extra;

		/* Blank-separated flags of the case table (no quoting needed). */
		snprintf(extra, sizeof(extra), "%s", cc->cc->mock_args);
		while (*p && n < 46) {
			while (*p == ' ')
				*p++ = '\0';
			if (!*p)
				break;
			argv[n++] = p;
			while (*p && *p != ' ')
				p++;
		}
	}
	argv[n] = NULL;
	cc->mock_pid = ebcc_spawn(argv, NULL, cc->dir, -1, logfd, logfd, err, sizeof(err));
	close(logfd);
	if (cc->mock_pid < 0) {
		ebc_error(&cc->base, "ebmock: %s", err);
		return false;
	}
	until = ebcc_now() + (double)ebc_ms(&cc->base, 10000);
	for (;;) {
		char pbuf[32];
		int fd = open(port_file, O_RDONLY | O_CLOEXEC);
		ssize_t r = fd >= 0 ? read(fd, pbuf, sizeof(pbuf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (r > 0 && pbuf[r - 1] == '\n') {
			char *end = NULL;
			long port;

			pbuf[r] = '\0';
			port = strtol(pbuf, &end, 10);
			if (port > 0 && port < 65536) {
				snprintf(cc->url, sizeof(cc->url), "http://127.0.0.1:%ld", port);
				return true;
			}
		}
		if (ebcc_reaped(cc->mock_pid, NULL) || ebcc_now() > until) {
			char tail[1024];

			run_file_tail(log_path, tail, sizeof(tail));
			ebc_error(&cc->base, "ebmock (%s) did not start: %s", cc->ebmock_path,
				  tail[0] ? tail : "no output");
			ebcc_kill(cc->mock_pid, 1000, NULL);
			cc->mock_pid = -1;
			return false;
		}
		{
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/* ---- one case ----------------------------------------------------------------------- */

typedef struct run_suite {
	const ebc_opts *opts;
	const char *driver;
	const char *ebmock;
	double clock_scale;
	char prefix[16];
	eb_report *rep;
	ebc_stop_flag *stop;
	const ebcc_case *const *cases;
	size_t n, next, total;
	double next_start;        /* mono ms: no case starts before it */
	pthread_mutex_t mu;
} run_suite;

static double run_case_budget_ms(const run_suite *s, const ebcc_case *c)
{
	/* Protocol time scaled, twice over for catch-ups and slow machines,
	 * plus the start-up of ebmock and the drivers; stretched by
	 * --time-scale like every wait of the suite. */
	double f = s->opts->time_scale > 1 ? s->opts->time_scale : 1;

	return (c->nominal_s * 1000.0 * s->clock_scale * 2.0 + 25000.0) * f;
}

static void run_one(run_suite *s, const ebcc_case *c)
{
	ebcc_ctx *cc = calloc(1, sizeof(*cc));
	eb_case_result res;
	char rerun[2048], tmpl[] = "/tmp/ebcc.XXXXXX";
	size_t nr = 0, nt = 0, i;
	int k;

	if (!cc)
		return;
	pthread_mutex_init(&cc->base.mu, NULL);
	pthread_mutex_init(&cc->tl_mu, NULL);
	cc->cc = c;
	cc->opts = *s->opts;
	cc->clock_scale = s->clock_scale;
	cc->time_scale = s->opts->time_scale > 1 ? s->opts->time_scale : 1;
	cc->driver_cmd = s->driver;
	cc->ebmock_path = s->ebmock;
	cc->stop = s->stop;
	cc->mock_pid = -1;
	ebcc_lines_init(&cc->evlog_lines, 0);
	cc->t_start = ebcc_now();
	cc->deadline = cc->t_start + run_case_budget_ms(s, c);
	run_rand_hex(cc->secret, 33);
	run_rand_hex(cc->admin, 33);

	cc->opts.no_auth_server = false;
	cc->run.opts = &cc->opts;
	snprintf(cc->run.prefix, sizeof(cc->run.prefix), "%s", s->prefix);
	eb_limits_default(&cc->run.limits);
	cc->base.run = &cc->run;
	cc->base.c = &c->c;
	cc->base.wire = eb_wirelog_new(0, 0);
	snprintf(cc->base.case_tag, sizeof(cc->base.case_tag), "%s", c->c.id);
	for (i = 0; cc->base.case_tag[i]; i++)
		if (cc->base.case_tag[i] == '/')
			cc->base.case_tag[i] = '.';
	snprintf(cc->base.subject, sizeof(cc->base.subject), "%s:%s", s->prefix, c->c.id);
	snprintf(cc->base.store_prefix, sizeof(cc->base.store_prefix), "%s-%s-", s->prefix,
		 cc->base.case_tag);
	/* The suite's own token, minted here so that ebc_token (the server
	 * suite's helpers use it) never looks at the run's key flags. */
	cc->base.token = ebcc_mint(cc, cc->base.subject, 3600, NULL);

	if (!mkdtemp(tmpl)) {
		ebc_error(&cc->base, "mkdtemp: %s", strerror(errno));
		goto report;
	}
	snprintf(cc->dir, sizeof(cc->dir), "%s", tmpl);
	if (!run_mock_start(cc))
		goto teardown;
	cc->opts.url = cc->url;
	for (k = 0; k < c->n_clients && k < EBCC_MAX_CLIENTS; k++)
		if (!ebcc_drv_launch(cc, k))
			goto teardown;
	c->run(cc);
teardown:
	for (k = 0; k < EBCC_MAX_CLIENTS; k++)
		ebcc_drv_stop(cc, k);
	ebcc_evlog_poll(cc);
	if (cc->mock_pid > 0) {
		ebcc_kill(cc->mock_pid, 3000, NULL);
		cc->mock_pid = -1;
	}
	ebcc_evlog_poll(cc);
	if (cc->base.raw == EBC_RAW_FAIL || cc->base.raw == EBC_RAW_ERROR || s->opts->verbose >= 2) {
		char line[600], mlog[2048], path[400];

		for (k = 0; k < c->n_clients && k < EBCC_MAX_CLIENTS; k++)
			if (cc->drv_tail[k][0])
				eb_wirelog_note(cc->base.wire, "driver %c stderr (tail):\n%s", 'a' + k,
						cc->drv_tail[k]);
		snprintf(path, sizeof(path), "%s/mock.log", cc->dir);
		run_file_tail(path, mlog, sizeof(mlog));
		if (mlog[0])
			eb_wirelog_note(cc->base.wire, "ebmock output (tail):\n%s", mlog);
		eb_wirelog_note(cc->base.wire, "event log of the case's ebmock (%zu events%s):",
				cc->n_ev, cc->ev_overflow ? ", cut at the cap" : "");
		for (i = 0; i < cc->n_ev && i < 3000; i++) {
			ebcc_ev_describe(&cc->ev[i], cc->t_start, line, sizeof(line));
			eb_wirelog_add(cc->base.wire, EB_WIRE_IN, "EVT", (int)cc->ev[i].conn, line,
				       strlen(line));
		}
	}
report:
	memset(&res, 0, sizeof(res));
	res.id = c->c.id;
	res.title = c->c.title;
	res.level = c->c.level;
	while (nr < EBC_MAX_RULES && c->c.rules[nr])
		nr++;
	while (nt < EBC_MAX_TAGS && c->c.tags[nt])
		nt++;
	res.rules = c->c.rules;
	res.n_rules = nr;
	res.tags = c->c.tags;
	res.n_tags = nt;
	res.outcome = ebc_outcome_resolve(cc->base.raw, c->c.level, s->opts->strict);
	if (cc->base.raw != EBC_RAW_PASS) {
		res.reason = cc->base.reason;
		if (cc->base.raw == EBC_RAW_FAIL) {
			res.failed_rule = cc->base.failed_rule;
			res.expected = cc->base.expected;
			res.actual = cc->base.actual;
		}
	}
	snprintf(rerun, sizeof(rerun), "ebconform --driver ");
	ebc_shell_quote(rerun, sizeof(rerun), s->driver);
	snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " --clock-scale %g --cases %s",
		 s->clock_scale, c->c.id);
	if (s->opts->time_scale > 1)
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " --time-scale %g",
			 s->opts->time_scale);
	if (s->opts->strict)
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " --strict");
	res.rerun = rerun;
	res.duration_ms = ebcc_now() - cc->t_start;
	res.wire = cc->base.wire;
	res.timeline = cc->mock_pid == -1 ? run_timeline(cc) : NULL;

	pthread_mutex_lock(&s->mu);
	eb_report_add(s->rep, &res);
	eb_report_console_progress(s->rep, stderr, s->total);
	pthread_mutex_unlock(&s->mu);

	if (cc->dir[0])
		run_rmtree(cc->dir);
	for (i = 0; i < cc->n_ev; i++)
		ebcc_ev_clear(&cc->ev[i]);
	free(cc->ev);
	ebcc_lines_clear(&cc->evlog_lines);
	eb_http_free(cc->base.http);
	free(cc->base.token);
	pthread_mutex_destroy(&cc->tl_mu);
	pthread_mutex_destroy(&cc->base.mu);
	free(cc);
}

static void *run_worker(void *arg)
{
	run_suite *s = arg;

	for (;;) {
		const ebcc_case *c;

		pthread_mutex_lock(&s->mu);
		if (s->next >= s->n || *s->stop) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		c = s->cases[s->next++];
		/* Starts 100 ms apart: a dozen ebmock and driver start-ups at
		 * once are a burst of CPU that delays the timers of the cases
		 * already measuring. */
		{
			double now = ebcc_now(), at = now > s->next_start ? now : s->next_start;

			s->next_start = at + 100.0;
			pthread_mutex_unlock(&s->mu);
			if (at > now)
				ebc_sleep_ms((long)(at - now));
		}
		run_one(s, c);
	}
}

static int run_by_length(const void *a, const void *b)
{
	const ebcc_case *x = *(const ebcc_case *const *)a, *y = *(const ebcc_case *const *)b;

	if (x->nominal_s != y->nominal_s)
		return x->nominal_s > y->nominal_s ? -1 : 1;
	return strcmp(x->c.id, y->c.id);
}

/* ---- main ------------------------------------------------------------------------------ */


static bool run_find_ebmock(const char *given, char *out, size_t len)
{
	char self[PATH_MAX - 16];
	ssize_t n;
	char *slash;

	if (given) {
		/* Absolute, since every ebmock runs with the case's folder as
		 * the place of its files. */
		char *abs = realpath(given, NULL);
		bool ok;

		snprintf(out, len, "%s", abs ? abs : given);
		ok = abs && access(out, X_OK) == 0;
		free(abs);
		return ok;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	snprintf(out, len, "%s/ebmock", self);
	return access(out, X_OK) == 0;
}

int ebcc_main(const ebc_opts *o, int argc, char **argv, ebc_stop_flag *stop)
{
	static const ebcc_case *all[256];
	const ebcc_case **sel = NULL;
	size_t n_all = ebcc_catalogue(all, 256), n_sel = 0, i, j;
	run_suite s;
	char ebmock[PATH_MAX], cmd[4096], meta[256];
	int rc = EBC_EXIT_USAGE, jobs = 0, w;
	pthread_t th[64];
	bool jobs_given = false;

	memset(&s, 0, sizeof(s));
	sel = calloc(n_all ? n_all : 1, sizeof(*sel));
	if (!sel) {
		fprintf(stderr, "ebconform: out of memory\n");
		return EBC_EXIT_USAGE;
	}
	for (i = 0; i < n_all; i++)
		if (ebc_case_selected(o, all[i]->c.id))
			sel[n_sel++] = all[i];
	if (o->list) {
		for (i = 0; i < n_sel; i++) {
			printf("%s\t%s\t", sel[i]->c.id, sel[i]->c.level);
			for (j = 0; j < EBC_MAX_RULES && sel[i]->c.rules[j]; j++)
				printf("%s%s", j ? "," : "", sel[i]->c.rules[j]);
			printf("\t%s\n", sel[i]->c.title);
		}
		free(sel);
		return EBC_EXIT_OK;
	}
	if (n_sel == 0) {
		fprintf(stderr, "ebconform: no client case matches the --cases/--exclude globs\n");
		goto out;
	}
	if (!run_find_ebmock(o->ebmock, ebmock, sizeof(ebmock))) {
		fprintf(stderr, "ebconform: no ebmock at %s (give --ebmock PATH)\n",
			o->ebmock ? o->ebmock : "the directory of ebconform");
		goto out;
	}
	if (o->report_dir) {
		eb_err e;

		if (eb_file_mkdirs(o->report_dir, &e) != EB_OK) {
			fprintf(stderr, "ebconform: bad value '%s' for --report-dir: %s\n",
				o->report_dir, e.msg);
			goto out;
		}
	}
	if (eb_http_global_init() != 0) {
		fprintf(stderr, "ebconform: HTTP client initialisation failed\n");
		goto out;
	}
	cmd[0] = '\0';
	for (i = 0; i < (size_t)argc; i++) {
		if (i)
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " ");
		ebc_shell_quote(cmd, sizeof(cmd), argv[i]);
		if (strcmp(argv[i], "--jobs") == 0 || strncmp(argv[i], "--jobs=", 7) == 0)
			jobs_given = true;
	}
	s.opts = o;
	s.driver = o->driver;
	s.ebmock = ebmock;
	s.clock_scale = o->clock_scale > 0 ? o->clock_scale : 0.01;
	s.stop = stop;
	pthread_mutex_init(&s.mu, NULL);
	run_rand_hex(s.prefix, 9);
	s.prefix[0] = 'c';
	s.rep = eb_report_new("ebconform", EBC_VERSION, o->driver, cmd);
	if (!s.rep) {
		fprintf(stderr, "ebconform: out of memory\n");
		goto out_http;
	}
	eb_report_set_meta(s.rep, "mode", "client (driver)");
	eb_report_set_meta(s.rep, "driver", o->driver);
	snprintf(meta, sizeof(meta), "%g", s.clock_scale);
	eb_report_set_meta(s.rep, "clockScale", meta);
	snprintf(meta, sizeof(meta), "%g", o->time_scale);
	eb_report_set_meta(s.rep, "timeScale", meta);
	eb_report_set_meta(s.rep, "runPrefix", s.prefix);
	eb_report_set_meta(s.rep, "ebmock", ebmock);
	eb_report_set_meta(s.rep, "strict", o->strict ? "true" : "false");
	/* Longest cases first so their waits overlap the rest. Client cases
	 * mostly wait on protocol timers: many run at once by default. */
	qsort(sel, n_sel, sizeof(*sel), run_by_length);
	s.cases = sel;
	s.n = s.total = n_sel;
	jobs = jobs_given ? o->jobs : 12;
	if ((size_t)jobs > n_sel)
		jobs = (int)n_sel;
	if (jobs > 64)
		jobs = 64;
	snprintf(meta, sizeof(meta), "%d", jobs);
	eb_report_set_meta(s.rep, "jobs", meta);
	fprintf(stderr, "ebconform: %zu client cases with driver %s (clock scale %g, %d at a time)\n",
		n_sel, o->driver, s.clock_scale, jobs);
	for (w = 0; w < jobs; w++)
		if (pthread_create(&th[w], NULL, run_worker, &s) != 0)
			break;
	if (w == 0)
		run_worker(&s);
	while (w-- > 0)
		pthread_join(th[w], NULL);
	if (*stop) {
		/* the cases not run are listed, the verdict is INCOMPLETE */
		const ebc_case **cs = calloc(n_sel ? n_sel : 1, sizeof(*cs));
		const char **nr = calloc(n_sel ? n_sel : 1, sizeof(*nr));
		size_t nn = 0;

		if (cs && nr) {
			for (i = 0; i < n_sel; i++)
				cs[i] = &sel[i]->c;
			nn = ebc_not_run(s.rep, cs, n_sel, nr);
		}
		eb_report_set_incomplete(s.rep, "interrupted by a signal or the run's total deadline "
					 "(--deadline)", nr, nn);
		free(cs);
		free(nr);
	}
	eb_report_finish(s.rep);
	eb_report_console_summary(s.rep, stdout, o->verbose >= 1);
	rc = ebc_exit_code(eb_report_count(s.rep, EB_OUT_FAIL), eb_report_count(s.rep, EB_OUT_ERROR));
	if (*stop) {
		fprintf(stderr, "ebconform: stopped; the reports are marked INCOMPLETE\n");
		rc = EBC_EXIT_FAIL;
	}
	rc = ebc_outputs(o, s.rep, rc);
	eb_report_free(s.rep);
out_http:
	pthread_mutex_destroy(&s.mu);
	eb_http_global_cleanup();
out:
	free(sel);
	return rc;
}

/* ---- queries ------------------------------------------------------------------------------ */

bool ebcc_q_match(const ebcc_q *q, const ebcc_ev *e)
{
	bool http = ebcc_ev_is_store_req(e);

	if (http) {
		/* The suite's own requests carry a subject without "#x". */
		if (e->who == -2 || (q->client >= 0 && e->who != q->client))
			return false;
		if (q->store && strcmp(q->store, e->store) != 0)
			return false;
	}
	switch (q->what) {
	case EBCC_Q_READ:
		return http && !ebcc_ev_is_push(e);
	case EBCC_Q_PUSH:
		return http && ebcc_ev_is_push(e);
	case EBCC_Q_REQ:
		return http;
	case EBCC_Q_FAILED:
		return http && (e->status >= 400 || e->status <= 0);
	case EBCC_Q_ATTEMPT:
		return e->kind == EBCC_EV_WS_OPEN || e->kind == EBCC_EV_WS_REFUSED;
	case EBCC_Q_WS_CLOSE:
		return e->kind == EBCC_EV_WS_CLOSE;
	case EBCC_Q_WS_IN:
		return e->kind == EBCC_EV_WS_IN && (!q->type || strcmp(q->type, e->type) == 0);
	case EBCC_Q_WS_OUT:
		return e->kind == EBCC_EV_WS_OUT && (!q->type || strcmp(q->type, e->type) == 0);
	default:
		return false;
	}
}

size_t ebcc_q_find(ebcc_ctx *cc, const ebcc_q *q, size_t from, double t_lo, double t_hi,
		   size_t *out, size_t cap)
{
	size_t i, n = 0;

	ebcc_evlog_poll(cc);
	for (i = from; i < cc->n_ev; i++) {
		const ebcc_ev *e = &cc->ev[i];

		if (e->t0 < t_lo || e->t0 >= t_hi || !ebcc_q_match(q, e))
			continue;
		if (out && n < cap)
			out[n] = i;
		n++;
	}
	return n;
}

long ebcc_q_wait(ebcc_ctx *cc, const ebcc_q *q, size_t from, double deadline)
{
	size_t i = from;

	if (deadline > cc->deadline)
		deadline = cc->deadline;
	for (;;) {
		ebcc_evlog_poll(cc);
		for (; i < cc->n_ev; i++)
			if (ebcc_q_match(q, &cc->ev[i]))
				return (long)i;
		if (ebcc_now() >= deadline || (cc->stop && *cc->stop))
			return -1;
		{
			struct timespec ts = { 0, 5 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

long ebcc_wait_live(ebcc_ctx *cc, size_t from, int n_stores)
{
	ebcc_q q = { EBCC_Q_WS_OUT, NULL, -1, "subscribed" };
	double deadline = ebcc_now() + (double)ebc_ms(&cc->base, 5000) +
			  ebcc_proto_ms(cc, 10);
	long at = (long)from - 1;
	int got = 0;

	while (got < n_stores) {
		at = ebcc_q_wait(cc, &q, (size_t)(at + 1), deadline);
		if (at < 0) {
			ebc_fail(&cc->base, "CLIENT-WS-4",
				 "the client opens its socket, sends auth, then subscribes every open store",
				 "%d of %d subscriptions acknowledged within %.0f ms of start", got,
				 n_stores, (double)ebc_ms(&cc->base, 5000) + ebcc_proto_ms(cc, 10));
			return -1;
		}
		{
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(cc->ev[at].raw, "stores");

			got += cJSON_IsArray(st) && cJSON_GetArraySize(st) > 0 ?
			       cJSON_GetArraySize(st) : 1;
		}
	}
	return at;
}

/* ---- case helpers --------------------------------------------------------------------- */

long ebcc_boot(ebcc_ctx *cc, int i, const char *activity, int n_stores, bool live)
{
	size_t from;
	int k;

	ebcc_evlog_poll(cc);
	from = cc->n_ev;
	if (!ebcc_start(cc, i, activity))
		return -1;
	for (k = 0; k < n_stores; k++)
		if (!ebcc_open(cc, i, ebcc_store(cc, k)))
			return -1;
	if (!live) {
		ebcc_evlog_poll(cc);
		return (long)cc->n_ev - 1;
	}
	return ebcc_wait_live(cc, from, n_stores);
}

bool ebcc_suite_push(ebcc_ctx *cc, const char *store, int n, uint64_t *version)
{
	const char **ch = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
	char *body = NULL;
	eb_sync_response *r = NULL;
	bool ok = false;
	int k;
	uint64_t lkv = 0;

	if (!ch) {
		ebc_error(&cc->base, "out of memory");
		return false;
	}
	if (!ebc_version(&cc->base, store, &lkv))
		goto out;
	for (k = 0; k < n; k++) {
		char id[48], key[32], val[32];

		snprintf(id, sizeof(id), "suite-%u-%d", (unsigned)(eb_time_mono_ns() % 1000000007ULL), k);
		snprintf(key, sizeof(key), "s%d", k);
		snprintf(val, sizeof(val), "%d", k);
		ch[k] = ebc_set_json(id, eb_time_now_ms(), key, val);
		if (!ch[k]) {
			ebc_error(&cc->base, "out of memory");
			goto out;
		}
	}
	body = ebc_body(lkv, ch, (size_t)n, -1);
	if (!body) {
		ebc_error(&cc->base, "out of memory");
		goto out;
	}
	r = ebc_sync_ok(&cc->base, NULL, store, ebc_token(&cc->base), body, "SYNC-1");
	if (!r) {
		/* A failed set-up push is the stage's trouble, not the client's. */
		if (cc->base.raw == EBC_RAW_FAIL) {
			cc->base.raw = EBC_RAW_ERROR;
		}
		goto out;
	}
	if (version)
		*version = r->current_version;
	ok = true;
out:
	for (k = 0; k < n; k++)
		free((void *)ch[k]);
	free(ch);
	free(body);
	eb_sync_response_free(r);
	return ok;
}

bool ebcc_wait_version(ebcc_ctx *cc, int i, const char *store, uint64_t v, double deadline)
{
	for (;;) {
		uint64_t have = 0;
		long pending = 0;

		if (!ebcc_state(cc, i, store, NULL, &have, &pending))
			return false;
		if (have >= v)
			return true;
		if (ebcc_now() >= deadline || ebcc_now() >= cc->deadline)
			return false;
		ebcc_sleep(cc, 20);
	}
}

bool ebcc_check_state(ebcc_ctx *cc, int i, const char *store, const char *rule)
{
	eb_change *ch = NULL;
	size_t n = 0;
	uint64_t cur = 0, have = 0;
	cJSON *oracle = NULL, *mine = NULL;
	eb_err e;
	bool ok = false;
	long pending = 0;

	if (!ebc_read_all(&cc->base, NULL, store, ebc_token(&cc->base), 0, 0, false, &ch, &n, &cur))
		goto out;
	eb_err_clear(&e);
	if (eb_merge_state(ch, n, &oracle, &e) != EB_OK) {
		ebc_error(&cc->base, "merging the feed failed: %s", e.msg);
		goto out;
	}
	if (!ebcc_state(cc, i, store, &mine, &have, &pending))
		goto out;
	if (!eb_json_canon_equal(oracle, mine)) {
		char *a = NULL, *b = NULL;

		eb_json_canonical(oracle, &a, NULL);
		eb_json_canonical(mine, &b, NULL);
		ebc_fail(&cc->base, rule, "the client's state equals eb_merge_state of the store's changes",
			 "client %c (version %llu) has %.400s; the %zu changes of the store (version %llu) "
			 "merge to %.400s", 'a' + i, (unsigned long long)have, b ? b : "?", n,
			 (unsigned long long)cur, a ? a : "?");
		free(a);
		free(b);
		goto out;
	}
	ok = true;
out:
	cJSON_Delete(oracle);
	cJSON_Delete(mine);
	ebc_changes_free(ch, n);
	return ok;
}

double ebcc_live_until(ebcc_ctx *cc, size_t from, double until)
{
	ebcc_q cl = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	size_t ci[1];

	if (ebcc_q_find(cc, &cl, from, 0, until, ci, 1) > 0 && cc->ev[ci[0]].t < until) {
		eb_wirelog_note(cc->base.wire, "the socket closed at %+.0f ms (code %ld): judged "
				"only until then", cc->ev[ci[0]].t - cc->t_start, cc->ev[ci[0]].close_code);
		return cc->ev[ci[0]].t;
	}
	return until;
}
