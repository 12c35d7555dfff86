/*
 * eb_proc.c — start and stop a server under test for the test programs.
 *
 * The server is told "--port 0 --port-file F" and must write F atomically
 * (temp file + rename) as "<port>\n" once it listens. Readiness is the port
 * file plus an accepted TCP connection, so a test never races the listener.
 *
 * The child gets PR_SET_PDEATHSIG(SIGKILL): the signal is tied to the thread
 * that forked, so start and stop a server from the same thread (the test
 * body), never from a helper thread that exits earlier.
 */
#include "eb_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_POLL_US 5000
#define PROC_MAX_ARGS 256
#define PROC_LOG_TAIL (64 * 1024)

static uint64_t proc_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Port from the port file: digits then '\n', 1..65535. 0 when the file is
 * absent or not complete yet. */
static int proc_read_port(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end = NULL;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\n' || v <= 0 || v > 65535)
		return 0;
	return (int)v;
}

static bool proc_port_accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

static int proc_rm_entry(const char *path, const struct stat *sb, int type,
			 struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void proc_rm_dir(eb_proc *p)
{
	if (p->dir[0] == '\0')
		return;
	nftw(p->dir, proc_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	p->dir[0] = '\0';
}

/* Reaps without blocking; true (and *status) when the child has exited. */
static bool proc_try_reap(pid_t pid, int *status)
{
	pid_t r;
	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	return r == pid || (r < 0 && errno == ECHILD);
}

static int proc_reap_blocking(pid_t pid)
{
	int status = -1;
	pid_t r;
	do {
		r = waitpid(pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	return r == pid ? status : -1;
}

static void proc_child(const char *const *args, const char *log_path,
		       pid_t parent)
{
	/* Children must not outlive the test, even when it crashes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log < 0 || devnull < 0)
		_exit(126);
	if (dup2(devnull, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(126);
	/* The test's sockets and pipes stay with the test. */
	closefrom(3);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execv(args[0], (char *const *)args);
	dprintf(2, "eb_proc: exec %s: %s\n", args[0], strerror(errno));
	_exit(127);
}

int eb_proc_start(eb_proc *p, const char *const *argv, long timeout_ms)
{
	const char *args[PROC_MAX_ARGS + 5];
	size_t n = 0;
	int rc = -1;
	const char *why = "";

	memset(p, 0, sizeof *p);
	if (argv == NULL || argv[0] == NULL) {
		fprintf(stderr, "eb_proc: no program to start\n");
		return -1;
	}
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	int w = snprintf(p->dir, sizeof p->dir, "%s/ebproc.XXXXXX", tmp);
	if (w < 0 || (size_t)w >= sizeof p->dir || mkdtemp(p->dir) == NULL) {
		fprintf(stderr, "eb_proc: cannot make a temp dir under %s: %s\n",
			tmp, strerror(errno));
		p->dir[0] = '\0';
		return -1;
	}
	w = snprintf(p->port_file, sizeof p->port_file, "%s/port", p->dir);
	int w2 = snprintf(p->log_path, sizeof p->log_path, "%s/server.log",
			  p->dir);
	if (w < 0 || (size_t)w >= sizeof p->port_file || w2 < 0 ||
	    (size_t)w2 >= sizeof p->log_path) {
		why = "temp path too long";
		goto out;
	}
	for (; argv[n] != NULL; n++) {
		if (n >= PROC_MAX_ARGS) {
			why = "too many arguments";
			goto out;
		}
		args[n] = argv[n];
	}
	args[n++] = "--port";
	args[n++] = "0";
	args[n++] = "--port-file";
	args[n++] = p->port_file;
	args[n] = NULL;

	/* Create the log first so it can be printed even if exec fails early. */
	int lfd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644);
	if (lfd < 0) {
		why = "cannot create the log";
		goto out;
	}
	close(lfd);

	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		why = "fork failed";
		goto out;
	}
	if (pid == 0)
		proc_child(args, p->log_path, parent);
	p->pid = pid;

	uint64_t deadline = proc_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		int status;
		if (proc_try_reap(p->pid, &status)) {
			p->pid = 0;
			why = "server exited before it was ready";
			if (WIFEXITED(status))
				fprintf(stderr, "eb_proc: %s exited with %d\n",
					argv[0], WEXITSTATUS(status));
			else if (WIFSIGNALED(status))
				fprintf(stderr, "eb_proc: %s killed by signal %d\n",
					argv[0], WTERMSIG(status));
			goto out;
		}
		int port = proc_read_port(p->port_file);
		if (port > 0 && proc_port_accepts(port)) {
			p->port = port;
			snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d",
				 port);
			rc = 0;
			goto out;
		}
		if (proc_mono_ms() >= deadline) {
			why = "server not ready before the timeout";
			goto out;
		}
		usleep(PROC_POLL_US);
	}
out:
	if (rc != 0) {
		fprintf(stderr, "eb_proc: %s: %s (timeout %ld ms)\n", argv[0],
			why, timeout_ms);
		eb_proc_dump_log(p);
		if (p->pid > 0)
			eb_proc_kill9(p);
		proc_rm_dir(p);
		p->port = 0;
		p->url[0] = '\0';
	}
	return rc;
}

int eb_proc_stop(eb_proc *p, long timeout_ms, bool keep_log)
{
	int status = -1;
	if (p == NULL)
		return -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		uint64_t deadline = proc_mono_ms() +
			(uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
		bool reaped = false;
		for (;;) {
			if (proc_try_reap(p->pid, &status)) {
				reaped = true;
				break;
			}
			if (proc_mono_ms() >= deadline)
				break;
			usleep(PROC_POLL_US);
		}
		if (!reaped) {
			kill(p->pid, SIGKILL);
			status = proc_reap_blocking(p->pid);
		}
		p->pid = 0;
	}
	if (!keep_log)
		proc_rm_dir(p);
	return status;
}

void eb_proc_kill9(eb_proc *p)
{
	if (p == NULL || p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	proc_reap_blocking(p->pid);
	p->pid = 0;
}

bool eb_proc_alive(eb_proc *p)
{
	if (p == NULL || p->pid <= 0)
		return false;
	/* WNOWAIT leaves the exit status for eb_proc_stop to collect. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r;
	do {
		r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return false;
	return si.si_pid == 0;
}

void eb_proc_dump_log(const eb_proc *p)
{
	if (p == NULL || p->log_path[0] == '\0')
		return;
	int fd = open(p->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "eb_proc: no server log at %s\n", p->log_path);
		return;
	}
	struct stat st;
	off_t start = 0;
	if (fstat(fd, &st) == 0 && st.st_size > PROC_LOG_TAIL)
		start = st.st_size - PROC_LOG_TAIL;
	if (start > 0)
		lseek(fd, start, SEEK_SET);
	fprintf(stderr, "---- server log %s%s ----\n", p->log_path,
		start > 0 ? " (tail)" : "");
	fflush(stderr);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t k = write(2, buf + off, (size_t)(n - off));
			if (k <= 0)
				break;
			off += k;
		}
		if (off < n)
			break;
	}
	close(fd);
	fprintf(stderr, "---- end of server log ----\n");
}

const char *eb_proc_bin(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("EB_BIN_DIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "build/release/bin";
	if (buf == NULL || len == 0)
		return NULL;
	int w = snprintf(buf, len, "%s/%s", dir, name);
	if (w < 0 || (size_t)w >= len)
		return NULL;
	return buf;
}
