/*
 * eb_proc.h — start and stop a server under test (ebmock) from tests and
 * self-tests: --port 0 with a port file, wait with a timeout, stop with
 * SIGTERM then SIGKILL, keep its stderr in a log file to print on failure.
 */
#ifndef EB_PROC_H
#define EB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct eb_proc {
	pid_t pid;
	int port;
	char url[64];          /* "http://127.0.0.1:PORT" */
	char log_path[256];    /* server stderr */
	char port_file[256];
	char dir[256];         /* private temp dir, removed by eb_proc_stop */
} eb_proc;

/* Starts argv[0] (a path) with argv plus "--port 0 --port-file F" appended,
 * stderr to a log file, and waits up to timeout_ms until the port file holds
 * a port and the port accepts connections. 0 on success; -1 (with the log
 * printed to stderr) on failure. argv is NULL-terminated.
 * The server must write F atomically (temp file + rename) as "<port>\n".
 * stdout goes to the same log; p->dir may hold other files of the server
 * (a database) and goes with eb_proc_stop. The child is killed when the
 * thread that started it exits (PR_SET_PDEATHSIG): start and stop from the
 * test's own thread. On failure p->pid is 0 and the temp dir is removed. */
int eb_proc_start(eb_proc *p, const char *const *argv, long timeout_ms);

/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the exit status as
 * from waitpid (or -1 when no process was running, e.g. after
 * eb_proc_kill9). Removes the temp dir unless keep_log; calling it again
 * with keep_log false removes a kept dir. */
int eb_proc_stop(eb_proc *p, long timeout_ms, bool keep_log);

/* SIGKILL now (for crash tests) and reap. The log and temp dir stay until
 * eb_proc_stop. */
void eb_proc_kill9(eb_proc *p);

/* true when the process is still running (does not reap: eb_proc_stop
 * still returns the exit status of a server that died by itself). */
bool eb_proc_alive(eb_proc *p);

/* Prints the server log to stderr (called by tests on failure). */
void eb_proc_dump_log(const eb_proc *p);

/* Path of a built program: "build/<config>/bin/<name>" using the EB_BIN_DIR
 * environment variable set by the Makefile. Static buffer per call site is
 * not used: writes into buf. Falls back to "build/release/bin" when
 * EB_BIN_DIR is unset; NULL when buf is too small. */
const char *eb_proc_bin(const char *name, char *buf, size_t len);

#endif
