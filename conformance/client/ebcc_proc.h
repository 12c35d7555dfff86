/*
 * ebcc_proc.h — child processes of the client suite: ebmock and the drivers.
 * Each child runs in a process group of its own, so that stopping it
 * (SIGTERM, then SIGKILL) also reaches what a `/bin/sh -c` driver started.
 * Every pipe is close-on-exec in the parent, so one driver never holds
 * another's standard input open.
 */
#ifndef EBCC_PROC_H
#define EBCC_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* Starts argv[0] (a path) with argv and envp (NULL: the suite's environment)
 * in directory cwd (NULL: unchanged), in a new process group. in/out/err:
 * fds for the child's 0/1/2 (-1: /dev/null). Returns the pid, or -1 with a
 * message in err. */
pid_t ebcc_spawn(char *const argv[], char *const envp[], const char *cwd,
		 int in, int out, int err_fd, char *err, size_t errlen);

/* SIGTERM to pid's group, up to grace_ms for it to exit, then SIGKILL to the
 * group, and reaps pid. *status (may be NULL) gets its wait status, -1 when
 * it could not be reaped. Safe on an already reaped pid (<= 0: no-op). */
void ebcc_kill(pid_t pid, long grace_ms, int *status);

/* Non-blocking reap: true when pid has exited (*status set). */
bool ebcc_reaped(pid_t pid, int *status);

#endif
