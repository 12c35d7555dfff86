/*
 * bench-floor — what the kernel alone charges for a fan-out on this machine:
 * one small message (the size of a store_changed frame) sent with send() to
 * each of N loopback TCP sockets, read back by another process on epoll.
 * No WebSocket, no event library, no server logic: the CPU per send and per
 * receive it prints is the floor under any server's and any generator's CPU
 * per notification here, so a fan-out goal can be checked against it
 * (docs/BENCHMARKS.md, "Fan-out").
 *
 *   bench-floor [--sockets N] [--passes P] [--senders S] [--receivers R]
 *               [--batch]
 *
 * N sockets (default 9990: 2 N descriptors must fit the open-file limit),
 * P passes (default 20, one every 100 ms), S sender threads splitting the
 * sockets (default 1), R receiving threads in the reader process (default
 * 2), --batch: the reader runs SCHED_BATCH (a woken reader does not preempt
 * the sender, as the benches run ebload). One JSON line on stdout:
 *   {"sockets","passes","senders","receivers","batch","sendCpuUs",
 *    "recvCpuUs","passCpuMs","passWallP50Ms","passWallMaxMs","loadAverage"}
 * sendCpuUs: the senders' user + system CPU per send (RUSAGE_THREAD around
 * the send loops); recvCpuUs: the reader process's CPU per message.
 * Bounded: at most 100 000 sockets and 1 000 passes, the reader gives up
 * after 120 s. Loopback only. Exit 0, 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EBFL_MSG 90              /* a store_changed frame is 80-100 bytes */
#define EBFL_MAX_THREADS 16
#define EBFL_READER_DEADLINE_S 120

typedef struct ebfl_cfg {
	int sockets, passes, senders, receivers;
	int batch;
} ebfl_cfg;

typedef struct ebfl_sender {
	const int *fds;
	int lo, hi, passes;
	double cpu_us;
	int failed;
	pthread_barrier_t *go, *done;
} ebfl_sender;

typedef struct ebfl_reader {
	const int *fds;
	int lo, hi;
	long want;
	double deadline_us;
} ebfl_reader;

static double ebfl_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double ebfl_rusage_us(int who)
{
	struct rusage r;
	if (getrusage(who, &r) != 0)
		return 0;
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

static void *ebfl_send_loop(void *arg)
{
	ebfl_sender *s = arg;
	char msg[EBFL_MSG];
	memset(msg, 'x', sizeof msg);
	for (int p = 0; p < s->passes; p++) {
		pthread_barrier_wait(s->go);
		double c0 = ebfl_rusage_us(RUSAGE_THREAD);
		for (int i = s->lo; i < s->hi && !s->failed; i++)
			if (send(s->fds[i], msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg)
				s->failed = 1;
		s->cpu_us += ebfl_rusage_us(RUSAGE_THREAD) - c0;
		pthread_barrier_wait(s->done);
	}
	return NULL;
}

static void *ebfl_read_loop(void *arg)
{
	ebfl_reader *r = arg;
	struct epoll_event ev[256];
	char buf[4096];
	long got = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return NULL;
	for (int i = r->lo; i < r->hi; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = r->fds[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, r->fds[i], &e) != 0)
			goto out;
	}
	/* bytes, not messages: a read may hold several passes of one socket */
	while (got < r->want * EBFL_MSG && ebfl_now_us() < r->deadline_us) {
		int n = epoll_wait(ep, ev, 256, 1000);
		for (int k = 0; k < n; k++) {
			ssize_t m = recv(ev[k].data.fd, buf, sizeof buf, 0);
			if (m > 0)
				got += m;
		}
	}
out:
	close(ep);
	return NULL;
}

/* The reader process: R threads on epoll until every message arrived; its
 * CPU per message goes back through the pipe. */
static void ebfl_reader_main(const ebfl_cfg *c, const int *fds, int out)
{
	pthread_t t[EBFL_MAX_THREADS];
	ebfl_reader ra[EBFL_MAX_THREADS];
	double c0 = ebfl_rusage_us(RUSAGE_SELF);
	double deadline = ebfl_now_us() + EBFL_READER_DEADLINE_S * 1e6;
	int started = 0;

	if (c->batch) {
		struct sched_param sp = { 0 };
		sched_setscheduler(0, SCHED_BATCH, &sp);
	}
	for (int k = 0; k < c->receivers; k++) {
		ra[k].fds = fds;
		ra[k].lo = (int)((long)c->sockets * k / c->receivers);
		ra[k].hi = (int)((long)c->sockets * (k + 1) / c->receivers);
		ra[k].want = (long)(ra[k].hi - ra[k].lo) * c->passes;
		ra[k].deadline_us = deadline;
		if (pthread_create(&t[k], NULL, ebfl_read_loop, &ra[k]) != 0)
			break;
		started++;
	}
	for (int k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	double per = (ebfl_rusage_us(RUSAGE_SELF) - c0) / ((double)c->sockets * c->passes);
	if (write(out, &per, sizeof per) != (ssize_t)sizeof per)
		_exit(2);
	_exit(0);
}

static int ebfl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int ebfl_int_arg(const char *s, int lo, int hi, int *v)
{
	char *end = NULL;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || !end || *end || end == s || n < lo || n > hi)
		return -1;
	*v = (int)n;
	return 0;
}

static int ebfl_usage(const char *why)
{
	fprintf(stderr, "bench-floor: %s\nusage: bench-floor [--sockets N] [--passes P] "
		"[--senders S] [--receivers R] [--batch]\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	ebfl_cfg c = { .sockets = 9990, .passes = 20, .senders = 1, .receivers = 2 };
	int *srv = NULL, *cli = NULL, lfd = -1, pipefd[2] = { -1, -1 }, rc = 2;
	double *wall = NULL;
	pid_t kid = -1;

	for (int i = 1; i < argc; i++) {
		int bad = 0;
		if (strcmp(argv[i], "--batch") == 0) {
			c.batch = 1;
			continue;
		}
		if (strcmp(argv[i], "--sockets") && strcmp(argv[i], "--passes") &&
		    strcmp(argv[i], "--senders") && strcmp(argv[i], "--receivers"))
			return ebfl_usage("unknown flag");
		if (i + 1 >= argc)
			return ebfl_usage("a flag without its value");
		if (strcmp(argv[i], "--sockets") == 0)
			bad = ebfl_int_arg(argv[++i], 1, 100000, &c.sockets);
		else if (strcmp(argv[i], "--passes") == 0)
			bad = ebfl_int_arg(argv[++i], 1, 1000, &c.passes);
		else if (strcmp(argv[i], "--senders") == 0)
			bad = ebfl_int_arg(argv[++i], 1, EBFL_MAX_THREADS, &c.senders);
		else if (strcmp(argv[i], "--receivers") == 0)
			bad = ebfl_int_arg(argv[++i], 1, EBFL_MAX_THREADS, &c.receivers);
		if (bad)
			return ebfl_usage("a value out of range");
	}

	srv = calloc((size_t)c.sockets, sizeof *srv);
	cli = calloc((size_t)c.sockets, sizeof *cli);
	wall = calloc((size_t)c.passes, sizeof *wall);
	if (!srv || !cli || !wall)
		goto out;
	for (int i = 0; i < c.sockets; i++)
		srv[i] = cli[i] = -1;

	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(lfd, 4096) != 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("bench-floor: listen");
		goto out;
	}
	for (int i = 0; i < c.sockets; i++) {
		int one = 1;
		cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&sa, sizeof sa) != 0) {
			fprintf(stderr, "bench-floor: socket %d: %s (2 descriptors per socket "
				"must fit the open-file limit)\n", i, strerror(errno));
			goto out;
		}
		srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (srv[i] < 0) {
			perror("bench-floor: accept");
			goto out;
		}
		/* ebmock's sockets (lws) have Nagle off */
		setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (pipe(pipefd) != 0)
		goto out;
	kid = fork();
	if (kid < 0)
		goto out;
	if (kid == 0) {
		close(pipefd[0]);
		for (int i = 0; i < c.sockets; i++)
			close(srv[i]);
		ebfl_reader_main(&c, cli, pipefd[1]);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (int i = 0; i < c.sockets; i++) {
		close(cli[i]);
		cli[i] = -1;
	}

	pthread_barrier_t go, done;
	pthread_t t[EBFL_MAX_THREADS];
	ebfl_sender sa2[EBFL_MAX_THREADS];
	pthread_barrier_init(&go, NULL, (unsigned)c.senders + 1);
	pthread_barrier_init(&done, NULL, (unsigned)c.senders + 1);
	for (int k = 0; k < c.senders; k++) {
		sa2[k] = (ebfl_sender){ .fds = srv, .passes = c.passes, .go = &go, .done = &done };
		sa2[k].lo = (int)((long)c.sockets * k / c.senders);
		sa2[k].hi = (int)((long)c.sockets * (k + 1) / c.senders);
		if (pthread_create(&t[k], NULL, ebfl_send_loop, &sa2[k]) != 0) {
			fprintf(stderr, "bench-floor: no thread\n");
			exit(2);   /* the barrier would wait for it forever */
		}
	}
	for (int p = 0; p < c.passes; p++) {
		usleep(100000);   /* passes apart, like pushes: readers go idle */
		double t0 = ebfl_now_us();
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);
		wall[p] = (ebfl_now_us() - t0) / 1e3;
	}
	double cpu = 0;
	int failed = 0;
	for (int k = 0; k < c.senders; k++) {
		pthread_join(t[k], NULL);
		cpu += sa2[k].cpu_us;
		failed |= sa2[k].failed;
	}
	double recv_us = 0;
	if (read(pipefd[0], &recv_us, sizeof recv_us) != (ssize_t)sizeof recv_us || failed) {
		fprintf(stderr, "bench-floor: %s\n", failed ? "a send failed" : "the reader failed");
		goto out;
	}
	qsort(wall, (size_t)c.passes, sizeof *wall, ebfl_cmp);
	double load = 0;
	FILE *la = fopen("/proc/loadavg", "r");
	if (la) {
		if (fscanf(la, "%lf", &load) != 1)
			load = 0;
		fclose(la);
	}
	printf("{\"sockets\": %d, \"passes\": %d, \"senders\": %d, \"receivers\": %d, "
	       "\"batch\": %s, \"sendCpuUs\": %.2f, \"recvCpuUs\": %.2f, \"passCpuMs\": %.1f, "
	       "\"passWallP50Ms\": %.1f, \"passWallMaxMs\": %.1f, \"loadAverage\": %.2f}\n",
	       c.sockets, c.passes, c.senders, c.receivers, c.batch ? "true" : "false",
	       cpu / ((double)c.sockets * c.passes), recv_us, cpu / c.passes / 1e3,
	       wall[c.passes / 2], wall[c.passes - 1], load);
	rc = 0;
out:
	if (kid > 0) {
		int st;
		if (rc)
			kill(kid, SIGKILL);
		waitpid(kid, &st, 0);
	}
	for (int i = 0; srv && i < c.sockets; i++) {
		if (srv[i] >= 0)
			close(srv[i]);
		if (cli && cli[i] >= 0)
			close(cli[i]);
	}
	if (lfd >= 0)
		close(lfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(srv);
	free(cli);
	free(wall);
	return rc;
}
