/*
 * eb_html.c — HTML escaping, the shared page skeleton and inline SVG charts
 * for the kit's self-contained reports (conformance HTML, load reports).
 */
#include "eb_html.h"

#include <math.h>
#include <string.h>

#define DEFAULT_W 720
#define DEFAULT_H 300
/* Plot margins in px: room for tick labels (left), axis captions (bottom). */
#define M_LEFT 64
#define M_RIGHT 16
#define M_TOP 16
#define M_BOTTOM 48
#define LEGEND_ROW 18
#define MAX_MARKERS 60

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
	"#9467bd", "#8c564b", "#e377c2", "#17becf"
};
#define N_PALETTE (sizeof(palette) / sizeof(palette[0]))
/* Dash pattern per series, next to the colour: series that coincide (p99
 * and max of a quiet second) stay visible one over the other, and the
 * chart still reads in grey print. "" is a solid line. */
static const char *const dashes[] = { "", "7 4", "2 3", "10 3 2 3" };
#define N_DASHES (sizeof(dashes) / sizeof(dashes[0]))

static void dash_attr(FILE *f, size_t k)
{
	if (dashes[k % N_DASHES][0])
		fprintf(f, " stroke-dasharray=\"%s\"", dashes[k % N_DASHES]);
}

static const char css[] =
	":root{--fg:#1d2430;--muted:#5f6b7a;--line:#d8dee6;--bg:#fff;--alt:#f5f7fa;"
	"--pass:#1a7f37;--fail:#c62828;--nonstrict:#b7791f;--skip:#4f6d8a;--error:#8e24aa}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"color:var(--fg);background:var(--bg)}\n"
	"main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}\n"
	"h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\n"
	".muted{color:var(--muted)}\n"
	"code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
	"pre{background:var(--alt);border:1px solid var(--line);border-radius:4px;padding:8px;"
	"margin:4px 0;white-space:pre-wrap;word-break:break-all;max-height:480px;overflow:auto}\n"
	"table.grid{border-collapse:collapse;width:100%;margin:6px 0 12px}\n"
	"table.grid th,table.grid td{border:1px solid var(--line);padding:4px 8px;"
	"text-align:left;vertical-align:top}\n"
	"table.grid th{background:var(--alt);font-weight:600}\n"	"table.grid td{overflow-wrap:anywhere}\n"
	"table.grid tr:nth-child(even) td{background:#fafbfc}\n"
	/* as specific as the grid's own left alignment, which it must override */
	"td.num,th.num,table.grid td.num,table.grid th.num{text-align:right;"
	"font-variant-numeric:tabular-nums}\n"
	".badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;"
	"font-weight:600;color:#fff;white-space:nowrap;background:var(--muted)}\n"
	".badge.pass,.badge.good{background:var(--pass)}.badge.fail,.badge.bad{background:var(--fail)}\n"
	".badge.nonstrict,.badge.warn{background:var(--nonstrict)}.badge.skip{background:var(--skip)}\n"
	".badge.error{background:var(--error)}\n"
	".counts{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}\n"
	".counts div{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:96px}\n"
	".counts b{display:block;font-size:22px}\n"
	".verdict{font-size:18px;font-weight:700;padding:8px 12px;border-radius:6px;color:#fff;"
	"display:inline-block;margin:6px 0}\n"
	".verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}"
	".verdict.error{background:var(--error)}\n"
	"details{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}\n"
	"details>summary{cursor:pointer;padding:2px 0}\n"
	"details[open]>summary{border-bottom:1px solid var(--line);margin-bottom:6px}\n"
	"dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:6px 0}\n"
	"dl.kv dt{font-weight:600;color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}\n"
	/* Fixed layout: one unbroken 4 KiB line (a body of brackets) must wrap
	 * in its cell, not widen the page. */
	"table.wire{width:100%;table-layout:fixed;border-collapse:collapse;margin:4px 0}\n"
	"table.wire td{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;border:0;"
	"border-top:1px solid var(--line);padding:2px 6px;vertical-align:top}\n"
	"table.wire td:nth-child(1){width:92px}table.wire td:nth-child(2){width:26px;"
	"font-size:15px;line-height:1.1;font-weight:700;text-align:center}"
	"table.wire td:nth-child(3){width:72px;white-space:nowrap;color:var(--muted)}\n"
	"table.wire td.t{color:var(--muted);text-align:right;white-space:nowrap}\n"
	"table.wire tr.out td.d{color:#1f77b4}table.wire tr.in td.d{color:#2ca02c}"
	"table.wire tr.in td.x{background:#f4faf5}"
	"table.wire tr.note td{color:var(--muted);font-style:italic}\n"
	"table.wire td.x{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-all}\n"
	"table.wire .esc{color:#a0a8b3}\n"
	".lead{font-size:15px;margin:4px 0 10px}\n"
	"nav{margin:8px 0}\n"
	".counts div.zero{opacity:.45}\n"
	"td.zero{color:#b0b7c0}td.hot{color:var(--fail);font-weight:700}\n"
	"table.grid tr.fail td{background:#fdecec}table.grid tr.error td{background:#f6e9f8}"
	"table.grid tr.nonstrict td{background:#fdf5e6}\n"
	"table.grid td.id,table.grid td.nw,table.grid td a{white-space:nowrap}\n"
	".badge.none{background:#fff;color:var(--muted);border:1px solid var(--line)}\n"
	/* Fixed columns: rule, level and status as wide as their content, the
	 * sentence gets the room (an auto layout gave it a third of the row). */
	"table.cov{table-layout:fixed}\n"
	"table.cov thead th:nth-child(1){width:110px}table.cov thead th:nth-child(2){width:70px}"
	"table.cov thead th:nth-child(4){width:118px}table.cov thead th:nth-child(5){width:31%}\n"
	"table.cov .ci{display:block}table.cov .ci a{white-space:normal}\n"
	"table.cov tr.sec th{background:#e9eef4}\n"
	"figure.chart{margin:12px 0}figure.chart figcaption{font-weight:600;margin-bottom:4px}\n"
	"svg.chart{max-width:100%;height:auto;font:11px system-ui,sans-serif}\n"
	"svg.chart .axis{stroke:#555;stroke-width:1}svg.chart .gridline{stroke:#e3e7ec;stroke-width:1}\n"
	"svg.chart text{fill:#333}svg.chart .cap{font-size:12px;fill:var(--muted)}\n"
	"footer{margin-top:32px;color:var(--muted);font-size:12px}\n";

const char *eb_html_css(void)
{
	return css;
}

void eb_html_escape_n(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (!f || !s)
		return;
	for (i = 0; i < len; i++) {
		switch (u[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\t': case '\n': case '\r': fputc(u[i], f); break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7F)
				fprintf(f, "\\x%02X", u[i]);
			else
				fputc(u[i], f);
		}
	}
}

void eb_html_escape(FILE *f, const char *s)
{
	if (s)
		eb_html_escape_n(f, s, strlen(s));
}

void eb_html_page_begin(FILE *f, const char *title, const char *extra_css)
{
	if (!f)
		return;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>", f);
	eb_html_escape(f, title ? title : "Report");
	fputs("</title>\n<style>\n", f);
	fputs(css, f);
	if (extra_css)
		fputs(extra_css, f);
	fputs("</style>\n</head>\n<body>\n<main>\n", f);
}

void eb_html_page_end(FILE *f, const char *footer)
{
	if (!f)
		return;
	if (footer) {
		fputs("<footer>", f);
		eb_html_escape(f, footer);
		fputs("</footer>\n", f);
	}
	fputs("</main>\n</body>\n</html>\n", f);
}

/* ---- axes ----------------------------------------------------------------- */

/* Heckbert's "nice numbers": 1, 2, 5 times a power of ten. */
static double nice_num(double x, bool round_it)
{
	double e = floor(log10(x)), p = pow(10.0, e), fr = x / p, nf;

	if (round_it)
		nf = fr < 1.5 ? 1 : fr < 3 ? 2 : fr < 7 ? 5 : 10;
	else
		nf = fr <= 1 ? 1 : fr <= 2 ? 2 : fr <= 5 ? 5 : 10;
	return nf * p;
}

typedef struct axis {
	double lo, hi, step;
	int decimals;
} axis;

/* Extends [lo, hi] to nice tick bounds with about `ticks` intervals. */
static void axis_fit(axis *a, double lo, double hi, int ticks, int decimals)
{
	double range;

	if (!(hi > lo)) { /* one value, or none: give it some room */
		double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;

		lo -= pad;
		hi += pad;
	}
	range = nice_num(hi - lo, false);
	a->step = nice_num(range / ticks, true);
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step) * a->step;
	if (decimals > 0)
		a->decimals = decimals;
	else
		a->decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
	if (a->decimals > 9)
		a->decimals = 9;
}

static void tick_label(FILE *f, double v, int decimals)
{
	if (fabs(v) < 1e-12)
		v = 0; /* no "-0" */
	if (fabs(v) >= 1e7)
		fprintf(f, "%.3g", v);
	else
		fprintf(f, "%.*f", decimals, v);
}

typedef struct frame {
	int w, h;
	double px0, px1, py0, py1; /* plot area in SVG px */
} frame;

static double map_x(const frame *fr, const axis *a, double v)
{
	return fr->px0 + (v - a->lo) / (a->hi - a->lo) * (fr->px1 - fr->px0);
}

static double map_y(const frame *fr, const axis *a, double v)
{
	return fr->py1 - (v - a->lo) / (a->hi - a->lo) * (fr->py1 - fr->py0);
}

/* Strokes and fonts are also given as presentation attributes, so a chart
 * copied out of the page (or opened as an .svg) still shows its axes. */
static void svg_open(FILE *f, const eb_html_chart *c, const frame *fr)
{
	fputs("<figure class=\"chart\">", f);
	if (c->title) {
		fputs("<figcaption>", f);
		eb_html_escape(f, c->title);
		fputs("</figcaption>", f);
	}
	fprintf(f, "\n<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"", fr->w, fr->h, fr->w, fr->h);
	if (c->title) {
		fputs(" aria-label=\"", f);
		eb_html_escape(f, c->title);
		fputc('"', f);
	}
	fputs(">\n", f);
}

static void svg_close(FILE *f)
{
	fputs("</svg></figure>\n", f);
}

/* Y grid, ticks and labels, the axis lines and both captions. */
static void draw_y_axis(FILE *f, const eb_html_chart *c, const frame *fr, const axis *ya)
{
	double v;
	int i;

	for (i = 0, v = ya->lo; v <= ya->hi + ya->step * 1e-6 && i < 64; i++, v = ya->lo + i * ya->step) {
		double y = map_y(fr, ya, v);

		fprintf(f, "<line class=\"gridline\" stroke=\"#e3e7ec\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			fr->px0, y, fr->px1, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">",
			fr->px0 - 6, y);
		tick_label(f, v, ya->decimals);
		fputs("</text>\n", f);
	}
	fprintf(f, "<line class=\"axis\" stroke=\"#555\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		fr->px0, fr->py0, fr->px0, fr->py1);
	fprintf(f, "<line class=\"axis\" stroke=\"#555\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		fr->px0, fr->py1, fr->px1, fr->py1);
	if (c->y_label) {
		fprintf(f, "<text class=\"cap\" transform=\"translate(14 %.1f) rotate(-90)\" "
			"text-anchor=\"middle\">", (fr->py0 + fr->py1) / 2);
		eb_html_escape(f, c->y_label);
		fputs("</text>\n", f);
	}
	if (c->x_label) {
		fprintf(f, "<text class=\"cap\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			(fr->px0 + fr->px1) / 2, fr->h - 8);
		eb_html_escape(f, c->x_label);
		fputs("</text>\n", f);
	}
}

static void frame_init(frame *fr, const eb_html_chart *c, int legend_rows)
{
	fr->w = c->width > 0 ? c->width : DEFAULT_W;
	fr->h = c->height > 0 ? c->height : DEFAULT_H;
	if (fr->w < M_LEFT + M_RIGHT + 40)
		fr->w = M_LEFT + M_RIGHT + 40;
	if (fr->h < M_TOP + M_BOTTOM + 40 + legend_rows * LEGEND_ROW)
		fr->h = M_TOP + M_BOTTOM + 40 + legend_rows * LEGEND_ROW;
	fr->px0 = M_LEFT;
	fr->px1 = fr->w - M_RIGHT;
	fr->py0 = M_TOP + legend_rows * LEGEND_ROW;
	fr->py1 = fr->h - M_BOTTOM;
}

/* ---- line chart ------------------------------------------------------------ */

static bool finite_pt(const eb_html_series *s, size_t i)
{
	return isfinite(s->x[i]) && isfinite(s->y[i]);
}

static const char *series_name(const eb_html_series *s, size_t k, char *buf, size_t len)
{
	if (s->name)
		return s->name;
	snprintf(buf, len, "series %zu", k + 1);
	return buf;
}

/* Legend layout: items flow left to right and wrap; width estimated from
 * the name length since SVG cannot measure text before rendering. */
static int legend_layout(const eb_html_series *s, size_t n, int width, bool draw, FILE *f)
{
	double x = M_LEFT, row = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		char buf[32];
		const char *name = series_name(&s[k], k, buf, sizeof(buf));
		double iw = 26 + 6.5 * (double)strlen(name) + 14;

		if (x + iw > width - M_RIGHT && x > M_LEFT) {
			x = M_LEFT;
			row++;
		}
		if (draw && f) {
			double y = M_TOP + row * LEGEND_ROW;

			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				"stroke-width=\"3\"", x, y, x + 18, y, palette[k % N_PALETTE]);
			dash_attr(f, k);
			fprintf(f, "/><text x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"middle\">",
				x + 24, y);
			eb_html_escape(f, name);
			fputs("</text>\n", f);
		}
		x += iw;
	}
	return n ? (int)row + 1 : 0;
}

eb_rc eb_html_line_chart(FILE *f, const eb_html_chart *c,
			 const eb_html_series *s, size_t n_series)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	size_t k, i, points = 0;
	axis xa, ya;
	frame fr;
	int rows;
	double v;

	if (!f || !c || (n_series && !s))
		return EB_ERR_ARG;
	for (k = 0; k < n_series; k++) {
		if (s[k].n && (!s[k].x || !s[k].y))
			return EB_ERR_ARG;
		for (i = 0; i < s[k].n; i++) {
			if (!finite_pt(&s[k], i))
				continue;
			points++;
			xmin = fmin(xmin, s[k].x[i]);
			xmax = fmax(xmax, s[k].x[i]);
			ymin = fmin(ymin, s[k].y[i]);
			ymax = fmax(ymax, s[k].y[i]);
		}
	}
	if (!points) {
		xmin = 0;
		xmax = 1;
		ymin = 0;
		ymax = 1;
	}
	if (c->y_from_zero) {
		ymin = fmin(ymin, 0);
		ymax = fmax(ymax, 0);
	}
	rows = legend_layout(s, n_series, c->width > 0 ? c->width : DEFAULT_W, false, NULL);
	frame_init(&fr, c, rows);
	axis_fit(&xa, xmin, xmax, 8, 0);
	axis_fit(&ya, ymin, ymax, 5, c->y_decimals);

	svg_open(f, c, &fr);
	draw_y_axis(f, c, &fr, &ya);
	for (i = 0, v = xa.lo; v <= xa.hi + xa.step * 1e-6 && i < 64; i++, v = xa.lo + i * xa.step) {
		double x = map_x(&fr, &xa, v);

		fprintf(f, "<line class=\"axis\" stroke=\"#555\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, fr.py1, x, fr.py1 + 4,
			x, fr.py1 + 16);
		tick_label(f, v, xa.decimals);
		fputs("</text>\n", f);
	}
	legend_layout(s, n_series, fr.w, true, f);
	if (!points)
		fprintf(f, "<text class=\"cap\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no data</text>\n",
			(fr.px0 + fr.px1) / 2, (fr.py0 + fr.py1) / 2);
	for (k = 0; k < n_series; k++) {
		const char *color = palette[k % N_PALETTE];
		bool open = false;
		char buf[32];
		const char *name = series_name(&s[k], k, buf, sizeof(buf));

		fprintf(f, "<g stroke=\"%s\" fill=\"none\" stroke-width=\"1.8\"", color);
		dash_attr(f, k);
		fputs(">", f);
		for (i = 0; i < s[k].n; i++) {
			if (!finite_pt(&s[k], i)) {
				if (open)
					fputs("\"/>", f);
				open = false;
				continue;
			}
			if (!open)
				fputs("<polyline points=\"", f);
			fprintf(f, "%s%.1f,%.1f", open ? " " : "", map_x(&fr, &xa, s[k].x[i]),
				map_y(&fr, &ya, s[k].y[i]));
			open = true;
		}
		if (open)
			fputs("\"/>", f);
		fputs("</g>\n", f);
		if (s[k].n > MAX_MARKERS)
			continue;
		fprintf(f, "<g fill=\"%s\">", color);
		for (i = 0; i < s[k].n; i++) {
			if (!finite_pt(&s[k], i))
				continue;
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"><title>",
				map_x(&fr, &xa, s[k].x[i]), map_y(&fr, &ya, s[k].y[i]));
			eb_html_escape(f, name);
			fprintf(f, ": %g, %g</title></circle>", s[k].x[i], s[k].y[i]);
		}
		fputs("</g>\n", f);
	}
	svg_close(f);
	return ferror(f) ? EB_ERR_IO : EB_OK;
}

/* ---- bar chart --------------------------------------------------------------- */

eb_rc eb_html_bar_chart(FILE *f, const eb_html_chart *c,
			const char *const *labels, const double *values, size_t n)
{
	double ymax = 0, slot, bw;
	size_t i, every = 1;
	axis ya;
	frame fr;

	if (!f || !c || (n && !values))
		return EB_ERR_ARG;
	for (i = 0; i < n; i++)
		if (isfinite(values[i]) && values[i] > ymax)
			ymax = values[i];
	frame_init(&fr, c, 0);
	axis_fit(&ya, 0, ymax > 0 ? ymax : 1, 5, c->y_decimals);
	ya.lo = 0;
	slot = n ? (fr.px1 - fr.px0) / (double)n : 0;
	bw = slot * 0.8;
	/* Labels about 7 px per character; keep one in `every` so they fit. */
	if (n) {
		size_t maxlen = 1;

		for (i = 0; i < n; i++) {
			size_t l = labels && labels[i] ? strlen(labels[i]) : 3;

			if (l > maxlen)
				maxlen = l;
		}
		while (slot * (double)every < 7.0 * (double)maxlen + 6 && every < n)
			every++;
	}

	svg_open(f, c, &fr);
	draw_y_axis(f, c, &fr, &ya);
	if (!n)
		fprintf(f, "<text class=\"cap\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no data</text>\n",
			(fr.px0 + fr.px1) / 2, (fr.py0 + fr.py1) / 2);
	for (i = 0; i < n; i++) {
		double x = fr.px0 + slot * (double)i + (slot - bw) / 2;
		char num[24];
		const char *label = labels && labels[i] ? labels[i] : num;

		snprintf(num, sizeof(num), "%zu", i + 1);
		if (isfinite(values[i]) && values[i] > 0) {
			double y = map_y(&fr, &ya, values[i]);

			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>", x, y, bw > 1 ? bw : 1, fr.py1 - y, palette[0]);
			eb_html_escape(f, label);
			fprintf(f, ": %g</title></rect>", values[i]);
		}
		if (i % every == 0) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
				x + bw / 2, fr.py1 + 16);
			eb_html_escape(f, label);
			fputs("</text>", f);
		}
		fputc('\n', f);
	}
	svg_close(f);
	return ferror(f) ? EB_ERR_IO : EB_OK;
}
