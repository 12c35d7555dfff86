/*
 * ebplot — SVG plots of the benchmarks' JSON for docs/BENCHMARKS.md.
 *
 *   ebplot percentiles OUT.svg [--hist NAME] [LABEL=]REPORT.json...
 *       latency percentiles of ebload reports (ebload-report/1), one curve
 *       per report, from its full histogram latency.NAME (default fanout):
 *       x is the percentile in nines (0 = p0, 1 = p90, 2 = p99, 3 = p99.9),
 *       so the tail gets as much room as the median (HdrHistogram's plot)
 *   ebplot over-time OUT.svg REPORT.json
 *       notification latency p50/p99/max per second of the run (timeseries)
 *   ebplot ramp OUT.svg REPORT.json
 *       open connections per second of the run (the ramp and the hold)
 *   ebplot memory OUT.svg BENCH.json
 *       ebmock's resident memory against the connections it held, from the
 *       samples bench.sh takes (idleConnections.samples: [sessions, KiB])
 *
 * The charts are the reports library's (eb_html_line_chart); the <svg>
 * element is written alone, so the file opens as an image. JSON is read
 * with the project's strict parser and histograms with libebload's reader.
 * Exit: 0 written, 2 usage, unreadable input or a write error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_hist.h"
#include "eb_html.h"
#include "eb_json.h"

#define EBP_MAX_FILE (256u * 1024u * 1024u)
#define EBP_MAX_SERIES 8
#define EBP_MAX_POINTS 4096

static int ebp_usage(const char *why)
{
	fprintf(stderr, "ebplot: %s\n"
		"usage: ebplot percentiles OUT.svg [--hist NAME] [LABEL=]REPORT.json...\n"
		"       ebplot over-time|ramp OUT.svg REPORT.json\n"
		"       ebplot memory OUT.svg BENCH.json\n"
		"(ebplot --help for more)\n", why);
	return 2;
}

static void ebp_help(void)
{
	puts("ebplot — SVG plots of ebload reports and bench.json for docs/BENCHMARKS.md\n"
	     "\n"
	     "  ebplot percentiles OUT.svg [--hist NAME] [LABEL=]REPORT.json...\n"
	     "      percentile curves of latency.NAME (fanout, notification, push,\n"
	     "      connect; default fanout) of one or more ebload reports; x in\n"
	     "      nines: 1 = p90, 2 = p99, 3 = p99.9\n"
	     "  ebplot over-time OUT.svg REPORT.json\n"
	     "      notification latency p50, p99 and max per second of the run\n"
	     "  ebplot ramp OUT.svg REPORT.json\n"
	     "      open connections per second of the run\n"
	     "  ebplot memory OUT.svg BENCH.json\n"
	     "      ebmock's RSS against held connections (bench.sh's samples)\n"
	     "  --help   this text\n"
	     "\n"
	     "Exit: 0 written, 2 usage, unreadable input or write error.");
}

/* The whole of path parsed as JSON (NULL after a message on stderr). */
static cJSON *ebp_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	cJSON *root = NULL;

	if (!f) {
		fprintf(stderr, "ebplot: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 65536 > cap) {
			size_t nc = cap ? cap * 2 : 131072;
			char *nb = nc <= EBP_MAX_FILE ? realloc(buf, nc) : NULL;
			if (!nb) {
				fprintf(stderr, "ebplot: %s: too big or out of memory\n", path);
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "ebplot: %s: read error\n", path);
		goto out;
	}
	if (eb_json_parse(buf, n, EB_JSON_MAX_DEPTH, &root, NULL) != EB_OK || !cJSON_IsObject(root)) {
		fprintf(stderr, "ebplot: %s: not a JSON object\n", path);
		cJSON_Delete(root);
		root = NULL;
	}
out:
	free(buf);
	fclose(f);
	return root;
}

static const cJSON *ebp_get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static double ebp_num(const cJSON *o, const char *name)
{
	const cJSON *j = ebp_get(o, name);
	return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* Writes the chart's <svg> element alone to path (the chart writer wraps
 * it in an HTML <figure>). */
static int ebp_write(const char *path, const eb_html_chart *c,
		     const eb_html_series *s, size_t n)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&mem, &len);
	int rc = 2;

	if (!m)
		return 2;
	if (eb_html_line_chart(m, c, s, n) != EB_OK) {
		fclose(m);
		goto out;
	}
	if (fclose(m) != 0)
		goto out;
	const char *a = strstr(mem, "<svg");
	const char *b = a ? strstr(a, "</svg>") : NULL;
	if (!b)
		goto out;
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ebplot: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fwrite(a, 1, (size_t)(b - a) + strlen("</svg>"), f);
	fputc('\n', f);
	if (fclose(f) == 0)
		rc = 0;
	else
		fprintf(stderr, "ebplot: %s: write error\n", path);
out:
	free(mem);
	return rc;
}

/* Points of a percentile curve: p from 0 to 99.99 on a nines scale. */
static const double ebp_pcts[] = {
	0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5,
	98, 98.5, 99, 99.25, 99.5, 99.6, 99.7, 99.75, 99.8, 99.9, 99.95, 99.99
};
#define EBP_N_PCTS (sizeof ebp_pcts / sizeof ebp_pcts[0])

static int ebp_percentiles(const char *out, int argc, char **argv)
{
	const char *hist_name = "fanout";
	eb_html_series s[EBP_MAX_SERIES];
	double xs[EBP_MAX_SERIES][EBP_N_PCTS], ys[EBP_MAX_SERIES][EBP_N_PCTS];
	char labels[EBP_MAX_SERIES][96];
	size_t n = 0;
	int rc = 2;
	eb_hist *h = malloc(sizeof *h);

	if (!h)
		return 2;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--hist")) {
			if (++i >= argc) {
				free(h);
				return ebp_usage("--hist needs a name");
			}
			hist_name = argv[i];
			continue;
		}
		if (n == EBP_MAX_SERIES) {
			free(h);
			return ebp_usage("at most 8 reports");
		}
		const char *path = argv[i];
		const char *eq = strchr(path, '=');
		if (eq) {
			snprintf(labels[n], sizeof labels[n], "%.*s", (int)(eq - path), path);
			path = eq + 1;
		} else {
			snprintf(labels[n], sizeof labels[n], "%s", path);
		}
		cJSON *root = ebp_load(path);
		if (!root)
			goto out;
		const cJSON *lat = ebp_get(ebp_get(root, "latency"), hist_name);
		eb_err err;
		if (eb_hist_from_json(ebp_get(lat, "histogram"), h, &err) != EB_OK) {
			fprintf(stderr, "ebplot: %s: no latency.%s.histogram\n", path, hist_name);
			cJSON_Delete(root);
			goto out;
		}
		cJSON_Delete(root);
		for (size_t k = 0; k < EBP_N_PCTS; k++) {
			xs[n][k] = -log10(1.0 - ebp_pcts[k] / 100.0);
			ys[n][k] = h->count ? (double)eb_hist_percentile(h, ebp_pcts[k]) / 1e6 : NAN;
		}
		s[n] = (eb_html_series){ .name = labels[n], .x = xs[n], .y = ys[n],
					 .n = EBP_N_PCTS };
		n++;
	}
	if (!n) {
		free(h);
		return ebp_usage("no report given");
	}
	char title[128];
	snprintf(title, sizeof title, "%s latency by percentile", hist_name);
	eb_html_chart c = { .title = title,
			    .x_label = "percentile in nines (1 = p90, 2 = p99, 3 = p99.9, 4 = p99.99)",
			    .y_label = "ms", .y_from_zero = true };
	rc = ebp_write(out, &c, s, n);
out:
	free(h);
	return rc;
}

/* Up to EBP_MAX_POINTS values of member key of each timeseries row. */
static size_t ebp_series(const cJSON *ts, const char *key, double *x, double *y)
{
	size_t n = 0;
	const cJSON *row;

	cJSON_ArrayForEach(row, ts) {
		if (n == EBP_MAX_POINTS)
			break;
		x[n] = ebp_num(row, "t");
		y[n] = ebp_num(row, key);
		n++;
	}
	return n;
}

static int ebp_timeseries(const char *out, const char *path, bool ramp)
{
	static const char *const lat_keys[] = { "p50Ms", "p99Ms", "maxMs" };
	static const char *const lat_names[] = { "p50", "p99", "max" };
	static double x[3][EBP_MAX_POINTS], y[3][EBP_MAX_POINTS];
	eb_html_series s[3];
	size_t n = 0;
	cJSON *root = ebp_load(path);
	int rc = 2;

	if (!root)
		return 2;
	const cJSON *ts = ebp_get(root, "timeseries");
	if (!cJSON_IsArray(ts)) {
		fprintf(stderr, "ebplot: %s: no timeseries\n", path);
		goto out;
	}
	if (ramp) {
		s[0] = (eb_html_series){ .name = "open connections", .x = x[0], .y = y[0],
					 .n = ebp_series(ts, "open", x[0], y[0]) };
		n = 1;
	} else {
		for (n = 0; n < 3; n++)
			s[n] = (eb_html_series){ .name = lat_names[n], .x = x[n], .y = y[n],
						 .n = ebp_series(ts, lat_keys[n], x[n], y[n]) };
	}
	eb_html_chart c = { .title = ramp ? "connections open, per second of the run"
					  : "notification latency, per second of the run",
			    .x_label = "seconds since the start",
			    .y_label = ramp ? "connections" : "ms", .y_from_zero = true };
	rc = ebp_write(out, &c, s, n);
out:
	cJSON_Delete(root);
	return rc;
}

static int ebp_memory(const char *out, const char *path)
{
	static double x[EBP_MAX_POINTS], y[EBP_MAX_POINTS];
	size_t n = 0;
	cJSON *root = ebp_load(path);
	int rc = 2;
	const cJSON *row;

	if (!root)
		return 2;
	const cJSON *smp = ebp_get(ebp_get(root, "idleConnections"), "samples");
	if (!cJSON_IsArray(smp)) {
		fprintf(stderr, "ebplot: %s: no idleConnections.samples\n", path);
		goto out;
	}
	cJSON_ArrayForEach(row, smp) {
		if (n == EBP_MAX_POINTS || !cJSON_IsArray(row) || cJSON_GetArraySize(row) != 2)
			break;
		x[n] = cJSON_GetArrayItem(row, 0)->valuedouble;
		y[n] = cJSON_GetArrayItem(row, 1)->valuedouble / 1024.0;
		n++;
	}
	eb_html_series s = { .name = "ebmock RSS", .x = x, .y = y, .n = n };
	eb_html_chart c = { .title = "ebmock resident memory against held connections",
			    .x_label = "subscribed WebSocket connections held",
			    .y_label = "MiB", .y_from_zero = true };
	rc = ebp_write(out, &c, &s, 1);
out:
	cJSON_Delete(root);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		ebp_help();
		return 0;
	}
	if (argc < 4)
		return ebp_usage("a kind, an output file and an input are needed");
	const char *kind = argv[1], *out = argv[2];
	if (!strcmp(kind, "percentiles"))
		return ebp_percentiles(out, argc - 3, argv + 3);
	if (argc != 4)
		return ebp_usage("this kind takes one input");
	if (!strcmp(kind, "over-time"))
		return ebp_timeseries(out, argv[3], false);
	if (!strcmp(kind, "ramp"))
		return ebp_timeseries(out, argv[3], true);
	if (!strcmp(kind, "memory"))
		return ebp_memory(out, argv[3]);
	return ebp_usage("unknown kind");
}
