/*
 * ebcc_driver.c — one driver process per simulated client
 * (docs/CLIENT-DRIVER.md): started with /bin/sh -c CMD and the EB_DRIVER_*
 * environment, JSON lines over pipes. A reader thread per driver drains its
 * standard output and error at all times (a driver blocked on a full pipe
 * would look like a broken SDK), files answers by id and counts events; the
 * case thread sends commands and waits for answers with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_time.h"
#include "ebcc.h"
#include "ebcc_priv.h"
#include "ebcc_proc.h"

extern char **environ;

#define DRV_TAIL 4096
#define DRV_MAX_ANSWERS 64
#define DRV_MAX_MARKS 256

struct ebcc_drv {
	ebcc_ctx *cc;
	int idx;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	pthread_t th;
	bool th_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	cJSON *answers[DRV_MAX_ANSWERS];
	size_t n_ans;
	bool out_eof;
	bool broken;              /* a line that is not a JSON object, or too long */
	char why[300];
	char tail[DRV_TAIL];      /* ring of the last stderr bytes */
	size_t tail_at, tail_len;
	long token_requests;
	long rejected;
	char last_rejected[128];
	unsigned next_id;
	ebcc_lines lines;
	ebcc_mark marks[DRV_MAX_MARKS];
	size_t n_marks;
	bool reaped;              /* pid waited for; status holds its wait status */
	int status;
};

/* Non-blocking reap that keeps the status for the report. */
static bool drv_reap(ebcc_drv *d)
{
	if (!d->reaped && d->pid > 0 && ebcc_reaped(d->pid, &d->status))
		d->reaped = true;
	return d->reaped;
}

static const char drv_names[EBCC_MAX_CLIENTS] = { 'a', 'b', 'c' };

/* ---- reader thread ------------------------------------------------------------ */

static void drv_tail_add(ebcc_drv *d, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		d->tail[d->tail_at] = buf[i];
		d->tail_at = (d->tail_at + 1) % DRV_TAIL;
		if (d->tail_len < DRV_TAIL)
			d->tail_len++;
	}
}

static void drv_mark(ebcc_drv *d, const char *label)
{
	if (d->n_marks >= DRV_MAX_MARKS)
		return;
	d->marks[d->n_marks].t = ebcc_now();
	d->marks[d->n_marks].lane = d->idx;
	snprintf(d->marks[d->n_marks].label, sizeof(d->marks[0].label), "%s", label);
	d->n_marks++;
}

/* One line from the driver's standard output; called with d->mu held. */
static void drv_line(ebcc_drv *d, char *line, size_t len)
{
	cJSON *root = NULL;
	const cJSON *id, *ev;
	eb_err e;

	eb_wirelog_add(d->cc->base.wire, EB_WIRE_IN, "DRV", d->idx, line, len);
	eb_err_clear(&e);
	if (eb_json_parse(line, len, EB_JSON_MAX_DEPTH, &root, &e) != EB_OK ||
	    !cJSON_IsObject(root)) {
		if (!d->broken) {
			d->broken = true;
			snprintf(d->why, sizeof(d->why),
				 "driver %c wrote a line that is not a JSON object: \"%.120s\"",
				 drv_names[d->idx], line);
		}
		cJSON_Delete(root);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	ev = cJSON_GetObjectItemCaseSensitive(root, "event");
	if (cJSON_IsString(id)) {
		if (d->n_ans < DRV_MAX_ANSWERS) {
			d->answers[d->n_ans++] = root;
			return;
		}
		/* Answers the suite never asked for pile up only in a broken
		 * driver; the cap keeps it from growing the suite. */
		if (!d->broken) {
			d->broken = true;
			snprintf(d->why, sizeof(d->why), "driver %c sent more than %d unclaimed answers",
				 drv_names[d->idx], DRV_MAX_ANSWERS);
		}
	} else if (cJSON_IsString(ev)) {
		const char *name = ev->valuestring;

		if (strcmp(name, "token_requested") == 0) {
			d->token_requests++;
			drv_mark(d, "token requested");
		} else if (strcmp(name, "rejected") == 0) {
			const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "changeId");

			d->rejected++;
			if (cJSON_IsString(cid))
				snprintf(d->last_rejected, sizeof(d->last_rejected), "%s",
					 cid->valuestring);
			drv_mark(d, "rejected");
		} else if (strcmp(name, "state") == 0) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");
			char lab[64];

			snprintf(lab, sizeof(lab), "%s", cJSON_IsString(st) ? st->valuestring : "?");
			drv_mark(d, lab);
		}
	}
	cJSON_Delete(root);
}

static void *drv_reader(void *arg)
{
	ebcc_drv *d = arg;
	bool out_open = true, err_open = true;
	char buf[8192];

	while (out_open || err_open) {
		struct pollfd p[2];
		int np = 0, r, i;

		if (out_open) {
			p[np].fd = d->out_fd;
			p[np].events = POLLIN;
			np++;
		}
		if (err_open) {
			p[np].fd = d->err_fd;
			p[np].events = POLLIN;
			np++;
		}
		r = poll(p, (nfds_t)np, 200);
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; i < np && r > 0; i++) {
			ssize_t n;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			pthread_mutex_lock(&d->mu);
			if (p[i].fd == d->err_fd) {
				if (n <= 0)
					err_open = false;
				else
					drv_tail_add(d, buf, (size_t)n);
			} else if (n <= 0) {
				out_open = false;
				d->out_eof = true;
				pthread_cond_broadcast(&d->cv);
			} else {
				char *line;
				size_t len;

				if (ebcc_lines_push(&d->lines, buf, (size_t)n) != 0 && !d->broken) {
					d->broken = true;
					snprintf(d->why, sizeof(d->why),
						 "driver %c wrote a line longer than 1 MiB",
						 drv_names[d->idx]);
				}
				while (ebcc_lines_next(&d->lines, &line, &len) == 1) {
					drv_line(d, line, len);
					free(line);
				}
				pthread_cond_broadcast(&d->cv);
			}
			pthread_mutex_unlock(&d->mu);
		}
	}
	return NULL;
}

/* ---- process ------------------------------------------------------------------------ */

static char **drv_env(ebcc_ctx *cc, int idx, const char *data_dir)
{
	size_t n = 0, k = 0, i;
	char **env;
	char v[512];

	while (environ[n])
		n++;
	env = calloc(n + 6, sizeof(char *));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "EB_DRIVER_", 10) != 0 &&
		    strncmp(environ[i], "EB_JWT_SECRET", 13) != 0 &&   /* and _FILE */
		    strncmp(environ[i], "EBCONFORM_JWT_SECRET", 20) != 0)
			env[k++] = environ[i];
	snprintf(v, sizeof(v), "EB_DRIVER_URL=%s", cc->url);
	env[k++] = strdup(v);
	snprintf(v, sizeof(v), "EB_DRIVER_CLOCK_SCALE=%g", cc->clock_scale);
	env[k++] = strdup(v);
	snprintf(v, sizeof(v), "EB_DRIVER_CLIENT=%c", drv_names[idx]);
	env[k++] = strdup(v);
	snprintf(v, sizeof(v), "EB_DRIVER_CASE=%s", cc->cc->c.id);
	env[k++] = strdup(v);
	snprintf(v, sizeof(v), "EB_DRIVER_DATA_DIR=%s", data_dir);
	env[k++] = strdup(v);
	env[k] = NULL;
	for (i = k - 5; i < k; i++)
		if (!env[i]) {
			for (i = k - 5; i < k; i++)
				free(env[i]);
			free(env);
			return NULL;
		}
	return env;
}

static void drv_env_free(char **env)
{
	size_t i, n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	for (i = n >= 5 ? n - 5 : 0; i < n; i++)
		free(env[i]);
	free(env);
}

static void drv_free(ebcc_drv *d)
{
	size_t i;

	if (!d)
		return;
	if (d->in_fd >= 0)
		close(d->in_fd);
	d->in_fd = -1;
	if (!d->reaped)
		ebcc_kill(d->pid, 2000, NULL);
	else if (d->pid > 0)
		kill(-d->pid, SIGKILL);
	d->pid = -1;
	if (d->th_started)
		pthread_join(d->th, NULL);
	if (d->out_fd >= 0)
		close(d->out_fd);
	if (d->err_fd >= 0)
		close(d->err_fd);
	for (i = 0; i < d->n_ans; i++)
		cJSON_Delete(d->answers[i]);
	ebcc_lines_clear(&d->lines);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d);
}

/* The stderr tail of driver i (running or stopped) into buf. */
void ebcc_drv_tail(ebcc_ctx *cc, int i, char *buf, size_t len)
{
	ebcc_drv *d = cc->drv[i];

	buf[0] = '\0';
	if (!d) {
		snprintf(buf, len, "%s", cc->drv_tail[i]);
		return;
	}
	pthread_mutex_lock(&d->mu);
	{
		size_t start = (d->tail_at + DRV_TAIL - d->tail_len) % DRV_TAIL, k, n = 0;

		for (k = 0; k < d->tail_len && n + 1 < len; k++)
			buf[n++] = d->tail[(start + k) % DRV_TAIL];
		buf[n] = '\0';
	}
	pthread_mutex_unlock(&d->mu);
}

size_t ebcc_drv_marks(ebcc_ctx *cc, int i, ebcc_mark *out, size_t cap)
{
	ebcc_drv *d = cc->drv[i];
	size_t n = 0;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->mu);
	for (n = 0; n < d->n_marks && n < cap; n++)
		out[n] = d->marks[n];
	pthread_mutex_unlock(&d->mu);
	return n;
}

static void drv_status_text(ebcc_drv *d, char *buf, size_t len)
{
	int st = d->status;

	if (drv_reap(d)) {
		st = d->status;
		if (WIFEXITED(st))
			snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
		else
			snprintf(buf, len, "ended");
	} else {
		snprintf(buf, len, "closed its standard output");
	}
}

/* Records an ERROR for driver i with its stderr tail. */
static void drv_error(ebcc_ctx *cc, int i, const char *what)
{
	char tail[DRV_TAIL + 1];
	size_t n;
	const char *t;

	/* What the driver wrote on stderr just before may still sit in the
	 * pipe: give the reader thread a moment. */
	{
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
	}

	ebcc_drv_tail(cc, i, tail, sizeof(tail));
	n = strlen(tail);
	t = n > 600 ? tail + n - 600 : tail;
	eb_wirelog_note(cc->base.wire, "driver %c stderr (last %zu bytes):\n%s", drv_names[i], n, tail);
	ebc_error(&cc->base, "%s; driver stderr tail: %s", what, n ? t : "(empty)");
}

bool ebcc_drv_launch(ebcc_ctx *cc, int i)
{
	ebcc_drv *d;
	char data_dir[400], err[300];
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char *argv[4];
	char **env = NULL;
	cJSON *hello;

	if (cc->drv[i])
		ebcc_drv_stop(cc, i);
	d = calloc(1, sizeof(*d));
	if (!d) {
		ebc_error(&cc->base, "out of memory");
		return false;
	}
	d->cc = cc;
	d->idx = i;
	d->pid = -1;
	d->in_fd = d->out_fd = d->err_fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	ebcc_lines_init(&d->lines, 0);
	snprintf(data_dir, sizeof(data_dir), "%s/data-%c", cc->dir, drv_names[i]);
	/* The driver runs in ebconform's own working directory, so a relative
	 * command (--driver ./my-driver) works as typed; its files belong in
	 * EB_DRIVER_DATA_DIR, which is kept across restarts within the case. */
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
		ebc_error(&cc->base, "cannot create %s: %s", data_dir, strerror(errno));
		drv_free(d);
		return false;
	}
	if (pipe2(inp, O_CLOEXEC) || pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		ebc_error(&cc->base, "pipe: %s", strerror(errno));
		goto fail;
	}
	env = drv_env(cc, i, data_dir);
	if (!env) {
		ebc_error(&cc->base, "out of memory");
		goto fail;
	}
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)cc->driver_cmd;
	argv[3] = NULL;
	d->pid = ebcc_spawn(argv, env, NULL, inp[0], outp[1], errp[1], err, sizeof(err));
	drv_env_free(env);
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	inp[0] = outp[1] = errp[1] = -1;
	d->in_fd = inp[1];
	d->out_fd = outp[0];
	d->err_fd = errp[0];
	if (d->pid < 0) {
		ebc_error(&cc->base, "driver %c: %s", drv_names[i], err);
		drv_free(d);
		return false;
	}
	fcntl(d->in_fd, F_SETFL, fcntl(d->in_fd, F_GETFL) | O_NONBLOCK);
	if (pthread_create(&d->th, NULL, drv_reader, d) != 0) {
		ebc_error(&cc->base, "cannot start a reader thread");
		drv_free(d);
		return false;
	}
	d->th_started = true;
	cc->drv[i] = d;
	eb_wirelog_note(cc->base.wire, "driver %c started (pid %d)", drv_names[i], (int)d->pid);
	hello = ebcc_cmd(cc, i, "hello", "", 0);
	if (!hello)
		return false;
	{
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(hello, "ok");
		const cJSON *cs = cJSON_GetObjectItemCaseSensitive(hello, "clockScale");

		if (!cJSON_IsTrue(ok)) {
			cJSON_Delete(hello);
			drv_error(cc, i, "the driver answered hello with ok:false");
			return false;
		}
		if (cJSON_IsFalse(cs) && cc->clock_scale != 1.0) {
			cJSON_Delete(hello);
			ebc_skip(&cc->base, "the SDK has no clock-scale hook (hello: clockScale false): "
				 "run with --clock-scale 1 and a short selection of cases");
			return false;
		}
	}
	cJSON_Delete(hello);
	return ebcc_give_token(cc, i, 3600, NULL, 0);
fail:
	if (inp[0] >= 0) {
		close(inp[0]);
		close(inp[1]);
	}
	if (outp[0] >= 0) {
		close(outp[0]);
		close(outp[1]);
	}
	if (errp[0] >= 0) {
		close(errp[0]);
		close(errp[1]);
	}
	drv_free(d);
	return false;
}

void ebcc_drv_stop(ebcc_ctx *cc, int i)
{
	ebcc_drv *d = cc->drv[i];
	char tail[DRV_TAIL + 1];

	if (!d)
		return;
	/* A polite stop first (the driver answers and exits), unless the
	 * driver is already known to be broken. */
	pthread_mutex_lock(&d->mu);
	{
		bool dead = d->out_eof || d->broken;

		pthread_mutex_unlock(&d->mu);
		if (!dead && d->in_fd >= 0) {
			char line[64];
			ssize_t w;

			snprintf(line, sizeof(line), "{\"id\":\"s%u\",\"cmd\":\"stop\"}\n", ++d->next_id);
			w = write(d->in_fd, line, strlen(line));
			(void)w;
		}
	}
	if (d->in_fd >= 0) {
		close(d->in_fd);
		d->in_fd = -1;
	}
	/* CLIENT-DRIVER.md: exit within 2 s of stop; then SIGTERM, SIGKILL
	 * 2 s later. */
	{
		double until = ebcc_now() + 2000.0 * (cc->time_scale > 1 ? cc->time_scale : 1);

		while (ebcc_now() < until && !drv_reap(d)) {
			struct timespec ts = { 0, 20 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (!d->reaped)
		ebcc_kill(d->pid, 2000, NULL);
	else if (d->pid > 0)
		kill(-d->pid, SIGKILL);   /* what the driver's shell left behind */
	d->pid = -1;
	ebcc_drv_tail(cc, i, tail, sizeof(tail));
	snprintf(cc->drv_tail[i], sizeof(cc->drv_tail[i]), "%s", tail);
	{
		ebcc_mark m[DRV_MAX_MARKS];
		size_t n = ebcc_drv_marks(cc, i, m, DRV_MAX_MARKS), k;

		for (k = 0; k < n; k++)
			ebcc_keep_mark(cc, &m[k]);
	}
	cc->drv[i] = NULL;
	drv_free(d);
}

/* ---- commands ------------------------------------------------------------------------ */

static bool drv_write_all(ebcc_drv *d, const char *s, size_t n, double deadline)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(d->in_fd, s + off, n - off);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (ebcc_now() >= deadline)
			return false;
		{
			struct pollfd p = { d->in_fd, POLLOUT, 0 };

			poll(&p, 1, 50);
		}
	}
	return true;
}

cJSON *ebcc_cmd(ebcc_ctx *cc, int i, const char *cmd, const char *members, long wait_ms)
{
	ebcc_drv *d = cc->drv[i];
	char idbuf[24], *line = NULL;
	size_t n;
	double deadline;
	long base = ebc_ms(&cc->base, 5000);
	cJSON *ans = NULL;

	if (!d) {
		ebc_error(&cc->base, "driver %c is not running", drv_names[i]);
		return NULL;
	}
	if (wait_ms > base)
		base = wait_ms;
	deadline = ebcc_now() + (double)base;
	if (deadline > cc->deadline)
		deadline = cc->deadline;
	snprintf(idbuf, sizeof(idbuf), "%u", ++d->next_id);
	n = strlen(idbuf) + strlen(cmd) + strlen(members) + 32;
	line = malloc(n);
	if (!line) {
		ebc_error(&cc->base, "out of memory");
		return NULL;
	}
	snprintf(line, n, "{\"id\":\"%s\",\"cmd\":\"%s\"%s%s}\n", idbuf, cmd,
		 members[0] ? "," : "", members);
	eb_wirelog_add(cc->base.wire, EB_WIRE_OUT, "DRV", i, line, strlen(line) - 1);
	if (!drv_write_all(d, line, strlen(line), deadline)) {
		char what[200];

		free(line);
		snprintf(what, sizeof(what), "driver %c did not take the command %s (standard input %s)",
			 drv_names[i], cmd, ebcc_now() >= deadline ? "full until the deadline" : "closed");
		drv_error(cc, i, what);
		return NULL;
	}
	free(line);
	pthread_mutex_lock(&d->mu);
	for (;;) {
		size_t k;
		struct timespec ts;
		double now;

		for (k = 0; k < d->n_ans; k++) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(d->answers[k], "id");

			if (cJSON_IsString(id) && strcmp(id->valuestring, idbuf) == 0) {
				ans = d->answers[k];
				memmove(&d->answers[k], &d->answers[k + 1],
					(d->n_ans - k - 1) * sizeof(d->answers[0]));
				d->n_ans--;
				break;
			}
		}
		if (ans || d->broken || d->out_eof)
			break;
		now = ebcc_now();
		if (now >= deadline || (cc->stop && *cc->stop))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		{
			double wait = deadline - now;

			if (wait > 100)
				wait = 100;
			ts.tv_nsec += (long)(wait * 1e6);
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
		}
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	{
		bool broken = d->broken, eof = d->out_eof;
		char why[300];

		snprintf(why, sizeof(why), "%s", d->why);
		pthread_mutex_unlock(&d->mu);
		if (ans)
			return ans;
		if (broken) {
			drv_error(cc, i, why);
		} else if (eof) {
			char st[64], what[200];

			/* Give a dying driver a moment to be reaped for its status. */
			{
				double until = ebcc_now() + 500;

				while (ebcc_now() < until && !drv_reap(d)) {
					struct timespec t2 = { 0, 10 * 1000000L };

					nanosleep(&t2, NULL);
				}
			}
			drv_status_text(d, st, sizeof(st));
			snprintf(what, sizeof(what), "driver %c %s before answering %s",
				 drv_names[i], st, cmd);
			drv_error(cc, i, what);
		} else {
			char what[200];

			snprintf(what, sizeof(what), "driver %c did not answer %s within %.0f ms",
				 drv_names[i], cmd, (double)base);
			drv_error(cc, i, what);
		}
	}
	return NULL;
}

bool ebcc_cmd_ok(ebcc_ctx *cc, int i, const char *cmd, const char *members, cJSON **out)
{
	cJSON *a = ebcc_cmd(cc, i, cmd, members, 0);
	const cJSON *ok, *er;

	if (out)
		*out = NULL;
	if (!a)
		return false;
	ok = cJSON_GetObjectItemCaseSensitive(a, "ok");
	if (!cJSON_IsTrue(ok)) {
		char what[300];

		er = cJSON_GetObjectItemCaseSensitive(a, "error");
		snprintf(what, sizeof(what), "driver %c answered %s with ok:false (%s)",
			 drv_names[i], cmd, cJSON_IsString(er) ? er->valuestring : "no error text");
		cJSON_Delete(a);
		drv_error(cc, i, what);
		return false;
	}
	if (out)
		*out = a;
	else
		cJSON_Delete(a);
	return true;
}

static char *drv_quote(const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	char *out = NULL;

	if (v && eb_json_print(v, &out, NULL) != EB_OK)
		out = NULL;
	cJSON_Delete(v);
	return out;
}

bool ebcc_start(ebcc_ctx *cc, int i, const char *activity)
{
	char m[64];

	snprintf(m, sizeof(m), "\"activity\":\"%s\"", activity);
	return ebcc_cmd_ok(cc, i, "start", m, NULL);
}

bool ebcc_open(ebcc_ctx *cc, int i, const char *store)
{
	char m[256];

	snprintf(m, sizeof(m), "\"store\":\"%s\"", store);
	return ebcc_cmd_ok(cc, i, "open", m, NULL);
}

bool ebcc_activity(ebcc_ctx *cc, int i, const char *state)
{
	char m[64];

	snprintf(m, sizeof(m), "\"state\":\"%s\"", state);
	ebcc_tl_note(cc, ebcc_now(), state);
	return ebcc_cmd_ok(cc, i, "activity", m, NULL);
}

bool ebcc_set(ebcc_ctx *cc, int i, const char *store, const char *key,
	      const char *value_json, char *id, size_t idlen)
{
	char *qk = drv_quote(key), *m;
	size_t n;
	cJSON *a = NULL;
	bool ok = false;

	if (!qk) {
		ebc_error(&cc->base, "out of memory");
		return false;
	}
	n = strlen(store) + strlen(qk) + strlen(value_json) + 64;
	m = malloc(n);
	if (!m) {
		free(qk);
		ebc_error(&cc->base, "out of memory");
		return false;
	}
	snprintf(m, n, "\"store\":\"%s\",\"path\":[\"k\",%s],\"value\":%s", store, qk, value_json);
	if (ebcc_cmd_ok(cc, i, "set", m, &a)) {
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(a, "changeId");

		if (!cJSON_IsString(cid)) {
			drv_error(cc, i, "the answer to set has no changeId string");
		} else {
			if (id)
				snprintf(id, idlen, "%s", cid->valuestring);
			ok = true;
		}
	}
	cJSON_Delete(a);
	free(m);
	free(qk);
	return ok;
}

bool ebcc_state(ebcc_ctx *cc, int i, const char *store, cJSON **state,
		uint64_t *version, long *pending)
{
	char m[256];
	cJSON *a = NULL;
	const cJSON *st, *v, *p;
	uint64_t u;

	if (state)
		*state = NULL;
	snprintf(m, sizeof(m), "\"store\":\"%s\"", store);
	if (!ebcc_cmd_ok(cc, i, "state", m, &a))
		return false;
	st = cJSON_GetObjectItemCaseSensitive(a, "state");
	v = cJSON_GetObjectItemCaseSensitive(a, "version");
	p = cJSON_GetObjectItemCaseSensitive(a, "pending");
	if (!cJSON_IsObject(st) || !v || !eb_json_get_uint53(v, &u) || !cJSON_IsNumber(p)) {
		cJSON_Delete(a);
		drv_error(cc, i, "the answer to state lacks state (object), version or pending (integers)");
		return false;
	}
	if (version)
		*version = u;
	if (pending)
		*pending = (long)p->valuedouble;
	if (state)
		*state = cJSON_DetachItemViaPointer(a, (cJSON *)st);
	cJSON_Delete(a);
	return true;
}

bool ebcc_flush(ebcc_ctx *cc, int i, long timeout_ms, bool *ok)
{
	char m[64];
	cJSON *a;

	*ok = false;
	snprintf(m, sizeof(m), "\"timeoutMs\":%ld", timeout_ms);
	a = ebcc_cmd(cc, i, "flush", m, timeout_ms + ebc_ms(&cc->base, 2000));
	if (!a)
		return false;
	*ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "ok"));
	cJSON_Delete(a);
	return true;
}

char *ebcc_mint(ebcc_ctx *cc, const char *sub, long lifetime_s, const char *jti)
{
	eb_jwt_mint_opts o;
	const char *pats[1];
	char pat[200], *tok = NULL;
	eb_err err;
	int64_t now = (int64_t)(eb_time_now_ms() / 1000);

	/* Signed as the case's ebmock verifies: HS256 with the case's random
	 * secret, no issuer or audience, writes to the case's stores. */
	memset(&o, 0, sizeof(o));
	snprintf(pat, sizeof(pat), "%s*", cc->base.store_prefix);
	pats[0] = pat;
	o.alg = EB_JWT_HS256;
	o.key = cc->secret;
	o.key_len = strlen(cc->secret);
	o.sub = sub;
	o.has_iat = true;
	o.iat = now;
	o.has_exp = true;
	o.exp = now + lifetime_s;
	o.write = pats;
	o.n_write = 1;
	o.jti = jti;
	eb_err_clear(&err);
	if (eb_jwt_mint(&o, &tok, &err) != EB_OK) {
		ebc_error(&cc->base, "minting a token failed: %s", err.msg);
		return NULL;
	}
	return tok;
}

bool ebcc_give_token(ebcc_ctx *cc, int i, long lifetime_s, char *jti_out, size_t jlen)
{
	char sub[200], *tok, m[2048], jti[48];
	unsigned n = ++cc->n_tokens;
	bool ok;

	snprintf(sub, sizeof(sub), "%s#%c", cc->base.subject, drv_names[i]);
	/* A jti per token, so a case can revoke exactly this one. */
	snprintf(jti, sizeof(jti), "%s-%c-%u", cc->run.prefix, drv_names[i], n);
	tok = ebcc_mint(cc, sub, lifetime_s, jti);
	if (!tok)
		return false;
	if (jti_out)
		snprintf(jti_out, jlen, "%s", jti);
	snprintf(m, sizeof(m), "\"token\":\"%s\"", tok);
	free(tok);
	ok = ebcc_cmd_ok(cc, i, "token", m, NULL);
	return ok;
}

long ebcc_token_requests(ebcc_ctx *cc, int i)
{
	ebcc_drv *d = cc->drv[i];
	long n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->mu);
	n = d->token_requests;
	pthread_mutex_unlock(&d->mu);
	return n;
}

long ebcc_rejected(ebcc_ctx *cc, int i, char *last_id, size_t len)
{
	ebcc_drv *d = cc->drv[i];
	long n;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->mu);
	n = d->rejected;
	if (last_id)
		snprintf(last_id, len, "%s", d->last_rejected);
	pthread_mutex_unlock(&d->mu);
	return n;
}
