/*
 * eb_report_console.c — what a person sees in a terminal or a CI log: a
 * progress line while the run goes, then a summary that starts with what
 * broke (rule, the spec's own sentence, expected/actual, how to rerun) and
 * ends with one verdict line.
 */
#include "eb_report_priv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_time.h"

/* Non-tty outputs (CI logs) get a line at most this often. */
#define PROGRESS_EVERY_NS 2000000000ull
/* A tty line is rewritten at most this often, so fast runs do not spend
 * their time repainting. */
#define PROGRESS_TTY_NS 100000000ull

typedef struct con {
	FILE *f;
	bool color;
} con;

static const char *const outcome_color[EB_RPT_N_OUTCOMES] = {
	"\033[32m", "\033[1;31m", "\033[33m", "\033[36m", "\033[1;35m"
};

static bool is_tty(FILE *f)
{
	int fd = fileno(f);

	return fd >= 0 && isatty(fd);
}

static const char *col(const con *c, eb_outcome o)
{
	return c->color && (unsigned)o < EB_RPT_N_OUTCOMES ? outcome_color[o] : "";
}

static const char *reset(const con *c)
{
	return c->color ? "\033[0m" : "";
}

static const char *bold(const con *c)
{
	return c->color ? "\033[1m" : "";
}

/* Prints s with control characters (escape sequences from a target above
 * all) shown as \xNN; each newline is followed by indent. */
static void put_text(FILE *f, const char *s, const char *indent)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");

	for (; *u; u++) {
		if (*u == '\n') {
			fputc('\n', f);
			if (u[1])
				fputs(indent, f);
		} else if (*u == '\t' || *u >= 0x20) {
			fputc(*u == 0x7F ? '?' : *u, f);
		} else {
			fprintf(f, "\\x%02X", *u);
		}
	}
}

static void field(const con *c, const char *name, const char *value)
{
	static const char indent[] = "                ";

	if (!value || !value[0])
		return;
	fprintf(c->f, "      %s%-9s%s ", bold(c), name, reset(c));
	put_text(c->f, value, indent);
	fputc('\n', c->f);
}

void eb_report_console_progress(const eb_report *r, FILE *out, size_t total)
{
	eb_rpt_sync *s;
	size_t counts[EB_RPT_N_OUTCOMES], done, i;
	uint64_t now;
	bool tty, final, print;
	char line[256];
	int n;

	if (!r || !out)
		return;
	s = r->sync;
	tty = is_tty(out);
	now = eb_time_mono_ns();
	pthread_mutex_lock(&s->lock);
	done = r->n_cases;
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++)
		counts[i] = r->counts[i];
	final = total > 0 && done >= total;
	if (final)
		print = !s->progress_final;
	else if (tty)
		print = s->last_progress_ns == 0 || now - s->last_progress_ns >= PROGRESS_TTY_NS;
	else
		print = now - (s->last_progress_ns ? s->last_progress_ns : r->start_mono_ns) >=
			PROGRESS_EVERY_NS;
	if (!print) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->last_progress_ns = now;
	if (final)
		s->progress_final = true;
	if (total)
		n = snprintf(line, sizeof(line), "[%*zu/%zu] %3zu%%", total >= 1000 ? 4 : 3,
			     done, total, done * 100 / total);
	else
		n = snprintf(line, sizeof(line), "[%zu]", done);
	if (n < 0)
		n = 0;
	for (i = 0; i < EB_RPT_N_OUTCOMES && (size_t)n < sizeof(line); i++) {
		char name[16];
		size_t k;

		/* lower-case names read as counts, not verdicts */
		for (k = 0; eb_outcome_name((eb_outcome)i)[k] && k < sizeof(name) - 1; k++) {
			char ch = eb_outcome_name((eb_outcome)i)[k];

			name[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
		}
		name[k] = '\0';
		n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s %zu", name, counts[i]);
	}
	if ((size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, "  %.1fs",
			 (double)(now - r->start_mono_ns) / 1e9);
	if (tty) {
		/* \033[K clears what a longer previous line left behind */
		fprintf(out, "\r%s\033[K", line);
		s->progress_open = !final;
		if (final)
			fputc('\n', out);
	} else {
		fprintf(out, "%s\n", line);
	}
	fflush(out);
	pthread_mutex_unlock(&s->lock);
}

static void print_wire(const con *c, const eb_wirelog *w)
{
	static const char indent[] = "                              ";
	size_t i, n = eb_wirelog_count(w);

	if (!w)
		return;
	fprintf(c->f, "      %swire%s\n", bold(c), reset(c));
	for (i = 0; i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		const char *arrow = e->dir == EB_WIRE_OUT ? "->" : e->dir == EB_WIRE_IN ? "<-" : "**";
		char conn[16] = "";

		if (e->conn >= 0)
			snprintf(conn, sizeof(conn), "#%d", e->conn);
		fprintf(c->f, "        +%9.3f ms %s %-4s %-3s ", (double)e->t_us / 1000.0,
			arrow, e->proto, conn);
		put_text(c->f, e->text, indent);
		fputc('\n', c->f);
	}
	if (eb_wirelog_dropped(w))
		fprintf(c->f, "        [%zu more entries dropped: wire log full]\n",
			eb_wirelog_dropped(w));
}

static void print_case(const con *c, const eb_rpt_case *k, bool verbose)
{
	const eb_rule *rule = eb_rule_find(k->failed_rule);

	fprintf(c->f, "  %s%-10s%s %s", col(c, k->outcome), eb_outcome_name(k->outcome),
		reset(c), bold(c));
	put_text(c->f, k->id, "");
	fputs(reset(c), c->f);
	if (k->title[0]) {
		fputs("  ", c->f);
		put_text(c->f, k->title, "");
	}
	fputc('\n', c->f);
	if (k->failed_rule && k->failed_rule[0]) {
		fprintf(c->f, "      %s%-9s%s ", bold(c), "rule", reset(c));
		put_text(c->f, k->failed_rule, "");
		if (rule) {
			fprintf(c->f, " (%s) ", rule->level);
			put_text(c->f, rule->text, "");
		} else {
			fputs(" (not a rule of docs/PROTOCOL.md)", c->f);
		}
		fputc('\n', c->f);
	} else if (k->n_rules) {
		size_t i;

		fprintf(c->f, "      %s%-9s%s ", bold(c), "rules", reset(c));
		for (i = 0; i < k->n_rules; i++) {
			put_text(c->f, k->rules[i], "");
			fputs(i + 1 < k->n_rules ? ", " : "\n", c->f);
		}
	}
	field(c, "reason", k->reason);
	field(c, "expected", k->expected);
	field(c, "actual", k->actual);
	field(c, "rerun", k->rerun);
	if (verbose)
		print_wire(c, k->wire);
}

static void print_section(const con *c, const eb_rpt_case *const *v, size_t n,
			  eb_outcome o, const char *heading, size_t count, bool verbose)
{
	size_t i;

	if (count == 0)
		return;
	fprintf(c->f, "\n%s%s (%zu)%s\n", bold(c), heading, count, reset(c));
	for (i = 0; i < n; i++)
		if (v[i]->outcome == o)
			print_case(c, v[i], verbose);
}

static void print_counts(const con *c, const eb_rpt_case *const *v, size_t n,
			 const size_t counts[EB_RPT_N_OUTCOMES])
{
	const char **cats;
	size_t n_cat = 0, i, j, w = 8;

	fprintf(c->f, "\n%sOutcomes%s   ", bold(c), reset(c));
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++)
		fprintf(c->f, "%s%zu %s%s%s", i ? ", " : "", counts[i],
			counts[i] ? col(c, (eb_outcome)i) : "", eb_outcome_name((eb_outcome)i),
			counts[i] ? reset(c) : "");
	fprintf(c->f, "  (%zu cases)\n", n);

	cats = eb_rpt_categories(v, n, &n_cat);
	if (!cats)
		return;
	for (i = 0; i < n_cat; i++)
		if (strlen(cats[i]) > w)
			w = strlen(cats[i]);
	fprintf(c->f, "\n  %-*s", (int)w, "category");
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++)
		fprintf(c->f, " %10s", eb_outcome_name((eb_outcome)i));
	fputc('\n', c->f);
	for (i = 0; i < n_cat; i++) {
		size_t cc[EB_RPT_N_OUTCOMES] = { 0 };

		for (j = 0; j < n; j++)
			if (strcmp(v[j]->category, cats[i]) == 0)
				cc[v[j]->outcome]++;
		fputs("  ", c->f);
		put_text(c->f, cats[i], "");
		fprintf(c->f, "%*s", (int)(w - strlen(cats[i])), "");
		for (j = 0; j < EB_RPT_N_OUTCOMES; j++)
			fprintf(c->f, " %10zu", cc[j]);
		fputc('\n', c->f);
	}
	free(cats);
}

void eb_report_console_summary(const eb_report *r, FILE *out, bool verbose)
{
	const eb_rpt_case **v;
	size_t n = 0, counts[EB_RPT_N_OUTCOMES];
	con c;
	bool oom = false;
	eb_outcome verdict;
	size_t i;

	if (!r || !out)
		return;
	c.f = out;
	c.color = is_tty(out) && !getenv("NO_COLOR");
	pthread_mutex_lock(&r->sync->lock);
	if (r->sync->progress_open) {
		fputc('\n', out);
		r->sync->progress_open = false;
	}
	pthread_mutex_unlock(&r->sync->lock);

	v = eb_rpt_sorted(r, &n, &oom);
	if (oom) {
		fputs("report: out of memory while writing the summary\n", out);
		return;
	}
	eb_rpt_count(v, n, counts);

	fprintf(out, "\n%s", bold(&c));
	put_text(out, r->tool, "");
	if (r->tool_version[0]) {
		fputc(' ', out);
		put_text(out, r->tool_version, "");
	}
	fprintf(out, "%s", reset(&c));
	if (r->target[0]) {
		fputs(" against ", out);
		put_text(out, r->target, "");
	}
	fprintf(out, ", %.1f s\n", eb_report_duration_ms(r) / 1000.0);

	print_section(&c, v, n, EB_OUT_FAIL, "Failures", counts[EB_OUT_FAIL], verbose);
	print_section(&c, v, n, EB_OUT_ERROR, "Errors (the case could not run to a verdict)",
		      counts[EB_OUT_ERROR], verbose);
	print_section(&c, v, n, EB_OUT_NON_STRICT, "Non-strict (a SHOULD not met)",
		      counts[EB_OUT_NON_STRICT], verbose);
	if (verbose) {
		print_section(&c, v, n, EB_OUT_SKIP, "Skipped", counts[EB_OUT_SKIP], false);
	} else if (counts[EB_OUT_SKIP]) {
		fprintf(out, "\n%sSkipped (%zu)%s\n", bold(&c), counts[EB_OUT_SKIP], reset(&c));
		for (i = 0; i < n; i++) {
			if (v[i]->outcome != EB_OUT_SKIP)
				continue;
			fputs("  ", out);
			put_text(out, v[i]->id, "");
			fputs(": ", out);
			put_text(out, v[i]->reason ? v[i]->reason : "", "    ");
			fputc('\n', out);
		}
	}
	print_counts(&c, v, n, counts);

	verdict = counts[EB_OUT_FAIL] ? EB_OUT_FAIL : counts[EB_OUT_ERROR] ? EB_OUT_ERROR : EB_OUT_PASS;
	if (eb_report_incomplete(r)) {
		size_t k, nr = eb_report_not_run_count(r);

		fprintf(out, "\n%sVERDICT: INCOMPLETE%s — ", col(&c, EB_OUT_ERROR), reset(&c));
		put_text(out, eb_report_incomplete(r), "");
		fprintf(out, "; %zu case(s) ran, %zu not run", n, nr);
		for (k = 0; k < nr && k < 20; k++) {
			fputs(k ? ", " : ": ", out);
			put_text(out, eb_report_not_run(r, k), "");
		}
		if (nr > 20)
			fprintf(out, ", … (%zu more in the reports)", nr - 20);
		fputs("\n  of the cases that ran: ", out);
	} else {
		fprintf(out, "\n%sVERDICT: %s%s — ", col(&c, verdict), eb_outcome_name(verdict), reset(&c));
	}
	if (verdict == EB_OUT_FAIL)
		fprintf(out, "%zu of %zu cases failed", counts[EB_OUT_FAIL], n);
	else if (verdict == EB_OUT_ERROR)
		fprintf(out, "no case failed, but %zu of %zu could not run", counts[EB_OUT_ERROR], n);
	else
		fprintf(out, "%zu cases, none failed", n);
	if (counts[EB_OUT_ERROR] && verdict == EB_OUT_FAIL)
		fprintf(out, ", %zu errored", counts[EB_OUT_ERROR]);
	if (counts[EB_OUT_NON_STRICT])
		fprintf(out, ", %zu SHOULD not met", counts[EB_OUT_NON_STRICT]);
	if (counts[EB_OUT_SKIP])
		fprintf(out, ", %zu skipped", counts[EB_OUT_SKIP]);
	fputc('\n', out);
	fflush(out);
	free(v);
}
