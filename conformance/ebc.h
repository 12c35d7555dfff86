/*
 * ebc.h — internals of ebconform, the server conformance suite: the case
 * table, the per-case context and the helpers cases are written with.
 *
 * A case is a function that talks to the server under test through the
 * helpers below and records at most one verdict: the first ebc_fail (or
 * ebc_skip / ebc_error) wins, later ones are noted in the wire log only. A
 * case that records nothing passes. Helpers that check something record the
 * failure themselves (citing the rule they were given) and return false or
 * NULL, so a case reads as a list of checks, each followed by `goto out`.
 */
#ifndef EBC_H
#define EBC_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "eb_buf.h"
#include "eb_error.h"
#include "eb_http.h"
#include "eb_jwt.h"
#include "eb_msg.h"
#include "eb_report.h"
#include "eb_target.h"
#include "eb_wirelog.h"
#include "eb_ws.h"
#include "eb_wsc.h"

/* The stop flag a signal handler (or the run's deadline) sets and every
 * case thread reads: an atomic, lock-free int (a signal handler may store
 * to it; a volatile sig_atomic_t read by other threads is a data race,
 * ThreadSanitizer says). */
typedef atomic_int ebc_stop_flag;

/* One version for every program of the kit (eb_target.h). */
#define EBC_VERSION EB_KIT_VERSION
#define EBC_MAX_RULES 6
#define EBC_MAX_TAGS 4

/* Exit codes: the kit's one enum, eb_exit (eb_target.h), under the names
 * the runners use. */
#define EBC_EXIT_OK EB_EXIT_OK
#define EBC_EXIT_FAIL EB_EXIT_FAIL
#define EBC_EXIT_USAGE EB_EXIT_USAGE
#define EBC_EXIT_UNREACHABLE EB_EXIT_UNREACHABLE

/* The shared target and token flags ebconform takes. */
#define EBC_TARGET_FLAGS (EB_TF_URL | EB_TF_JWT | EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT | \
			  EB_TF_TLS)

/* ---- options (ebc_core.c: pure, unit-tested) ------------------------------ */

typedef struct ebc_opts {
	eb_target target;              /* --url, --jwt-*, --no-auth, --timeout (eb_target.h) */
	/* Taken from target (url when parsed, the rest by ebc_opts_target):
	 * url is the base URL every request and socket is built on. */
	const char *url;
	/* --url given more than once: the nodes of one deployment; every
	 * case's connections are spread over them (ebc_url_for) and the
	 * cluster cases run. urls[0] is url's node; owned copies. */
	char **urls;
	size_t n_urls;
	const char *jwt_secret;
	const char *jwt_private_key;   /* path of an RS256 private key PEM */
	const char *jwt_issuer;
	const char *jwt_audience;
	long jwt_leeway_s;             /* the server's leeway; 5 by default */
	bool no_auth_server;
	const char **cases;  size_t n_cases;    /* owned array, borrowed strings */
	const char **exclude; size_t n_exclude;
	bool list, strict, help, version;
	long timeout_ms;               /* per network operation */
	double time_scale;             /* stretches every wait */
	int jobs;
	const char *report_dir, *junit, *json, *html;
	int verbose;                   /* 0, 1 (-v: failures' wire logs), 2 (-vv: all) */
	bool seed_set;
	uint64_t seed;
	/* Client mode (conformance/client, docs/CLIENT-DRIVER.md). */
	const char *driver;            /* --driver CMD: run the client suite */
	double clock_scale;            /* --clock-scale F for the SDK's timers (0.01) */
	const char *ebmock;            /* --ebmock PATH (NULL: beside ebconform) */
	long deadline_s;               /* --deadline S: total; 0 = the default */
} ebc_opts;

/* The run's total deadline without --deadline: 180 s times --time-scale. */
#define EBC_DEFAULT_DEADLINE_S 180

/* The total deadline of the run in seconds: --deadline, or the default. */
long ebc_deadline_s(const ebc_opts *o);

/* Parses argv into o (zeroed and defaulted first). Returns 0, or -1 with a
 * message in err for a usage error. Strings in o borrow argv. Free with
 * ebc_opts_free. */
int ebc_opts_parse(int argc, char **argv, ebc_opts *o, char *err, size_t errlen);
void ebc_opts_free(ebc_opts *o);
/* Copies the target's settings into the fields above (after
 * eb_target_finish read the secret and the key). */
void ebc_opts_target(ebc_opts *o);

/* fnmatch glob of one case id (no FNM_PATHNAME: "*" crosses "/"). */
bool ebc_glob_match(const char *glob, const char *id);

/* A case runs when it matches some --cases glob (or none was given) and no
 * --exclude glob. */
bool ebc_case_selected(const ebc_opts *o, const char *id);

/* Raw verdict recorded by a case. */
typedef enum ebc_raw {
	EBC_RAW_PASS = 0,
	EBC_RAW_FAIL,
	EBC_RAW_SKIP,
	EBC_RAW_ERROR
} ebc_raw;

/* The reported outcome of a raw verdict: a failed SHOULD case is NON-STRICT
 * unless strict, a failed MUST case is FAIL. */
eb_outcome ebc_outcome_resolve(ebc_raw raw, const char *level, bool strict);

/* Adds res to rep (eb_report_add). res->wire and res->timeline belong to
 * the report from the call on, whether it succeeded or not (eb_report_add
 * frees them on failure): they are set to NULL here so that no caller frees
 * them again. 0, or -1 when the result could not be added. */
int ebc_result_add(eb_report *rep, eb_case_result *res);

/* Exit code of a finished run from its counts: 1 when any case failed or
 * errored, else 0. */
int ebc_exit_code(size_t n_fail, size_t n_error);

/* Appends s to buf (NUL-terminated, len bytes) quoted for a POSIX shell. */
void ebc_shell_quote(char *buf, size_t len, const char *s);

/* ---- the case table -------------------------------------------------------- */

enum ebc_case_flags {
	EBC_F_SLOW = 1u << 0,   /* long waits: scheduled first so they overlap */
	EBC_F_AUTH = 1u << 1,   /* needs a server that checks tokens */
	EBC_F_LIMITS = 1u << 2, /* needs GET /api/limits */
	EBC_F_RATE = 1u << 3,   /* needs advertised rate limiting */
	EBC_F_ISS = 1u << 4,    /* needs --jwt-issuer */
	EBC_F_AUD = 1u << 5,    /* needs --jwt-audience */
	EBC_F_RSA = 1u << 6,    /* needs --jwt-private-key */
	EBC_F_ALONE = 1u << 7   /* a timing measure: runs after the other cases, one
	                         * at a time, so that their load on the server is not
	                         * measured (WS-NOTIF-2: "not overloaded") */
};

typedef struct ebc_ctx ebc_ctx;

typedef struct ebc_case {
	const char *id;       /* "category/name", stable */
	const char *title;
	const char *level;    /* "MUST" or "SHOULD" */
	const char *rules[EBC_MAX_RULES]; /* NULL-terminated, most specific first */
	const char *tags[EBC_MAX_TAGS];
	unsigned flags;
	void (*run)(ebc_ctx *ctx);
} ebc_case;

/* Per-category tables (conformance/cases/<category>.c). */
extern const ebc_case ebc_cases_versioning[];
extern const size_t ebc_cases_versioning_n;
extern const ebc_case ebc_cases_feed[];
extern const size_t ebc_cases_feed_n;
extern const ebc_case ebc_cases_idempotency[];
extern const size_t ebc_cases_idempotency_n;
extern const ebc_case ebc_cases_validation[];
extern const size_t ebc_cases_validation_n;
extern const ebc_case ebc_cases_limits[];
extern const size_t ebc_cases_limits_n;
extern const ebc_case ebc_cases_errors[];
extern const size_t ebc_cases_errors_n;
extern const ebc_case ebc_cases_auth[];
extern const size_t ebc_cases_auth_n;
extern const ebc_case ebc_cases_ws[];
extern const size_t ebc_cases_ws_n;
extern const ebc_case ebc_cases_fallback[];
extern const size_t ebc_cases_fallback_n;
extern const ebc_case ebc_cases_timing[];
extern const size_t ebc_cases_timing_n;
extern const ebc_case ebc_cases_rate[];
extern const size_t ebc_cases_rate_n;
extern const ebc_case ebc_cases_decisions[];
extern const size_t ebc_cases_decisions_n;
extern const ebc_case ebc_cases_behaviours[];
extern const size_t ebc_cases_behaviours_n;
extern const ebc_case ebc_cases_bounds[];
extern const size_t ebc_cases_bounds_n;
extern const ebc_case ebc_cases_races[];
extern const size_t ebc_cases_races_n;
extern const ebc_case ebc_cases_chars[];
extern const size_t ebc_cases_chars_n;
extern const ebc_case ebc_cases_types[];
extern const size_t ebc_cases_types_n;
extern const ebc_case ebc_cases_cluster[];
extern const size_t ebc_cases_cluster_n;

/* Writes every report the options ask for (--report-dir, --json, --junit,
 * --html) of a finished run; returns rc, or EBC_EXIT_USAGE when one could
 * not be written (after a message on stderr). Used by both suites. */
int ebc_outputs(const ebc_opts *o, eb_report *rep, int rc);

/* `ebconform report IN.json ... [--report-dir DIR] [--json F] [--junit F]
 * [--html F]` (argv[1] is "report"): the reports of saved runs written again
 * from their JSON, several merged into one (ebc_regen.c). Returns the exit
 * code: 0 verdict PASS, 1 FAIL/ERROR/INCOMPLETE, 2 usage or unreadable input. */
int ebc_report_cmd(int argc, char **argv);

/* The ids of the selected cases (sel, n_sel) that have no result in rep,
 * into out (n_sel slots; borrowed from sel); returns their count. */
size_t ebc_not_run(const eb_report *rep, const ebc_case *const *sel, size_t n_sel,
		   const char **out);

/* Every case in catalogue order into out (cap slots); returns the count. */
size_t ebc_catalogue(const ebc_case **out, size_t cap);
#define EBC_MAX_CASES 512

/* ---- the run and the per-case context ------------------------------------ */

/* The one mutable part of a run, shared by every case under its mutex: the
 * advertised WebSocket bucket of the suite's remote address, which a server
 * MAY charge messages sent before a successful auth to (RATE-5), and which
 * is the only bucket of a server without auth (its subject is the address). */
typedef struct ebc_shared {
	pthread_mutex_t mu;
	bool pace_preauth;        /* seen: auth messages are charged to the address */
	bool init;
	double tokens;
	uint64_t refill_ns;
} ebc_shared;

/* Read-only during the run (shared points to the mutable part). */
typedef struct ebc_run {
	const ebc_opts *opts;
	char prefix[24];          /* random run prefix for store ids and subjects */
	eb_limits limits;         /* advertised, or the defaults */
	bool limits_offered;      /* GET /api/limits answered 200 with limits */
	long limits_status;       /* its status: 404 = not offered (LIMIT-10) */
	char limits_problem[160]; /* why an offered endpoint is wrong, or "" */
	char *private_pem;        /* RS256 key read from --jwt-private-key */
	char *public_pem;         /* derived from it with OpenSSL */
	const char *token_flags;  /* shell-quoted flags for rerun commands */
	ebc_shared *shared;       /* owned; see ebc_shared */
	eb_http_budget *budget;   /* owned: response bodies in flight, all cases */
	/* set by a signal or the run's deadline (main.c): waits end early so
	 * that the case threads are done within the grace of the stop */
	ebc_stop_flag *stop;
} ebc_run;

/* Response bodies every case receives at one time, in all (eb_http_budget):
 * with the wire logs' 256 KiB a case this keeps the run under 256 MiB. */
#define EBC_HTTP_BUDGET ((size_t)96 << 20)

struct ebc_ctx {
	const ebc_run *run;
	const ebc_case *c;
	eb_wirelog *wire;
	pthread_mutex_t mu;       /* verdict and counters: cases may use threads */
	ebc_raw raw;
	char failed_rule[24];
	char reason[512];
	char expected[1024];
	char actual[2048];
	int next_conn;
	unsigned next_store;
	unsigned next_id;
	char case_tag[96];        /* case id with '/' made '.' */
	char subject[128];        /* default token subject: prefix:case */
	char store_prefix[128];   /* every store of the case starts with it */
	eb_http *http;            /* the case thread's client (lazy) */
	char *token;              /* default token (lazy) */
	/* The advertised WebSocket bucket as the suite spends it (cases not
	 * about rate limits pace their socket messages by it, RATE-1). */
	double ws_tokens;
	uint64_t ws_refill_ns;
	bool ws_bucket_init;
	int pin_node;             /* 1 + the node new connections go to; 0: spread */
};

/* The base URL of the case's connection number conn: with several --url
 * spread over the nodes (the case's first connection on a node of its own,
 * then round robin), or the pinned node; else --url. */
const char *ebc_url_for(ebc_ctx *ctx, int conn);
/* New connections of the case go to node i (0-based, < ebc_n_nodes) from
 * now on; -1 spreads them again. */
void ebc_pin_node(ebc_ctx *ctx, int node);
/* The number of --url given (at least 1). */
size_t ebc_n_nodes(const ebc_ctx *ctx);

/* Verdicts. The first one recorded wins. expected/actual are one-liners the
 * report prints under the rule's sentence. */
void ebc_fail(ebc_ctx *ctx, const char *rule, const char *expected,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ebc_skip(ebc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ebc_error(ebc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* true once any verdict other than pass was recorded. */
bool ebc_done(ebc_ctx *ctx);
void ebc_note(ebc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ms stretched by --time-scale. */
long ebc_ms(const ebc_ctx *ctx, long ms);
/* The per-operation timeout (already scaled). */
long ebc_timeout(const ebc_ctx *ctx);

/* A fresh store id of this case: "<prefix>-<case>-<n>" (+ "-tag" if tag). */
const char *ebc_store(ebc_ctx *ctx, const char *tag, char *buf, size_t len);
/* A fresh change id: "c<n>" with the case's counter; unique per case. */
const char *ebc_cid(ebc_ctx *ctx, char *buf, size_t len);

/* ---- tokens ---------------------------------------------------------------- */

/* Fills o with the case's default claims: its subject, exp in one hour,
 * iss/aud when configured, eb_write [store_prefix*], signed with HS256 when
 * a secret was given, else RS256. pats (2 slots) holds the pattern array. */
void ebc_tok_default(ebc_ctx *ctx, eb_jwt_mint_opts *o, const char **pats, char *patbuf, size_t patlen);
/* Mints; NULL after ebc_error. Caller frees. */
char *ebc_mint(ebc_ctx *ctx, const eb_jwt_mint_opts *o);
/* The case's default token (ebc_tok_default's claims) signed with alg and
 * key instead of the target's: a NUL-terminated secret (HS256), private key
 * PEM (RS256) or NULL (EB_JWT_NONE). NULL after ebc_error. Caller frees. */
char *ebc_mint_signed(ebc_ctx *ctx, eb_jwt_alg alg, const char *key);
/* The case's default token (owned by ctx). NULL after ebc_error. */
const char *ebc_token(ebc_ctx *ctx);
/* A token with only the given read/write patterns (either may be NULL/0). */
char *ebc_token_perm(ebc_ctx *ctx, const char *const *read, size_t n_read,
		     const char *const *write, size_t n_write);
/* A token for another subject "<subject>#<tag>" with the default patterns. */
char *ebc_token_sub(ebc_ctx *ctx, const char *tag);

/* ---- HTTP ------------------------------------------------------------------ */

/* A new client logging to the case's wire log (next connection number).
 * NULL after ebc_error. Free with eb_http_free. */
eb_http *ebc_http_new(ebc_ctx *ctx);
/* The case thread's client (owned by ctx). */
eb_http *ebc_http(ebc_ctx *ctx);

enum { EBC_REQ_NO_RETRY = 1 };

/* One request. A 429 is retried after its Retry-After (at most a few
 * times, logged) unless EBC_REQ_NO_RETRY. Returns true when a response
 * arrived; false after ebc_error on transport failure. h NULL: ebc_http. */
bool ebc_req(ebc_ctx *ctx, eb_http *h, const char *method, const char *path,
	     const char *token, const char *ctype, const char *body, size_t len,
	     const eb_http_header *extra, size_t n_extra, unsigned flags,
	     eb_http_resp *resp);
/* POST /api/stores/<store>/sync with body (NUL-terminated). */
bool ebc_post_sync(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		   const char *body, eb_http_resp *resp);
/* GET /api/stores/<store>/changes?<query>. */
bool ebc_get_changes(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		     const char *query, eb_http_resp *resp);

/* Expects 200 with a SYNC-4 body: fails with rule (status) or SYNC-4
 * (shape) and returns NULL otherwise. Checks GEN-2. Caller frees. */
eb_sync_response *ebc_expect_ok(ebc_ctx *ctx, const eb_http_resp *resp, const char *rule);
/* Expects an error status with code (NULL: any) and an ERR-1 body; fails
 * with rule for status/code mismatches and ERR-1/GEN-2 for a malformed body.
 * *out (may be NULL) gets the parsed body. */
bool ebc_expect_error(ebc_ctx *ctx, const eb_http_resp *resp, long status,
		      const char *code, const char *rule, eb_error_body **out);
/* Expects errors[] to hold exactly one entry with field and code (index
 * idx, -1 for none). */
bool ebc_expect_problem(ebc_ctx *ctx, const eb_error_body *b, long idx,
			const char *field, const char *code, const char *rule);

/* ---- changes --------------------------------------------------------------- */

/* Builds a sync body: {"lastKnownVersion":lkv,"changes":[c0,c1,...]} with
 * changes given as raw JSON texts; limit < 0: absent. Caller frees. */
char *ebc_body(uint64_t lkv, const char *const *changes, size_t n, long limit);
/* One set change as JSON text: id, ts, path ["k", key], value (raw JSON). */
char *ebc_set_json(const char *id, uint64_t ts, const char *key, const char *value);

/* Pushes n set changes with fresh ids (path ["k", id], value {"n":i}) in one
 * request at lkv; *res (may be NULL) gets the response. Fails with rule on
 * a non-200. ids (may be NULL, n slots of 32 bytes) receive the ids. */
bool ebc_push_n(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		size_t n, uint64_t lkv, char (*ids)[32], eb_sync_response **res,
		const char *rule);
/* Sync with body and expect 200 (rule cited otherwise). */
eb_sync_response *ebc_sync_ok(ebc_ctx *ctx, eb_http *h, const char *store,
			      const char *token, const char *body, const char *rule);

/* Reads the whole feed from since with page limit (0: default), checking
 * SYNC-6/SYNC-7/FEED-3 on every page and continuing from toVersion.
 * *out gets the changes (caller frees with ebc_changes_free), *current the
 * last currentVersion. via_sync: read with sync requests instead. */
bool ebc_read_all(ebc_ctx *ctx, eb_http *h, const char *store, const char *token,
		  uint64_t since, unsigned limit, bool via_sync,
		  eb_change **out, size_t *n, uint64_t *current);
void ebc_changes_free(eb_change *c, size_t n);
/* The store's version through the feed (since=0&limit=1). */
bool ebc_version(ebc_ctx *ctx, const char *store, uint64_t *v);

/* Checks versions from+1 .. from+n in order, each once (rule cited). */
bool ebc_check_dense(ebc_ctx *ctx, const eb_change *c, size_t n, uint64_t from, const char *rule);

/* ---- WebSocket ------------------------------------------------------------- */

typedef struct ebc_ws {
	ebc_ctx *ctx;
	eb_wsc *c;
	int conn;
	unsigned next_rid;
	eb_ws_server_msg **q;     /* notifications received while waiting for replies */
	size_t nq, capq;
	bool closed;
	int close_code;           /* 0: TCP EOF without close frame */
	bool unpaced;             /* sends ignore the advertised bucket (rate cases) */
	bool authed;              /* auth_ok seen: messages count to the subject */
	char *last_text;          /* the last message sent (owned), for a resend */
} ebc_ws;

/* Connects to the notifications endpoint. NULL after ebc_error. */
ebc_ws *ebc_ws_open(ebc_ctx *ctx);
/* Connects with an extra path suffix (e.g. "?token=..."); NULL after ebc_error. */
ebc_ws *ebc_ws_open_path(ebc_ctx *ctx, const char *path);
void ebc_ws_free(ebc_ws *w);
/* Sends one text message. Unless w->unpaced, first waits until the case's
 * share of the advertised WebSocket bucket has a token, so that cases not
 * about rate limiting never go over it. */
bool ebc_ws_send(ebc_ws *w, const char *text);
/* Sends a request whose JSON is built by the caller with "requestId" rid,
 * and waits for the reply echoing rid (notifications are queued). NULL after
 * ebc_fail(rule) on timeout, close or a malformed reply (the parser's rule). */
eb_ws_server_msg *ebc_ws_call(ebc_ws *w, const char *text, const char *rid,
			      const char *rule);
/* Next request id ("r<n>") into buf. */
const char *ebc_ws_rid(ebc_ws *w, char *buf, size_t len);
/* auth and expect auth_ok. false after a verdict. Against --no-auth-server
 * sends nothing and returns true with *ok NULL: such a server needs no auth
 * on the socket and may answer one or ignore it (WS-AUTH-7). */
bool ebc_ws_auth(ebc_ws *w, const char *token, eb_ws_server_msg **ok);
/* subscribe/unsubscribe and expect the ack type. */
eb_ws_server_msg *ebc_ws_sub(ebc_ws *w, bool unsub, const char *const *stores, size_t n,
			     const char *rule);
/* Opens, authenticates with token (NULL: default) and subscribes to store
 * (NULL: none). *ack_version gets the ack's version. NULL after a verdict. */
ebc_ws *ebc_ws_ready(ebc_ctx *ctx, const char *token, const char *store, uint64_t *ack_version);
/* Waits for a store_changed of store with version >= min. 1 got it (*out,
 * may be NULL, caller frees), 0 timeout, -1 closed or malformed (recorded
 * via ebc_fail with rule only when the socket closed). */
int ebc_ws_wait_notif(ebc_ws *w, const char *store, uint64_t min, long timeout_ms,
		      eb_ws_server_msg **out, const char *rule);
/* Waits for the socket to close, ignoring messages. true when it closed
 * (w->close_code), false on timeout. Before auth, a RATE_LIMITED answer to
 * the last message (a server MAY charge it to the address, RATE-5) is not
 * what the case waits for: the message is sent again, paced, up to 3 times. */
bool ebc_ws_wait_close(ebc_ws *w, long timeout_ms);
/* Receives the next message (not from the queue). 1 message (*out), 0
 * timeout, -1 closed (w->closed). Malformed server messages: ebc_fail with
 * the parser's rule and -1. */
int ebc_ws_next(ebc_ws *w, long timeout_ms, eb_ws_server_msg **out);
/* The next reply after sending text on w, notifications skipped; a
 * RATE_LIMITED error (a bucket the case does not test, shared by the run's
 * parallel cases when the subject is the address) makes it send text again
 * after 1.5 s, up to 3 times. 1 with the reply in *out (caller frees), 0 on
 * timeout, -1 when the socket closed. */
int ebc_ws_reply(ebc_ws *w, const char *text, eb_ws_server_msg **out);

/* ---- the run (ebc_run.c) ------------------------------------------------- */

/* Probes the URL (GET /api/limits), reads the advertised limits and the RS256
 * key, draws the run prefix. Returns 0, EBC_EXIT_USAGE or
 * EBC_EXIT_UNREACHABLE with a message in err. Free with ebc_run_clear. */
int ebc_run_setup(ebc_run *run, const ebc_opts *o, char *token_flags, size_t tflen,
		  char *err, size_t errlen);
void ebc_run_clear(ebc_run *run);

/* Runs cases (n of them) on opts->jobs threads and adds every result to rep.
 * stop: set by a signal handler (or the deadline); cases not started then
 * are not run. 0, or -1 when the runner could not allocate its queue (no
 * case ran: the caller must not report a verdict). */
int ebc_run_cases(const ebc_run *run, const ebc_case *const *cases, size_t n,
		   eb_report *rep, ebc_stop_flag *stop);

/* Copies tmpl into out replacing every "%s" with s (templates of cases are
 * data, not printf formats). */
void ebc_subst(char *out, size_t len, const char *tmpl, const char *s);

/* ---- misc ------------------------------------------------------------------ */
uint64_t ebc_now_ms(void);
void ebc_sleep_ms(long ms);
/* Runs fn(arg_i) on n threads and joins them. */
void ebc_parallel(size_t n, void *(*fn)(void *), void *args, size_t arg_size);

#endif
