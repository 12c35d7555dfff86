/*
 * ebcc.h — the client suite of ebconform (`ebconform --driver CMD`): the
 * suite plays the server with a fresh ebmock per case, drives the SDK under
 * test through one driver process per simulated client (docs/CLIENT-DRIVER.md)
 * and judges the client from ebmock's event log (docs/EBMOCK.md).
 *
 * Pure pieces (line framing, event-log parsing, interval tolerances) live in
 * conformance/core/ebcc_core.c so the unit tests link them; the processes,
 * the runner and the cases live in conformance/client/.
 */
#ifndef EBCC_H
#define EBCC_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "ebc.h"

/* ---- driver line framing (pure) -------------------------------------------- */

/* Lines longer than this are a driver failure (CLIENT-DRIVER.md: 1 MiB). */
#define EBCC_MAX_LINE (1u << 20)

typedef struct ebcc_lines {
	char *buf;
	size_t len, cap;
	size_t max;          /* longest accepted line, without the newline */
	bool too_long;       /* a line went over max: the stream is broken */
} ebcc_lines;

/* Initialises l for lines of at most max bytes (0: EBCC_MAX_LINE). */
void ebcc_lines_init(ebcc_lines *l, size_t max);
void ebcc_lines_clear(ebcc_lines *l);
/* Appends n bytes. -1 when a line exceeds max (l->too_long set, the bytes
 * are dropped) or on allocation failure, else 0. */
int ebcc_lines_push(ebcc_lines *l, const char *data, size_t n);
/* Takes the next complete line (without "\n", and without a trailing "\r")
 * into *out (malloc'd, NUL-terminated, caller frees) and *len. 1 a line,
 * 0 none complete yet, -1 out of memory. */
int ebcc_lines_next(ebcc_lines *l, char **out, size_t *len);

/* ---- event log of ebmock (pure) -------------------------------------------- */

typedef enum ebcc_ev_kind {
	EBCC_EV_OTHER = 0,
	EBCC_EV_HTTP,
	EBCC_EV_WS_OPEN,
	EBCC_EV_WS_REFUSED,
	EBCC_EV_WS_IN,        /* a message from the client */
	EBCC_EV_WS_OUT,       /* a message to the client */
	EBCC_EV_WS_CLOSE,
	EBCC_EV_FAULT,
	EBCC_EV_ADMIN
} ebcc_ev_kind;

/* One event. Strings are "" when absent, numbers -1 when absent. */
typedef struct ebcc_ev {
	ebcc_ev_kind kind;
	char name[16];        /* the event's name as logged */
	double t;             /* CLOCK_MONOTONIC ms (end of an HTTP request) */
	double t0;            /* HTTP: when the request arrived; else t */
	long conn;
	char method[8];
	char path[200];
	char query[200];
	char store[160];
	long status;
	char code[40];
	char subject[160];
	char type[32];        /* WebSocket message type (ws_in/ws_out) */
	int64_t lkv;          /* HTTP sync: lastKnownVersion */
	int64_t since;        /* HTTP feed: since (from the query) */
	long n;               /* HTTP: changes in the request (sync) or answer */
	int64_t current_version;
	int has_more;         /* 1, 0, -1 absent */
	long close_code;      /* ws_close: 0 no close frame, -1 absent */
	char fault[64];
	int who;              /* set by the suite: client 0-2, -2 the suite itself,
				 -1 unknown (a request refused before its token
				 was read, on a connection never seen with one) */
	char **change_ids;    /* HTTP sync: the ids pushed, in order (owned) */
	size_t n_change_ids;
	cJSON *raw;           /* the whole line (owned) */
} ebcc_ev;

/* Parses one event-log line. 0, or -1 with a message in err (not JSON, not
 * an object, no known time). out is zeroed first; free with ebcc_ev_clear. */
int ebcc_ev_parse(const char *line, size_t len, ebcc_ev *out, char *err, size_t errlen);
void ebcc_ev_clear(ebcc_ev *e);
const char *ebcc_ev_kind_name(ebcc_ev_kind k);
/* true for an HTTP event that reads or writes a store (sync or feed). */
bool ebcc_ev_is_store_req(const ebcc_ev *e);
/* true for a GET of the changes feed. */
bool ebcc_ev_is_feed(const ebcc_ev *e);
/* true for a POST sync that carries changes (a push). */
bool ebcc_ev_is_push(const ebcc_ev *e);
/* One line describing e ("+1234 ms GET /api/stores/s/changes?since=0 200"),
 * times relative to t0. */
void ebcc_ev_describe(const ebcc_ev *e, double t0, char *buf, size_t len);

/* ---- timing (pure) ----------------------------------------------------------- */

/* The fixed part of the slack: scheduling noise measured on this 2-core
 * machine with two busy loops, 12 cases at once and a load average of 21
 * reached 140 ms, and grew with the interval (175 ms on 1.2 s). */
#define EBCC_SLACK_MS 100.0

/* The window a measured interval must fall in (CLIENT-DRIVER.md,
 * "Tolerances"): nominal (already scaled by the clock scale) with the
 * spec's jitter (0.10) on both sides, widened by slack = 100 ms + 10 % of
 * nominal; the late side's slack is stretched by time_scale, the early
 * side's never. lo is never below 0. */
typedef struct ebcc_window {
	double nominal, lo, hi, slack, jitter;
} ebcc_window;

void ebcc_window_for(double nominal_ms, double jitter, double time_scale, ebcc_window *w);
/* lo <= measured <= hi. */
bool ebcc_window_holds(const ebcc_window *w, double measured_ms);
/* "300 ms ±10 % + slack 65 ms = 205-395 ms" into buf (the jitter as given). */
void ebcc_window_text(const ebcc_window *w, char *buf, size_t len);

/* Nominal back-off delay in seconds after the k-th consecutive failure
 * (k = 1: 30 s, 2: 60 s, 3: 120 s, 4: 240 s, 5 and more: 300 s). */
double ebcc_backoff_s(unsigned k);

/* Checks gaps between successive times t[0..n-1] against w; returns the
 * index i of the first gap t[i+1]-t[i] outside the window, or -1. */
long ebcc_check_gaps(const double *t, size_t n, const ebcc_window *w);

/* ---- the suite (conformance/client) ------------------------------------------ */

#define EBCC_MAX_CLIENTS 3

typedef struct ebcc_ctx ebcc_ctx;

typedef struct ebcc_case {
	ebc_case c;              /* id, title, level, rules, tags; c.run unused */
	void (*run)(ebcc_ctx *cc);
	int n_clients;           /* drivers started (hello, first token) before run */
	const char *mock_args;   /* extra ebmock flags, blank-separated, or NULL */
	double nominal_s;        /* protocol time the case needs (for scheduling) */
} ebcc_case;

extern const ebcc_case ebcc_cases_live[];
extern const size_t ebcc_cases_live_n;
extern const ebcc_case ebcc_cases_poll[];
extern const size_t ebcc_cases_poll_n;
extern const ebcc_case ebcc_cases_queue[];
extern const size_t ebcc_cases_queue_n;

/* Every client case, in catalogue order, into out (cap slots); the count. */
size_t ebcc_catalogue(const ebcc_case **out, size_t cap);

/* Runs ebconform in client mode (after option parsing; --help/--version
 * handled by main). argc/argv for the recorded command line. Returns the
 * exit code. */
int ebcc_main(const ebc_opts *o, int argc, char **argv, ebc_stop_flag *stop);

/* ---- helpers for cases (ebcc_run.c, ebcc_driver.c) ---------------------------- */

typedef struct ebcc_drv ebcc_drv;

/* A mark of the timeline that does not come from the event log (driver
 * state changes, activity changes, suite notes). lane: client index, or -1
 * for the suite. */
typedef struct ebcc_mark {
	double t;
	int lane;
	char label[72];
} ebcc_mark;

typedef struct ebcc_span {
	double t0, t1;
	int lane;
	char label[64];
} ebcc_span;

#define EBCC_MAX_MARKS 512
#define EBCC_MAX_SPANS 64
#define EBCC_MAX_EVENTS 50000

/* The per-case context. base is the server suite's context, pointed at the
 * case's ebmock, so every ebc_* helper (verdicts, HTTP, tokens, feeds)
 * works on it. */
struct ebcc_ctx {
	ebc_ctx base;
	ebc_opts opts;            /* copy of the run's, url/secret of this case */
	ebc_run run;
	const ebcc_case *cc;
	double clock_scale;
	double time_scale;
	const char *driver_cmd;
	const char *ebmock_path;
	char dir[256];            /* the case's scratch directory */
	char url[64];
	char secret[64];
	char admin[64];
	pid_t mock_pid;
	char evlog_path[300];
	long evlog_off;           /* bytes of the event log read */
	ebcc_lines evlog_lines;
	ebcc_ev *ev;              /* events read so far */
	signed char conn_who[4096]; /* HTTP/WS connection -> client (who), 0 unknown */
	size_t n_ev, cap_ev;
	bool ev_overflow;
	ebcc_drv *drv[EBCC_MAX_CLIENTS];
	char drv_tail[EBCC_MAX_CLIENTS][4096 + 1]; /* stderr of stopped drivers */
	double t_start;           /* mono ms when the case started */
	double deadline;          /* mono ms: the case must end by then */
	pthread_mutex_t tl_mu;    /* marks and spans */
	ebcc_mark marks[EBCC_MAX_MARKS];
	size_t n_marks;
	ebcc_span spans[EBCC_MAX_SPANS];
	size_t n_spans;
	char store_buf[4][160];
	unsigned n_tokens;        /* tokens minted (their jti) */
	ebc_stop_flag *stop;
};

/* Monotonic ms (the event log's clock). */
double ebcc_now(void);
/* Scaled protocol time: seconds of the spec x clock scale, in ms. */
double ebcc_proto_ms(const ebcc_ctx *cc, double spec_s);
/* A deadline that waits for round trips (pong, connection attempt): the
 * scaled value, never below 1 s (PROTOCOL.md 12.2). */
double ebcc_rt_deadline_ms(const ebcc_ctx *cc, double spec_s);
/* Sleeps until mono time t (ms), never past the case deadline. false when
 * the case deadline or a stop cut the wait short. */
bool ebcc_sleep_until(ebcc_ctx *cc, double t);
bool ebcc_sleep(ebcc_ctx *cc, double ms);

/* The i-th store id of the case ("<prefix>-<case>-s<i>"), stable per case. */
const char *ebcc_store(ebcc_ctx *cc, int i);

/* Reads new lines of the event log (bounded). */
void ebcc_evlog_poll(ebcc_ctx *cc);
/* Polls the event log until pred holds for some event at index >= from or
 * until mono time deadline. Returns the index, or -1. */
long ebcc_wait_ev(ebcc_ctx *cc, size_t from, double deadline,
		  bool (*pred)(const ebcc_ev *e, const void *arg), const void *arg);
/* Predicates. */
bool ebcc_p_ws_open(const ebcc_ev *e, const void *arg);         /* arg unused */
bool ebcc_p_subscribed(const ebcc_ev *e, const void *arg);      /* ws_out subscribed, arg unused */
bool ebcc_p_feed(const ebcc_ev *e, const void *arg);            /* arg: store or NULL */
bool ebcc_p_store_req(const ebcc_ev *e, const void *arg);       /* arg: store or NULL */
bool ebcc_p_push(const ebcc_ev *e, const void *arg);            /* arg: store or NULL */
bool ebcc_p_ws_close(const ebcc_ev *e, const void *arg);
bool ebcc_p_ws_in_type(const ebcc_ev *e, const void *arg);      /* arg: type */
/* Indexes of events from `from` with t in [t_lo, t_hi) matching pred, into
 * out (cap slots); the count. */
size_t ebcc_find(ebcc_ctx *cc, size_t from, double t_lo, double t_hi,
		 bool (*pred)(const ebcc_ev *e, const void *arg), const void *arg,
		 size_t *out, size_t cap);

/* Queries over the event log. what: */
enum {
	EBCC_Q_READ = 1,       /* a client's read of a store (feed, or sync without changes) */
	EBCC_Q_PUSH,           /* a client's sync carrying changes */
	EBCC_Q_REQ,            /* either */
	EBCC_Q_FAILED,         /* a client's store request answered >= 400 (or not at all) */
	EBCC_Q_ATTEMPT,        /* a socket attempt: upgrade accepted or refused */
	EBCC_Q_WS_CLOSE,
	EBCC_Q_WS_IN,          /* a message from a client; type (NULL: any) */
	EBCC_Q_WS_OUT          /* a message to a client; type (NULL: any) */
};
typedef struct ebcc_q {
	int what;
	const char *store;     /* NULL: any store */
	int client;            /* 0-2, or -1 any client (HTTP: by token subject) */
	const char *type;      /* EBCC_Q_WS_IN/OUT */
} ebcc_q;
bool ebcc_q_match(const ebcc_q *q, const ebcc_ev *e);
/* Events matching q with index >= from and time (t0 for HTTP) in
 * [t_lo, t_hi): indexes into out (cap), returns the count (all of them,
 * even past cap). */
size_t ebcc_q_find(ebcc_ctx *cc, const ebcc_q *q, size_t from, double t_lo, double t_hi,
		   size_t *out, size_t cap);
/* Waits until an event matching q at index >= from arrives, up to mono
 * deadline; its index or -1. */
long ebcc_q_wait(ebcc_ctx *cc, const ebcc_q *q, size_t from, double deadline);
/* Time (mono ms) of the first socket close after index from, or `until`
 * when none came before it: a live-socket rule is judged only while the
 * socket lives (a pong late on a loaded machine may end it, CLIENT-WS-6),
 * noting in the wire log when the window was cut. */
double ebcc_live_until(ebcc_ctx *cc, size_t from, double until);
/* Waits for the client's socket to be live on every one of n_stores open
 * stores (n_stores `subscribed` acks after from). The index of the last
 * ack, or -1 after ebc_fail (CLIENT-WS-4 when auth/subscribe never came). */
long ebcc_wait_live(ebcc_ctx *cc, size_t from, int n_stores);
/* Starts client i with activity, opens stores 0..n_stores-1 and, when
 * live, waits for the socket to be live. Returns the index of the last
 * subscribed ack (live) or of the last event read (not live), -1 after a
 * verdict. */
long ebcc_boot(ebcc_ctx *cc, int i, const char *activity, int n_stores, bool live);
/* Pushes n set changes from the suite itself (subject without "#x", so
 * queries about clients skip them) at path ["k", key_i] with value i;
 * *version gets the store's version after. false after a verdict. */
bool ebcc_suite_push(ebcc_ctx *cc, const char *store, int n, uint64_t *version);
/* Polls the client's state until its version reaches v (or the deadline);
 * true when it did. */
bool ebcc_wait_version(ebcc_ctx *cc, int i, const char *store, uint64_t v, double deadline);
/* Compares client i's state of store with eb_merge_state of the store's
 * whole feed; fails rule when they differ. */
bool ebcc_check_state(ebcc_ctx *cc, int i, const char *store, const char *rule);
/* HTTP event time: the request's arrival. */
static inline double ebcc_t(const ebcc_ev *e) { return e->t0; }

/* Admin faults: POSTs json (an object) to /admin/faults of the case's
 * ebmock. false after ebc_error. */
bool ebcc_fault(ebcc_ctx *cc, const char *json);
bool ebcc_fault_clear(ebcc_ctx *cc);

/* Drivers. i: 0 = client a, 1 = b, 2 = c. */
/* Starts (or restarts) driver i and does hello + the first token. false
 * after ebc_error. */
bool ebcc_drv_launch(ebcc_ctx *cc, int i);
/* Sends a command (cmd name and the JSON members after it, "" for none, e.g.
 * "\"store\":\"s\"") and waits for its answer (deadline: 5 s x time scale,
 * or wait_ms when larger). Returns the answer (caller frees) whatever its
 * ok; NULL after ebc_error (driver exited, bad line, no answer). */
cJSON *ebcc_cmd(ebcc_ctx *cc, int i, const char *cmd, const char *members, long wait_ms);
/* The same, expecting ok:true (ebc_error otherwise). Frees the answer
 * unless out. */
bool ebcc_cmd_ok(ebcc_ctx *cc, int i, const char *cmd, const char *members, cJSON **out);
/* start with activity; open store; activity state. */
bool ebcc_start(ebcc_ctx *cc, int i, const char *activity);
bool ebcc_open(ebcc_ctx *cc, int i, const char *store);
bool ebcc_activity(ebcc_ctx *cc, int i, const char *state);
/* set at path ["k", key] = raw JSON value; change id into id (64 bytes). */
bool ebcc_set(ebcc_ctx *cc, int i, const char *store, const char *key,
	      const char *value_json, char *id, size_t idlen);
/* The client's view of store: state (caller frees), version, pending. */
bool ebcc_state(ebcc_ctx *cc, int i, const char *store, cJSON **state,
		uint64_t *version, long *pending);
/* flush: true when the driver answered ok within timeout_ms. */
bool ebcc_flush(ebcc_ctx *cc, int i, long timeout_ms, bool *ok);
/* A token of the case (HS256 with its secret, write access to its stores)
 * for sub, valid lifetime_s, with jti (may be NULL). Caller frees; NULL
 * after ebc_error. */
char *ebcc_mint(ebcc_ctx *cc, const char *sub, long lifetime_s, const char *jti);
/* Mints a token for client i (exp in lifetime_s) and hands it over. */
bool ebcc_give_token(ebcc_ctx *cc, int i, long lifetime_s, char *jti_out, size_t jlen);
/* Counts of events the driver sent so far. */
long ebcc_token_requests(ebcc_ctx *cc, int i);
long ebcc_rejected(ebcc_ctx *cc, int i, char *last_id, size_t len);
/* Stops driver i (stop, then SIGTERM, then SIGKILL), keeping its stderr. */
void ebcc_drv_stop(ebcc_ctx *cc, int i);

/* Timing verdict: fails rule with the window, the measured value and the
 * event context when measured is outside w. what: "poll interval 2". */
bool ebcc_expect_in(ebcc_ctx *cc, const char *rule, const char *what,
		    const ebcc_window *w, double measured);
/* Expected window onto the timeline (times mono ms). */
void ebcc_tl_expect(ebcc_ctx *cc, int lane, double t_lo, double t_hi, const char *label);
void ebcc_tl_note(ebcc_ctx *cc, double t, const char *label);

#endif
