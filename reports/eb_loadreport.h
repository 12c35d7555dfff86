/*
 * eb_loadreport.h — the result of an ebload run as data: counters,
 * histograms (eb_hist) and a per-second time series, with the versioned
 * JSON form "ebload-report/1" (docs/LOADGEN.md), reading it back, exact
 * merging of several runs (shards, machines) and the --expect thresholds.
 * Socket-free, so ebload's report logic is unit-testable.
 */
#ifndef EB_LOADREPORT_H
#define EB_LOADREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "eb_error.h"
#include "eb_hist.h"

#define EB_LOADREPORT_SCHEMA "ebload-report/1"

/* X(field, json section, json name, merge: 0 sum, 1 max) */
#define EB_LOAD_COUNTERS(X) \
	X(conn_target,        "connections", "target", 0) \
	X(conn_attempted,     "connections", "attempted", 0) \
	X(conn_established,   "connections", "established", 0) \
	X(conn_subscribed,    "connections", "subscribed", 0) \
	X(conn_peak_open,     "connections", "peakOpen", 0) \
	X(conn_open_at_end,   "connections", "openAtHoldEnd", 0) \
	X(conn_drops,         "connections", "drops", 0) \
	X(conn_churned,       "connections", "churned", 0) \
	X(conn_closed,        "connections", "closedByLoad", 0) \
	X(conn_ramp_subscribed, "connections", "subscribedInRamp", 0) \
	X(fail_refused,       "connectFailures", "refused", 0) \
	X(fail_timeout,       "connectFailures", "timeout", 0) \
	X(fail_emfile,        "connectFailures", "openFiles", 0) \
	X(fail_addr,          "connectFailures", "addressNotAvailable", 0) \
	X(fail_upgrade,       "connectFailures", "upgradeRejected", 0) \
	X(fail_auth,          "connectFailures", "authRejected", 0) \
	X(fail_subscribe,     "connectFailures", "subscribeRejected", 0) \
	X(fail_closed,        "connectFailures", "closedDuringHandshake", 0) \
	X(fail_other,         "connectFailures", "other", 0) \
	X(notif_received,     "notifications", "received", 0) \
	X(notif_matched,      "notifications", "matched", 0) \
	X(notif_missed,       "notifications", "missed", 0) \
	X(notif_duplicates,   "notifications", "duplicates", 0) \
	X(notif_out_of_order, "notifications", "outOfOrder", 0) \
	X(notif_unmatched,    "notifications", "unmatched", 0) \
	X(notif_expected,     "notifications", "expected", 0) \
	X(notif_hold,         "notifications", "receivedInHold", 0) \
	X(push_sent,          "pushes", "sent", 0) \
	X(push_ok,            "pushes", "ok", 0) \
	X(push_transport_err, "pushes", "transportErrors", 0) \
	X(push_http_err,      "pushes", "httpErrors", 0) \
	X(push_mismatch,      "pushes", "versionMismatch", 0) \
	X(push_late,          "pushes", "behindSchedule", 0) \
	X(ws_errors,          "notifications", "errorMessages", 0) \
	X(ramp_ms,            "phases", "rampMs", 1) \
	X(hold_ms,            "phases", "holdMs", 1) \
	X(total_ms,           "phases", "totalMs", 1) \
	X(cpu_user_ms,        "resources", "cpuUserMs", 0) \
	X(cpu_sys_ms,         "resources", "cpuSysMs", 0) \
	X(cpu_ramp_ms,        "resources", "workerCpuRampMs", 0) \
	X(cpu_hold_ms,        "resources", "workerCpuHoldMs", 0) \
	X(cpu_ramp_user_us,   "resources", "workerUserRampUs", 0) \
	X(cpu_ramp_sys_us,    "resources", "workerSysRampUs", 0) \
	X(cpu_hold_user_us,   "resources", "workerUserHoldUs", 0) \
	X(cpu_hold_sys_us,    "resources", "workerSysHoldUs", 0) \
	X(rss_base_kib,       "resources", "rssBaseKiB", 0) \
	X(rss_hold_kib,       "resources", "rssHoldKiB", 0)

typedef struct eb_load_counters {
#define EB_LOAD_FIELD(f, s, n, m) uint64_t f;
	EB_LOAD_COUNTERS(EB_LOAD_FIELD)
#undef EB_LOAD_FIELD
} eb_load_counters;

/* One second of the run: additive counts and the notification latencies
 * received in that second, as sparse (bucket index, count) pairs. */
typedef struct eb_load_sample {
	uint64_t t_s;          /* seconds since the run started */
	uint64_t open;         /* subscribed connections open at the end of it */
	uint64_t connects;     /* connections that got subscribed in it */
	uint64_t notifications;
	uint64_t pushes;
	uint64_t errors;       /* connect failures + drops in it */
	uint32_t n_buckets;
	uint32_t *idx;         /* owned */
	uint64_t *cnt;         /* owned */
} eb_load_sample;

typedef enum eb_load_hist_kind {
	EB_LH_NOTIFY = 0,  /* intended push time -> receipt, per (subscriber, push) */
	EB_LH_FANOUT,      /* intended push time -> last subscriber's receipt, per push */
	EB_LH_PUSH,        /* HTTP round trip of one push */
	EB_LH_CONNECT,     /* connect start -> subscribed ack */
	EB_LH_COUNT
} eb_load_hist_kind;

/* One --expect as judged: threshold, measured value, met or not. */
typedef struct eb_expect_result {
	char text[96];         /* as given */
	char metric[32];
	char op[3];
	double threshold;      /* in the unit below */
	double measured;       /* in the unit below */
	char unit[4];          /* "ms" for latencies, "" for counts and rates */
	bool met;
} eb_expect_result;

typedef struct eb_loadreport {
	eb_load_counters c;
	eb_hist *hist[EB_LH_COUNT];   /* owned */
	eb_load_sample *samples;      /* owned, ascending t_s */
	size_t n_samples, cap_samples;
	cJSON *config;                /* owned, free-form run settings */
	char **limits;                /* owned sentences: limits hit and what to change */
	size_t n_limits;
	uint64_t started_at_ms;
	/* --start-at (net/eb_startat.h): the planned wall-clock start
	 * in ms since the epoch (0: none, and the two below are 0 too), and the
	 * earliest and latest measured ramp-up start of the runs merged here,
	 * in us since the epoch. Merge keeps the earliest plan, the earliest
	 * first and the latest last, so a merged report's skew is its worst. */
	uint64_t start_planned_ms, start_first_us, start_last_us;
	unsigned runs;                /* number of runs merged into this one (1 for a run) */
	char *command;                /* owned, may be NULL */
	/* The verdict (eb_loadreport_judge): "pass" or "fail"; NULL until judged. */
	const char *verdict;
	char **problems;              /* owned sentences: why the run itself failed */
	size_t n_problems;
	eb_expect_result *expects;    /* owned, n_expects */
	size_t n_expects;
	/* Why the run stopped before its phases ended (a signal, the total
	 * deadline), or NULL; owned. When set, the verdict is "incomplete"
	 * whatever was measured, and not_run (owned) names the phases that did
	 * not run to their end ("hold, drain"). */
	char *incomplete;
	char *not_run;
} eb_loadreport;

/* New empty report (runs = 1). NULL on allocation failure. */
eb_loadreport *eb_loadreport_new(void);
void eb_loadreport_free(eb_loadreport *r);

/* Appends a sample, copying the non-empty buckets of h (the interval
 * histogram of that second; may be NULL). EB_OK or EB_ERR_NOMEM. */
eb_rc eb_loadreport_add_sample(eb_loadreport *r, const eb_load_sample *s,
			       const eb_hist *h);

/* Adds a sentence to the list of limits hit (copied). */
eb_rc eb_loadreport_add_limit(eb_loadreport *r, const char *sentence);

/* Expands the sparse histogram of sample s into h (initialised first). */
void eb_load_sample_hist(const eb_load_sample *s, eb_hist *h);

/* dst += src exactly: counters summed (phase durations: max), histograms
 * merged bucket-wise, time series aligned by second and summed (their
 * histograms merged), limits appended, runs added. */
eb_rc eb_loadreport_merge(eb_loadreport *dst, const eb_loadreport *src);

/* The synchronized start's skew, us: the latest measured ramp-up start
 * after the planned instant (0 without --start-at, or if started early). */
uint64_t eb_loadreport_start_skew_us(const eb_loadreport *r);

/* Derived figures used by every output and by --expect. */
double eb_loadreport_connect_rate(const eb_loadreport *r);  /* subscribed per ramp second */
double eb_loadreport_notif_rate(const eb_loadreport *r);    /* received per hold second */
uint64_t eb_loadreport_peak_connect_rate(const eb_loadreport *r);
uint64_t eb_loadreport_peak_notif_rate(const eb_loadreport *r);
uint64_t eb_loadreport_connect_failures(const eb_loadreport *r);
/* ebload's own cost, from its worker processes' CPU in the phase doing that
 * work (pushers excluded): ramp-up CPU per connection subscribed in the
 * ramp, hold CPU per notification received in the hold. 0 when unknown. */
double eb_loadreport_cpu_per_connection_ms(const eb_loadreport *r);
double eb_loadreport_cpu_per_notification_us(const eb_loadreport *r);

/* The worker threads' own CPU (getrusage per thread, microseconds), user
 * and system apart: per connection subscribed in the ramp-up and per
 * notification received in the hold (0 when nothing was). */
typedef struct eb_load_cpu_split {
	double user_per_conn_us, sys_per_conn_us;
	double user_per_notif_us, sys_per_notif_us;
} eb_load_cpu_split;
void eb_loadreport_cpu_split(const eb_loadreport *r, eb_load_cpu_split *out);

/* The JSON document (schema EB_LOADREPORT_SCHEMA). Caller owns it. NULL on
 * allocation failure. */
cJSON *eb_loadreport_to_json(const eb_loadreport *r);

/* Reads a document written by eb_loadreport_to_json. EB_ERR_SHAPE (other
 * schema, missing or mistyped members, bad histograms) with err filled. On
 * EB_OK *out is the caller's (eb_loadreport_free). */
eb_rc eb_loadreport_from_json(const cJSON *j, eb_loadreport **out, eb_err *err);

/* --expect: "METRIC OP VALUE[UNIT]", OP one of < <= > >= == !=. Metrics:
 * p50 p90 p99 p999 max mean (notification latency), fanout_p50 fanout_p99
 * fanout_max, push_p99, connect_p99 (units ns us ms s, default ms);
 * connections (peak open), subscribed, connect_failures, drops, missed,
 * duplicates, out_of_order, unmatched, notifications, push_errors,
 * connect_rate, notif_rate (per second); start_skew (latency units: the
 * latest ramp-up start after --start-at's instant, 0 without it). */
typedef struct eb_expect {
	char metric[32];
	char op[3];
	double value;          /* in the metric's base unit (ns for latencies) */
	char text[96];         /* as given */
} eb_expect;

/* Parses one expression. EB_ERR_ARG with a message naming what is wrong. */
eb_rc eb_expect_parse(const char *text, eb_expect *out, eb_err *err);

/* Evaluates e against r: true when met; *actual (may be NULL) gets the
 * metric's value in its base unit. */
bool eb_expect_eval(const eb_expect *e, const eb_loadreport *r, double *actual);

/* Judges r: adds a problem (copied) for each sentence of problems, then
 * evaluates each --expect into r->expects; the verdict is "fail" when any
 * problem was given or any expect is not met, else "pass". A second call
 * replaces the expects and the verdict and keeps the problems. */
eb_rc eb_loadreport_judge(eb_loadreport *r, const eb_expect *ex, size_t n_ex,
			  const char *const *problems, size_t n_problems);

/* Metric value in base unit; false for an unknown metric. */
bool eb_loadreport_metric(const eb_loadreport *r, const char *metric, double *out);

#endif
