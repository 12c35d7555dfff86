/*
 * ebm_pg.c — the PostgreSQL backend of ebmock (--backend postgresql://…):
 * several ebmock processes on one database act as one server.
 *
 * The database is the truth; each node keeps the in-memory copy of the
 * stores the protocol logic runs on (ebm_http.c, unchanged per backend) and
 * refreshes it: before every sync and changes request (read-your-writes
 * across nodes), and when another node's NOTIFY announces a commit (its
 * subscribers here are then notified). A commit is one transaction with the
 * store's row locked (SELECT … FOR UPDATE): if the store moved on since the
 * copy was read, nothing is written, the newer changes are read, and the
 * request is judged again on them (IDEM-2 across nodes: the same id raced to
 * two nodes is a duplicate on the second try). The NOTIFY is sent inside
 * the transaction, so PostgreSQL delivers it only after COMMIT.
 *
 * Every database call runs on PG_THREADS threads of its own (one connection
 * each; the first also LISTENs), fed by one queue; the
 * loop thread never waits for the database (a slow or dead database shows
 * as pending requests answered 503 at their deadline). The thread's
 * connection LISTENs; when it was lost, the thread reconnects, LISTENs again
 * and then reads every store's version, so a NOTIFY missed while it was
 * down is made up from the tables, never lost.
 */
#include "ebm_pg.h"
#include "ebm_int.h"
#include "ebm_backend.h"
#include "ebm_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PG_CHANNEL "ebmock"
#define PG_RECONNECT_MS 200
/* Database connections (threads) per node: a push costs two round trips
 * one after the other, so one connection capped a node at about 110
 * pushes/s on the 2-core test machine (docs/EBMOCK.md). Thread 0 also
 * LISTENs. */
#define PG_THREADS 3

typedef enum { JOB_REFRESH = 1, JOB_COMMIT, JOB_NOTE } pg_job_kind;

struct ebm_job {
	ebm_job *next;
	pg_job_kind kind;
	char *store;
	uint64_t after;          /* refresh: read after it; commit: expected */
	uint64_t new_version;    /* commit */
	size_t n;                /* commit: batch */
	eb_change *batch;
	char **json;
	char *subject;           /* the pusher (WS-NOTIF defects) */
	bool retried;            /* run again once after its connection died */
	bool loose;              /* cluster-versions-per-node defect */
	bool early_notify;       /* cluster-notify-before-commit defect */
	/* written by the database thread */
	ebm_job_status status;
	char msg[200];
	size_t n_rows;
	uint64_t *row_v;
	char **row_json;
	/* loop thread only */
	bool internal;           /* a NOTIFY's refresh: nobody waits */
	bool done, released;
	void *user;
	ebm_job_done_fn done_fn; /* a parked subscribe waits for it */
	void *done_arg;
};

struct ebm_pg {
	char *url;
	struct pg_thread {
		struct ebm_pg *pg;
		int index;               /* 0: also LISTENs */
		PGconn *conn;            /* this thread's only */
		pthread_t th;
		bool started;
	} th[PG_THREADS];
	pthread_mutex_t mu;
	ebm_job *in_head, *in_tail;     /* to the database thread */
	ebm_job *out_head, *out_tail;   /* back to the loop */
	bool stop;
	int wake_fd[2];                 /* wakes the database thread */
	void (*loop_wake)(void *arg);
	void *loop_arg;
};

/* ---- jobs ------------------------------------------------------------------ */

/* The rows a job read (a job run again reads them anew). */
static void job_rows_free(ebm_job *j)
{
	for (size_t i = 0; i < j->n_rows; i++)
		free(j->row_json[i]);
	free(j->row_v);
	free(j->row_json);
	j->row_v = NULL;
	j->row_json = NULL;
	j->n_rows = 0;
}

static void job_free(ebm_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		eb_change_clear(&j->batch[i]);
		if (j->json)
			free(j->json[i]);
	}
	free(j->batch);
	free(j->json);
	job_rows_free(j);
	free(j->store);
	free(j->subject);
	free(j);
}

static void jobs_free(ebm_job *l)
{
	while (l) {
		ebm_job *nx = l->next;
		job_free(l);
		l = nx;
	}
}

/* Appends j to the queue (head, tail) under pg->mu (both queues: to the
 * database threads and back to the loop). */
static void pg_enqueue(struct ebm_pg *pg, ebm_job **head, ebm_job **tail, ebm_job *j)
{
	pthread_mutex_lock(&pg->mu);
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
	pthread_mutex_unlock(&pg->mu);
}

/* Wakes a database thread waiting in pg_wait. */
static void pg_kick(struct ebm_pg *pg)
{
	char b = 1;
	if (write(pg->wake_fd[1], &b, 1) < 0) {
		/* full pipe: the threads are awake already */
	}
}

static void pg_submit(struct ebm_pg *pg, ebm_job *j)
{
	pg_enqueue(pg, &pg->in_head, &pg->in_tail, j);
	pg_kick(pg);
}

/* A job of kind for store, or NULL (out of memory). */
static ebm_job *job_new(pg_job_kind kind, const char *store, uint64_t after)
{
	ebm_job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->kind = kind;
	j->after = after;
	j->store = strdup(store);
	if (!j->store) {
		free(j);
		return NULL;
	}
	return j;
}

ebm_job *ebm_pg_refresh(ebm_server *srv, const char *store, uint64_t after)
{
	ebm_job *j = srv->pg ? job_new(JOB_REFRESH, store, after) : NULL;
	if (j)
		pg_submit(srv->pg, j);
	return j;
}

ebm_job *ebm_pg_commit(ebm_server *srv, const char *store, uint64_t expected,
		       eb_change *batch, size_t n, uint64_t new_version,
		       const char *subject)
{
	ebm_job *j = srv->pg ? job_new(JOB_COMMIT, store, expected) : NULL;
	if (!j)
		return NULL;
	j->subject = subject ? strdup(subject) : NULL;
	j->new_version = new_version;
	j->loose = ebm_defect_on(srv, EBM_DEFECT_CLUSTER_VERSIONS_PER_NODE);
	j->early_notify = ebm_defect_on(srv, EBM_DEFECT_CLUSTER_NOTIFY_BEFORE_COMMIT);
	j->batch = calloc(n ? n : 1, sizeof *j->batch);
	j->json = calloc(n ? n : 1, sizeof *j->json);
	if ((subject && !j->subject) || !j->batch || !j->json) {
		job_free(j);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		j->json[i] = ebm_store_change_json(&batch[i]);
		if (!j->json[i]) {
			j->n = i + 1;
			job_free(j);
			return NULL;
		}
		j->batch[i] = batch[i];     /* moved */
		memset(&batch[i], 0, sizeof batch[i]);
		j->n = i + 1;
	}
	pg_submit(srv->pg, j);
	return j;
}

ebm_job_status ebm_job_status_of(const ebm_job *j, char *msg, size_t cap)
{
	if (!j->done)
		return EBM_JOB_RUNNING;
	if (msg && cap)
		snprintf(msg, cap, "%s", j->msg[0] ? j->msg : "database error");
	return j->status;
}

void ebm_job_set_user(ebm_job *j, void *user)
{
	if (j)
		j->user = user;
}

void ebm_job_on_done(ebm_job *j, ebm_job_done_fn fn, void *arg)
{
	if (!j)
		return;
	j->done_fn = fn;
	j->done_arg = arg;
}

void ebm_job_release(ebm_job *j)
{
	if (!j)
		return;
	if (j->done)
		job_free(j);
	else
		j->released = true;
}

/* ---- the database thread ------------------------------------------------- */

/* "PREFIX: libpq's message" into buf, without the newline libpq ends its
 * messages with; none: "if_none". */
static void pg_message(char *buf, size_t cap, const char *prefix, PGconn *c,
		       const char *if_none)
{
	const char *m = c ? PQerrorMessage(c) : if_none;
	snprintf(buf, cap, "%s: %.150s", prefix, m && *m ? m : "?");
	size_t l = strlen(buf);
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
		buf[--l] = '\0';
}

static void pg_fail(ebm_job *j, PGconn *c, const char *what)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "database unavailable: %s", what);
	j->status = EBM_JOB_FAILED;
	pg_message(j->msg, sizeof j->msg, prefix, c, "not connected");
}

static void pg_done(struct ebm_pg *pg, ebm_job *j)
{
	pg_enqueue(pg, &pg->out_head, &pg->out_tail, j);
	if (pg->loop_wake)
		pg->loop_wake(pg->loop_arg);
}

static bool pg_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static bool pg_cmd(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = pg_ok(r);
	PQclear(r);
	return ok;
}

static PGresult *pg_params(PGconn *c, const char *sql, int n, const char *const *v)
{
	return PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
}

static bool pg_u64(const char *s, uint64_t *v)
{
	char *end = NULL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || !end || *end || end == s)
		return false;
	*v = x;
	return true;
}

/* Reads the changes of j->store after j->after into j->row_*. */
static bool pg_read_rows(PGconn *c, ebm_job *j)
{
	char after[24];
	snprintf(after, sizeof after, "%" PRIu64, j->after);
	const char *v[2] = { j->store, after };
	PGresult *r = pg_params(c,
				"SELECT version, json FROM ebm_changes WHERE store = $1"
				" AND version > $2::bigint ORDER BY version", 2, v);
	if (!pg_ok(r)) {
		PQclear(r);
		pg_fail(j, c, "read changes");
		return false;
	}
	int n = PQntuples(r);
	job_rows_free(j);
	j->row_v = calloc(n ? (size_t)n : 1, sizeof *j->row_v);
	j->row_json = calloc(n ? (size_t)n : 1, sizeof *j->row_json);
	if (!j->row_v || !j->row_json) {
		PQclear(r);
		j->status = EBM_JOB_FAILED;
		snprintf(j->msg, sizeof j->msg, "out of memory");
		return false;
	}
	for (int i = 0; i < n; i++) {
		uint64_t ver;
		if (!pg_u64(PQgetvalue(r, i, 0), &ver))
			break;
		j->row_json[j->n_rows] = strdup(PQgetvalue(r, i, 1));
		if (!j->row_json[j->n_rows])
			break;
		j->row_v[j->n_rows++] = ver;
	}
	PQclear(r);
	return true;
}

/* One commit in one round trip (ebm_commit, created with the tables):
 * 0 committed, 1 the store moved on or an id or version is taken (nothing
 * written), -1 failed. */
static int pg_commit_call(PGconn *c, ebm_job *j, bool notify, char *msg, size_t cap)
{
	char expected[24], nv[24];
	size_t len = 3;
	for (size_t i = 0; i < j->n; i++)
		len += strlen(j->json[i]) + 32;
	char *arr = malloc(len);
	if (!arr) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	/* [[version, change], ...]: the change's JSON text is kept as is
	 * (the json type keeps the text; exact numbers, GEN-5) */
	size_t o = 0;
	arr[o++] = '[';
	for (size_t i = 0; i < j->n; i++)
		o += (size_t)snprintf(arr + o, len - o, "%s[%" PRIu64 ",%s]", i ? "," : "",
				      j->batch[i].version, j->json[i]);
	arr[o++] = ']';
	arr[o] = '\0';
	snprintf(expected, sizeof expected, "%" PRIu64, j->after);
	snprintf(nv, sizeof nv, "%" PRIu64, j->new_version);
	const char *v[6] = { j->store, expected, nv, arr, notify ? "t" : "f",
			     j->loose ? "t" : "f" };
	PGresult *r = pg_params(c, "SELECT ebm_commit($1, $2::bigint, $3::bigint, $4::json,"
				   " $5::boolean, $6::boolean)", 6, v);
	free(arr);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = strcmp(PQgetvalue(r, 0, 0), "0") == 0 ? 0 : 1;
	else
		snprintf(msg, cap, "%s", PQerrorMessage(c));
	PQclear(r);
	return rc;
}

static void pg_run_commit(PGconn *c, ebm_job *j)
{
	if (j->early_notify) {
		/* the defect: announced on its own, before the commit exists */
		char nv[24];
		snprintf(nv, sizeof nv, "%" PRIu64, j->new_version);
		size_t pl = strlen(nv) + 1 + strlen(j->store) + 1;
		char *payload = malloc(pl);
		if (payload) {
			snprintf(payload, pl, "%s %s", nv, j->store);
			const char *v[1] = { payload };
			PQclear(pg_params(c, "SELECT pg_notify('" PG_CHANNEL "', $1)", 1, v));
			free(payload);
		}
		usleep(100 * 1000);
	}
	char msg[160] = "";
	int rc = pg_commit_call(c, j, !j->early_notify, msg, sizeof msg);
	if (rc == 0)
		j->status = EBM_JOB_OK;
	else if (rc == 1 && pg_read_rows(c, j))
		j->status = EBM_JOB_CONFLICT;
	else if (rc < 0)
		/* a lost connection leaves the outcome unknown: 503, the
		 * client's retry with the same ids is idempotent (IDEM-2) */
		pg_fail(j, c, "commit");
}

static void pg_note(struct ebm_pg *pg, const char *store, uint64_t v)
{
	ebm_job *j = job_new(JOB_NOTE, store, v);
	if (j)   /* else the next request of the store reads it anyway */
		pg_done(pg, j);
}

static void pg_take_notifies(struct ebm_pg *pg, PGconn *conn)
{
	PGnotify *n;
	while ((n = PQnotifies(conn)) != NULL) {
		/* "VERSION STORE" */
		const char *sp = strchr(n->extra, ' ');
		uint64_t v;
		if (sp && sp > n->extra && sp - n->extra < 24) {
			char num[24];
			memcpy(num, n->extra, (size_t)(sp - n->extra));
			num[sp - n->extra] = '\0';
			if (pg_u64(num, &v))
				pg_note(pg, sp + 1, v);
		}
		PQfreemem(n);
	}
}

static PGconn *pg_connect(const char *url)
{
	/* every wait bounded: the connect, each statement (server side), and
	 * a peer that vanished from the network (TCP keepalives and
	 * tcp_user_timeout; ignored on a Unix socket) */
	const char *keys[] = { "dbname", "connect_timeout", "application_name", "options",
			       "keepalives_idle", "keepalives_interval", "keepalives_count",
			       "tcp_user_timeout", NULL };
	const char *vals[] = { url, "3", "ebmock",
			       "-c statement_timeout=5000 -c client_min_messages=warning",
			       "5", "2", "2", "10000", NULL };
	return PQconnectdbParams(keys, vals, 1);
}

/* LISTEN first, then every store's version as if announced: what was
 * committed while this node was not listening is read from the tables. */
static bool pg_listen_and_scan(struct ebm_pg *pg, PGconn *conn)
{
	if (!pg_cmd(conn, "LISTEN " PG_CHANNEL))
		return false;
	PGresult *r = PQexec(conn, "SELECT store, version FROM ebm_stores");
	if (!pg_ok(r)) {
		PQclear(r);
		return false;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		uint64_t v;
		if (pg_u64(PQgetvalue(r, i, 1), &v))
			pg_note(pg, PQgetvalue(r, i, 0), v);
	}
	PQclear(r);
	return true;
}

static ebm_job *pg_pop(struct ebm_pg *pg, bool *stop)
{
	pthread_mutex_lock(&pg->mu);
	ebm_job *j = pg->in_head;
	if (j) {
		pg->in_head = j->next;
		if (!pg->in_head)
			pg->in_tail = NULL;
	}
	*stop = pg->stop;
	pthread_mutex_unlock(&pg->mu);
	return j;
}

/* Back to the head of the queue (a job to run again). */
static void pg_requeue(struct ebm_pg *pg, ebm_job *j)
{
	pthread_mutex_lock(&pg->mu);
	j->next = pg->in_head;
	pg->in_head = j;
	if (!pg->in_tail)
		pg->in_tail = j;
	pthread_mutex_unlock(&pg->mu);
}

static void pg_wait(struct ebm_pg *pg, PGconn *conn, int ms)
{
	struct pollfd fds[2];
	int nfds = 1;
	fds[0].fd = pg->wake_fd[0];
	fds[0].events = POLLIN;
	if (conn && PQstatus(conn) == CONNECTION_OK) {
		fds[1].fd = PQsocket(conn);
		fds[1].events = POLLIN;
		nfds = 2;
	}
	if (poll(fds, (nfds_t)nfds, ms) <= 0)
		return;
	if (fds[0].revents) {
		char buf[64];
		while (read(pg->wake_fd[0], buf, sizeof buf) > 0) {
		}
	}
	if (nfds == 2 && fds[1].revents) {
		if (!PQconsumeInput(conn))
			return;   /* the connection is gone: reconnect next round */
		pg_take_notifies(pg, conn);
	}
}

static void *pg_main(void *arg)
{
	struct pg_thread *t = arg;
	struct ebm_pg *pg = t->pg;
	bool stop = false;
	/* the listener waits on its socket too; the others only for jobs
	 * (a short wait: one wake byte may be read by another thread) */
	int idle_ms = t->index == 0 ? 1000 : 100;

	for (;;) {
		if (!t->conn || PQstatus(t->conn) != CONNECTION_OK) {
			PQfinish(t->conn);
			t->conn = pg_connect(pg->url);
			if (PQstatus(t->conn) != CONNECTION_OK ||
			    (t->index == 0 && !pg_listen_and_scan(pg, t->conn))) {
				/* fail what waits now: 503 at once, not at the deadline */
				ebm_job *j;
				while ((j = pg_pop(pg, &stop)) != NULL) {
					pg_fail(j, t->conn, "connect");
					pg_done(pg, j);
				}
				PQfinish(t->conn);
				t->conn = NULL;
				if (stop)
					break;
				pg_wait(pg, NULL, PG_RECONNECT_MS);
				continue;
			}
		}
		ebm_job *j = pg_pop(pg, &stop);
		if (stop) {
			job_free(j);
			break;
		}
		if (!j) {
			/* every thread watches its socket: a server gone closes
			 * it, and the thread reconnects before the next job */
			pg_wait(pg, t->conn, idle_ms);
			continue;
		}
		if (j->kind == JOB_COMMIT)
			pg_run_commit(t->conn, j);
		else if (pg_read_rows(t->conn, j))
			j->status = EBM_JOB_OK;
		if (j->status == EBM_JOB_FAILED && !j->retried &&
		    PQstatus(t->conn) != CONNECTION_OK) {
			/* the connection had died unnoticed (the server restarted):
			 * once more on a new one. Safe for a commit too: if the
			 * first one committed, the version check now fails and the
			 * request is judged again on the changes read */
			j->retried = true;
			j->status = EBM_JOB_RUNNING;
			j->msg[0] = '\0';
			pg_requeue(pg, j);
			continue;
		}
		pg_done(pg, j);
		if (t->index == 0)
			pg_take_notifies(pg, t->conn);
	}
	PQfinish(t->conn);
	t->conn = NULL;
	return NULL;
}

/* ---- the loop side ------------------------------------------------------- */

/* Appends the rows read for store (dense, after the copy's version) and
 * notifies the store's subscribers here. */
static void pg_apply_rows(ebm_server *srv, const ebm_job *j)
{
	ebm_store *st = ebm_store_get(srv, j->store);
	if (!st)
		return;
	st->persisted = true;
	uint64_t old = st->version;
	/* the defect: ids committed by other nodes are not looked up */
	bool index = !ebm_defect_on(srv, EBM_DEFECT_CLUSTER_IDEM_PER_NODE);
	for (size_t i = 0; i < j->n_rows; i++) {
		if (j->row_v[i] <= st->version)
			continue;
		if (j->row_v[i] != st->version + 1)
			break;   /* never with dense versions; the next read fills it */
		eb_change c;
		if (ebm_store_change_from_json(j->row_json[i], strlen(j->row_json[i]),
					       j->row_v[i], &c) != EB_OK)
			break;
		eb_rc rc = ebm_store_append(st, &c, 1, j->row_v[i], index);
		eb_change_clear(&c);
		if (rc != EB_OK)
			break;
	}
	if (st->version > old && !ebm_defect_on(srv, EBM_DEFECT_CLUSTER_LOCAL_NOTIFY))
		srv->notify_commit(srv, st, old, NULL, false);
}

static void pg_refresh_internal(ebm_server *srv, ebm_store *st)
{
	ebm_job *j = ebm_pg_refresh(srv, st->id, st->version);
	if (!j)
		return;
	j->internal = true;
	j->released = true;   /* nobody waits for it */
	st->refreshing = true;
}

static void pg_apply(ebm_server *srv, ebm_job *j)
{
	ebm_store *st;
	switch (j->kind) {
	case JOB_NOTE:
		if (ebm_defect_on(srv, EBM_DEFECT_CLUSTER_LOCAL_NOTIFY))
			return;   /* the defect: other nodes' commits reach nobody here */
		st = ebm_store_get(srv, j->store);
		if (!st)
			return;
		st->persisted = true;
		if (j->after > st->seen_version)
			st->seen_version = j->after;
		if (st->version < st->seen_version && !st->refreshing)
			pg_refresh_internal(srv, st);
		return;
	case JOB_REFRESH:
		if (j->status == EBM_JOB_OK)
			pg_apply_rows(srv, j);
		if (j->internal) {
			st = ebm_store_find(srv, j->store);
			if (st) {
				st->refreshing = false;
				/* more was announced meanwhile; a read that found
				 * nothing new is not repeated (no spinning on a
				 * NOTIFY that came before its commit) */
				if (j->status == EBM_JOB_OK && j->n_rows &&
				    st->version < st->seen_version)
					pg_refresh_internal(srv, st);
			}
		}
		return;
	case JOB_COMMIT:
		if (j->status == EBM_JOB_CONFLICT) {
			pg_apply_rows(srv, j);
			return;
		}
		if (j->status != EBM_JOB_OK)
			return;
		st = ebm_store_get(srv, j->store);
		if (!st)
			return;
		st->persisted = true;
		if (st->version != j->after)
			return;   /* a read of this node had them already */
		if (ebm_store_append(st, j->batch, j->n, j->new_version, true) == EB_OK) {
			srv->m.changes_stored_total += j->n;
			srv->notify_commit(srv, st, j->after, j->subject, false);
		}
		return;
	}
}

void ebm_server_poll(ebm_server *srv)
{
	struct ebm_pg *pg = srv ? srv->pg : NULL;
	if (!pg)
		return;
	pthread_mutex_lock(&pg->mu);
	ebm_job *list = pg->out_head;
	pg->out_head = pg->out_tail = NULL;
	pthread_mutex_unlock(&pg->mu);
	while (list) {
		ebm_job *j = list;
		list = j->next;
		j->next = NULL;
		pg_apply(srv, j);
		if (j->kind == JOB_NOTE || j->released) {
			job_free(j);
			continue;
		}
		j->done = true;
		if (j->done_fn)
			j->done_fn(j->done_arg);
		else if (srv->http_wake && j->user)
			srv->http_wake(srv->glue, j->user);
	}
}

/* ---- opening and closing ------------------------------------------------- */

static eb_rc pg_err(eb_err *err, PGconn *c, const char *what)
{
	char m[300], prefix[64];
	snprintf(prefix, sizeof prefix, "PostgreSQL %s", what);
	pg_message(m, sizeof m, prefix, c, "out of memory");
	return eb_err_set(err, EB_ERR_IO, NULL, NULL, EB_CODE_INTERNAL, -1, "%s", m);
}

static eb_rc pg_schema(PGconn *c, eb_err *err)
{
	/* nodes starting together would race on CREATE TABLE */
	static const char *const sql[] = {
		"SELECT pg_advisory_lock(4242001)",
		"CREATE TABLE IF NOT EXISTS ebm_stores ("
		" store TEXT PRIMARY KEY, version BIGINT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS ebm_changes ("
		" store TEXT NOT NULL, version BIGINT NOT NULL,"
		" change_id TEXT NOT NULL, json TEXT NOT NULL,"
		" PRIMARY KEY (store, version), UNIQUE (store, change_id))",
		/* a commit in one round trip: the store's row locked (commits of
		 * one store serialized across every node), the version checked,
		 * the changes inserted, the NOTIFY queued inside the transaction
		 * (PostgreSQL delivers it only after COMMIT). loose: the
		 * cluster-versions-per-node defect */
		"CREATE OR REPLACE FUNCTION ebm_commit(p_store text, p_expected bigint,"
		" p_new bigint, p_changes json, p_notify boolean, p_loose boolean)"
		" RETURNS integer LANGUAGE plpgsql AS $f$"
		" DECLARE cur bigint;"
		" BEGIN"
		"  INSERT INTO ebm_stores (store, version) VALUES (p_store, 0) ON CONFLICT DO NOTHING;"
		"  SELECT version INTO cur FROM ebm_stores WHERE store = p_store FOR UPDATE;"
		"  IF cur <> p_expected AND NOT p_loose THEN RETURN 1; END IF;"
		"  BEGIN"
		"   IF p_loose THEN"
		"    INSERT INTO ebm_changes (store, version, change_id, json)"
		"     SELECT p_store, (e->>0)::bigint, e->1->>'id', (e->1)::text"
		"     FROM json_array_elements(p_changes) e ON CONFLICT DO NOTHING;"
		"   ELSE"
		"    INSERT INTO ebm_changes (store, version, change_id, json)"
		"     SELECT p_store, (e->>0)::bigint, e->1->>'id', (e->1)::text"
		"     FROM json_array_elements(p_changes) e;"
		"   END IF;"
		"  EXCEPTION WHEN unique_violation THEN RETURN 1;"
		"  END;"
		"  UPDATE ebm_stores SET version = GREATEST(version, p_new) WHERE store = p_store;"
		"  IF p_notify THEN PERFORM pg_notify('" PG_CHANNEL "', p_new || ' ' || p_store); END IF;"
		"  RETURN 0;"
		" END $f$",
		"SELECT pg_advisory_unlock(4242001)",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if (!pg_cmd(c, sql[i]))
			return pg_err(err, c, "schema");
	return EB_OK;
}

static eb_rc pg_load(ebm_server *srv, PGconn *c, eb_err *err)
{
	PGresult *r = PQexec(c, "SELECT store, version, json FROM ebm_changes"
				" ORDER BY store, version");
	if (!pg_ok(r)) {
		PQclear(r);
		return pg_err(err, c, "load");
	}
	eb_rc rc = EB_OK;
	for (int i = 0; i < PQntuples(r) && rc == EB_OK; i++) {
		uint64_t v;
		eb_change ch;
		ebm_store *st = ebm_store_get(srv, PQgetvalue(r, i, 0));
		if (!st || !pg_u64(PQgetvalue(r, i, 1), &v)) {
			rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "PostgreSQL load: bad row");
			break;
		}
		st->persisted = true;
		if (v != st->version + 1)
			continue;
		const char *js = PQgetvalue(r, i, 2);
		if (ebm_store_change_from_json(js, strlen(js), v, &ch) != EB_OK) {
			rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					"PostgreSQL load: corrupt change in store %s", st->id);
			break;
		}
		rc = ebm_store_append(st, &ch, 1, v, true);
		eb_change_clear(&ch);
	}
	PQclear(r);
	return rc;
}

static eb_rc pg_unsupported(ebm_server *srv, const char *id, eb_err *err)
{
	(void)srv;
	return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
			  "store %s: not supported with the PostgreSQL backend", id);
}

static eb_rc pg_unsupported_v(ebm_server *srv, ebm_store *st, uint64_t v, eb_err *err)
{
	(void)v;
	return pg_unsupported(srv, st->id, err);
}

/* The wake pipe, the URL and pg itself (no thread runs). */
static void pg_base_free(struct ebm_pg *pg)
{
	if (pg->wake_fd[0] >= 0)
		close(pg->wake_fd[0]);
	if (pg->wake_fd[1] >= 0)
		close(pg->wake_fd[1]);
	free(pg->url);
	free(pg);
}

static void pg_close(ebm_server *srv)
{
	struct ebm_pg *pg = srv->pg;
	if (!pg)
		return;
	pthread_mutex_lock(&pg->mu);
	pg->stop = true;
	pthread_mutex_unlock(&pg->mu);
	for (int i = 0; i < PG_THREADS; i++)
		pg_kick(pg);
	for (int i = 0; i < PG_THREADS; i++)
		if (pg->th[i].started)
			pthread_join(pg->th[i].th, NULL);
	jobs_free(pg->in_head);
	/* the glue freed every request before the server (and so released
	 * every job) */
	jobs_free(pg->out_head);
	pthread_mutex_destroy(&pg->mu);
	pg_base_free(pg);
	srv->pg = NULL;
}

static const ebm_backend_ops pg_ops = {
	.name = "postgresql",
	.remote = true,
	.drop = pg_unsupported,
	.set_version = pg_unsupported_v,
	.close = pg_close,
};

eb_rc ebm_server_open_pg(ebm_server *srv, const char *url,
			 void (*loop_wake)(void *arg), void *arg,
			 ebm_wake_fn http_wake, eb_err *err)
{
	eb_rc rc = EB_OK;
	PGconn *c = NULL;
	struct ebm_pg *pg = NULL;

	if (srv->pg || srv->db)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "one backend only (--data or --backend)");
	c = pg_connect(url);
	if (PQstatus(c) != CONNECTION_OK) {
		rc = pg_err(err, c, "connect");
		goto out;
	}
	rc = pg_schema(c, err);
	if (rc == EB_OK)
		rc = pg_load(srv, c, err);
	if (rc != EB_OK)
		goto out;
	pg = calloc(1, sizeof *pg);
	if (!pg || !(pg->url = strdup(url))) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	pg->wake_fd[0] = pg->wake_fd[1] = -1;
	if (pipe2(pg->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "pipe: %s", strerror(errno));
		goto out;
	}
	pthread_mutex_init(&pg->mu, NULL);
	pg->loop_wake = loop_wake;
	pg->loop_arg = arg;
	srv->pg = pg;
	srv->be = &pg_ops;
	srv->http_wake = http_wake;
	for (int i = 0; i < PG_THREADS; i++) {
		pg->th[i].pg = pg;
		pg->th[i].index = i;
		if (pthread_create(&pg->th[i].th, NULL, pg_main, &pg->th[i]) != 0) {
			rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					"cannot start the database threads");
			goto out;
		}
		pg->th[i].started = true;
	}
	pg = NULL;
out:
	if (pg && srv->pg == pg) {
		pg_close(srv);
		srv->be = ebm_store_memory_ops();
	} else if (pg) {
		pg_base_free(pg);
	}
	PQfinish(c);
	return rc;
}
