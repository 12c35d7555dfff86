/*
 * ebcc_proc.c — spawning and stopping the children of the client suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ebcc_proc.h"

extern char **environ;

pid_t ebcc_spawn(char *const argv[], char *const envp[], const char *cwd,
		 int in, int out, int err_fd, char *err, size_t errlen)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int ep[2];
	pid_t pid;
	char *const *env = envp ? envp : environ;

	if (devnull < 0) {
		snprintf(err, errlen, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	/* exec failures come back through a close-on-exec pipe: a byte means
	 * the exec did not happen. */
	if (pipe2(ep, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(devnull);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		int e;

		/* Only async-signal-safe calls from here on (the parent has
		 * threads). */
		setpgid(0, 0);
		if (dup2(in >= 0 ? in : devnull, 0) < 0 ||
		    dup2(out >= 0 ? out : devnull, 1) < 0 ||
		    dup2(err_fd >= 0 ? err_fd : devnull, 2) < 0)
			goto child_fail;
		if (cwd && chdir(cwd) != 0)
			goto child_fail;
		{
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(SIGPIPE, &sa, NULL);
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
		}
		execve(argv[0], argv, env);
child_fail:
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	/* Also from the parent: the child may not have run setpgid yet when
	 * the parent signals the group. */
	setpgid(pid, pid);
	close(ep[1]);
	close(devnull);
	{
		int e = 0;
		ssize_t r;

		do
			r = read(ep[0], &e, sizeof(e));
		while (r < 0 && errno == EINTR);
		close(ep[0]);
		if (r == (ssize_t)sizeof(e)) {
			snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
			waitpid(pid, NULL, 0);
			return -1;
		}
	}
	return pid;
}

bool ebcc_reaped(pid_t pid, int *status)
{
	int st = 0;
	pid_t r;

	if (pid <= 0)
		return true;
	r = waitpid(pid, &st, WNOHANG);
	if (r == pid) {
		if (status)
			*status = st;
		return true;
	}
	return r < 0 && errno == ECHILD;
}

static void proc_nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void ebcc_kill(pid_t pid, long grace_ms, int *status)
{
	int st = -1;
	long waited = 0;

	if (status)
		*status = -1;
	if (pid <= 0)
		return;
	if (ebcc_reaped(pid, &st)) {
		/* The leader is gone; what it started may not be. */
		kill(-pid, SIGKILL);
		if (status)
			*status = st;
		return;
	}
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	while (waited < grace_ms) {
		if (ebcc_reaped(pid, &st)) {
			kill(-pid, SIGKILL);
			if (status)
				*status = st;
			return;
		}
		proc_nap(20);
		waited += 20;
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) == pid && status)
		*status = st;
}
