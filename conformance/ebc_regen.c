/*
 * ebc_regen.c — `ebconform report`: the JUnit, HTML and JSON reports again
 * from saved JSON reports (earlybird-report/1), one run or several merged.
 * The JSON is the source of truth a CI job keeps; this turns it, or the
 * shards of a run split over several jobs, into the other formats without
 * running anything against a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_file.h"
#include "ebc.h"

static void regen_usage(FILE *f)
{
	fputs("usage: ebconform report IN.json [IN.json ...] [--report-dir DIR]\n"
	      "                        [--json F] [--junit F] [--html F]\n"
	      "\n"
	      "Writes the reports of saved runs again from their JSON (earlybird-report/1,\n"
	      "as written by ebconform and ebfuzz): one input is regenerated as it\n"
	      "was (byte-identical to the original files), several are merged into\n"
	      "one report (the cases of every input, the first input's run information).\n"
	      "Nothing is sent to any server.\n"
	      "\n"
	      "  --report-dir DIR  write DIR/report.json, DIR/junit.xml, DIR/report.html\n"
	      "  --json F, --junit F, --html F   one report each ('-' for stdout)\n"
	      "  -h, --help        this text\n"
	      "\n"
	      "Exit codes: 0 the verdict is PASS, 1 it is FAIL, ERROR or INCOMPLETE,\n"
	      "2 usage error or an input that cannot be read.\n", f);
}

/* The options: outputs into o, the inputs' indices into in (argc slots).
 * Returns the number of inputs, 0 with usage printed for --help, -1 with a
 * message in err for a wrong command line. */
static int regen_parse(int argc, char **argv, ebc_opts *o, int *in, char *err, size_t errlen)
{
	const char **dst;
	int n = 0;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			regen_usage(stdout);
			return 0;
		}
		dst = strcmp(a, "--json") == 0 ? &o->json :
		      strcmp(a, "--junit") == 0 ? &o->junit :
		      strcmp(a, "--html") == 0 ? &o->html :
		      strcmp(a, "--report-dir") == 0 ? &o->report_dir : NULL;
		if (dst && i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", a);
			return -1;
		}
		if (dst)
			*dst = argv[++i];
		else if (a[0] == '-' && a[1] != '\0') {
			snprintf(err, errlen, "unknown option '%s' for ebconform report", a);
			return -1;
		} else
			in[n++] = i;
	}
	if (n == 0 || !(o->json || o->junit || o->html || o->report_dir)) {
		snprintf(err, errlen, "ebconform report needs an input JSON report and an output "
			 "(--report-dir, --json, --junit or --html)");
		return -1;
	}
	return n;
}

/* Reads every input and merges them into the first; NULL after a message. */
static eb_report *regen_read(char **argv, const int *in, int n)
{
	eb_report *rep = NULL;
	char err[512];

	for (int k = 0; k < n; k++) {
		eb_report *r = eb_report_read_json(argv[in[k]], err, sizeof(err));

		if (!r) {
			fprintf(stderr, "ebconform: cannot read report %s: %s\n", argv[in[k]], err);
			eb_report_free(rep);
			return NULL;
		}
		if (!rep) {
			rep = r;
			continue;
		}
		if (eb_report_merge(rep, r) != 0) {
			fprintf(stderr, "ebconform: out of memory merging %s\n", argv[in[k]]);
			eb_report_free(r);
			eb_report_free(rep);
			return NULL;
		}
		eb_report_free(r);
	}
	return rep;
}

int ebc_report_cmd(int argc, char **argv)
{
	ebc_opts o;
	int *in = calloc((size_t)argc, sizeof(*in));
	char err[512];
	eb_report *rep = NULL;
	eb_err e;
	int n, rc = EBC_EXIT_USAGE;

	memset(&o, 0, sizeof(o));
	if (!in) {
		fprintf(stderr, "ebconform: out of memory\n");
		return EBC_EXIT_USAGE;
	}
	n = regen_parse(argc, argv, &o, in, err, sizeof(err));
	if (n == 0)
		rc = EBC_EXIT_OK;
	if (n < 0)
		fprintf(stderr, "ebconform: %s\n(see ebconform report --help)\n", err);
	if (n <= 0)
		goto out;
	if (o.report_dir && eb_file_mkdirs(o.report_dir, &e) != EB_OK) {
		fprintf(stderr, "ebconform: bad value '%s' for --report-dir: %s\n", o.report_dir,
			e.msg);
		goto out;
	}
	rep = regen_read(argv, in, n);
	if (!rep)
		goto out;
	rc = eb_report_incomplete(rep) || eb_report_verdict(rep) != EB_OUT_PASS ?
	     EBC_EXIT_FAIL : EBC_EXIT_OK;
	eb_report_console_summary(rep, stdout, false);
	rc = ebc_outputs(&o, rep, rc);
out:
	eb_report_free(rep);
	free(in);
	return rc;
}
