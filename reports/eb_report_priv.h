/*
 * eb_report_priv.h — internals shared by the report writers of libebreport
 * (eb_report*.c). Not for programs: they include eb_report.h.
 */
#ifndef EB_REPORT_PRIV_H
#define EB_REPORT_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eb_report.h"
#include "eb_rules.h"

#define EB_RPT_N_OUTCOMES 5
#define EB_RPT_SCHEMA "earlybird-report/1"

/* One stored result. Immutable once added, so writers may read it without
 * the lock after taking a snapshot of the pointers. Strings are valid UTF-8
 * (eb_report_add replaces invalid bytes) and never NULL for id, title and
 * category; the others are NULL when the case did not give them. */
typedef struct eb_rpt_case {
	char *id, *title, *category, *level;
	char **rules;
	size_t n_rules;
	char **tags;
	size_t n_tags;
	eb_outcome outcome;
	char *failed_rule, *reason, *expected, *actual, *rerun;
	double duration_ms;
	eb_wirelog *wire;
	eb_timeline *timeline;   /* client cases only; NULL otherwise */
	size_t seq;          /* insertion number: ties of equal ids keep it */
} eb_rpt_case;

/* State that const accessors still change (lock, progress throttling). */
typedef struct eb_rpt_sync {
	pthread_mutex_t lock;
	uint64_t last_progress_ns;
	size_t progress_len;   /* length of the in-place line on a tty */
	bool progress_open;    /* a tty line waits for its newline */
	bool progress_final;   /* the done == total line was printed */
} eb_rpt_sync;

struct eb_report {
	eb_rpt_sync *sync;
	char *tool, *tool_version, *target, *command;
	uint64_t started_ms;
	uint64_t start_mono_ns;
	double duration_ms;
	bool finished;
	char **meta_key, **meta_val;
	size_t n_meta, cap_meta;
	eb_rpt_case **cases;
	size_t n_cases, cap_cases;
	size_t counts[EB_RPT_N_OUTCOMES];
	char *incomplete;        /* eb_report_set_incomplete's reason, or NULL */
	char **not_run;          /* ids of the cases not run */
	size_t n_not_run;
};

/* Snapshot of the results sorted by id (then insertion). The array is
 * malloc'd (free it); the cases are borrowed from r. NULL with *n 0 when
 * empty or on allocation failure (*oom tells which; may be NULL). */
const eb_rpt_case **eb_rpt_sorted(const eb_report *r, size_t *n, bool *oom);

/* Counts over a snapshot. */
void eb_rpt_count(const eb_rpt_case *const *c, size_t n, size_t counts[EB_RPT_N_OUTCOMES]);

/* Distinct categories of a sorted snapshot, sorted. The array is malloc'd;
 * the strings are borrowed. NULL with *n 0 when empty or out of memory. */
const char **eb_rpt_categories(const eb_rpt_case *const *c, size_t n, size_t *n_cat);

/* Requirement coverage: one row per rule of eb_rules (in table order), then
 * one per rule id cases cite that eb_rules does not know (sorted by id).
 * A case cites the ids of its rules and its failed_rule. */
typedef struct eb_rpt_cov {
	const char *id;              /* borrowed */
	const eb_rule *rule;         /* NULL for unknown ids */
	const eb_rpt_case **cases;   /* malloc'd; cases borrowed, sorted by id */
	size_t n, cap;
} eb_rpt_cov;
int eb_rpt_coverage(const eb_rpt_case *const *c, size_t n, eb_rpt_cov **out, size_t *n_out);
void eb_rpt_coverage_free(eb_rpt_cov *cov, size_t n);

/* A rule's status in the coverage matrix: the worst of FAIL, ERROR,
 * NON-STRICT, then PASS (SKIP when no case decided it) over the cases citing
 * it, where a failed (or non-strict) case counts against the rule only when
 * its failed_rule is this rule (or it names none): a case that broke
 * another rule first says nothing about this one. */
eb_outcome eb_rpt_rule_status(const eb_rpt_cov *row);

/* Lower-case CSS class name of an outcome: "pass", "fail", "nonstrict",
 * "skip", "error". */
const char *eb_rpt_outcome_class(eb_outcome o);

/* RFC 3339 UTC time with milliseconds ("2024-05-01T12:00:00.123Z") into buf
 * (at least 32 bytes). */
void eb_rpt_time_iso(uint64_t ms, char *buf, size_t len);
/* Parses the form above back; false when malformed. */
bool eb_rpt_time_parse(const char *s, uint64_t *ms);

/* Output file written under a temporary name and renamed on success;
 * "-" is stdout. */
typedef struct eb_rpt_out {
	FILE *f;
	char *path, *tmp;
	bool in_place;   /* a device or pipe, written without a temporary file */
} eb_rpt_out;
/* 0, or -1 with errbuf set. */
int eb_rpt_open(eb_rpt_out *o, const char *path, char *errbuf, size_t errlen);
/* Flushes, checks for write errors and renames into place (or removes the
 * temporary file when ok is false or writing failed). 0, or -1 with errbuf
 * set. */
int eb_rpt_close(eb_rpt_out *o, bool ok, char *errbuf, size_t errlen);

/* errbuf helper: formats into errbuf when it is non-NULL and non-empty. */
void eb_rpt_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
