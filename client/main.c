/*
 * main.c — ebclient: the reference client SDK's program. `--driver` is the
 * driver of docs/CLIENT-DRIVER.md for `ebconform --driver`; `watch` and
 * `set` are for people (docs/EBCLIENT.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ebcl_prog.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ebclient --driver [--defect NAME ...]\n"
		"       ebclient --url URL [token flags] [options] watch STORE...\n"
		"       ebclient --url URL [token flags] [options] set STORE PATH JSON\n"
		"       ebclient --url URL [token flags] [options] delete STORE PATH\n"
		"       ebclient [token flags] token [SUBJECT]\n"
		"       ebclient --defect list\n"
		"\n"
		"The reference client SDK of the Early Bird sync protocol (docs/EBCLIENT.md).\n"
		"\n"
		"  --driver               the driver of docs/CLIENT-DRIVER.md: JSON lines on\n"
		"                         stdin/stdout, for ebconform --driver; reads\n"
		"                         EB_DRIVER_URL, EB_DRIVER_CLOCK_SCALE, EB_DRIVER_CLIENT,\n"
		"                         EB_DRIVER_CASE, EB_DRIVER_DATA_DIR (queue file there)\n"
		"  --defect NAME          turn on an injected client defect (repeatable; test\n"
		"                         hook); --defect list prints NAME<TAB>RULE<TAB>text\n"
		"  watch STORE...         follow the stores: print every connection transition\n"
		"                         (connecting, live, polling) and each merged state\n"
		"  set STORE PATH JSON    push one change (PATH a/b/c or [\"a\",\"b\"]) and wait\n"
		"                         until the server took it (exit 3 if it did not\n"
		"                         within --timeout, 1 if it was rejected)\n"
		"  delete STORE PATH      the same for a delete\n"
		"  token [SUBJECT]        print a token minted from the token flags (read and\n"
		"                         write on every store, 1 h; subject ebclient), e.g.\n"
		"                         for the driver's token command\n"
		"  --data FILE            keep the offline queue in this SQLite file (survives\n"
		"                         a restart); default in memory\n"
		"  --activity A           active (poll 30 s), idle (5 min) or background\n"
		"                         (15 min); default active\n"
		"  --clock-scale F        test hook: every wait the client computes x F\n"
		"                         (default 1; never in production)\n"
		"  -v, --verbose          the SDK's log lines on stderr\n"
		"  --help                 this text\n"
		"  --version              the version\n"
		"%s"
		"\n"
		"Exit codes: 0 success, 1 a change was rejected, 2 usage or setup error,\n"
		"3 the server did not take the change in time.\n",
		eb_target_help(EB_TF_URL | EB_TF_JWT | EB_TF_NO_AUTH | EB_TF_TIMEOUT | EB_TF_TLS));
}

static int opt_defect(void *ctx, const char *val, char *err, size_t errlen)
{
	ebcl_opts *o = ctx;
	if (strcmp(val, "list") == 0) {
		for (int i = 0; i < EBCL_DEFECT_COUNT; i++) {
			const ebcl_defect_desc *d = ebcl_defect_info((ebcl_defect)i);
			printf("%s\t%s\t%s\n", d->name, d->rule, d->desc);
		}
		exit(EB_EXIT_OK);
	}
	int d = ebcl_defect_by_name(val);
	if (d < 0) {
		snprintf(err, errlen, "unknown defect '%s' (--defect list)", val);
		return -1;
	}
	o->defects[d] = true;
	return 0;
}

static int opt_activity(void *ctx, const char *val, char *err, size_t errlen)
{
	ebcl_opts *o = ctx;
	if (!ebcl_activity_parse(val, &o->activity)) {
		snprintf(err, errlen, "bad value '%s' for --activity: active, idle "
			 "or background", val);
		return -1;
	}
	return 0;
}

/* Reads the flags into o, leaving *first on the first word after them.
 * EB_EXIT_OK to go on, -1 when --help or --version was answered, or
 * EB_EXIT_USAGE (message printed). */
static int main_parse(int argc, char **argv, ebcl_opts *o, int *first)
{
	bool help = false, version = false;
	const eb_opt tab[] = {
		{ "--driver", NULL, EB_OPT_FLAG, &o->driver, 0, 0, NULL, NULL, NULL, false },
		{ "--defect", NULL, EB_OPT_FN, NULL, 0, 0, "a name of --defect list",
		  opt_defect, o, true },
		{ "--data", NULL, EB_OPT_STR, &o->data_file, 0, 0, "a file", NULL, NULL, false },
		{ "--activity", NULL, EB_OPT_FN, NULL, 0, 0, "active, idle, background",
		  opt_activity, o, true },
		{ "--clock-scale", NULL, EB_OPT_DOUBLE, &o->clock_scale, 1e-6, 1e6,
		  "a number 0.000001-1000000", NULL, NULL, false },
		{ "--verbose", "-v", EB_OPT_FLAG, &o->verbose, 0, 0, NULL, NULL, NULL, false },
		{ "--help", "-h", EB_OPT_FLAG, &help, 0, 0, NULL, NULL, NULL, false },
		{ "--version", NULL, EB_OPT_FLAG, &version, 0, 0, NULL, NULL, NULL, false },
	};
	char err[300];
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		int r = eb_opt_parse(tab, sizeof tab / sizeof tab[0], argc, argv, &i,
				     err, sizeof err);
		if (r == 0)
			r = eb_target_arg(&o->target, argc, argv, &i, err, sizeof err);
		if (r == 0) {
			fprintf(stderr, "ebclient: unknown flag %s (see --help)\n", argv[i]);
			return EB_EXIT_USAGE;
		}
		if (r < 0) {
			fprintf(stderr, "ebclient: %s\n", err);
			return EB_EXIT_USAGE;
		}
		i++;   /* the parsers leave i on the last word they took */
	}
	*first = i;
	if (help)
		usage(stdout);
	else if (version)
		printf("ebclient %s (kit %s)\n", EBCL_VERSION, EB_KIT_VERSION);
	return help || version ? -1 : EB_EXIT_OK;
}

/* Runs the command at argv[i] (watch, set, delete, token) or the driver. */
static int main_command(ebcl_opts *o, int argc, char **argv, int i)
{
	char err[300];

	if (o->driver) {
		if (i < argc) {
			fprintf(stderr, "ebclient: --driver takes no command (see --help)\n");
			return EB_EXIT_USAGE;
		}
		return ebcl_driver_run(o, &g_stop);
	}
	if (i >= argc) {
		fprintf(stderr, "ebclient: a command is needed: watch, set, delete or token "
			"(see --help)\n");
		return EB_EXIT_USAGE;
	}
	o->cmd = argv[i];
	o->args = argv + i + 1;
	o->n_args = argc - i - 1;
	if (strcmp(o->cmd, "watch") != 0 && strcmp(o->cmd, "set") != 0 &&
	    strcmp(o->cmd, "delete") != 0 && strcmp(o->cmd, "token") != 0) {
		fprintf(stderr, "ebclient: unknown command %s (see --help)\n", o->cmd);
		return EB_EXIT_USAGE;
	}
	if (eb_target_finish(&o->target, strcmp(o->cmd, "token") != 0, err,
			     sizeof err) != 0) {
		fprintf(stderr, "ebclient: %s\n", err);
		return EB_EXIT_USAGE;
	}
	if (strcmp(o->cmd, "token") == 0)
		return ebcl_token_run(o);
	if (strcmp(o->cmd, "watch") == 0)
		return ebcl_watch_run(o, &g_stop);
	return ebcl_set_run(o, &g_stop);
}

int main(int argc, char **argv)
{
	ebcl_opts o;
	struct sigaction sa;
	int first = 1, rc;

	memset(&o, 0, sizeof o);
	eb_target_init(&o.target, EB_TF_URL | EB_TF_JWT | EB_TF_NO_AUTH | EB_TF_TIMEOUT | EB_TF_TLS);
	rc = main_parse(argc, argv, &o, &first);
	if (rc != EB_EXIT_OK) {
		eb_target_clear(&o.target);
		return rc < 0 ? EB_EXIT_OK : rc;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "ebclient: curl_global_init failed\n");
		eb_target_clear(&o.target);
		return EB_EXIT_USAGE;
	}
	rc = main_command(&o, argc, argv, first);
	eb_target_clear(&o.target);
	curl_global_cleanup();
	return rc;
}
