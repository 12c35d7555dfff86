/*
 * eb_report_junit.c — JUnit XML in the form CI systems (Jenkins, GitLab,
 * GitHub test reporters) read: one <testsuite> per category, FAIL as
 * <failure type="RULE-ID">, ERROR as <error>, SKIP as <skipped>, NON-STRICT
 * as a passing case whose <system-out> says which SHOULD was not met (a CI
 * run should stay green on SHOULDs unless the tool ran with --strict, which
 * turns them into FAIL before they get here).
 */
#include "eb_report_priv.h"

#include <stdlib.h>
#include <string.h>

/* Writes s escaped for XML 1.0 text or attribute values. Characters XML 1.0
 * forbids (controls other than tab/LF/CR, U+FFFE, U+FFFF) become the visible
 * text \xNN or \uFFFE instead, since no entity may stand for them. In
 * attributes tab/LF/CR become character references so parsers do not
 * normalize them to spaces. */
static void xml_esc(FILE *f, const char *s, bool attr)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");

	for (; *u; u++) {
		switch (*u) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\t': fputs(attr ? "&#9;" : "\t", f); break;
		case '\n': fputs(attr ? "&#10;" : "\n", f); break;
		case '\r': fputs("&#13;", f); break;
		default:
			if (*u < 0x20) {
				fprintf(f, "\\x%02X", *u);
			} else if (u[0] == 0xEF && u[1] == 0xBF && (u[2] == 0xBE || u[2] == 0xBF)) {
				fprintf(f, "\\u%s", u[2] == 0xBE ? "FFFE" : "FFFF");
				u += 2;
			} else {
				fputc(*u, f);
			}
		}
	}
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	xml_esc(f, value, true);
	fputc('"', f);
}

static void property(FILE *f, const char *name, const char *value)
{
	fputs("      <property", f);
	attr(f, "name", name);
	attr(f, "value", value);
	fputs("/>\n", f);
}

/* "label: value" line of an element body, skipped when value is empty. */
static void line(FILE *f, const char *label, const char *value)
{
	if (!value || !value[0])
		return;
	fprintf(f, "%s: ", label);
	xml_esc(f, value, false);
	fputc('\n', f);
}

static void rule_line(FILE *f, const char *id)
{
	const eb_rule *rule = eb_rule_find(id);

	if (!id || !id[0])
		return;
	fputs("rule: ", f);
	xml_esc(f, id, false);
	if (rule) {
		fprintf(f, " (%s) ", rule->level);
		xml_esc(f, rule->text, false);
	}
	fputc('\n', f);
}

static void wire_lines(FILE *f, const eb_wirelog *w)
{
	size_t i, n = eb_wirelog_count(w);

	if (!w)
		return;
	fputs("wire log:\n", f);
	for (i = 0; i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		const char *arrow = e->dir == EB_WIRE_OUT ? "->" : e->dir == EB_WIRE_IN ? "<-" : "**";

		fprintf(f, "+%.3fms ", (double)e->t_us / 1000.0);
		xml_esc(f, arrow, false);
		fputc(' ', f);
		xml_esc(f, e->proto, false);
		if (e->conn >= 0)
			fprintf(f, " #%d", e->conn);
		fputc(' ', f);
		xml_esc(f, e->text, false);
		fputc('\n', f);
	}
	if (eb_wirelog_dropped(w))
		fprintf(f, "[%zu more entries dropped: wire log full]\n", eb_wirelog_dropped(w));
}

static void details(FILE *f, const eb_rpt_case *c)
{
	if (c->title[0])
		line(f, "case", c->title);
	rule_line(f, c->failed_rule);
	line(f, "reason", c->reason);
	line(f, "expected", c->expected);
	line(f, "actual", c->actual);
	line(f, "rerun", c->rerun);
}

static void testcase(FILE *f, const eb_report *r, const eb_rpt_case *c)
{
	char tm[32];
	const char *type = c->failed_rule && c->failed_rule[0] ? c->failed_rule : NULL;
	size_t cl = strlen(r->tool) + strlen(c->category) + 2;
	char *classname = malloc(cl);

	snprintf(tm, sizeof(tm), "%.3f", c->duration_ms / 1000.0);
	fputs("    <testcase", f);
	attr(f, "name", c->id);
	if (classname) {
		snprintf(classname, cl, "%s%s%s", r->tool, r->tool[0] ? "." : "", c->category);
		attr(f, "classname", classname);
		free(classname);
	} else {
		attr(f, "classname", c->category);
	}
	attr(f, "time", tm);
	fputs(">\n", f);
	switch (c->outcome) {
	case EB_OUT_FAIL:
		fputs("      <failure", f);
		attr(f, "message", c->reason ? c->reason : "failed");
		attr(f, "type", type ? type : "FAIL");
		fputs(">", f);
		details(f, c);
		fputs("</failure>\n", f);
		break;
	case EB_OUT_ERROR:
		fputs("      <error", f);
		attr(f, "message", c->reason ? c->reason : "error");
		attr(f, "type", type ? type : "ERROR");
		fputs(">", f);
		details(f, c);
		fputs("</error>\n", f);
		break;
	case EB_OUT_SKIP:
		fputs("      <skipped", f);
		attr(f, "message", c->reason ? c->reason : "skipped");
		fputs("/>\n", f);
		break;
	case EB_OUT_NON_STRICT:
	case EB_OUT_PASS:
		break;
	}
	if (c->outcome == EB_OUT_NON_STRICT) {
		fputs("      <system-out>NON-STRICT: a SHOULD requirement was not met; the case counts "
		      "as passed (run with --strict to fail it).\n", f);
		details(f, c);
		wire_lines(f, c->wire);
		fputs("</system-out>\n", f);
	} else if (c->outcome == EB_OUT_FAIL || c->outcome == EB_OUT_ERROR) {
		if (c->wire) {
			fputs("      <system-out>", f);
			wire_lines(f, c->wire);
			fputs("</system-out>\n", f);
		}
	}
	fputs("    </testcase>\n", f);
}

static void suite(FILE *f, const eb_report *r, const eb_rpt_case *const *v, size_t n,
		  const char *cat, const char *when)
{
	size_t counts[EB_RPT_N_OUTCOMES] = { 0 }, total = 0, i;
	double ms = 0;
	char num[32];

	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->category, cat) != 0)
			continue;
		counts[v[i]->outcome]++;
		total++;
		ms += v[i]->duration_ms;
	}
	fputs("  <testsuite", f);
	attr(f, "name", cat);
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"", total,
		counts[EB_OUT_FAIL], counts[EB_OUT_ERROR], counts[EB_OUT_SKIP]);
	snprintf(num, sizeof(num), "%.3f", ms / 1000.0);
	attr(f, "time", num);
	attr(f, "timestamp", when);
	fputs(">\n    <properties>\n", f);
	property(f, "tool", r->tool);
	property(f, "toolVersion", r->tool_version);
	property(f, "target", r->target);
	property(f, "command", r->command);
	pthread_mutex_lock(&r->sync->lock);
	for (i = 0; i < r->n_meta; i++)
		property(f, r->meta_key[i], r->meta_val[i]);
	pthread_mutex_unlock(&r->sync->lock);
	fputs("    </properties>\n", f);
	for (i = 0; i < n; i++)
		if (strcmp(v[i]->category, cat) == 0)
			testcase(f, r, v[i]);
	fputs("  </testsuite>\n", f);
}

/* The INCOMPLETE mark: one error case per case not run. */
static void incomplete_suite(FILE *f, const eb_report *r, size_t n_inc)
{
	const char *why = eb_report_incomplete(r);
	size_t i, listed = eb_report_not_run_count(r);

	fprintf(f, "  <testsuite name=\"incomplete\" tests=\"%zu\" failures=\"0\" errors=\"%zu\" "
		"skipped=\"0\">\n", n_inc, n_inc);
	for (i = 0; i < n_inc; i++) {
		fputs("    <testcase classname=\"incomplete\"", f);
		attr(f, "name", i < listed ? eb_report_not_run(r, i) : "run");
		fputs(">\n      <error type=\"INCOMPLETE\"", f);
		attr(f, "message", why);
		fputs("/>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

int eb_report_write_junit(const eb_report *r, const char *path, char *errbuf, size_t errlen)
{
	const eb_rpt_case **v = NULL;
	const char **cats = NULL;
	size_t n = 0, n_cat = 0, counts[EB_RPT_N_OUTCOMES], i, n_inc;
	bool oom = false;
	eb_rpt_out out;
	char when[40], num[32];
	FILE *f;

	if (!r) {
		eb_rpt_err(errbuf, errlen, "no report");
		return -1;
	}
	v = eb_rpt_sorted(r, &n, &oom);
	if (!oom && n)
		cats = eb_rpt_categories(v, n, &n_cat);
	if (oom || (n && !cats)) {
		eb_rpt_err(errbuf, errlen, "out of memory writing the JUnit report");
		free(v);
		return -1;
	}
	if (eb_rpt_open(&out, path, errbuf, errlen) != 0) {
		free(cats);
		free(v);
		return -1;
	}
	f = out.f;
	eb_rpt_count(v, n, counts);
	/* JUnit's timestamp is an ISO 8601 time without zone or fraction (as
	 * Ant and Jenkins write it); ours is UTC. */
	eb_rpt_time_iso(r->started_ms, when, sizeof(when));
	when[19] = '\0';
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	attr(f, "name", r->tool[0] ? r->tool : "earlybird");
	/* An incomplete run adds one error case per case not run (plus one for
	 * the run when none is listed), so CI never reads it as green. */
	n_inc = eb_report_incomplete(r) ? eb_report_not_run_count(r) : 0;
	if (eb_report_incomplete(r) && n_inc == 0)
		n_inc = 1;
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"", n + n_inc,
		counts[EB_OUT_FAIL], counts[EB_OUT_ERROR] + n_inc, counts[EB_OUT_SKIP]);
	snprintf(num, sizeof(num), "%.3f", eb_report_duration_ms(r) / 1000.0);
	attr(f, "time", num);
	attr(f, "timestamp", when);
	fputs(">\n", f);
	for (i = 0; i < n_cat; i++)
		suite(f, r, v, n, cats[i], when);
	if (n_inc)
		incomplete_suite(f, r, n_inc);
	fputs("</testsuites>\n", f);
	free(cats);
	free(v);
	return eb_rpt_close(&out, true, errbuf, errlen);
}
