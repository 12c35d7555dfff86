/*
 * ebcl_prog.h — the parts of the ebclient program: the driver of
 * docs/CLIENT-DRIVER.md (driver.c) and the tool for people (watch.c).
 */
#ifndef EBCL_PROG_H
#define EBCL_PROG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "ebclient.h"
#include "eb_target.h"

/* What main parsed. */
typedef struct ebcl_opts {
	bool driver;
	bool defects[EBCL_DEFECT_COUNT];
	double clock_scale;           /* 0: not given */
	ebcl_activity activity;
	const char *data_file;
	long timeout_ms;              /* set: how long to wait for the push */
	bool verbose;
	eb_target target;
	const char *cmd;              /* "watch" or "set" */
	char **args;                  /* the command's operands */
	int n_args;
} ebcl_opts;

/* Runs the driver: JSON lines on stdin/stdout until stop, stdin EOF or
 * *stop_flag. Exit code (0, or 2 on a setup error). */
int ebcl_driver_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag);

/* `watch STORE...`: follows the stores, prints transitions and states
 * until *stop_flag. Exit code. */
int ebcl_watch_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag);

/* `set STORE PATH JSON` / `delete STORE PATH`: pushes one change and
 * waits for the server to take it. Exit code. */
int ebcl_set_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag);

/* `token [SUBJECT]`: prints one token minted from the target flags. */
int ebcl_token_run(const ebcl_opts *o);

#endif
