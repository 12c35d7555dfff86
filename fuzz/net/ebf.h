/*
 * ebf.h — internals of ebfuzz, the network fuzzer of any Early Bird server:
 * cases (one HTTP request, one raw TCP exchange or one WebSocket script with
 * what PROTOCOL.md says must come back), their generator, the runner that
 * checks the answers, and finding files that replay one case.
 */
#ifndef EBF_H
#define EBF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eb_http.h"
#include "eb_jwt.h"
#include "eb_msg.h"
#include "eb_target.h"
#include "eb_wirelog.h"

/* ---- options and shared context -------------------------------------------- */

typedef struct ebf_opts {
	eb_target target;            /* --url, --jwt-*, --timeout (net/eb_target.h) */
	const char *url;             /* target.url.http: "http://127.0.0.1:8080[/base]" */
	uint64_t seed;
	unsigned long runs;          /* cases to run */
	uint64_t duration_s;         /* 0: no time bound besides runs */
	uint64_t deadline_s;         /* total deadline of the run (--deadline; default
	                              * EBF_DEFAULT_DEADLINE_S, or --duration + 60) */
	long timeout_ms;             /* target.timeout_ms: per request / per WebSocket wait */
	unsigned batch;              /* cases between health probes */
	const char *findings_dir;      /* default: <report_dir>/findings, else ebfuzz-findings */
	const char *json_path, *junit_path, *html_path;
	const char *report_dir;        /* report.json, junit.xml, report.html, findings/ */
	char report_paths[4][4200];    /* the defaults under report_dir */
	const char *replay_path;     /* --replay FILE */
	unsigned max_saved;          /* finding files kept per category */
	unsigned shrink_runs;        /* reruns per shrunk finding, 0: no shrinking */
	uint64_t shrink_s;           /* shrinking time for the whole run */
	bool big;                    /* allow 1 MiB+ bodies */
	bool verbose;
} ebf_opts;

/* The run's total deadline without --deadline or --duration, in seconds. */
#define EBF_DEFAULT_DEADLINE_S 180

/* What a run needs everywhere: the target, tokens, limits. */
typedef struct ebf_ctx {
	const ebf_opts *o;
	char host[256];
	int port;
	char *token;          /* valid: read+write on every store, 1 h */
	char *token_expired;  /* exp an hour ago */
	char *token_none;     /* alg none */
	char *token_badsig;   /* signed with another key */
	char *token_readonly; /* eb_read only */
	eb_limits limits;     /* advertised (LIMIT-10) or the defaults */
	bool limits_advertised;
	eb_http *http;
	uint64_t run_id;      /* makes store and change ids unique per run */
	/* Every wait inside a case (requests, reads, sends, pauses) ends when
	 * *stop is set (a signal; NULL: never) or at stop_ns (the run's
	 * absolute deadline, eb_time_mono_ns; 0: none), whatever the server
	 * sends: the case then ends as not run (ebf_run_case -1). */
	volatile sig_atomic_t *stop;
	uint64_t stop_ns;
} ebf_ctx;

/* true when the run must stop now: *x->stop set or x->stop_ns passed. */
bool ebf_stopped(const ebf_ctx *x);

/* ---- cases -------------------------------------------------------------------- */

typedef enum ebf_kind { EBF_HTTP = 1, EBF_TCP, EBF_WS } ebf_kind;

/* Which token goes into Authorization (HTTP) or the auth message (WS). */
typedef enum ebf_auth {
	EBF_AUTH_NONE = 0, EBF_AUTH_VALID, EBF_AUTH_EXPIRED, EBF_AUTH_ALG_NONE,
	EBF_AUTH_BADSIG, EBF_AUTH_GARBAGE, EBF_AUTH_READONLY
} ebf_auth;

typedef enum ebf_step_op {
	EBF_S_TEXT = 1,   /* one text message in one frame */
	EBF_S_FRAME,      /* raw frame: opcode, fin, payload */
	EBF_S_RAW,        /* raw bytes on the socket */
	EBF_S_SLEEP,      /* pause ms */
	EBF_S_SLOW        /* bytes sent one piece every ms */
} ebf_step_op;

typedef struct ebf_step {
	ebf_step_op op;
	int opcode;
	bool fin;
	bool unmasked;
	char *data;         /* owned */
	size_t len;
	long ms;
} ebf_step;

/* The answer PROTOCOL.md requires. want_status 0: any answer that is not a
 * server fault; want_code NULL: any code of the status. */
typedef struct ebf_expect {
	char rule[24];       /* rule the input breaks (or the valid-input rule) */
	int want_status;     /* HTTP */
	char want_code[32];
	bool valid;          /* input is valid: a refusal is a finding */
	int want_close;      /* WS: close code required (0: none) */
	int alt_close;       /* WS: another acceptable code (1007 for bad UTF-8, RFC 6455) */
	bool raw_only;       /* not an API request (garbage HTTP): only faults are judged */
	bool any_refusal;    /* invalid, but the spec leaves which 4xx open */
	bool want_open;      /* WS: socket must stay open */
	bool want_reply;     /* WS: the last message must be answered */
} ebf_expect;

typedef struct ebf_case {
	ebf_kind kind;
	char gen[64];        /* generator name, e.g. "sync/delete-with-value" */
	ebf_expect ex;
	/* HTTP */
	char method[16];
	char *path;          /* owned, with query */
	ebf_auth auth;
	char *content_type;  /* owned; NULL: application/json with a body */
	char *body;          /* owned */
	size_t body_len;
	bool has_body;
	/* TCP and WS: WS authenticates first with auth when ws_auth */
	bool ws_auth;
	ebf_step *steps;
	size_t n_steps;
} ebf_case;

void ebf_case_clear(ebf_case *c);
/* Deep copy of src into dst (uninitialised). 0, or -1 on allocation failure
 * (dst then empty). */
int ebf_case_copy(ebf_case *dst, const ebf_case *src);
/* Appends a step (data copied). 0, or -1 on allocation failure. */
int ebf_case_step(ebf_case *c, ebf_step_op op, int opcode, bool fin,
		  const void *data, size_t len, long ms);

/* ---- generator (ebf_gen.c) ------------------------------------------------------ */

typedef struct ebf_rng { uint64_t s; } ebf_rng;
uint64_t ebf_rand(ebf_rng *r);
/* 0..n-1 */
uint32_t ebf_below(ebf_rng *r, uint32_t n);

/* Fills c with case number i of the run (deterministic in seed and i).
 * 0, or -1 on allocation failure. */
int ebf_gen_case(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c);

/* The generator's oracle for a sync body: fills c->ex with what PROTOCOL.md
 * requires for c->body alone (size, JSON, shape, limits, timestamps,
 * resync, internal conflicts, in the ERR-3 order) against a store at
 * version 0. Reads only c->body and c->body_len. */
void ebf_gen_expect_sync_body(ebf_ctx *x, ebf_case *c);

/* ---- runner (ebf_run.c) ----------------------------------------------------------- */

/* One finding: the category names the kind of failure and the rule. */
typedef struct ebf_finding {
	char category[96];   /* e.g. "accepted-invalid/CHG-6" */
	char rule[24];       /* "" when no rule applies (5xx, reset, hang, death) */
	char reason[768];
	char expected[256];
	char actual[512];
	char note[160];      /* recorded in the finding file, e.g. the shrinker's result */
} ebf_finding;

/* Runs c. Returns 1 with *f filled on a finding, 0 when the answer was
 * right, -1 when the harness could not run it (f->reason says why; after
 * ebf_stopped, -1 means the case was cut short and judges nothing). wire
 * (may be NULL) gets the exchange. */
int ebf_run_case(ebf_ctx *x, const ebf_case *c, ebf_finding *f, eb_wirelog *wire);

/* Reruns an HTTP case on a fresh connection (after a hang on a reused one).
 * true when it was answered within the timeout: then the connection the
 * hang happened on was left unusable by the exchange before it. */
bool ebf_recheck_fresh(ebf_ctx *x, const ebf_case *c);

/* Replaces x->http with a new connection cache. 0 or -1. */
int ebf_http_reset(ebf_ctx *x);

/* Health probe: GET /api/stores/<id>/changes?since=0 with the valid token
 * must answer 200 within the timeout. true when healthy. */
bool ebf_probe(ebf_ctx *x, char *why, size_t whylen);

/* Raw TCP exchange: connects to the target, runs the steps, reads what
 * comes back until the peer closes, a whole response arrived or timeout.
 * *out malloc'd. Returns 0, or -1 when it could not connect (why set). */
typedef struct ebf_tcp_result {
	char *data;
	size_t len;
	bool reset;      /* ECONNRESET / EPIPE */
	bool timed_out;
	int status;      /* parsed from the status line, 0 when none */
} ebf_tcp_result;
int ebf_tcp_exchange(ebf_ctx *x, const ebf_case *c, ebf_tcp_result *res,
		     char *why, size_t whylen);

/* ---- shrinking (ebf_shrink.c) ------------------------------------------------------ */

typedef struct ebf_shrink_stats {
	unsigned runs;       /* cases rerun against the server */
	unsigned kept;       /* reductions kept */
	size_t before, after; /* bytes of body, path and steps */
	bool reproduced;     /* the unchanged case gave the category again */
} ebf_shrink_stats;

/* Shrinks c in place to a smaller case that still gives a finding of
 * f->category, rerunning it against the server at most max_runs times and
 * not past deadline_ns (eb_time_mono_ns). Sync bodies shrink only where the
 * protocol library derives the same expectation for the smaller body; a
 * case that does not reproduce on its first rerun is left as it is. Store
 * ids of HTTP cases get a fresh suffix per rerun. Returns the reductions
 * kept (0: c unchanged but for its store id), -1 on allocation failure (c
 * is then still a valid case). st gets the figures. */
int ebf_shrink(ebf_ctx *x, ebf_case *c, const ebf_finding *f, unsigned max_runs,
	       uint64_t deadline_ns, ebf_shrink_stats *st);

/* ---- finding files (ebf_file.c) ----------------------------------------------------- */

/* Writes c as a replayable file under dir: a curl script for HTTP, a frame
 * script for WebSocket and TCP. path gets the file's name. 0 or -1. */
int ebf_file_save(const ebf_ctx *x, const ebf_case *c, const ebf_finding *f,
		  const char *dir, unsigned long index, char *path, size_t pathlen);

/* Reads a file written by ebf_file_save back into c. 0 or -1 (why set). */
int ebf_file_load(const char *path, ebf_case *c, char *why, size_t whylen);
/* Largest finding file --replay reads (a file past it is refused): bodies
 * are hex, twice their size, and the largest is a few MiB. */
#define EBF_FILE_MAX ((size_t)64 << 20)

/* Token of an auth choice (borrowed from x; NULL for none). */
const char *ebf_token(const ebf_ctx *x, ebf_auth a);

#endif
