/*
 * eb_html.h — small helpers for self-contained HTML reports: escaping, a page
 * skeleton with the kit's shared stylesheet, and inline SVG charts (line and
 * bar/histogram). Everything writes to a caller's FILE*; nothing is
 * allocated that outlives a call, nothing external is referenced, so a page
 * built from these is one file that opens anywhere.
 *
 * Write errors are sticky on the FILE*: functions returning eb_rc report
 * EB_ERR_IO when ferror(f) is set after writing; the void ones leave the
 * check to the caller's final ferror/fclose.
 */
#ifndef EB_HTML_H
#define EB_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "eb_error.h"

/* Writes s escaped so it is safe both as element text and inside a quoted
 * attribute value: & < > " ' become entities; control characters other than
 * tab, LF and CR become the visible text \xNN (HTML forbids them). Bytes
 * >= 0x80 pass unchanged (the page is UTF-8). NULL writes nothing. */
void eb_html_escape(FILE *f, const char *s);
/* The same for len bytes (s need not be NUL-terminated; NUL is written as
 * \x00). */
void eb_html_escape_n(FILE *f, const char *s, size_t len);

/* The shared stylesheet (static, never NULL): body typography, tables
 * (class "grid"), outcome badges (classes pass fail nonstrict skip error,
 * plus good bad warn for other reports), counters (class "counts"),
 * <details> blocks, <pre>, and the chart classes used below. */
const char *eb_html_css(void);

/* Starts a page: doctype, <head> with charset, viewport, <title> (escaped;
 * NULL: "Report"), the shared stylesheet and extra_css (raw CSS appended
 * verbatim, may be NULL), then opens <body><main>. */
void eb_html_page_begin(FILE *f, const char *title, const char *extra_css);
/* Closes what eb_html_page_begin opened; footer (escaped, may be NULL) goes
 * in a <footer> first. */
void eb_html_page_end(FILE *f, const char *footer);

/* One named series of a line chart: n points (x[i], y[i]). Points where x
 * or y is NaN or infinite are left out and break the line there. The arrays
 * are only read during the call. */
typedef struct eb_html_series {
	const char *name;      /* legend text; NULL: "series N" */
	const double *x;
	const double *y;
	size_t n;
} eb_html_series;

/* Chart options. Zero-initialize and set what you need. */
typedef struct eb_html_chart {
	const char *title;     /* caption above the chart, may be NULL */
	const char *x_label;   /* axis captions, may be NULL */
	const char *y_label;
	int width, height;     /* SVG size in px; <= 0: 720 x 300 */
	bool y_from_zero;      /* extend the y axis down (or up) to 0 */
	int y_decimals;        /* tick label decimals; < 0 or 0: chosen from the
				* tick step */
} eb_html_chart;

/* Writes an inline <svg> line chart: axes with "nice" ticks (1-2-5 steps)
 * and labels, one coloured polyline per series (colours from a fixed
 * palette, in series order), markers with hover titles when a series has at
 * most 60 points, and a legend. No points at all draws the axes and "no
 * data". EB_OK, EB_ERR_ARG (f or c NULL, or s NULL with n_series > 0, or a
 * series with n > 0 and x or y NULL), EB_ERR_IO (write error). */
eb_rc eb_html_line_chart(FILE *f, const eb_html_chart *c,
			 const eb_html_series *s, size_t n_series);

/* Writes an inline <svg> bar chart (a histogram when labels are bucket
 * ranges): one bar per value in the given order, labels under the bars
 * (thinned out when they would overlap; every bar keeps a hover title with
 * its label and value), y axis from 0 with nice ticks. Negative or
 * non-finite values draw no bar. labels may be NULL (bars numbered from 1).
 * Same return codes as eb_html_line_chart (values NULL with n > 0 is
 * EB_ERR_ARG). */
eb_rc eb_html_bar_chart(FILE *f, const eb_html_chart *c,
			const char *const *labels, const double *values, size_t n);

#endif
