/*
 * eb_report_html.c — one self-contained HTML file (inline CSS, no script, no
 * external assets) that a user can attach to a bug report: verdict, counts,
 * a table per category, the coverage matrix over every rule of
 * docs/PROTOCOL.md, and per-case details with the wire log as a timeline.
 */
#include "eb_report_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eb_html.h"

#define esc eb_html_escape

/* Fragment ids: the case or rule id with anything but [A-Za-z0-9._:/-]
 * replaced, so links stay valid whatever a case id holds. */
static void anchor(FILE *f, const char *prefix, const char *id)
{
	const unsigned char *u = (const unsigned char *)id;

	fputs(prefix, f);
	for (; *u; u++) {
		bool ok = (*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
			  (*u >= '0' && *u <= '9') || strchr("._:/-", *u);

		fputc(ok ? *u : '_', f);
	}
}

static void badge(FILE *f, eb_outcome o)
{
	fprintf(f, "<span class=\"badge %s\">%s</span>", eb_rpt_outcome_class(o),
		eb_outcome_name(o));
}

static void case_link(FILE *f, const eb_rpt_case *c)
{
	fputs("<a href=\"#", f);
	anchor(f, "case-", c->id);
	fputs("\">", f);
	esc(f, c->id);
	fputs("</a>", f);
}

static void rule_link(FILE *f, const char *id)
{
	fputs("<a href=\"#", f);
	anchor(f, "rule-", id);
	fputs("\"", f);
	if (eb_rule_find(id)) {
		fputs(" title=\"", f);
		esc(f, eb_rule_find(id)->text);
		fputs("\"", f);
	}
	fputs(">", f);
	esc(f, id);
	fputs("</a>", f);
}

static void header(FILE *f, const eb_report *r, const size_t counts[EB_RPT_N_OUTCOMES],
		   size_t n)
{
	eb_outcome verdict = counts[EB_OUT_FAIL] ? EB_OUT_FAIL :
			     counts[EB_OUT_ERROR] ? EB_OUT_ERROR : EB_OUT_PASS;
	char when[40];
	size_t i;

	eb_rpt_time_iso(r->started_ms, when, sizeof(when));
	fputs("<header>\n<h1>", f);
	esc(f, r->tool[0] ? r->tool : "Early Bird");
	fputs(" report</h1>\n", f);
	/* The verdict comes before the run's metadata: it is what a reader opens
	 * the page for. */
	if (eb_report_incomplete(r)) {
		size_t k, nr = eb_report_not_run_count(r);

		fputs("<div class=\"verdict error\">VERDICT: INCOMPLETE</div>\n<p class=\"lead\">", f);
		esc(f, eb_report_incomplete(r));
		fprintf(f, ". %zu case(s) not run", nr);
		for (k = 0; k < nr; k++) {
			fputs(k ? ", " : ": ", f);
			fputs("<code>", f);
			esc(f, eb_report_not_run(r, k));
			fputs("</code>", f);
		}
		fputs(".</p>\n", f);
	} else {
		fprintf(f, "<div class=\"verdict %s\">VERDICT: %s</div>\n",
			eb_rpt_outcome_class(verdict), eb_outcome_name(verdict));
	}
	fprintf(f, "<p class=\"lead\">%zu cases: ", n);
	if (verdict == EB_OUT_FAIL)
		fprintf(f, "%zu failed (a MUST broken, or a SHOULD under --strict)",
			counts[EB_OUT_FAIL]);
	else if (verdict == EB_OUT_ERROR)
		fprintf(f, "none failed, but %zu could not run to a verdict", counts[EB_OUT_ERROR]);
	else
		fputs("none failed", f);
	if (counts[EB_OUT_FAIL] && counts[EB_OUT_ERROR])
		fprintf(f, ", %zu could not run to a verdict", counts[EB_OUT_ERROR]);
	if (counts[EB_OUT_NON_STRICT])
		fprintf(f, ", %zu SHOULD not met", counts[EB_OUT_NON_STRICT]);
	if (counts[EB_OUT_SKIP])
		fprintf(f, ", %zu skipped", counts[EB_OUT_SKIP]);
	fputs(".</p>\n<dl class=\"kv\">\n", f);
	fputs("<dt>target</dt><dd><code>", f);
	esc(f, r->target);
	fputs("</code></dd>\n<dt>started</dt><dd>", f);
	esc(f, when);
	fprintf(f, "</dd>\n<dt>duration</dt><dd>%.1f s</dd>\n", eb_report_duration_ms(r) / 1000.0);
	if (r->tool_version[0]) {
		fputs("<dt>version</dt><dd>", f);
		esc(f, r->tool_version);
		fputs("</dd>\n", f);
	}
	if (r->command[0]) {
		fputs("<dt>command</dt><dd><code>", f);
		esc(f, r->command);
		fputs("</code></dd>\n", f);
	}
	pthread_mutex_lock(&r->sync->lock);
	for (i = 0; i < r->n_meta; i++) {
		fputs("<dt>", f);
		esc(f, r->meta_key[i]);
		fputs("</dt><dd>", f);
		esc(f, r->meta_val[i]);
		fputs("</dd>\n", f);
	}
	pthread_mutex_unlock(&r->sync->lock);
	fputs("</dl>\n</header>\n", f);
}

/* Outcomes a reader has to act on, in the order they are listed: failures,
 * then cases that could not run, then SHOULDs not met. */
static const eb_outcome problem_order[] = { EB_OUT_FAIL, EB_OUT_ERROR, EB_OUT_NON_STRICT };
#define N_PROBLEM_KINDS (sizeof(problem_order) / sizeof(problem_order[0]))

static bool is_problem(eb_outcome o)
{
	return o == EB_OUT_FAIL || o == EB_OUT_ERROR || o == EB_OUT_NON_STRICT;
}

/* One row per failed, erroring or non-strict case right under the verdict,
 * so the first screen says what broke and links to the evidence. */
static void problems(FILE *f, const eb_rpt_case *const *v, size_t n,
		     const size_t counts[EB_RPT_N_OUTCOMES])
{
	size_t i, k, total = 0;

	for (k = 0; k < N_PROBLEM_KINDS; k++)
		total += counts[problem_order[k]];
	if (!total)
		return;
	fprintf(f, "<h2 id=\"problems\">%s (%zu)</h2>\n", total == counts[EB_OUT_FAIL] ?
		"Failures" : "Failures, errors and SHOULDs not met", total);
	fputs("<table class=\"grid problems\"><thead><tr><th>outcome</th><th>case</th>"
	      "<th>failed rule</th><th>reason</th></tr></thead><tbody>\n", f);
	for (k = 0; k < N_PROBLEM_KINDS; k++) {
		for (i = 0; i < n; i++) {
			const eb_rpt_case *c = v[i];
			const eb_rule *rule;

			if (c->outcome != problem_order[k])
				continue;
			rule = eb_rule_find(c->failed_rule);
			fprintf(f, "<tr class=\"%s\"><td>", eb_rpt_outcome_class(c->outcome));
			badge(f, c->outcome);
			fputs("</td><td class=\"id\">", f);
			case_link(f, c);
			fputs("</td><td class=\"id\">", f);
			if (c->failed_rule && c->failed_rule[0]) {
				rule_link(f, c->failed_rule);
				if (rule) {
					fputs(" <span class=\"muted\">", f);
					esc(f, rule->level);
					fputs("</span>", f);
				}
			}
			fputs("</td><td>", f);
			esc(f, c->reason ? c->reason : "");
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</tbody></table>\n", f);
}

static void summary(FILE *f, const eb_rpt_case *const *v, size_t n,
		    const size_t counts[EB_RPT_N_OUTCOMES], const char *const *cats, size_t n_cat)
{
	size_t i, j;

	fputs("<h2 id=\"summary\">Summary</h2>\n<div class=\"counts\">\n", f);
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++) {
		fprintf(f, "<div%s><b>%zu</b>", counts[i] ? "" : " class=\"zero\"", counts[i]);
		badge(f, (eb_outcome)i);
		fputs("</div>\n", f);
	}
	fprintf(f, "<div><b>%zu</b>total</div>\n</div>\n", n);
	if (!n_cat)
		return;
	fputs("<table class=\"grid\"><thead><tr><th>category</th>", f);
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++)
		fprintf(f, "<th class=\"num\">%s</th>", eb_outcome_name((eb_outcome)i));
	fputs("<th class=\"num\">total</th></tr></thead><tbody>\n", f);
	for (i = 0; i < n_cat; i++) {
		size_t cc[EB_RPT_N_OUTCOMES] = { 0 }, total = 0;

		for (j = 0; j < n; j++) {
			if (strcmp(v[j]->category, cats[i]) == 0) {
				cc[v[j]->outcome]++;
				total++;
			}
		}
		fputs("<tr><td><a href=\"#", f);
		anchor(f, "cat-", cats[i]);
		fputs("\">", f);
		esc(f, cats[i]);
		fputs("</a></td>", f);
		for (j = 0; j < EB_RPT_N_OUTCOMES; j++)
			fprintf(f, "<td class=\"num%s\">%zu</td>",
				!cc[j] ? " zero" : is_problem((eb_outcome)j) ? " hot" : "", cc[j]);
		fprintf(f, "<td class=\"num\">%zu</td></tr>\n", total);
	}
	fputs("</tbody></table>\n", f);
}

static void category_tables(FILE *f, const eb_rpt_case *const *v, size_t n,
			    const char *const *cats, size_t n_cat)
{
	size_t i, j, k;

	fputs("<h2 id=\"cases\">Cases by category</h2>\n", f);
	for (i = 0; i < n_cat; i++) {
		fputs("<h3 id=\"", f);
		anchor(f, "cat-", cats[i]);
		fputs("\">", f);
		esc(f, cats[i]);
		fputs("</h3>\n<table class=\"grid\"><thead><tr><th>case</th><th>title</th>"
		      "<th>level</th><th>rules</th><th>outcome</th></tr></thead><tbody>\n", f);
		for (j = 0; j < n; j++) {
			const eb_rpt_case *c = v[j];

			if (strcmp(c->category, cats[i]) != 0)
				continue;
			if (is_problem(c->outcome))
				fprintf(f, "<tr class=\"%s\"><td class=\"id\">",
					eb_rpt_outcome_class(c->outcome));
			else
				fputs("<tr><td class=\"id\">", f);
			case_link(f, c);
			fputs("</td><td>", f);
			esc(f, c->title);
			fputs("</td><td class=\"nw\">", f);
			esc(f, c->level ? c->level : "");
			fputs("</td><td>", f);
			for (k = 0; k < c->n_rules; k++) {
				if (k)
					fputs(", ", f);
				rule_link(f, c->rules[k]);
			}
			fputs("</td><td>", f);
			badge(f, c->outcome);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
}

/* A rule's status in the matrix (eb_rpt_rule_status), so 130-odd rows can
 * be scanned by colour. */
static eb_outcome rule_status(const eb_rpt_cov *row)
{
	return eb_rpt_rule_status(row);
}

static void coverage(FILE *f, const eb_rpt_cov *cov, size_t n_cov)
{
	size_t i, j, covered = 0, uncovered = 0, unknown = 0;
	const char *section = NULL;

	for (i = 0; i < n_cov; i++) {
		if (!cov[i].rule)
			unknown++;
		else if (cov[i].n)
			covered++;
		else
			uncovered++;
	}
	fputs("<h2 id=\"coverage\">Requirement coverage</h2>\n", f);
	fprintf(f, "<p>%zu of %zu rules of docs/PROTOCOL.md are checked by at least one case; "
		"<a href=\"#uncovered\">%zu are not</a>.</p>\n", covered, eb_rules_count, uncovered);
	fputs("<table class=\"grid cov\"><thead><tr><th>rule</th><th>level</th><th>requirement</th>"
	      "<th>status</th><th>cases</th></tr></thead><tbody>\n", f);
	for (i = 0; i < n_cov; i++) {
		const eb_rpt_cov *row = &cov[i];

		if (!row->rule)
			continue;
		if (!section || strcmp(section, row->rule->section) != 0) {
			section = row->rule->section;
			fputs("<tr class=\"sec\"><th colspan=\"5\">", f);
			esc(f, section);
			fputs("</th></tr>\n", f);
		}
		fputs("<tr id=\"", f);
		anchor(f, "rule-", row->id);
		fputs("\"><td><b>", f);
		esc(f, row->id);
		fputs("</b></td><td class=\"nw\">", f);
		esc(f, row->rule->level);
		fputs("</td><td>", f);
		esc(f, row->rule->text);
		fputs("</td><td class=\"nw\">", f);
		if (row->n)
			badge(f, rule_status(row));
		else
			fputs("<span class=\"badge none\">NOT COVERED</span>", f);
		fputs("</td><td>", f);
		for (j = 0; j < row->n; j++) {
			fputs("<span class=\"ci\">", f);
			case_link(f, row->cases[j]);
			fputc(' ', f);
			badge(f, row->cases[j]->outcome);
			fputs("</span>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);

	fprintf(f, "<h3 id=\"uncovered\">Rules no case covers (%zu)</h3>\n", uncovered);
	if (uncovered) {
		fputs("<ul>\n", f);
		for (i = 0; i < n_cov; i++) {
			if (!cov[i].rule || cov[i].n)
				continue;
			fputs("<li><b>", f);
			esc(f, cov[i].id);
			fputs("</b> (", f);
			esc(f, cov[i].rule->level);
			fputs(") ", f);
			esc(f, cov[i].rule->text);
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	} else {
		fputs("<p>Every rule is covered.</p>\n", f);
	}
	if (!unknown)
		return;
	fprintf(f, "<h3 id=\"unknown-rules\">Rule ids cited by cases but not in docs/PROTOCOL.md (%zu)</h3>\n<ul>\n",
		unknown);
	for (i = 0; i < n_cov; i++) {
		if (cov[i].rule)
			continue;
		fputs("<li id=\"", f);
		anchor(f, "rule-", cov[i].id);
		fputs("\"><b>", f);
		esc(f, cov[i].id);
		fputs("</b>: ", f);
		for (j = 0; j < cov[i].n; j++) {
			if (j)
				fputs(", ", f);
			case_link(f, cov[i].cases[j]);
		}
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void kv_text(FILE *f, const char *key, const char *value)
{
	if (!value || !value[0])
		return;
	fputs("<dt>", f);
	esc(f, key);
	fputs("</dt><dd>", f);
	esc(f, value);
	fputs("</dd>\n", f);
}

static void pre_block(FILE *f, const char *key, const char *value)
{
	if (!value || !value[0])
		return;
	fputs("<div><b>", f);
	esc(f, key);
	fputs("</b><pre>", f);
	esc(f, value);
	fputs("</pre></div>\n", f);
}

/* Wire text shown per passing or skipped case: the page stays small enough
 * to open when a run logged megabytes of traffic that all went right; the
 * JSON report keeps every entry. Failures are always shown whole. */
#define PASSING_WIRE_BUDGET (64u * 1024u)

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f');
}

/* Wire text with the wire log's \xNN escapes dimmed: every HTTP header line
 * ends in \x0D, which in full colour buries the headers themselves. The
 * characters stay as they are, so copied text reads like the JSON report. */
static void wire_text(FILE *f, const char *s)
{
	const char *run = s, *p = s;

	while (*p) {
		if (p[0] == '\\' && p[1] == 'x' && is_hex(p[2]) && is_hex(p[3])) {
			eb_html_escape_n(f, run, (size_t)(p - run));
			fputs("<span class=\"esc\">", f);
			eb_html_escape_n(f, p, 4);
			fputs("</span>", f);
			p += 4;
			run = p;
		} else {
			p++;
		}
	}
	eb_html_escape_n(f, run, (size_t)(p - run));
}

static void wire_table(FILE *f, const eb_wirelog *w, size_t budget)
{
	size_t shown_bytes = 0;
	static const char *const cls[] = { "out", "in", "note" };
	/* &#8594; right arrow: harness to target; &#8592; back; &#8226; a note */
	static const char *const arrows[] = { "&#8594;", "&#8592;", "&#8226;" };
	size_t i, n = eb_wirelog_count(w);

	if (!w)
		return;
	fprintf(f, "<div><b>wire log</b> <span class=\"muted\">(%zu entries; &#8594; sent, "
		"&#8592; received, times from the case's start)</span>\n<table class=\"wire\">\n", n);
	for (i = 0; i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		unsigned d = (unsigned)e->dir <= EB_WIRE_NOTE ? (unsigned)e->dir : EB_WIRE_NOTE;

		shown_bytes += strlen(e->text);
		if (shown_bytes > budget) {
			fprintf(f, "<tr class=\"note\"><td></td><td></td><td></td><td>%zu more entries "
				"left out of this page (the case passed); the JSON report has "
				"them</td></tr>\n", n - i);
			break;
		}

		fprintf(f, "<tr class=\"%s\"><td class=\"t\">+%.3f ms</td><td class=\"d\">%s</td><td>",
			cls[d], (double)e->t_us / 1000.0, arrows[d]);
		esc(f, e->proto);
		if (e->conn >= 0)
			fprintf(f, " #%d", e->conn);
		fputs("</td><td class=\"x\">", f);
		wire_text(f, e->text);
		fputs("</td></tr>\n", f);
	}
	if (eb_wirelog_dropped(w))
		fprintf(f, "<tr class=\"note\"><td></td><td></td><td></td><td>%zu more entries "
			"dropped: the wire log was full</td></tr>\n", eb_wirelog_dropped(w));
	fputs("</table></div>\n", f);
}

static void case_detail(FILE *f, const eb_rpt_case *c)
{
	size_t k;
	const eb_rule *rule = eb_rule_find(c->failed_rule);
	char num[32];

	fputs("<details id=\"", f);
	anchor(f, "case-", c->id);
	fputc('"', f);
	if (c->outcome == EB_OUT_FAIL || c->outcome == EB_OUT_ERROR)
		fputs(" open", f);
	fputs("><summary>", f);
	badge(f, c->outcome);
	fputs(" <b>", f);
	esc(f, c->id);
	fputs("</b> ", f);
	esc(f, c->title);
	fputs("</summary>\n<dl class=\"kv\">\n", f);
	kv_text(f, "category", c->category);
	kv_text(f, "level", c->level);
	if (c->n_rules) {
		fputs("<dt>rules</dt><dd>", f);
		for (k = 0; k < c->n_rules; k++) {
			if (k)
				fputs(", ", f);
			rule_link(f, c->rules[k]);
		}
		fputs("</dd>\n", f);
	}
	if (c->n_tags) {
		fputs("<dt>tags</dt><dd>", f);
		for (k = 0; k < c->n_tags; k++) {
			if (k)
				fputs(", ", f);
			esc(f, c->tags[k]);
		}
		fputs("</dd>\n", f);
	}
	snprintf(num, sizeof(num), "%.3f ms", c->duration_ms);
	kv_text(f, "duration", num);
	if (c->failed_rule && c->failed_rule[0]) {
		fputs("<dt>failed rule</dt><dd>", f);
		rule_link(f, c->failed_rule);
		if (rule) {
			fputs(" (", f);
			esc(f, rule->level);
			fputs(") ", f);
			esc(f, rule->text);
		}
		fputs("</dd>\n", f);
	}
	kv_text(f, "reason", c->reason);
	fputs("</dl>\n", f);
	pre_block(f, "expected", c->expected);
	pre_block(f, "actual", c->actual);
	pre_block(f, "rerun", c->rerun);
	if (c->timeline) {
		/* Client cases: the server's view of the client on a time axis,
		 * against the windows the spec expects (eb_timeline.h). */
		fputs("<div><b>timeline</b> <span class=\"muted\">(what the case's server saw, "
		      "per client; shaded: expected windows; hover for details)</span><br>\n", f);
		eb_timeline_write_svg(c->timeline, f);
		fputs("</div>\n", f);
	}
	wire_table(f, c->wire, c->outcome == EB_OUT_PASS || c->outcome == EB_OUT_SKIP ?
			       PASSING_WIRE_BUDGET : SIZE_MAX);
	fputs("</details>\n", f);
}

/* Failing, erroring and non-strict cases come first, in that order, so the
 * open blocks are not scattered among a hundred passing ones; then every
 * other case in the report's order. */
static void case_details(FILE *f, const eb_rpt_case *const *v, size_t n)
{
	size_t i, k;

	fputs("<h2 id=\"details\">Case details</h2>\n", f);
	for (k = 0; k < N_PROBLEM_KINDS; k++)
		for (i = 0; i < n; i++)
			if (v[i]->outcome == problem_order[k])
				case_detail(f, v[i]);
	for (i = 0; i < n; i++)
		if (!is_problem(v[i]->outcome))
			case_detail(f, v[i]);
}

int eb_report_write_html(const eb_report *r, const char *path, char *errbuf, size_t errlen)
{
	const eb_rpt_case **v = NULL;
	const char **cats = NULL;
	eb_rpt_cov *cov = NULL;
	size_t n = 0, n_cat = 0, n_cov = 0, counts[EB_RPT_N_OUTCOMES];
	bool oom = false;
	eb_rpt_out out;
	FILE *f;
	int rc = -1;
	char footer[160];

	if (!r) {
		eb_rpt_err(errbuf, errlen, "no report");
		return -1;
	}
	v = eb_rpt_sorted(r, &n, &oom);
	if (!oom && n)
		cats = eb_rpt_categories(v, n, &n_cat);
	if (oom || (n && !cats) || eb_rpt_coverage(v, n, &cov, &n_cov) != 0) {
		eb_rpt_err(errbuf, errlen, "out of memory writing the HTML report");
		goto out;
	}
	if (eb_rpt_open(&out, path, errbuf, errlen) != 0)
		goto out;
	f = out.f;
	eb_rpt_count(v, n, counts);
	eb_html_page_begin(f, r->target[0] ? r->target : r->tool, NULL);
	header(f, r, counts, n);
	fputs("<nav class=\"muted\">", f);
	if (counts[EB_OUT_FAIL] || counts[EB_OUT_ERROR] || counts[EB_OUT_NON_STRICT])
		fputs("<a href=\"#problems\">failures</a> · ", f);
	fputs("<a href=\"#summary\">summary</a> · <a href=\"#cases\">cases</a>"
	      " · <a href=\"#coverage\">coverage</a> · <a href=\"#uncovered\">uncovered rules</a>"
	      " · <a href=\"#details\">details</a></nav>\n", f);
	problems(f, v, n, counts);
	summary(f, v, n, counts, cats, n_cat);
	category_tables(f, v, n, cats, n_cat);
	coverage(f, cov, n_cov);
	case_details(f, v, n);
	snprintf(footer, sizeof(footer), "Written by %s %s; schema %s.", r->tool,
		 r->tool_version, EB_RPT_SCHEMA);
	eb_html_page_end(f, footer);
	rc = eb_rpt_close(&out, true, errbuf, errlen);
out:
	eb_rpt_coverage_free(cov, n_cov);
	free(cats);
	free(v);
	return rc;
}
