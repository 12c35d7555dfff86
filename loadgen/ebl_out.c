/*
 * ebl_out.c — ebload's outputs: the console summary, the JSON report, the
 * CSV time series and the HTML page (charts through reports/eb_html.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebl.h"
#include "eb_html.h"

static double msv(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void lat_line(FILE *out, const char *name, const eb_hist *h)
{
	if (h->count == 0) {
		fprintf(out, "  %-13s no samples\n", name);
		return;
	}
	fprintf(out, "  %-13s n=%llu  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
		name, (unsigned long long)h->count, msv(eb_hist_percentile(h, 50)),
		msv(eb_hist_percentile(h, 90)), msv(eb_hist_percentile(h, 99)),
		msv(eb_hist_percentile(h, 99.9)), msv(h->max));
}

/* --start-at: the plan and the measured start (nothing without it). */
static void start_line(FILE *out, const eb_loadreport *r)
{
	if (r->start_planned_ms == 0)
		return;
	fprintf(out, "  start         planned at %llu ms (Unix), skew %.3f ms (latest ramp-up "
		"start after it), spread %.3f ms (first to last)\n",
		(unsigned long long)r->start_planned_ms,
		(double)eb_loadreport_start_skew_us(r) / 1000.0,
		(double)(r->start_last_us - r->start_first_us) / 1000.0);
}

void ebl_print_summary(const eb_loadreport *r, FILE *out)
{
	const eb_load_counters *c = &r->c;
	fprintf(out, "ebload summary%s\n", r->runs > 1 ? " (merged runs)" : "");
	if (r->runs > 1)
		fprintf(out, "  runs merged   %u\n", r->runs);
	start_line(out, r);
	fprintf(out, "  connections   target %llu  subscribed %llu  peak open %llu  "
		"open at hold end %llu\n", (unsigned long long)c->conn_target,
		(unsigned long long)c->conn_subscribed, (unsigned long long)c->conn_peak_open,
		(unsigned long long)c->conn_open_at_end);
	fprintf(out, "  connect rate  %.0f/s mean over %.1fs ramp, %llu/s peak second\n",
		eb_loadreport_connect_rate(r), (double)c->ramp_ms / 1000.0,
		(unsigned long long)eb_loadreport_peak_connect_rate(r));
	fprintf(out, "  failures      %llu (refused %llu, timeout %llu, open-files %llu, "
		"address %llu, upgrade %llu, auth %llu, subscribe %llu, closed %llu, other %llu)\n",
		(unsigned long long)eb_loadreport_connect_failures(r),
		(unsigned long long)c->fail_refused, (unsigned long long)c->fail_timeout,
		(unsigned long long)c->fail_emfile, (unsigned long long)c->fail_addr,
		(unsigned long long)c->fail_upgrade, (unsigned long long)c->fail_auth,
		(unsigned long long)c->fail_subscribe, (unsigned long long)c->fail_closed,
		(unsigned long long)c->fail_other);
	fprintf(out, "  drops %llu  churned %llu  closed by ebload %llu\n",
		(unsigned long long)c->conn_drops, (unsigned long long)c->conn_churned,
		(unsigned long long)c->conn_closed);
	fprintf(out, "  pushes        sent %llu  ok %llu  transport errors %llu  HTTP errors %llu  "
		"version mismatch %llu  behind schedule %llu\n",
		(unsigned long long)c->push_sent, (unsigned long long)c->push_ok,
		(unsigned long long)c->push_transport_err, (unsigned long long)c->push_http_err,
		(unsigned long long)c->push_mismatch, (unsigned long long)c->push_late);
	fprintf(out, "  notifications received %llu (%.0f/s mean, %llu/s peak)  matched %llu  "
		"missed %llu  duplicates %llu  out-of-order %llu  unmatched %llu\n",
		(unsigned long long)c->notif_received, eb_loadreport_notif_rate(r),
		(unsigned long long)eb_loadreport_peak_notif_rate(r),
		(unsigned long long)c->notif_matched, (unsigned long long)c->notif_missed,
		(unsigned long long)c->notif_duplicates, (unsigned long long)c->notif_out_of_order,
		(unsigned long long)c->notif_unmatched);
	fprintf(out, "  latency (from the intended push time)\n");
	lat_line(out, "notification", r->hist[EB_LH_NOTIFY]);
	lat_line(out, "fan-out", r->hist[EB_LH_FANOUT]);
	lat_line(out, "push HTTP", r->hist[EB_LH_PUSH]);
	lat_line(out, "connect", r->hist[EB_LH_CONNECT]);
	uint64_t open = c->conn_open_at_end;
	if (open > 0 && c->rss_hold_kib > 0)
		fprintf(out, "  ebload itself RSS %.1f MiB at hold end (%.0f bytes per connection "
			"over the baseline), CPU %.2fs user %.2fs system\n",
			(double)c->rss_hold_kib / 1024.0,
			c->rss_hold_kib > c->rss_base_kib
			? (double)(c->rss_hold_kib - c->rss_base_kib) * 1024.0 / (double)open : 0.0,
			(double)c->cpu_user_ms / 1000.0, (double)c->cpu_sys_ms / 1000.0);
	if (c->conn_ramp_subscribed > 0 || c->notif_hold > 0)
		fprintf(out, "  ebload itself CPU %.3f ms per connection (ramp-up), %.1f us per "
			"notification (hold)\n", eb_loadreport_cpu_per_connection_ms(r),
			eb_loadreport_cpu_per_notification_us(r));
	if (c->cpu_ramp_user_us + c->cpu_hold_user_us > 0) {
		eb_load_cpu_split cs;
		eb_loadreport_cpu_split(r, &cs);
		fprintf(out, "  ebload workers user/system CPU %.1f/%.1f us per connection (ramp-up), "
			"%.2f/%.2f us per notification (hold)\n", cs.user_per_conn_us,
			cs.sys_per_conn_us, cs.user_per_notif_us, cs.sys_per_notif_us);
	}
	for (size_t i = 0; i < r->n_limits; i++)
		fprintf(out, "  LIMIT: %s\n", r->limits[i]);
	for (size_t i = 0; i < r->n_expects; i++) {
		const eb_expect_result *e = &r->expects[i];
		fprintf(out, "expect %-28s %s (threshold %g%s, measured %.3f%s)\n", e->text,
			e->met ? "met" : "NOT MET", e->threshold, e->unit, e->measured, e->unit);
	}
	for (size_t i = 0; i < r->n_problems; i++)
		fprintf(out, "problem: %s\n", r->problems[i]);
	if (r->verdict != NULL && r->incomplete != NULL)
		fprintf(out, "VERDICT: INCOMPLETE — %s; not run to their end: %s\n", r->incomplete,
			r->not_run ? r->not_run : "-");
	else if (r->verdict != NULL)
		fprintf(out, "VERDICT: %s\n", strcmp(r->verdict, "pass") == 0 ? "PASS" : "FAIL");
}

/* The verdict, its problems and the --expect table (k6 shows thresholds so). */
static void html_verdict(FILE *f, const eb_loadreport *r)
{
	bool pass = strcmp(r->verdict, "pass") == 0;
	if (r->incomplete != NULL) {
		fprintf(f, "<p class=\"verdict fail\"><b>Verdict: INCOMPLETE</b> — ");
		eb_html_escape(f, r->incomplete);
		fprintf(f, "; not run to their end: ");
		eb_html_escape(f, r->not_run ? r->not_run : "-");
		fprintf(f, "</p>\n");
	} else {
		fprintf(f, "<p class=\"verdict %s\"><b>Verdict: %s</b></p>\n", pass ? "pass" : "fail",
			pass ? "PASS" : "FAIL");
	}
	for (size_t i = 0; i < r->n_problems; i++) {
		fprintf(f, "<p class=\"limit\"><b>Problem:</b> ");
		eb_html_escape(f, r->problems[i]);
		fprintf(f, "</p>\n");
	}
	if (r->n_expects == 0)
		return;
	fprintf(f, "<h2>Expectations</h2>\n<table class=\"grid\"><thead><tr><th>expect</th>"
		"<th class=\"num\">threshold</th><th class=\"num\">measured</th><th>result</th>"
		"</tr></thead><tbody>\n");
	for (size_t i = 0; i < r->n_expects; i++) {
		const eb_expect_result *e = &r->expects[i];
		fprintf(f, "<tr><td><code>");
		eb_html_escape(f, e->text);
		fprintf(f, "</code></td><td class=\"num\">%s %g %s</td><td class=\"num\">%.3f %s</td>"
			"<td class=\"%s\">%s</td></tr>\n", e->op, e->threshold, e->unit, e->measured,
			e->unit, e->met ? "ok" : "bad", e->met ? "met" : "NOT MET");
	}
	fprintf(f, "</tbody></table>\n");
}

int ebl_write_json(const eb_loadreport *r, const char *path)
{
	cJSON *j = eb_loadreport_to_json(r);
	char *txt = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (txt == NULL) {
		fprintf(stderr, "ebload: out of memory writing %s\n", path);
		return -1;
	}
	FILE *f = fopen(path, "w");
	int rc = 0;
	if (f == NULL || fputs(txt, f) < 0 || fputc('\n', f) == EOF)
		rc = -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "ebload: cannot write %s\n", path);
	free(txt);
	return rc;
}

int ebl_write_csv(const eb_loadreport *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "ebload: cannot write %s\n", path);
		return -1;
	}
	eb_hist *h = malloc(sizeof *h);
	if (h == NULL) {
		fclose(f);
		return -1;
	}
	fprintf(f, "t_s,open,connects,notifications,pushes,errors,p50_ms,p90_ms,p99_ms,max_ms\n");
	for (size_t i = 0; i < r->n_samples; i++) {
		const eb_load_sample *s = &r->samples[i];
		eb_load_sample_hist(s, h);
		fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%.3f,%.3f,%.3f,%.3f\n",
			(unsigned long long)s->t_s, (unsigned long long)s->open,
			(unsigned long long)s->connects, (unsigned long long)s->notifications,
			(unsigned long long)s->pushes, (unsigned long long)s->errors,
			msv(eb_hist_percentile(h, 50)), msv(eb_hist_percentile(h, 90)),
			msv(eb_hist_percentile(h, 99)), msv(h->max));
	}
	free(h);
	int rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "ebload: cannot write %s\n", path);
	return rc;
}

static void row_prec(FILE *f, const char *k, double v, int digits)
{
	fprintf(f, "<tr><th>");
	eb_html_escape(f, k);
	fprintf(f, "</th><td class=\"num\">%.*f", digits, v);
	fprintf(f, "</td></tr>\n");
}

static void row(FILE *f, const char *k, double v)
{
	row_prec(f, k, v, 0);
}

/* A counter that should stay 0: tinted and in red when it is not, so a
 * lost notification is not one grey number among thirteen. */
static void bad_row(FILE *f, const char *k, double v)
{
	fprintf(f, "<tr%s><th>", v > 0 ? " class=\"fail\"" : "");
	eb_html_escape(f, k);
	fprintf(f, "</th><td class=\"num%s\">%.0f</td></tr>\n", v > 0 ? " hot" : "", v);
}

/* Key/value tables as wide as their content, limits as boxes. */
static const char ebl_css[] =
	"table.grid.kv{width:auto;min-width:360px}\n"
	".limit{border-left:4px solid var(--fail);background:#fdecec;padding:6px 10px;margin:8px 0}\n"
	"td.ok{color:var(--pass)} td.bad{color:var(--fail);font-weight:bold}\n";

static void lat_row(FILE *f, const char *name, const eb_hist *h)
{
	fprintf(f, "<tr><th>");
	eb_html_escape(f, name);
	if (h->count == 0) {
		/* no samples: no percentiles, rather than a row of 0.000 ms */
		fprintf(f, "</th><td class=\"num\">0</td><td colspan=\"5\" class=\"muted\">"
			"no samples</td></tr>\n");
		return;
	}
	fprintf(f, "</th><td class=\"num\">%llu</td><td class=\"num\">%.3f</td>"
		"<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td><td class=\"num\">%.3f</td>"
		"<td class=\"num\">%.3f</td></tr>\n", (unsigned long long)h->count,
		msv(eb_hist_percentile(h, 50)), msv(eb_hist_percentile(h, 90)),
		msv(eb_hist_percentile(h, 99)), msv(eb_hist_percentile(h, 99.9)), msv(h->max));
}

int ebl_write_html(const eb_loadreport *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "ebload: cannot write %s\n", path);
		return -1;
	}
	size_t n = r->n_samples;
	double *x = calloc(n ? n : 1, sizeof *x);
	double *open = calloc(n ? n : 1, sizeof *open);
	double *conn = calloc(n ? n : 1, sizeof *conn);
	double *notif = calloc(n ? n : 1, sizeof *notif);
	double *p50 = calloc(n ? n : 1, sizeof *p50);
	double *p99 = calloc(n ? n : 1, sizeof *p99);
	double *pmax = calloc(n ? n : 1, sizeof *pmax);
	eb_hist *h = malloc(sizeof *h);
	int rc = -1;
	if (!x || !open || !conn || !notif || !p50 || !p99 || !pmax || !h)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const eb_load_sample *s = &r->samples[i];
		eb_load_sample_hist(s, h);
		x[i] = (double)s->t_s;
		open[i] = (double)s->open;
		conn[i] = (double)s->connects;
		notif[i] = (double)s->notifications;
		bool any = h->count > 0;
		p50[i] = any ? msv(eb_hist_percentile(h, 50)) : 0.0 / 0.0;
		p99[i] = any ? msv(eb_hist_percentile(h, 99)) : 0.0 / 0.0;
		pmax[i] = any ? msv(h->max) : 0.0 / 0.0;
	}
	eb_html_page_begin(f, "ebload report", ebl_css);
	fprintf(f, "<h1>ebload report</h1>\n");
	if (r->command != NULL) {
		fprintf(f, "<p><code>");
		eb_html_escape(f, r->command);
		fprintf(f, "</code></p>\n");
	}
	if (r->verdict != NULL)
		html_verdict(f, r);
	const eb_load_counters *c = &r->c;
	fprintf(f, "<table class=\"grid kv\">\n");
	row(f, "runs merged", r->runs);
	row(f, "connections (target)", (double)c->conn_target);
	row(f, "subscribed", (double)c->conn_subscribed);
	row(f, "peak open", (double)c->conn_peak_open);
	row(f, "connect rate, mean /s", eb_loadreport_connect_rate(r));
	bad_row(f, "connect failures", (double)eb_loadreport_connect_failures(r));
	bad_row(f, "drops", (double)c->conn_drops);
	row(f, "pushes ok", (double)c->push_ok);
	row(f, "notifications received", (double)c->notif_received);
	row(f, "notifications per second, mean", eb_loadreport_notif_rate(r));
	bad_row(f, "missed", (double)c->notif_missed);
	bad_row(f, "duplicates", (double)c->notif_duplicates);
	bad_row(f, "out of order", (double)c->notif_out_of_order);
	/* the generator's own cost: near the server's figures, ebload is the limit */
	row_prec(f, "ebload CPU per connection, ms (ramp-up)",
		 eb_loadreport_cpu_per_connection_ms(r), 3);
	row_prec(f, "ebload CPU per notification, us (hold)",
		 eb_loadreport_cpu_per_notification_us(r), 1);
	eb_load_cpu_split cs;
	eb_loadreport_cpu_split(r, &cs);
	row_prec(f, "ebload user CPU per connection, us (ramp-up)", cs.user_per_conn_us, 1);
	row_prec(f, "ebload system CPU per connection, us (ramp-up)", cs.sys_per_conn_us, 1);
	row_prec(f, "ebload user CPU per notification, us (hold)", cs.user_per_notif_us, 2);
	row_prec(f, "ebload system CPU per notification, us (hold)", cs.sys_per_notif_us, 2);
	fprintf(f, "</table>\n");
	for (size_t i = 0; i < r->n_limits; i++) {
		fprintf(f, "<p class=\"limit\"><b>Limit hit:</b> ");
		eb_html_escape(f, r->limits[i]);
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<h2>Latency (ms, from the intended push time)</h2>\n<table class=\"grid\">"
		"<thead><tr><th></th><th class=\"num\">n</th><th class=\"num\">p50</th>"
		"<th class=\"num\">p90</th><th class=\"num\">p99</th><th class=\"num\">p99.9</th>"
		"<th class=\"num\">max</th></tr></thead><tbody>\n");
	lat_row(f, "notification", r->hist[EB_LH_NOTIFY]);
	lat_row(f, "fan-out (last subscriber)", r->hist[EB_LH_FANOUT]);
	lat_row(f, "push HTTP round trip", r->hist[EB_LH_PUSH]);
	lat_row(f, "connect to subscribed", r->hist[EB_LH_CONNECT]);
	fprintf(f, "</tbody></table>\n");

	eb_html_chart ch;
	memset(&ch, 0, sizeof ch);
	ch.title = "Connections over time";
	ch.x_label = "seconds";
	ch.y_label = "connections";
	ch.y_from_zero = true;
	eb_html_series s1[2] = {
		{ "open (subscribed)", x, open, n },
		{ "new per second", x, conn, n },
	};
	eb_html_line_chart(f, &ch, s1, 2);
	ch.title = "Notifications per second";
	ch.y_label = "notifications/s";
	eb_html_series s2[1] = { { "received", x, notif, n } };
	eb_html_line_chart(f, &ch, s2, 1);
	ch.title = "Notification latency percentiles per second";
	ch.y_label = "ms";
	eb_html_series s3[3] = {
		{ "p50", x, p50, n }, { "p99", x, p99, n }, { "max", x, pmax, n },
	};
	eb_html_line_chart(f, &ch, s3, 3);

	/* distribution: the histogram folded into at most 40 bars, log-spaced */
	const eb_hist *lat = r->hist[EB_LH_NOTIFY];
	if (lat->count > 0) {
		enum { BARS = 40 };
		double edges[BARS + 1], vals[BARS];
		char labels[BARS][32];
		const char *lp[BARS];
		double lo = (double)(lat->min ? lat->min : 1), hi = (double)lat->max + 1;
		if (hi <= lo * 1.01)
			hi = lo * 1.01 + 1;
		for (int b = 0; b <= BARS; b++)
			edges[b] = lo * __builtin_pow(hi / lo, (double)b / BARS);
		memset(vals, 0, sizeof vals);
		for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
			if (lat->counts[i] == 0)
				continue;
			double v = (double)eb_hist_bucket_low(i);
			int b = 0;
			while (b < BARS - 1 && v >= edges[b + 1])
				b++;
			vals[b] += (double)lat->counts[i];
		}
		for (int b = 0; b < BARS; b++) {
			snprintf(labels[b], sizeof labels[b], "%.2f", edges[b] / 1e6);
			lp[b] = labels[b];
		}
		ch.title = "Notification latency distribution (log-spaced buckets)";
		ch.x_label = "bucket start, ms";
		ch.y_label = "samples";
		eb_html_bar_chart(f, &ch, lp, vals, BARS);
	}
	eb_html_page_end(f, "ebload " EB_LOADREPORT_SCHEMA);
	rc = ferror(f) ? -1 : 0;
out:
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "ebload: cannot write %s\n", path);
	free(x); free(open); free(conn); free(notif); free(p50); free(p99); free(pmax);
	free(h);
	return rc;
}
