/*
 * eb_report.h — results of a run and the writers every program shares:
 * console (progress line + summary), JSON (the source of truth, schema
 * "earlybird-report/1", documented in docs/REPORT-SCHEMA.md), JUnit XML and
 * one self-contained HTML file. The JSON writer's output can be read back
 * (eb_report_read_json) so reports can be regenerated and merged.
 */
#ifndef EB_REPORT_H
#define EB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "eb_timeline.h"
#include "eb_wirelog.h"

typedef enum eb_outcome {
	EB_OUT_PASS = 0,
	EB_OUT_FAIL,        /* a MUST broken (or a SHOULD under --strict) */
	EB_OUT_NON_STRICT,  /* a SHOULD not met */
	EB_OUT_SKIP,        /* feature not offered; reason says which */
	EB_OUT_ERROR        /* harness or network trouble */
} eb_outcome;

/* "PASS", "FAIL", "NON-STRICT", "SKIP", "ERROR". */
const char *eb_outcome_name(eb_outcome o);

/* One case's result. The report copies every string and takes ownership of
 * wire (set it to NULL in your struct after eb_report_add if you keep it). */
typedef struct eb_case_result {
	const char *id;          /* "versioning/dense-after-batch" */
	const char *title;
	const char *category;    /* first segment of id unless set */
	const char *level;       /* "MUST" or "SHOULD" */
	const char *const *rules;   size_t n_rules;  /* rule ids the case checks */
	const char *const *tags;    size_t n_tags;
	eb_outcome outcome;
	const char *failed_rule; /* rule id whose check failed (FAIL/NON-STRICT) */
	const char *reason;      /* one line: why it failed/skipped/errored */
	const char *expected;    /* what the rule requires, concretely */
	const char *actual;      /* what came */
	const char *rerun;       /* one shell command that reruns just this case */
	double duration_ms;
	eb_wirelog *wire;        /* may be NULL; ownership passes to the report */
	eb_timeline *timeline;   /* client cases: may be NULL; ownership passes
				  * to the report like wire's */
} eb_case_result;

typedef struct eb_report eb_report;

/* tool: "ebconform"; target: URL under test; argv-like command line for the
 * record. NULL on allocation failure. */
eb_report *eb_report_new(const char *tool, const char *tool_version,
			 const char *target, const char *command_line);
void eb_report_free(eb_report *r);

/* Adds one result (thread-safe). 0 or -1 on allocation failure; res->wire
 * and res->timeline belong to the report either way (freed on failure). */
int eb_report_add(eb_report *r, const eb_case_result *res);

/* Free-form key/value facts shown in every format (seed, options, server
 * limits). Thread-safe. */
int eb_report_set_meta(eb_report *r, const char *key, const char *value);

/* Marks the run's end (duration is measured from eb_report_new). */
void eb_report_finish(eb_report *r);

size_t eb_report_count(const eb_report *r, eb_outcome o);

/* Console: one progress line, rewritten in place when out is a tty, else
 * printed every few seconds; done/total cases and counts by outcome. */
void eb_report_console_progress(const eb_report *r, FILE *out, size_t total);
/* Console summary: failures with rule, sentence from PROTOCOL.md, expected,
 * actual and rerun command (wire log too when verbose), then counts. */
void eb_report_console_summary(const eb_report *r, FILE *out, bool verbose);

/* Writers. Return 0, or -1 with a message in errbuf. */
int eb_report_write_json(const eb_report *r, const char *path, char *errbuf, size_t errlen);
int eb_report_write_junit(const eb_report *r, const char *path, char *errbuf, size_t errlen);
/* HTML: summary, a table per category, the requirement coverage matrix over
 * every rule of eb_rules (rules no case covers listed), per-case details with
 * the wire log. No external assets. */
int eb_report_write_html(const eb_report *r, const char *path, char *errbuf, size_t errlen);

/* Reads a JSON report written by eb_report_write_json. NULL with errbuf set
 * on failure. */
eb_report *eb_report_read_json(const char *path, char *errbuf, size_t errlen);

/* ---- additions (all additive; the functions above are unchanged) ---------
 *
 * Every writer accepts path "-" for stdout. Files are written to a temporary
 * name beside path and renamed, so a reader never sees half a report.
 */

/* The run's verdict: EB_OUT_FAIL when any case failed, else EB_OUT_ERROR
 * when any case errored (the run is incomplete), else EB_OUT_PASS. Programs
 * derive their exit code from it. */
eb_outcome eb_report_verdict(const eb_report *r);

/* Number of results (all outcomes). */
size_t eb_report_case_count(const eb_report *r);

/* Result i in insertion order, as a view: every pointer in *out is borrowed
 * from the report and lives until eb_report_free; out->wire is borrowed too
 * (never free it; may be NULL). 0, or -1 when i is out of range. Safe while
 * other threads add. */
int eb_report_case_get(const eb_report *r, size_t i, eb_case_result *out);

/* Value of a meta key (borrowed, lives until the key is set again or the
 * report is freed), or NULL. */
const char *eb_report_meta_get(const eb_report *r, const char *key);

/* Header facts, borrowed for the report's lifetime. tool/target/command may
 * be "" but never NULL. started_ms: wall clock at eb_report_new (or as read
 * back); duration_ms: as of eb_report_finish, or elapsed so far if the run is
 * not finished. */
const char *eb_report_tool(const eb_report *r);
const char *eb_report_tool_version(const eb_report *r);
const char *eb_report_target(const eb_report *r);
const char *eb_report_command(const eb_report *r);
uint64_t eb_report_started_ms(const eb_report *r);
double eb_report_duration_ms(const eb_report *r);

/* Copies every result of src (wire logs included) and each meta key dst does
 * not have yet into dst, e.g. to merge the reports of several runs.
 * 0 or -1 on allocation failure (dst then holds a prefix of src's results). */
int eb_report_merge(eb_report *dst, const eb_report *src);

/* Marks the run INCOMPLETE (interrupted, or its total deadline reached):
 * reason says why in one line; not_run lists the ids of the cases that did
 * not run to a result (copied). Every format then says so: the verdict is
 * INCOMPLETE (JSON summary.verdict, the console's and the HTML page's
 * verdict line, a JUnit error case) whatever the cases say, and the reason
 * and the cases not run are shown (also as meta "incomplete" and "notRun").
 * Thread-safe; a later call replaces the earlier one. 0 or -1 (out of
 * memory: the mark is set with the reason "out of memory" at least). */
int eb_report_set_incomplete(eb_report *r, const char *reason,
			     const char *const *not_run, size_t n_not_run);

/* The reason of eb_report_set_incomplete (borrowed), or NULL when the run
 * is complete. */
const char *eb_report_incomplete(const eb_report *r);

/* Ids of the cases not run (borrowed), as given to eb_report_set_incomplete. */
size_t eb_report_not_run_count(const eb_report *r);
const char *eb_report_not_run(const eb_report *r, size_t i);

/* "INCOMPLETE" when the run is marked so, else eb_outcome_name of
 * eb_report_verdict. */
const char *eb_report_verdict_name(const eb_report *r);

#endif
